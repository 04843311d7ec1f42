"""Quarterly snapshots: store a quarter's parcel states once, find stored quarters.

A snapshot is the state of every parcel that existed at the end of the quarter's last day
(German time), rebuilt from the append-only history: the last history row of each parcel at
or before that instant, its typed columns and its full row. Writing it is one statement that
also registers the quarter in ``monitoring_quarters``; a second run for the same quarter
finds the register row (also while the first is still running: it waits for it) and writes
nothing. Both tables refuse changes (migration 0015).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection

from app.db.queries.keyset import cached_text
from app.db.queries.parcels.source import (
    SNAPSHOT_TYPED_COLUMNS,
    ParcelSource,
    end_of_day,
    source_on,
)

_TYPED = sorted(SNAPSHOT_TYPED_COLUMNS)

_TAKE = f"""
WITH h AS MATERIALIZED (
    SELECT DISTINCT ON (h.parcel_id) h.id, h.parcel_id, h.row_after, {', '.join(
        f'h.{c}' for c in _TYPED)}
    FROM parcel_history h WHERE h.changed_at <= :state_at
    ORDER BY h.parcel_id, h.changed_at DESC, h.id DESC
), q AS (
    INSERT INTO monitoring_quarters (quarter_end, state_at, parcels, last_history_id, taken_by)
    SELECT :quarter_end, :state_at, (SELECT count(*) FROM h), (SELECT max(id) FROM h), :actor
    ON CONFLICT (quarter_end) DO NOTHING
    RETURNING quarter_end
), s AS (
    INSERT INTO monitoring_snapshots (quarter_end, parcel_id, {', '.join(_TYPED)}, state,
                                      history_id, site_active, taken_at)
    SELECT q.quarter_end, h.parcel_id, {', '.join(f'h.{c}' for c in _TYPED)}, h.row_after, h.id,
           NOT EXISTS (SELECT 1 FROM sites w
                       WHERE w.id = h.site_id AND w.withdrawn_at <= :state_at), now()
    FROM h CROSS JOIN q
    RETURNING 1
)
SELECT (SELECT count(*) FROM q) = 1 AS created
"""


@dataclass(frozen=True)
class StoredQuarter:
    """A quarter in the register: the instant shown, its parcels, when it was written."""

    quarter_end: date
    state_at: datetime
    parcels: int
    last_history_id: int | None
    taken_at: datetime
    taken_by: str | None


def stored_quarter(conn: Connection, quarter_end: date) -> StoredQuarter | None:
    """The register row of ``quarter_end``, or ``None`` when it was never stored."""
    row = conn.execute(cached_text(
        "SELECT quarter_end, state_at, parcels, last_history_id, taken_at, taken_by "
        "FROM monitoring_quarters WHERE quarter_end = :q"), {"q": quarter_end}).one_or_none()
    return None if row is None else StoredQuarter(*row)


def stored_quarter_ends(conn: Connection) -> list[date]:
    """Every stored quarter's last day, oldest first."""
    return list(conn.execute(cached_text(
        "SELECT quarter_end FROM monitoring_quarters ORDER BY quarter_end")).scalars())


def take_snapshot(conn: Connection, quarter_end: date, *, actor: str | None = None
                  ) -> tuple[StoredQuarter, bool]:
    """Store the state of every parcel at the end of ``quarter_end`` unless it is stored.

    Returns the register row and whether this call wrote it. Runs in the caller's
    transaction: commit to keep it.
    """
    created = conn.execute(cached_text(_TAKE), {
        "quarter_end": quarter_end, "state_at": end_of_day(quarter_end), "actor": actor,
    }).scalar_one()
    stored = stored_quarter(conn, quarter_end)
    assert stored is not None  # written now or by an earlier (or concurrent, committed) run
    return stored, bool(created)


def source_for_day(conn: Connection, day: date, today: date) -> ParcelSource:
    """The parcels as they were at the end of ``day``: a stored snapshot when ``day`` ends a
    stored quarter (the figures then reported, read from typed columns), else as
    :func:`~app.db.queries.parcels.source_on` (the live tables today, else the history)."""
    if day < today and stored_quarter(conn, day) is not None:
        return ParcelSource.snapshot(day)
    return source_on(day, today)
