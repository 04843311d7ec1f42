"""Keyset pages (and single rows) of registry rows serialised by PostGIS.

Each resource module supplies the ``FROM`` clause, its ``WHERE`` conditions and a SQL
expression of one row as JSONB; this module adds the keyset condition, the order, the
limit (one row more, to know whether a next page exists) and the next cursor. Rows are
ordered by an optional NOT NULL column first and always by ``id`` (ties and the id order).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text

from app.db.queries.paging import Cursor
from app.domain.errors import InvalidInput


@dataclass(frozen=True)
class KeysetSort:
    """Order of a page: ``column`` (NOT NULL, of SQL type ``sql_type``) then ``id``.

    ``column=None`` orders by id alone. Descending applies to both parts, so the order is a
    plain row comparison the planner can serve from an index on ``(column, id)``.
    """

    column: str | None = None
    sql_type: str = "bigint"
    descending: bool = False

    def __str__(self) -> str:
        return ("-" if self.descending else "") + (self.column or "id")

    @classmethod
    def parse(cls, value: str | None, allowed: dict[str, str], default: str) -> KeysetSort:
        """``id``, ``-id``, ``<column>`` or ``-<column>`` for a column in ``allowed``.

        ``allowed`` maps sortable columns to their SQL type; an unknown field is a 422
        naming ``sort``.

        >>> str(KeysetSort.parse("-sale_date", {"sale_date": "date"}, "id"))
        '-sale_date'
        >>> KeysetSort.parse(None, {}, "id")
        KeysetSort(column=None, sql_type='bigint', descending=False)
        """
        raw = default if value is None else value
        descending = raw.startswith("-")
        name = raw.removeprefix("-")
        if name == "id":
            return cls(None, "bigint", descending)
        if name not in allowed:
            known = ", ".join(["id", *allowed])
            raise InvalidInput.for_field("sort", f"cannot sort by {name!r}; use {known}", "sort")
        return cls(name, allowed[name], descending)

    @staticmethod
    def choices(allowed: dict[str, str]) -> list[str]:
        """Every value :meth:`parse` accepts for ``allowed`` (the enum of a ``sort`` parameter).

        >>> KeysetSort.choices({"sale_date": "date"})
        ['sale_date', '-sale_date', 'id', '-id']
        """
        return [f"{sign}{name}" for name in [*allowed, "id"] for sign in ("", "-")]

    def order_sql(self, alias: str) -> str:
        """``ORDER BY`` list for rows of the table aliased ``alias``."""
        direction = " DESC" if self.descending else ""
        parts = [f"{alias}.{self.column}{direction}"] if self.column else []
        return ", ".join([*parts, f"{alias}.id{direction}"])

    def value_sql(self, alias: str) -> str:
        """The sort value of a row (NULL when sorting by id alone)."""
        return f"{alias}.{self.column}" if self.column else "NULL"

    def after_sql(self, alias: str) -> str:
        """Condition for rows after the cursor (binds ``:after_value`` and ``:after_id``)."""
        op = "<" if self.descending else ">"
        if self.column is None:
            return f"{alias}.id {op} :after_id"
        return (f"({alias}.{self.column}, {alias}.id) {op} "
                f"(CAST(:after_value AS {self.sql_type}), :after_id)")


@dataclass(frozen=True)
class Page:
    """Serialised items (JSON text) of one page and the cursor of the next, if any."""

    items: list[str]
    next_cursor: Cursor | None


def fetch_page(
    conn: Connection,
    *,
    document: str,
    from_sql: str,
    alias: str,
    where: list[str],
    params: dict[str, Any],
    sort: KeysetSort,
    limit: int,
    cursor: Cursor | None,
) -> Page:
    """Up to ``limit`` serialised rows after ``cursor`` in ``sort`` order."""
    conditions = list(where)
    bind = dict(params)
    if cursor is not None:
        conditions.append(sort.after_sql(alias))
        bind.update(after_value=cursor.value, after_id=cursor.last_id)
    where_sql = " AND ".join(conditions) or "true"
    rows = conn.execute(text(
        f"SELECT ({document})::text AS doc, {alias}.id AS id, {sort.value_sql(alias)} AS key "
        f"FROM {from_sql} WHERE {where_sql} ORDER BY {sort.order_sql(alias)} LIMIT :limit_plus"),
        {**bind, "limit_plus": limit + 1}).all()
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        value = last.key.isoformat() if hasattr(last.key, "isoformat") else last.key
        next_cursor = Cursor(sort=str(sort), value=value, last_id=last.id)
        rows = rows[:limit]
    return Page(items=[r.doc for r in rows], next_cursor=next_cursor)


def fetch_one(
    conn: Connection,
    *,
    document: str,
    from_sql: str,
    alias: str,
    where: list[str],
    params: dict[str, Any],
) -> tuple[str, int] | None:
    """The serialised row matching ``where`` and its ``version`` (for the ETag), or ``None``."""
    where_sql = " AND ".join(where) or "true"
    row = conn.execute(text(
        f"SELECT ({document})::text AS doc, {alias}.version AS version "
        f"FROM {from_sql} WHERE {where_sql} LIMIT 1"), params).one_or_none()
    return None if row is None else (row.doc, row.version)
