"""The web map (``/karte``) in Chromium: it loads, draws parcels from the vector tiles,
follows the filters in map and list, opens a parcel's card, shows a past quarter, and shows
the public nothing that is withheld. Screenshots: ``test-artifacts/karte/``."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from tests.map_page import MapPage

pytestmark = pytest.mark.slow

OpenMap = Callable[..., MapPage]


def api_count(base: str, query: str, key: str | None = None) -> int:
    """``numberMatched`` of ``GET /api/v1/parcels?<query>&count=true`` (exact here)."""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    body = httpx.get(f"{base}/api/v1/parcels?{query}&count=true&limit=1", headers=headers,
                     timeout=30).json()
    assert not body.get("numberMatchedEstimated")
    return int(body["numberMatched"])


def test_the_map_draws_parcels_from_the_tiles(open_map: OpenMap, map_server: str) -> None:
    page = open_map()
    page.shot("01_region")
    # the boundaries' source is named, the demo data are labelled, the classes explained
    assert "© GeoBasis-DE / BKG" in page.page.inner_text(".maplibregl-ctrl-attrib")
    assert page.page.is_visible("#demo-banner")
    assert "Synthetische Demodaten" in page.page.inner_text("#demo-banner")
    assert page.page.locator("#legend li").all_inner_texts()[0].strip() == "sofort"
    assert page.page.locator("#legend li").count() == 5
    # the region view (below the aggregation zoom): one feature per site, with its parcels
    sites = page.rendered_features(["parcels-fill", "sites-small"])
    assert len(sites) > 50
    assert all(s["aggregated"] for s in sites)
    assert page.tile_parcel_total() == api_count(map_server, "marketing_status=verfuegbar")
    assert page.list_count() == api_count(map_server, "marketing_status=verfuegbar")
    # zoomed in: single parcels, each one the API knows
    page.set_fragment("map=14/51.3610/12.3312")
    ids = page.rendered_parcel_ids()
    page.shot("02_parcels_zoomed")
    assert ids, "no single parcel drawn at zoom 14"
    body = httpx.get(f"{map_server}/api/v1/parcels/{min(ids)}", timeout=30).json()
    assert body["id"] == min(ids)


def test_a_filter_changes_map_and_list_and_the_link_keeps_it(open_map: OpenMap,
                                                             map_server: str) -> None:
    page = open_map()
    everything = page.list_count()
    page.page.select_option("#filter-user_group", "logistik")
    page.page.check("input[name=availability][value=sofort]")
    page.page.fill("#filter-net_area_min_ha", "5")
    page.page.wait_for_function("location.hash.includes('net_area_min_ha=5')")
    page.settle()
    page.page.wait_for_function(
        "document.getElementById('result-count').dataset.count !== undefined")
    query = ("user_group=logistik&availability=sofort&net_area_min_ha=5"
             "&marketing_status=verfuegbar")
    expected = api_count(map_server, query)
    assert 0 < expected < everything
    assert page.state()["user_group"] == "logistik"
    page.page.wait_for_function(f"document.getElementById('result-count').dataset.count == {expected}")
    assert page.list_count() == expected
    assert page.tile_parcel_total() == expected
    listed = set(page.list_ids())
    body = httpx.get(f"{map_server}/api/v1/parcels?{query}&limit=100", timeout=30).json()
    assert listed == {item["id"] for item in body["items"]}
    page.shot("03_filtered")
    # the link (fragment) opens the same selection in a new tab, the form filled in
    link = page.page.evaluate("location.hash").lstrip("#")
    again = open_map(link)
    assert again.list_count() == expected
    assert again.tile_parcel_total() == expected
    assert again.page.input_value("#filter-user_group") == "logistik"
    assert again.page.is_checked("input[name=availability][value=sofort]")
    assert again.page.input_value("#filter-net_area_min_ha") == "5"


def test_a_district_link_zooms_to_the_district(open_map: OpenMap, map_server: str) -> None:
    page = open_map("district=15002")
    bounds = page.page.evaluate("window.gefis.map.getBounds().toArray()")
    (west, south), (east, north) = bounds
    # Halle (Saale) lies around 11.97 E, 51.48 N and spans about 20 km
    assert west < 11.97 < east and south < 51.48 < north
    assert east - west < 0.6
    assert page.list_count() == api_count(map_server, "district=15002&marketing_status=verfuegbar")
    page.shot("04_district_halle")


def _vocabulary_labels(base: str) -> dict[str, dict[str, str]]:
    vocabularies = httpx.get(f"{base}/api/v1/vocabularies", timeout=30).json()
    return {name: {t["code"]: t["label"] for t in v["terms"]} for name, v in vocabularies.items()}


def test_the_parcel_card_shows_the_facts_the_caller_may_see(
        open_map: OpenMap, map_server: str, api_keys: dict[str, str]) -> None:
    # a marketed parcel with restriction causes and several user groups
    listing = httpx.get(f"{map_server}/api/v1/parcels?restriction_level=erhoeht&limit=50",
                        timeout=30).json()["items"]
    parcel = next(p for p in listing if p["restriction_causes"] and len(p["user_groups"]) > 1)
    labels = _vocabulary_labels(map_server)
    page = open_map(f"parcel={parcel['id']}")
    card = page.page.locator("#card")
    card.wait_for(state="visible")
    page.page.wait_for_function(f"document.getElementById('card').dataset.parcelId == {parcel['id']}")
    assert page.page.inner_text("#card-title") == parcel["name"]
    net = f"{parcel['net_area_ha']:.1f}".replace(".", ",") + " ha"
    assert page.page.inner_text("#card dd[data-field=net_area_ha]") == net
    assert page.page.inner_text("#card [data-field=restriction_level]") == \
        labels["restriction_level"][parcel["restriction_level"]]
    causes = page.page.locator("#card [data-field=restriction_causes] li").all_inner_texts()
    assert causes == [labels["restriction_cause"][c] for c in parcel["restriction_causes"]]
    groups = page.page.locator("#card [data-field=user_groups] li").all_inner_texts()
    assert groups == [labels["user_group"][g] for g in parcel["user_groups"]]
    assert page.page.inner_text("#card dd[data-field=site_name]") == parcel["site_name"]
    profile = page.page.get_attribute("#card a:has-text('Standortprofil')", "href")
    assert profile.endswith(f"/api/v1/sites/{parcel['site_id']}/profile?f=pdf")
    assert "Verlauf ist für angemeldete Mitarbeitende" in page.page.inner_text("#card")
    page.shot("05_card_public")
    # the selected parcel is outlined on the map once it is drawn singly
    assert page.page.evaluate("JSON.stringify(window.gefis.map.getFilter('parcels-selected'))") \
        .endswith(f"[{parcel['id']}]]]]")

    # staff see the history as a timeline, entry for entry
    staff = open_map(f"parcel={parcel['id']}", key=api_keys["analyst"])
    staff.page.wait_for_selector("#card .timeline li")
    history = httpx.get(f"{map_server}/api/v1/parcels/{parcel['id']}/history",
                        headers={"Authorization": f"Bearer {api_keys['analyst']}"},
                        timeout=30).json()["entries"]
    shown = staff.page.locator("#card .timeline li").count()
    assert shown == len(history)
    staff.shot("06_card_staff")


def test_clicking_a_parcel_on_the_map_or_in_the_list_opens_its_card(
        open_map: OpenMap, map_server: str) -> None:
    page = open_map("district=14713")
    first = page.list_ids()[0]
    page.page.click(f"#result-list [data-parcel-id='{first}']")
    page.page.wait_for_function(f"document.getElementById('card').dataset.parcelId == {first}")
    assert page.state()["parcel"] == str(first)
    # on the map: zoom in to a parcel and click its middle
    target = httpx.get(f"{map_server}/api/v1/parcels/{first}", timeout=30).json()
    ring = target["geometry"]["coordinates"][0][0]
    lon = sum(c[0] for c in ring[:-1]) / (len(ring) - 1)
    lat = sum(c[1] for c in ring[:-1]) / (len(ring) - 1)
    page.set_fragment(f"district=14713&map=16/{lat:.5f}/{lon:.5f}")
    page.page.evaluate("() => { location.hash = location.hash.replace(/&?parcel=\\d+/, ''); }")
    page.page.wait_for_function("document.getElementById('card').hidden")
    point = page.page.evaluate("ll => window.gefis.map.project(ll)", [lon, lat])
    box = page.page.locator("#map").bounding_box()
    assert box is not None
    page.page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])
    page.page.wait_for_function(f"document.getElementById('card').dataset.parcelId == {first}")
    assert not page.page.locator("#card").is_hidden()
    page.shot("07_card_from_map")


def test_the_time_slider_shows_the_state_of_2020_12_31(open_map: OpenMap,
                                                       map_server: str) -> None:
    page = open_map()
    today = page.tile_parcel_total()
    slider = page.page.locator("#time-range")
    slider.focus()
    page.page.keyboard.press("Home")  # the first quarter end: the survey
    page.page.wait_for_function("location.hash.includes('at=2020-12-31')")
    page.page.wait_for_function(
        "document.getElementById('result-count').textContent.includes('31.12.2020')")
    page.settle()
    expected = api_count(map_server, "marketing_status=verfuegbar&at=2020-12-31")
    assert expected != today
    assert page.tile_parcel_total() == expected
    assert page.list_count() == expected
    assert page.page.inner_text("#time-label") == "31.12.2020"
    page.shot("08_time_2020-12-31")
    page.page.keyboard.press("End")
    page.page.wait_for_function("!location.hash.includes('at=')")
    page.settle()
    assert page.tile_parcel_total() == today
