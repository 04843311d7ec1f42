"""The one keyset pager: a whole page of any list, assembled by PostgreSQL as one text value.

A list supplies its ``FROM`` clause, ``WHERE`` conditions, the SQL of one row as JSON and
its :class:`SortKey`; this module adds the keyset conditions, the order, the limit and the
response document (items or GeoJSON features, ``links`` with ``self``/``next``/``prev``,
``numberReturned``, optionally ``numberMatched`` and ``crs``), so no JSON is spliced in Python.

Rows fall into two *branches*: those with a sort value (ordered by value, then id) and those
without one (NULL, or a value the caller may not see; ordered by id). The branch with values
comes first in either direction and the direction applies to every key, so each branch is one
index range scan on ``(value, id)`` resp. ``(id)``. A cursor names the branch, value and id of
a row and whether the page runs after it (``next``) or before it (``prev``).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, TextClause, text

from app.db.queries.paging import Cursor
from app.domain.errors import BadRequest, InvalidInput


@lru_cache(maxsize=1024)
def cached_text(sql: str) -> TextClause:
    """``text(sql)``, built once per distinct SQL shape (values are always bound)."""
    return text(sql)


_KIND_OF_SQL_TYPE = {"bigint": "integer", "integer": "integer", "date": "date",
                     "timestamptz": "date-time"}


def _parses(kind: str, value: str) -> bool:
    """Whether ``value`` is an ISO 8601 date (``date``) or date-time (``date-time``)."""
    try:
        if kind == "date":
            date.fromisoformat(value)
        else:
            datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class SortKey:
    """Order of a list: ``value_sql`` (absent values last), then ``id``, both ``descending``.

    ``value_sql=None`` orders by id alone. ``present_sql`` is the condition "this row has a
    value the caller may see" (default: the value is not NULL); ``sql_type`` casts a cursor's
    value back. ``name`` is what the ``sort`` parameter said (it travels in the cursor).
    """

    name: str = "id"
    value_sql: str | None = None
    sql_type: str | None = "bigint"
    descending: bool = False
    present_sql: str | None = None
    absent_sql: str | None = None
    #: whether some rows lack a value (``False``: one branch, e.g. a NOT NULL column)
    nullable: bool = True
    #: JSON Schema kind of the value (``integer``, ``number``, ``date``, ``date-time``) that a
    #: cursor must carry; default: derived from ``sql_type``
    kind: str | None = None

    def check(self, cursor: Cursor) -> None:
        """400 naming ``cursor`` unless its value fits this order (type and branch).

        >>> SortKey("sale_date", "l.sale_date", "date").check(Cursor("sale_date", 3.5, 1))
        Traceback (most recent call last):
        ...
        app.domain.errors.BadRequest: malformed paging cursor: value does not fit the sort
        """
        if self.value_sql is None:
            return
        value = cursor.value
        kind = self.kind or _KIND_OF_SQL_TYPE.get(self.sql_type or "", "number")
        if cursor.branch == 1:
            ok = value is None and self.nullable
        elif value is None or isinstance(value, bool):
            ok = False
        elif kind == "integer":
            ok = isinstance(value, int)
        elif kind == "number":
            ok = isinstance(value, int | float) and math.isfinite(value)
        else:
            ok = isinstance(value, str) and _parses(kind, value)
        if not ok:
            raise BadRequest.for_field(
                "cursor", "malformed paging cursor: value does not fit the sort", "cursor")

    def __str__(self) -> str:
        return ("-" if self.descending else "") + self.name

    @property
    def present(self) -> str:
        """SQL: the row belongs to the branch with values."""
        return self.present_sql or f"{self.value_sql} IS NOT NULL"

    @property
    def absent(self) -> str:
        """SQL: the row belongs to the branch without values (the negation of ``present``,
        written so that a partial ``WHERE column IS NULL`` index can serve it)."""
        return self.absent_sql or f"{self.value_sql} IS NULL"

    @classmethod
    def parse(cls, value: str | None, allowed: dict[str, str], default: str,
              alias: str) -> SortKey:
        """``id``, ``-id``, ``<column>`` or ``-<column>`` for a column in ``allowed``.

        ``allowed`` maps sortable columns of the table aliased ``alias`` to their SQL type;
        an unknown field is a 422 naming ``sort``.

        >>> str(SortKey.parse("-sale_date", {"sale_date": "date"}, "id", "l"))
        '-sale_date'
        >>> SortKey.parse(None, {}, "id", "l").value_sql is None
        True
        """
        raw = default if value is None else value
        descending = raw.startswith("-")
        name = raw.removeprefix("-")
        if name == "id":
            return cls("id", None, "bigint", descending)
        if name not in allowed:
            known = ", ".join(["id", *allowed])
            raise InvalidInput.for_field("sort", f"cannot sort by {name!r}; use {known}", "sort")
        return cls(name, f"{alias}.{name}", allowed[name], descending)

    @staticmethod
    def choices(allowed: dict[str, str]) -> list[str]:
        """Every value :meth:`parse` accepts for ``allowed`` (the enum of a ``sort`` parameter).

        >>> SortKey.choices({"sale_date": "date"})
        ['sale_date', '-sale_date', 'id', '-id']
        """
        return [f"{sign}{name}" for name in [*allowed, "id"] for sign in ("", "-")]


@dataclass(frozen=True)
class SortChoices:
    """The orders a list offers: by id or by one of ``columns`` (name → SQL type) of the
    table aliased ``alias``; ``default`` when the ``sort`` parameter is absent."""

    columns: dict[str, str]
    default: str
    alias: str

    def parse(self, value: str | None) -> SortKey:
        """:meth:`SortKey.parse` of a ``sort`` parameter of this list."""
        return SortKey.parse(value, self.columns, self.default, self.alias)

    def choices(self) -> list[str]:
        """:meth:`SortKey.choices` of this list."""
        return SortKey.choices(self.columns)


@dataclass(frozen=True)
class ListQuery:
    """What to page: ``FROM`` text, ``WHERE`` conditions with their bound values, the SQL of
    one row as JSON (``document_sql``) and of its id."""

    from_sql: str
    where: tuple[str, ...]
    params: dict[str, Any]
    document_sql: str
    id_sql: str


@dataclass(frozen=True)
class Envelope:
    """The response around the items: member name, links and optional head members.

    ``next_href``/``prev_href`` are the request's URL ending in ``cursor=``; the token is
    appended in SQL. ``head`` holds further members (e.g. ``crs``) as JSON-able values.
    """

    member: str
    self_href: str
    next_href: str
    prev_href: str
    media_type: str
    feature_collection: bool = False
    number_matched: int | None = None
    number_matched_estimated: bool = False
    head: tuple[tuple[str, Any], ...] = ()


def _direction(descending: bool) -> str:
    return " DESC" if descending else ""


def _branch(q: ListQuery, sort: SortKey, branch: int, bound: str | None, backward: bool) -> str:
    """One branch: rows with (0) or without (1) a sort value, after/before the cursor."""
    fetch_desc = sort.descending != backward
    d = _direction(fetch_desc)
    where = list(q.where)
    if sort.value_sql is None:
        value, order = "CAST(NULL AS bigint)", f"{q.id_sql}{d}"
    elif branch == 0:
        value, order = sort.value_sql, f"{sort.value_sql}{d}, {q.id_sql}{d}"
        where.append(sort.present)
    else:
        value = f"CAST(NULL AS {sort.sql_type})" if sort.sql_type else "NULL"
        order = f"{q.id_sql}{d}"
        where.append(sort.absent)
    if bound == "value":
        op = "<" if fetch_desc else ">"
        bound_value = f"CAST(:k_value AS {sort.sql_type})" if sort.sql_type else ":k_value"
        where.append(f"({sort.value_sql}, {q.id_sql}) {op} ({bound_value}, :k_id)")
    elif bound == "id":
        where.append(f"{q.id_sql} {'<' if fetch_desc else '>'} :k_id")
    return (f"(SELECT {value} AS k, {q.id_sql} AS i, {branch} AS b "
            f"FROM {q.from_sql} WHERE {' AND '.join(where) or 'true'} "
            f"ORDER BY {order} LIMIT :k_fetch)")


def _branches(q: ListQuery, sort: SortKey, cursor: Cursor | None) -> list[str]:
    if sort.value_sql is None:
        bound = None if cursor is None else "id"
        return [_branch(q, sort, 0, bound, cursor is not None and cursor.backward)]
    if not sort.nullable:
        bound = None if cursor is None else "value"
        return [_branch(q, sort, 0, bound, cursor is not None and cursor.backward)]
    if cursor is None:
        return [_branch(q, sort, 0, None, False), _branch(q, sort, 1, None, False)]
    if not cursor.backward:
        if cursor.branch == 0:
            return [_branch(q, sort, 0, "value", False), _branch(q, sort, 1, None, False)]
        return [_branch(q, sort, 1, "id", False)]
    if cursor.branch == 0:
        return [_branch(q, sort, 0, "value", True)]
    return [_branch(q, sort, 1, "id", True), _branch(q, sort, 0, None, True)]


_TOKEN = ("rtrim(translate(encode(convert_to(json_build_object("
          "'s', CAST(:k_sort AS text), 'v', {row}.k, 'i', {row}.i, 'b', {row}.b, 'd', '{d}'"
          ")::text, 'UTF8'), 'base64'), E'+/\\n', '-_'), '=')")


@lru_cache(maxsize=512)
def _page_sql(q_from: str, q_where: tuple[str, ...], document: str, id_sql: str,
              sort: SortKey, cursor_shape: tuple[int, bool] | None, envelope_shape: tuple[
                  str, bool, bool, bool, tuple[str, ...]]) -> str:
    q = ListQuery(q_from, q_where, {}, document, id_sql)
    shape_cursor = None if cursor_shape is None else Cursor("", None, 0, *cursor_shape)
    backward = bool(cursor_shape and cursor_shape[1])
    member, feature_collection, with_matched, estimated, head_keys = envelope_shape
    d = _direction(sort.descending)
    rd = _direction(sort.descending != backward)
    union = " UNION ALL ".join(_branches(q, sort, shape_cursor))
    # An empty page after (before) a cursor still links back from the cursor's own position.
    back = "CAST(:k_back AS text)"
    back_if_forward = "NULL" if backward else back
    back_if_backward = back if backward else "NULL"
    forward_prev = "true" if cursor_shape is not None else "false"
    has_prev = "n.more" if backward else forward_prev
    has_next = "n.more" if not backward else "true"
    head = ["'type', 'FeatureCollection'"] if feature_collection else []
    head.append("'links', links.value")
    head.append("'numberReturned', n.returned")
    if with_matched:
        head.append("'numberMatched', CAST(:k_matched AS bigint)")
        if estimated:
            head.append("'numberMatchedEstimated', true")
    head += [f"'{key}', CAST(:head_{key} AS json)" for key in head_keys]
    head.append(f"'{member}', coalesce(items.value, '[]'::json)")
    return f"""
