"""Land sales over HTTP (in-process): internal reads, located writes, If-Match, withdrawal, rights."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from pyproj import Transformer

from app.domain.clock import today
from tests.resource_client import (
    BALTIC_POINT,
    LEIPZIG_POINT,
    LEIPZIG_SQUARE,
    Client,
    all_coordinates,
    problem_fields,
)


@pytest.fixture
def admin(clients: dict[str, Client]) -> Client:
    return clients["admin"]


def _sale(**extra: Any) -> dict[str, Any]:
    return {"sale_date": "2024-05-02", "area_ha": 1.5, "price_eur_m2": 42.5,
            "buyer_user_group": "logistik", "buyer_origin": "national", **extra}


def test_sale_at_a_point_is_located_in_its_municipality(admin: Client) -> None:
    sale = admin.created("/land-sales", _sale(geometry=LEIPZIG_POINT))
    assert sale["district_ags"] == "14713" and sale["municipality_ags"] == "14713000"
    assert sale["_etag"] == f'"land-sale-{sale["id"]}-v1"'
    assert sale["area_ha"] == 1.5 and sale["price_eur_m2"] == 42.5
    (x, y), = all_coordinates(sale["geometry"])
    assert x == pytest.approx(12.3752, abs=1e-6) and y == pytest.approx(51.3406, abs=1e-6)
    feature = admin.get(f"/land-sales/{sale['id']}", f="geojson", crs="EPSG:25832")
    assert feature.headers["ETag"] == sale["_etag"]
    utm_x, utm_y = Transformer.from_crs(4326, 25832, always_xy=True).transform(12.3752, 51.3406)
    (fx, fy), = all_coordinates(feature.json()["geometry"])
    assert fx == pytest.approx(utm_x, abs=0.02) and fy == pytest.approx(utm_y, abs=0.02)


def test_sale_location_from_municipality_district_utm_point_or_parcel(admin: Client) -> None:
    by_municipality = admin.created("/land-sales", _sale(municipality_ags="14729010"))
    assert by_municipality["district_ags"] == "14729" and by_municipality["geometry"] is None
    by_district = admin.created("/land-sales", _sale(district_ags="15002"))
    assert by_district["district_ags"] == "15002" and by_district["municipality_ags"] is None
    x, y = Transformer.from_crs(4326, 25833, always_xy=True).transform(11.97, 51.48)
    utm = admin.created("/land-sales", _sale(geometry={"type": "Point", "coordinates": [x, y]}),
                        crs="EPSG:25833")
    assert utm["municipality_ags"] == "15002000"
    site = admin.created("/sites", {"name": "Verkaufspark", "municipality_ags": "14713000"})
    parcel = admin.post("/parcels", {
        "site_id": site["id"], "geometry": LEIPZIG_SQUARE, "category": "erweiterungsflaeche",
        "user_groups": ["logistik"], "servicing": "erschlossen"})
    assert parcel.status_code == 201, parcel.text
    by_parcel = admin.created("/land-sales", _sale(parcel_id=parcel.json()["id"]))
    assert by_parcel["site_id"] == site["id"] and by_parcel["municipality_ags"] == "14713000"
    assert by_parcel["geometry"]["type"] == "Point"


@pytest.mark.parametrize(("change", "field"), [
    ({"sale_date": (today() + timedelta(days=1)).isoformat()}, "sale_date"),
    ({"sale_date": "1989-12-31"}, "sale_date"),
    ({"geometry": BALTIC_POINT}, "geometry"),
    ({"geometry": {"type": "Point", "coordinates": [300000.0, 5700000.0]}}, "geometry"),
    ({"municipality_ags": "14729010", "district_ags": "14713"}, "district_ags"),
    ({"geometry": LEIPZIG_POINT, "municipality_ags": "14729010"}, "municipality_ags"),
    ({"municipality_ags": "14713999"}, "municipality_ags"),
    ({"district_ags": "14713", "parcel_id": 987654}, "parcel_id"),
    ({"district_ags": "14713", "site_id": 987654}, "site_id"),
    ({"district_ags": "14713", "area_ha": 0}, "area_ha"),
    ({"district_ags": "14713", "buyer_user_group": "raumfahrt"}, "buyer_user_group"),
    ({}, "district_ags"),
])
def test_invalid_sales_are_422_naming_the_field(admin: Client, change: dict[str, Any],
                                               field: str) -> None:
    body = _sale(**({"district_ags": "14713"} if "sale_date" in change else {}), **change)
    assert field in problem_fields(admin.post("/land-sales", body), 422)


def test_sales_are_internal_and_filterable(clients: dict[str, Client], admin: Client) -> None:
    made = [admin.created("/land-sales", _sale(sale_date=f"2003-0{m}-15", district_ags="14730",
                                               buyer_user_group=group))["id"]
            for m, group in ((1, "logistik"), (2, "logistik"), (3, "handwerk_gewerbe"))]
    assert problem_fields(clients["public"].get("/land-sales"), 401) == []
    assert problem_fields(clients["public"].get(f"/land-sales/{made[0]}"), 401) == []
    analyst = clients["analyst"]
    page = analyst.get("/land-sales", district="14730", **{"from": "2003-01-01",
                                                           "to": "2003-12-31"}).json()
    assert [s["id"] for s in page["items"]] == made[::-1]  # newest first by default
    asc = analyst.get("/land-sales", district="14730", sort="sale_date", limit=2,
                      **{"from": "2003-01-01", "to": "2003-12-31"}).json()
    assert [s["id"] for s in asc["items"]] == made[:2]
    assert any(link["rel"] == "next" for link in asc["links"])
    logistics = analyst.get("/land-sales", district="14730", buyer_user_group="logistik",
                            **{"from": "2003-01-01", "to": "2003-12-31"}).json()
    assert [s["id"] for s in logistics["items"]] == made[1::-1]
    assert problem_fields(analyst.get("/land-sales", buyer_user_group="raumfahrt"), 422) == [
        "buyer_user_group"]
    assert problem_fields(analyst.get("/land-sales", sort="price"), 422) == ["sort"]
    geo = analyst.get("/land-sales", f="geojson", limit=1000).json()
    assert geo["type"] == "FeatureCollection" and geo["features"]
    points = [c for f in geo["features"] if f["geometry"] for c in all_coordinates(f["geometry"])]
    assert points and all(10.5 < x < 13.5 and 50.5 < y < 52.5 for x, y in points)


def test_sale_update_needs_a_current_if_match(admin: Client) -> None:
    sale = admin.created("/land-sales", _sale(geometry=LEIPZIG_POINT))
    path = f"/land-sales/{sale['id']}"
    assert problem_fields(admin.patch(path, {"area_ha": 2.0}, None), 428) == []
    stale_tag = f'"land-sale-{sale["id"]}-v7"'
    assert problem_fields(admin.patch(path, {"area_ha": 2.0}, stale_tag), 412) == []
    updated = admin.patch(path, {"area_ha": 2.0, "municipality_ags": "14729010"}, sale["_etag"])
    assert updated.status_code == 200, updated.text
    body = updated.json()
    assert body["area_ha"] == 2.0 and body["version"] == 2
    assert body["district_ags"] == "14729" and body["geometry"] is None  # location replaced
    assert updated.headers["ETag"] == f'"land-sale-{sale["id"]}-v2"'
    assert problem_fields(admin.patch(path, {"area_ha": 3.0}, sale["_etag"]), 412) == []
    future = (today() + timedelta(days=3)).isoformat()
    assert problem_fields(admin.patch(path, {"sale_date": future}, updated.headers["ETag"]),
                          422) == ["sale_date"]
    assert admin.get(path).json()["area_ha"] == 2.0


def test_withdrawn_sales_leave_the_lists(admin: Client, clients: dict[str, Client]) -> None:
    sale = admin.created("/land-sales", _sale(sale_date="2001-07-07", district_ags="14729"))
    withdrawn = admin.post(f"/land-sales/{sale['id']}/withdraw")
    assert withdrawn.status_code == 200 and withdrawn.json()["withdrawn_at"]
    analyst = clients["analyst"]
    window = {"from": "2001-07-07", "to": "2001-07-07", "district": "14729"}
    assert sale["id"] not in [s["id"] for s in analyst.get("/land-sales", **window).json()["items"]]
    listed = analyst.get("/land-sales", include_withdrawn="true", **window).json()["items"]
    assert sale["id"] in [s["id"] for s in listed]
    assert analyst.get(f"/land-sales/{sale['id']}").json()["withdrawn_at"]


def test_sale_writes_need_a_writer_in_the_district(clients: dict[str, Client],
                                                   admin: Client) -> None:
    body = _sale(municipality_ags="14713000")
    assert problem_fields(clients["public"].post("/land-sales", body), 401) == []
    assert problem_fields(clients["analyst"].post("/land-sales", body), 403) == []
    assert problem_fields(clients["editor_halle"].post("/land-sales", body), 403) == []
    sale = clients["editor"].created("/land-sales", body)
    path = f"/land-sales/{sale['id']}"
    for role, status in (("public", 401), ("analyst", 403), ("editor_halle", 403)):
        assert problem_fields(clients[role].patch(path, {"area_ha": 9.0}, sale["_etag"]),
                              status) == []
        assert problem_fields(clients[role].post(f"{path}/withdraw"), status) == []
    moved = clients["editor"].patch(path, {"district_ags": "15002"}, sale["_etag"])
    assert problem_fields(moved, 403) == []
    assert admin.get(path).json()["district_ags"] == "14713"
    assert clients["editor"].patch(path, {"area_ha": 9.0}, sale["_etag"]).status_code == 200


#: A small square in Schkopau, Saalekreis (district 15088), lon/lat.
SAALEKREIS_SQUARE = {"type": "Polygon", "coordinates": [[
    [12.087, 51.384], [12.091, 51.384], [12.091, 51.3865], [12.087, 51.3865], [12.087, 51.384]]]}


@pytest.fixture
def saalekreis_parcel(admin: Client) -> dict[str, int]:
    """A site and a parcel on it in Saalekreis (15088), outside both editors' districts."""
    site = admin.created("/sites", {"name": "Saalepark", "geometry": SAALEKREIS_SQUARE})
    assert site["district_ags"] == "15088"
    parcel = admin.post("/parcels", {
        "site_id": site["id"], "geometry": SAALEKREIS_SQUARE, "category": "erweiterungsflaeche",
        "user_groups": ["logistik"], "servicing": "erschlossen"})
    assert parcel.status_code == 201, parcel.text
    assert parcel.json()["district_ags"] == "15088"
    return {"site": site["id"], "parcel": parcel.json()["id"]}


