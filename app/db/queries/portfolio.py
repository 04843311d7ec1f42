"""The portfolio report's sums: one set-based statement each, all over the one select path.

Every statement starts from :func:`~app.db.queries.parcels.selection_sql`, so the registry's
filters, the viewer's visibility (rows and fields) and the source (live, or the state at the
end of a past day) mean here what they mean everywhere. No statement runs per district or
per site. Hectares are net unless named gross, computed in EPSG:25832.

- :func:`supply_groups`: parcels, net and gross ha per district × category × availability ×
  restriction level × list of user groups, plus distinct sites per district and in total;
- :func:`premium_sites`: the sites whose qualifying parcels reach the criteria
  (:mod:`app.domain.premium`), with their key facts;
- :func:`inter_municipal`: the parcels of sites with partners (``site_partners``) allocated
  to the partner municipalities by their shares, and to the municipalities their geometry
  lies in (area-weighted ``ST_Intersection`` with the ``municipalities`` polygons);
- :func:`district_shapes`: the districts' own boundaries (WKB, EPSG:25832) for the map.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection

from app.db.queries.keyset import cached_text
from app.db.queries.parcels import ParcelSource, selection_sql
from app.domain import vocab
from app.domain.filters import ParcelFilter
from app.domain.premium import TOLERANCE_HA, PremiumCriteria, narrowed_filter
from app.domain.roles import Viewer


@dataclass(frozen=True)
class SupplyGroups:
    """Sums of the selection: parcels, net and gross ha.

    ``cells``: per district, category, availability and restriction level (each parcel in
    exactly one). ``sites``: per
    district and site. ``user_groups``: per *list* of user groups and availability (a few
    dozen lists; the caller unnests them, so a parcel counts for each group it suits).
    """

    cells: list[dict[str, Any]]
    sites: list[dict[str, Any]]
    user_groups: list[dict[str, Any]]


# One pass over the selection, three hashed grouping sets; GROUPING() tells them apart.
_SUPPLY = """
SELECT GROUPING(x.site_id) AS no_site, GROUPING(x.user_groups) AS no_groups,
       x.district_ags, x.category, x.availability, x.restriction_level, x.site_id,
       x.user_groups, count(*) AS parcels, sum(x.net_ha) AS net_ha, sum(x.gross_ha) AS gross_ha
  FROM ({inner}) x
 GROUP BY GROUPING SETS ((x.district_ags, x.category, x.availability, x.restriction_level),
                         (x.district_ags, x.site_id), (x.user_groups, x.availability))"""


def supply_groups(conn: Connection, f: ParcelFilter, *, viewer: Viewer, reference: date,
                  source: ParcelSource) -> SupplyGroups:
    """The selection's sums (see :class:`SupplyGroups`) in one statement.

    Only columns the history keeps typed are read, so a past day costs one rebuild of the
    rows and no JSON (``HISTORY_TYPED_COLUMNS`` of the parcel source).
    """
    inner, params = selection_sql(f, viewer, {
        "district_ags": "district_ags", "site_id": "site_id", "category": "category",
        "availability": "availability", "restriction_level": "restriction_level",
        "user_groups": "user_groups", "net_ha": "net_area_ha", "gross_ha": "gross_area_ha"},
        reference=reference, source=source)
    groups = SupplyGroups([], [], [])
    for r in conn.execute(cached_text(_SUPPLY.format(inner=inner)), params):
        row = dict(r._mapping)
        if not row.pop("no_site"):
            groups.sites.append({k: row[k] for k in ("district_ags", "site_id", "parcels",
                                                     "net_ha", "gross_ha")})
        elif not row.pop("no_groups"):
            groups.user_groups.append({k: row[k] for k in ("user_groups", "availability",
                                                           "parcels", "net_ha")})
        else:
            del row["site_id"], row["user_groups"]
            groups.cells.append(row)
    return groups


_PREMIUM = """
WITH g AS (
    SELECT x.site_id, count(*) AS qualifying_parcels, sum(x.net_ha) AS qualifying_net_ha,
           max(x.net_ha) AS largest_parcel_net_ha, min(x.junction_km) AS nearest_junction_km,
           max(x.broadband_mbps) AS broadband_mbps, bool_or(x.rail_siding) AS rail_siding,
           bool_and(x.operation_24h) AS operation_24h,
           min(array_position(CAST(:pm_order AS text[]), x.availability)) AS best_rank
      FROM ({inner}) x WHERE {broadband}
     GROUP BY x.site_id HAVING sum(x.net_ha) >= :pm_min_ha - :pm_tolerance)
