"""Vector tiles over HTTP (in-process, on the test's transaction), decoded with
mapbox-vector-tile: layer names, feature ids against plain SQL, attributes per role, filters,
aggregation at low zoom, the past (``at``), caching headers, and the OGC API – Tiles
documents, TileJSON and the MapLibre style.
"""

from __future__ import annotations

import gzip
import math
from typing import Any

import httpx
import mapbox_vector_tile
import pytest
from sqlalchemy import Connection, text

from app.domain.parcel_fields import PARCEL_FIELDS, Visibility
from app.domain.tms import WEB_MERCATOR_QUAD, Tile, lon_lat_to_mercator
from app.services.tiles import AGGREGATE_ATTRIBUTES

MARKETED = "p.marketing_status IN ('verfuegbar', 'reserviert') AND s.withdrawn_at IS NULL"
PUBLIC_TILE_FIELDS = {f.name for f in PARCEL_FIELDS
                      if f.tile and f.visibility is not Visibility.INTERNAL} - {"id"}
DISCLOSABLE_TILE_FIELDS = {f.name for f in PARCEL_FIELDS
                           if f.tile and f.visibility is Visibility.DISCLOSABLE}


def _headers(api_keys: dict[str, str], role: str, **extra: str) -> dict[str, str]:
    return {**extra, **({"Authorization": f"Bearer {api_keys[role]}"} if role != "public"
                        else {})}


def _tile(http: httpx.Client, api_keys: dict[str, str], role: str, collection: str,
          tile: Tile, params: Any = None, **headers: str) -> httpx.Response:
    return http.get(f"/collections/{collection}/tiles/WebMercatorQuad/{tile.z}/{tile.y}/"
                    f"{tile.x}", params=params, headers=_headers(api_keys, role, **headers))


def _decoded(response: httpx.Response) -> dict[str, Any]:
    if response.status_code == 204:
        return {}
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    return mapbox_vector_tile.decode(response.content)


def _features(response: httpx.Response, layer: str) -> list[dict[str, Any]]:
    return _decoded(response).get(layer, {}).get("features", [])


def _tile_at(lon: float, lat: float, z: int) -> Tile:
    row, col = WEB_MERCATOR_QUAD.tile_of(*lon_lat_to_mercator(lon, lat), z)
    return Tile(z, row, col)


def _buffered_box(tile: Tile) -> str:
    xmin, ymin, xmax, ymax = WEB_MERCATOR_QUAD.tile_bounds(tile)
    margin = (xmax - xmin) * 64 / 4096
    return (f"ST_MakeEnvelope({xmin - margin}, {ymin - margin}, {xmax + margin}, "
            f"{ymax + margin}, 3857)")


@pytest.fixture
def busy_tile(conn: Connection) -> Tile:
    """A z14 tile around the public parcel with the most public neighbours."""
    lon, lat = conn.execute(text(
        f"SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Transform(ST_PointOnSurface(p.geom_25832), "
        f"4326) AS c, (SELECT count(*) FROM parcels q WHERE ST_DWithin(q.geom_25832, "
        f"p.geom_25832, 300)) AS n FROM parcels p JOIN sites s ON s.id = p.site_id "
        f"WHERE {MARKETED} ORDER BY n DESC, p.id LIMIT 1) x")).one()
    return _tile_at(lon, lat, 14)


def _expected_ids(conn: Connection, tile: Tile, public: bool) -> set[int]:
    rows = conn.execute(text(
        "SELECT p.id FROM parcels p JOIN sites s ON s.id = p.site_id "
        f"WHERE ST_Intersects(ST_Transform(p.geom_25832, 3857), {_buffered_box(tile)})"
        + (f" AND {MARKETED}" if public else ""))).scalars()
    return set(rows)


@pytest.mark.parametrize("role", ["public", "analyst"])
def test_parcel_tile_holds_the_visible_parcels_with_their_fields(
        http: httpx.Client, conn: Connection, api_keys: dict[str, str], busy_tile: Tile,
        role: str) -> None:
    response = _tile(http, api_keys, role, "parcels", busy_tile)
    decoded = _decoded(response)
    assert list(decoded) == ["parcels"]
    features = decoded["parcels"]["features"]
    ids = {f["id"] for f in features}
    assert ids == _expected_ids(conn, busy_tile, public=role == "public")
    assert len(ids) >= 3
    released = dict(conn.execute(text(
        "SELECT id, public_fields FROM parcels WHERE id = ANY(:ids)"), {"ids": list(ids)}).all())
    for feature in features:
        props = feature["properties"]
        assert "aggregated" not in props
        assert props["availability"] and props["marketing_status"]
        if role == "public":
            assert set(props) <= PUBLIC_TILE_FIELDS
            withheld = DISCLOSABLE_TILE_FIELDS - set(released[feature["id"]] or [])
            assert not withheld & set(props), (feature["id"], props)
    if role == "analyst":
        assert any("owner_type" in f["properties"] for f in features)


