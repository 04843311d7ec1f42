"""SQL of exports: one layer's rows as flat typed columns and a geometry, sent by ``COPY``.

An :class:`ExportQuery` wraps the select a published collection builds for a viewer (its
``FROM``, the role rules, the registry filter, ``bbox`` and CQL2 conditions, all bound
values: :func:`app.services.ogc.items.items_query`) with the columns of a file instead of
GeoJSON documents. Values leave PostgreSQL in a form every file format can hold: numbers as
``float8`` (``numeric`` would need a decimal parser), arrays joined by ``;``, timestamps in
the session's zone (UTC), the geometry as hexadecimal WKB (2-D), transformed in PostGIS to
the requested CRS.

Rows are sent with ``COPY (SELECT …) TO STDOUT`` as CSV: PostgreSQL formats each value once,
and the client parses the text in C (:mod:`app.services.exports.rows`) instead of building a
Python object per value, which took longer than GDAL's own writing (see ``BENCHMARKS.md``).
``COPY`` takes no bound parameters, so the values are quoted by psycopg2 on the client
(``cursor.mogrify``), exactly as it does for every other statement.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import IO, Any

import psycopg2
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from app.db.queries.cql2_base import QueryableType
from app.db.queries.keyset import cached_text

Q = QueryableType

#: ``statement_timeout`` of an export's statements (ms): a large export runs longer than the
#: service's per-statement limit, which is meant for interactive requests.
EXPORT_STATEMENT_TIMEOUT_MS = 30 * 60 * 1000

#: Name of the geometry column of every export (hexadecimal WKB in the CSV stream).
GEOMETRY_COLUMN = "geometry"


@dataclass(frozen=True)
class ExportColumn:
    """One attribute of an export file: its name (the API's), SQL over the collection's
    aliases, value type, and the description and unit the file's metadata carry."""

    name: str
    sql: str
    type: QueryableType
    description: str
    unit: str | None = None

    @property
    def value_sql(self) -> str:
        """The value as the CSV stream carries it (arrays joined by ``;``)."""
        if self.type in (Q.STRINGS, Q.INTEGERS):
            return f"array_to_string({self.sql}, ';')"
        if self.type is Q.NUMBER:
            return f"CAST({self.sql} AS float8)"
        if self.type is Q.INTEGER:
            return f"CAST({self.sql} AS bigint)"
        return self.sql


@dataclass(frozen=True)
class ExportQuery:
    """The rows of one layer: ``SELECT <columns>, <geometry> FROM … WHERE …``."""

    from_sql: str
    where: tuple[str, ...]
    params: dict[str, Any]
    columns: tuple[ExportColumn, ...]
    id_sql: str
    #: the geometry column and its SRID in storage
    geometry_sql: str
    storage_srid: int

    def where_sql(self) -> str:
        """The conditions as one ``WHERE`` clause body (``true`` without any)."""
        return " AND ".join(f"({condition})" for condition in self.where) or "true"

    def geometry_value_sql(self, srid: int) -> str:
        """The geometry as hexadecimal WKB in ``srid``: 2-D, transformed in PostGIS."""
        geometry = f"ST_Force2D({self.geometry_sql})"
        if srid != self.storage_srid:
            geometry = f"ST_Transform({geometry}, {int(srid)})"
        return f"encode(ST_AsBinary({geometry}), 'hex')"

    def select_sql(self, srid: int) -> str:
        """Every column (as :attr:`ExportColumn.value_sql`) and the geometry in ``srid``,
        in the order of the ids."""
        values = [f'{c.value_sql} AS "{c.name}"' for c in self.columns]
        values.append(f'{self.geometry_value_sql(srid)} AS "{GEOMETRY_COLUMN}"')
        return (f"SELECT {', '.join(values)} FROM {self.from_sql} WHERE {self.where_sql()} "
                f"ORDER BY {self.id_sql}")

    def count_sql(self) -> str:
        """How many rows the layer has (no geometry or value built)."""
        return f"SELECT count(*) FROM {self.from_sql} WHERE {self.where_sql()}"


def raise_statement_timeout(conn: Connection,
                            timeout_ms: int = EXPORT_STATEMENT_TIMEOUT_MS) -> None:
    """Let the statements of ``conn``'s current transaction run up to ``timeout_ms``, and
    the transaction wait as long between them (GDAL closing a large layer, building its
    spatial index, before the next layer's ``COPY``)."""
    conn.execute(text(f"SET LOCAL statement_timeout = {int(timeout_ms)}"))
    conn.execute(text(f"SET LOCAL idle_in_transaction_session_timeout = {int(timeout_ms)}"))


def count_rows(conn: Connection, query: ExportQuery) -> int:
    """The number of rows ``query`` exports."""
    return int(conn.execute(cached_text(query.count_sql()), query.params).scalar_one())


def text_widths(conn: Connection, query: ExportQuery) -> dict[str, int]:
    """The longest value of every text column of ``query``, in bytes of UTF-8 (arrays as
    joined): the widths of a Shapefile's text fields, known before the first row is written."""
    texts = [c for c in query.columns if c.type in (Q.STRING, Q.STRINGS, Q.INTEGERS)]
    if not texts:
        return {}
    values = ", ".join(f"coalesce(max(octet_length({c.value_sql})), 0)" for c in texts)
    row = conn.execute(cached_text(f"SELECT {values} FROM {query.from_sql} "
                                   f"WHERE {query.where_sql()}"), query.params).one()
    return {c.name: int(width) for c, width in zip(texts, row, strict=True)}


def copy_statement(conn: Connection, query: ExportQuery, srid: int) -> str:
    """``COPY (<select>) TO STDOUT`` as CSV, its values quoted in by psycopg2."""
    compiled = text(query.select_sql(srid)).bindparams(**query.params).compile(
        dialect=conn.dialect)
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        select = cursor.mogrify(compiled.string, compiled.params).decode()
    finally:
        cursor.close()
    return f"COPY ({select}) TO STDOUT WITH (FORMAT csv)"


def copy_csv(conn: Connection, statement: str, sink: IO[bytes]) -> None:
    """Run ``statement`` (from :func:`copy_statement`) on ``conn``'s transaction, writing
    the CSV text to ``sink`` as it arrives (one call per row). A database error is raised
    as SQLAlchemy's :class:`~sqlalchemy.exc.DBAPIError` (a timeout, a cancelled statement)."""
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.copy_expert(statement, sink)
    except psycopg2.Error as exc:  # as SQLAlchemy reports it (the API's problem handlers)
        raise DBAPIError.instance(statement, None, exc, psycopg2.Error) from exc
    finally:
        cursor.close()


def cancel(conn: Connection) -> None:
    """Ask the server to cancel ``conn``'s running statement (from another thread)."""
    conn.connection.dbapi_connection.cancel()  # type: ignore[union-attr]