def test_sale_of_a_parcel_outside_the_editors_district_is_refused(
        clients: dict[str, Client], admin: Client, saalekreis_parcel: dict[str, int]) -> None:
    editor = clients["editor"]
    for reference in ({"parcel_id": saalekreis_parcel["parcel"]},
                      {"site_id": saalekreis_parcel["site"]}):
        assert problem_fields(editor.post("/land-sales", _sale(district_ags="14713",
                                                               **reference)), 403) == []
        assert problem_fields(editor.post("/land-sales", _sale(**reference)), 403) == []
    sale = editor.created("/land-sales", _sale(district_ags="14713"))
    path = f"/land-sales/{sale['id']}"
    relinked = editor.patch(path, {"parcel_id": saalekreis_parcel["parcel"]}, sale["_etag"])
    assert problem_fields(relinked, 403) == []
    assert admin.get(path).json()["parcel_id"] is None


def test_sale_location_must_agree_with_its_parcel(admin: Client,
                                                  saalekreis_parcel: dict[str, int]) -> None:
    parcel = saalekreis_parcel["parcel"]
    for location, field in (({"district_ags": "14713"}, "district_ags"),
                            ({"municipality_ags": "14713000"}, "municipality_ags"),
                            ({"geometry": LEIPZIG_POINT}, "geometry")):
        refused = admin.post("/land-sales", _sale(parcel_id=parcel, **location))
        assert problem_fields(refused, 422) == [field]
        assert refused.json()["errors"][0]["code"] == "location_mismatch"
    agreeing = admin.created("/land-sales", _sale(parcel_id=parcel, district_ags="15088"))
    assert agreeing["site_id"] == saalekreis_parcel["site"]
    path = f"/land-sales/{agreeing['id']}"
    moved = admin.patch(path, {"district_ags": "14713"}, agreeing["_etag"])
    assert problem_fields(moved, 422) == ["district_ags"]
    leipzig = admin.created("/land-sales", _sale(district_ags="14713"))
    relinked = admin.patch(f"/land-sales/{leipzig['id']}", {"parcel_id": parcel},
                           leipzig["_etag"])
    assert problem_fields(relinked, 422) == ["parcel_id"]
