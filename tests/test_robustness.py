"""Regression tests for problems a review found: leaks, paging, odd inputs, lost updates."""

from __future__ import annotations

import base64
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, text

SQUARE = {"type": "Polygon", "coordinates": [[
    [12.330, 51.330], [12.333, 51.330], [12.333, 51.332], [12.330, 51.332], [12.330, 51.330]]]}


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture(scope="module")
def site_id(engine: Engine, demo_loaded: dict[str, int]) -> int:
    with engine.begin() as conn:
        new_id: int = conn.execute(text(
            "INSERT INTO sites (name, municipality_ags) VALUES ('Robustheit', '14713000') "
            "RETURNING id")).scalar_one()
    return new_id


def _create(service_url: str, key: str, site_id: int, **extra: Any) -> httpx.Response:
    body = {"site_id": site_id, "geometry": SQUARE, "category": "erweiterungsflaeche",
            "user_groups": ["logistik"], "servicing": "erschlossen", **extra}
    response = httpx.post(service_url + "/api/v1/parcels", json=body, headers=_auth(key))
    assert response.status_code == 201, response.text
    return response


def test_authenticated_burst_does_not_exhaust_the_pool(service_url: str,
                                                      api_keys: dict[str, str]) -> None:
    def one(_: int) -> int:
        return httpx.get(service_url + "/api/v1/parcels", params={"limit": 5},
                         headers=_auth(api_keys["analyst"]), timeout=60).status_code

    with ThreadPoolExecutor(max_workers=40) as pool:
        statuses = list(pool.map(one, range(60)))
    assert statuses == [200] * 60


def test_public_cannot_filter_or_sort_by_a_withheld_price(service_url: str, api_keys: dict[str, str],
                                                          site_id: int) -> None:
    hidden = _create(service_url, api_keys["admin"], site_id, price_eur_m2=47.5,
                     public_fields=["contact_name"]).json()["id"]
    page = httpx.get(service_url + "/api/v1/parcels",
                     params={"site_id": site_id, "max_price_eur_m2": 100}).json()
    assert hidden not in [item["id"] for item in page["items"]]
    sorted_page = httpx.get(service_url + "/api/v1/parcels",
                            params={"sort": "price_eur_m2", "limit": 1000, "site_id": site_id}).json()
    cursors = [link["href"].split("cursor=")[1] for link in sorted_page["links"] if link["rel"] == "next"]
    ids = [item["id"] for item in sorted_page["items"]]
    assert hidden in ids and not cursors
    one = httpx.get(service_url + "/api/v1/parcels",
                    params={"sort": "price_eur_m2", "limit": 1, "site_id": site_id}).json()
    for link in one["links"]:
        if link["rel"] == "next":
            token = link["href"].split("cursor=")[1]
            decoded = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
            assert decoded["v"] != 47.5
    # The analyst sees and filters by the real price.
    internal = httpx.get(service_url + "/api/v1/parcels", params={"site_id": site_id, "max_price_eur_m2": 50},
                         headers=_auth(api_keys["analyst"])).json()
    assert hidden in [item["id"] for item in internal["items"]]


def test_descending_id_paging_ends(service_url: str) -> None:
    seen: list[int] = []
    url: str | None = service_url + "/api/v1/parcels?sort=-id&limit=200"
    while url:
        body = httpx.get(url).json()
        page = [item["id"] for item in body["items"]]
        assert not set(page) & set(seen)
        seen += page
        url = next((link["href"] for link in body["links"] if link["rel"] == "next"), None)
    assert seen == sorted(seen, reverse=True)


def test_next_links_keep_repeated_parameters(service_url: str) -> None:
    params = [("district", "15084"), ("district", "14730"), ("limit", "20"), ("count", "true")]
    first = httpx.get(service_url + "/api/v1/parcels", params=params).json()
    total, seen = first["numberMatched"], [item["id"] for item in first["items"]]
    url = next((link["href"] for link in first["links"] if link["rel"] == "next"), None)
    while url:
        body = httpx.get(url).json()
        seen += [item["id"] for item in body["items"]]
        url = next((link["href"] for link in body["links"] if link["rel"] == "next"), None)
    assert len(seen) == total > 20


