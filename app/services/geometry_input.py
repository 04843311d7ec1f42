"""Client geometry → a valid MultiPolygon in EPSG:25832, inside the region, or a clear 4xx.

PostGIS does the work: parse GeoJSON, transform from the client's CRS, check validity (and
repair with ``ST_MakeValid`` only when the client asks, reporting what was wrong), and check
that the shape lies within the region's districts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from app.domain.errors import InvalidInput

#: Share of a shape's area that may lie outside the region (VG250 is a 1:250,000 product).
OUTSIDE_TOLERANCE = 0.01

_PREPARE = text("""
    WITH g AS (
        SELECT ST_Force2D(ST_Transform(ST_SetSRID(ST_GeomFromGeoJSON(:geojson), :srid), 25832))
               AS raw
    )
    SELECT ST_IsValid(raw) AS valid, ST_IsValidReason(raw) AS reason,
           ST_AsEWKT(CASE WHEN ST_IsValid(raw) THEN ST_Multi(raw)
                          ELSE ST_Multi(ST_CollectionExtract(ST_MakeValid(raw), 3)) END) AS ewkt
    FROM g
""")

_LOCATE = text("""
    WITH g AS (SELECT ST_GeomFromEWKT(:ewkt) AS geom)
    SELECT ST_Area(g.geom) AS area_m2,
           (SELECT coalesce(sum(ST_Area(ST_Intersection(d.geom_25832, g.geom))), 0)
              FROM districts d WHERE ST_Intersects(d.geom_25832, g.geom)) AS inside_m2,
           gefis_locate_municipality(g.geom) AS municipality_ags
    FROM g
""")


@dataclass(frozen=True)
class PreparedGeometry:
    """A geometry ready to store, where it lies, and what repair (if any) was applied."""

    ewkt: str
    municipality_ags: str
    area_ha: float
    repair: str | None

    @property
    def district_ags(self) -> str:
        """5-digit AGS of the district (prefix of the municipality's AGS)."""
        return self.municipality_ags[:5]


def prepare_polygon(
    conn: Connection, geometry: dict[str, Any], srid: int, *, repair: bool,
    field: str = "geometry",
) -> PreparedGeometry:
    """Parse, transform, validate (or repair) and locate a client's polygon."""
    try:
        with conn.begin_nested():
            row = conn.execute(_PREPARE, {"geojson": json.dumps(geometry), "srid": srid}).one()
    except DBAPIError as exc:
        diag = getattr(exc.orig, "diag", None)
        message = (diag.message_primary if diag is not None else None) or str(exc.orig)
        raise InvalidInput.for_field(field, f"unreadable geometry: {message}", "geometry") from exc
    if not row.valid and not repair:
        raise InvalidInput.for_field(
            field, f"invalid geometry: {row.reason}; send repair_geometry=true to repair it",
            "invalid_geometry")
    if row.ewkt is None or "EMPTY" in row.ewkt:
        raise InvalidInput.for_field(field, "geometry has no area", "empty_geometry")
    where = conn.execute(_LOCATE, {"ewkt": row.ewkt}).one()
    if where.area_m2 <= 0:
        raise InvalidInput.for_field(field, "geometry has no area", "empty_geometry")
    if where.municipality_ags is None or where.inside_m2 < where.area_m2 * (1 - OUTSIDE_TOLERANCE):
        share = 100 * (1 - where.inside_m2 / where.area_m2)
        raise InvalidInput.for_field(
            field, f"geometry lies outside the region ({share:.0f} % of its area); "
            f"is the CRS right (EPSG:{srid})?", "outside_region")
    return PreparedGeometry(
        ewkt=row.ewkt, municipality_ags=where.municipality_ags, area_ha=where.area_m2 / 10_000,
        repair=None if row.valid else f"repaired with ST_MakeValid: {row.reason}",
    )
