"""Round trips and coordinate systems of the parcel file import.

- Every demo parcel, exported by ``GET /api/v1/exports/parcels.{format}`` (as an admin, in
  EPSG:25832: GeoPackage, zipped Shapefile, FlatGeobuf, CSV and XLSX with WKT) and read
  back as a dry run, is ``unchanged``: nothing created, updated or rejected. The GeoJSON
  round trip goes through EPSG:4326 with RFC 7946's 7 decimals (about 1 cm), written by
  GDAL from the GeoPackage.
- One 10 ha square, written in EPSG:25832, EPSG:25833 and EPSG:4326 (its vertices
  transformed) and EPSG:31468 (Gauss-Krüger zone 4), is stored as the same shape
  (Hausdorff distance below 1 cm) with a gross area of 10 ha ± 0.005 ha, whichever file it
  came from.
"""

from __future__ import annotations

import math
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio
import pyogrio.raw
import pytest
import shapely
from pyproj import Transformer
from sqlalchemy import Connection, text

from app.services.imports.service import ImportOutcome, ImportRejected
from app.settings import Settings
from tests.resource_client import Client
from tests.test_import_parcels import (
    LEIPZIG,
    counts,
    import_status,
    row_actions,
    run_file,
    town_point,
)

#: The export formats read back, and the import options they need (CSV and XLSX carry WKT
#: without a CRS).
FORMATS: dict[str, dict[str, Any]] = {"gpkg": {}, "shp.zip": {}, "fgb": {}, "csv": {"crs_srid": 25832},
           "xlsx": {"crs_srid": 25832}}
SIDE_10_HA = math.sqrt(100_000.0)


def _export(client: Client, fmt: str, folder: Path) -> Path:
    response = client.get(f"/exports/parcels.{fmt}", crs="EPSG:25832")
    assert response.status_code == 200, response.text
    path = folder / response.headers["content-disposition"].split('"')[1]
    path.write_bytes(response.content)
    return path


def _features(path: Path) -> int:
    return int(pyogrio.read_info(path, layer=0, force_feature_count=True)["features"])


def _dry_run(conn: Connection, settings: Settings, path: Path, **options: Any
             ) -> ImportOutcome:
    """The outcome of a dry run of ``path`` (a rejection's too, to show its problems)."""
    try:
        return run_file(conn, settings, path, dry_run=True, **options)
    except ImportRejected as rejected:
        return rejected.outcome


def _assert_all_unchanged(conn: Connection, outcome: ImportOutcome, n: int) -> None:
    problems = Counter((p["field"], p["code"]) for p in outcome.problems)
    assert counts(outcome) == {"created": 0, "updated": 0, "unchanged": n, "rejected": 0,
                               "problems": 0}, (problems, outcome.problems[:3])
    assert outcome.status == "checked"
    actions = row_actions(conn, outcome.import_id)
    assert len(actions) == n and {a for a, _ in actions.values()} == {"unchanged"}


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_exported_file_read_back_changes_nothing(
        clients: dict[str, Client], conn: Connection, settings: Settings, tmp_path: Path,
        fmt: str) -> None:
    path = _export(clients["admin"], fmt, tmp_path)
    parcels = conn.execute(text("SELECT count(*) FROM parcels")).scalar_one()
    assert _features(path) == parcels > 600
    outcome = _dry_run(conn, settings, path, **FORMATS[fmt])
    _assert_all_unchanged(conn, outcome, parcels)


def test_a_geojson_in_lon_lat_with_rfc7946_precision_read_back_changes_nothing(
        clients: dict[str, Client], conn: Connection, settings: Settings,
        tmp_path: Path) -> None:
    gpkg = _export(clients["admin"], "gpkg", tmp_path)
    meta, _, geometry, values = pyogrio.raw.read(gpkg)
    path = tmp_path / "flaechen.geojson"
    pyogrio.raw.write(path, geometry, values, meta["fields"], driver="GeoJSON",
                      geometry_type=meta["geometry_type"], crs=meta["crs"],
                      layer_options={"RFC7946": "YES"})  # GDAL transforms to EPSG:4326
    info = pyogrio.read_info(path)
    assert info["crs"] == "EPSG:4326" and info["features"] == len(geometry)
    assert '"coordinates": [ [ [ [ 12.' in path.read_text()[:100_000]  # lon/lat, 7 decimals
    outcome = _dry_run(conn, settings, path)
    _assert_all_unchanged(conn, outcome, len(geometry))