@pytest.mark.parametrize("params", [
    {"q": "a\x00b"}, {"bbox": "nan,nan,nan,nan"}, {"bbox": "-1000,-1000,1000,1000"},
    {"bbox": "11,50,13,95"}, {"bbox": "170,50,-170,52"}, {"crs": "fooCRS84"},
    {"cursor": base64.urlsafe_b64encode(b'{"s":"id","v":{},"i":1}').decode()},
    {"cursor": base64.urlsafe_b64encode(b'{"s":"id","v":1,"i":1e400}').decode()},
    {"cursor": base64.urlsafe_b64encode(b'{"s":"id","v":true,"i":1}').decode()},
    {"net_area_min_ha": 5, "net_area_max_ha": 1},
])
def test_odd_search_input_is_a_4xx_problem_with_a_reason(service_url: str, params: dict[str, Any]) -> None:
    response = httpx.get(service_url + "/api/v1/parcels", params=params)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert response.headers["content-type"] == "application/problem+json"
    assert problem["errors"][0]["field"] is not None or "NUL" in problem["detail"]
    assert "errors.pydantic.dev" not in problem["detail"]


def test_freshness_validates_districts(service_url: str, api_keys: dict[str, str]) -> None:
    response = httpx.get(service_url + "/api/v1/freshness", params={"district": "abc"},
                         headers=_auth(api_keys["analyst"]))
    assert response.status_code == 422


def test_nul_in_a_body_is_a_422(service_url: str, api_keys: dict[str, str], site_id: int) -> None:
    created = _create(service_url, api_keys["admin"], site_id)
    response = httpx.patch(f"{service_url}/api/v1/parcels/{created.json()['id']}",
                           json={"name": "a\u0000b"},
                           headers={**_auth(api_keys["admin"]), "If-Match": created.headers["ETag"]})
    assert response.status_code == 422


def test_three_dimensional_polygons_are_stored_flat(service_url: str, api_keys: dict[str, str],
                                                    site_id: int) -> None:
    ring = [[x, y, 110.0] for x, y in SQUARE["coordinates"][0]]
    response = _create(service_url, api_keys["admin"], site_id,
                       geometry={"type": "Polygon", "coordinates": [ring]})
    assert len(response.json()["geometry"]["coordinates"][0][0][0]) == 2


def test_change_reason_keeps_umlauts(service_url: str, api_keys: dict[str, str], site_id: int) -> None:
    created = _create(service_url, api_keys["admin"], site_id)
    pid = created.json()["id"]
    httpx.patch(f"{service_url}/api/v1/parcels/{pid}", json={"zoning": "GI"},
                headers={**_auth(api_keys["admin"]), "If-Match": created.headers["ETag"],
                         "X-Change-Reason": "Prüfung durch Bürgeramt".encode()})
    history = httpx.get(f"{service_url}/api/v1/parcels/{pid}/history",
                        headers=_auth(api_keys["admin"])).json()["entries"]
    assert history[-1]["reason"] == "Prüfung durch Bürgeramt"


def test_resending_what_was_read_is_not_a_change(service_url: str, api_keys: dict[str, str],
                                                 site_id: int) -> None:
    created = _create(service_url, api_keys["admin"], site_id,
                      user_groups=["logistik", "handwerk_gewerbe", "logistik"])
    parcel = created.json()
    assert parcel["user_groups"] == ["handwerk_gewerbe", "logistik"]
    response = httpx.patch(
        f"{service_url}/api/v1/parcels/{parcel['id']}",
        json={"geometry": parcel["geometry"], "user_groups": ["logistik", "handwerk_gewerbe"]},
        headers={**_auth(api_keys["admin"]), "If-Match": created.headers["ETag"]})
    assert response.status_code == 200
    assert response.headers["ETag"] == created.headers["ETag"]


def test_withdrawn_parcel_of_a_withdrawn_site_cannot_be_marketed(service_url: str,
                                                                 api_keys: dict[str, str],
                                                                 engine: Engine) -> None:
    with engine.begin() as conn:
        lonely_site = conn.execute(text(
            "INSERT INTO sites (name, municipality_ags) VALUES ('Verlassen', '14713000') RETURNING id"
        )).scalar_one()
    parcel = _create(service_url, api_keys["admin"], lonely_site).json()
    admin = _auth(api_keys["admin"])
    withdrawn = httpx.post(f"{service_url}/api/v1/parcels/{parcel['id']}/withdraw", headers=admin)
    assert withdrawn.status_code == 200
    assert httpx.post(f"{service_url}/api/v1/sites/{lonely_site}/withdraw", headers=admin).status_code == 200
    again = httpx.patch(f"{service_url}/api/v1/parcels/{parcel['id']}", json={"marketing_status": "verfuegbar"},
                        headers={**admin, "If-Match": withdrawn.headers["ETag"]})
    assert again.status_code == 409
