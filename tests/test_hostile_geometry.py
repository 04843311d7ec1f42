"""Hostile and degenerate geometry: bounded work, field-level 422s, no silent changes.

Most tests speak HTTP to the service (in-process, ``clients``); the service-level ones call
:func:`prepare_polygon`/:func:`prepare_point` on a real PostGIS connection (``conn``) where
a limit must be set differently from the process settings. Shapes are in EPSG:25832 unless
a name says otherwise (see ``tests/shapes.py``).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import Connection, event, text

from app.domain.errors import InvalidInput
from app.domain.geometry_input import (
    HEIGHT_DROPPED,
    GeometryLimits,
    GeometryProblem,
    PointGeometry,
    PolygonInput,
    count_self_intersections,
    polygon_input,
    read_polygon,
)
from app.services.geometry_input import prepare_polygon
from app.services.point_input import prepare_point
from app.settings import Settings
from tests.resource_client import LEIPZIG_POINT, Client, problem_fields
from tests.shapes import (
    LEIPZIG_EAST_X,
    LEIPZIG_EAST_Y,
    insert_site,
    ring_area,
    star_polygon,
    zigzag_star,
)

#: Answer time that proves the service is live (no runaway work), not a speed target: far
#: above the few seconds these take even on a busy machine. That the work is bounded is shown
#: by what the answers say (refused by the vertex count before PostGIS, refused by counting
#: crossings before a repair, validated within the service's own validation timeout).
LIVENESS_S = 60.0
UTM = {"crs": "EPSG:25832"}
X, Y = LEIPZIG_EAST_X, LEIPZIG_EAST_Y


@pytest.fixture
def site_id(conn: Connection) -> int:
    return insert_site(conn, name="Feindliche Formen")


def _polygon(*rings: list[list[float]], **members: Any) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": list(rings), **members}


def _square(x: float = X, y: float = Y, side: float = 50.0) -> list[list[float]]:
    return [[x, y], [x + side, y], [x + side, y + side], [x, y + side], [x, y]]


def _post(client: Client, path: str, body: dict[str, Any], **params: Any
          ) -> tuple[httpx.Response, float]:
    """POST compact JSON (as a GIS client would); the response and its time in seconds."""
    content = json.dumps(body, separators=(",", ":"), allow_nan=True).encode()
    started = time.perf_counter()
    response = client.http.post(client.base + path, content=content, params=params,
                                headers={**client.headers, "Content-Type": "application/json"})
    return response, time.perf_counter() - started


@contextmanager
def _statements(conn: Connection) -> Iterator[list[str]]:
    """The SQL statements sent on ``conn`` (the app's only connection) inside the block."""
    sent: list[str] = []

    def record(*args: Any) -> None:
        sent.append(args[2])

    event.listen(conn, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(conn, "before_cursor_execute", record)


def _parcel(site_id: int, geometry: dict[str, Any]) -> dict[str, Any]:
    return {"site_id": site_id, "geometry": geometry, "category": "erweiterungsflaeche",
            "user_groups": ["logistik"], "servicing": "erschlossen"}


def _reason(response: httpx.Response, field: str) -> str:
    assert field in problem_fields(response, 422), response.text
    return str(next(e["reason"] for e in response.json()["errors"] if e["field"] == field))


def _parcel_count(conn: Connection) -> int:
    return int(conn.execute(text("SELECT count(*) FROM parcels")).scalar_one())


# --- size and self-intersections over HTTP ----------------------------------------------

def test_80000_vertices_are_refused_before_postgis_within_seconds(
        clients: dict[str, Client], site_id: int, conn: Connection) -> None:
    ring = zigzag_star(80_000, outer_m=4_000, inner_m=3_000, crossings=20_000)
    body = _parcel(site_id, _polygon(ring))
    assert len(json.dumps(body, separators=(",", ":"))) < Settings().max_body_bytes
    before = _parcel_count(conn)
    with _statements(conn) as sent:
        response, seconds = _post(clients["admin"], "/parcels", body, **UTM)
    reason = _reason(response, "geometry")
    assert seconds < LIVENESS_S
    assert "80,001 vertices" in reason and "20,000" in reason
    assert sent, "the request's statements were recorded (authentication, at least)"
    assert not [sql for sql in sent if "ST_" in sql], "the shape reached PostGIS"
    assert _parcel_count(conn) == before


def test_19000_vertex_self_intersection_is_refused_quickly_with_its_place(
        clients: dict[str, Client], site_id: int) -> None:
    ring = zigzag_star(19_000, crossings=1)
    response, seconds = _post(clients["admin"], "/parcels", _parcel(site_id, _polygon(ring)),
                              **UTM)
    reason = _reason(response, "geometry")
    assert seconds < LIVENESS_S
    assert "Self-intersection at or near point (" in reason and "EPSG:25832" in reason
    assert "repair_geometry=true" in reason
    # the crossing is the swapped first spike, on the outer circle east of the centre
    x, y = (float(v) for v in reason.split("point (")[1].split(")")[0].split(", "))
    assert 300 <= math.hypot(x - X, y - Y) <= 400 and abs(y - Y) < 1


def test_valid_19000_vertex_polygon_with_heights_is_stored_flat_and_told(
        clients: dict[str, Client], site_id: int) -> None:
    ring = [[x, y, 112.5] for x, y in zigzag_star(19_000)]
    response, seconds = _post(clients["admin"], "/parcels", _parcel(site_id, _polygon(ring)),
                              **UTM)
    assert response.status_code == 201, response.text[:500]
    assert seconds < LIVENESS_S
    parcel = response.json()
    assert parcel["gross_area_ha"] == pytest.approx(ring_area(ring) / 10_000, rel=1e-3)
    assert parcel["notes"] == [HEIGHT_DROPPED]


def test_repair_of_a_heavily_self_intersecting_shape_is_refused_at_once(
        clients: dict[str, Client], site_id: int) -> None:
    # 100 vertices, 4,800 crossings: ST_MakeValid (linework) needed about 14 s for it
    response, seconds = _post(clients["admin"], "/parcels",
                              _parcel(site_id, _polygon(star_polygon(100))),
                              repair_geometry="true", **UTM)
    reason = _reason(response, "geometry")
    assert seconds < LIVENESS_S
    assert "more than 1,000 self-intersections" in reason


def test_repair_of_a_few_crossings_is_made_and_reported_with_the_place(
        clients: dict[str, Client], site_id: int) -> None:
    ring = zigzag_star(4_000, crossings=3)
    response, seconds = _post(clients["admin"], "/parcels", _parcel(site_id, _polygon(ring)),
                              repair_geometry="true", **UTM)
    assert response.status_code == 201, response.text[:500]
    assert seconds < LIVENESS_S
    (note,) = response.json()["notes"]
    assert note.startswith("repaired with ST_MakeValid: Self-intersection at or near point")


# --- degenerate shapes ------------------------------------------------------------------

DEGENERATE: list[tuple[str, dict[str, Any], str, str]] = [
    ("collinear ring", _polygon([[X, Y], [X + 10, Y + 10], [X + 20, Y + 20], [X, Y]]),
     "geometry.coordinates", "ring 1 of the polygon has no area"),
    ("sliver below 1 m²", _polygon([[X, Y], [X + 10, Y], [X + 10, Y + 0.05], [X, Y]]),
     "geometry", "the polygon has an area of 0.25 m²"),
    ("sliver part", {"type": "MultiPolygon", "coordinates": [
        [_square()], [[[X + 100, Y], [X + 101, Y], [X + 101, Y + 0.5], [X + 100, Y]]]]},
     "geometry", "polygon 2 has an area of 0.25 m²"),
    ("measure values", _polygon([[X, Y, 0, 7], [X + 50, Y, 0, 7], [X, Y + 50, 0, 7],
                                 [X, Y, 0, 7]]),
     "geometry.coordinates", "position 1 of ring 1 of the polygon has 4 values"),
    ("unclosed ring", _polygon([[X, Y], [X + 50, Y], [X + 50, Y + 50], [X, Y + 50]]),
     "geometry.coordinates", "ring 1 of the polygon is not closed"),
    ("unknown member", _polygon(_square(), srid=25832), "geometry.srid", "not permitted"),
]


@pytest.mark.parametrize(("case", "geometry", "field", "reason"), DEGENERATE,
                         ids=[c[0] for c in DEGENERATE])
def test_degenerate_shapes_are_refused_naming_the_problem(
        clients: dict[str, Client], site_id: int, case: str, geometry: dict[str, Any],
        field: str, reason: str) -> None:
    response, _ = _post(clients["admin"], "/parcels", _parcel(site_id, geometry), **UTM)
    assert reason in _reason(response, field)


def test_non_finite_coordinates_are_refused_naming_them(clients: dict[str, Client],
                                                        site_id: int) -> None:
    geometry = _polygon([[X, Y], [X + 50, Y], [X + 50, float("nan")], [X, Y]])
    response, _ = _post(clients["admin"], "/parcels", _parcel(site_id, geometry), **UTM)
    assert "not a finite number" in _reason(response, "geometry.coordinates")


# --- crs members ------------------------------------------------------------------------

def _named(name: str) -> dict[str, Any]:
    return {"type": "name", "properties": {"name": name}}


def test_crs_member_is_honoured_only_when_it_names_the_request_crs(
        clients: dict[str, Client], site_id: int) -> None:
    admin = clients["admin"]
    same = _polygon(_square(), crs=_named("urn:ogc:def:crs:EPSG::25832"))
    response, _ = _post(admin, "/parcels", _parcel(site_id, same), **UTM)
    assert response.status_code == 201, response.text
    other = _polygon(_square(), crs=_named("EPSG:25832"))
    reason = _reason(_post(admin, "/parcels", _parcel(site_id, other))[0], "geometry.crs")
    assert "names EPSG:25832" in reason and "crs=EPSG:25832" in reason
    link = _polygon(_square(), crs={"type": "link", "properties": {"href": "x"}})
    assert "named CRS" in _reason(_post(admin, "/parcels", _parcel(site_id, link), **UTM)[0],
                                  "geometry.crs")


def test_point_members_and_positions_are_checked_over_http(clients: dict[str, Client]) -> None:
    sale = {"sale_date": "2024-05-02", "area_ha": 1.5, "buyer_user_group": "logistik"}
    point = {**LEIPZIG_POINT, "crs": _named("EPSG:3857")}
    response, _ = _post(clients["admin"], "/land-sales", {**sale, "geometry": point})
    assert "EPSG:3857 is not supported" in _reason(response, "geometry.crs")
    four = {"type": "Point", "coordinates": [12.3752, 51.3406, 110.0, 3.0]}
    response, _ = _post(clients["admin"], "/land-sales", {**sale, "geometry": four})
    assert "[x, y, height]" in _reason(response, "geometry.coordinates")


def test_point_crs_member_and_height_at_the_service(conn: Connection) -> None:
    lonlat = PointGeometry.model_validate(LEIPZIG_POINT | {"crs": _named("EPSG:4326")})
    assert prepare_point(conn, lonlat, 4326).municipality_ags == "14713000"
    utm = PointGeometry.model_validate(LEIPZIG_POINT | {"crs": _named("EPSG:25832")})
    with pytest.raises(InvalidInput) as refused:
        prepare_point(conn, utm, 4326)
    assert refused.value.problems[0].field == "geometry.crs"
    assert prepare_point(conn, [12.3752, 51.3406, 110.0], 4326).notes == (HEIGHT_DROPPED,)


# --- limits at the service (real PostGIS) ----------------------------------------------

def test_vertex_limit_is_the_configured_one(conn: Connection) -> None:
    limits = GeometryLimits(max_vertices=101)
    accepted = prepare_polygon(conn, _polygon(zigzag_star(100)), 25832, repair=False,
                               limits=limits)
    assert accepted.municipality_ags == "14713000"
    with pytest.raises(InvalidInput) as refused:
        prepare_polygon(conn, _polygon(zigzag_star(102)), 25832, repair=False, limits=limits)
    assert refused.value.problems[0].code == "too_many_vertices"
    assert "103 vertices; at most 101" in refused.value.detail


def test_minimum_area_is_the_configured_one(conn: Connection) -> None:
    square = _polygon(_square(side=10))  # 100 m²
    assert prepare_polygon(conn, square, 25832, repair=False,
                           limits=GeometryLimits(min_area_m2=100)).area_ha == pytest.approx(0.01)
    with pytest.raises(InvalidInput) as refused:
        prepare_polygon(conn, square, 25832, repair=False, limits=GeometryLimits(min_area_m2=101))
    assert refused.value.problems[0].code == "sliver"


def test_validation_timeout_is_a_422_and_leaves_the_transaction_usable(
        conn: Connection) -> None:
    timeout_before = conn.execute(text("SHOW statement_timeout")).scalar_one()
    with pytest.raises(InvalidInput) as refused:
        prepare_polygon(conn, _polygon(zigzag_star(19_000)), 25832, repair=False,
                        limits=GeometryLimits(validation_timeout_ms=1))
    problem = refused.value.problems[0]
    assert (problem.field, problem.code) == ("geometry", "too_complex")
    assert problem.reason == "geometry too complex to validate within 0.001 s"
    assert conn.execute(text("SHOW statement_timeout")).scalar_one() == timeout_before
    prepare_polygon(conn, _polygon(_square()), 25832, repair=False)


def test_validation_timeout_never_exceeds_the_statement_timeout() -> None:
    assert GeometryLimits.from_settings(Settings(db_statement_timeout_ms=500)) \
        .validation_timeout_ms == 500
    assert GeometryLimits.from_settings(Settings(db_statement_timeout_ms=0)) \
        .validation_timeout_ms == 3_000
    limits = GeometryLimits.from_settings(Settings(geometry_max_vertices=77,
                                                   geometry_min_area_m2=5))
    assert (limits.max_vertices, limits.min_area_m2) == (77, 5)


# --- pure checks ------------------------------------------------------------------------

def _shape(ring: list[list[float]]) -> PolygonInput:
    return read_polygon("Polygon", [ring])


def test_vertices_are_counted_as_sent_before_anything_else() -> None:
    ring = [[0, 0], [1, 0], [1, 1], [0, 0]]
    limits = GeometryLimits(max_vertices=8)
    two = {"type": "MultiPolygon", "coordinates": [[ring], [ring]]}
    assert polygon_input(two, 25832, limits).vertex_count == 8
    # over the limit: refused by the count even though a position is garbage
    three = {"type": "MultiPolygon", "coordinates": [[ring], [ring], [[["x"]]]]}
    with pytest.raises(GeometryProblem, match="9 vertices; at most 8"):
        polygon_input(three, 25832, limits)


def test_self_intersections_are_counted_exactly_up_to_the_limit() -> None:
    square = [[0, 0], [2, 0], [2, 2], [0, 2], [0, 0]]
    bowtie = [[0, 0], [2, 2], [2, 0], [0, 2], [0, 0]]
    heptagram = star_polygon(7, x=0, y=0, radius_m=10)  # {7/2}: each edge crosses 2
    assert count_self_intersections(_shape(square), stop_after=10, budget_s=5) == 0
    assert count_self_intersections(_shape(bowtie), stop_after=10, budget_s=5) == 1
    assert count_self_intersections(_shape(heptagram), stop_after=100, budget_s=5) == 7
    many = count_self_intersections(_shape(star_polygon(2_000)), stop_after=50, budget_s=5)
    assert many is not None and many > 50
    assert count_self_intersections(_shape(zigzag_star(19_000)), stop_after=5,
                                    budget_s=0) is None
