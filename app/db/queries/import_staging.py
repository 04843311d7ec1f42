"""The staging tables of an import: the file's cells as text (filled by ``COPY``), their
typed values, and the problems of each row, all set-based.

``import_staging`` holds one row per feature: ``row_no`` (1-based), the geometry as hex WKB
(``geom_hex``) or the text columns it is built from (``wkt``, ``lon``, ``lat``), and one
text column ``r_<name>`` per import column the file has. :func:`type_rows` turns it into
``import_typed``: ``geom_in`` (the file's CRS) and one typed column ``t_<name>`` per import
column, NULL where a cell is empty *or unreadable*; :func:`cell_problems` then reports every
cell that was not empty but unreadable, out of range or not a code of its vocabulary.

Both are temporary tables dropped at the end of the transaction. Table and column names
come from :mod:`app.domain.import_columns`, never from the file.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import IO

import psycopg2
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from app.domain.clock import today
from app.domain.import_columns import ImportColumn
from app.domain.parcel_fields import FieldType

STAGING = "import_staging"
TYPED = "import_typed"
PROBLEMS = "import_found_problems"

_NUMBER = r"^\s*[-+]?(\d+([.,]\d*)?|[.,]\d+)([eE][-+]?\d+)?\s*$"
_INTEGER = r"^\s*[-+]?\d+([.,]0*)?\s*$"
_TRUE = "('true', 't', '1', 'ja', 'j', 'wahr', 'x', 'yes', 'y')"
_FALSE = "('false', 'f', '0', 'nein', 'n', 'falsch', 'no')"
#: Earliest and latest day a date of the file may name.
EARLIEST = "1990-01-01"
LATEST = "2100-12-31"


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


#: Every temporary table of an import (dropped at its end, or before the next one when
#: several imports share a transaction, as in the tests).
TEMP_TABLES = (STAGING, PROBLEMS, TYPED, "import_geom", "import_geom_edge", "import_plan",
               "import_sales")


def drop_staging(conn: Connection) -> None:
    """Drop the import's temporary tables, if they exist."""
    conn.execute(text("DROP TABLE IF EXISTS " + ", ".join(f"pg_temp.{t}" for t in TEMP_TABLES)))


def create_staging(conn: Connection, columns: Sequence[ImportColumn]) -> list[str]:
    """Create ``import_staging`` for ``columns``; returns its column names in COPY order."""
    drop_staging(conn)
    names = ["row_no", "geom_hex", "wkt", "lon", "lat", *(f"r_{c.name}" for c in columns)]
    conn.execute(text(
        f"CREATE TEMP TABLE {STAGING} (row_no integer PRIMARY KEY, geom_hex text, wkt text, "
        f"lon text, lat text, {', '.join(f'r_{c.name} text' for c in columns) or 'x_ text'}) "
        "ON COMMIT DROP"))
    conn.execute(text(
        f"CREATE TEMP TABLE {PROBLEMS} (row_no integer, field text, code text NOT NULL, "
        "message text NOT NULL, severity text NOT NULL DEFAULT 'error') ON COMMIT DROP"))
    return names


def copy_rows(conn: Connection, names: Sequence[str], csv_rows: IO[bytes]) -> None:
    """``COPY`` CSV rows (no header, the columns ``names``) into ``import_staging``."""
    statement = f"COPY {STAGING} ({', '.join(names)}) FROM STDIN WITH (FORMAT csv)"
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.copy_expert(statement, csv_rows)
    except psycopg2.Error as exc:
        raise DBAPIError.instance(statement, None, exc, psycopg2.Error) from exc
    finally:
        cursor.close()


def _clean(raw: str) -> str:
    return f"nullif(btrim({raw}), '')"


def _code_sql(column: ImportColumn, value: str) -> str:
    """The vocabulary's spelling of ``value`` (matched ignoring case), else NULL."""
    assert column.vocabulary is not None
    cases = " ".join(f"WHEN {_lit(c.lower())} THEN {_lit(c)}" for c in column.vocabulary.codes)
    return f"CASE lower({value}) {cases} END"


