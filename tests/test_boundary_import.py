"""Boundary import (issue 16, part 3): a new Gebietsstand from an official boundary file.

The files are made in the tests from the stored 2016 boundaries (BKG VG250, the demo's):
written by pyogrio as a GeoPackage in EPSG:25832 with VG250's layer and field names, and
turned by GDAL's ``ogr2ogr`` into zipped Shapefiles in EPSG:4326. The merger the tests
import is Lützen (15084315) into Weißenfels (15084550), both Burgenlandkreis: Lützen is
left out, Weißenfels's geometry is the ``ST_Union`` of both. Lützen has parcels, sites,
land sales, and partner shares in two intermunicipal sites with Weißenfels.

Every test runs in the test's rolled-back transaction (``conn``, ``clients``).
"""

from __future__ import annotations

import subprocess
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio
import pytest
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from app.domain.errors import Conflict
from app.services.boundary_import import BoundaryImportOptions, import_boundaries
from tests.resource_client import Client, problem_fields

LUETZEN, WEISSENFELS = "15084315", "15084550"
#: A third partner of an intermunicipal site with Lützen and Weißenfels (Teuchern).
TEUCHERN = "15084490"
VALID_FROM = date(2021, 1, 1)
SOURCE_2021 = "BKG VG250, Gebietsstand 01.01.2021"
REASON = f"Gebietsstand 01.01.2021: Gemeinde {LUETZEN} → {WEISSENFELS}"
IMPORTS = "/api/v1/boundaries/imports"

DISTRICTS = "SELECT ags, name, geom_25832 FROM districts"
MUNICIPALITIES = "SELECT ags, name, geom_25832 FROM municipalities"
#: Lützen merged into Weißenfels.
MERGED = f"""
    SELECT m.ags, m.name, CASE WHEN m.ags = '{WEISSENFELS}'
                               THEN ST_Multi(ST_Union(m.geom_25832, o.geom_25832))
                               ELSE m.geom_25832 END
      FROM municipalities m, (SELECT geom_25832 FROM municipalities WHERE ags = '{LUETZEN}') o
     WHERE m.ags <> '{LUETZEN}'"""
#: Lützen left out, nobody takes its area.
WITHOUT_LUETZEN = f"{MUNICIPALITIES} WHERE ags <> '{LUETZEN}'"
#: Lützen shrunk to a disc of 300 m around an inner point: its parcels fall outside.
SHRUNK = f"""
    SELECT ags, name, CASE WHEN ags = '{LUETZEN}'
                           THEN ST_Multi(ST_Buffer(ST_PointOnSurface(geom_25832), 300))
                           ELSE geom_25832 END
      FROM municipalities"""
#: Flensburg: a district (and a municipality) outside the region, about 1 km².
FLENSBURG = "ST_Multi(ST_Buffer(ST_Transform(ST_SetSRID(ST_Point(9.43, 54.78), 4326), 25832), 560))"


@dataclass(frozen=True)
class Layer:
    """A layer of a test file: its name, the SQL of its rows (AGS, name, geometry in
    EPSG:25832, and the Geofaktor unless ``gf`` gives it) and the names of its fields."""

    name: str
    query: str
    fields: tuple[str, str, str] = ("AGS", "GEN", "GF")
    gf: int | None = 4


def write_gpkg(conn: Connection, path: Path, *layers: Layer, srid: int = 25832) -> Path:
    """A GeoPackage with ``layers`` in EPSG:``srid``, written by pyogrio (GDAL)."""
    for layer in layers:
        gf = ("q.gf", "(ags, name, geom, gf)") if layer.gf is None else \
            (str(layer.gf), "(ags, name, geom)")
        rows = conn.execute(text(
            f"SELECT q.ags, q.name, ST_AsBinary(ST_Transform(q.geom, {srid})), {gf[0]} "
            f"FROM ({layer.query}) AS q{gf[1]} ORDER BY 1, 4 DESC")).all()
        geometry = np.array([None if r[2] is None else bytes(r[2]) for r in rows],
                            dtype=object)
        values = [np.array([r[0] for r in rows], dtype=object),
                  np.array([r[1] for r in rows], dtype=object),
                  np.array([r[3] for r in rows], dtype=np.int32)]
        pyogrio.raw.write(path, geometry, values, list(layer.fields), layer=layer.name,
                          driver="GPKG", crs=f"EPSG:{srid}", geometry_type="MultiPolygon",
                          append=path.exists())
    return path


