"""Role rules on every OGC collection: the public never sees a withheld field or row.

Walks collections × roles × the parameters through which a value could leak (``properties``,
``filter``, ``sortby``, single items): a field the public may not see is unknown to it (400),
never an empty or null answer that would confirm it exists; a field the editor may release
per parcel is visible only where released, and filtering or sorting on it cannot tell
released from withheld values apart.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import Connection, text

from app.domain.parcel_fields import PARCEL_FIELDS, Visibility

INTERNAL = [f.name for f in PARCEL_FIELDS if f.visibility is Visibility.INTERNAL and f.in_json]
DISCLOSABLE = [f.name for f in PARCEL_FIELDS if f.visibility is Visibility.DISCLOSABLE]
NOT_QUERYABLE = {f.name for f in PARCEL_FIELDS if not f.queryable}
SORTABLE = [f.name for f in PARCEL_FIELDS if f.sortable]
PUBLIC_ROWS = "p.marketing_status IN ('verfuegbar', 'reserviert') AND s.withdrawn_at IS NULL"
#: Staff-only properties of the other collections.
STAFF_ONLY = {"sites": ["withdrawn_at"]}
COLLECTIONS = ["parcels", "sites", "districts", "municipalities", "infrastructure"]


def _headers(api_keys: dict[str, str], role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_keys[role]}"} if role in api_keys else {}


def _all(http: httpx.Client, collection: str, headers: dict[str, str], **params: Any
         ) -> list[dict[str, Any]]:
    response = http.get(f"/collections/{collection}/items",
                        params={"limit": 10_000, **params}, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert not [link for link in body["links"] if link["rel"] == "next"]
    return list(body["features"])


def test_the_walk_covers_real_withheld_fields() -> None:
    assert {"owner_name", "internal_notes"} <= set(INTERNAL)
    assert {"price_eur_m2", "contact_email"} <= set(DISCLOSABLE)


@pytest.mark.parametrize("collection", COLLECTIONS)
def test_public_requests_naming_a_withheld_field_are_refused(
        http: httpx.Client, collection: str) -> None:
    hidden = INTERNAL if collection == "parcels" else STAFF_ONLY.get(collection, [])
    for name in hidden:
        for params in ({"properties": name}, {"sortby": name}, {"sortby": f"-{name}"},
                       {"filter": f"{name} IS NULL"}, {"filter": f"{name} IS NOT NULL"}):
            response = http.get(f"/collections/{collection}/items", params=params)
            assert response.status_code in (400, 422), (collection, params, response.text)
            assert name in response.text
        queryables = http.get(f"/collections/{collection}/queryables").json()["properties"]
        sortables = http.get(f"/collections/{collection}/sortables").json()["properties"]
        assert name not in queryables and name not in sortables


@pytest.mark.parametrize("collection", COLLECTIONS)
@pytest.mark.parametrize("role", ["public", "analyst", "editor", "admin"])
def test_features_hold_only_fields_the_role_may_see(
        http: httpx.Client, api_keys: dict[str, str], collection: str, role: str) -> None:
    headers = _headers(api_keys, role)
    features = _all(http, collection, headers)
    assert features
    seen = set().union(*(f["properties"] for f in features))
    allowed = set(http.get(f"/collections/{collection}/queryables",
                           headers=headers).json()["properties"])
    hidden = INTERNAL if collection == "parcels" else STAFF_ONLY.get(collection, [])
    if role == "public":
        assert not seen & set(hidden), seen & set(hidden)
    else:
        assert set(hidden) <= seen
    assert seen - NOT_QUERYABLE <= allowed
    one = http.get(f"/collections/{collection}/items/{features[0]['id']}", headers=headers)
    assert one.status_code == 200
    if role == "public":
        assert not set(one.json()["properties"]) & set(hidden)


def test_public_parcel_rows_are_the_public_ones(http: httpx.Client, conn: Connection) -> None:
    ids = {f["id"] for f in _all(http, "parcels", {})}
    expected = set(conn.execute(text(
        f"SELECT p.id FROM parcels p JOIN sites s ON s.id = p.site_id WHERE {PUBLIC_ROWS}"
    )).scalars())
    assert ids == expected


@pytest.mark.parametrize("name", DISCLOSABLE)
def test_disclosable_fields_show_and_filter_only_where_released(
        http: httpx.Client, conn: Connection, name: str) -> None:
    released = set(conn.execute(text(
        f"SELECT p.id FROM parcels p JOIN sites s ON s.id = p.site_id WHERE {PUBLIC_ROWS} "
        f"AND p.{name} IS NOT NULL AND :name = ANY(p.public_fields)"), {"name": name}).scalars())
    features = _all(http, "parcels", {})
    shown = {f["id"] for f in features if f["properties"].get(name) is not None}
    assert shown == released
    filtered = {f["id"] for f in _all(http, "parcels", {}, filter=f"{name} IS NOT NULL")}
    assert filtered == released
    if name in SORTABLE:
        ordered = [f["id"] for f in _all(http, "parcels", {}, sortby=name)]
        assert set(ordered[:len(released)]) == released


def test_staff_see_what_the_public_may_not(http: httpx.Client, api_keys: dict[str, str],
                                           conn: Connection) -> None:
    headers = _headers(api_keys, "analyst")
    owners = _all(http, "parcels", headers, filter="owner_name IS NOT NULL")
    assert len(owners) == conn.execute(text(
        "SELECT count(*) FROM parcels WHERE owner_name IS NOT NULL")).scalar_one() > 0
    sales = _all(http, "land_sales", headers)
    assert len(sales) == conn.execute(text(
        "SELECT count(*) FROM land_sales WHERE withdrawn_at IS NULL")).scalar_one()


@pytest.mark.parametrize("path", ["/collections/land_sales", "/collections/land_sales/items",
                                  "/collections/land_sales/queryables",
                                  "/collections/land_sales/sortables",
                                  "/collections/land_sales/items/1"])
def test_land_sales_do_not_exist_for_the_public(http: httpx.Client, path: str) -> None:
    assert http.get(path).status_code == 404
