"""Bad input to the parcel file import: one bad row among good ones rejects the whole file,
the stored report names that row and its field (``import_problems``), and the database is
as before (parcels, their history, sites). Every kind of bad cell, shape, file and option
has a case; a repaired geometry is the one that passes, with a note.

The files are CSV with WKT in EPSG:25832 (rows 1 and 2 good, row 3 the bad one), except
where the case is about the file itself.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pyproj import Transformer
from sqlalchemy import Connection, text

from app.domain.errors import GefisError
from app.services.imports.service import ImportRejected
from app.settings import Settings
from tests.test_import_parcels import (
    LEIPZIG,
    data_counts,
    error_problems,
    import_status,
    reject_file,
    row_actions,
    run_file,
    square_wkt,
    town_point,
    write_csv,
)

COLUMNS = ("WKT", "external_id", "site_name", "site_id", "category", "user_groups",
           "availability", "available_from", "net_area_ha", "restriction_level",
           "restriction_causes", "broadband_mbps")
#: A square of 200 m near Munich (EPSG:25832): far outside the region, inside UTM zone 32.
MUNICH_X, MUNICH_Y = (round(v) for v in Transformer.from_crs(4326, 25832, always_xy=True)
                      .transform(11.575, 48.137))


def _row(wkt: str, key: str, **cells: Any) -> list[Any]:
    values = {"WKT": wkt, "external_id": key, "site_name": "Importtest",
              "category": "erweiterungsflaeche", "user_groups": "logistik",
              "availability": "sofort", "net_area_ha": "3.5", "restriction_level": "gering",
              "restriction_causes": "altlasten", **cells}
    return [values.get(c, "") for c in COLUMNS]


def _file(conn: Connection, folder: Path, **bad: Any) -> Path:
    """Rows 1 and 2 good (4 ha squares in Leipzig), row 3 with the cells ``bad``; its
    ``WKT`` may place the shape with ``{x}``, ``{y}``, ``{x}+200``, ``{y}+200`` (the
    Leipzig point)."""
    x, y = town_point(conn, LEIPZIG)
    wkt = _expand(str(bad.pop("WKT", square_wkt(x + 600, y))), x, y)
    return write_csv(folder, [_row(square_wkt(x, y), "BAD-1"),
                              _row(square_wkt(x + 300, y), "BAD-2"),
                              _row(wkt, bad.pop("external_id", "BAD-3"), **bad)],
                     header=COLUMNS)


def _expand(wkt: str, x: float, y: float) -> str:
    """``{x}``, ``{y}``, ``{x}+200`` and ``{y}+200`` in ``wkt`` as numbers."""
    return (wkt.replace("{x}+200", str(x + 200)).replace("{y}+200", str(y + 200))
            .replace("{x}", str(x)).replace("{y}", str(y)))


#: case: (the bad cells of row 3, the problems expected: (row, field, code)).
CASES: dict[str, tuple[dict[str, Any], set[tuple[int | None, str, str]]]] = {
    "self-intersecting bow-tie": (
        {"WKT": "POLYGON(({x} {y},{x}+200 {y}+200,{x}+200 {y},{x} {y}+200,{x} {y}))"},
        {(3, "geometry", "invalid_geometry")}),
    "point": ({"WKT": "POINT({x} {y})"}, {(3, "geometry", "geometry_type")}),
    "line": ({"WKT": "LINESTRING({x} {y},{x} 5800000)"}, {(3, "geometry", "geometry_type")}),
    "unreadable WKT": ({"WKT": "POLYGON((1 2, 3"}, {(3, "geometry", "unreadable")}),
    "no geometry": ({"WKT": ""}, {(3, "geometry", "required")}),
    "outside the region (Munich)": ({"WKT": square_wkt(MUNICH_X, MUNICH_Y)},
                                    {(3, "geometry", "outside_region")}),
    "unknown category": ({"category": "foo"}, {(3, "category", "unknown_code")}),
    "one unknown user group": ({"user_groups": "logistik;foo"},
                               {(3, "user_groups", "unknown_code")}),
    "net above gross": ({"net_area_ha": "4.5"}, {(3, "net_area_ha", "not_above_gross")}),
    "impossible date": ({"available_from": "2021-02-30"},
                        {(3, "available_from", "unreadable")}),
    "implausible date": ({"available_from": "1850-01-01"},
                         {(3, "available_from", "implausible_date")}),
    "unreadable number": ({"net_area_ha": "3,5 ha"}, {(3, "net_area_ha", "unreadable")}),
    "unreadable integer": ({"broadband_mbps": "schnell"},
                           {(3, "broadband_mbps", "unreadable")}),
    "causes without restriction": ({"restriction_level": "keine"},
                                   {(3, "restriction_causes", "causes_without_restriction")}),
    "unknown site_id": ({"site_id": "999999", "site_name": ""},
                        {(3, "site_id", "unknown_site")}),
    "category missing for a new parcel": ({"category": ""}, {(3, "category", "required")}),
    "external_id twice in the file": ({"external_id": "BAD-1"},
                                      {(1, "external_id", "duplicate"),
                                       (3, "external_id", "duplicate")}),
}


@pytest.mark.parametrize("case", CASES)
def test_one_bad_row_rejects_the_file_and_the_report_names_its_row_and_field(
        conn: Connection, settings: Settings, tmp_path: Path, case: str) -> None:
    cells, expected = CASES[case]
    path = _file(conn, tmp_path, **cells)
    before = data_counts(conn)
    outcome = reject_file(conn, settings, path, crs_srid=25832)
    found = error_problems(conn, outcome.import_id)
    assert expected <= found  # (a row may have a further problem, e.g. a code "missing")
    assert {row for row, _, _ in found} == {row for row, _, _ in expected}
    actions = row_actions(conn, outcome.import_id)
    assert {n for n, (action, _) in actions.items() if action == "rejected"} == {
        row for row, _, _ in expected}
    assert outcome.counts["rejected"] == len({row for row, _, _ in expected})
    assert data_counts(conn) == before


def test_the_rejection_names_the_row_and_field_of_each_problem(
        conn: Connection, settings: Settings, tmp_path: Path) -> None:
    path = _file(conn, tmp_path, category="foo", available_from="2021-02-30")
    with pytest.raises(ImportRejected) as caught:
        run_file(conn, settings, path, crs_srid=25832)
    assert caught.value.status == 422
    assert {(p.field, p.code) for p in caught.value.problems} >= {
        ("rows[3].available_from", "unreadable"), ("rows[3].category", "unknown_code")}
    stored = conn.execute(text(
        "SELECT message FROM import_problems WHERE import_id = :id "
        "AND field = 'category' AND code = 'unknown_code'"),
        {"id": caught.value.outcome.import_id}).scalar_one()
    assert "„foo“" in stored


def test_a_bow_tie_is_repaired_on_request_and_the_report_notes_it(
        conn: Connection, settings: Settings, tmp_path: Path) -> None:
    path = _file(conn, tmp_path, WKT=CASES["self-intersecting bow-tie"][0]["WKT"],
                 net_area_ha="")
    outcome = run_file(conn, settings, path, crs_srid=25832, repair_geometry=True)
    assert outcome.counts["created"] == 3 and outcome.counts["notes"] == 1
    notes = conn.execute(text(
        "SELECT row_no, field, code, severity FROM import_problems WHERE import_id = :id"),
        {"id": outcome.import_id}).all()
    assert [tuple(n) for n in notes] == [(3, "geometry", "repaired", "note")]
    repaired = conn.execute(text(
        "SELECT ST_IsValid(geom_25832) AS valid, ST_NumGeometries(geom_25832) AS parts, "
        "round(gross_area_ha::numeric, 3) AS gross FROM parcels WHERE external_id = 'BAD-3'"
    )).one()
    assert repaired.valid and repaired.parts == 2 and float(repaired.gross) == 2.0


def test_coordinates_in_metres_declared_as_lon_lat_are_refused_with_a_hint_at_the_crs(
        conn: Connection, settings: Settings, tmp_path: Path) -> None:
    """A GeoJSON file declares EPSG:4326 (RFC 7946) but carries EPSG:25832 coordinates."""
    x, y = town_point(conn, LEIPZIG)
    ring = [[x, y], [x + 200, y], [x + 200, y + 200], [x, y + 200], [x, y]]
    path = tmp_path / "flaechen.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
         "properties": {"external_id": "CRS-1", "site_name": "Importtest",
                        "category": "erweiterungsflaeche", "user_groups": "logistik"}}]}))
    before = data_counts(conn)
    outcome = reject_file(conn, settings, path)
    assert error_problems(conn, outcome.import_id) == {(1, "geometry", "outside_region")}
    (message,) = [p["message"] for p in outcome.problems]
    assert "EPSG:4326" in message and "Koordinatensystem" in message
    assert data_counts(conn) == before


def test_a_sold_parcel_cannot_be_made_available_again(
        conn: Connection, settings: Settings, tmp_path: Path) -> None:
    sold = conn.execute(text(
        "SELECT external_id, ST_AsText(geom_25832) AS wkt FROM parcels WHERE district_ags = "
        "'14713' AND marketing_status = 'verkauft' ORDER BY id LIMIT 1")).one()
    path = write_csv(tmp_path, [[sold.wkt, sold.external_id, "verfuegbar"]],
                     header=("WKT", "external_id", "marketing_status"))
    before = data_counts(conn)
    outcome = reject_file(conn, settings, path, crs_srid=25832)
    assert error_problems(conn, outcome.import_id) == {(1, "marketing_status", "sold_is_final")}
    assert data_counts(conn) == before


def test_a_parcel_of_a_withdrawn_site_cannot_be_marketed_again_by_a_file(
        conn: Connection, settings: Settings, tmp_path: Path) -> None:
    """The database refuses a marketed parcel on a withdrawn site (migration 0005); a file
    asking for one is a problem of its row, not a failed import."""
    parcel = conn.execute(text(
        "SELECT p.external_id, ST_AsText(p.geom_25832) AS wkt FROM parcels p JOIN sites s "
        "ON s.id = p.site_id WHERE s.withdrawn_at IS NOT NULL "
        "AND p.marketing_status = 'zurueckgezogen' ORDER BY p.id LIMIT 1")).one()
    path = write_csv(tmp_path, [[parcel.wkt, parcel.external_id, "verfuegbar"]],
                     header=("WKT", "external_id", "marketing_status"))
    before = data_counts(conn)
    outcome = reject_file(conn, settings, path, crs_srid=25832)
    assert error_problems(conn, outcome.import_id) == {(1, "site_id", "withdrawn_site")}
    assert data_counts(conn) == before


@pytest.mark.parametrize(("header", "missing"), [
    (("WKT", "site_name", "category", "user_groups"), "external_id"),
    (("external_id", "site_name", "category", "user_groups"), "geometry")],
    ids=["external_id", "geometry"])
def test_a_file_without_a_required_column_is_rejected(
        conn: Connection, settings: Settings, tmp_path: Path, header: tuple[str, ...],
        missing: str) -> None:
    x, y = town_point(conn, LEIPZIG)
    cells = {"WKT": square_wkt(x, y), "external_id": "COL-1", "site_name": "Importtest",
             "category": "erweiterungsflaeche", "user_groups": "logistik"}
    path = write_csv(tmp_path, [[cells[c] for c in header]], header=header)
    before = data_counts(conn)
    outcome = reject_file(conn, settings, path, crs_srid=25832)
    assert (None, missing, "missing_column") in error_problems(conn, outcome.import_id)
    assert data_counts(conn) == before


def test_a_mapping_to_an_unknown_field_is_rejected(
        conn: Connection, settings: Settings, tmp_path: Path) -> None:
    path = _file(conn, tmp_path)
    before = data_counts(conn)
    outcome = reject_file(conn, settings, path, crs_srid=25832,
                          mapping={"broadband_mbps": "bandwidth"})
    assert error_problems(conn, outcome.import_id) == {(None, "mapping", "unknown_field")}
    assert data_counts(conn) == before


@pytest.mark.parametrize("name", ["flaechen.dxf", "flaechen"])
def test_an_unsupported_file_format_is_refused_before_any_row(
        conn: Connection, settings: Settings, tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text("0\nSECTION\n")
    before = data_counts(conn)
    with pytest.raises(GefisError) as caught:
        run_file(conn, settings, path, crs_srid=25832)
    assert caught.value.status == 422
    assert [(p.field, p.code) for p in caught.value.problems] == [("file",
                                                                   "unsupported_format")]
    import_id = conn.execute(text("SELECT max(id) FROM imports")).scalar_one()
    assert import_status(conn, import_id) == "rejected"
    assert data_counts(conn) == before
