"""SQL of the site profile (Standortprofil): its parcels and the geometries of its map.

The parcels come from the one select path (:func:`~app.db.queries.parcels.selection_sql`)
with the caller's :class:`~app.domain.roles.Viewer`, so a field or parcel the caller may not
see never leaves the database: a withheld field arrives as NULL. Geometries leave as WKB in
the storage CRS, EPSG:25832; areas are hectares, distances kilometres.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from app.db.queries.keyset import cached_text
from app.db.queries.parcels import selection_sql
from app.domain.filters import MARKETED_STATUS, ParcelFilter
from app.domain.roles import Viewer

#: Registry fields of a parcel shown in the profile (each as the viewer may see it).
PROFILE_FIELDS: tuple[str, ...] = (
    "id", "external_id", "name", "category", "marketing_status", "availability",
    "available_from", "planning_status", "zoning", "servicing", "restriction_level",
    "restriction_causes", "user_groups", "gross_area_ha", "net_area_ha", "net_area_derived",
    "rail_siding", "operation_24h", "broadband_mbps", "max_building_height_m",
    "grid_capacity_mw", "distance_junction_km", "distance_airport_km", "flood_hazard_share",
    "last_verified_at", "synthetic", "price_eur_m2", "noise_quota_db", "owner_type",
    "contact_name", "contact_email", "contact_phone", "owner_name", "internal_notes",
    "public_fields",
)

#: Tolerances (m) of the boundaries drawn: the site's district at the scale of a site, and
#: the region's districts in the overview (a few centimetres on the printed map).
DISTRICT_TOLERANCE_M = 5.0
REGION_TOLERANCE_M = 250.0


@dataclass(frozen=True)
class SiteShapes:
    """The geometries of a site's map, WKB in EPSG:25832."""

    outline_wkb: bytes | None
    district_wkb: bytes
    district_name: str
    region_wkbs: tuple[bytes, ...]


def profile_parcels(conn: Connection, site_id: int, viewer: Viewer, *,
                    marketed_only: bool = True) -> list[dict[str, Any]]:
    """The site's parcels as ``viewer`` sees them, by id, with their geometry as ``geom``
    (WKB, EPSG:25832). ``marketed_only``: only ``verfuegbar`` and ``reserviert`` (the
    public never sees others anyway)."""
    selection = ParcelFilter(site_id=(site_id,),
                             marketing_status=MARKETED_STATUS if marketed_only else ())
    columns = {name: name for name in PROFILE_FIELDS}
    columns["geom"] = "=ST_AsBinary(p.geom_25832)"
    sql, params = selection_sql(selection, viewer, columns)
    rows = conn.execute(cached_text(f"{sql} ORDER BY p.id"), params).mappings()
    return [{**row, "geom": bytes(row["geom"])} for row in rows]


def site_shapes(conn: Connection, site_id: int) -> SiteShapes | None:
    """The site's outline, its district's boundary and name, and the region's districts
    (simplified); ``None`` for an unknown site. Visibility of the site is the caller's
    to check (:func:`~app.db.queries.sites.fetch_site`)."""
    row = conn.execute(cached_text(
        "SELECT ST_AsBinary(s.geom_25832) AS outline, d.name AS district_name, "
        "ST_AsBinary(ST_SimplifyPreserveTopology(d.geom_25832, :district_tol)) AS district "
        "FROM sites s JOIN districts d ON d.ags = s.district_ags WHERE s.id = :site_id"),
        {"site_id": site_id, "district_tol": DISTRICT_TOLERANCE_M}).one_or_none()
    if row is None:
        return None
    region = conn.execute(cached_text(
        "SELECT ST_AsBinary(ST_SimplifyPreserveTopology(geom_25832, :region_tol)) AS g "
        "FROM districts ORDER BY ags"), {"region_tol": REGION_TOLERANCE_M}).scalars()
    return SiteShapes(outline_wkb=bytes(row.outline) if row.outline is not None else None,
                      district_wkb=bytes(row.district), district_name=row.district_name,
                      region_wkbs=tuple(bytes(g) for g in region))
