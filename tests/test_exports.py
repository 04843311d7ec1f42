"""``GET /api/v1/exports/{layer}.{format}`` over HTTP (in-process, on the test's transaction):
a round trip for every format — a filtered set exported, read back with pyogrio (GDAL 3.12),
and compared with the database and the OGC items of the same collection: the same rows, the
same attribute values, each geometry's area (measured in EPSG:25832 after transforming from
the file's CRS) equal to its gross area within 0.01 ha, the CRS as asked. Then what the
public may not see, the Shapefile's names, umlauts and mapping, several layers in one
GeoPackage, the limits, bad input, and the temporary folder being removed (the stream of
rows from ``COPY`` is tested in ``tests/test_export_cli.py``).
"""

from __future__ import annotations

import csv
import io
import math
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pyogrio
import pyogrio.raw
import pytest
import shapely
from fastapi import FastAPI
from pyproj import Transformer
from sqlalchemy import Connection, text

from app.api import exports as exports_api
from app.db.queries.cql2_base import QueryableType
from app.domain.roles import PUBLIC_VIEWER, STAFF, Viewer
from app.services.exports import service as export_service
from app.services.exports.layers import parcel_columns
from tests.resource_client import Client, problem_fields

Q = QueryableType
MARKETED = "p.marketing_status IN ('verfuegbar', 'reserviert') AND s.withdrawn_at IS NULL"
INTERNAL = {"owner_name", "internal_notes", "suggested_restriction_causes", "public_fields"}
DISCLOSABLE = {"price_eur_m2", "noise_quota_db", "owner_type", "contact_name",
               "contact_email", "contact_phone"}

# --- reading a file back --------------------------------------------------------------------


def download(client: Client, name: str, folder: Path, **params: Any) -> tuple[httpx.Response,
                                                                             Path]:
    """GET an export (200 asserted) and save its body under its offered file name."""
    response = client.get(f"/exports/{name}", **params)
    assert response.status_code == 200, response.text
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="gefis_')
    path = folder / disposition.split('"')[1]
    path.write_bytes(response.content)
    assert int(response.headers["content-length"]) == len(response.content)
    return response, path


def read_layer(path: str, layer: str | None = None) -> dict[int | str, dict[str, Any]]:
    """Every feature of a file's layer by its ``id`` (``ags`` for districts): attributes by
    field name, and ``_geometry`` (shapely; from WKB, or from the WKT column)."""
    meta, _, geometry, values = pyogrio.raw.read(path, layer=layer)
    names = list(meta["fields"])
    rows = [dict(zip(names, row, strict=True)) for row in zip(*values, strict=True)]
    if geometry is not None:
        shapes = shapely.from_wkb(geometry)
    else:
        shapes = [shapely.from_wkt(row.pop("WKT")) if row.get("WKT") else None for row in rows]
    for row, shape in zip(rows, shapes, strict=True):
        row.pop("WKT", None)
        row["_geometry"] = shape
    key = "ags" if "ags" in names and "id" not in names else "id"
    return {int(r[key]) if key == "id" else str(r[key]): r for r in rows}


def canonical(value: Any, kind: QueryableType) -> Any:
    """A value as any format gives it back (numpy scalars, CSV text, Excel numbers) in one
    comparable form: ``None`` for NULL (and the empty text, which CSV cannot tell apart),
    dates as ISO text, timestamps as whole UTC seconds."""
    if value is None or (isinstance(value, float) and math.isnan(value)) \
            or (isinstance(value, np.datetime64) and np.isnat(value)) or value == "":
        return None
    if kind is Q.INTEGER:
        return int(float(value))
    if kind is Q.NUMBER:
        return float(value)
    if kind is Q.BOOLEAN:
        return value if isinstance(value, bool | np.bool_) and not isinstance(value, str) \
            else str(value).lower() in ("true", "t", "1")
    if kind is Q.DATE:
        return str(np.datetime64(value, "D")) if isinstance(value, np.datetime64) \
            else str(value)[:10]
    if kind is Q.DATETIME:
        if isinstance(value, np.datetime64):
            return int(value.astype("datetime64[s]").astype(np.int64))
        return int(datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp())
    if isinstance(value, list):
        return ";".join(value) or None
    return str(value)


