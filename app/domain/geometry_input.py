"""GeoJSON geometries a client may send, and every check on them that needs no database.

Coordinates are in the CRS the request names with its ``crs`` query parameter (lon/lat,
EPSG:4326, by default). The rules, checked here before PostGIS sees a shape:

- a position is ``[x, y]`` or ``[x, y, height]`` (RFC 7946 §3.1.1): finite numbers only; a
  height is dropped and the client is told so in a note (geometries are stored in 2-D); a
  fourth value (a measure) is refused;
- a ring has at least 4 positions, is closed (last position = first) and encloses an area
  (its positions do not all lie on one straight line);
- a geometry has at most :attr:`GeometryLimits.max_vertices` positions, counted as sent
  (every ring's closing position included), so the size of the work PostGIS is given is
  bounded;
- a ``crs`` member (GeoJSON 2008 named CRS) is honoured only when it names the CRS of the
  request; otherwise the client is sent to the ``crs`` query parameter. ``bbox`` is
  accepted and ignored; any other member is refused.

The models (:class:`PolygonGeometry`, :class:`PointGeometry`) check structure only; the
limits and the comparison with the request's CRS need the settings and the request, so the
services apply them through :func:`polygon_input` and :func:`point_input`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import shapely
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from app.domain.crs import INPUT_SRIDS, parse_crs
from app.domain.errors import InvalidInput

if TYPE_CHECKING:
    from app.settings import Settings

#: Longest a validity check (or a repair) may run in the database, in milliseconds.
VALIDATION_TIMEOUT_MS = 3_000
#: A repair is refused for geometries with more self-intersections than this.
REPAIR_MAX_SELF_INTERSECTIONS = 1_000
#: Longest the self-intersections of a geometry to repair are counted, in seconds.
REPAIR_COUNT_BUDGET_S = 1.0
#: A ring whose positions all lie within this share of its extent of one line has no area.
COLLINEAR_TOLERANCE = 1e-9
#: The note for a client whose positions carried heights.
HEIGHT_DROPPED = ("heights (the third value of each position) were dropped: geometries are "
                  "stored in 2-D")

Position = tuple[float, float]
Ring = tuple[Position, ...]


@dataclass(frozen=True)
class GeometryLimits:
    """How much geometry work one request may cause.

    ``max_vertices``: positions per geometry; ``min_area_m2``: smallest polygon (each part
    of a multipolygon) in m², measured in EPSG:25832; ``validation_timeout_ms``: statement
    timeout of the validity check and of a repair in the database.
    """

    max_vertices: int = 20_000
    min_area_m2: float = 1.0
    validation_timeout_ms: int = VALIDATION_TIMEOUT_MS

    @classmethod
    def from_settings(cls, settings: Settings) -> GeometryLimits:
        """The limits configured in ``settings``; validation never outlasts a statement."""
        statement_ms = settings.db_statement_timeout_ms
        timeout = VALIDATION_TIMEOUT_MS if statement_ms == 0 else min(
            VALIDATION_TIMEOUT_MS, statement_ms)
        return cls(settings.geometry_max_vertices, settings.geometry_min_area_m2, timeout)


class GeometryProblem(Exception):
    """What is wrong with a client's geometry; ``member`` names the GeoJSON member at fault
    (``coordinates``, ``crs``, ``type``) or is ``None`` (the geometry as a whole)."""

    def __init__(self, member: str | None, reason: str, code: str) -> None:
        super().__init__(reason)
        self.member, self.reason, self.code = member, reason, code

    def for_field(self, field: str) -> InvalidInput:
        """The problem as a 422 naming ``field`` (e.g. ``geometry``) or its member."""
        name = f"{field}.{self.member}" if self.member else field
        return InvalidInput.for_field(name, self.reason, self.code)


@dataclass(frozen=True)
class PolygonInput:
    """A client's Polygon or MultiPolygon, checked and flattened to 2-D (request's CRS)."""

    polygons: tuple[tuple[Ring, ...], ...]
    vertex_count: int
    notes: tuple[str, ...] = ()

    def geojson(self) -> dict[str, Any]:
        """The shape as a 2-D GeoJSON MultiPolygon without ``crs`` member."""
        return {"type": "MultiPolygon",
                "coordinates": [[list(ring) for ring in rings] for rings in self.polygons]}


@dataclass(frozen=True)
class PointInput:
    """A client's point, flattened to 2-D (request's CRS)."""

    x: float
    y: float
    notes: tuple[str, ...] = ()


def _problem(reason: str, code: str) -> GeometryProblem:
    return GeometryProblem("coordinates", reason, code)


def read_position(value: Any, where: str) -> tuple[float, float, bool]:
    """``(x, y, had_height)`` of a GeoJSON position; ``where`` names it in the reason."""
    if not isinstance(value, list | tuple) or len(value) < 2:
        raise _problem(f"{where} is not a list [x, y] of numbers", "position")
    if len(value) > 3:
        raise _problem(f"{where} has {len(value)} values; a position is [x, y] or "
                       "[x, y, height] (measures are not accepted)", "position")
    for number in value:
        if isinstance(number, bool) or not isinstance(number, int | float):
            raise _problem(f"{where} holds {number!r}, which is not a number", "position")
        if not math.isfinite(number):
            raise _problem(f"{where} holds {number}, which is not a finite number", "position")
    return float(value[0]), float(value[1]), len(value) == 3


def _has_area(ring: Sequence[Position]) -> bool:
    """False when every position lies on one straight line (or on one point)."""
    x0, y0 = ring[0]
    far = max(ring, key=lambda p: (p[0] - x0) ** 2 + (p[1] - y0) ** 2)
    dx, dy = far[0] - x0, far[1] - y0
    tolerance = COLLINEAR_TOLERANCE * (dx * dx + dy * dy)
    return any(abs(dx * (y - y0) - dy * (x - x0)) > tolerance for x, y in ring)


def _read_ring(value: Any, where: str) -> tuple[Ring, bool]:
    if not isinstance(value, list | tuple):
        raise _problem(f"{where} is not a list of positions", "ring")
    if len(value) < 4:
        raise _problem(f"{where} has {len(value)} positions; a ring needs at least 4 "
                       "(the last repeats the first)", "ring")
    ring: list[Position] = []
    height = False
    for index, item in enumerate(value, start=1):
        x, y, z = read_position(item, f"position {index} of {where}")
        ring.append((x, y))
        height |= z
    if ring[0] != ring[-1]:
        raise _problem(f"{where} is not closed: its last position must repeat the first",
                       "ring_not_closed")
    if not _has_area(ring):
        raise _problem(f"{where} has no area: all its positions lie on one straight line",
                       "no_area")
    return tuple(ring), height


def _read_rings(value: Any, where: str) -> tuple[tuple[Ring, ...], bool]:
    if not isinstance(value, list | tuple) or not value:
        raise _problem(f"{where} must be a non-empty list of rings", "polygon")
    rings = [_read_ring(item, f"ring {i} of {where}") for i, item in enumerate(value, start=1)]
    return tuple(ring for ring, _ in rings), any(height for _, height in rings)


def read_polygon(kind: str, coordinates: Any) -> PolygonInput:
    """Check the structure of a Polygon's or MultiPolygon's ``coordinates`` (no limits)."""
    if kind == "Polygon":
        parts = [coordinates]
    elif isinstance(coordinates, list | tuple) and coordinates:
        parts = list(coordinates)
    else:
        raise _problem("a MultiPolygon needs a non-empty list of polygons", "polygon")
    read = [_read_rings(part, "the polygon" if kind == "Polygon" else f"polygon {i}")
            for i, part in enumerate(parts, start=1)]
    polygons = tuple(rings for rings, _ in read)
    notes = (HEIGHT_DROPPED,) if any(height for _, height in read) else ()
    count = sum(len(ring) for rings in polygons for ring in rings)
    return PolygonInput(polygons, count, notes)


def count_positions(kind: str, coordinates: Any) -> int:
    """Positions in ``coordinates`` as sent (closing positions included), without checks."""
    parts = [coordinates] if kind == "Polygon" else coordinates
    if not isinstance(parts, list | tuple):
        return 0
    return sum(len(ring) for part in parts if isinstance(part, list | tuple)
               for ring in part if isinstance(ring, list | tuple))


def read_crs_member(member: Any) -> int:
    """EPSG code named by a GeoJSON 2008 ``crs`` member (``{"type": "name", ...}``)."""
    if not isinstance(member, Mapping) or member.get("type") != "name":
        raise GeometryProblem("crs", 'only a named CRS ({"type": "name", "properties": '
                              '{"name": "EPSG:25832"}}) is understood here; better send the '
                              "crs query parameter", "crs")
    properties = member.get("properties")
    name = properties.get("name") if isinstance(properties, Mapping) else None
    if not isinstance(name, str):
        raise GeometryProblem("crs", "the crs member has no properties.name", "crs")
    try:
        return parse_crs(name, field="crs", allowed=INPUT_SRIDS)
    except InvalidInput as exc:
        raise GeometryProblem("crs", exc.detail, "crs") from None


def check_crs_member(member: Any, srid: int) -> None:
    """Refuse a ``crs`` member that names another CRS than the request's ``srid``."""
    if member is None:
        return
    named = read_crs_member(member)
    if named != srid:
        raise GeometryProblem(
            "crs", f"the geometry's crs member names EPSG:{named}, but its coordinates are "
            f"read in EPSG:{srid} (the request's crs query parameter; lon/lat by default): "
            f"send crs=EPSG:{named} as a query parameter", "crs_mismatch")


