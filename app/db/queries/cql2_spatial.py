"""CQL2 geometry literals and the spatial functions S_INTERSECTS … S_CONTAINS, as SQL.

A geometry literal (GeoJSON from cql2-json, WKT-derived from cql2-text, or ``BBOX``) is in the
filter CRS (``filter_srid``, CRS84 by default). With ``swap_axes`` its coordinates are
northing/latitude first and are exchanged here, before anything else, so everything below
works in (x = easting/longitude, y = northing/latitude). A ``BBOX(minx, miny, maxx, maxy)`` in
a geographic CRS whose minx > maxx crosses the antimeridian and becomes two boxes.

The literal, never the property, is transformed into the property's SRID, so a GiST index
on the property stays usable. From longitude/latitude into a projected CRS, the literal is
first densified (edges of at most :data:`DENSIFY_DEGREES`) so its edges follow the lines of
longitude and latitude they are in the filter CRS. A projected CRS represents only part of
the globe: the literal must lie within the CRS's EPSG area of use widened by
:data:`MARGIN_DEGREES`. A literal reaching beyond is cut to that region where this cannot
change the answer for features inside it (S_INTERSECTS, S_DISJOINT, S_WITHIN(property,
literal), S_CONTAINS(literal, property)); the other functions refuse it.

Literals are checked with Shapely (structure, validity, non-empty, longitude/latitude range)
and bound as GeoJSON text, read with ``ST_GeomFromGeoJSON``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from functools import cache
from typing import Any

import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import ProjError
from shapely.geometry import box, mapping, shape
from shapely.geometry.base import BaseGeometry

from app.db.queries.cql2_base import Context, Kind, SqlExpr, describe, invalid

#: The spatial functions and their PostGIS predicates.
SPATIAL_FUNCTIONS: dict[str, str] = {
    "s_intersects": "ST_Intersects", "s_equals": "ST_Equals", "s_disjoint": "ST_Disjoint",
    "s_touches": "ST_Touches", "s_within": "ST_Within", "s_overlaps": "ST_Overlaps",
    "s_crosses": "ST_Crosses", "s_contains": "ST_Contains",
}

#: Functions whose answer for features inside a region does not change when a literal is cut
#: to that region, by the argument position of the literal.
_CUTTABLE = {("s_intersects", 0), ("s_intersects", 1), ("s_disjoint", 0), ("s_disjoint", 1),
             ("s_within", 1), ("s_contains", 0)}

#: Longest edge (degrees) of a longitude/latitude literal before it is projected.
DENSIFY_DEGREES = 0.02

#: Widening (degrees) of a projected CRS's area of use where literals may lie.
MARGIN_DEGREES = 6.0

_GEOJSON_TYPES = {"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon",
                  "MultiPolygon", "GeometryCollection"}


@cache
def _geographic(srid: int) -> bool:
    return bool(CRS.from_epsg(srid).is_geographic)


@cache
def usable_region(srid: int) -> tuple[float, float, float, float]:
    """Longitude/latitude bounds where literals may lie for a property in projected ``srid``:
    its EPSG area of use widened by :data:`MARGIN_DEGREES`, latitude short of the poles.

    >>> usable_region(25832)
    (0.0, 30.53, 18.01, 89.9)
    """
    area = CRS.from_epsg(srid).area_of_use
    if area is None or area.west > area.east:
        return (-180.0, -89.9, 180.0, 89.9)
    return (round(max(-180.0, area.west - MARGIN_DEGREES), 6),
            round(max(-89.9, area.south - MARGIN_DEGREES), 6),
            round(min(180.0, area.east + MARGIN_DEGREES), 6),
            round(min(89.9, area.north + MARGIN_DEGREES), 6))


def _swap(coordinates: Any) -> Any:
    """Coordinates with the first two axes exchanged (nested lists of positions)."""
    if coordinates and isinstance(coordinates[0], (int, float)):
        return [coordinates[1], coordinates[0], *coordinates[2:]]
    return [_swap(c) for c in coordinates]


def _geojson(node: dict[str, Any], swap: bool) -> dict[str, Any]:
    """The literal as a GeoJSON geometry (type and coordinates only), x first."""
    kind = node.get("type")
    if kind not in _GEOJSON_TYPES:
        raise invalid(f"unsupported geometry type {kind!r}", "cql2_geometry")
    if kind == "GeometryCollection":
        members = node.get("geometries")
        if not isinstance(members, list):
            raise invalid("a GeometryCollection needs 'geometries'", "cql2_geometry")
        for member in members:
            if not isinstance(member, dict):
                raise invalid(f"{describe(member)} in a GeometryCollection is not a geometry",
                              "cql2_geometry")
        return {"type": kind, "geometries": [_geojson(m, swap) for m in members]}
    coordinates = node.get("coordinates")
    if not isinstance(coordinates, list):
        raise invalid(f"a {kind} needs 'coordinates'", "cql2_geometry")
    return {"type": kind, "coordinates": _swap(coordinates) if swap else coordinates}


def _bbox(values: Any, swap: bool, geographic: bool) -> dict[str, Any]:
    """A BBOX (4 or 6 numbers) as a GeoJSON (Multi)Polygon, x first."""
    if (not isinstance(values, list) or len(values) not in (4, 6)
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                       and math.isfinite(v) for v in values)):
        raise invalid("BBOX takes 4 (or 6, with heights) finite numbers", "cql2_geometry")
    half = len(values) // 2
    minx, miny, maxx, maxy = (float(values[0]), float(values[1]),
                              float(values[half]), float(values[half + 1]))
    if swap:
        minx, miny, maxx, maxy = miny, minx, maxy, maxx
    if miny > maxy:
        raise invalid(f"BBOX: the minimum {miny:g} is above the maximum {maxy:g}",
                      "cql2_geometry")
    if minx <= maxx:
        return mapping(box(minx, miny, maxx, maxy))
    if not geographic:
        raise invalid(f"BBOX: the minimum x {minx:g} is beyond the maximum {maxx:g}",
                      "cql2_geometry")
    # crosses the antimeridian: the part east of minx and the part west of maxx
    return mapping(shapely.MultiPolygon([box(minx, miny, 180.0, maxy),
                                         box(-180.0, miny, maxx, maxy)]))


def _checked(geojson: dict[str, Any], geographic: bool) -> BaseGeometry:
    try:
        geometry = shape(geojson)
    except (ValueError, TypeError, IndexError, AttributeError,
            shapely.errors.ShapelyError) as exc:
        raise invalid(f"malformed {geojson.get('type')} literal: {exc}", "cql2_geometry") from exc
    if geometry.is_empty:
        raise invalid(f"empty {geojson['type']} literal", "cql2_geometry")
    if not all(math.isfinite(v) for v in geometry.bounds):
        raise invalid("geometry coordinates must be finite numbers", "cql2_geometry")
    if not geometry.is_valid:
        raise invalid(f"invalid {geojson['type']} literal: {shapely.is_valid_reason(geometry)}",
                      "cql2_geometry")
    minx, miny, maxx, maxy = geometry.bounds
    if geographic and (minx < -180 or maxx > 180 or miny < -90 or maxy > 90):
        raise invalid("longitude/latitude coordinates out of range (longitude -180..180, "
                      "latitude -90..90; is the axis order right for filter-crs?)",
                      "cql2_geometry")
    return geometry


class GeometryLiteral:
    """A checked geometry literal in the filter CRS, not yet bound."""

    def __init__(self, ctx: Context, node: dict[str, Any]) -> None:
        self.ctx = ctx
        self.geographic = _geographic(ctx.filter_srid)
        if "bbox" in node:
            self.geojson = _bbox(node["bbox"], ctx.swap_axes, self.geographic)
        else:
            self.geojson = _geojson(node, ctx.swap_axes)
        self.geometry = _checked(self.geojson, self.geographic)
        # as Shapely read it: rings closed, coordinates unchanged
        self.geojson = mapping(self.geometry)

    def sql(self, srid: int | None, op: str, position: int, about: str) -> SqlExpr:
        """SQL of the literal in ``srid`` (None: left in the filter CRS) as argument
        ``position`` of ``op``; ``about`` names the property for messages."""
        source = self.ctx.filter_srid
        geojson = self.geojson
        if srid is not None and srid != source:
            geojson = self._prepared(srid, op, position, about)
        placeholder = self.ctx.bind(json.dumps(geojson))
        sql = f"ST_SetSRID(ST_GeomFromGeoJSON({placeholder}), {int(source)})"
        if srid is not None and srid != source:
            sql = f"ST_Transform({sql}, {int(srid)})"
        return SqlExpr(sql, Kind.GEOMETRY, srid=srid or source)

    def _prepared(self, srid: int, op: str, position: int, about: str) -> dict[str, Any]:
        """The GeoJSON to transform into ``srid``: cut and densified when projecting."""
        if not self.geographic:
            _check_projected(self.ctx.filter_srid, self.geometry)
            return self.geojson
        if _geographic(srid):
            return self.geojson
        region = usable_region(srid)
        geometry = self.geometry
        if not box(*region).covers(geometry):
            if (op, position) not in _CUTTABLE:
                west, south, east, north = region
                raise invalid(
                    f"the geometry literal reaches beyond longitude {west:g}..{east:g}, "
                    f"latitude {south:g}..{north:g}, where EPSG:{srid} (the CRS of "
                    f"{about}) can represent it; {op.upper()} needs all of it there",
                    "cql2_geometry")
            geometry = geometry.intersection(box(*region))
            if geometry.is_empty:
                return {"type": "GeometryCollection", "geometries": []}
        return mapping(shapely.segmentize(geometry, DENSIFY_DEGREES))


@cache
def _to_lon_lat(srid: int) -> Transformer:
    return Transformer.from_crs(srid, 4326, always_xy=True)


def _check_projected(srid: int, geometry: BaseGeometry) -> None:
    """Refuse a literal in projected ``srid`` whose corners the CRS cannot map to
    longitude/latitude (far outside its domain), before PostGIS fails on it."""
    minx, miny, maxx, maxy = geometry.bounds
    try:
        for x, y in ((minx, miny), (minx, maxy), (maxx, miny), (maxx, maxy)):
            lon, lat = _to_lon_lat(srid).transform(x, y, errcheck=True)
            if not (math.isfinite(lon) and math.isfinite(lat)):
                raise ProjError("not finite")
    except ProjError as exc:
        raise invalid(f"the geometry literal lies outside the domain of EPSG:{srid} "
                      f"(corner {x:.0f}, {y:.0f})", "cql2_geometry") from exc


def is_geometry_literal(node: Any) -> bool:
    """Whether ``node`` is a geometry literal (GeoJSON or BBOX)."""
    return isinstance(node, dict) and ("bbox" in node or node.get("type") in _GEOJSON_TYPES)


def spatial_predicate(ctx: Context, op: str, args: list[Any],
                      value: Callable[[Any], SqlExpr]) -> str:
    """SQL of the spatial function ``op`` (lower case); ``value`` compiles a non-literal
    operand (a geometry property)."""
    if len(args) != 2:
        raise invalid(f"{op.upper()} takes two geometries", "cql2_invalid")
    compiled: list[SqlExpr | None] = [None, None]
    for i, arg in enumerate(args):
        if not is_geometry_literal(arg):
            if isinstance(arg, dict) and str(arg.get("op", "")).lower() == "envelope":
                raise invalid("ENVELOPE is not CQL2: write BBOX(minx, miny, maxx, maxy)",
                              "cql2_unsupported")
            expr = value(arg)
            if expr.kind is not Kind.GEOMETRY:
                raise invalid(f"{op.upper()} compares geometries; {describe(arg)} is a "
                              f"{expr.kind}", "cql2_type")
            compiled[i] = expr
    properties = [(i, e) for i, e in enumerate(compiled) if e is not None]
    target = properties[0][1].srid if properties else None
    about = describe(args[properties[0][0]]) if properties else "the filter"
    for i, arg in enumerate(args):
        if compiled[i] is None:
            compiled[i] = GeometryLiteral(ctx, arg).sql(target, op, i, about)
    first, second = compiled
    assert first is not None and second is not None
    second_sql = second.sql
    if second.srid != first.srid and second.srid is not None and first.srid is not None:
        second_sql = f"ST_Transform({second_sql}, {int(first.srid)})"
    return f"{SPATIAL_FUNCTIONS[op]}({first.sql}, {second_sql})"