def zipped_shapefiles(gpkg: Path, out: Path, srid: int = 4326) -> Path:
    """The layers of ``gpkg`` as Shapefiles in EPSG:``srid`` (by ``ogr2ogr``), zipped in a
    folder as BKG ships them."""
    folder = out.parent / f"{out.stem}.shapes"
    folder.mkdir()
    subprocess.run(["ogr2ogr", "-f", "ESRI Shapefile", "-t_srs", f"EPSG:{srid}",
                    str(folder), str(gpkg)], check=True, capture_output=True, timeout=120)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for member in sorted(folder.iterdir()):
            archive.write(member, f"vg250_ebenen_0101/{member.name}")
    return out


@dataclass(frozen=True)
class Files:
    """The test files, made once per module from the committed demo boundaries."""

    unchanged_gpkg: Path
    unchanged_zip: Path
    merged_gpkg: Path
    merged_zip: Path


@pytest.fixture(scope="module")
def files(engine: Engine, demo_loaded: dict[str, int],
          tmp_path_factory: pytest.TempPathFactory) -> Files:
    folder = tmp_path_factory.mktemp("boundaries")
    with engine.connect() as conn:
        unchanged = write_gpkg(conn, folder / "vg250_2016.gpkg",
                               Layer("VG250_KRS", DISTRICTS), Layer("VG250_GEM", MUNICIPALITIES))
        merged = write_gpkg(conn, folder / "vg250_2021.gpkg",
                            Layer("VG250_KRS", DISTRICTS), Layer("VG250_GEM", MERGED))
    return Files(unchanged, zipped_shapefiles(unchanged, folder / "vg250_2016.utm32s.shape.zip"),
                 merged, zipped_shapefiles(merged, folder / "vg250_2021.utm32s.shape.zip"))


def state(conn: Connection) -> dict[str, Any]:
    """Everything a boundary import may change: counts, and digests of the rows."""
    queries = {
        "districts": "SELECT md5(string_agg(ags || name || boundary_source || "
                     "ST_AsEWKB(geom_25832)::text, ',' ORDER BY ags)) FROM districts",
        "municipalities": "SELECT md5(string_agg(ags || name || boundary_source || "
                          "ST_AsEWKB(geom_25832)::text, ',' ORDER BY ags)) FROM municipalities",
        "parcels": "SELECT md5(string_agg(id || municipality_ags || version, ',' ORDER BY id)) "
                   "FROM parcels",
        "sites": "SELECT md5(string_agg(id || municipality_ags || version, ',' ORDER BY id)) "
                 "FROM sites",
        "site_partners": "SELECT md5(string_agg(site_id || municipality_ags || share_pct, ',' "
                         "ORDER BY site_id, municipality_ags)) FROM site_partners",
        "land_sales": "SELECT md5(string_agg(id || coalesce(municipality_ags, '-') || version, "
                      "',' ORDER BY id)) FROM land_sales",
        **{table: f"SELECT count(*) FROM {table}" for table in (
            "parcel_history", "boundary_versions", "boundary_imports", "municipality_mergers")},
    }
    return {name: conn.execute(text(query)).scalar_one() for name, query in queries.items()}


def run(conn: Connection, path: Path, **options: Any) -> dict[str, Any]:
    """``import_boundaries`` on the test's connection."""
    return import_boundaries(conn, path, BoundaryImportOptions(file_name=path.name, **options))


def ids(conn: Connection, query: str, **params: Any) -> list[int]:
    return list(conn.execute(text(query), params).scalars())


# --- an unchanged state changes nothing -----------------------------------------------------

