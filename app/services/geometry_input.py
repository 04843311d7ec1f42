"""Client geometry → a valid MultiPolygon in EPSG:25832, inside the region, or a clear 4xx.

The work is bounded before and while PostGIS does it:

1. :func:`app.domain.geometry_input.polygon_input` counts the positions (at most
   ``GEFIS_GEOMETRY_MAX_VERTICES``), checks the structure and the ``crs`` member, and drops
   heights (with a note), all in Python, before the first SQL statement;
2. PostGIS parses, transforms to EPSG:25832 and checks validity (``ST_IsValidDetail``, which
   stops at the first problem) under a statement timeout of a few seconds
   (:data:`~app.domain.geometry_input.VALIDATION_TIMEOUT_MS`, never longer than the
   configured one); a timeout is a 422 "too complex to validate", and an invalid shape is a
   422 with PostGIS's reason and its location in the client's CRS;
3. a repair (only on request) runs ``ST_MakeValid`` with the *structure* method under the
   same timeout, and only for shapes with at most
   :data:`~app.domain.geometry_input.REPAIR_MAX_SELF_INTERSECTIONS` self-intersections
   (counted in Python first). Why: GEOS checks for cancellation rarely, so a statement
   timeout alone does not stop ``ST_MakeValid`` in time; the default *linework* method took
   more than 15 s for a 19,000-vertex ring with a single crossing, and minutes on many
   crossings, while holding a database backend;
4. polygons (and each part of a multipolygon) smaller than ``GEFIS_GEOMETRY_MIN_AREA_M2``
   (m², EPSG:25832) are refused as slivers; then the shape must lie in the region, and it is
   located by ``gefis_locate_municipality`` (the district with the largest share of its
   area, see migration 0006).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from app.domain.crs import coordinate_decimals
from app.domain.errors import InvalidInput
from app.domain.geometry_input import (
    REPAIR_COUNT_BUDGET_S,
    REPAIR_MAX_SELF_INTERSECTIONS,
    GeometryLimits,
    GeometryProblem,
    PolygonInput,
    count_self_intersections,
    polygon_input,
)
from app.settings import get_settings

#: Share of a shape's area that may lie outside the region (VG250 is a 1:250,000 product).
OUTSIDE_TOLERANCE = 0.01
#: SQLSTATE of a statement cancelled by its timeout.
QUERY_CANCELED = "57014"

_TIMEOUT = text("SELECT set_config('statement_timeout', :value, true)")

_VALIDATE = text("""
    WITH g AS (
        SELECT ST_Transform(ST_SetSRID(ST_GeomFromGeoJSON(:geojson), :srid), 25832) AS geom
    )
    SELECT v.valid, v.reason, ST_X(l.at) AS x, ST_Y(l.at) AS y, ST_AsEWKT(g.geom) AS ewkt
    FROM g CROSS JOIN LATERAL ST_IsValidDetail(g.geom) v
    CROSS JOIN LATERAL (SELECT ST_Transform(ST_SetSRID(v.location, 25832), :srid) AS at) l
""")

_REPAIR = text("""
    SELECT ST_AsEWKT(ST_Multi(ST_CollectionExtract(
        ST_MakeValid(ST_GeomFromEWKT(:ewkt), 'method=structure'), 3)))
""")

_LOCATE = text("""
    WITH g AS (SELECT ST_GeomFromEWKT(:ewkt) AS geom)
    SELECT ST_Area(g.geom) AS area_m2, ST_NumGeometries(g.geom) AS parts,
           s.part AS smallest_part, s.area_m2 AS smallest_m2,
           (SELECT coalesce(sum(CASE WHEN ST_CoveredBy(g.geom, d.geom_25832) THEN ST_Area(g.geom)
                                     ELSE ST_Area(ST_Intersection(d.geom_25832, g.geom)) END), 0)
              FROM districts d WHERE ST_Intersects(d.geom_25832, g.geom)) AS inside_m2,
           gefis_locate_municipality(g.geom) AS municipality_ags
    FROM g LEFT JOIN LATERAL (
        SELECT p.path[1] AS part, ST_Area(p.geom) AS area_m2 FROM ST_Dump(g.geom) p
        ORDER BY 2, 1 LIMIT 1
    ) s ON true