def _check_lonlat(x: float, y: float, srid: int, where: str) -> None:
    if srid == 4326 and not (-180 <= x <= 180 and -90 <= y <= 90):
        raise GeometryProblem(None, f"{where} ({x:g}, {y:g}) is not a longitude/latitude; is "
                              f"the CRS right (EPSG:{srid})?", "outside_region")


def polygon_input(geometry: Mapping[str, Any], srid: int, limits: GeometryLimits
                  ) -> PolygonInput:
    """A client's polygon checked against ``limits`` and the request's CRS ``srid``.

    The positions are counted first, so an oversized geometry costs one pass over lists.
    """
    kind, coordinates = geometry.get("type"), geometry.get("coordinates")
    if kind not in ("Polygon", "MultiPolygon"):
        raise GeometryProblem("type", "only Polygon or MultiPolygon", "geometry_type")
    count = count_positions(kind, coordinates)
    if count > limits.max_vertices:
        raise GeometryProblem(None, f"geometry has {count:,} vertices; at most "
                              f"{limits.max_vertices:,} are accepted", "too_many_vertices")
    polygon = read_polygon(kind, coordinates)
    check_crs_member(geometry.get("crs"), srid)
    if srid == 4326:
        for x, y in (position for rings in polygon.polygons for ring in rings for position in ring):
            _check_lonlat(x, y, srid, "a position")
    return polygon