def test_public_tiles_carry_no_withheld_field_anywhere(
        http: httpx.Client, conn: Connection, api_keys: dict[str, str], busy_tile: Tile) -> None:
    conn.execute(text("UPDATE parcels SET public_fields = '{}'"))
    features = _features(_tile(http, api_keys, "public", "parcels", busy_tile), "parcels")
    assert features and not any(set(f["properties"]) & DISCLOSABLE_TILE_FIELDS
                                for f in features)
    staff = _features(_tile(http, api_keys, "analyst", "parcels", busy_tile), "parcels")
    assert any("owner_type" in f["properties"] for f in staff)


def test_filters_change_the_features(http: httpx.Client, api_keys: dict[str, str],
                                     busy_tile: Tile) -> None:
    every = _features(_tile(http, api_keys, "analyst", "parcels", busy_tile), "parcels")
    classes = {f["properties"]["availability"] for f in every}
    assert len(classes) >= 2
    chosen = sorted(classes)[0]
    narrowed = _features(_tile(http, api_keys, "analyst", "parcels", busy_tile,
                               {"availability": chosen}), "parcels")
    assert {f["id"] for f in narrowed} == \
        {f["id"] for f in every if f["properties"]["availability"] == chosen}
    cql = _features(_tile(http, api_keys, "analyst", "parcels", busy_tile,
                          {"filter": "net_area_ha > 2"}), "parcels")
    assert {f["id"] for f in cql} == \
        {f["id"] for f in every if f["properties"]["net_area_ha"] > 2}
    assert 0 < len(cql) < len(every)
    equals = _features(_tile(http, api_keys, "analyst", "parcels", busy_tile,
                             {"marketing_status": "verfuegbar"}), "parcels")
    assert {f["id"] for f in equals} == \
        {f["id"] for f in every if f["properties"]["marketing_status"] == "verfuegbar"}


