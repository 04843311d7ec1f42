"""``INSERT … ON CONFLICT DO UPDATE`` that writes only rows whose values really differ.

Used by every loader that must be idempotent: an unchanged reload updates no row, so no
trigger fires, no version is bumped and no history is appended.
"""

from __future__ import annotations

from sqlalchemy import TextClause, text


def upsert_changed(
    table: str, key: tuple[str, ...], columns: dict[str, str], alias: str = "t"
) -> TextClause:
    """Statement inserting one row, or updating the row with the same ``key`` if it differs.

    ``columns`` maps each column to its SQL value expression (a bind such as ``:name``, or
    an expression like ``ST_Multi(...)``); key columns are not updated. ``rowcount`` of the
    result is 1 when a row was inserted or changed and 0 when it was already identical.
    """
    names = ", ".join(columns)
    values = ", ".join(columns.values())
    updatable = [c for c in columns if c not in key]
    assignments = ", ".join(f"{c} = EXCLUDED.{c}" for c in updatable)
    current = ", ".join(f"{alias}.{c}" for c in updatable)
    incoming = ", ".join(f"EXCLUDED.{c}" for c in updatable)
    return text(
        f"INSERT INTO {table} AS {alias} ({names}) VALUES ({values}) "
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {assignments} "
        f"WHERE ({current}) IS DISTINCT FROM ({incoming})"
    )