WITH fetched AS (
    SELECT * FROM ({union}) u ORDER BY u.b{_direction(backward)}, u.k{rd}, u.i{rd} LIMIT :k_fetch
), n AS (
    SELECT count(*) > :k_limit AS more, least(count(*), :k_limit) AS returned FROM fetched
), kept AS (
    SELECT f.*, row_number() OVER (ORDER BY f.b, f.k{d}, f.i{d}) AS ord FROM fetched f
    ORDER BY f.b{_direction(backward)}, f.k{rd}, f.i{rd} LIMIT :k_limit
), ends AS (
    SELECT coalesce((SELECT {_TOKEN.format(row='x', d='p')} FROM (SELECT * FROM kept
                     ORDER BY kept.ord LIMIT 1) x), {back_if_forward}) AS prev,
           coalesce((SELECT {_TOKEN.format(row='x', d='n')} FROM (SELECT * FROM kept
                     ORDER BY kept.ord DESC LIMIT 1) x), {back_if_backward}) AS next
), links AS (
    SELECT json_agg(l.link ORDER BY l.pos) AS value FROM ends, n, LATERAL (VALUES
        (1, json_build_object('rel', 'self', 'type', CAST(:k_media AS text),
                              'href', CAST(:k_self AS text))),
        (2, CASE WHEN {has_next} AND ends.next IS NOT NULL THEN json_build_object(
            'rel', 'next', 'type', CAST(:k_media AS text),
            'href', CAST(:k_next AS text) || ends.next) END),
        (3, CASE WHEN {has_prev} AND ends.prev IS NOT NULL THEN json_build_object(
            'rel', 'prev', 'type', CAST(:k_media AS text),
            'href', CAST(:k_prev AS text) || ends.prev) END)
    ) AS l(pos, link) WHERE l.link IS NOT NULL
), docs AS (
    SELECT ({document}) AS doc, {id_sql} AS i FROM {q_from}
    WHERE {id_sql} IN (SELECT kept.i FROM kept)
), items AS (
    SELECT json_agg(docs.doc ORDER BY kept.ord) AS value FROM kept JOIN docs ON docs.i = kept.i
)
SELECT CAST(json_build_object({', '.join(head)}) AS text) FROM n, links, items"""


def page_statement(q: ListQuery, sort: SortKey, *, limit: int, cursor: Cursor | None,
                   envelope: Envelope) -> tuple[str, dict[str, Any]]:
    """The SQL of a page (one statement shape per list, sort, cursor kind and envelope) and
    the values it binds; 400 when ``cursor`` does not fit ``sort``."""
    if cursor is not None:
        sort.check(cursor)
    cursor_shape = None if cursor is None else (cursor.branch, cursor.backward)
    head_keys = tuple(k for k, _ in envelope.head)
    sql = _page_sql(q.from_sql, q.where, q.document_sql, q.id_sql, sort, cursor_shape,
                    (envelope.member, envelope.feature_collection,
                     envelope.number_matched is not None, envelope.number_matched_estimated,
                     head_keys))
    params = {
        **q.params, "k_fetch": limit + 1, "k_limit": limit, "k_sort": str(sort),
        "k_media": envelope.media_type, "k_self": envelope.self_href,
        "k_next": envelope.next_href, "k_prev": envelope.prev_href,
        "k_matched": envelope.number_matched,
        **{f"head_{k}": json.dumps(v) for k, v in envelope.head},
    }
    params["k_back"] = None
    if cursor is not None:
        params.update(k_value=cursor.value, k_id=cursor.last_id, k_back=Cursor(
            str(sort), cursor.value, cursor.last_id, cursor.branch, not cursor.backward,
        ).encode())
    return sql, params


def page_document(conn: Connection, q: ListQuery, sort: SortKey, *, limit: int,
                  cursor: Cursor | None, envelope: Envelope) -> str:
    """The response document of up to ``limit`` rows after (or before) ``cursor``."""
    sql, params = page_statement(q, sort, limit=limit, cursor=cursor, envelope=envelope)
    return str(conn.execute(cached_text(sql), params).scalar_one())


def fetch_one(conn: Connection, q: ListQuery) -> tuple[str, int] | None:
    """The first row of ``q`` as JSON text and its ``version`` (for the ETag), or ``None``.

    ``q.document_sql`` must be JSON with a top-level or ``properties`` member ``version``.
    """
    sql = (f"SELECT CAST(d AS text) AS doc, coalesce(d->'properties'->>'version', "
           f"d->>'version') AS version FROM (SELECT ({q.document_sql}) AS d "
           f"FROM {q.from_sql} WHERE {' AND '.join(q.where) or 'true'} LIMIT 1) one")
    row = conn.execute(cached_text(sql), q.params).one_or_none()
    return None if row is None else (row.doc, int(row.version))


def count_matches(conn: Connection, q: ListQuery, *, exact_below: int) -> tuple[int, bool]:
    """How many rows ``q`` selects: exact when the planner expects fewer than
    ``exact_below``, else the planner's estimate. Returns the number and whether it is an
    estimate (so a count never scans a large table)."""
    sql = f"SELECT 1 FROM {q.from_sql} WHERE {' AND '.join(q.where) or 'true'}"
    plan = conn.execute(cached_text(f"EXPLAIN (FORMAT JSON) {sql}"), q.params).scalar_one()
    estimate = int(plan[0]["Plan"]["Plan Rows"])
    if estimate >= exact_below:
        return estimate, True
    exact = conn.execute(cached_text(f"SELECT count(*) FROM ({sql}) matched"), q.params)
    return int(exact.scalar_one()), False
