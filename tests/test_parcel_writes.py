"""Writing parcels over HTTP (in-process, on the test's transaction): who may, optimistic
locking, history, bad input."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Connection, text

from tests.conftest import ROLES, Clock
from tests.resource_client import Client
from tests.shapes import insert_site

LEIPZIG_SQUARE = {"type": "Polygon", "coordinates": [[
    [12.300, 51.300], [12.304, 51.300], [12.304, 51.3025], [12.300, 51.3025], [12.300, 51.300]]]}
HALLE_SQUARE = {"type": "Polygon", "coordinates": [[
    [11.970, 51.480], [11.974, 51.480], [11.974, 51.4825], [11.970, 51.4825], [11.970, 51.480]]]}
BOWTIE = {"type": "Polygon", "coordinates": [[
    [12.300, 51.300], [12.304, 51.3025], [12.304, 51.300], [12.300, 51.3025], [12.300, 51.300]]]}


def _body(site_id: int, geometry: dict[str, Any] = LEIPZIG_SQUARE, **extra: Any) -> dict[str, Any]:
    return {"site_id": site_id, "geometry": geometry, "category": "erweiterungsflaeche",
            "user_groups": ["handwerk_gewerbe"], "servicing": "erschlossen", **extra}


@pytest.fixture
def site_ids(conn: Connection) -> dict[str, int]:
    """A test site in Leipzig and one in Halle."""
    return {ags: insert_site(conn, ags, name=f"Testgebiet {ags}") for ags in ("14713000", "15002000")}


@pytest.fixture
def admin(clients: dict[str, Client]) -> Client:
    return clients["admin"]


def _new_parcel(admin: Client, site_id: int, geometry: dict[str, Any] = LEIPZIG_SQUARE) -> tuple[int, str]:
    response = admin.post("/parcels", _body(site_id, geometry))
    assert response.status_code == 201, response.text
    return response.json()["id"], response.headers["ETag"]


def _counts(conn: Connection) -> tuple[int, int, int]:
    return tuple(conn.execute(text(
        "SELECT (SELECT count(*) FROM parcels), (SELECT count(*) FROM parcel_history), "
        "(SELECT count(*) FROM land_sales)")).one())  # type: ignore[return-value]


def test_create_derives_location_areas_and_distances(admin: Client, site_ids: dict[str, int]) -> None:
    response = admin.post("/parcels", _body(site_ids["14713000"], servicing="unerschlossen"))
    assert response.status_code == 201
    parcel = response.json()
    assert parcel["district_ags"] == "14713" and parcel["municipality_ags"] == "14713000"
    assert parcel["gross_area_ha"] == pytest.approx(7.72, abs=0.05)  # 0.004° × 0.0025° at 51.3° N
    assert parcel["net_area_ha"] == pytest.approx(0.75 * parcel["gross_area_ha"])
    assert parcel["net_area_derived"] is True
    assert parcel["distance_junction_km"] is not None and parcel["distance_airport_km"] is not None
    assert response.headers["Location"].endswith(f"/api/v1/parcels/{parcel['id']}")
    assert response.headers["ETag"] == f'"parcel-{parcel["id"]}-v1"'


#: Expected status per role (tests.conftest.ROLES) for actions on a Leipzig parcel (editor:
#: Leipzig only).
MATRIX: dict[str, tuple[int, int, int, int, int]] = {
    "create": (401, 403, 201, 403, 201),
    "update": (401, 403, 200, 403, 200),
    "verify": (401, 403, 200, 403, 200),
    "withdraw": (401, 403, 200, 403, 200),
    "sell": (401, 403, 200, 403, 200),
    "history": (401, 200, 200, 200, 200),
    "freshness": (401, 200, 200, 200, 200),
}


@pytest.mark.parametrize("action", MATRIX)
@pytest.mark.parametrize("role", ROLES)
def test_permission_matrix(clients: dict[str, Client], admin: Client, site_ids: dict[str, int],
                           role: str, action: str) -> None:
    api = clients[role]
    pid, etag = _new_parcel(admin, site_ids["14713000"])
    if action == "create":
        response = api.post("/parcels", _body(site_ids["14713000"]))
    elif action == "update":
        response = api.patch(f"/parcels/{pid}", {"zoning": "GI"}, etag)
    elif action in ("verify", "withdraw"):
        response = api.post(f"/parcels/{pid}/{action}")
    elif action == "sell":
        response = api.post(f"/parcels/{pid}/sell",
                            {"sale_date": "2026-01-15", "buyer_user_group": "logistik"})
    elif action == "history":
        response = api.get(f"/parcels/{pid}/history")
    else:
        response = api.get("/freshness")
    assert response.status_code == MATRIX[action][ROLES.index(role)], response.text
    if response.status_code >= 400:
        assert response.headers["content-type"] == "application/problem+json"
    if response.status_code == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_editor_cannot_move_a_parcel_out_of_its_district(clients: dict[str, Client], admin: Client,
                                                         site_ids: dict[str, int]) -> None:
    pid, etag = _new_parcel(admin, site_ids["14713000"])
    response = clients["editor"].patch(f"/parcels/{pid}", {"geometry": HALLE_SQUARE}, etag)
    assert response.status_code == 403
    assert admin.get(f"/parcels/{pid}").json()["district_ags"] == "14713"


def test_stale_if_match_gets_412_and_changes_nothing(admin: Client, site_ids: dict[str, int],
                                                    conn: Connection) -> None:
    pid, etag = _new_parcel(admin, site_ids["14713000"])
    assert admin.patch(f"/parcels/{pid}", {"zoning": "GE"}, etag).status_code == 200
    before = _counts(conn)
    stale = admin.patch(f"/parcels/{pid}", {"zoning": "GI"}, etag)
    assert stale.status_code == 412
    assert admin.get(f"/parcels/{pid}").json()["zoning"] == "GE"
    assert _counts(conn) == before
    assert admin.patch(f"/parcels/{pid}", {"zoning": "GI"}, None).status_code == 428


def test_history_reconstructs_past_states(admin: Client, site_ids: dict[str, int],
                                          clock: Clock) -> None:
    """Three writes at three set times (the history's clock, migration 0007); the state at
    each entry's time, and between two, is the one written then."""
    times = [datetime(2026, 1, 15, hour, tzinfo=UTC) for hour in (9, 10, 11)]
    clock.set_db_now(times[0])
    pid, etag = _new_parcel(admin, site_ids["14713000"])
    clock.set_db_now(times[1])
    first = admin.patch(f"/parcels/{pid}", {"availability": "kurzfristig", "price_eur_m2": 40}, etag)
    assert first.status_code == 200, first.text
    clock.set_db_now(times[2])
    second = admin.patch(f"/parcels/{pid}", {"availability": "sofort"}, first.headers["ETag"])
    assert second.status_code == 200, second.text
    path = f"/parcels/{pid}/history"
    history = admin.get(path).json()["entries"]
    assert [e["operation"] for e in history] == ["insert", "update", "update"]
    assert [datetime.fromisoformat(e["changed_at"]) for e in history] == times
    assert history[1]["changes"]["availability"] == {"old": "unbekannt", "new": "kurzfristig"}
    assert history[1]["actor"].startswith("api-key:") and history[1]["reason"] == "Fläche geändert"
    expected = ["unbekannt", "kurzfristig", "sofort"]
    for entry, availability in zip(history, expected, strict=True):
        state = admin.get(path, at=entry["changed_at"]).json()["state"]
        assert state["availability"] == availability
        assert state["geometry"]["type"] == "MultiPolygon"
    between = admin.get(path, at="2026-01-15T10:30:00Z").json()["state"]
    assert between["availability"] == "kurzfristig"
    assert admin.get(path, at="2026-01-15T08:59:59Z").status_code == 404
    assert admin.get(path, at="2000-01-01T00:00:00Z").status_code == 404


def test_withdraw_hides_from_public_but_keeps_everything(clients: dict[str, Client], admin: Client,
                                                         site_ids: dict[str, int]) -> None:
    pid, _ = _new_parcel(admin, site_ids["14713000"])
    assert admin.post(f"/parcels/{pid}/withdraw").json()["marketing_status"] == "zurueckgezogen"
    assert clients["public"].get(f"/parcels/{pid}").status_code == 404
    assert admin.get(f"/parcels/{pid}").status_code == 200


def test_sell_records_a_land_sale(admin: Client, site_ids: dict[str, int], conn: Connection) -> None:
    pid, _ = _new_parcel(admin, site_ids["14713000"])
    response = admin.post(f"/parcels/{pid}/sell", {
        "sale_date": "2026-03-01", "buyer_user_group": "logistik", "buyer_origin": "international",
        "price_eur_m2": 55})
    assert response.status_code == 200
    assert response.json()["marketing_status"] == "verkauft"
    sale = conn.execute(text("SELECT s.area_ha, p.net_area_ha, s.district_ags, s.buyer_user_group "
                             "FROM land_sales s JOIN parcels p ON p.id = s.parcel_id "
                             "WHERE s.parcel_id = :id"), {"id": pid}).one()
    assert sale.area_ha == pytest.approx(sale.net_area_ha)
    assert (sale.district_ags, sale.buyer_user_group) == ("14713", "logistik")
    again = {"sale_date": "2026-03-02", "buyer_user_group": "logistik"}
    assert admin.post(f"/parcels/{pid}/sell", again).status_code == 409
    assert admin.patch(f"/parcels/{pid}", {"marketing_status": "verfuegbar"},
                       response.headers["ETag"]).status_code == 409
    assert admin.post(f"/parcels/{pid}/withdraw").status_code == 409


def test_verify_sets_last_verified(admin: Client, site_ids: dict[str, int], conn: Connection) -> None:
    pid, _ = _new_parcel(admin, site_ids["14713000"])
    conn.execute(text("UPDATE parcels SET last_verified_at = now() - interval '400 days' WHERE id = :id"),
                 {"id": pid})
    overdue = admin.get("/freshness", district="14713").json()
    assert pid in [p["id"] for p in overdue["districts"][0]["overdue"]]
    assert admin.post(f"/parcels/{pid}/verify").status_code == 200
    overdue = admin.get("/freshness", district="14713").json()
    assert pid not in [p["id"] for p in overdue["districts"][0]["overdue"]]


BAD_INPUTS: list[tuple[str, dict[str, Any], dict[str, Any], int, str | None]] = [
    ("self-intersecting", {"geometry": BOWTIE}, {}, 422, "geometry"),
    ("point", {"geometry": {"type": "Point", "coordinates": [12.3, 51.3]}}, {}, 422, "geometry.type"),
    ("line", {"geometry": {"type": "LineString", "coordinates": [[12.3, 51.3], [12.31, 51.31]]}}, {}, 422,
     "geometry.type"),
    ("garbage coordinates", {"geometry": {"type": "Polygon", "coordinates": [[[1, 2]]]}}, {}, 422, "geometry.coordinates"),
    ("outside region", {"geometry": {"type": "Polygon", "coordinates": [[
        [11.0, 54.5], [11.01, 54.5], [11.01, 54.51], [11.0, 54.5]]]}}, {}, 422, "geometry"),
    ("lon/lat declared as 25832", {}, {"crs": "EPSG:25832"}, 422, "geometry"),
    ("unsupported crs", {}, {"crs": "EPSG:3857"}, 422, "crs"),
    ("unknown code", {"category": "acker"}, {}, 422, "category"),
    ("unknown group", {"user_groups": ["raumfahrt"]}, {}, 422, "user_groups"),
    ("no user group", {"user_groups": []}, {}, 422, "user_groups"),
    ("net above gross", {"net_area_ha": 500}, {}, 422, "net_area_ha"),
    ("causes without restriction", {"restriction_level": "keine", "restriction_causes": ["altlasten"]}, {},
     422, None),
    ("sofort but later", {"availability": "sofort", "available_from": "2099-01-01"}, {}, 422, None),
    ("date out of range", {"available_from": "1850-01-01"}, {}, 422, "available_from"),
    ("derived field sent", {"gross_area_ha": 3}, {}, 422, "gross_area_ha"),
    ("status via patch", {"marketing_status": "verkauft"}, {}, 422, "marketing_status"),
    ("unknown site", {"site_id": 99999999}, {}, 422, "site_id"),
]


@pytest.mark.parametrize(("case", "override", "params", "status", "field"), BAD_INPUTS,
                         ids=[c[0] for c in BAD_INPUTS])
def test_bad_input_is_a_problem_and_writes_nothing(admin: Client, site_ids: dict[str, int], conn: Connection,
                                                   case: str, override: dict[str, Any],
                                                   params: dict[str, Any], status: int,
                                                   field: str | None) -> None:
    before = _counts(conn)
    response = admin.post("/parcels", {**_body(site_ids["14713000"]), **override}, **params)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == status and problem["detail"]
    if field:
        assert problem["errors"][0]["field"] == field
    assert all(e["reason"] for e in problem.get("errors", []))
    assert _counts(conn) == before


def test_repair_on_request_is_reported(admin: Client, site_ids: dict[str, int]) -> None:
    response = admin.post("/parcels", _body(site_ids["14713000"], BOWTIE), repair_geometry="true")
    assert response.status_code == 201
    assert "Self-intersection" in response.json()["notes"][0]


def test_oversized_body_gets_413_and_writes_nothing(admin: Client, site_ids: dict[str, int],
                                                    conn: Connection) -> None:
    before = _counts(conn)
    huge = _body(site_ids["14713000"], internal_notes="x" * 3_000_000)
    response = admin.post("/parcels", huge)
    assert response.status_code == 413
    assert response.json()["errors"][0]["field"] == "body"
    assert _counts(conn) == before


def test_malformed_json_is_a_problem(admin: Client) -> None:
    response = admin.http.post(admin.base + "/parcels", content=b"{not json",
                               headers={**admin.headers, "Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