def typed_sql(column: ImportColumn) -> str:
    """SQL of the typed value of ``r_<name>`` (NULL when empty or unreadable)."""
    raw = _clean(f"r_{column.name}")
    t = column.type
    if t is FieldType.STRINGS:
        items = f"(SELECT btrim(e) AS e FROM unnest(string_to_array({raw}, ';')) e " \
                "WHERE btrim(e) <> '')"
        if column.vocabulary is None:
            return f"(SELECT array_agg(e) FROM {items} i)"
        return (f"(SELECT CASE WHEN bool_and(c IS NOT NULL) THEN array_agg(DISTINCT c) END "
                f"FROM (SELECT {_code_sql(column, 'i.e')} AS c FROM {items} i) codes)")
    if column.vocabulary is not None:
        return _code_sql(column, raw)
    if t is FieldType.NUMBER:
        return f"CASE WHEN {raw} ~ {_lit(_NUMBER)} THEN replace({raw}, ',', '.')::float8 END"
    if t is FieldType.INTEGER:
        return (f"CASE WHEN {raw} ~ {_lit(_INTEGER)} AND length(btrim({raw})) < 16 "
                f"THEN replace({raw}, ',', '.')::numeric::bigint END")
    if t is FieldType.BOOLEAN:
        return (f"CASE WHEN lower({raw}) IN {_TRUE} THEN true "
                f"WHEN lower({raw}) IN {_FALSE} THEN false END")
    if t is FieldType.DATE:
        return f"gefis_try_date(replace({raw}, '/', '-'))"  # XLSX dates: 2020/12/31
    return raw


def type_rows(conn: Connection, columns: Sequence[ImportColumn], srid: int | None) -> None:
    """Create ``import_typed`` from ``import_staging`` (see the module docstring).

    ``srid`` is the file's CRS (``None``: unknown, then every geometry is missing).
    """
    geometry = (
        "CASE WHEN s.geom_hex IS NOT NULL THEN ST_SetSRID(CAST(s.geom_hex AS geometry), :srid) "
        "WHEN nullif(btrim(s.wkt), '') IS NOT NULL THEN gefis_try_geometry(s.wkt, :srid) "
        f"WHEN s.lon ~ {_lit(_NUMBER)} AND s.lat ~ {_lit(_NUMBER)} THEN ST_SetSRID(ST_MakePoint("
        "replace(s.lon, ',', '.')::float8, replace(s.lat, ',', '.')::float8), :srid) END")
    typed = ", ".join(f"{typed_sql(c)} AS t_{c.name}" for c in columns)
    conn.execute(text(
        f"CREATE TEMP TABLE {TYPED} ON COMMIT DROP AS SELECT s.*, "
        f"CASE WHEN CAST(:srid AS integer) IS NOT NULL THEN {geometry} END AS geom_in"
        f"{', ' + typed if typed else ''} FROM {STAGING} s"), {"srid": srid})
    conn.execute(text(f"ALTER TABLE {TYPED} ADD PRIMARY KEY (row_no)"))
    # temporary tables get no automatic statistics (the row count is what the plans need)
    conn.execute(text(f"ANALYZE {TYPED} (row_no)"))


def _problem(field: str, code: str, message_sql: str, where: str) -> str:
    return (f"SELECT row_no, {_lit(field)}, {_lit(code)}, {message_sql} FROM {TYPED} "
            f"WHERE {where}")


