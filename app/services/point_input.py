"""Client point → a Point in EPSG:25832 inside the region, with its municipality, or a 422.

The counterpart of :mod:`app.services.geometry_input` for point locations (land sales), with
the same rules for positions (:func:`app.domain.geometry_input.point_input`): ``[x, y]`` or
``[x, y, height]`` with the height dropped and noted, finite numbers, a ``crs`` member only
when it names the request's CRS. A point lies in the municipality that contains it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from app.domain.errors import InvalidInput
from app.domain.geometry_input import GeometryProblem, PointGeometry, point_input

_LOCATE = text("""
    WITH g AS (
        SELECT ST_Transform(ST_SetSRID(ST_MakePoint(:x, :y), CAST(:srid AS integer)), 25832)
            AS geom
    )
    SELECT ST_AsEWKT(geom) AS ewkt, gefis_locate_municipality(geom) AS municipality_ags FROM g
""")


@dataclass(frozen=True)
class PreparedPoint:
    """A point ready to store (EWKT, EPSG:25832), the municipality it lies in, and what was
    changed in the client's point (``notes``, e.g. a dropped height)."""

    ewkt: str
    municipality_ags: str
    notes: tuple[str, ...] = ()


def prepare_point(conn: Connection, point: PointGeometry | Sequence[Any], srid: int, *,
                  field: str = "geometry") -> PreparedPoint:
    """Transform a point from EPSG:``srid`` and locate it; 422 naming ``field`` otherwise.

    ``point`` is the client's :class:`PointGeometry` (then a ``crs`` member is checked too)
    or its coordinates. Lon/lat (EPSG:4326) must lie within ±180°/±90°.
    """
    if isinstance(point, PointGeometry):
        coordinates, crs_member = point.coordinates, point.crs
    else:
        coordinates, crs_member = point, None
    try:
        position = point_input(coordinates, crs_member, srid)
    except GeometryProblem as problem:
        raise problem.for_field(field) from None
    x, y = position.x, position.y
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
    return PreparedPoint(ewkt=row.ewkt, municipality_ags=row.municipality_ags,
                         notes=position.notes)