""")


@dataclass(frozen=True)
class PreparedGeometry:
    """A geometry ready to store, where it lies, and what was changed in it (``notes``)."""

    ewkt: str
    municipality_ags: str
    area_ha: float
    notes: tuple[str, ...] = ()

    @property
    def district_ags(self) -> str:
        """5-digit AGS of the district (prefix of the municipality's AGS)."""
        return self.municipality_ags[:5]


def _message(exc: DBAPIError) -> str:
    diag = getattr(exc.orig, "diag", None)
    return str((diag.message_primary if diag is not None else None) or exc.orig)


@contextmanager
def limited_time(conn: Connection, limits: GeometryLimits, field: str,
                 activity: str) -> Iterator[None]:
    """Run the block in a savepoint with ``statement_timeout`` set to the validation limit.

    A timeout becomes a 422 naming ``field`` ("too complex to ``activity``"); any other
    database error a 422 "unreadable geometry". The session's timeout is restored after.
    """
    previous = conn.execute(text("SELECT current_setting('statement_timeout')")).scalar_one()
    seconds = limits.validation_timeout_ms / 1000
    try:
        with conn.begin_nested():
            conn.execute(_TIMEOUT, {"value": str(limits.validation_timeout_ms)})
            yield
            conn.execute(_TIMEOUT, {"value": previous})
    except DBAPIError as exc:
        if getattr(exc.orig, "pgcode", None) == QUERY_CANCELED:
            raise InvalidInput.for_field(
                field, f"geometry too complex to {activity} within {seconds:g} s",
                "too_complex") from exc
        raise InvalidInput.for_field(
            field, f"unreadable geometry: {_message(exc)}", "geometry") from exc


def _where(x: float | None, y: float | None, srid: int) -> str:
    if x is None or y is None:
        return ""
    decimals = coordinate_decimals(srid)
    crs = "lon/lat" if srid == 4326 else f"EPSG:{srid}"
    return f" at or near point ({x:.{decimals}f}, {y:.{decimals}f}) ({crs})"


def _repair(conn: Connection, polygon: PolygonInput, ewkt: str, limits: GeometryLimits,
            field: str) -> str:
    """``ST_MakeValid`` (structure method) if the shape has few enough self-intersections."""
    crossings = count_self_intersections(
        polygon, stop_after=REPAIR_MAX_SELF_INTERSECTIONS, budget_s=REPAIR_COUNT_BUDGET_S)
    if crossings is None or crossings > REPAIR_MAX_SELF_INTERSECTIONS:
        amount = (f"more than {REPAIR_MAX_SELF_INTERSECTIONS:,} self-intersections"
                  if crossings is not None else "too many edges close to each other")
        raise InvalidInput.for_field(
            field, f"geometry has {amount} to be repaired automatically; correct it in a GIS",
            "too_complex")
    with limited_time(conn, limits, field, "repair"):
        repaired: str | None = conn.execute(_REPAIR, {"ewkt": ewkt}).scalar_one()
    if repaired is None or "EMPTY" in repaired:
        raise InvalidInput.for_field(field, "geometry has no area", "empty_geometry")
    return repaired


def _check_area(where: Any, limits: GeometryLimits, field: str) -> None:
    """422 for a geometry without area or with a part below the minimum area (m²)."""
    if where.area_m2 <= 0:
        raise InvalidInput.for_field(field, "geometry has no area", "empty_geometry")
    if where.smallest_m2 < limits.min_area_m2:
        part = "the polygon" if where.parts == 1 else f"polygon {where.smallest_part}"
        raise InvalidInput.for_field(
            field, f"{part} has an area of {where.smallest_m2:.2f} m²; polygons smaller than "
            f"{limits.min_area_m2:g} m² are refused as slivers", "sliver")


def prepare_polygon(
    conn: Connection, geometry: dict[str, Any], srid: int, *, repair: bool,
    field: str = "geometry", limits: GeometryLimits | None = None,
) -> PreparedGeometry:
    """Check, transform, validate (or repair) and locate a client's polygon.

    ``geometry`` is GeoJSON in EPSG:``srid``; ``limits`` default to the process settings
    (``GEFIS_GEOMETRY_MAX_VERTICES``, ``GEFIS_GEOMETRY_MIN_AREA_M2``). Raises
    :class:`InvalidInput` naming ``field`` (or ``field.coordinates``/``field.crs``).
    """
    limits = limits or GeometryLimits.from_settings(get_settings())
    try:
        polygon = polygon_input(geometry, srid, limits)
    except GeometryProblem as problem:
        raise problem.for_field(field) from None
    params = {"geojson": json.dumps(polygon.geojson()), "srid": srid}
    with limited_time(conn, limits, field, "validate"):
        row = conn.execute(_VALIDATE, params).one()
    notes = list(polygon.notes)
    ewkt: str = row.ewkt
    if not row.valid:
        reason = f"{row.reason}{_where(row.x, row.y, srid)}"
        if not repair:
            raise InvalidInput.for_field(
                field, f"invalid geometry: {reason}; send repair_geometry=true to repair it",
                "invalid_geometry")
        ewkt = _repair(conn, polygon, ewkt, limits, field)
        notes.append(f"repaired with ST_MakeValid: {reason}")
    where = conn.execute(_LOCATE, {"ewkt": ewkt}).one()
    _check_area(where, limits, field)
    if where.municipality_ags is None or where.inside_m2 < where.area_m2 * (1 - OUTSIDE_TOLERANCE):
        share = 100 * (1 - where.inside_m2 / where.area_m2)
        raise InvalidInput.for_field(
            field, f"geometry lies outside the region ({share:.0f} % of its area); "
            f"is the CRS right (EPSG:{srid})?", "outside_region")
    return PreparedGeometry(ewkt=ewkt, municipality_ags=where.municipality_ags,
                            area_ha=where.area_m2 / 10_000, notes=tuple(notes))