SELECT g.site_id, s.name AS site_name, s.district_ags, d.name AS district_name,
       s.municipality_ags, m.name AS municipality_name, g.qualifying_parcels,
       g.qualifying_net_ha, g.largest_parcel_net_ha,
       (CAST(:pm_order AS text[]))[g.best_rank] AS best_availability, g.nearest_junction_km,
       g.broadband_mbps, g.rail_siding, g.operation_24h,
       EXISTS (SELECT 1 FROM site_partners sp WHERE sp.site_id = g.site_id) AS inter_municipal
  FROM g JOIN sites s ON s.id = g.site_id
  JOIN districts d ON d.ags = s.district_ags JOIN municipalities m ON m.ags = s.municipality_ags
 ORDER BY g.qualifying_net_ha DESC, g.site_id"""


def premium_sites(conn: Connection, f: ParcelFilter, criteria: PremiumCriteria, *,
                  viewer: Viewer, reference: date, source: ParcelSource
                  ) -> list[dict[str, Any]]:
    """The premium sites among the selection, largest qualifying area first.

    The criteria narrow the filter (:func:`~app.domain.premium.narrowed_filter`: indexed
    columns), the broadband is checked on the candidates. Per site: the qualifying parcels
    (count, net ha, the largest), their earliest availability class, the nearest junction
    (km), the best broadband (Mbit/s), whether any has a rail siding and whether all allow
    24-hour operation, and whether the site is inter-municipal.
    """
    narrowed = narrowed_filter(criteria, f)
    if narrowed is None:
        return []
    inner, params = selection_sql(narrowed, viewer, {
        "site_id": "site_id", "net_ha": "net_area_ha", "availability": "availability",
        "operation_24h": "operation_24h", "junction_km": "distance_junction_km",
        "rail_siding": "rail_siding", "broadband_mbps": "broadband_mbps"},
        reference=reference, source=source)
    broadband = "true"
    if criteria.min_broadband_mbps is not None:
        broadband = "x.broadband_mbps >= :pm_mbps"
        params["pm_mbps"] = criteria.min_broadband_mbps
    sql = _PREMIUM.format(inner=inner, broadband=broadband)
    bind = {**params, "pm_order": list(vocab.AVAILABILITY.codes),
            "pm_min_ha": criteria.min_net_ha, "pm_tolerance": TOLERANCE_HA}
    return [dict(r._mapping) for r in conn.execute(cached_text(sql), bind)]


# A parcel of an inter-municipal site that crosses no municipal boundary lies wholly in its
# own municipality (``municipality_ags``, derived from the geometry on every write); only
# the few that cross one are cut, against the municipalities clipped to the box of their
# site (small polygons). The boundary lines within each site's box are the outer side of
# the loop, so consecutive tests share them and PostGIS reuses their prepared geometry
# (``OFFSET 0`` keeps the planner from turning the loop round).
_INTER_MUNICIPAL = """
WITH x AS MATERIALIZED ({inner}),
sites_ha AS MATERIALIZED (
    SELECT x.site_id, sum(x.net_ha) AS net_ha,
           ST_SetSRID(CAST(ST_Extent(x.geom) AS geometry), 25832) AS box
      FROM x GROUP BY x.site_id),
by_share AS (
    SELECT sp.site_id, sp.municipality_ags, sp.share_pct,
           h.net_ha * CAST(sp.share_pct AS float8) / 100 AS net_ha
      FROM sites_ha h JOIN site_partners sp ON sp.site_id = h.site_id),
cuts AS MATERIALIZED (
    SELECT h.site_id, ST_CollectionExtract(ST_Collect(
               ST_Intersection(ST_Boundary(m.geom_25832), h.box)), 2) AS cut
      FROM sites_ha h JOIN municipalities m ON m.geom_25832 && h.box
     GROUP BY h.site_id),
tested AS MATERIALIZED (
    SELECT y.* FROM cuts c CROSS JOIN LATERAL (
        SELECT x.id, x.site_id, x.municipality_ags, x.net_ha, x.geom,
               coalesce(ST_Intersects(x.geom, c.cut), false) AS crosses
          FROM x WHERE x.site_id = c.site_id OFFSET 0) y),
clips AS MATERIALIZED (
    SELECT h.site_id, m.ags AS municipality_ags,
           ST_CollectionExtract(ST_Intersection(m.geom_25832, h.box), 3) AS geom
      FROM sites_ha h JOIN municipalities m
        ON m.geom_25832 && h.box AND ST_Intersects(m.geom_25832, h.box)
     WHERE h.site_id IN (SELECT t.site_id FROM tested t WHERE t.crosses)),
pieces AS MATERIALIZED (
    SELECT t.id, t.site_id, t.net_ha, t.municipality_ags, 1.0 AS area_m2
      FROM tested t WHERE NOT t.crosses
    UNION ALL
    SELECT t.id, t.site_id, t.net_ha, c.municipality_ags,
           ST_Area(ST_Intersection(t.geom, c.geom)) AS area_m2
      FROM tested t JOIN clips c ON c.site_id = t.site_id AND t.geom && c.geom
     WHERE t.crosses),
