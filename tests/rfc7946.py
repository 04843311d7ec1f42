"""An RFC 7946 checker for the tests: what breaks the GeoJSON rules (or this service's
promises: ids on every feature, coordinate precision, the region in lon/lat order) in a
FeatureCollection parsed with ``parse_float=Decimal``."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from shapely.geometry import LinearRing

#: Where the region lies (lon/lat, with a margin): swapped axes land far outside.
LON = (10.5, 14.0)
LAT = (50.5, 52.5)
GEOMETRY_TYPES = {"Point", "LineString", "Polygon", "MultiPoint", "MultiLineString",
                  "MultiPolygon", "GeometryCollection"}


def _position_problems(position: Any, decimals: int) -> list[str]:
    if (not isinstance(position, list) or len(position) not in (2, 3)
            or not all(isinstance(v, Decimal | int) and not isinstance(v, bool)
                       for v in position)):
        return [f"not a position: {position!r}"]
    problems = []
    lon, lat = float(position[0]), float(position[1])
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        problems.append(f"outside lon/lat ranges: {position}")
    elif not (LON[0] <= lon <= LON[1] and LAT[0] <= lat <= LAT[1]):
        problems.append(f"outside the region (axes swapped?): {position}")
    for value in position:
        if isinstance(value, Decimal) and -int(value.as_tuple().exponent) > decimals:
            problems.append(f"more than {decimals} decimals: {value}")
    return problems


def _ring_problems(ring: Any, exterior: bool, decimals: int) -> list[str]:
    if not isinstance(ring, list) or len(ring) < 4:
        return [f"a ring needs four positions: {ring!r}"]
    problems = [p for position in ring for p in _position_problems(position, decimals)]
    if problems:
        return problems
    if ring[0] != ring[-1]:
        return ["ring not closed"]
    ccw = LinearRing([(float(x), float(y)) for x, y, *_ in ring]).is_ccw
    if exterior and not ccw:
        return ["exterior ring clockwise (RFC 7946 §3.1.6: counter-clockwise)"]
    if not exterior and ccw:
        return ["hole counter-clockwise (RFC 7946 §3.1.6: clockwise)"]
    return []


def _polygon_problems(rings: Any, decimals: int) -> list[str]:
    if not isinstance(rings, list) or not rings:
        return ["a polygon needs rings"]
    return [p for i, ring in enumerate(rings) for p in _ring_problems(ring, i == 0, decimals)]


def geometry_problems(geometry: Any, decimals: int) -> list[str]:
    """What breaks RFC 7946 in a geometry (``None`` is allowed)."""
    if geometry is None:
        return []
    if not isinstance(geometry, dict) or geometry.get("type") not in GEOMETRY_TYPES:
        return [f"not a geometry: {str(geometry)[:80]}"]
    if "crs" in geometry:
        return ["crs member in a geometry"]
    kind = geometry["type"]
    if kind == "GeometryCollection":
        return [p for g in geometry.get("geometries", []) for p in geometry_problems(g, decimals)]
    coordinates = geometry.get("coordinates")
    if kind == "Point":
        return _position_problems(coordinates, decimals)
    if kind in ("MultiPoint", "LineString"):
        return [p for c in coordinates for p in _position_problems(c, decimals)]
    if kind == "MultiLineString":
        return [p for line in coordinates for c in line for p in _position_problems(c, decimals)]
    if kind == "Polygon":
        return _polygon_problems(coordinates, decimals)
    return [p for polygon in coordinates for p in _polygon_problems(polygon, decimals)]


def rfc7946_problems(document: Any, decimals: int = 6) -> list[str]:
    """What breaks RFC 7946 (or this service's promises: ids, precision, the region) in a
    FeatureCollection parsed with ``parse_float=Decimal``; empty when nothing does."""
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        return ["not a FeatureCollection"]
    problems = ["crs member (RFC 7946 §4)"] if "crs" in document else []
    if not isinstance(document.get("features"), list):
        return [*problems, "features is not a list"]
    for feature in document["features"]:
        where = f"feature {feature.get('id')!r}" if isinstance(feature, dict) else "feature"
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            problems.append(f"{where}: not a Feature")
            continue
        if "crs" in feature:
            problems.append(f"{where}: crs member")
        if not isinstance(feature.get("id"), str | int) or isinstance(feature["id"], bool):
            problems.append(f"{where}: no id")
        if not isinstance(feature.get("properties"), dict | None):
            problems.append(f"{where}: properties not an object")
        problems += [f"{where}: {p}" for p in geometry_problems(feature.get("geometry"),
                                                                   decimals)]
    return problems