def assert_same_values(row: dict[str, Any], expected: dict[str, Any],
                       kinds: dict[str, QueryableType], names: dict[str, str] | None = None
                       ) -> None:
    """Each attribute of ``kinds`` in ``row`` (under ``names[attr]`` if renamed) equals the
    API's (``expected``; an attribute the API leaves out is NULL)."""
    for name, kind in kinds.items():
        got = canonical(row[(names or {}).get(name, name)], kind)
        want = canonical(expected.get(name), kind)
        if kind is Q.NUMBER and got is not None and want is not None:
            assert math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-9), (name, got, want)
        else:
            assert got == want, (name, got, want)


def area_ha(shape: Any, srid: int) -> float:
    """Area of ``shape`` (coordinates in ``srid``, x = longitude/easting) in EPSG:25832."""
    if srid != 25832:
        to_utm = Transformer.from_crs(srid, 25832, always_xy=True)
        shape = shapely.transform(shape, lambda xy: np.column_stack(
            to_utm.transform(xy[:, 0], xy[:, 1])))
    return float(shapely.area(shape)) / 10_000


def items(client: Client, collection: str, **params: Any) -> dict[Any, dict[str, Any]]:
    """The OGC items the same caller sees, by id, with the feature id as ``id``."""
    response = client.http.get(f"/collections/{collection}/items",
                               params={"limit": 10_000, **params}, headers=client.headers)
    assert response.status_code == 200, response.text
    return {f["id"]: {"id": f["id"], **f["properties"]} for f in response.json()["features"]}


def parcel_kinds(viewer: Viewer) -> dict[str, QueryableType]:
    return {c.name: c.type for c in parcel_columns(viewer)}


def db_ids(conn: Connection, where: str, params: dict[str, Any] | None = None) -> set[int]:
    sql = f"SELECT p.id FROM parcels p JOIN sites s ON s.id = p.site_id WHERE {where}"
    return set(conn.execute(text(sql), params or {}).scalars())


def check_parcels(rows: dict[Any, dict[str, Any]], expected: dict[Any, dict[str, Any]],
                  viewer: Viewer, srid: int, names: dict[str, str] | None = None) -> None:
    """Same ids, same values as the API, area of each geometry = its gross area."""
    assert set(rows) == set(expected)
    kinds = parcel_kinds(viewer)
    kinds.pop("size_class")  # not part of the JSON representation
    for parcel_id, row in rows.items():
        assert_same_values(row, expected[parcel_id], kinds, names)
        gross = canonical(row[(names or {}).get("gross_area_ha", "gross_area_ha")], Q.NUMBER)
        assert abs(area_ha(row["_geometry"], srid) - gross) < 0.01, parcel_id


# --- the round trip of every format ---------------------------------------------------------