@pytest.mark.parametrize("kind", ["unchanged_gpkg", "unchanged_zip"])
def test_reimporting_the_stored_state_reports_everything_unchanged_and_writes_nothing(
        conn: Connection, files: Files, kind: str) -> None:
    before = state(conn)
    report = run(conn, getattr(files, kind), valid_from=VALID_FROM)
    assert report["changed"] is False and report["import_id"] is None
    assert report["districts"]["counts"] == {
        "inserted": 0, "changed": 0, "unchanged": 9, "merged": 0, "ignored_outside_region": 0,
        "skipped_not_land": 0}
    assert report["municipalities"]["counts"]["unchanged"] == 187
    assert report["parcels"] == {"count": 0, "changes": []}
    crs = "EPSG:25832" if kind.endswith("gpkg") else "EPSG:4326"
    assert report["file"]["layers"]["municipalities"]["crs"] == crs
    assert state(conn) == before


def test_water_parts_and_other_districts_are_skipped_and_counted(
        conn: Connection, tmp_path: Path) -> None:
    """A Germany-wide file: Flensburg's district and municipality are ignored; a water part
    (GF 2) of Weißenfels as large as its district is skipped, so nothing changes."""
    path = write_gpkg(
        conn, tmp_path / "vg250.gpkg",
        Layer("VG250_KRS", f"{DISTRICTS} UNION ALL SELECT '01001', 'Flensburg', {FLENSBURG}"),
        Layer("VG250_GEM", f"SELECT ags, name, geom_25832, 4 FROM municipalities UNION ALL "
                           f"SELECT '01001000', 'Flensburg', {FLENSBURG}, 4 UNION ALL "
                           f"SELECT '{WEISSENFELS}', 'Weißenfels', geom_25832, 2 FROM districts "
                           "WHERE ags = '15084'", gf=None))
    before = state(conn)
    report = run(conn, path, valid_from=VALID_FROM)
    assert report["changed"] is False
    assert report["districts"]["counts"]["ignored_outside_region"] == 1
    counts = report["municipalities"]["counts"]
    assert (counts["ignored_outside_region"], counts["skipped_not_land"]) == (1, 1)
    assert counts["unchanged"] == 187
    assert state(conn) == before


# --- a merger ----------------------------------------------------------------------------------

@pytest.fixture
def luetzen(conn: Connection) -> dict[str, Any]:
    """What points at Lützen before the import."""
    partners = conn.execute(text(
        "SELECT site_id, municipality_ags, share_pct FROM site_partners WHERE site_id IN "
        "(SELECT site_id FROM site_partners WHERE municipality_ags = :a) ORDER BY 1, 2"),
        {"a": LUETZEN}).all()
    found = {
        "parcels": ids(conn, "SELECT id FROM parcels WHERE municipality_ags = :a ORDER BY id",
                       a=LUETZEN),
        "sites": ids(conn, "SELECT id FROM sites WHERE municipality_ags = :a ORDER BY id",
                     a=LUETZEN),
        "land_sales": ids(conn, "SELECT id FROM land_sales WHERE municipality_ags = :a "
                                "ORDER BY id", a=LUETZEN),
        "partners": partners,
        "geometry": conn.execute(text("SELECT ST_AsEWKB(geom_25832) FROM municipalities "
                                      "WHERE ags = :a"), {"a": LUETZEN}).scalar_one(),
        "history": conn.execute(text("SELECT count(*) FROM parcel_history")).scalar_one(),
    }
    assert found["parcels"] and found["sites"] and found["land_sales"], "demo data changed"
    assert {p.site_id for p in partners if p.municipality_ags == WEISSENFELS}, "demo changed"
    return found


def expected_partners(partners: list[Any]) -> dict[int, dict[str, float]]:
    """Partner shares after Lützen merged into Weißenfels (shares of one site added up)."""
    out: dict[int, dict[str, float]] = {}
    for p in partners:
        ags = WEISSENFELS if p.municipality_ags == LUETZEN else p.municipality_ags
        shares = out.setdefault(p.site_id, {})
        shares[ags] = shares.get(ags, 0.0) + float(p.share_pct)
    return out


def partners_now(conn: Connection, sites: set[int]) -> dict[int, dict[str, float]]:
    out: dict[int, dict[str, float]] = {}
    for row in conn.execute(text(
            "SELECT site_id, municipality_ags, share_pct FROM site_partners "
            "WHERE site_id = ANY (:s)"), {"s": sorted(sites)}):
        out.setdefault(row.site_id, {})[row.municipality_ags] = float(row.share_pct)
    return out


