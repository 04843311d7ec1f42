"""Real GIS clients against the service on a socket: GDAL/OGR (Debian's gdal-bin), the GDAL
bundled with pyogrio (OGC API – Features Part 2), and OWSLib.

What went over the wire is proven from GDAL's own ``--debug on`` output (one
``HTTP: Fetch(<url>)`` line per request), not assumed.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import shapely
from owslib.ogcapi.features import Features
from sqlalchemy import Engine, text

from app.main import create_app
from app.settings import Settings
from tests.server import serving

PUBLIC_ROWS = "p.marketing_status IN ('verfuegbar', 'reserviert') AND s.withdrawn_at IS NULL"
FETCH = re.compile(r"HTTP: Fetch\((?P<url>.*)\)$", re.MULTILINE)


@pytest.fixture(scope="module")
def base(settings: Settings, demo_loaded: dict[str, int]) -> Iterator[str]:
    """The service on a free port of 127.0.0.1."""
    with serving(create_app(settings)) as url:
        yield url


def _gdal(tool: str) -> str:
    path = shutil.which(tool)
    assert path, f"{tool} (Debian package gdal-bin) is needed: `make test` installs it"
    return path


def _public_count(engine: Engine, where: str = "true") -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(
            "SELECT count(*) FROM parcels p JOIN sites s ON s.id = p.site_id "
            f"WHERE {PUBLIC_ROWS} AND {where}")).scalar_one())


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(list(args), capture_output=True, text=True, timeout=180,
                            check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def test_ogrinfo_lists_the_collections(base: str) -> None:
    listing = _run(_gdal("ogrinfo"), "-ro", "-q", f"OAPIF:{base}").stdout
    for layer in ("parcels", "sites", "districts", "municipalities", "infrastructure"):
        assert re.search(rf"^\d+: {layer}\b", listing, re.MULTILINE), listing
    assert "land_sales" not in listing


def test_ogr2ogr_reads_every_parcel_through_paging(base: str, engine: Engine,
                                                   tmp_path: Path) -> None:
    out = tmp_path / "parcels.geojson"
    result = _run(_gdal("ogr2ogr"), "--debug", "on", "-f", "GeoJSON", str(out),
                  f"OAPIF:{base}", "parcels", "-oo", "PAGE_SIZE=100")
    features = json.loads(out.read_text("utf-8"))["features"]
    assert len(features) == _public_count(engine)
    pages = [url for url in FETCH.findall(result.stderr) if "/collections/parcels/items" in url]
    assert len(pages) >= len(features) // 100, pages


def test_ogr2ogr_with_an_api_key_reads_every_parcel_of_the_demo(
        base: str, engine: Engine, api_keys: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "all.geojson"
    _run(_gdal("ogr2ogr"), "--config", "GDAL_HTTP_HEADERS",
         f"Authorization: Bearer {api_keys['analyst']}", "-f", "GeoJSON", str(out),
         f"OAPIF:{base}", "parcels", "-oo", "PAGE_SIZE=250")
    features = json.loads(out.read_text("utf-8"))["features"]
    with engine.connect() as conn:
        everything = conn.execute(text("SELECT count(*) FROM parcels")).scalar_one()
    assert len(features) == everything > _public_count(engine)
    assert "owner_name" in features[0]["properties"]


def test_a_where_clause_reaches_the_server_as_cql_text(base: str, engine: Engine,
                                                       tmp_path: Path) -> None:
    out = tmp_path / "leipzig.geojson"
    result = _run(_gdal("ogr2ogr"), "--debug", "on", "-f", "GeoJSON", str(out),
                  f"OAPIF:{base}", "parcels", "-oo", "PAGE_SIZE=1000",
                  "-where", "district_ags = '14713' AND net_area_ha > 2")
    items = [url for url in FETCH.findall(result.stderr)
             if "/collections/parcels/items" in url and "filter=" in url]
    assert items, result.stderr[-3000:]
    query = parse_qs(urlparse(items[0]).query)
    assert query["filter-lang"] == ["cql-text"], items[0]
    assert "14713" in query["filter"][0] and "net_area_ha" in query["filter"][0], items[0]
    assert "Full filter will be evaluated on client side" not in result.stderr
    features = json.loads(out.read_text("utf-8"))["features"]
    assert len(features) == _public_count(
        engine, "p.district_ags = '14713' AND p.net_area_ha > 2") > 0


#: Runs in a process of its own: pyogrio holds the GIL while GDAL fetches, so it cannot read
#: from a server in a thread of the test process.
_PYOGRIO_READ = """
import json, sys
import pyogrio
from pyogrio.raw import read
meta, fids, geometry, _ = read("OAPIF:" + sys.argv[1], layer="parcels", return_fids=True,
                               max_features=200, CRS="EPSG:25832")