def test_geopackage_holds_every_layer_filtered(clients: dict[str, Client], conn: Connection,
                                               tmp_path: Path) -> None:
    analyst = clients["analyst"]
    response, path = download(analyst, "parcels,sites,districts,municipalities,land_sales.gpkg",
                              tmp_path, district="14713")
    assert response.headers["content-type"] == "application/geopackage+sqlite3"
    assert response.headers["content-crs"] == "<http://www.opengis.net/def/crs/EPSG/0/25832>"
    layers = {str(name): str(kind) for name, kind in pyogrio.list_layers(path)}
    assert layers == {"parcels": "MultiPolygon", "sites": "MultiPolygon",
                      "districts": "MultiPolygon", "municipalities": "MultiPolygon",
                      "land_sales": "Point"}
    for name in layers:
        info = pyogrio.read_info(path, layer=name)
        assert info["crs"] == "EPSG:25832"
        assert "synthetic" in info["fields"]
        assert "Synthetische Demodaten" in info["layer_metadata"]["DESCRIPTION"]
    parcels = read_layer(str(path), "parcels")
    assert set(parcels) == db_ids(conn, "p.district_ags = '14713'")  # the filter: parcels only
    check_parcels(parcels, items(analyst, "parcels", district="14713"), STAFF, 25832)
    sites = read_layer(str(path), "sites")
    assert set(sites) == set(conn.execute(text("SELECT id FROM sites")).scalars())
    districts = read_layer(str(path), "districts")
    assert len(districts) == 9 and all(d["synthetic"] for d in districts.values())
    expected = items(analyst, "districts")
    for ags, row in districts.items():
        assert_same_values(row, expected[ags], {"name": Q.STRING, "balance_net_ha_hoch": Q.NUMBER,
                                                "reach_years_niedrig": Q.NUMBER})
    municipalities = read_layer(str(path), "municipalities")
    assert set(municipalities) == set(conn.execute(text(
        "SELECT ags FROM municipalities")).scalars())
    leipzig = municipalities["14713000"]
    assert leipzig["name"] == "Leipzig" and leipzig["synthetic"]
    assert leipzig["active_parcels"] == items(analyst, "municipalities")["14713000"][
        "active_parcels"]
    sales = read_layer(str(path), "land_sales")
    assert len(sales) == conn.execute(text(
        "SELECT count(*) FROM land_sales WHERE withdrawn_at IS NULL")).scalar_one()


def test_flatgeobuf_public_in_wgs84(clients: dict[str, Client], conn: Connection,
                                    tmp_path: Path) -> None:
    public = clients["public"]
    response, path = download(public, "parcels.fgb", tmp_path, crs="EPSG:4326",
                              user_group="logistik")
    assert response.headers["content-type"] == "application/flatgeobuf"
    info = pyogrio.read_info(path)
    assert info["crs"] == "EPSG:4326" and info["geometry_type"] == "MultiPolygon"
    assert not INTERNAL & set(info["fields"])
    rows = read_layer(str(path))
    assert set(rows) == db_ids(conn, f"{MARKETED} AND 'logistik' = ANY(p.user_groups)")
    check_parcels(rows, items(public, "parcels", user_group="logistik"), PUBLIC_VIEWER, 4326)
    lon, lat = next(iter(rows.values()))["_geometry"].centroid.coords[0]
    assert 11 < lon < 13.5 and 50.5 < lat < 52  # longitude first, as GIS files store it


def test_shapefile_public_in_web_mercator(clients: dict[str, Client], conn: Connection,
                                          tmp_path: Path) -> None:
    public = clients["public"]
    response, path = download(public, "parcels.shp.zip", tmp_path, crs="EPSG:3857",
                              district="14729")
    assert response.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(path)
    assert sorted(archive.namelist()) == sorted(
        ["parcels.shp", "parcels.shx", "parcels.dbf", "parcels.prj", "parcels.cpg",
         "felder.csv", "hinweise.txt"])
    assert archive.read("parcels.cpg").decode().strip() == "UTF-8"
    mapping = list(csv.DictReader(io.StringIO(archive.read("felder.csv").decode("utf-8"))))
    names = {m["feldname"]: m["kurzname"] for m in mapping}
    assert list(names) == list(parcel_kinds(PUBLIC_VIEWER))  # complete, in order
    assert all(len(short) <= 10 for short in names.values())
    assert len({short.lower() for short in names.values()}) == len(names)
    assert next(m for m in mapping if m["feldname"] == "net_area_ha")["einheit"] == "ha"
    shp = f"/vsizip/{path}/parcels.shp"
    info = pyogrio.read_info(shp)
    assert info["crs"] == "EPSG:3857" and list(info["fields"]) == list(names.values())
    rows = read_layer(shp)
    assert set(rows) == db_ids(conn, f"{MARKETED} AND p.district_ags = '14729'")
    check_parcels(rows, items(public, "parcels", district="14729"), PUBLIC_VIEWER, 3857,
                  names)
    assert "Synthetische Demodaten" in archive.read("hinweise.txt").decode("utf-8")