def test_properties_choose_the_attributes(http: httpx.Client, api_keys: dict[str, str],
                                          busy_tile: Tile) -> None:
    features = _features(_tile(http, api_keys, "public", "parcels", busy_tile,
                               {"properties": "availability,net_area_ha"}), "parcels")
    assert features and all(set(f["properties"]) == {"availability", "net_area_ha"}
                            for f in features)
    bad = _tile(http, api_keys, "public", "parcels", busy_tile, {"properties": "owner_name"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "properties"


def test_low_zooms_carry_one_feature_per_site_with_summed_hectares(
        http: httpx.Client, conn: Connection, api_keys: dict[str, str]) -> None:
    site_id, lon, lat = conn.execute(text(
        f"SELECT s.id, ST_X(c), ST_Y(c) FROM sites s JOIN LATERAL (SELECT ST_Transform("
        f"ST_PointOnSurface(s.geom_25832), 4326) AS c) x ON true WHERE EXISTS (SELECT 1 "
        f"FROM parcels p WHERE p.site_id = s.id AND {MARKETED}) ORDER BY s.id LIMIT 1"
    )).one()
    tile = _tile_at(lon, lat, 11)
    features = _features(_tile(http, api_keys, "public", "parcels", tile), "parcels")
    by_site = {f["id"]: f["properties"] for f in features}
    assert site_id in by_site
    for props in by_site.values():
        assert props["aggregated"] is True and set(props) <= set(AGGREGATE_ATTRIBUTES)
    inside = conn.execute(text(
        f"SELECT s.id, count(*), round(sum(p.net_area_ha)::numeric, 2)::float8 FROM parcels p "
        f"JOIN sites s ON s.id = p.site_id WHERE {MARKETED} AND ST_Within(ST_Transform("
        f"s.geom_25832, 3857), ST_MakeEnvelope({', '.join(map(str, WEB_MERCATOR_QUAD.tile_bounds(tile)))}, 3857)) "
        "GROUP BY s.id")).all()
    assert inside
    for sid, count, net_ha in inside:
        assert by_site[sid]["parcels"] == count
        assert by_site[sid]["net_area_ha"] == pytest.approx(net_ha, abs=0.005)


@pytest.mark.parametrize("past", ["2020-12-31", "2022-05-17"])
def test_tiles_as_of_a_past_day_show_that_day(http: httpx.Client, api_keys: dict[str, str],
                                              conn: Connection, past: str) -> None:
    """A quarter's end (its stored snapshot) and any other day (rebuilt from the history)
    show what the sums of that day count."""
    west, south, east, north = conn.execute(text(
        "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Transform("
        "ST_SetSRID(ST_Extent(geom_25832)::geometry, 25832), 4326) e FROM districts) x")).one()
    z = next(z for z in range(8, -1, -1)
             if _tile_at(west, north, z) == _tile_at(east, south, z))
    tile = _tile_at(west, north, z)
    counts = {}
    for day in (past, None):
        features = _features(_tile(http, api_keys, "public", "parcels", tile,
                                   {"at": day} if day else None), "parcels")
        summary = http.get("/api/v1/parcels/summary", params={"at": day} if day else None)
        assert summary.status_code == 200, summary.text
        counts[day] = sum(f["properties"]["parcels"] for f in features)
        assert counts[day] == summary.json()["total"]["parcels"]
    assert counts[past] != counts[None]


def test_other_collections_have_tiles(http: httpx.Client, conn: Connection,
                                      api_keys: dict[str, str]) -> None:
    tile = _tile_at(12.37, 51.34, 9)  # Leipzig
    districts = _features(_tile(http, api_keys, "public", "districts", tile), "districts")
    assert {f["properties"]["ags"] for f in districts} >= {"14713"}
    leipzig = next(f for f in districts if f["properties"]["ags"] == "14713")
    assert leipzig["id"] == 14713 and "balance_net_ha_niedrig" in leipzig["properties"]
    for name in ("municipalities", "sites", "infrastructure"):
        assert _features(_tile(http, api_keys, "public", name, tile), name), name
    assert _tile(http, api_keys, "public", "land_sales", tile).status_code == 404
    sales = _features(_tile(http, api_keys, "analyst", "land_sales", tile), "land_sales")
    assert sales and all(f["type"] == "Feature" for f in sales)


def test_caching_headers_304_and_gzip(http: httpx.Client, conn: Connection,
                                      api_keys: dict[str, str], busy_tile: Tile) -> None:
    first = _tile(http, api_keys, "public", "parcels", busy_tile,
                  **{"Accept-Encoding": "identity"})
    assert "content-encoding" not in first.headers
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "public, max-age=60"
    assert first.headers["vary"] == "Accept-Encoding, Authorization"
    again = _tile(http, api_keys, "public", "parcels", busy_tile,
                  **{"If-None-Match": etag, "Accept-Encoding": "identity"})
    assert again.status_code == 304 and again.content == b""
    staff = _tile(http, api_keys, "analyst", "parcels", busy_tile)
    assert staff.headers["cache-control"] == "private, max-age=60"
    zipped = http.get(f"/collections/parcels/tiles/WebMercatorQuad/{busy_tile.z}/"
                      f"{busy_tile.y}/{busy_tile.x}", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.headers["etag"] != etag
    assert zipped.content == first.content  # httpx decodes the gzip body
    raw = gzip.compress(first.content)
    assert len(raw) < len(first.content)
    # a change to a parcel drawn in the tile changes the tag
    shown = next(iter({f["id"] for f in _features(first, "parcels")}))
    conn.execute(text("UPDATE parcels SET net_area_ha_given = 0.5 WHERE id = :id"),
                 {"id": shown})
    changed = _tile(http, api_keys, "public", "parcels", busy_tile,
                    **{"If-None-Match": etag, "Accept-Encoding": "identity"})
    assert changed.status_code == 200 and changed.headers["etag"] != etag


def test_empty_missing_and_wrong_tiles(http: httpx.Client, api_keys: dict[str, str]) -> None:
    empty = _tile(http, api_keys, "public", "parcels", Tile(10, 0, 0))
    assert empty.status_code == 204 and empty.content == b""
    for path in ("parcels/tiles/WebMercatorQuad/23/0/0", "parcels/tiles/WebMercatorQuad/2/4/0",
                 "sites/tiles/WebMercatorQuad/2/0/4", "parcels/tiles/WorldCRS84Quad/2/0/0",
                 "nowhere/tiles/WebMercatorQuad/2/0/0"):
        response = http.get(f"/collections/{path}")
        assert response.status_code == 404, path
        assert response.headers["content-type"] == "application/problem+json"
    unknown = http.get("/collections/parcels/tiles/WebMercatorQuad/2/0/0",
                       params={"limit": "5"})
    assert unknown.status_code == 400 and unknown.json()["errors"][0]["field"] == "limit"
    future = http.get("/collections/parcels/tiles/WebMercatorQuad/2/0/0",
                      params={"at": "2999-01-01"})
    assert future.status_code == 400
    sites_at = http.get("/collections/sites/tiles/WebMercatorQuad/2/0/0",
                        params={"at": "2021-01-01"})
    assert sites_at.status_code == 422 and sites_at.json()["errors"][0]["field"] == "at"


def test_tiling_scheme_and_tileset_documents(http: httpx.Client, conn: Connection) -> None:
    schemes = http.get("/tileMatrixSets").json()["tileMatrixSets"]
    assert [s["id"] for s in schemes] == ["WebMercatorQuad"]
    tms = http.get("/tileMatrixSets/WebMercatorQuad").json()
    z10 = tms["tileMatrices"][10]
    assert (z10["matrixWidth"], z10["tileWidth"]) == (1024, 256)
    assert z10["scaleDenominator"] == pytest.approx(545978.7734, rel=1e-9)
    assert tms["crs"] == "http://www.opengis.net/def/crs/EPSG/0/3857"
    tilesets = http.get("/collections/parcels/tiles").json()["tilesets"]
    assert tilesets[0]["dataType"] == "vector"
    tileset = http.get("/collections/parcels/tiles/WebMercatorQuad").json()
    template = next(link for link in tileset["links"] if link["rel"] == "item")
    assert template["href"].endswith(
        "/collections/parcels/tiles/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}")
    limits = {lim["tileMatrix"]: lim for lim in tileset["tileMatrixSetLimits"]}
    leipzig = _tile_at(12.37, 51.34, 10)
    assert limits["10"]["minTileRow"] <= leipzig.y <= limits["10"]["maxTileRow"]
    assert limits["10"]["minTileCol"] <= leipzig.x <= limits["10"]["maxTileCol"]
    fields = tileset["layers"][0]["propertiesSchema"]["properties"]
    assert {"availability", "net_area_ha", "aggregated"} <= set(fields)
    conformance = http.get("/conformance").json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt" in conformance
    collection = http.get("/collections/sites").json()
    assert any(link["rel"].endswith("tilesets-vector") for link in collection["links"])


def test_tilejson_and_style(http: httpx.Client, api_keys: dict[str, str]) -> None:
    tilejson = http.get("/collections/parcels/tiles/WebMercatorQuad/tilejson.json",
                        params={"district": "14713"}).json()
    assert tilejson["tilejson"] == "3.0.0"
    assert tilejson["tiles"][0].endswith(
        "/collections/parcels/tiles/WebMercatorQuad/{z}/{y}/{x}?district=14713")
    west, south, east, north = tilejson["bounds"]
    assert 10.5 < west < east < 13.5 and 50.5 < south < north < 52.5
    assert "availability" in tilejson["vector_layers"][0]["fields"]
    style = http.get("/styles/gefis")
    assert style.headers["content-type"].startswith("application/vnd.mapbox.style+json")
    document = style.json()
    assert document["version"] == 8
    assert set(document["sources"]) == {"districts", "municipalities", "sites", "parcels",
                                        "infrastructure"}
    for layer in document["layers"]:
        assert layer.get("source") in (None, *document["sources"])
    fill = next(layer for layer in document["layers"] if layer["id"] == "parcels-fill")
    assert fill["paint"]["fill-color"][:2] == ["match", ["get", "availability"]]
    assert "glyphs" not in document and not any(layer["type"] == "symbol"
                                                 for layer in document["layers"])
    legend = document["metadata"]["gefis:legend"]["availability"]
    assert legend[0]["code"] == "sofort"
    for source in document["sources"].values():
        assert http.get(source["url"]).json()["tilejson"] == "3.0.0"


def test_web_mercator_quad_matches_the_usual_tile_numbers() -> None:
    # Leipzig's Augustusplatz (12.3807° E, 51.3397° N) in the z/x/y numbering of OSM
    n = 1 << 14
    lat = math.radians(51.3397)
    x = int((12.3807 + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(lat)) / math.pi) / 2 * n)
    assert _tile_at(12.3807, 51.3397, 14) == Tile(14, y, x)


@pytest.mark.parametrize("collection", ["parcels", "districts", "infrastructure"])
def test_every_zoom_over_leipzig_answers(http: httpx.Client, api_keys: dict[str, str],
                                         collection: str) -> None:
    """Down to the whole world at zoom 0 (a tile far larger than the storage CRS's domain:
    the search box is cut to it) and up to zoom 22."""
    for z in range(23):
        response = _tile(http, api_keys, "public", collection, _tile_at(12.3807, 51.3397, z))
        assert response.status_code in (200, 204), (z, response.text)
    world = _features(_tile(http, api_keys, "public", collection, Tile(0, 0, 0)), collection)
    assert world
