"""A sketch map of GeoJSON geometries as SVG data, for the OGC API – Features HTML pages.

Longitude/latitude (CRS84) in an equirectangular projection scaled by the cosine of the
middle latitude, north up, fitted into a box 640 units wide; coordinates outside the
longitude/latitude range (a projected CRS) are drawn unscaled. Each geometry becomes one SVG
element (a ``path`` for lines, polygons with their holes (even-odd) and multi-points, a
``circle`` for a point), a geometry collection one per member. No background map, no script:
the template ``ogc/_sketch.html.j2`` writes the elements.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

#: Colours of the features on the sketch and in the table (Okabe–Ito, without yellow).
PALETTE = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000")
SKETCH_WIDTH, SKETCH_MAX_HEIGHT, SKETCH_MIN_HEIGHT, SKETCH_PAD = 640, 440, 140, 12


def _positions(geometry: dict[str, Any]) -> Iterator[tuple[float, float]]:
    if geometry.get("type") == "GeometryCollection":
        for part in geometry.get("geometries") or []:
            if isinstance(part, dict):
                yield from _positions(part)
        return
    stack = [geometry.get("coordinates")]
    while stack:
        node = stack.pop()
        if isinstance(node, list) and len(node) >= 2 and all(
                isinstance(v, int | float) for v in node[:2]):
            yield float(node[0]), float(node[1])
        elif isinstance(node, list):
            stack.extend(node)


Project = Callable[[Any], tuple[float, float]]


def _line(positions: list[Any], project: Project, close: bool) -> str:
    """Path data of a line or ring (vertices that fall on the same tenth of a unit dropped)."""
    points: list[str] = []
    for position in positions:
        x, y = project(position)
        text = f"{x:.1f} {y:.1f}"
        if not points or points[-1] != text:
            points.append(text)
    return "M" + "L".join(points) + ("Z" if close else "")


def _parts(geometry: dict[str, Any], project: Project) -> list[dict[str, Any]]:
    """The SVG elements of one geometry: one element, several only for a collection."""
    kind, coords = geometry.get("type"), geometry.get("coordinates")
    if kind == "GeometryCollection":
        return [part for g in geometry.get("geometries") or [] if isinstance(g, dict)
                for part in _parts(g, project)]
    if kind == "Point":
        x, y = project(coords)
        return [{"kind": "circle", "cls": "point", "cx": f"{x:.1f}", "cy": f"{y:.1f}"}]
    if kind == "MultiPoint":
        dots = [project(p) for p in coords]
        d = "".join(f"M{x - 4:.1f} {y:.1f}a4 4 0 1 0 8 0a4 4 0 1 0 -8 0Z" for x, y in dots)
        return [{"kind": "path", "cls": "point", "d": d}]
    lines = {"LineString": [coords], "MultiLineString": coords}.get(str(kind))
    if lines is not None:
        return [{"kind": "path", "cls": "line",
                 "d": "".join(_line(p, project, False) for p in lines)}]
    rings = {"Polygon": coords, "MultiPolygon": [r for poly in coords or [] for r in poly]}
    if kind in rings:
        return [{"kind": "path", "cls": "poly",
                 "d": "".join(_line(r, project, True) for r in rings[kind])}]
    return []


Shape = tuple[str, str | None, dict[str, Any], str]


def sketch_map(shapes: list[Shape]) -> dict[str, Any] | None:
    """The sketch of ``(label, href, geometry, colour)`` (``None`` without any position).

    >>> drawing = sketch_map([("A", None, {"type": "Point", "coordinates": [12, 51]}, "#000")])
    >>> drawing["width"], drawing["height"], drawing["shapes"][0]["parts"]
    (640, 440, [{'kind': 'circle', 'cls': 'point', 'cx': '320.0', 'cy': '220.0'}])
    """
    positions = [p for _, _, geometry, _ in shapes for p in _positions(geometry)]
    if not positions:
        return None
    west, east = min(p[0] for p in positions), max(p[0] for p in positions)
    south, north = min(p[1] for p in positions), max(p[1] for p in positions)
    geographic = west >= -180 and east <= 180 and south >= -90 and north <= 90
    kx = math.cos(math.radians((south + north) / 2)) if geographic else 1.0
    span_x, span_y = (east - west) * kx, north - south
    if span_x == span_y == 0:  # one point: a box around it
        half = 0.005 if geographic else 50.0
        west, north, span_x, span_y = west - half / kx, north + half, 2 * half, 2 * half
    inner_w, inner_h = SKETCH_WIDTH - 2 * SKETCH_PAD, SKETCH_MAX_HEIGHT - 2 * SKETCH_PAD
    scale = min(inner_w / span_x if span_x else math.inf, inner_h / span_y if span_y else math.inf)
    height = max(SKETCH_MIN_HEIGHT, round(span_y * scale) + 2 * SKETCH_PAD)
    left = (SKETCH_WIDTH - span_x * scale) / 2
    top = (height - span_y * scale) / 2

    def project(p: Any) -> tuple[float, float]:
        return left + (float(p[0]) - west) * kx * scale, top + (north - float(p[1])) * scale

    drawn = []
    for label, href, geometry, colour in shapes:
        try:
            parts = _parts(geometry, project)
        except (TypeError, ValueError, IndexError, KeyError):
            parts = []
        if parts:
            drawn.append({"label": label, "href": href, "parts": parts, "colour": colour})
    return {"width": SKETCH_WIDTH, "height": height, "shapes": drawn}
