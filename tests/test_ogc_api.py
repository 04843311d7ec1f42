"""OGC API – Features through the real app: landing page, conformance, collections, items,
paging, CRS (Part 2), CQL2 filters (Part 3), queryables and sortables.

Expected figures come from SQL written here against the demo data, not from the code under
test. Role rules: the public sees marketed parcels of active sites and their public or
released fields; land sales only exist for staff.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from openapi_spec_validator import validate
from sqlalchemy import Connection, text

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG = "http://www.opengis.net/def/crs/EPSG/0/{}"
PUBLIC_ROWS = ("p.marketing_status IN ('verfuegbar', 'reserviert') AND s.withdrawn_at IS NULL")


def _headers(api_keys: dict[str, str], role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_keys[role]}"} if role in api_keys else {}


def _count(conn: Connection, where: str = "true", params: dict[str, Any] | None = None,
           public: bool = True) -> int:
    rows = f"{PUBLIC_ROWS} AND " if public else ""
    return int(conn.execute(text(
        f"SELECT count(*) FROM parcels p JOIN sites s ON s.id = p.site_id WHERE {rows}{where}"),
        params or {}).scalar_one())


def _walk(http: httpx.Client, url: str, headers: dict[str, str] | None = None,
          **params: Any) -> list[dict[str, Any]]:
    """Every feature of a collection, following the absolute next links."""
    features: list[dict[str, Any]] = []
    page = http.get(url, params=params, headers=headers)
    while True:
        assert page.status_code == 200, page.text
        body = page.json()
        features += body["features"]
        assert body["numberReturned"] == len(body["features"])
        following = [link["href"] for link in body["links"] if link["rel"] == "next"]
        if not following:
            return features
        assert following[0].startswith("http://"), following
        page = http.get(following[0].removeprefix("http://testserver"), headers=headers)


# --- landing page, conformance, API definition ------------------------------------------


def test_the_landing_page_links_everything_absolutely(http: httpx.Client) -> None:
    response = http.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    links = {link["rel"]: link for link in response.json()["links"]}
    for rel in ("self", "service-desc", "service-doc", "conformance", "data"):
        assert links[rel]["href"].startswith("http://testserver/"), links[rel]
    assert links["service-desc"]["type"] == "application/vnd.oai.openapi+json;version=3.0"
    page = http.get("/", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert page.headers["content-type"].startswith("text/html")
    assert "/collections" in page.text


def test_conformance_declares_the_classes_clients_check(http: httpx.Client) -> None:
    classes = set(http.get("/conformance").json()["conformsTo"])
    base = "http://www.opengis.net/spec/"
    for needed in ("ogcapi-features-1/1.0/conf/core", "ogcapi-features-1/1.0/conf/geojson",
                   "ogcapi-features-1/1.0/conf/html", "ogcapi-features-1/1.0/conf/oas30",
                   "ogcapi-features-2/1.0/conf/crs", "ogcapi-features-3/1.0/conf/filter",
                   "ogcapi-features-3/1.0/conf/features-filter", "cql2/1.0/conf/basic-cql2",
                   "cql2/1.0/conf/cql2-text", "cql2/1.0/conf/cql2-json",
                   "cql2/1.0/conf/advanced-comparison-operators",
                   "cql2/1.0/conf/basic-spatial-functions",
                   "cql2/1.0/conf/basic-spatial-operators"):
        assert base + needed in classes, needed


def test_the_api_definition_is_valid_openapi_30_with_the_real_parameters(
        http: httpx.Client) -> None:
    response = http.get("/api")
    assert response.headers["content-type"] == "application/vnd.oai.openapi+json;version=3.0"
    document = response.json()
    assert document["openapi"].startswith("3.0")
    validate(document)
    generic = document["paths"]["/collections/{collection_id}/items"]["get"]["parameters"]
    parcels = document["paths"]["/collections/parcels/items"]["get"]["parameters"]
    for parameters in (generic, parcels):
        by_name = {p["name"]: p for p in parameters}
        assert "cql-text" in by_name["filter-lang"]["schema"]["enum"]
        assert {"filter", "filter-crs", "bbox", "bbox-crs", "crs", "limit", "datetime"} \
            <= set(by_name)
    assert {"district", "user_group", "marketing_status"} <= {p["name"] for p in parcels}


# --- collections and roles -----------------------------------------------------------------


@pytest.mark.parametrize("role", ["public", "analyst"])
def test_collections_list_what_the_role_may_see(http: httpx.Client, api_keys: dict[str, str],
                                                role: str) -> None:
    body = http.get("/collections", headers=_headers(api_keys, role)).json()
    ids = [c["id"] for c in body["collections"]]
    assert ids[:5] == ["parcels", "sites", "districts", "municipalities", "infrastructure"]
    assert ("land_sales" in ids) is (role != "public")
    for c in body["collections"]:
        assert c["storageCrs"] == EPSG.format(25832)
        assert {CRS84, EPSG.format(4326), EPSG.format(25832), EPSG.format(25833),
                EPSG.format(3857), EPSG.format(31468)} <= set(c["crs"])
        west, south, east, north = c["extent"]["spatial"]["bbox"][0]
        assert 10.5 < west < east < 14 and 50 < south < north < 53
    if role == "public":
        assert http.get("/collections/land_sales").status_code == 404
        assert http.get("/collections/land_sales/items").status_code == 404


def test_paging_reads_every_public_parcel_once(http: httpx.Client, conn: Connection) -> None:
    features = _walk(http, "/collections/parcels/items", limit=97)
    ids = [f["id"] for f in features]
    assert len(ids) == len(set(ids)) == _count(conn)
    assert ids == sorted(ids)
    first = http.get("/collections/parcels/items", params={"limit": 97}).json()
    assert first["numberMatched"] == _count(conn)
    assert "numberMatchedEstimated" not in first


def test_prev_links_lead_back(http: httpx.Client) -> None:
    first = http.get("/collections/parcels/items", params={"limit": 5}).json()
    second_url = next(link["href"] for link in first["links"] if link["rel"] == "next")
    second = http.get(second_url.removeprefix("http://testserver")).json()
    back_url = next(link["href"] for link in second["links"] if link["rel"] == "prev")
    back = http.get(back_url.removeprefix("http://testserver")).json()
    assert [f["id"] for f in back["features"]] == [f["id"] for f in first["features"]]


def test_limit_is_clamped_never_refused(http: httpx.Client, settings: Any) -> None:
    response = http.get("/collections/municipalities/items", params={"limit": 10**9})
    assert response.status_code == 200
    assert response.json()["numberReturned"] == 187
    assert settings.ogc_page_size_max < 10**9


def test_unknown_parameters_and_bad_cursors_are_400(http: httpx.Client) -> None:
    unknown = http.get("/collections/parcels/items", params={"filterlang": "cql2-text"})
    assert unknown.status_code == 400
    assert unknown.json()["errors"][0]["field"] == "filterlang"
    assert http.get("/collections/sites/items", params={"district": "14713"}).status_code == 400
    assert http.get("/collections/parcels/items",
                    params={"cursor": "bm90LWEtY3Vyc29y"}).status_code == 400


# --- CRS (Part 2) ---------------------------------------------------------------------------


def _first_vertex(feature: dict[str, Any]) -> tuple[float, float]:
    x, y = feature["geometry"]["coordinates"][0][0][0]
    return x, y


@pytest.mark.parametrize(("crs", "srid", "swapped"), [
    ("EPSG:25832", 25832, False), (EPSG.format(25833), 25833, False),
    (EPSG.format(3857), 3857, False), (EPSG.format(4326), 4326, True),
    (EPSG.format(31468), 31468, True), (CRS84, 4326, False)])
def test_coordinates_in_each_crs_and_axis_order(http: httpx.Client, conn: Connection,
                                                crs: str, srid: int, swapped: bool) -> None:
    response = http.get("/collections/parcels/items", params={"limit": 3, "crs": crs})
    assert response.status_code == 200, response.text
    expected_uri = CRS84 if crs == CRS84 else EPSG.format(srid)
    assert response.headers["content-crs"] == f"<{expected_uri}>"
    for feature in response.json()["features"]:
        x, y = _first_vertex(feature)
        if swapped:
            x, y = y, x
        db = conn.execute(text(
            "SELECT ST_X(pt), ST_Y(pt) FROM (SELECT ST_Transform(ST_PointN(ST_ExteriorRing("
            "ST_GeometryN(ST_ForcePolygonCCW(geom_25832), 1)), 1), :srid) AS pt "
            "FROM parcels WHERE id = :id) v"), {"srid": srid, "id": feature["id"]}).one()
        tolerance = 1e-7 if srid == 4326 else 1e-3
        assert abs(x - db[0]) <= tolerance and abs(y - db[1]) <= tolerance, (crs, x, y, db)


def test_bbox_in_lat_lon_order_selects_like_lon_lat(http: httpx.Client, conn: Connection
                                                    ) -> None:
    lon_lat = http.get("/collections/parcels/items", params={
        "bbox": "12.2,51.25,12.5,51.45", "limit": 1000}).json()
    lat_lon = http.get("/collections/parcels/items", params={
        "bbox": "51.25,12.2,51.45,12.5", "bbox-crs": EPSG.format(4326), "limit": 1000}).json()
    utm = http.get("/collections/parcels/items", params={
        "bbox": "300000,5680000,330000,5705000", "bbox-crs": EPSG.format(25833),
        "limit": 1000}).json()
    expected = _count(conn, "ST_Intersects(p.geom_25832, ST_Transform(ST_Segmentize("
                      "ST_MakeEnvelope(12.2, 51.25, 12.5, 51.45, 4326), 0.01), 25832))")
    assert 0 < expected == lon_lat["numberMatched"] == lat_lon["numberMatched"]
    assert {f["id"] for f in lon_lat["features"]} == {f["id"] for f in lat_lon["features"]}
    assert utm["numberMatched"] == _count(conn, "ST_Intersects(p.geom_25832, ST_Transform("
                                          "ST_MakeEnvelope(300000, 5680000, 330000, 5705000, "
                                          "25833), 25832))")


# --- CQL2 (Part 3) ----------------------------------------------------------------------------


@pytest.mark.parametrize(("lang", "expression"), [
    ("cql2-text", "district_ags = '14713' AND net_area_ha > 2"),
    ("cql-text", "district_ags = '14713' AND net_area_ha > 2"),
    ("cql2-json", '{"op": "and", "args": [{"op": "=", "args": [{"property": "district_ags"}, '
                  '"14713"]}, {"op": ">", "args": [{"property": "net_area_ha"}, 2]}]}')])
def test_a_filter_in_each_language(http: httpx.Client, conn: Connection, lang: str,
                                   expression: str) -> None:
    body = http.get("/collections/parcels/items", params={
        "filter": expression, "filter-lang": lang, "limit": 1000}).json()
    expected = _count(conn, "p.district_ags = '14713' AND p.net_area_ha > 2")
    assert 0 < body["numberMatched"] == expected == len(body["features"])


def test_filter_and_registry_parameters_combine(http: httpx.Client, conn: Connection) -> None:
    body = http.get("/collections/parcels/items", params={
        "filter": "net_area_ha > 2", "district": "14713", "user_group": "logistik",
        "limit": 1000}).json()
    assert body["numberMatched"] == _count(
        conn, "p.net_area_ha > 2 AND p.district_ags = '14713' AND 'logistik' = ANY(p.user_groups)")


def test_a_spatial_filter_in_another_crs(http: httpx.Client, conn: Connection) -> None:
    box = "POLYGON((51.25 12.2, 51.25 12.5, 51.45 12.5, 51.45 12.2, 51.25 12.2))"
    body = http.get("/collections/parcels/items", params={
        "filter": f"S_INTERSECTS(geometry, {box})", "filter-crs": EPSG.format(4326),
        "limit": 1}).json()
    assert body["numberMatched"] == _count(
        conn, "ST_Intersects(p.geom_25832, ST_Transform(ST_MakeEnvelope(12.2, 51.25, 12.5, "
              "51.45, 4326), 25832))")


def test_a_malformed_filter_is_a_clear_400_or_422(http: httpx.Client) -> None:
    for params in ({"filter": "net_area_ha >"}, {"filter": "nonsense_field = 1"},
                   {"filter": "{]", "filter-lang": "cql2-json"},
                   {"filter": "x", "filter-lang": "ecql"}):
        response = http.get("/collections/parcels/items", params=params)
        assert response.status_code in (400, 422), (params, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["errors"][0]["field"] in ("filter", "filter-lang")


def test_datetime_selects_on_the_temporal_property(http: httpx.Client, conn: Connection
                                                   ) -> None:
    moment = conn.execute(text("SELECT max(updated_at) FROM parcels")).scalar_one()
    day = moment.date().isoformat()
    body = http.get("/collections/parcels/items", params={"datetime": f"{day}/..",
                                                          "limit": 1}).json()
    assert body["numberMatched"] == _count(conn, "p.updated_at >= CAST(:d AS date)",
                                           {"d": day})
    refused = http.get("/collections/municipalities/items", params={"datetime": day})
    assert refused.status_code in (400, 422)


# --- queryables, sortables, sorting -----------------------------------------------------------


def test_queryables_are_json_schema_with_types(http: httpx.Client, api_keys: dict[str, str]
                                               ) -> None:
    public = http.get("/collections/parcels/queryables")
    assert public.headers["content-type"] == "application/schema+json"
    properties = public.json()["properties"]
    assert properties["geometry"]["$ref"] == "https://geojson.org/schema/MultiPolygon.json"
    assert all("type" in p for name, p in properties.items() if name != "geometry")
    assert "owner_name" not in properties and "internal_notes" not in properties
    assert "logistik" in properties["user_groups"]["items"]["enum"]
    staff = http.get("/collections/parcels/queryables", headers=_headers(api_keys, "analyst"))
    assert "owner_name" in staff.json()["properties"]


def test_sortby_descending(http: httpx.Client) -> None:
    sortables = http.get("/collections/parcels/sortables").json()["properties"]
    assert "net_area_ha" in sortables
    body = http.get("/collections/parcels/items", params={"sortby": "-net_area_ha",
                                                          "limit": 50}).json()
    areas = [f["properties"]["net_area_ha"] for f in body["features"]]
    assert areas == sorted(areas, reverse=True) and len(areas) == 50


def test_one_item_and_what_the_public_cannot_see(http: httpx.Client, conn: Connection) -> None:
    sold = conn.execute(text("SELECT id FROM parcels WHERE marketing_status = 'verkauft' "
                             "LIMIT 1")).scalar_one()
    assert http.get(f"/collections/parcels/items/{sold}").status_code == 404
    shown = conn.execute(text("SELECT p.id FROM parcels p JOIN sites s ON s.id = p.site_id "
                              f"WHERE {PUBLIC_ROWS} LIMIT 1")).scalar_one()
    item = http.get(f"/collections/parcels/items/{shown}")
    assert item.status_code == 200 and item.json()["id"] == shown
    assert item.headers["content-crs"] == f"<{CRS84}>"
    assert http.get("/collections/parcels/items/abc").status_code == 404


def test_districts_carry_their_balance(http: httpx.Client) -> None:
    balance = http.get("/api/v1/balance").json()
    by_ags = {a["ags"]: a for a in balance["areas"] if a["level"] == "district"}
    features = http.get("/collections/districts/items", params={"limit": 20}).json()["features"]
    assert len(features) == 9
    for feature in features:
        area = by_ags[feature["id"]]
        props = feature["properties"]
        assert props["supply_net_ha"] == area["supply_scope_net_ha"]
        for key in ("niedrig", "hoch"):
            assert props[f"balance_net_ha_{key}"] == area["scenarios"][key]["balance_net_ha"]
            assert props[f"reach_years_{key}"] == area["scenarios"][key]["reach_years"]


def test_array_functions_on_the_parcels_user_groups(http: httpx.Client, conn: Connection
                                                    ) -> None:
    contains = http.get("/collections/parcels/items", params={
        "filter": "A_CONTAINS(user_groups, ('logistik', 'industrie'))", "limit": 1}).json()
    assert contains["numberMatched"] == _count(
        conn, "p.user_groups @> ARRAY['logistik', 'industrie']")
    overlaps = http.get("/collections/parcels/items", params={
        "filter": "A_OVERLAPS(user_groups, ('logistik', 'industrie'))", "limit": 1}).json()
    assert overlaps["numberMatched"] == _count(
        conn, "p.user_groups && ARRAY['logistik', 'industrie']") > contains["numberMatched"]


@pytest.mark.parametrize("path", [
    "/", "/conformance", "/collections", "/collections/parcels",
    "/collections/parcels/queryables", "/collections/parcels/sortables",
    "/collections/parcels/items", "/collections/districts/items/14713"])
def test_every_resource_has_an_html_page(http: httpx.Client, path: str) -> None:
    page = http.get(path, params={"f": "html"})
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    assert '<html lang="de">' in page.text and "GeoBasis-DE / BKG" in page.text
    browser = http.get(path, headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert browser.headers["content-type"].startswith("text/html")


def test_queryables_as_query_parameters(http: httpx.Client, conn: Connection,
                                        api_keys: dict[str, str]) -> None:
    body = http.get("/collections/parcels/items", params={
        "district_ags": "14713", "synthetic": "true", "limit": 1}).json()
    assert body["numberMatched"] == _count(conn, "p.district_ags = '14713' AND p.is_synthetic")
    assert http.get("/collections/parcels/items",
                    params={"net_area_ha": "viel"}).status_code == 422
    hidden = http.get("/collections/parcels/items", params={"owner_name": "x"})
    assert hidden.status_code in (400, 422) and "owner_name" in hidden.text
    staff = http.get("/collections/parcels/items", params={"owner_name": "x"},
                     headers=_headers(api_keys, "analyst"))
    assert staff.status_code == 200 and staff.json()["numberMatched"] == 0