def test_a_merger_repoints_everything_to_the_successor_and_keeps_the_old_state(
        conn: Connection, files: Files, luetzen: dict[str, Any]) -> None:
    report = run(conn, files.merged_gpkg, source=SOURCE_2021)
    import_id = report["import_id"]
    assert import_id is not None and report["valid_from"] == "2021-01-01"
    municipalities = report["municipalities"]
    [merged] = municipalities["merged"]
    assert (merged["ags"], merged["successor_ags"], merged["successor_name"]) == (
        LUETZEN, WEISSENFELS, "Weißenfels")
    assert merged["share_of_area"] == pytest.approx(1.0, abs=1e-6)
    assert [c["ags"] for c in municipalities["changed"]] == [WEISSENFELS]
    assert municipalities["counts"]["unchanged"] == 185
    assert report["districts"]["counts"]["unchanged"] == 9

    # the old AGS is gone, everything that pointed at it points at the successor
    assert conn.execute(text("SELECT count(*) FROM municipalities WHERE ags = :a"),
                        {"a": LUETZEN}).scalar_one() == 0
    moved = luetzen["parcels"]
    assert ids(conn, "SELECT id FROM parcels WHERE id = ANY (:p) AND municipality_ags = :w "
                     "AND district_ags = '15084' ORDER BY id", p=moved, w=WEISSENFELS) == moved
    assert report["parcels"] == {"count": len(moved), "changes": [
        {"from": LUETZEN, "to": WEISSENFELS, "count": len(moved), "ids": moved}]}
    assert ids(conn, "SELECT id FROM sites WHERE id = ANY (:s) AND municipality_ags = :w "
                     "ORDER BY id", s=luetzen["sites"], w=WEISSENFELS) == luetzen["sites"]
    assert [s["id"] for s in report["sites"]] == luetzen["sites"]
    assert ids(conn, "SELECT id FROM land_sales WHERE id = ANY (:s) AND municipality_ags = :w "
                     "ORDER BY id", s=luetzen["land_sales"], w=WEISSENFELS) == luetzen["land_sales"]
    assert [s["id"] for s in report["land_sales"]] == luetzen["land_sales"]
    expected = expected_partners(luetzen["partners"])
    assert partners_now(conn, set(expected)) == expected
    assert set(report["site_partners"]) == set(expected)

    # the parcels' history says why, once per parcel, and nothing else was written
    history = conn.execute(text(
        "SELECT parcel_id, reason, changes FROM parcel_history WHERE id > "
        "(SELECT max(id) - :n FROM parcel_history) ORDER BY parcel_id"),
        {"n": len(moved)}).all()
    assert [h.parcel_id for h in history] == moved
    assert all(h.reason.startswith(REASON) for h in history)
    assert all(h.changes["municipality_ags"] == {"old": LUETZEN, "new": WEISSENFELS}
               for h in history)
    assert conn.execute(text("SELECT count(*) FROM parcel_history")).scalar_one() == (
        luetzen["history"] + len(moved))

    # the old states are kept, dated, and cannot be changed
    versions = conn.execute(text(
        "SELECT ags, change, successor_ags, valid_from, valid_to, source, import_id, "
        "ST_AsEWKB(geom_25832) AS geom FROM boundary_versions WHERE import_id = :i "
        "ORDER BY ags"), {"i": import_id}).all()
    assert [(v.ags, v.change, v.successor_ags) for v in versions] == [
        (LUETZEN, "merged", WEISSENFELS), (WEISSENFELS, "changed", None)]
    assert versions[0].geom == luetzen["geometry"]
    assert {(v.valid_from, v.valid_to) for v in versions} == {(date(2016, 1, 1), VALID_FROM)}
    assert versions[0].source == "BKG VG250, Gebietsstand 01.01.2016"
    assert conn.execute(text(
        "SELECT old_ags, new_ags, effective_from, import_id FROM municipality_mergers")).all() == [
        (LUETZEN, WEISSENFELS, VALID_FROM, import_id)]
    assert conn.execute(text("SELECT source, valid_from, report -> 'municipalities' -> 'merged' "
                             "FROM boundary_imports WHERE id = :i"), {"i": import_id}).one() == (
        SOURCE_2021, VALID_FROM, municipalities["merged"])
    for statement in ("UPDATE boundary_versions SET valid_to = valid_to + 1",
                      "DELETE FROM municipality_mergers", "DELETE FROM boundary_imports"):
        with pytest.raises(DBAPIError, match="append-only"), conn.begin_nested():
            conn.execute(text(statement))

    # the same file again: nothing left to do
    before = state(conn)
    again = run(conn, files.merged_gpkg, source=SOURCE_2021)
    assert again["changed"] is False and again["municipalities"]["counts"]["unchanged"] == 186
    assert state(conn) == before


