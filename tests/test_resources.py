"""Districts, municipalities and sites over HTTP (in-process, on the test's transaction).

Land sales and enquiries are in ``test_resource_sales.py`` and ``test_resource_enquiries.py``.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Connection, text

from tests.resource_client import (
    HALLE_SQUARE,
    LEIPZIG_SQUARE,
    Client,
    all_coordinates,
    problem_fields,
)

ATTRIBUTION = ("© GeoBasis-DE / BKG 2017 (Daten verändert); Verwaltungsgrenzen VG250, "
               "Gebietsstand 01.01.2016")


@pytest.fixture
def public(clients: dict[str, Client]) -> Client:
    return clients["public"]


@pytest.fixture
def analyst(clients: dict[str, Client]) -> Client:
    return clients["analyst"]


@pytest.fixture
def editor(clients: dict[str, Client]) -> Client:
    return clients["editor"]


@pytest.fixture
def editor_halle(clients: dict[str, Client]) -> Client:
    return clients["editor_halle"]


@pytest.fixture
def admin(clients: dict[str, Client]) -> Client:
    return clients["admin"]


# --- districts and municipalities -------------------------------------------------------


def test_districts_list_the_nine_with_active_parcels(public: Client, conn: Connection) -> None:
    response = public.get("/districts")
    assert response.status_code == 200
    body = response.json()
    assert body["attribution"] == ATTRIBUTION
    items = body["items"]
    assert len(items) == 9 == body["numberReturned"]
    assert [d["ags"] for d in items] == sorted(d["ags"] for d in items)
    assert {"ags", "key", "name", "kind", "state", "nuts3", "seat", "area_km2",
            "active_parcels", "active_net_area_ha"} <= set(items[0])
    assert "geometry" not in items[0]
    expected = dict(conn.execute(text(
        "SELECT p.district_ags, count(*) FROM parcels p JOIN sites s ON s.id = p.site_id "
        "WHERE p.marketing_status IN ('verfuegbar', 'reserviert') AND s.withdrawn_at IS NULL "
        "GROUP BY 1")).all())
    assert expected.get("14713", 0) >= 2  # the demo's two parcels
    assert {d["ags"]: d["active_parcels"] for d in items} == {
        d["ags"]: expected.get(d["ags"], 0) for d in items}
    leipzig = next(d for d in items if d["ags"] == "14713")
    assert leipzig["kind"] == "kreisfreie_stadt" and leipzig["state"] == "Sachsen"
    assert 250 < leipzig["area_km2"] < 330  # Leipzig: about 298 km²
    assert leipzig["active_net_area_ha"] > 0


def test_districts_geojson_is_lon_lat_by_default(public: Client) -> None:
    response = public.get("/districts", f="geojson")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/geo+json")
    body = response.json()
    assert body["type"] == "FeatureCollection" and body["attribution"] == ATTRIBUTION
    assert len(body["features"]) == 9
    for feature in body["features"]:
        assert feature["type"] == "Feature" and feature["id"] == feature["properties"]["ags"]
        assert feature["geometry"]["type"] in ("Polygon", "MultiPolygon")
        coords = all_coordinates(feature["geometry"])
        assert all(10.5 < x < 13.5 and 50.5 < y < 52.5 for x, y in coords)


def test_districts_geojson_in_utm_and_simplified(public: Client) -> None:
    full = public.get("/districts/14713", f="geojson", crs="EPSG:25832")
    assert full.status_code == 200
    assert full.headers["Content-Crs"] == "<http://www.opengis.net/def/crs/EPSG/0/25832>"
    coords = all_coordinates(full.json()["geometry"])
    assert all(715_000 < x < 760_000 and 5_670_000 < y < 5_715_000 for x, y in coords)
    simplified = public.get("/districts/14713", f="geojson", crs="EPSG:25832", simplify_m=500)
    assert simplified.json()["attribution"] == ATTRIBUTION
    assert 4 <= len(all_coordinates(simplified.json()["geometry"])) < len(coords)


def test_one_district_and_unknown_ones(public: Client) -> None:
    response = public.get("/districts/15002")
    assert response.status_code == 200
    assert response.json()["name"].startswith("Halle")
    assert problem_fields(public.get("/districts/99999"), 404) == []
    assert problem_fields(public.get("/districts/1471"), 422) == ["ags"]


def test_municipalities_list_filter_and_one(public: Client) -> None:
    everything = public.get("/municipalities").json()["items"]
    assert len(everything) == 187
    leipzig_land = public.get("/municipalities", district="14729").json()["items"]
    assert leipzig_land and all(m["ags"].startswith("14729") for m in leipzig_land)
    assert all(m["district_ags"] == "14729" for m in leipzig_land)
    assert len(leipzig_land) < len(everything)
    one = public.get("/municipalities/14713000")
    assert one.status_code == 200
    assert one.json()["district_name"] and one.json()["attribution"] == ATTRIBUTION
    assert problem_fields(public.get("/municipalities", district="147"), 422) == ["district"]
    assert problem_fields(public.get("/municipalities/14713999"), 404) == []


def test_municipalities_geojson(public: Client) -> None:
    body = public.get("/municipalities", district="15002", f="geojson").json()
    assert [f["properties"]["ags"] for f in body["features"]] == ["15002000"]
    coords = all_coordinates(body["features"][0]["geometry"])
    assert all(11.8 < x < 12.2 and 51.3 < y < 51.6 for x, y in coords)
    utm = public.get("/municipalities/15002000", f="geojson", crs="EPSG:25833").json()
    assert all(270_000 < x < 300_000 and 5_690_000 < y < 5_715_000
               for x, y in all_coordinates(utm["geometry"]))


# --- sites -------------------------------------------------------------------------------


def _site(client: Client, **body: Any) -> dict[str, Any]:
    return client.created("/sites", {"name": "Gewerbegebiet Test", **body})


def test_site_created_from_an_outline_derives_its_municipality(admin: Client,
                                                              public: Client) -> None:
    site = _site(admin, geometry=LEIPZIG_SQUARE, web_url="https://example.org/gg")
    assert site["municipality_ags"] == "14713000" and site["district_ags"] == "14713"
    assert site["outline_area_ha"] == pytest.approx(7.72, abs=0.05)
    assert site["_etag"] == f'"site-{site["id"]}-v1"' and site["version"] == 1
    assert site["partners"] == [] and site["active_parcels"] == 0
    got = public.get(f"/sites/{site['id']}", f="geojson")
    assert got.status_code == 200 and got.headers["ETag"] == site["_etag"]
    feature = got.json()
    assert feature["type"] == "Feature" and feature["geometry"]["type"] == "MultiPolygon"
    assert all(12.29 < x < 12.31 and 51.29 < y < 51.31
               for x, y in all_coordinates(feature["geometry"]))


def test_site_with_partners_and_the_share_rule(admin: Client) -> None:
    partners = [{"municipality_ags": "14713000", "share_pct": 70},
                {"municipality_ags": "14729010", "share_pct": 30}]
    site = _site(admin, municipality_ags="14713000", partners=partners)
    assert [(p["municipality_ags"], p["share_pct"]) for p in site["partners"]] == [
        ("14713000", 70), ("14729010", 30)]
    wrong = admin.post("/sites", {"name": "X", "municipality_ags": "14713000", "partners": [
        {"municipality_ags": "14713000", "share_pct": 60},
        {"municipality_ags": "14729010", "share_pct": 30}]})
    assert problem_fields(wrong, 422) == ["partners"]
    assert "share_pct" in wrong.json()["errors"][0]["reason"]
    twice = admin.post("/sites", {"name": "X", "municipality_ags": "14713000", "partners": [
        {"municipality_ags": "14713000", "share_pct": 50},
        {"municipality_ags": "14713000", "share_pct": 50}]})
    assert problem_fields(twice, 422) == ["partners"]
    unknown = admin.post("/sites", {"name": "X", "municipality_ags": "14713000", "partners": [
        {"municipality_ags": "14713999", "share_pct": 100}]})
    assert problem_fields(unknown, 422) == ["partners.0.municipality_ags"]


def test_site_needs_a_place_and_valid_fields(admin: Client) -> None:
    assert problem_fields(admin.post("/sites", {"name": "X"}), 422) == ["municipality_ags"]
    assert problem_fields(admin.post("/sites", {"name": "X", "municipality_ags": "14713999"}),
                          422) == ["municipality_ags"]
    assert problem_fields(admin.post("/sites", {"name": " ", "municipality_ags": "14713000"}),
                          422) == ["name"]
    bad_url = {"name": "X", "municipality_ags": "14713000", "web_url": "ftp://x"}
    assert problem_fields(admin.post("/sites", bad_url), 422) == ["web_url"]


def test_site_update_needs_a_current_if_match(admin: Client) -> None:
    site = _site(admin, municipality_ags="14713000")
    path = f"/sites/{site['id']}"
    assert problem_fields(admin.patch(path, {"name": "Neu"}, None), 428) == []
    assert problem_fields(admin.patch(path, {"name": "Neu"}, f'"site-{site["id"]}-v9"'),
                          412) == []
    assert problem_fields(admin.patch(path, {"name": "Neu"}, '"parcel-1-v1"'), 422) == [
        "If-Match"]
    partners = [{"municipality_ags": "14713000", "share_pct": 50},
                {"municipality_ags": "14729010", "share_pct": 50}]
    updated = admin.patch(path, {"name": "Neu", "partners": partners}, site["_etag"])
    assert updated.status_code == 200, updated.text
    assert updated.json()["name"] == "Neu" and len(updated.json()["partners"]) == 2
    assert updated.headers["ETag"] != site["_etag"]
    stale = admin.patch(path, {"name": "Älter"}, site["_etag"])
    assert problem_fields(stale, 412) == []
    assert admin.get(path).json()["name"] == "Neu"
    cleared = admin.patch(path, {"partners": []}, updated.headers["ETag"])
    assert cleared.status_code == 200 and cleared.json()["partners"] == []
    moved = admin.patch(path, {"geometry": HALLE_SQUARE}, cleared.headers["ETag"])
    assert moved.status_code == 200
    assert moved.json()["municipality_ags"] == "15002000"
    assert moved.json()["district_ags"] == "15002"


def test_partner_only_change_moves_the_etag_on(admin: Client) -> None:
    site = _site(admin, municipality_ags="14713000")
    path = f"/sites/{site['id']}"
    partners = [{"municipality_ags": "14713000", "share_pct": 60},
                {"municipality_ags": "14729010", "share_pct": 40}]
    first = admin.patch(path, {"partners": partners}, site["_etag"])
    assert first.status_code == 200 and first.headers["ETag"] != site["_etag"]
    # A second client still holding the old ETag must not overwrite the partner list.
    lost = admin.patch(path, {"partners": []}, site["_etag"])
    assert problem_fields(lost, 412) == []
    assert len(admin.get(path).json()["partners"]) == 2
    # Sending the same list again changes nothing, so the ETag stays.
    same = admin.patch(path, {"partners": partners}, first.headers["ETag"])
    assert same.status_code == 200 and same.headers["ETag"] == first.headers["ETag"]
    assert admin.get(path).headers["ETag"] == first.headers["ETag"]


def test_site_withdraw_is_refused_while_parcels_are_marketed(admin: Client, analyst: Client,
                                                              public: Client) -> None:
    site = _site(admin, municipality_ags="14713000")
    parcel = admin.post("/parcels", {
        "site_id": site["id"], "geometry": LEIPZIG_SQUARE, "category": "erweiterungsflaeche",
        "user_groups": ["handwerk_gewerbe"], "servicing": "erschlossen"})
    assert parcel.status_code == 201, parcel.text
    refused = admin.post(f"/sites/{site['id']}/withdraw")
    assert problem_fields(refused, 409) == []
    assert "verfuegbar" in refused.json()["detail"]
    assert admin.get(f"/sites/{site['id']}").json()["withdrawn_at"] is None
    assert admin.get(f"/sites/{site['id']}").json()["active_parcels"] == 1
    assert admin.post(f"/parcels/{parcel.json()['id']}/withdraw").status_code == 200
    withdrawn = admin.post(f"/sites/{site['id']}/withdraw")
    assert withdrawn.status_code == 200 and withdrawn.json()["withdrawn_at"]
    assert problem_fields(public.get(f"/sites/{site['id']}"), 404) == []
    assert analyst.get(f"/sites/{site['id']}").status_code == 200
    ids = [s["id"] for s in analyst.get("/sites", limit=1000).json()["items"]]
    assert site["id"] not in ids
    ids = [s["id"] for s in analyst.get("/sites", limit=1000,
                                        include_withdrawn="true").json()["items"]]
    assert site["id"] in ids
    assert problem_fields(public.get("/sites", include_withdrawn="true"), 401) == []


def test_site_list_filters_and_pages(admin: Client, public: Client) -> None:
    made = [_site(admin, name=f"Seitenpark {i}", municipality_ags="14729010")["id"]
            for i in range(3)]
    found = public.get("/sites", q="seitenpark", municipality="14729010").json()["items"]
    assert [s["id"] for s in found] == sorted(made)
    assert not public.get("/sites", q="seitenpark", district="15002").json()["items"]
    first = public.get("/sites", q="seitenpark", limit=2).json()
    assert [s["id"] for s in first["items"]] == sorted(made)[:2]
    next_link = next(link["href"] for link in first["links"] if link["rel"] == "next")
    assert next_link.startswith("http")
    second = public.http.get(next_link).json()
    assert [s["id"] for s in second["items"]] == sorted(made)[2:]
    assert not any(link["rel"] == "next" for link in second["links"])
    geo = public.get("/sites", q="seitenpark", f="geojson").json()
    assert geo["type"] == "FeatureCollection" and len(geo["features"]) == 3
    assert all(f["geometry"] is None for f in geo["features"])  # no outline given


def test_site_writes_need_a_writer_in_the_district(public: Client, analyst: Client,
                                                   editor: Client, editor_halle: Client,
                                                   admin: Client) -> None:
    body = {"name": "Rechte", "municipality_ags": "14713000"}
    assert problem_fields(public.post("/sites", body), 401) == []
    assert problem_fields(analyst.post("/sites", body), 403) == []
    assert problem_fields(editor_halle.post("/sites", body), 403) == []
    site = editor.created("/sites", body)
    path = f"/sites/{site['id']}"
    assert problem_fields(public.patch(path, {"name": "x"}, site["_etag"]), 401) == []
    assert problem_fields(analyst.patch(path, {"name": "x"}, site["_etag"]), 403) == []
    assert problem_fields(editor_halle.patch(path, {"name": "x"}, site["_etag"]), 403) == []
    moved = editor.patch(path, {"municipality_ags": "15002000"}, site["_etag"])
    assert problem_fields(moved, 403) == []  # the new district is not the editor's
    assert problem_fields(editor_halle.post(f"{path}/withdraw"), 403) == []
    assert admin.get(path).json()["municipality_ags"] == "14713000"
    assert editor.post(f"{path}/withdraw").status_code == 200


#: A small square in Schkopau, Saalekreis (district 15088), lon/lat.
SAALEKREIS_SQUARE = {"type": "Polygon", "coordinates": [[
    [12.087, 51.384], [12.091, 51.384], [12.091, 51.3865], [12.087, 51.3865], [12.087, 51.384]]]}


def test_site_outline_outside_the_editors_district_is_refused(editor: Client,
                                                              admin: Client) -> None:
    body = {"name": "Grenzfall", "municipality_ags": "14713000", "geometry": SAALEKREIS_SQUARE}
    assert problem_fields(editor.post("/sites", body), 403) == []
    site = editor.created("/sites", {"name": "Grenzfall", "municipality_ags": "14713000"})
    path = f"/sites/{site['id']}"
    moved = editor.patch(path, {"municipality_ags": "14713000", "geometry": SAALEKREIS_SQUARE},
                         site["_etag"])
    assert problem_fields(moved, 403) == []
    assert admin.get(path).json()["outline_area_ha"] is None
    # The outline alone moves the site into the outline's district: refused as well.
    assert problem_fields(editor.patch(path, {"geometry": SAALEKREIS_SQUARE}, site["_etag"]),
                          403) == []


def test_site_municipality_must_lie_where_the_outline_does(admin: Client) -> None:
    body = {"name": "Grenzfall", "municipality_ags": "14713000", "geometry": SAALEKREIS_SQUARE}
    refused = admin.post("/sites", body)
    assert problem_fields(refused, 422) == ["municipality_ags"]
    assert refused.json()["errors"][0]["code"] == "location_mismatch"
    site = admin.created("/sites", {"name": "Grenzfall", "municipality_ags": "14713000"})
    path = f"/sites/{site['id']}"
    patched = admin.patch(path, {"geometry": SAALEKREIS_SQUARE, "municipality_ags": "14713000"},
                          site["_etag"])
    assert problem_fields(patched, 422) == ["municipality_ags"]
    # An inter-municipal estate may straddle: the municipality is one of its partners.
    partners = [{"municipality_ags": "14713000", "share_pct": 50},
                {"municipality_ags": "15088330", "share_pct": 50}]
    straddling = admin.created("/sites", {**body, "partners": partners})
    assert straddling["municipality_ags"] == "14713000"
    with_partners = admin.patch(path, {"partners": partners}, site["_etag"])
    assert with_partners.status_code == 200, with_partners.text
    moved = admin.patch(path, {"geometry": SAALEKREIS_SQUARE, "municipality_ags": "14713000"},
                        with_partners.headers["ETag"])
    assert moved.status_code == 200, moved.text
    assert moved.json()["municipality_ags"] == "14713000"