def test_shapefile_keeps_umlauts(clients: dict[str, Client], tmp_path: Path) -> None:
    _, path = download(clients["public"], "sites.zip", tmp_path)
    archive = zipfile.ZipFile(path)
    mapping = csv.DictReader(io.StringIO(archive.read("felder.csv").decode("utf-8")))
    short = {m["feldname"]: m["kurzname"] for m in mapping}
    rows = read_layer(f"/vsizip/{path}/sites.shp")
    expected = items(clients["public"], "sites")
    assert set(rows) == set(expected)
    districts = {row[short["district_name"]] for row in rows.values()}
    assert "Mansfeld-Südharz" in districts
    assert any("ü" in row["name"] for row in rows.values())
    cut = 0
    for site_id, row in rows.items():
        for name in ("name", "municipality_name", "district_name", "marketing_name"):
            assert canonical(row[short[name]], Q.STRING) == expected[site_id][name]
        text_ = expected[site_id]["description"]
        if text_ is not None and len(text_.encode()) > 254:  # dBASE's limit, marked
            assert row[short["description"]].endswith("…")
            assert text_.startswith(row[short["description"]][:-1])
            assert len(row[short["description"]].encode()) <= 254
            cut += 1
        else:
            assert canonical(row[short["description"]], Q.STRING) == text_
    assert cut  # the demo has longer descriptions: the cut was tried
    assert "gekürzt" in archive.read("hinweise.txt").decode("utf-8")


def test_csv_with_bbox_in_utm33(clients: dict[str, Client], conn: Connection,
                                tmp_path: Path) -> None:
    analyst = clients["analyst"]
    box = "12.2,51.25,12.5,51.45"
    response, path = download(analyst, "parcels.csv", tmp_path, bbox=box,
                              crs="http://www.opengis.net/def/crs/EPSG/0/25833")
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-crs"] == "<http://www.opengis.net/def/crs/EPSG/0/25833>"
    header = path.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert header == ["WKT", *parcel_kinds(STAFF)]
    rows = read_layer(str(path))
    assert set(rows) == db_ids(conn, "ST_Intersects(p.geom_25832, ST_Transform("
                               "ST_Segmentize(ST_MakeEnvelope(12.2, 51.25, 12.5, 51.45, 4326), "
                               "0.01), 25832))")
    check_parcels(rows, items(analyst, "parcels", bbox=box), STAFF, 25833)
    assert any(row["last_verified_at"].endswith("Z") for row in rows.values())


def test_xlsx_with_a_cql2_filter(clients: dict[str, Client], conn: Connection,
                                 tmp_path: Path) -> None:
    analyst = clients["analyst"]
    condition = "net_area_ha > 5 AND rail_siding = true"
    response, path = download(analyst, "parcels.xlsx", tmp_path, filter=condition)
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert [name for name, _ in pyogrio.list_layers(path)] == ["parcels", "felder", "hinweise"]
    rows = read_layer(str(path), "parcels")
    assert rows and set(rows) == db_ids(conn, "p.net_area_ha > 5 AND p.rail_siding")
    check_parcels(rows, items(analyst, "parcels", filter=condition), STAFF, 25832)


# --- what the public may not see ------------------------------------------------------------


def test_public_export_has_no_withheld_value(clients: dict[str, Client], conn: Connection,
                                             tmp_path: Path) -> None:
    _, path = download(clients["public"], "parcels.gpkg", tmp_path)
    info = pyogrio.read_info(path)
    assert not INTERNAL & set(info["fields"])
    assert set(info["fields"]) >= DISCLOSABLE
    rows = read_layer(str(path))
    assert set(rows) == db_ids(conn, MARKETED)
    assert db_ids(conn, "true") - set(rows)  # there are parcels the public must not get
    released = dict(conn.execute(text("SELECT id, public_fields FROM parcels")).all())
    withheld = 0
    for parcel_id, row in rows.items():
        for name in DISCLOSABLE - set(released[parcel_id]):
            assert canonical(row[name], Q.STRING) is None, (parcel_id, name)
            withheld += 1
    assert withheld and any(row["contact_name"] for row in rows.values())


