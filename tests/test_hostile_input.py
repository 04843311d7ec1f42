"""Hostile input gets a 4xx problem naming the field, never a 500 or a quoted database error.

Every test talks to the service over HTTP, in-process (see ``clients`` in conftest).
"""

from __future__ import annotations

import base64
import re
from typing import Any

import httpx
import pytest
from pyproj import Transformer
from sqlalchemy import Connection

from tests.resource_client import LEIPZIG_SQUARE, Client, problem_fields
from tests.shapes import insert_site

#: 1000 nested JSON arrays: Python's json module recurses once per level.
DEEP_JSON = b"[" * 1000 + b"]" * 1000


def _token(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _numbers(reason: str) -> set[float]:
    return {float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", reason)}


def _reason(response: httpx.Response, field: str) -> str:
    """The reason given for ``field`` in a 422 problem (asserting there is one)."""
    assert field in problem_fields(response, 422), response.text
    reasons = [e["reason"] for e in response.json()["errors"] if e["field"] == field]
    return str(reasons[0])


@pytest.fixture
def site_id(conn: Connection) -> int:
    return insert_site(conn, name="Feindliche Eingaben")


@pytest.mark.parametrize(("path", "role"), [
    ("/parcels", "public"), ("/sites", "public"), ("/land-sales", "analyst")])
def test_deeply_nested_cursor_is_a_400_naming_cursor(clients: dict[str, Any], path: str,
                                                     role: str) -> None:
    response = clients[role].get(path, cursor=_token(DEEP_JSON))
    assert problem_fields(response, 400) == ["cursor"]


@pytest.mark.parametrize("params", [
    {"bbox": "0,0,1e8,1e8", "bbox-crs": "EPSG:25833"},          # beyond the projection
    {"bbox": "0,0,1,1", "bbox-crs": "EPSG:25833"},              # off the area of use
    {"bbox": "-1e12,5e6,1e12,6e6", "bbox-crs": "EPSG:25833"},
])
def test_bbox_outside_the_area_of_use_of_its_crs_is_a_400_naming_bbox(
        clients: dict[str, Any], params: dict[str, str]) -> None:
    response = clients["public"].get("/parcels", **params)
    assert problem_fields(response, 400) == ["bbox"]
    assert "area of use" in response.json()["errors"][0]["reason"]


def test_a_utm_33_bbox_reaching_west_of_its_area_of_use_still_works(
        clients: dict[str, Any]) -> None:
    # A guard for the check above: the Revier reaches west of 12° E, outside the area of
    # use of EPSG:25833, and a box that overlaps the area of use finds parcels there too.
    to_utm33 = Transformer.from_crs(4326, 25833, always_xy=True)
    box = to_utm33.transform_bounds(11.0, 51.0, 11.9, 51.7, densify_pts=21)
    response = clients["public"].get("/parcels", bbox=",".join(f"{v:.0f}" for v in box),
                                     **{"bbox-crs": "EPSG:25833"})
    assert response.status_code == 200, response.text
    assert response.json()["numberReturned"] > 0


def _raw_json(client: Client, method: str, path: str, body: str,
              etag: str | None = None) -> httpx.Response:
    """Send ``body`` as it is: json.dumps cannot produce a lone surrogate escape for us."""
    headers = {**client.headers, "Content-Type": "application/json",
               **({"If-Match": etag} if etag else {})}
    return client.http.request(method, client.base + path, content=body.encode("ascii"),
                               headers=headers)


@pytest.mark.parametrize("requirements", ['{"\\ud800": true}', '{"note": "a\\ud800b"}',
                                          '{"list": [["\\udfff"]]}'])
def test_lone_surrogate_in_requirements_is_a_422(clients: dict[str, Any],
                                                 requirements: str) -> None:
    admin = clients["admin"]
    body = ('{"required_net_area_ha_min": 2, "user_group": "logistik", '
            f'"requirements": {requirements}}}')
    created = _raw_json(admin, "POST", "/enquiries", body)
    assert problem_fields(created, 422) == ["requirements"]

    enquiry = admin.created("/enquiries", {"required_net_area_ha_min": 2,
                                           "user_group": "logistik"})
    patched = _raw_json(admin, "PATCH", f"/enquiries/{enquiry['id']}",
                        f'{{"requirements": {requirements}}}', etag=enquiry["_etag"])
    assert problem_fields(patched, 422) == ["requirements"]


def _parcel(site: int, **extra: Any) -> dict[str, Any]:
    return {"site_id": site, "geometry": LEIPZIG_SQUARE, "category": "erweiterungsflaeche",
            "user_groups": ["logistik"], "servicing": "erschlossen", **extra}


def _sale(**extra: Any) -> dict[str, Any]:
    return {"sale_date": "2020-05-04", "area_ha": 2.5, "district_ags": "14713", **extra}


@pytest.mark.parametrize(("path", "body", "field", "low", "high"), [
    ("/parcels", {"price_eur_m2": 1e12}, "price_eur_m2", 0, 99999999.99),
    ("/parcels", {"broadband_mbps": 2**31}, "broadband_mbps", 0, 2147483647),
    ("/parcels", {"grid_capacity_mw": 1e7}, "grid_capacity_mw", 0, 999999.99),
    ("/parcels", {"site_id": 2**63}, "site_id", 1, 9007199254740991),
    ("/land-sales", _sale(price_eur_m2=1e12), "price_eur_m2", 0, 99999999.99),
    ("/land-sales", _sale(parcel_id=2**63), "parcel_id", 1, 9007199254740991),
    ("/enquiries", {"required_net_area_ha_min": 1e9, "user_group": "logistik"},
     "required_net_area_ha_min", 0, 100000),
    ("/matches", {"net_area_min_ha": 5, "user_group": "logistik", "limit": 2**31}, "limit",
     1, 50),
])
def test_numbers_beyond_their_column_name_the_field_and_its_range(
        clients: dict[str, Any], site_id: int, path: str, body: dict[str, Any], field: str,
        low: float, high: float) -> None:
    if path == "/parcels":
        body = _parcel(site_id, **body)
    response = clients["admin"].post(path, body)
    reason = _reason(response, field)
    assert {low, high} <= _numbers(reason), reason
    for database_words in ("numeric field overflow", "out of range for type", "precision"):
        assert database_words not in response.text


def test_two_authorization_headers_are_refused(clients: dict[str, Client]) -> None:
    public, admin = clients["public"], clients["admin"].headers["Authorization"]
    for second in (admin, "Bearer somebody-elses-key"):
        response = public.http.get(public.base + "/parcels",
                                   headers=[("Authorization", admin), ("Authorization", second)])
        assert problem_fields(response, 400) == ["Authorization"]