def test_a_dry_run_reports_the_merger_and_changes_nothing(
        conn: Connection, files: Files, luetzen: dict[str, Any]) -> None:
    before = state(conn)
    report = run(conn, files.merged_zip, valid_from=VALID_FROM, dry_run=True)
    assert report["dry_run"] is True and report["import_id"] is None and report["changed"]
    assert [m["ags"] for m in report["municipalities"]["merged"]] == [LUETZEN]
    assert report["parcels"]["count"] == len(luetzen["parcels"])
    assert state(conn) == before


def test_a_municipality_given_in_parts_is_united(conn: Connection, tmp_path: Path) -> None:
    """Weißenfels as two features (its own area and Lützen's, both with its AGS) is one
    municipality: the same merger as with the united shape."""
    parts = f"""
        SELECT CASE WHEN ags = '{LUETZEN}' THEN '{WEISSENFELS}' ELSE ags END,
               CASE WHEN ags = '{LUETZEN}' THEN 'Weißenfels' ELSE name END, geom_25832
          FROM municipalities"""
    path = write_gpkg(conn, tmp_path / "teile.gpkg", Layer("VG250_KRS", DISTRICTS),
                      Layer("VG250_GEM", parts))
    report = run(conn, path, valid_from=VALID_FROM, dry_run=True)
    [merged] = report["municipalities"]["merged"]
    assert (merged["ags"], merged["successor_ags"]) == (LUETZEN, WEISSENFELS)
    assert merged["share_of_area"] == pytest.approx(1.0, abs=1e-6)
    [changed] = report["municipalities"]["changed"]
    assert changed["area_km2_after"] == pytest.approx(
        conn.execute(text("SELECT sum(area_km2) FROM municipalities WHERE ags IN (:a, :b)"),
                     {"a": LUETZEN, "b": WEISSENFELS}).scalar_one(), abs=1e-4)


def test_parcels_that_would_leave_the_region_reject_the_file(
        conn: Connection, tmp_path: Path, luetzen: dict[str, Any]) -> None:
    path = write_gpkg(conn, tmp_path / "shrunk.gpkg", Layer("VG250_KRS", DISTRICTS),
                      Layer("VG250_GEM", SHRUNK))
    before = state(conn)
    with pytest.raises(Conflict) as refused:
        run(conn, path, valid_from=VALID_FROM)
    [problem] = refused.value.problems
    assert problem.field == "file" and "außerhalb der Region" in problem.reason
    assert str(luetzen["parcels"][0]) in problem.reason
    assert state(conn) == before


# --- refused files (through the API, as an admin) ------------------------------------------