by_location AS (
    SELECT w.site_id, w.municipality_ags, sum(w.net_ha * w.area_m2 / w.covered_m2) AS net_ha
      FROM (SELECT pieces.*, sum(pieces.area_m2) OVER (PARTITION BY pieces.id) AS covered_m2
              FROM pieces WHERE pieces.area_m2 > 0) w
     GROUP BY w.site_id, w.municipality_ags)
SELECT coalesce(a.site_id, b.site_id) AS site_id, s.name AS site_name,
       coalesce(a.municipality_ags, b.municipality_ags) AS municipality_ags,
       m.name AS municipality_name, m.district_ags, d.name AS district_name,
       CAST(a.share_pct AS float8) AS share_pct, h.net_ha AS site_net_ha,
       coalesce(a.net_ha, 0) AS net_ha_by_share, coalesce(b.net_ha, 0) AS net_ha_by_location
  FROM by_share a FULL JOIN by_location b
    ON b.site_id = a.site_id AND b.municipality_ags = a.municipality_ags
  JOIN sites_ha h ON h.site_id = coalesce(a.site_id, b.site_id)
  JOIN sites s ON s.id = h.site_id
  JOIN municipalities m ON m.ags = coalesce(a.municipality_ags, b.municipality_ags)
  JOIN districts d ON d.ags = m.district_ags
 ORDER BY 1, 3"""


def inter_municipal(conn: Connection, f: ParcelFilter, *, viewer: Viewer, reference: date,
                    source: ParcelSource) -> list[dict[str, Any]]:
    """One row per inter-municipal site (a site with partners) of the selection and
    municipality that is a partner or holds part of its parcels.

    ``net_ha_by_share``: the net ha of the site's selected parcels times the partner's
    ``share_pct`` / 100 (0 for a municipality that is no partner). ``net_ha_by_location``:
    each parcel's net ha split by the share of its area (EPSG:25832) lying in each
    municipality, of its area covered by any municipality (so a sliver outside every
    polygon is not lost); a parcel crossing no municipal boundary counts wholly for its own
    municipality. Both sum per site to ``site_net_ha``. Partner shares are today's
    (they have no history).
    """
    partners = [int(i) for i in conn.execute(cached_text(
        "SELECT DISTINCT site_id FROM site_partners ORDER BY 1")).scalars()]
    wanted = [i for i in partners if not f.site_id or i in f.site_id]
    if not wanted:
        return []
    # the sites as a filter: a condition on the scanned rows, so a past day reads the
    # geometry (JSON in the history) of their parcels only
    narrowed = type(f).model_validate({**dict(f), "site_id": tuple(wanted)})
    inner, params = selection_sql(narrowed, viewer, {
        "id": "id", "site_id": "site_id", "municipality_ags": "municipality_ags",
        "net_ha": "net_area_ha", "geom": "=p.geom_25832"},
        reference=reference, source=source)
    rows = conn.execute(cached_text(_INTER_MUNICIPAL.format(inner=inner)), params)
    return [dict(r._mapping) for r in rows]


def district_shapes(conn: Connection, *, simplify_m: float = 25.0
                    ) -> list[tuple[str, str, bytes]]:
    """AGS, name and boundary (WKB, EPSG:25832, simplified by ``simplify_m`` metres,
    topology kept) of every district, in AGS order."""
    rows = conn.execute(cached_text(
        "SELECT ags, name, ST_AsBinary(ST_SimplifyPreserveTopology(geom_25832, "
        "CAST(:tolerance AS float8))) AS wkb FROM districts ORDER BY ags"),
        {"tolerance": simplify_m})
    return [(r.ags, r.name, bytes(r.wkb)) for r in rows]


def any_synthetic_site(conn: Connection, site_ids: list[int]) -> bool:
    """Whether any of the sites is synthetic demo data (their parcels are too)."""
    found: bool = conn.execute(cached_text(
        "SELECT EXISTS (SELECT 1 FROM sites WHERE id = ANY(:ids) AND is_synthetic)"),
        {"ids": site_ids}).scalar_one()
    return found


def municipality_names(conn: Connection, ags: list[str]) -> dict[str, tuple[str, str]]:
    """Name and district AGS of the municipalities ``ags`` (unknown ones are left out)."""
    rows = conn.execute(cached_text(
        "SELECT ags, name, district_ags FROM municipalities WHERE ags = ANY(:ags) "
        "ORDER BY ags"), {"ags": ags})
    return {r.ags: (r.name, r.district_ags) for r in rows}