@pytest.mark.parametrize("name", ["land_sales.gpkg", "parcels,land_sales.gpkg",
                                  "land_sales.csv"])
def test_land_sales_do_not_exist_for_the_public(clients: dict[str, Client], name: str) -> None:
    assert problem_fields(clients["public"].get(f"/exports/{name}"), 404) == ["layer"]


# --- bad input, limits, clean-up ------------------------------------------------------------


@pytest.mark.parametrize(("name", "params", "status", "field"), [
    ("parcels.kml", {}, 404, "format"),
    ("parcels.GPKG", {}, 404, "format"),
    ("parcels", {}, 404, "format"),
    ("infrastructure.gpkg", {}, 404, "layer"),
    ("parcels,sites.csv", {}, 400, "layer"),
    ("parcels,parcels.gpkg", {}, 400, "layer"),
    ("Parcels.gpkg", {}, 400, "layer"),
    ("sites.gpkg", {"district": "14713"}, 400, "layer"),
    ("parcels,sites.gpkg", {"filter": "id > 1"}, 400, "filter"),
    ("parcels.gpkg", {"crs": "EPSG:2154"}, 422, "crs"),
    ("parcels.gpkg", {"bbox": "1,2,3"}, 422, "bbox"),
    ("parcels.gpkg", {"filter": "owner_name = 'x'"}, 422, "filter"),
    ("parcels.gpkg", {"district": "147"}, 422, "district"),
    ("parcels.gpkg", {"format": "gpkg"}, 400, "format"),
])
def test_bad_input_is_a_problem_naming_the_field(clients: dict[str, Client], name: str,
                                                 params: dict[str, str], status: int,
                                                 field: str) -> None:
    response = clients["public"].get(f"/exports/{name}", **params)
    assert field in problem_fields(response, status)


def test_too_many_features_is_a_413(clients: dict[str, Client], api: FastAPI,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(api.state.settings, "export_max_features", 3)
    response = clients["analyst"].get("/exports/parcels.gpkg")
    assert problem_fields(response, 413) == ["layer"]
    assert clients["analyst"].get("/exports/parcels.gpkg", district="14713",
                                  filter="id < 3").status_code == 200


def test_a_timeout_is_a_503_and_leaves_nothing(clients: dict[str, Client], tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(export_service, "raise_statement_timeout",  # 1 ms: statements fail
                        lambda conn: conn.execute(text("SET LOCAL statement_timeout = 1")))
    monkeypatch.setattr(exports_api.tempfile, "tempdir", str(tmp_path))
    response = clients["analyst"].get("/exports/parcels,sites,land_sales.gpkg")
    assert problem_fields(response, 503) == []
    assert response.headers["retry-after"] and not list(tmp_path.iterdir())


def test_empty_selection_gives_an_empty_layer(clients: dict[str, Client],
                                              tmp_path: Path) -> None:
    _, path = download(clients["analyst"], "parcels.fgb", tmp_path, filter="id < 0")
    assert "net_area_ha" in pyogrio.read_info(path)["fields"]
    assert read_layer(str(path)) == {}


def test_the_folder_is_removed_after_sending(clients: dict[str, Client], tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[Path] = []
    real = exports_api.tempfile.mkdtemp
    (tmp_path / "work").mkdir()
    (tmp_path / "files").mkdir()

    def mkdtemp(**kwargs: Any) -> str:
        made.append(Path(real(**{**kwargs, "dir": tmp_path / "work"})))
        return str(made[-1])

    monkeypatch.setattr(exports_api.tempfile, "mkdtemp", mkdtemp)
    download(clients["public"], "parcels.shp.zip", tmp_path / "files")
    assert clients["public"].get("/exports/parcels.gpkg", crs="bad").status_code == 422
    assert clients["public"].get("/exports/land_sales.gpkg").status_code == 404
    assert len(made) == 2 and not any(folder.exists() for folder in made)
    assert not list((tmp_path / "work").iterdir())
