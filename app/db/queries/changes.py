"""What changed between two states of the parcels: added, sold, reserved, withdrawn,
availability moved, restrictions added or removed, hectares per district.

Both states come from a :class:`~app.db.queries.parcels.ParcelSource` (live, a stored
quarter, the history as of a day) and are read in one statement, joined by parcel id. A
parcel counts when it matches the filter in either state; the net hectares before and after
are the sums of the matching parcels in each state, so they equal the summary's sums on
those days for the same filter.

Rows and fields are seen as the viewer sees them: for the public, a parcel that leaves the
market (sold, withdrawn, its site withdrawn) is no longer visible afterwards and counts as
withdrawn; staff see each parcel's real state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection

from app.db.queries.keyset import cached_text
from app.db.queries.parcels.select import selection_sql
from app.db.queries.parcels.source import ParcelSource
from app.db.queries.parcels.sql import filter_sql
from app.domain.filters import ParcelFilter
from app.domain.roles import Viewer

#: Change codes in report order, with their German labels.
CHANGE_LABELS: dict[str, str] = {
    "added": "neu erfasst",
    "sold": "verkauft",
    "reserved": "reserviert",
    "withdrawn": "zurückgezogen / vom Markt",
    "availability_moved": "Verfügbarkeit geändert",
    "restriction_added": "Restriktion hinzugekommen",
    "restriction_removed": "Restriktion entfallen",
    "area_changed": "Fläche geändert",
}


_COLUMNS = {"id": "id", "name": "name", "site_id": "site_id", "district_ags": "district_ags",
            "net_ha": "net_area_ha", "availability": "availability",
            "restriction_level": "restriction_level", "causes": "restriction_causes",
            "status": "marketing_status"}

_CODES = """array_remove(ARRAY[
    CASE WHEN b.id IS NULL AND a.matches THEN 'added' END,
    CASE WHEN b.id IS NOT NULL AND a.status = 'verkauft' AND b.status <> 'verkauft'
         THEN 'sold' END,
    CASE WHEN b.id IS NOT NULL AND a.status = 'reserviert' AND b.status <> 'reserviert'
         THEN 'reserved' END,
    CASE WHEN b.id IS NOT NULL AND b.status NOT IN ('verkauft', 'zurueckgezogen')
              AND b.site_active AND (a.id IS NULL OR a.status = 'zurueckgezogen'
                                     OR NOT a.site_active) THEN 'withdrawn' END,
    CASE WHEN a.availability <> b.availability THEN 'availability_moved' END,
    CASE WHEN NOT (coalesce(a.causes, '{}') <@ coalesce(b.causes, '{}'))
         THEN 'restriction_added' END,
    CASE WHEN a.id IS NOT NULL AND NOT (coalesce(b.causes, '{}') <@ coalesce(a.causes, '{}'))
         THEN 'restriction_removed' END,
    CASE WHEN abs(a.net_ha - b.net_ha) > 1e-6 THEN 'area_changed' END
], NULL)"""

#: (output name, change code, state whose area counts or None for a count)
_SUMS = (
    ("added", "added", None), ("added_net_ha", "added", "after"),
    ("sold", "sold", None), ("sold_net_ha", "sold", "before"),
    ("reserved", "reserved", None), ("reserved_net_ha", "reserved", "before"),
    ("withdrawn", "withdrawn", None), ("withdrawn_net_ha", "withdrawn", "before"),
    ("availability_moved", "availability_moved", None),
    ("restrictions_added", "restriction_added", None),
    ("restrictions_removed", "restriction_removed", None),
)
#: The figures per district (and in total).
SUMMED_KEYS = (*(name for name, _, _ in _SUMS), "net_ha_before", "net_ha_after", "net_ha_delta")
_SUMS_SQL = ",\n".join(
    f"count(*) FILTER (WHERE '{code}' = ANY(j.changes)) AS {name}" if state is None else
    f"coalesce(sum(j.net_ha_{state}) FILTER (WHERE '{code}' = ANY(j.changes)), 0) AS {name}"
    for name, code, state in _SUMS)

_STATEMENT = """
WITH b AS ({before}), a AS ({after}),
j AS MATERIALIZED (
    SELECT coalesce(a.id, b.id) AS id, coalesce(a.name, b.name) AS name,
           coalesce(a.site_id, b.site_id) AS site_id,
           coalesce(a.district_ags, b.district_ags) AS district_ags,
           coalesce(b.matches, false) AS matched_before,
           coalesce(a.matches, false) AS matched_after,
           b.net_ha AS net_ha_before, a.net_ha AS net_ha_after,
           b.availability AS availability_before, a.availability AS availability_after,
           b.restriction_level AS restriction_level_before,
           a.restriction_level AS restriction_level_after,
           b.causes AS restriction_causes_before, a.causes AS restriction_causes_after,
           b.status AS marketing_status_before, a.status AS marketing_status_after,
           {codes} AS changes
    FROM b FULL JOIN a ON a.id = b.id
    WHERE coalesce(b.matches, false) OR coalesce(a.matches, false)
)
SELECT
    (SELECT coalesce(jsonb_agg(x ORDER BY x.district_ags), '[]') FROM (
        SELECT d.ags AS district_ags, d.name AS district_name,
               {sums},
               coalesce(sum(j.net_ha_before) FILTER (WHERE j.matched_before), 0)
                   AS net_ha_before,
               coalesce(sum(j.net_ha_after) FILTER (WHERE j.matched_after), 0) AS net_ha_after
        FROM districts d LEFT JOIN j ON j.district_ags = d.ags
        GROUP BY d.ags, d.name) x) AS districts,
    (SELECT coalesce(jsonb_agg(to_jsonb(j) ORDER BY j.district_ags, j.id), '[]')
     FROM j WHERE cardinality(j.changes) > 0) AS parcels
