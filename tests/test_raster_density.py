"""``GET /api/v1/raster/net-area.tif``: the available net area per 1 km INSPIRE cell.

The file is read twice: with rasterio (values, tags) and with Debian's ``gdalinfo`` as the
GIS client (CRS, pixel size, overviews, COG layout). Its cells must add up to the net area
the summary reports for the same filter, and a parcel straddling cell borders must be
shared out by the parts of its area in each cell.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from rasterio.io import MemoryFile
from sqlalchemy import Connection, text

from app.api.raster import COG_MEDIA_TYPE
from tests.resource_client import Client, problem_fields
from tests.shapes import insert_parcel, insert_site

PATH = "/raster/net-area.tif"


def _read(content: bytes) -> dict[str, Any]:
    """Grid, values (masked where nodata) and tags of a GeoTIFF."""
    with MemoryFile(content) as memory, memory.open() as dataset:
        return {"crs": dataset.crs.to_epsg(), "transform": dataset.transform,
                "res": dataset.res, "dtype": dataset.dtypes[0], "nodata": dataset.nodata,
                "values": dataset.read(1, masked=True), "tags": dataset.tags(),
                "band_tags": dataset.tags(1), "units": dataset.units,
                "overviews": dataset.overviews(1)}


def _raster(client: Client, **params: Any) -> dict[str, Any]:
    response = client.get(PATH, **params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == COG_MEDIA_TYPE
    return _read(response.content)


def _summary_net_ha(client: Client, **params: Any) -> float:
    response = client.get("/parcels/summary", **params)
    assert response.status_code == 200, response.text
    return float(response.json()["total"]["net_ha"])


@pytest.mark.parametrize(("raster_params", "summary_params"), [
    # the search's default (verfuegbar); the summary's default is the supply (+ reserviert)
    ({}, {"marketing_status": "verfuegbar"}),
    ({"district": "14713,14729", "marketing_status": "verfuegbar,reserviert"},
     {"district": "14713,14729", "marketing_status": "verfuegbar,reserviert"}),
    ({"user_group": "logistik", "net_area_min_ha": 2},
     {"user_group": "logistik", "net_area_min_ha": 2, "marketing_status": "verfuegbar"}),
])
def test_the_cells_add_up_to_the_filtered_net_area(clients: dict[str, Client],
                                                   raster_params: dict[str, Any],
                                                   summary_params: dict[str, Any]) -> None:
    raster = _raster(clients["public"], **raster_params)
    expected = _summary_net_ha(clients["public"], **summary_params)
    assert expected > 50  # a real selection, not an empty one
    assert float(raster["values"].sum()) == pytest.approx(expected, rel=1e-3)
    assert float(raster["tags"]["NET_AREA_HA"]) == pytest.approx(expected, abs=1e-3)
    assert raster["crs"] == 3035 and raster["res"] == (1000.0, 1000.0)
    assert raster["transform"].c % 1000 == 0 and raster["transform"].f % 1000 == 0
    assert raster["dtype"] == "float32" and raster["nodata"] == -9999
    assert raster["values"].min() > 0  # cells without parcels are nodata, not 0
    assert raster["overviews"]


def test_what_the_public_may_not_see_stays_out(clients: dict[str, Client]) -> None:
    withdrawn = {"marketing_status": "zurueckgezogen"}
    staff = _raster(clients["analyst"], **withdrawn)
    assert int(staff["tags"]["PARCELS"]) > 0
    assert float(staff["values"].sum()) == pytest.approx(
        _summary_net_ha(clients["analyst"], **withdrawn), rel=1e-3)
    public = _raster(clients["public"], **withdrawn)
    assert public["tags"]["PARCELS"] == "0" and public["values"].count() == 0
    # an empty selection still covers the region
    assert public["values"].shape[0] > 100 and public["values"].shape[1] > 100


def test_a_parcel_is_shared_out_by_its_area_in_each_cell(clients: dict[str, Client],
                                                         conn: Connection) -> None:
    # 600 m × 600 m in EPSG:3035 (Leipzig), its corners at x 4,486,700/4,487,300 and
    # y 3,139,800/3,140,400: 300 m in each of the columns 4486 and 4487, 200 m in row 3139
    # and 400 m in row 3140. Shares of its area (360,000 m²), by hand:
    #   (4486, 3139), (4487, 3139): 300·200 / 360,000 = 1/6 → 30 ha · 1/6 = 5 ha each
    #   (4486, 3140), (4487, 3140): 300·400 / 360,000 = 1/3 → 30 ha · 1/3 = 10 ha each
    site_id = insert_site(conn, "14713000", name="Rastertest")
    insert_parcel(conn, site_id, conn.execute(text(
        "SELECT ST_AsEWKT(ST_Multi(ST_Transform(ST_MakeEnvelope(4486700, 3139800, 4487300, "
        "3140400, 3035), 25832)))")).scalar_one(), net_area_ha_given=30)
    raster = _raster(clients["public"], site_id=site_id)
    # rows from the north: row 3140 first; columns from the west
    assert raster["transform"].c == 4_486_000 and raster["transform"].f == 3_141_000
    np.testing.assert_allclose(raster["values"].filled(np.nan), [[10.0, 10.0], [5.0, 5.0]],
                               rtol=1e-5)
    assert raster["tags"]["PARCELS"] == "1"
    assert json.loads(raster["tags"]["FILTER"]) == {
        "active_sites_only": True, "marketing_status": ["verfuegbar"], "site_id": [site_id]}


def test_the_file_says_what_it_holds(clients: dict[str, Client]) -> None:
    raster = _raster(clients["public"], district="14713")
    tags = raster["tags"]
    assert tags["UNIT"] == "ha" and raster["band_tags"]["UNIT"] == "ha"
    assert raster["units"] == ("ha",)
    assert '"district":["14713"]' in tags["FILTER"]
    assert "synthetische Demodaten" in tags["DESCRIPTION"] and tags["SYNTHETIC"] == "true"
    assert "INSPIRE" in tags["DESCRIPTION"] and "EPSG:3035" in tags["DESCRIPTION"]


def test_gdalinfo_sees_the_inspire_grid_and_overviews(clients: dict[str, Client],
                                                      tmp_path: Path) -> None:
    gdalinfo = shutil.which("gdalinfo") or "/usr/bin/gdalinfo"
    response = clients["public"].get(PATH)
    assert response.status_code == 200
    path = tmp_path / "nettoflaeche.tif"
    path.write_bytes(response.content)
    info = json.loads(subprocess.run(
        [gdalinfo, "-json", "--config", "GDAL_PAM_ENABLED", "NO", str(path)],
        capture_output=True, text=True, check=True).stdout)
    assert info["coordinateSystem"]["wkt"].rstrip().endswith('ID["EPSG",3035]]')
    origin_x, pixel_x, _, origin_y, _, pixel_y = info["geoTransform"]
    assert (pixel_x, pixel_y) == (1000.0, -1000.0)
    assert origin_x % 1000 == 0 and origin_y % 1000 == 0
    band = info["bands"][0]
    assert band["type"] == "Float32" and band["noDataValue"] == -9999
    assert len(band["overviews"]) >= 2
    assert info["metadata"]["IMAGE_STRUCTURE"]["LAYOUT"] == "COG"


def test_caching_headers_and_not_modified(clients: dict[str, Client]) -> None:
    public = clients["public"]
    first = public.get(PATH, district="14713")
    assert first.headers["cache-control"] == "public, max-age=60"
    assert first.headers["content-crs"] == "<http://www.opengis.net/def/crs/EPSG/0/3035>"
    assert first.headers["content-disposition"].startswith("attachment; filename=")
    again = public.http.get(public.base + PATH, params={"district": "14713"},
                            headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    other = public.get(PATH, district="14729")
    assert other.headers["etag"] != first.headers["etag"]
    assert clients["analyst"].get(PATH).headers["cache-control"] == "private, max-age=60"


@pytest.mark.parametrize(("params", "status", "field"), [
    ({"net_area_min_ha": "viel"}, 422, "net_area_min_ha"),
    ({"district": "Leipzig"}, 422, "district"),
    ({"marketing_status": "verschenkt"}, 422, "marketing_status"),
    ({"cell_size": "500"}, 400, "cell_size"),
])
def test_bad_parameters_are_refused_naming_them(clients: dict[str, Client],
                                                params: dict[str, Any], status: int,
                                                field: str) -> None:
    response = clients["public"].get(PATH, **params)
    assert any(field in (name or "") for name in problem_fields(response, status))
