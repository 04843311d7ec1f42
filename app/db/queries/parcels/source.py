"""Where parcel rows come from: the live table, a quarterly snapshot, or the history as of a time.

Every source yields rows with the columns of the ``parcels`` table (the same names and
types, not in the table's order: name the columns, never ``p.*``) aliased ``p`` joined to
their site aliased ``s``, so every registry field, filter and output works on all three.
Rows of a past state are rebuilt from the append-only history (``row_after`` of the last
change at or before the time, column by column: the columns sums need come typed from the
history's index, migration 0013) or from a stored quarterly snapshot (typed columns and
``state``); their ``public_fields`` are today's (disclosure follows the editor's current
decision).

>>> LIVE.from_sql
'parcels p JOIN sites s ON s.id = p.site_id'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from app.domain.clock import LOCAL_ZONE
from app.domain.parcel_fields import PARCEL_FIELDS

_JOIN_SITE = "JOIN sites s ON s.id = p.site_id"

#: The columns of ``parcels`` no registry field names, with their SQL types.
_UNLISTED_COLUMNS: tuple[tuple[str, str], ...] = (
    ("geom_25832", "geometry(MultiPolygon,25832)"), ("net_area_ha_given", "double precision"),
)

#: The columns of ``parcels`` and their SQL types: those behind the registry's fields
#: (:attr:`ParcelField.column_type`) and the few it does not list. A past row is rebuilt
#: column by column from the history, so a query reads only the columns it uses; a column a
#: migration adds for a new registry field is here with it (``tests/test_balance_as_of.py``
#: checks the list against the table).
PARCEL_COLUMNS: tuple[tuple[str, str], ...] = (
    *((f.column, f.column_type) for f in PARCEL_FIELDS if f.column is not None),
    *_UNLISTED_COLUMNS)

#: Columns ``parcel_history`` keeps typed beside ``row_after``, covered by its index
#: ``ix_parcel_history__as_of`` (migration 0013): sums over them never read ``row_after``.
HISTORY_TYPED_COLUMNS = frozenset({
    "site_id", "district_ags", "municipality_ags", "category", "availability",
    "available_from", "availability_assessed_on", "restriction_level", "user_groups",
    "planning_status", "marketing_status", "net_area_ha", "gross_area_ha", "last_verified_at",
    "created_at",
})


#: Columns ``monitoring_snapshots`` keeps typed beside ``state`` (migrations 0001, 0015).
SNAPSHOT_TYPED_COLUMNS = frozenset({
    "site_id", "district_ags", "municipality_ags", "category", "availability",
    "available_from", "availability_assessed_on", "restriction_level", "user_groups",
    "planning_status", "marketing_status", "net_area_ha", "gross_area_ha", "last_verified_at",
    "created_at",
})


def _past_column(name: str, sql_type: str, *, alias: str = "h", document: str = "row_after",
                 typed: frozenset[str] = HISTORY_TYPED_COLUMNS) -> str:
    """SQL of one column of a past row: a typed column of ``alias`` or a member of its JSON
    ``document`` (history row ``h`` or snapshot row ``ms``; today's row is ``cur``).

    Values in the JSON are read as ``jsonb_populate_record`` reads them: the JSON value's
    text through the type's input function (absent: NULL).
    """
    if name == "id":
        return f"{alias}.parcel_id"
    if name == "public_fields":
        # Past rows keep today's ``public_fields``: what the public may see follows the
        # editor's current decision, so a field withdrawn from publication is not shown for
        # the past either.
        return "cur.public_fields"
    if name in typed:
        return f"{alias}.{name}"
    if sql_type == "text":
        return f"{alias}.{document} ->> '{name}'"
    if sql_type == "text[]":
        return f"gefis_json_text_array({alias}.{document} -> '{name}')"
    return f"CAST({alias}.{document} ->> '{name}' AS {sql_type})"


# The history's columns that come from its index ``ix_parcel_history__as_of`` (keys and
# INCLUDE): what picking the last row per parcel may read without touching the table.
_HISTORY_INDEXED = ", ".join(f"h.{c}" for c in (
    "id", "parcel_id", "changed_at", *sorted(HISTORY_TYPED_COLUMNS)))

# The last history row per parcel at or before the time: the DISTINCT ON subquery reads
# the index ``ix_parcel_history__as_of`` only (an index-only scan in its order, no sort) and
# yields the winning row's ``id`` beside its typed columns; ``row_after`` of the winners is
# joined by primary key (``hr``). A query that uses typed columns only never reads JSON: the
# planner removes that LEFT JOIN (unique key, no column of it used), as it removes the join
# of ``cur`` (today's row, for public_fields only; every history row has its parcel, a
# foreign key). Otherwise the typed filters run first and only the remaining winners'
# ``row_after`` is fetched: carrying ``row_after`` through the DISTINCT ON would read the
# whole row of every history row up to the time, in index order (seconds at 600,000 rows).
_AS_OF = (
    "(SELECT " + ", ".join(f"{_past_column(n, t)} AS {n}" for n, t in PARCEL_COLUMNS)
    + f""" FROM (
        SELECT w.*, hr.row_after FROM (
            SELECT DISTINCT ON (h.parcel_id) {_HISTORY_INDEXED} FROM parcel_history h
            WHERE h.changed_at <= :src_at ORDER BY h.parcel_id, h.changed_at DESC, h.id DESC
        ) w LEFT JOIN parcel_history hr ON hr.id = w.id
    ) h LEFT JOIN parcels cur ON cur.id = h.parcel_id) p""")

# Whether the parcel's site was active at the time, without joining the site: the ids of the
# sites withdrawn by then are collected once per statement (an InitPlan). The estimate of
# the rebuilt rows after filtering is far too low (the planner has no statistics for the
# output of DISTINCT ON), so a join of them with ``sites`` became a nested loop over every
# pair; without a reference to ``s`` the planner drops the LEFT JOIN of the site (its key is
# unique, and every parcel's site exists: sites are never deleted).
_SITE_ACTIVE_AT = ("p.site_id <> ALL(ARRAY(SELECT w.id FROM sites w "
                   "WHERE w.withdrawn_at <= :src_at))")

# A stored quarter: typed columns where the snapshot has them, the rest from its ``state``;
# ``site_active_then`` is whether the site was active at the quarter's end (frozen in the
# snapshot, migration 0015).
_SNAPSHOT = (
    "(SELECT " + ", ".join(
        f"{_past_column(n, t, alias='ms', document='state', typed=SNAPSHOT_TYPED_COLUMNS)}"
        f" AS {n}" for n, t in PARCEL_COLUMNS)
    + """, ms.site_active AS site_active_then
    FROM monitoring_snapshots ms LEFT JOIN parcels cur ON cur.id = ms.parcel_id
    WHERE ms.quarter_end = :src_quarter_end) p""")


# A history row is the state from its time until the parcel's next row (rows of one instant
# in id order: the last wins, as in _AS_OF). The next row is the previous one in the order
# of ``ix_parcel_history__as_of`` (``lag`` over changed_at DESC, id DESC), so the window
# reads that index alone, in its order, without a sort; ``row_after`` is joined by primary
# key for the (day, parcel) rows only, and only when a column the history does not keep
# typed is used (else the planner removes the LEFT JOIN, as in _AS_OF).
_AT_DAYS = (
    "(SELECT " + ", ".join(f"{_past_column(n, t)} AS {n}" for n, t in PARCEL_COLUMNS)
    + f""", h.state_day, h.state_end FROM (
        SELECT w.*, d.state_day, d.state_end, hr.row_after FROM (
            SELECT {_HISTORY_INDEXED}, lag(h.changed_at) OVER (
                       PARTITION BY h.parcel_id ORDER BY h.changed_at DESC, h.id DESC
                   ) AS valid_until
            FROM parcel_history h WHERE h.changed_at <= :src_last
        ) w JOIN unnest(CAST(:src_days AS date[]), CAST(:src_ends AS timestamptz[]))
              AS d(state_day, state_end)
          ON w.changed_at <= d.state_end
             AND (w.valid_until IS NULL OR w.valid_until > d.state_end)
        LEFT JOIN parcel_history hr ON hr.id = w.id
    ) h LEFT JOIN parcels cur ON cur.id = h.parcel_id) p""")

_SITE_ACTIVE_ON_DAY = ("NOT EXISTS (SELECT 1 FROM sites w WHERE w.id = p.site_id "
                       "AND w.withdrawn_at <= p.state_end)")


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

    def renamed(self, prefix: str) -> ParcelSource:
        """The same rows with bound names ``src_*`` renamed ``<prefix>_*``, so that two
        sources (two days) can be read in one statement.

        >>> LIVE.renamed("before") is not None and source_on(
        ...     date(2020, 12, 31), date(2026, 1, 1)).renamed("b").params[0][0]
        'b_at'
        """
        def rename(sql: str) -> str:
            return sql.replace(":src_", f":{prefix}_")
        return ParcelSource(self.kind, rename(self.from_sql), rename(self.site_active_sql),
                            tuple((f"{prefix}_{k.removeprefix('src_')}", v)
                                  for k, v in self.params))

    @classmethod
    def as_of(cls, at: datetime) -> ParcelSource:
        """Every parcel as it was at ``at``, rebuilt from the history."""
        return cls("as_of", f"{_AS_OF} LEFT {_JOIN_SITE}", _SITE_ACTIVE_AT,
                   (("src_at", at),))

    @classmethod
    def at_days(cls, days: Sequence[date]) -> ParcelSource:
        """Every parcel at the end of each of ``days`` (German time), rebuilt from the
        history in one pass: one row per parcel and day, the day in ``p.state_day``.

        Each history row holds from its time until the parcel's next row; it is a parcel's
        state on every day whose end falls into that interval.
        """
        ends = [end_of_day(d) for d in days]
        return cls("days", f"{_AT_DAYS} LEFT {_JOIN_SITE}", _SITE_ACTIVE_ON_DAY,
                   (("src_days", list(days)), ("src_ends", ends),
                    ("src_last", max(ends))))

    @classmethod
    def snapshot(cls, quarter_end: date) -> ParcelSource:
        """Every parcel as stored in the quarterly snapshot of ``quarter_end``."""
        return cls("snapshot", f"{_SNAPSHOT} LEFT {_JOIN_SITE}", "p.site_active_then",
                   (("src_quarter_end", quarter_end),))


#: The live tables.
LIVE = ParcelSource("live", f"parcels p {_JOIN_SITE}", "s.withdrawn_at IS NULL")


def end_of_day(day: date) -> datetime:
    """The last instant of ``day``, German time: the instant a day's (or quarter's) state
    shows."""
    return datetime.combine(day, time.max, LOCAL_ZONE)


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
    return ParcelSource.as_of(end_of_day(day))