def _bad_files(conn: Connection, folder: Path) -> Iterator[tuple[str, bytes, dict[str, str],
                                                                 int, str, str]]:
    """(case, file content, query, status, field, part of the reason)."""
    gpkg = write_gpkg(conn, folder / "no_ags.gpkg",
                      Layer("VG250_KRS", DISTRICTS, ("KEY", "GEN", "GF")),
                      Layer("VG250_GEM", MUNICIPALITIES))
    yield "missing AGS column", gpkg.read_bytes(), {}, 422, "VG250_KRS.AGS", "Spalte AGS"
    gpkg = write_gpkg(conn, folder / "elsewhere.gpkg",
                      Layer("VG250_KRS", f"SELECT '01001', 'Flensburg', {FLENSBURG}"),
                      Layer("VG250_GEM", f"SELECT '01001000', 'Flensburg', {FLENSBURG}"))
    yield "districts outside the region only", gpkg.read_bytes(), {}, 422, "VG250_KRS.AGS", \
        "keine Objekte der Region"
    gpkg = write_gpkg(conn, folder / "hole.gpkg", Layer("VG250_KRS", DISTRICTS),
                      Layer("VG250_GEM", WITHOUT_LUETZEN))
    yield "unmatched missing municipality", gpkg.read_bytes(), {}, 422, "VG250_GEM.AGS", \
        f"Gemeinde {LUETZEN} (Lützen) fehlt"
    gpkg = write_gpkg(conn, folder / "short_ags.gpkg", Layer("VG250_KRS", DISTRICTS),
                      Layer("VG250_GEM", f"SELECT left(ags, 5), name, geom_25832 "
                                         f"FROM municipalities WHERE ags = '{LUETZEN}'"))
    yield "AGS of the wrong length", gpkg.read_bytes(), {}, 422, "VG250_GEM[0].AGS", \
        "kein 8-stelliger"
    position = conn.execute(text("SELECT count(*) FROM municipalities WHERE ags < :a"),
                            {"a": LUETZEN}).scalar_one()
    gpkg = write_gpkg(conn, folder / "no_geometry.gpkg", Layer("VG250_KRS", DISTRICTS),
                      Layer("VG250_GEM", f"SELECT ags, name, CASE WHEN ags <> '{LUETZEN}' "
                                         "THEN geom_25832 END FROM municipalities UNION ALL "
                                         f"SELECT '01001000', 'Flensburg', {FLENSBURG}"))
    # the place in the file counts Flensburg (first by AGS), which the import leaves out
    yield "a feature without geometry", gpkg.read_bytes(), {}, 422, \
        f"VG250_GEM[{position + 1}].geometry", "not a GeoJSON geometry"
    gpkg = write_gpkg(conn, folder / "no_name.gpkg", Layer("VG250_KRS", DISTRICTS),
                      Layer("VG250_GEM", f"SELECT ags, CASE WHEN ags <> '{LUETZEN}' THEN name "
                                         "END, geom_25832 FROM municipalities"))
    yield "a municipality without name", gpkg.read_bytes(), {}, 422, \
        f"VG250_GEM[{position}].GEN", f"Gemeinde {LUETZEN} hat keinen Namen"
    gpkg = write_gpkg(conn, folder / "names.gpkg", Layer("kreise", DISTRICTS),
                      Layer("gemeinden", MUNICIPALITIES))
    yield "layer missing", gpkg.read_bytes(), {"districts_layer": "kreise"}, 422, \
        "municipalities_layer", "Ebene 'VG250_GEM' fehlt"
    plain = write_gpkg(conn, folder / "plain.gpkg", Layer("VG250_KRS", DISTRICTS),
                       Layer("VG250_GEM", MUNICIPALITIES))
    shapes = zipped_shapefiles(plain, folder / "plain.zip")
    with zipfile.ZipFile(shapes) as source, \
            zipfile.ZipFile(folder / "no_prj.zip", "w") as target:
        for member in source.namelist():
            if not member.endswith("VG250_KRS.prj"):
                target.writestr(member, source.read(member))
    yield "Shapefile without .prj", (folder / "no_prj.zip").read_bytes(), {}, 422, \
        "VG250_KRS.crs", "kein Koordinatenbezugssystem"
    yield "unreadable GeoPackage", b"SQLite format 3\x00" + bytes(range(256)) * 8, {}, 422, \
        "file", "nicht lesbar"
    yield "broken ZIP", b"PK\x03\x04" + b"\x00" * 100, {}, 422, "file", "nicht lesbar"
    yield "wrong file type", "AGS;GEN\n15084315;Lützen\n".encode(), {}, 415, "file", \
        "weder GeoPackage"
    gpkg = write_gpkg(conn, folder / "good.gpkg", Layer("VG250_KRS", DISTRICTS),
                      Layer("VG250_GEM", MERGED))
    yield "Gebietsstand older than the stored one", gpkg.read_bytes(), \
        {"valid_from": "2015-12-31"}, 422, "valid_from", "vor dem gespeicherten"


