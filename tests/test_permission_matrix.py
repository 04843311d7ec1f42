"""The whole permission matrix, role × resource × action, over real HTTP, in one table.

Roles: the public (no key), an analyst, an editor for Leipzig (14713), an editor for Halle
(15002) and an admin. Every write targets Leipzig, so the Halle editor stands for "editor
outside its district". Each cell is the status the role must get; every 4xx is problem+json
and every 401 carries a Bearer challenge. (Parcel-specific actions such as verify, sell and
history have their own matrix in ``test_parcel_writes.py``.)
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, text

ROLES = ("public", "analyst", "editor", "editor_halle", "admin")
LEIPZIG_POLYGON = {"type": "Polygon", "coordinates": [[
    [12.310, 51.310], [12.312, 51.310], [12.312, 51.3115], [12.310, 51.3115], [12.310, 51.310]]]}

WRITE = (401, 403, None, 403, None)  # None: the resource's success status
READ_PUBLIC = (200, 200, 200, 200, 200)
READ_INTERNAL = (401, 200, 200, 200, 200)

#: resource → (collection path, ETag prefix, create body, patch body)
RESOURCES: dict[str, tuple[str, str, dict[str, Any], dict[str, Any]]] = {
    "parcels": ("/parcels", "parcel", {
        "geometry": LEIPZIG_POLYGON, "category": "erweiterungsflaeche",
        "user_groups": ["logistik"], "servicing": "erschlossen"}, {"zoning": "GE"}),
    "sites": ("/sites", "site", {"name": "Matrixgebiet", "municipality_ags": "14713000"},
              {"description": "geprüft"}),
    "land_sales": ("/land-sales", "land-sale", {
        "sale_date": "2024-05-02", "municipality_ags": "14713000", "area_ha": 1.5,
        "buyer_user_group": "logistik"}, {"price_eur_m2": 42}),
    "enquiries": ("/enquiries", "enquiry", {
        "district_ags": "14713", "required_net_area_ha_min": 4, "user_group": "logistik"},
        {"outcome_note": "Rückruf vereinbart"}),
}

#: (resource, action) → expected status per role.
MATRIX: dict[tuple[str, str], tuple[int | None, ...]] = {
    **{(r, "list"): READ_PUBLIC for r in ("parcels", "sites")},
    **{(r, "get"): READ_PUBLIC for r in ("parcels", "sites")},
    **{(r, "list"): READ_INTERNAL for r in ("land_sales", "enquiries")},
    **{(r, "get"): READ_INTERNAL for r in ("land_sales", "enquiries")},
    **{(r, action): WRITE for r in RESOURCES for action in ("create", "update", "withdraw")},
    ("districts", "list"): READ_PUBLIC,
    ("districts", "get"): READ_PUBLIC,
    ("municipalities", "list"): READ_PUBLIC,
    ("municipalities", "get"): READ_PUBLIC,
    ("districts", "create"): (405,) * 5,
    ("municipalities", "create"): (405,) * 5,
}


@pytest.fixture(scope="module")
def leipzig_site(engine: Engine, demo_loaded: dict[str, int]) -> int:
    with engine.begin() as conn:
        site_id: int = conn.execute(text(
            "INSERT INTO sites (name, municipality_ags) VALUES ('Matrix-Standort', '14713000') "
            "RETURNING id")).scalar_one()
    return site_id


def _headers(api_keys: dict[str, str], role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_keys[role]}"} if role in api_keys else {}


def _create_as_admin(base: str, api_keys: dict[str, str], resource: str, site_id: int) -> tuple[int, str]:
    path, _, body, _ = RESOURCES[resource]
    if resource == "parcels":
        body = {**body, "site_id": site_id}
    response = httpx.post(base + path, json=body, headers=_headers(api_keys, "admin"))
    assert response.status_code == 201, response.text
    return response.json()["id"], response.headers["ETag"]


@pytest.mark.parametrize(("resource", "action"), list(MATRIX), ids=[f"{r}-{a}" for r, a in MATRIX])
@pytest.mark.parametrize("role", ROLES)
def test_matrix(service_url: str, api_keys: dict[str, str], leipzig_site: int, role: str,
                resource: str, action: str) -> None:
    base = service_url + "/api/v1"
    headers = _headers(api_keys, role)
    expected = MATRIX[(resource, action)][ROLES.index(role)]
    if resource in ("districts", "municipalities"):
        path = f"/{resource}"
        one = "/14713" if resource == "districts" else "/14713000"
        if action == "list":
            response = httpx.get(base + path, headers=headers)
        elif action == "get":
            response = httpx.get(base + path + one, headers=headers)
        else:
            response = httpx.post(base + path, json={}, headers=headers)
    elif action == "list":
        response = httpx.get(base + RESOURCES[resource][0], headers=headers)
    elif action == "create":
        path, _, body, _ = RESOURCES[resource]
        body = {**body, "site_id": leipzig_site} if resource == "parcels" else body
        response = httpx.post(base + path, json=body, headers=headers)
        expected = expected or 201
    else:
        item_id, etag = _create_as_admin(base, api_keys, resource, leipzig_site)
        item = f"{RESOURCES[resource][0]}/{item_id}"
        if action == "get":
            response = httpx.get(base + item, headers=headers)
        elif action == "update":
            response = httpx.patch(base + item, json=RESOURCES[resource][3],
                                   headers={**headers, "If-Match": etag})
        else:
            response = httpx.post(base + item + "/withdraw", headers=headers)
        expected = expected or 200
    assert response.status_code == expected, response.text
    if response.status_code >= 400:
        assert response.headers["content-type"] == "application/problem+json"
    if response.status_code == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
