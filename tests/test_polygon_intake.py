"""``gefis_polygon_intake`` (migration 0008): the one way in for polygons.

Small exact examples of the SQL function, then its two Python clients: the API's
:func:`prepare_polygon` (one geometry, field ``geometry``) and :func:`intake_polygons`
(a file's features, ``features[i].geometry``), which the demo and boundary loaders use.
Shapes are in EPSG:25832 unless a name says otherwise (see ``tests/shapes.py``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pyproj import Transformer
from sqlalchemy import Connection, Row, text
from sqlalchemy.exc import DBAPIError

from app.domain.errors import InvalidInput
from app.domain.geometry_input import HEIGHT_DROPPED, GeometryLimits
from app.services.demo_loader import load_parcels
from app.services.geometry_input import intake_polygons, prepare_polygon
from app.settings import Settings
from tests.resource_client import LEIPZIG_SQUARE
from tests.shapes import LEIPZIG_EAST_X, LEIPZIG_EAST_Y, ring_area, zigzag_star

X, Y = LEIPZIG_EAST_X, LEIPZIG_EAST_Y
#: A point on the Leipzig–Schkeuditz boundary (as in tests/test_district_share.py).
BX, BY = 729_200.0, 5_701_450.0
_TO_25832 = Transformer.from_crs(4326, 25832, always_xy=True)


def _polygon(*rings: list[list[float]]) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": list(rings)}


def _square(x: float = X, y: float = Y, side: float = 100.0) -> list[list[float]]:
    return [[x, y], [x + side, y], [x + side, y + side], [x, y + side], [x, y]]


def _bowtie(x: float = X, y: float = Y, side: float = 100.0) -> list[list[float]]:
    return [[x, y], [x + side, y + side], [x + side, y], [x, y + side], [x, y]]


def _straddling(x: float = BX, y: float = BY) -> list[list[float]]:
    """69 % in Schkeuditz (Nordsachsen), its interior point in Leipzig."""
    return [[x - 200, y], [x - 40, y], [x - 40, y - 225], [x + 40, y - 225], [x + 40, y],
            [x + 200, y], [x + 200, y + 100], [x - 200, y + 100], [x - 200, y]]


def _intake(conn: Connection, geometry: dict[str, Any] | str | None, srid: int = 25832,
            **options: Any) -> Row[Any]:
    """One call of the SQL function (named options), with facts about its geometry."""
    named = "".join(f", {name} => :{name}" for name in options)
    geojson = geometry if geometry is None or isinstance(geometry, str) else json.dumps(geometry)
    return conn.execute(text(f"""
        SELECT i.*, ST_NDims(i.geom_25832) AS dims, ST_SRID(i.geom_25832) AS stored_srid,
               GeometryType(i.geom_25832) AS kind, ST_NumGeometries(i.geom_25832) AS parts,
               ST_IsValid(i.geom_25832) AS valid
        FROM gefis_polygon_intake(:geojson, :srid{named}) i"""),
        {"geojson": geojson, "srid": srid, **options}).one()


# --- the SQL function -------------------------------------------------------------------

def test_lon_lat_square_becomes_a_multipolygon_in_25832_with_its_area_in_m2(
        conn: Connection) -> None:
    ring = LEIPZIG_SQUARE["coordinates"][0]
    expected_m2 = ring_area([list(_TO_25832.transform(lon, lat)) for lon, lat in ring])
    row = _intake(conn, LEIPZIG_SQUARE, 4326)
    assert row.problem is None and row.reason is None
    assert (row.kind, row.stored_srid, row.dims, row.parts, row.valid) == (
        "MULTIPOLYGON", 25832, 2, 1, True)
    assert row.area_m2 == pytest.approx(expected_m2, rel=1e-6)
    assert 70_000 < row.area_m2 < 90_000  # about 280 m × 280 m
    assert (row.municipality_ags, row.district_ags, row.inside_share) == ("14713000", "14713", 1)
    assert row.repaired is False and row.invalid_reason is None


def test_heights_are_dropped_and_the_shape_stored_in_2d(conn: Connection) -> None:
    flat = _intake(conn, _polygon(_square()))
    row = _intake(conn, _polygon([[x, y, 112.5] for x, y in _square()]))
    assert row.problem is None and row.dims == 2
    assert row.area_m2 == pytest.approx(10_000) == flat.area_m2
    assert conn.execute(text("SELECT ST_OrderingEquals(:a, :b)"),
                        {"a": row.geom_25832, "b": flat.geom_25832}).scalar_one()


def test_a_bowtie_is_refused_with_the_place_of_its_crossing(conn: Connection) -> None:
    row = _intake(conn, _polygon(_bowtie()))
    assert row.geom_25832 is None and row.repaired is False
    assert row.problem == "invalid_geometry"
    assert row.invalid_reason == "Self-intersection at or near point (731050.00, 5690050.00) (EPSG:25832)"
    assert row.reason == f"invalid geometry: {row.invalid_reason}"
    assert "geom_25832" not in row.reason


def test_the_place_is_told_in_the_clients_crs(conn: Connection) -> None:
    ring = [list(_TO_25832.transform(x, y, direction="INVERSE")) for x, y in _bowtie()]
    row = _intake(conn, _polygon(ring), 4326)
    assert row.problem == "invalid_geometry"
    lon, lat = (float(v) for v in row.invalid_reason.split("point (")[1].split(")")[0].split(", "))
    assert row.invalid_reason.endswith("(lon/lat)")
    assert len(row.invalid_reason.split("point (")[1].split(",")[0].split(".")[1]) == 7
    x, y = _TO_25832.transform(lon, lat)
    assert (x, y) == pytest.approx((X + 50, Y + 50), abs=0.05)


def test_a_bowtie_is_repaired_on_request_into_its_two_triangles(conn: Connection) -> None:
    row = _intake(conn, _polygon(_bowtie()), repair=True)
    assert row.problem is None and row.repaired is True and row.valid is True
    assert (row.kind, row.parts) == ("MULTIPOLYGON", 2)
    assert row.area_m2 == pytest.approx(5_000)
    assert row.invalid_reason.startswith("Self-intersection at or near point (731050.00")
    assert row.municipality_ags == "14713000"


def test_outside_the_region_is_refused_with_the_share_outside(conn: Connection) -> None:
    baltic = _polygon([[11.0, 54.5], [11.01, 54.5], [11.01, 54.51], [11.0, 54.5]])
    row = _intake(conn, baltic, 4326)
    assert row.geom_25832 is None and row.problem == "outside_region"
    assert row.inside_share == 0 and row.municipality_ags is None
    assert row.reason == ("geometry lies outside the region (100 % of its area); "
                          "is the CRS right (EPSG:4326)?")
    # 71 % east of the region's outer boundary (see tests/test_district_share.py)
    bar, block = (746_794, 747_094), (747_094, 747_244)
    mostly_outside = [[bar[0], 5_729_180], [bar[1], 5_729_180], [block[0], 5_729_100],
                      [block[1], 5_729_100], [block[1], 5_729_300], [block[0], 5_729_300],
                      [bar[1], 5_729_220], [bar[0], 5_729_220], [bar[0], 5_729_180]]
    row = _intake(conn, _polygon(mostly_outside))
    assert row.problem == "outside_region"
    assert row.inside_share == pytest.approx(0.29, abs=0.02)
    assert f"({round(100 * (1 - row.inside_share))} % of its area)" in row.reason
    # lon/lat read as UTM metres: a few mm² far outside; measured before it is located
    assert _intake(conn, LEIPZIG_SQUARE, 25832).problem == "sliver"


def test_the_municipality_is_where_the_larger_share_lies(conn: Connection) -> None:
    row = _intake(conn, _polygon(_straddling()))
    assert row.problem is None
    assert (row.municipality_ags, row.district_ags) == ("14730270", "14730")
    assert row.inside_share == pytest.approx(1.0, abs=1e-9)  # on the boundary, not outside
    mirrored = [[x, 2 * BY - y] for x, y in _straddling()]
    assert _intake(conn, _polygon(mirrored)).municipality_ags == "14713000"


def test_slivers_and_shapes_without_area_are_refused(conn: Connection) -> None:
    sliver = _polygon([[X, Y], [X + 10, Y], [X + 10, Y + 0.05], [X, Y]])
    row = _intake(conn, sliver)
    assert (row.problem, row.reason) == (
        "sliver", "the polygon has an area of 0.25 m²; polygons smaller than 1 m² are refused "
        "as slivers")
    two = {"type": "MultiPolygon", "coordinates": [
        [_square()], [[[X + 200, Y], [X + 201, Y], [X + 201, Y + 0.5], [X + 200, Y]]]]}
    assert _intake(conn, two).reason.startswith("polygon 2 has an area of 0.25 m²")
    assert _intake(conn, _polygon(_square(side=10)), min_area_m2=100.0).problem is None
    assert _intake(conn, _polygon(_square(side=10)), min_area_m2=101.0).problem == "sliver"
    empty = _intake(conn, {"type": "MultiPolygon", "coordinates": []})
    assert (empty.problem, empty.reason) == ("empty_geometry", "geometry has no area")


@pytest.mark.parametrize(("geojson", "srid", "problem", "reason"), [
    ('{"type": "Polygon", "coordinates": [[[0, 0], [1, 1]', 25832, "geometry",
     "unreadable geometry: "),
    (json.dumps(_polygon(_square())), 99999, "geometry", "unreadable geometry: "),
    ('{"type": "Point", "coordinates": [731000, 5690000]}', 25832, "geometry_type",
     "only Polygon or MultiPolygon"),
    (None, 25832, "required", "geometry is missing"),
])
def test_unreadable_input_is_a_refusal_not_an_error(
        conn: Connection, geojson: str | None, srid: int, problem: str, reason: str) -> None:
    row = _intake(conn, geojson, srid)
    assert row.problem == problem and row.reason.startswith(reason)
    assert row.geom_25832 is None


def test_boundaries_are_taken_in_without_locating(conn: Connection) -> None:
    baltic = _polygon([[11.0, 54.5], [11.01, 54.5], [11.01, 54.51], [11.0, 54.5]])
    row = _intake(conn, baltic, 4326, locate=False)
    assert row.problem is None and row.geom_25832 is not None
    assert (row.municipality_ags, row.district_ags, row.inside_share) == (None, None, None)


def test_a_statement_timeout_still_cancels_the_intake(conn: Connection) -> None:
    with pytest.raises(DBAPIError) as cancelled, conn.begin_nested():
        conn.execute(text("SELECT set_config('statement_timeout', '1', true)"))
        _intake(conn, _polygon(zigzag_star(19_000)), repair=True)
    assert getattr(cancelled.value.orig, "pgcode", None) == "57014"


# --- the API path: one geometry, field `geometry` ----------------------------------------

def test_the_api_path_names_the_field_and_tells_how_to_repair(conn: Connection) -> None:
    with pytest.raises(InvalidInput) as refused:
        prepare_polygon(conn, _polygon(_bowtie()), 25832, repair=False)
    (problem,) = refused.value.problems
    assert (problem.field, problem.code) == ("geometry", "invalid_geometry")
    assert problem.reason.endswith("; send repair_geometry=true to repair it")
    repaired = prepare_polygon(conn, _polygon([[x, y, 1.0] for x, y in _bowtie()]), 25832,
                               repair=True)
    assert repaired.area_ha == pytest.approx(0.5)
    assert repaired.notes == (HEIGHT_DROPPED, "repaired with ST_MakeValid: Self-intersection "
                              "at or near point (731050.00, 5690050.00) (EPSG:25832)")
    assert repaired.district_ags == "14713"


# --- many features: `features[i].geometry` -----------------------------------------------

def test_every_refused_feature_is_named_by_its_index(conn: Connection) -> None:
    unclosed = _polygon(_square()[:-1])
    baltic = _polygon([[x - 500_000, y] for x, y in _square()])
    features = [_polygon(_square()), _polygon(_bowtie()), unclosed, baltic, "nonsense"]
    with pytest.raises(InvalidInput) as refused:
        intake_polygons(conn, features, 25832, repair=False, limits=GeometryLimits(),
                        source="test.geojson")
    fields = {p.field: p.code for p in refused.value.problems}
    assert fields == {"features[1].geometry": "invalid_geometry",
                      "features[2].geometry.coordinates": "ring_not_closed",
                      "features[3].geometry": "outside_region",
                      "features[4].geometry": "geometry"}
    assert refused.value.detail.startswith("test.geojson: 4 of 5 geometries refused: "
                                           "features[1].geometry: invalid geometry: ")
    assert not any("geom_25832" in p.reason or "repair_geometry" in p.reason
                   for p in refused.value.problems)


def test_many_features_in_order_with_repairs_and_notes(conn: Connection) -> None:
    features = [_polygon(_square()), _polygon(_bowtie(x=X + 300)),
                _polygon([[x, y, 5.0] for x, y in _straddling()])]
    taken = intake_polygons(conn, features, 25832, repair=True, limits=GeometryLimits())
    assert [p.municipality_ags for p in taken] == ["14713000", "14713000", "14730270"]
    assert [p.repaired for p in taken] == [False, True, False]
    assert [p.area_m2 for p in taken] == pytest.approx([10_000, 5_000, 58_000])
    assert taken[1].notes[0].startswith("repaired with ST_MakeValid: Self-intersection")
    assert taken[2].notes == (HEIGHT_DROPPED,)


def test_the_demo_loader_refuses_a_bad_parcel_by_its_index_and_writes_nothing(
        conn: Connection, settings: Settings, tmp_path: Path) -> None:
    demo = json.loads((settings.geodata_dir / "demo" / "parcels.geojson").read_text("utf-8"))
    first, second = demo["features"][:2]
    x, y = first["geometry"]["coordinates"][0][0][0]
    broken = {**second, "geometry": {"type": "MultiPolygon", "coordinates": [[_bowtie(x, y)]]}}
    path = tmp_path / "parcels.geojson"
    path.write_text(json.dumps({**demo, "features": [first, broken]}), encoding="utf-8")
    before = conn.execute(text("SELECT count(*), max(updated_at) FROM parcels")).one()
    with pytest.raises(InvalidInput) as refused:
        load_parcels(conn, path)
    assert [p.field for p in refused.value.problems] == ["features[1].geometry"]
    assert refused.value.detail.startswith("parcels.geojson: 1 of 2 geometries refused")
    assert conn.execute(text("SELECT count(*), max(updated_at) FROM parcels")).one() == before


def test_demo_outlines_are_stored_as_the_intake_makes_them(conn: Connection,
                                                           settings: Settings) -> None:
    # a site keeps the municipality its file names (it may be a partner's); parcels are
    # placed where the intake (and the trigger) locates them
    for name, table in (("sites", "sites"), ("parcels", "parcels")):
        data = json.loads((settings.geodata_dir / "demo" / f"{name}.geojson").read_text("utf-8"))
        sample = {f["properties"]["external_id"]: json.dumps(f["geometry"])
                  for f in data["features"][::25]}
        differing = conn.execute(text(f"""
            SELECT count(*) FROM {table} t
              JOIN jsonb_each_text(CAST(:sample AS jsonb)) s ON s.key = t.external_id
             CROSS JOIN LATERAL gefis_polygon_intake(s.value, 25832) i
             WHERE NOT ST_OrderingEquals(t.geom_25832, i.geom_25832)
                OR (:parcels AND t.district_ags IS DISTINCT FROM i.district_ags)"""),
            {"sample": json.dumps(sample), "parcels": table == "parcels"}).scalar_one()
        assert len(sample) > 5 and differing == 0, name
