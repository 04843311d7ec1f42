"""Where parcel rows come from: the live table, a quarterly snapshot, or the history as of a time.

Every source yields rows of the ``parcels`` table's type aliased ``p`` joined to their site
aliased ``s``, so every registry field, filter and output works on all three. Rows of a past
state are rebuilt from the append-only history (``row_after`` of the last change at or before
the time) or from a stored snapshot (``state``), both with ``jsonb_populate_record``; their
``public_fields`` are today's (disclosure follows the editor's current decision).

>>> LIVE.from_sql
'parcels p JOIN sites s ON s.id = p.site_id'
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from app.domain.clock import LOCAL_ZONE

_JOIN_SITE = "JOIN sites s ON s.id = p.site_id"

# Past rows keep today's ``public_fields``: what the public may see follows the editor's
# current decision, so a field withdrawn from publication is not shown for the past either.
_AS_OF = """(SELECT r.* FROM (
        SELECT DISTINCT ON (h.parcel_id) h.parcel_id, h.row_after FROM parcel_history h
        WHERE h.changed_at <= :src_at ORDER BY h.parcel_id, h.changed_at DESC, h.id DESC
    ) last JOIN parcels cur ON cur.id = last.parcel_id,
    LATERAL jsonb_populate_record(CAST(NULL AS parcels), last.row_after
        || jsonb_build_object('public_fields', cur.public_fields)) r) p"""

_SNAPSHOT = """(SELECT r.* FROM monitoring_snapshots ms JOIN parcels cur ON cur.id = ms.parcel_id,
        LATERAL jsonb_populate_record(CAST(NULL AS parcels), ms.state
            || jsonb_build_object('public_fields', cur.public_fields)) r
        WHERE ms.quarter_end = :src_quarter_end) p"""


@dataclass(frozen=True)
class ParcelSource:
    """A set of parcel rows: ``from_sql`` (aliases ``p`` and ``s``) and its bound values.

    ``site_active_sql`` says whether the parcel's site was active at the source's time.
    """

    kind: str
    from_sql: str
    site_active_sql: str
    params: tuple[tuple[str, Any], ...] = ()

    @property
    def is_live(self) -> bool:
        """Whether rows are the current ones (the only source with indexes and versions)."""
        return self.kind == "live"

    @classmethod
    def as_of(cls, at: datetime) -> ParcelSource:
        """Every parcel as it was at ``at``, rebuilt from the history."""
        return cls("as_of", f"{_AS_OF} {_JOIN_SITE}",
                   "(s.withdrawn_at IS NULL OR s.withdrawn_at > :src_at)", (("src_at", at),))

    @classmethod
    def snapshot(cls, quarter_end: date) -> ParcelSource:
        """Every parcel as stored in the quarterly snapshot of ``quarter_end``."""
        return cls("snapshot", f"{_SNAPSHOT} {_JOIN_SITE}",
                   "(s.withdrawn_at IS NULL OR s.withdrawn_at::date > :src_quarter_end)",
                   (("src_quarter_end", quarter_end),))


#: The live tables.
LIVE = ParcelSource("live", f"parcels p {_JOIN_SITE}", "s.withdrawn_at IS NULL")


def source_on(day: date, today: date) -> ParcelSource:
    """The parcels as they were at the end of ``day`` (German time): the live tables for
    today (or later), else the history.

    >>> source_on(date(2026, 1, 15), date(2026, 1, 15)) is LIVE
    True
    >>> source_on(date(2020, 12, 31), date(2026, 1, 15)).params[0][1].isoformat()
    '2020-12-31T23:59:59.999999+01:00'
    """
    if day >= today:
        return LIVE
    return ParcelSource.as_of(datetime.combine(day, time.max, LOCAL_ZONE))