@pytest.mark.filterwarnings("ignore:.*(application_id|not a database).*:RuntimeWarning")
def test_bad_files_are_refused_whole_naming_the_field(
        conn: Connection, clients: dict[str, Client], tmp_path: Path) -> None:
    admin = clients["admin"]
    before = state(conn)
    for case, content, query, status, field, reason in _bad_files(conn, tmp_path):
        response = admin.http.post(IMPORTS, params=query, headers=admin.headers,
                                   files={"file": ("vg250.gpkg", content)})
        assert problem_fields(response, status) == [field], (case, response.text)
        assert reason in response.json()["errors"][0]["reason"], (case, response.text)
        assert state(conn) == before, case


def test_only_admins_import_boundaries(conn: Connection, clients: dict[str, Client],
                                       files: Files) -> None:
    before = state(conn)
    content = files.merged_gpkg.read_bytes()
    for role, status in (("public", 401), ("analyst", 403), ("editor", 403),
                         ("editor_halle", 403)):
        client = clients[role]
        response = client.http.post(IMPORTS, headers=client.headers,
                                    files={"file": ("vg250.gpkg", content)})
        problem_fields(response, status)
        assert client.get("/boundaries/imports").status_code == status, role
    assert state(conn) == before


def test_an_admin_imports_zipped_shapefiles_and_reads_the_import_back(
        conn: Connection, clients: dict[str, Client], files: Files,
        luetzen: dict[str, Any]) -> None:
    admin = clients["admin"]
    dry = admin.http.post(IMPORTS, params={"dry_run": "true", "source": SOURCE_2021},
                          headers=admin.headers,
                          files={"file": (files.merged_zip.name, files.merged_zip.read_bytes(),
                                          "application/zip")})
    assert dry.status_code == 200, dry.text
    assert dry.json()["dry_run"] is True and dry.json()["import_id"] is None
    response = admin.http.post(IMPORTS, params={"source": SOURCE_2021}, headers=admin.headers,
                               files={"file": (files.merged_zip.name,
                                               files.merged_zip.read_bytes(),
                                               "application/zip")})
    assert response.status_code == 201, response.text
    report = response.json()
    assert report["file"] == {"name": files.merged_zip.name, "format": "Shapefile (ZIP)",
                              "layers": {"districts": {"name": "VG250_KRS",
                                                       "crs": "EPSG:4326", "features": 9},
                                         "municipalities": {"name": "VG250_GEM",
                                                            "crs": "EPSG:4326",
                                                            "features": 186}}}
    assert {k: v for k, v in report.items() if k != "dry_run" and k != "import_id"} == {
        k: v for k, v in dry.json().items() if k != "dry_run" and k != "import_id"}
    assert report["parcels"]["count"] == len(luetzen["parcels"])
    assert [m["successor_ags"] for m in report["municipalities"]["merged"]] == [WEISSENFELS]
    stored = admin.http.get(response.headers["Location"], headers=admin.headers)
    assert stored.status_code == 200 and stored.json()["report"] == report
    assert stored.json()["actor"].endswith(":test-admin")
    assert stored.json()["valid_from"] == "2021-01-01"
    listing = admin.get("/boundaries/imports").json()
    assert listing["items"][0]["id"] == report["import_id"]
    assert listing["items"][0]["municipalities"]["merged"] == 1
    problem_fields(admin.get(f"/boundaries/imports/{report['import_id'] + 1}"), 404)


def test_layers_may_be_named(conn: Connection, clients: dict[str, Client],
                             tmp_path: Path) -> None:
    path = write_gpkg(conn, tmp_path / "eigene.gpkg", Layer("kreise", DISTRICTS),
                      Layer("gemeinden", MERGED))
    admin = clients["admin"]
    response = admin.http.post(
        IMPORTS, params={"districts_layer": "Kreise", "municipalities_layer": "GEMEINDEN",
                         "valid_from": "2021-01-01"},
        headers=admin.headers, files={"file": ("eigene.gpkg", path.read_bytes())})
    assert response.status_code == 201, response.text
    assert response.json()["file"]["layers"]["municipalities"]["name"] == "gemeinden"
    assert response.json()["source"] == "eigene.gpkg, Gebietsstand 01.01.2021"
    assert [m["ags"] for m in response.json()["municipalities"]["merged"]] == [LUETZEN]
