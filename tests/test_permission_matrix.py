"""The whole permission matrix, role × resource × action, over HTTP (in-process), in one table.

Roles: the public (no key), an analyst, an editor for Leipzig (14713), an editor for Halle
(15002) and an admin. Every write targets Leipzig, so the Halle editor stands for "editor
outside its district". Each cell is the status the role must get; every 4xx is problem+json
and every 401 carries a Bearer challenge. (Parcel-specific actions such as verify, sell and
history have their own matrix in ``test_parcel_writes.py``.)
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Connection

from tests.conftest import ROLES
from tests.resource_client import Client
from tests.shapes import insert_site

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


@pytest.fixture
def leipzig_site(conn: Connection) -> int:
    return insert_site(conn, name="Matrix-Standort")


def _create_as_admin(admin: Client, resource: str, site_id: int) -> tuple[int, str]:
    path, _, body, _ = RESOURCES[resource]
    if resource == "parcels":
        body = {**body, "site_id": site_id}
    response = admin.post(path, body)
    assert response.status_code == 201, response.text
    return response.json()["id"], response.headers["ETag"]


@pytest.mark.parametrize(("resource", "action"), list(MATRIX), ids=[f"{r}-{a}" for r, a in MATRIX])
@pytest.mark.parametrize("role", ROLES)
def test_matrix(clients: dict[str, Client], leipzig_site: int, role: str, resource: str,
                action: str) -> None:
    client = clients[role]
    expected = MATRIX[(resource, action)][ROLES.index(role)]
    if resource in ("districts", "municipalities"):
        path = f"/{resource}"
        one = "/14713" if resource == "districts" else "/14713000"
        if action == "list":
            response = client.get(path)
        elif action == "get":
            response = client.get(path + one)
        else:
            response = client.post(path, {})
    elif action == "list":
        response = client.get(RESOURCES[resource][0])
    elif action == "create":
        path, _, body, _ = RESOURCES[resource]
        body = {**body, "site_id": leipzig_site} if resource == "parcels" else body
        response = client.post(path, body)
        expected = expected or 201
    else:
        item_id, etag = _create_as_admin(clients["admin"], resource, leipzig_site)
        item = f"{RESOURCES[resource][0]}/{item_id}"
        if action == "get":
            response = client.get(item)
        elif action == "update":
            response = client.patch(item, RESOURCES[resource][3], etag)
        else:
            response = client.post(item + "/withdraw")
        expected = expected or 200
    assert response.status_code == expected, response.text
    if response.status_code >= 400:
        assert response.headers["content-type"] == "application/problem+json"
    if response.status_code == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
