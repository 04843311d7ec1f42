"""Regression tests for problems a review found: leaks, paging, odd inputs, lost updates."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest
from sqlalchemy import Connection

from tests.resource_client import Client
from tests.shapes import insert_site

SQUARE = {"type": "Polygon", "coordinates": [[
    [12.330, 51.330], [12.333, 51.330], [12.333, 51.332], [12.330, 51.332], [12.330, 51.330]]]}
#: Another square on the same site, east of SQUARE.
EAST_SQUARE = {"type": "Polygon", "coordinates": [[
    [12.334, 51.330], [12.337, 51.330], [12.337, 51.332], [12.334, 51.332], [12.334, 51.330]]]}


@pytest.fixture
def site_id(conn: Connection) -> int:
    return insert_site(conn, name="Robustheit")


@pytest.fixture
def admin(clients: dict[str, Client]) -> Client:
    return clients["admin"]


def _create(admin: Client, site_id: int, **extra: Any) -> httpx.Response:
    body = {"site_id": site_id, "geometry": SQUARE, "category": "erweiterungsflaeche",
            "user_groups": ["logistik"], "servicing": "erschlossen", **extra}
    response = admin.post("/parcels", body)
    assert response.status_code == 201, response.text
    return response


def _next_cursor(page: dict[str, Any]) -> str | None:
    return next((link["href"].split("cursor=")[1].split("&")[0] for link in page["links"]
                 if link["rel"] == "next"), None)


def _decoded(token: str) -> str:
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()


def test_public_cannot_filter_or_sort_by_a_withheld_price(clients: dict[str, Client],
                                                          admin: Client, site_id: int) -> None:
    hidden = _create(admin, site_id, price_eur_m2=47.5, public_fields=["contact_name"]).json()["id"]
    _create(admin, site_id, geometry=EAST_SQUARE, price_eur_m2=12.25, public_fields=["contact_name"])
    public, analyst = clients["public"], clients["analyst"]
    page = public.get("/parcels", site_id=site_id, max_price_eur_m2=100).json()
    assert hidden not in [item["id"] for item in page["items"]]
    sorted_page = public.get("/parcels", sort="price_eur_m2", limit=1000, site_id=site_id).json()
    ids = [item["id"] for item in sorted_page["items"]]
    assert hidden in ids and len(ids) == 2 and _next_cursor(sorted_page) is None
    # Sorted by a price it may not see, the public pages in id order (the prices count as
    # unknown), and the cursor after the first parcel does not carry its price.
    one = public.get("/parcels", sort="price_eur_m2", limit=1, site_id=site_id).json()
    assert [item["id"] for item in one["items"]] == [hidden]
    token = _next_cursor(one)
    assert token is not None, "two parcels on the site, one per page: there is a next page"
    assert "47.5" not in _decoded(token)
    # The analyst sees, sorts and filters by the real price (and its cursor carries it).
    internal = analyst.get("/parcels", sort="-price_eur_m2", limit=1, site_id=site_id).json()
    assert [item["id"] for item in internal["items"]] == [hidden]
    internal_token = _next_cursor(internal)
    assert internal_token is not None and "47.5" in _decoded(internal_token)
    internal = analyst.get("/parcels", site_id=site_id, max_price_eur_m2=50).json()
    assert hidden in [item["id"] for item in internal["items"]]


def test_descending_id_paging_ends(clients: dict[str, Client]) -> None:
    public = clients["public"]
    seen: list[int] = []
    response = public.get("/parcels", sort="-id", limit=30, district="15084")
    pages = 0
    while True:
        body = response.json()
        page = [item["id"] for item in body["items"]]
        assert not set(page) & set(seen)
        seen += page
        pages += 1
        url = next((link["href"] for link in body["links"] if link["rel"] == "next"), None)
        if url is None:
            break
        response = public.http.get(url)
    assert pages > 2 and seen == sorted(seen, reverse=True)


def test_next_links_keep_repeated_parameters(clients: dict[str, Client]) -> None:
    public = clients["public"]
    params = [("district", "15084"), ("district", "14730"), ("limit", "75"), ("count", "true")]
    first = public.http.get(public.base + "/parcels", params=params).json()
    total, seen = first["numberMatched"], [item["id"] for item in first["items"]]
    districts = {item["district_ags"] for item in first["items"]}
    url = next((link["href"] for link in first["links"] if link["rel"] == "next"), None)
    pages = 1
    while url:
        body = public.http.get(url).json()
        seen += [item["id"] for item in body["items"]]
        districts |= {item["district_ags"] for item in body["items"]}
        url = next((link["href"] for link in body["links"] if link["rel"] == "next"), None)
        pages += 1
    assert pages > 2 and len(seen) == total == len(set(seen))
    assert districts == {"15084", "14730"}


@pytest.mark.parametrize("params", [
    {"q": "a\x00b"}, {"bbox": "nan,nan,nan,nan"}, {"bbox": "-1000,-1000,1000,1000"},
    {"bbox": "11,50,13,95"}, {"bbox": "170,50,-170,52"}, {"crs": "fooCRS84"},
    {"cursor": base64.urlsafe_b64encode(b'{"s":"id","v":{},"i":1}').decode()},
    {"cursor": base64.urlsafe_b64encode(b'{"s":"id","v":1,"i":1e400}').decode()},
    {"cursor": base64.urlsafe_b64encode(b'{"s":"id","v":true,"i":1}').decode()},
    {"net_area_min_ha": 5, "net_area_max_ha": 1},
])
def test_odd_search_input_is_a_4xx_problem_with_a_reason(clients: dict[str, Client],
                                                         params: dict[str, Any]) -> None:
    response = clients["public"].get("/parcels", **params)
    # a token that is no cursor of ours is a malformed request (400), other values 422
    assert response.status_code == (400 if "cursor" in params else 422), response.text
    problem = response.json()
    assert response.headers["content-type"] == "application/problem+json"
    assert problem["errors"][0]["field"] is not None or "NUL" in problem["detail"]
    assert "errors.pydantic.dev" not in problem["detail"]


def test_freshness_validates_districts(clients: dict[str, Client]) -> None:
    assert clients["analyst"].get("/freshness", district="abc").status_code == 422


def test_nul_in_a_body_is_a_422(admin: Client, site_id: int) -> None:
    created = _create(admin, site_id)
    response = admin.patch(f"/parcels/{created.json()['id']}", {"name": "a\u0000b"},
                           created.headers["ETag"])
    assert response.status_code == 422


def test_three_dimensional_polygons_are_stored_flat(admin: Client, site_id: int) -> None:
    ring = [[x, y, 110.0] for x, y in SQUARE["coordinates"][0]]
    response = _create(admin, site_id, geometry={"type": "Polygon", "coordinates": [ring]})
    assert len(response.json()["geometry"]["coordinates"][0][0][0]) == 2


def test_change_reason_keeps_umlauts(admin: Client, site_id: int) -> None:
    created = _create(admin, site_id)
    pid = created.json()["id"]
    response = admin.http.patch(
        f"{admin.base}/parcels/{pid}", json={"zoning": "GI"},
        headers={**admin.headers, "If-Match": created.headers["ETag"],
                 "X-Change-Reason": "Prüfung durch Bürgeramt".encode()})
    assert response.status_code == 200, response.text
    history = admin.get(f"/parcels/{pid}/history").json()["entries"]
    assert history[-1]["reason"] == "Prüfung durch Bürgeramt"


def test_resending_what_was_read_is_not_a_change(admin: Client, site_id: int) -> None:
    created = _create(admin, site_id, user_groups=["logistik", "handwerk_gewerbe", "logistik"])
    parcel = created.json()
    assert parcel["user_groups"] == ["handwerk_gewerbe", "logistik"]
    response = admin.patch(f"/parcels/{parcel['id']}",
                           {"geometry": parcel["geometry"], "user_groups": ["logistik", "handwerk_gewerbe"]},
                           created.headers["ETag"])
    assert response.status_code == 200
    assert response.headers["ETag"] == created.headers["ETag"]


def test_withdrawn_parcel_of_a_withdrawn_site_cannot_be_marketed(admin: Client,
                                                                 conn: Connection) -> None:
    lonely_site = insert_site(conn, name="Verlassen")
    parcel = _create(admin, lonely_site).json()
    withdrawn = admin.post(f"/parcels/{parcel['id']}/withdraw")
    assert withdrawn.status_code == 200
    assert admin.post(f"/sites/{lonely_site}/withdraw").status_code == 200
    again = admin.patch(f"/parcels/{parcel['id']}", {"marketing_status": "verfuegbar"},
                        withdrawn.headers["ETag"])
    assert again.status_code == 409