print(json.dumps({"gdal": pyogrio.__gdal_version_string__, "crs": meta["crs"],
                  "fids": [int(f) for f in fids], "wkb": [g.hex() for g in geometry]}))
"""


def test_pyogrio_reads_utm_through_part_2_to_the_millimetre(base: str, engine: Engine) -> None:
    done = _run(sys.executable, "-c", _PYOGRIO_READ, base)
    read = json.loads(done.stdout)
    assert tuple(int(p) for p in read["gdal"].split(".")[:2]) >= (3, 8), read["gdal"]
    assert "25832" in read["crs"], read["crs"]
    assert len(read["fids"]) == 200
    with engine.connect() as conn:
        stored = dict(conn.execute(text(
            "SELECT id, ST_AsBinary(geom_25832) FROM parcels WHERE id = ANY(:ids)"),
            {"ids": read["fids"]}).all())
    for fid, wkb in zip(read["fids"], read["wkb"], strict=True):
        shape, truth = shapely.from_wkb(bytes.fromhex(wkb)), shapely.from_wkb(bytes(stored[fid]))
        assert shape.geom_type == truth.geom_type
        assert shapely.equals_exact(shapely.normalize(shape), shapely.normalize(truth),
                                    tolerance=0.001), fid


def test_owslib_pages_through_a_filtered_collection(base: str, engine: Engine) -> None:
    service = Features(base)
    assert "parcels" in [c["id"] for c in service.collections()["collections"]]
    seen: list[int] = []
    params: dict[str, object] = {"filter": "net_area_ha > 3", "filter-lang": "cql2-text",
                                 "limit": 25}
    while True:
        page = service.collection_items("parcels", **params)
        seen += [f["id"] for f in page["features"]]
        following = [link["href"] for link in page["links"] if link["rel"] == "next"]
        if not following:
            break
        params["cursor"] = parse_qs(urlparse(following[0]).query)["cursor"][0]
    assert len(seen) == len(set(seen)) == _public_count(engine, "p.net_area_ha > 3") > 25


_PYOGRIO_TILES = """
import json, sys, pyogrio
source = f"OGCAPI:{sys.argv[1]}/collections/parcels"
layers = [name for name, _ in pyogrio.list_layers(source)]
meta, _, _, fields = pyogrio.raw.read(source, layer=layers[-1])
names = list(meta["fields"])
print(json.dumps({"layers": layers, "crs": meta["crs"], "fields": names,
                  "ids": [int(v) for v in fields[names.index("mvt_id")]]}))
"""


def test_gdal_reads_the_vector_tiles_through_ogc_api_tiles(base: str, engine: Engine) -> None:
    """GDAL's OGC API driver (3.12, pyogrio's) finds the tileset, the tiling scheme and the
    tile template and reads a zoom level of parcel tiles (one feature per site there);
    Debian's GDAL 3.6 reads only TMS 1.0 documents."""
    read = json.loads(_run(sys.executable, "-c", _PYOGRIO_TILES, base).stdout)
    assert read["layers"][0] == "Zoom level 0", read["layers"]
    assert read["crs"] == "EPSG:3857"
    assert {"aggregated", "parcels", "net_area_ha", "availability"} <= set(read["fields"])
    with engine.connect() as conn:
        sites = set(conn.execute(text(
            f"SELECT DISTINCT s.id FROM parcels p JOIN sites s ON s.id = p.site_id "
            f"WHERE {PUBLIC_ROWS}")).scalars())
    assert set(read["ids"]) == sites