"""


@dataclass(frozen=True)
class Changes:
    """Changes per district (every district, AGS order), their total, and each changed
    parcel with its values before and after (``None``: absent or not visible then)."""

    districts: list[dict[str, Any]]
    total: dict[str, Any]
    parcels: list[dict[str, Any]]


def _state_sql(f: ParcelFilter, viewer: Viewer, source: ParcelSource,
               reference: date) -> tuple[str, dict[str, Any]]:
    conditions, params = filter_sql(f, viewer, source, reference=reference)
    columns = {**_COLUMNS, "site_active": "=" + source.site_active_sql,
               "matches": "=" + (" AND ".join(conditions) or "true")}
    sql, more = selection_sql(ParcelFilter(), viewer, columns, reference=reference,
                              source=source)
    return sql, {**params, **more}


def parcel_changes(conn: Connection, f: ParcelFilter, *, viewer: Viewer,
                   before: ParcelSource, after: ParcelSource, reference: date) -> Changes:
    """The changes from ``before`` to ``after`` among the parcels matching ``f`` in either.

    Net hectares per change: ``added`` counts the new area, ``sold``, ``reserved`` and
    ``withdrawn`` the area the parcel had before. ``net_ha_before``/``net_ha_after`` sum
    the matching parcels of each state; ``net_ha_delta`` is their difference.
    """
    before_sql, before_params = _state_sql(f, viewer, before.renamed("before"), reference)
    after_sql, after_params = _state_sql(f, viewer, after.renamed("after"), reference)
    row = conn.execute(cached_text(_STATEMENT.format(before=before_sql, after=after_sql,
                                                     codes=_CODES, sums=_SUMS_SQL)),
                       {**before_params, **after_params}).one()
    districts = [{**d, "net_ha_delta": d["net_ha_after"] - d["net_ha_before"]}
                 for d in row.districts]
    total: dict[str, Any] = {"district_ags": None, "district_name": "Region"}
    for key in SUMMED_KEYS:
        total[key] = sum(d[key] for d in districts)
    return Changes(districts, total, list(row.parcels))