def _cell_checks(column: ImportColumn) -> list[str]:
    name = column.name
    raw, value = f"r_{name}", f"t_{name}"
    shown = f"left(btrim({raw}), 60)"
    present = f"{_clean(raw)} IS NOT NULL"
    checks: list[str] = []
    if column.vocabulary is not None:
        codes = ", ".join(column.vocabulary.codes)
        what = "enthält einen unbekannten Code" if column.is_list else "ist kein bekannter Code"
        checks.append(_problem(name, "unknown_code", (
            f"format('%s: „%s“ {what} (möglich: {codes})', {_lit(name)}, {shown})"),
            f"{present} AND {value} IS NULL"))
    elif column.type in (FieldType.NUMBER, FieldType.INTEGER, FieldType.BOOLEAN,
                         FieldType.DATE):
        kind = {FieldType.NUMBER: "keine Zahl", FieldType.INTEGER: "keine ganze Zahl",
                FieldType.BOOLEAN: "kein Ja/Nein-Wert (ja/nein, true/false, 1/0)",
                FieldType.DATE: "kein gültiges Datum (JJJJ-MM-TT oder TT.MM.JJJJ)"}[column.type]
        checks.append(_problem(name, "unreadable", (
            f"format('%s: „%s“ ist {kind}', {_lit(name)}, {shown})"),
            f"{present} AND {value} IS NULL"))
    if column.low is not None and column.high is not None:
        op = ">" if column.low_exclusive else "≥"
        bad_low = f"{value} <= {column.low}" if column.low_exclusive else \
            f"{value} < {column.low}"
        checks.append(_problem(name, "out_of_range", (
            f"format('%s: %s liegt nicht im erlaubten Bereich ({op} {column.low:g} und "
            f"≤ {column.high:g})', {_lit(name)}, {value})"),
            f"({bad_low} OR {value} > {column.high})"))
    if column.type is FieldType.DATE:
        checks.append(_problem(name, "implausible_date", (
            f"format('%s: %s liegt nicht zwischen {EARLIEST} und {LATEST}', "
            f"{_lit(name)}, {value})"),
            f"({value} < DATE {_lit(EARLIEST)} OR {value} > DATE {_lit(LATEST)})"))
    if column.max_length is not None and not column.is_list:
        checks.append(_problem(name, "too_long", (
            f"format('%s: Text mit %s Zeichen ist länger als {column.max_length}', "
            f"{_lit(name)}, length({value}))"), f"length({value}) > {column.max_length}"))
    if column.pattern is not None:
        checks.append(_problem(name, "invalid_format", (
            f"format('%s: „%s“ hat kein gültiges Format', {_lit(name)}, {shown})"),
            f"{value} !~ {_lit(column.pattern)}"))
    return checks


def cell_problems(conn: Connection, columns: Sequence[ImportColumn]) -> None:
    """Report every cell that is unreadable, out of range, too long or no known code."""
    checks = [check for c in columns for check in _cell_checks(c)]
    if checks:
        conn.execute(text(f"INSERT INTO {PROBLEMS} (row_no, field, code, message) "
                          + " UNION ALL ".join(checks)))


def add_problems(conn: Connection, field: str, code: str, message_sql: str, where: str,
                 params: dict[str, object] | None = None, table: str = TYPED,
                 severity: str = "error") -> None:
    """Report a problem for every row of ``table`` matching ``where`` (SQL, from this
    package's constants); ``message_sql`` is an SQL expression of the German message.
    ``severity`` ``note`` reports without rejecting (e.g. a repaired geometry)."""
    conn.execute(text(
        f"INSERT INTO {PROBLEMS} (row_no, field, code, message, severity) "
        f"SELECT row_no, {_lit(field)}, {_lit(code)}, {message_sql}, {_lit(severity)} "
        f"FROM {table} WHERE {where}"), params or {})


def scope_problems(conn: Connection, table: str, districts: frozenset[str] | None,
                   what: str) -> None:
    """Rows of ``table`` (with ``district_ags``) outside the caller's ``districts`` (``None``:
    an admin, every district); ``what`` names the row in the message ("die Fläche")."""
    if districts is None:
        return
    add_problems(conn, "geometry", "district_not_allowed",
                 f"format('{what} liegt im Kreis %s, in dem Sie nicht schreiben dürfen "
                 "(Ihre Kreise: %s)', district_ags, :scope)",
                 "district_ags <> ALL (:districts)",
                 {"districts": sorted(districts),
                  "scope": ", ".join(sorted(districts)) or "keine"}, table=table)


def file_problem(conn: Connection, field: str | None, code: str, message: str) -> None:
    """Report a problem of the whole file (no row), e.g. a required column it lacks."""
    conn.execute(text(f"INSERT INTO {PROBLEMS} (row_no, field, code, message) "
                      "VALUES (NULL, :field, :code, :message)"),
                 {"field": field, "code": code, "message": message})


def not_after_today(column: str) -> tuple[str, dict[str, object]]:
    """A condition (and its parameters) that the date column lies after today."""
    return f"{column} > :today", {"today": today()}


def error_count(conn: Connection) -> int:
    """Problems that reject the file (notes not counted)."""
    return int(conn.execute(text(
        f"SELECT count(*) FROM {PROBLEMS} WHERE severity = 'error'")).scalar_one())