# --- one square in three coordinate systems --------------------------------------------------


def _square_25832(conn: Connection) -> list[tuple[float, float]]:
    """The corners (closed ring) of a 10 ha square in Leipzig, EPSG:25832."""
    x, y = town_point(conn, LEIPZIG)
    return [(x, y), (x + SIDE_10_HA, y), (x + SIDE_10_HA, y + SIDE_10_HA),
            (x, y + SIDE_10_HA), (x, y)]


def _write(path: Path, ring: list[tuple[float, float]], srid: int, key: str) -> Path:
    fields = (["externa_id", "site_name", "category", "user_group"]  # GEFIS's short names
              if path.suffix == ".shp" else ["external_id", "site_name", "category",
                                              "user_groups"])
    values = [np.array([v], dtype=object)
              for v in (key, "Quadrat", "erweiterungsflaeche", "logistik")]
    shape = shapely.Polygon(ring)
    driver = {".gpkg": "GPKG", ".geojson": "GeoJSON", ".shp": "ESRI Shapefile",
              ".fgb": "FlatGeobuf"}[path.suffix]
    pyogrio.raw.write(path, np.array([shapely.to_wkb(shape)], dtype=object), values, fields,
                      driver=driver, geometry_type="Polygon", crs=f"EPSG:{srid}")
    if path.suffix != ".shp":
        return path
    archive = path.with_suffix(".zip")
    with zipfile.ZipFile(archive, "w") as out:
        for part in path.parent.glob(path.stem + ".*"):
            if part != archive:
                out.write(part, part.name)
    return archive


def test_one_square_in_four_coordinate_systems_is_stored_as_one_shape_of_10_ha(
        conn: Connection, settings: Settings, tmp_path: Path) -> None:
    ring = _square_25832(conn)
    to_4326 = Transformer.from_crs(25832, 4326, always_xy=True)
    ring_4326 = [to_4326.transform(x, y) for x, y in ring]
    to_25833 = Transformer.from_crs(25832, 25833, always_xy=True)
    ring_25833 = [to_25833.transform(x, y) for x, y in ring]
    # Gauss-Krüger: transformed by PostGIS, as the import transforms back (pyproj and the
    # database's PROJ pick different DHDN→ETRS89 transformations, some 0.6 m apart here).
    ring_31468 = [conn.execute(text(
        "SELECT ST_X(g), ST_Y(g) FROM (SELECT ST_Transform(ST_SetSRID(ST_MakePoint(:x, :y), "
        "25832), 31468) AS g) t"), {"x": x, "y": y}).one()._tuple() for x, y in ring]
    files = {
        "SQ-25832": _write(tmp_path / "quadrat.gpkg", ring, 25832, "SQ-25832"),
        "SQ-4326": _write(tmp_path / "quadrat.geojson", ring_4326, 4326, "SQ-4326"),
        "SQ-25833": _write(tmp_path / "quadrat.fgb", ring_25833, 25833, "SQ-25833"),
        "SQ-31468": _write(tmp_path / "quadrat.shp", ring_31468, 31468, "SQ-31468"),
    }
    for key, path in files.items():
        outcome = run_file(conn, settings, path)
        assert counts(outcome)["created"] == 1, (key, outcome.problems)
        assert import_status(conn, outcome.import_id) == "imported"
        srid = int(key.split("-")[1])
        assert conn.execute(text("SELECT crs FROM imports WHERE id = :id"),
                            {"id": outcome.import_id}).scalar_one() == f"EPSG:{srid}"
    stored = conn.execute(text(
        "SELECT p.external_id, p.gross_area_ha, p.municipality_ags, "
        "ST_HausdorffDistance(p.geom_25832, q.geom_25832) AS off_m, "
        "ST_NPoints(p.geom_25832) AS points "
        "FROM parcels p, parcels q WHERE q.external_id = 'SQ-25832' "
        "AND p.external_id LIKE 'SQ-%' ORDER BY 1")).all()
    assert [r.external_id for r in stored] == ["SQ-25832", "SQ-25833", "SQ-31468", "SQ-4326"]
    for r in stored:
        assert r.off_m < 0.01, r
        assert r.gross_area_ha == pytest.approx(10.0, abs=0.005), r
        assert r.municipality_ags == LEIPZIG and r.points == 5
