"""Settlement enquiries over HTTP (in-process): internal reads, rules, versions, withdrawal, rights."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, text

from app.domain.clock import today
from tests.resource_client import Client, problem_fields


@pytest.fixture
def admin(clients: dict[str, Client]) -> Client:
    return clients["admin"]


def _enquiry(**extra: Any) -> dict[str, Any]:
    return {"required_net_area_ha_min": 5, "required_net_area_ha_max": 12,
            "user_group": "industrie_produktion", "district_ags": "14713",
            "requirements": {"rail_siding": True}, **extra}


def test_enquiry_defaults_and_roundtrip(admin: Client, clients: dict[str, Client]) -> None:
    enquiry = admin.created("/enquiries", _enquiry())
    assert enquiry["received_on"] == today().isoformat()
    assert enquiry["outcome"] == "offen" and enquiry["version"] == 1
    assert enquiry["requirements"] == {"rail_siding": True}
    assert enquiry["created_by"].startswith("api-key:") and "test-admin" in enquiry["created_by"]
    assert enquiry["_etag"] == f'"enquiry-{enquiry["id"]}-v1"'
    got = clients["analyst"].get(f"/enquiries/{enquiry['id']}")
    assert got.status_code == 200 and got.headers["ETag"] == enquiry["_etag"]
    assert got.json()["district_name"].startswith("Leipzig")
    regional = admin.created("/enquiries", _enquiry(district_ags=None, needed_by="2030-01-01"))
    assert regional["district_ags"] is None and regional["needed_by"] == "2030-01-01"


@pytest.mark.parametrize(("change", "field"), [
    ({"received_on": "2026-03-01", "needed_by": "2026-02-28"}, "needed_by"),
    ({"needed_by": (today() - timedelta(days=1)).isoformat()}, "needed_by"),
    ({"received_on": (today() + timedelta(days=1)).isoformat()}, "received_on"),
    ({"required_net_area_ha_min": 0}, "required_net_area_ha_min"),
    ({"required_net_area_ha_max": 4}, "required_net_area_ha_max"),
    ({"user_group": "raumfahrt"}, "user_group"),
    ({"outcome": "vielleicht"}, "outcome"),
    ({"district_ags": "99999"}, "district_ags"),
    ({"requirements": ["rail"]}, "requirements"),
])
def test_invalid_enquiries_are_422_naming_the_field(admin: Client, change: dict[str, Any],
                                                   field: str) -> None:
    response = admin.post("/enquiries", _enquiry(**change))
    assert field in problem_fields(response, 422)


def test_enquiry_update_bumps_the_version_and_needs_if_match(admin: Client,
                                                             conn: Connection) -> None:
    enquiry = admin.created("/enquiries", _enquiry(received_on="2025-06-01"))
    path = f"/enquiries/{enquiry['id']}"
    # Written an hour ago (the test's writes share one transaction, hence one now()).
    conn.execute(text("UPDATE enquiries SET updated_at = updated_at - interval '1 hour' "
                      "WHERE id = :id"), {"id": enquiry["id"]})
    enquiry["updated_at"] = admin.get(path).json()["updated_at"]
    assert problem_fields(admin.patch(path, {"outcome": "angesiedelt"}, None), 428) == []
    stale_tag = f'"enquiry-{enquiry["id"]}-v4"'
    assert problem_fields(admin.patch(path, {"outcome": "angesiedelt"}, stale_tag), 412) == []
    updated = admin.patch(path, {"outcome": "angebot_unterbreitet", "outcome_note": "2 Flächen"},
                          enquiry["_etag"])
    assert updated.status_code == 200, updated.text
    assert updated.json()["version"] == 2 and updated.json()["outcome"] == "angebot_unterbreitet"
    assert updated.headers["ETag"] == f'"enquiry-{enquiry["id"]}-v2"'
    assert updated.json()["updated_at"] > enquiry["updated_at"]
    same = admin.patch(path, {"outcome": "angebot_unterbreitet"}, updated.headers["ETag"])
    assert same.status_code == 200 and same.json()["version"] == 2  # nothing really changed
    assert problem_fields(admin.patch(path, {"outcome": "abgewandert"}, enquiry["_etag"]),
                          412) == []
    early = admin.patch(path, {"needed_by": "2025-05-01"}, updated.headers["ETag"])
    assert problem_fields(early, 422) == ["needed_by"]
    assert problem_fields(admin.patch(path, {"user_group": None}, updated.headers["ETag"]),
                          422) == ["user_group"]
    assert admin.get(path).json()["version"] == 2


def test_enquiry_lists_filter_and_hide_withdrawn(admin: Client,
                                                 clients: dict[str, Client]) -> None:
    made = [admin.created("/enquiries", _enquiry(received_on=f"2011-0{m}-01", district_ags="15002",
                                                 user_group=group, outcome=outcome))["id"]
            for m, group, outcome in ((1, "logistik", "offen"), (2, "logistik", "angesiedelt"),
                                      (3, "handwerk_gewerbe", "offen"))]
    window = {"received_from": "2011-01-01", "received_to": "2011-12-31", "district": "15002"}
    analyst = clients["analyst"]
    assert problem_fields(clients["public"].get("/enquiries"), 401) == []
    listed = analyst.get("/enquiries", **window).json()["items"]
    assert [e["id"] for e in listed] == made[::-1]
    by_outcome = analyst.get("/enquiries", outcome="offen", **window).json()["items"]
    assert [e["id"] for e in by_outcome] == [made[2], made[0]]
    by_group = analyst.get("/enquiries", user_group="logistik", sort="id", **window).json()
    assert [e["id"] for e in by_group["items"]] == made[:2]
    assert problem_fields(analyst.get("/enquiries", outcome="vielleicht"), 422) == ["outcome"]
    withdrawn = admin.post(f"/enquiries/{made[1]}/withdraw")
    assert withdrawn.status_code == 200
    assert withdrawn.json()["withdrawn_at"] and withdrawn.json()["version"] == 2
    again = admin.post(f"/enquiries/{made[1]}/withdraw")
    assert again.json()["version"] == 2 and again.json()["withdrawn_at"] == withdrawn.json()[
        "withdrawn_at"]
    assert made[1] not in [e["id"] for e in analyst.get("/enquiries", **window).json()["items"]]
    everything = analyst.get("/enquiries", include_withdrawn="true", **window).json()["items"]
    assert made[1] in [e["id"] for e in everything]


def test_enquiry_writes_need_a_writer_in_the_district(clients: dict[str, Client]) -> None:
    body = _enquiry()
    assert problem_fields(clients["public"].post("/enquiries", body), 401) == []
    assert problem_fields(clients["analyst"].post("/enquiries", body), 403) == []
    assert problem_fields(clients["editor_halle"].post("/enquiries", body), 403) == []
    enquiry = clients["editor"].created("/enquiries", body)
    path = f"/enquiries/{enquiry['id']}"
    for role, status in (("public", 401), ("analyst", 403), ("editor_halle", 403)):
        assert problem_fields(clients[role].patch(path, {"outcome": "kein_angebot"},
                                                  enquiry["_etag"]), status) == []
        assert problem_fields(clients[role].post(f"{path}/withdraw"), status) == []
    moved = clients["editor"].patch(path, {"district_ags": "15002"}, enquiry["_etag"])
    assert problem_fields(moved, 403) == []
    assert clients["editor"].post(f"{path}/withdraw").status_code == 200