def point_input(coordinates: Sequence[Any], crs_member: Any, srid: int) -> PointInput:
    """A client's point checked against the request's CRS ``srid``."""
    x, y, height = read_position(list(coordinates), "the position")
    check_crs_member(crs_member, srid)
    _check_lonlat(x, y, srid, "the point")
    return PointInput(x, y, (HEIGHT_DROPPED,) if height else ())


def _edges(polygon: PolygonInput) -> tuple[np.ndarray, np.ndarray]:
    """Every edge of every ring as ``(n, 2, 2)`` coordinates, and the ring of each edge."""
    edges_of_rings: list[np.ndarray] = []
    ring_ids: list[np.ndarray] = []
    for ring_id, ring in enumerate(ring for rings in polygon.polygons for ring in rings):
        points = np.asarray(ring, dtype=float)
        points = points[np.r_[True, np.any(np.diff(points, axis=0) != 0, axis=1)]]
        edges_of_rings.append(np.stack([points[:-1], points[1:]], axis=1))
        ring_ids.append(np.full(len(points) - 1, ring_id))
    return np.concatenate(edges_of_rings), np.concatenate(ring_ids)


def _orientation(p: np.ndarray, q: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Sign of the turn p → q → r for arrays of points (+1 left, -1 right, 0 straight)."""
    cross = (q[:, 0] - p[:, 0]) * (r[:, 1] - p[:, 1]) - (q[:, 1] - p[:, 1]) * (r[:, 0] - p[:, 0])
    return np.sign(cross)


def count_self_intersections(polygon: PolygonInput, *, stop_after: int,
                             budget_s: float) -> int | None:
    """Pairs of edges that touch or cross, other than neighbours on a ring, in all rings.

    Exact when at most ``stop_after``; otherwise counting stops at some number above it.
    ``None`` when counting took longer than ``budget_s`` seconds (then the shape is too
    complex to repair). Works in the request's CRS: crossings do not depend on it.
    Candidates are the pairs whose bounding boxes overlap (an STR tree); for them, two
    segments intersect when each one's end points do not lie strictly on one side of the
    other (collinear segments with overlapping boxes overlap).
    """
    edges, ring_of = _edges(polygon)
    first = np.searchsorted(ring_of, ring_of, side="left")
    last = np.searchsorted(ring_of, ring_of, side="right") - 1
    lines = shapely.linestrings(edges)
    tree = shapely.STRtree(lines)
    # A chunk's candidates are at most chunk × edges pairs: keep them near two million.
    largest_chunk = max(1, 2_000_000 // len(lines))
    deadline = time.monotonic() + budget_s
    found, start, chunk = 0, 0, 16
    while start < len(lines):
        if time.monotonic() > deadline:
            return None
        stop = min(len(lines), start + chunk)
        query, b = tree.query(lines[start:stop])
        a = query + start
        keep = (b > a) & ~((ring_of[a] == ring_of[b])
                           & ((b == a + 1) | ((a == first[a]) & (b == last[a]))))
        p, q = edges[a[keep]], edges[b[keep]]
        apart = ((_orientation(q[:, 0], q[:, 1], p[:, 0])
                  * _orientation(q[:, 0], q[:, 1], p[:, 1]) > 0)
                 | (_orientation(p[:, 0], p[:, 1], q[:, 0])
                    * _orientation(p[:, 0], p[:, 1], q[:, 1]) > 0))
        found += int(np.count_nonzero(~apart))
        if found > stop_after:
            return found
        start, chunk = stop, min(chunk * 2, largest_chunk)
    return found


def _as_pydantic(problem: GeometryProblem) -> PydanticCustomError:
    return PydanticCustomError(problem.code, problem.reason)


def _named_crs(value: dict[str, Any] | None) -> dict[str, Any] | None:
    """Validator of the ``crs`` members: a named CRS the API reads, or none."""
    if value is not None:
        try:
            read_crs_member(value)
        except GeometryProblem as problem:
            raise _as_pydantic(problem) from None
    return value


_CRS_DESCRIPTION = ("Optional GeoJSON 2008 named CRS; accepted only when it names the CRS of "
                    "the request's `crs` query parameter")


class PolygonGeometry(BaseModel):
    """A GeoJSON Polygon or MultiPolygon (coordinates in the CRS named by ``crs``)."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["Polygon", "MultiPolygon"] = Field(
        description="Only areas: Polygon or MultiPolygon")
    coordinates: list[Any] = Field(
        min_length=1, description="Rings of [x, y] positions (a height is dropped), closed, "
        "at least 4 positions each; at most GEFIS_GEOMETRY_MAX_VERTICES positions in all")
    crs: dict[str, Any] | None = Field(None, description=_CRS_DESCRIPTION)
    bbox: list[float] | None = Field(None, description="Ignored (derived from the shape)")

    @field_validator("coordinates")
    @classmethod
    def _structure(cls, value: list[Any], info: ValidationInfo) -> list[Any]:
        kind = info.data.get("type")
        if kind is not None:
            try:
                read_polygon(kind, value)
            except GeometryProblem as problem:
                raise _as_pydantic(problem) from None
        return value

    _crs = field_validator("crs")(_named_crs)


class PointGeometry(BaseModel):
    """A GeoJSON Point (x, y in the CRS named by ``crs``; lon, lat by default)."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["Point"] = Field(description="Only Point")
    coordinates: list[Any] = Field(
        description="[x, y] or [x, y, height] (the height is dropped)",
        json_schema_extra={"items": {"type": "number"}, "minItems": 2, "maxItems": 3})
    crs: dict[str, Any] | None = Field(None, description=_CRS_DESCRIPTION)
    bbox: list[float] | None = Field(None, description="Ignored")

    @field_validator("coordinates")
    @classmethod
    def _position(cls, value: list[Any]) -> list[Any]:
        try:
            read_position(value, "the position")
        except GeometryProblem as problem:
            raise _as_pydantic(problem) from None
        return [float(number) for number in value]

    _crs = field_validator("crs")(_named_crs)
