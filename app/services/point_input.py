"""Client point → a Point in EPSG:25832 inside the region, with its municipality, or a 422.

The counterpart of :mod:`app.services.geometry_input` for point locations (land sales).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from app.domain.errors import InvalidInput

_LOCATE = text("""
    WITH g AS (
        SELECT ST_Transform(ST_SetSRID(ST_MakePoint(:x, :y), CAST(:srid AS integer)), 25832)
            AS geom
    )
    SELECT ST_AsEWKT(geom) AS ewkt, gefis_locate_municipality(geom) AS municipality_ags FROM g
""")


@dataclass(frozen=True)
class PreparedPoint:
    """A point ready to store (EWKT, EPSG:25832) and the municipality it lies in."""

    ewkt: str
    municipality_ags: str


def prepare_point(conn: Connection, coordinates: Sequence[float], srid: int, *,
                  field: str = "geometry") -> PreparedPoint:
    """Transform ``(x, y)`` from ``srid`` and locate it; 422 naming ``field`` outside the region.

    Lon/lat (EPSG:4326) must lie within ±180°/±90°; a third coordinate is ignored.
    """
    x, y = float(coordinates[0]), float(coordinates[1])
    if srid == 4326 and not (-180 <= x <= 180 and -90 <= y <= 90):
        raise InvalidInput.for_field(
            field, f"({x}, {y}) is not a longitude/latitude; is the CRS right (EPSG:{srid})?",
            "outside_region")
    try:
        with conn.begin_nested():
            row = conn.execute(_LOCATE, {"x": x, "y": y, "srid": srid}).one()
    except DBAPIError as exc:
        raise InvalidInput.for_field(
            field, f"cannot transform ({x}, {y}) from EPSG:{srid}", "geometry") from exc
    if row.municipality_ags is None:
        raise InvalidInput.for_field(
            field, f"the point lies outside the region's municipalities; is the CRS right "
            f"(EPSG:{srid})?", "outside_region")
    return PreparedPoint(ewkt=row.ewkt, municipality_ags=row.municipality_ags)
