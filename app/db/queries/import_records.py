"""The import record (``imports``) and its row-level report (``import_rows``,
``import_problems``), migration 0017.

An import's record is written in its own short transactions (created, progress, finished),
so its status can be polled while the import's data transaction is still open, and a
rejected file leaves its report although it changes no data.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from sqlalchemy import Connection, Engine, text

from app.db.queries.import_staging import PROBLEMS

_COLUMNS = ("id, kind, status, dry_run, file_name, file_format, file_bytes, layer, crs, actor, "
            "options, rows_total, rows_read, rows_validated, rows_written, counts, columns, "
            "notes, error, created_at, started_at, finished_at, heartbeat_at")


def create_import(conn: Connection, *, kind: str, dry_run: bool, file_name: str,
                  file_bytes: int, actor: str, options: Mapping[str, Any]) -> int:
    """A new import record (status ``queued``); returns its id."""
    return int(conn.execute(text(
        "INSERT INTO imports (kind, dry_run, file_name, file_bytes, actor, options) "
        "VALUES (:kind, :dry_run, :file_name, :file_bytes, :actor, CAST(:options AS jsonb)) "
        "RETURNING id"),
        {"kind": kind, "dry_run": dry_run, "file_name": file_name, "file_bytes": file_bytes,
         "actor": actor, "options": json.dumps(dict(options))}).scalar_one())


def update_import(engine_or_conn: Engine | Connection, import_id: int,
                  **values: Any) -> None:
    """Set columns of the record (``counts``, ``columns``, ``notes`` as JSON) and the
    heartbeat; on an engine, in a transaction of its own."""
    json_columns = {"counts", "columns", "notes", "options"}
    sets = ", ".join(
        f"{k} = CAST(:{k} AS jsonb)" if k in json_columns else f"{k} = :{k}" for k in values)
    params = {k: json.dumps(v) if k in json_columns else v for k, v in values.items()}
    statement = text(f"UPDATE imports SET {sets + ', ' if sets else ''}heartbeat_at = now() "
                     "WHERE id = :import_id")
    if not isinstance(engine_or_conn, Connection):  # an engine (or one that stands in for it)
        with engine_or_conn.begin() as conn:
            conn.execute(statement, {**params, "import_id": import_id})
    else:
        engine_or_conn.execute(statement, {**params, "import_id": import_id})


def save_problems(conn: Connection, import_id: int) -> None:
    """Store the problems found (temporary table) as the import's report."""
    conn.execute(text(
        "INSERT INTO import_problems (import_id, seq, row_no, field, code, message, severity) "
        "SELECT :id, row_number() OVER (ORDER BY row_no NULLS FIRST, field, code), row_no, "
        f"field, code, message, severity FROM {PROBLEMS}"), {"id": import_id})


def save_rows(conn: Connection, import_id: int, select_sql: str,
              params: Mapping[str, Any] | None = None) -> None:
    """Store what happened to each row: ``select_sql`` yields (row_no, external_id,
    district_ags, action, parcel_id, land_sale_id, changed_fields), ordered."""
    conn.execute(text(
        "INSERT INTO import_rows (import_id, seq, row_no, external_id, district_ags, action, "
        "parcel_id, land_sale_id, changed_fields) "
        "SELECT :import_id, row_number() OVER (), r.* FROM (" + select_sql + ") r"),
        {**(params or {}), "import_id": import_id})


def problems_json(conn: Connection, limit: int | None = None) -> list[dict[str, Any]]:
    """The problems found so far (temporary table), in report order."""
    rows = conn.execute(text(
        f"SELECT row_no, field, code, message, severity FROM {PROBLEMS} "
        "ORDER BY row_no NULLS FIRST, field, code" + (" LIMIT :n" if limit else "")),
        {"n": limit})
    return [dict(r._mapping) for r in rows]


def get_import(conn: Connection, import_id: int) -> dict[str, Any] | None:
    """The record of import ``import_id``."""
    row = conn.execute(text(f"SELECT {_COLUMNS} FROM imports WHERE id = :id"),
                       {"id": import_id}).one_or_none()
    return None if row is None else dict(row._mapping)


def list_imports(conn: Connection, limit: int, before_id: int | None = None,
                 actor: str | None = None) -> list[dict[str, Any]]:
    """The newest imports (``before_id``: older than that one), optionally of one actor."""
    rows = conn.execute(text(
        f"SELECT {_COLUMNS} FROM imports WHERE (CAST(:before AS bigint) IS NULL OR id < :before)"
        " AND (CAST(:actor AS text) IS NULL OR actor = :actor) ORDER BY id DESC LIMIT :limit"),
        {"before": before_id, "actor": actor, "limit": limit})
    return [dict(r._mapping) for r in rows]


def report_problems(conn: Connection, import_id: int, limit: int | None = None
                    ) -> list[dict[str, Any]]:
    """The stored problems of an import, in report order."""
    rows = conn.execute(text(
        "SELECT row_no AS row, field, code, message, severity FROM import_problems "
        "WHERE import_id = :id ORDER BY seq" + (" LIMIT :n" if limit else "")),
        {"id": import_id, "n": limit})
    return [dict(r._mapping) for r in rows]


def report_lines(conn: Connection, import_id: int, page_rows: int = 5000
                 ) -> Iterator[dict[str, Any]]:
    """Every line of the report: the file's own problems first, then each row in file order
    (one line per problem; a row without problems once). Read a page at a time."""
    for row in conn.execute(text(
            "SELECT NULL AS row, NULL AS external_id, NULL AS district_ags, 'rejected' AS "
            "action, NULL AS parcel_id, NULL AS land_sale_id, NULL AS changed_fields, field, "
            "code, message, severity FROM import_problems WHERE import_id = :id "
            "AND row_no IS NULL ORDER BY seq"), {"id": import_id}):
        yield dict(row._mapping)
    after = 0
    while True:
        rows = conn.execute(text("""
            SELECT r.seq, r.row_no AS row, r.external_id, r.district_ags, r.action,
                   r.parcel_id, r.land_sale_id,
                   array_to_string(r.changed_fields, ';') AS changed_fields,
                   p.field, p.code, p.message, p.severity
              FROM (SELECT * FROM import_rows WHERE import_id = :id AND seq > :after
                     ORDER BY seq LIMIT :n) r
              LEFT JOIN import_problems p ON p.import_id = r.import_id AND p.row_no = r.row_no
             ORDER BY r.seq, p.seq
        """), {"id": import_id, "after": after, "n": page_rows}).fetchall()
        if not rows:
            return
        for row in rows:
            line = dict(row._mapping)
            after = line.pop("seq")
            yield line
