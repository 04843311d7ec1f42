"""The investor matching panel of the web map (``/karte#tab=match``) in Chromium: an enquiry
filled in and sent shows the parcels ``POST /api/v1/matches`` ranks, in its order and with its
German reasons; the map outlines exactly those parcels (their sites below zoom 13) and fits
them; a result opens its card; staff who may write save the enquiry, nobody else sees that
option; refusals and failures are shown in the panel. Screenshots:
``test-artifacts/karte/matching_*.png``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, Route

from tests.map_page import WAIT_MS, MapPage, axe_violations

pytestmark = pytest.mark.slow

OpenMap = Callable[..., MapPage]
#: The request the form below sends (the form's defaults written out).
BODY: dict[str, Any] = {
    "user_group": "logistik", "net_area_min_ha": 10, "max_junction_km": 10,
    "restriction_tolerance": "gering", "rail_siding_required": False,
    "operation_24h_required": False, "preferred_districts": [], "limit": 10,
    "save_enquiry": False,
}

#: The parcel ids in the filter of a map layer (the ``literal`` list of highlightFilter).
_FILTER_IDS = """layer => {
  const ids = [];
  const walk = (x) => {
    if (!Array.isArray(x)) return;
    if (x[0] === 'literal' && Array.isArray(x[1])) ids.push(...x[1]); else x.forEach(walk);
  };
  walk(window.gefis.map.getFilter(layer));
  return ids;
}"""


def api_matches(base: str, body: dict[str, Any], key: str | None = None) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    response = httpx.post(f"{base}/api/v1/matches", json=body, headers=headers, timeout=60)
    assert response.status_code == 200, response.text
    return dict(response.json())


def fill_enquiry(p: Page) -> None:
    """Logistics, at least 10 ha, at most 10 km to a motorway junction."""
    p.select_option("#match-user_group", "logistik")
    p.fill("#match-net_area_min_ha", "10")
    p.fill("#match-max_junction_km", "10")


def send(page: MapPage, state: str = "done") -> dict[str, Any]:
    """Submit the form; wait until the panel reached ``state``. The request body sent."""
    with page.page.expect_request("**/api/v1/matches") as sent:
        page.page.click("#match-submit")
    page.page.wait_for_selector(f'#panel-match[data-match-state="{state}"]', state="attached",
                                timeout=WAIT_MS)
    body = sent.value.post_data_json
    assert isinstance(body, dict)
    return body


def shown_ids(page: MapPage) -> list[int]:
    return [int(v) for v in page.page.eval_on_selector_all(
        "#match-list > li[data-parcel-id]", "els => els.map(e => e.dataset.parcelId)")]


def highlighted(page: MapPage) -> list[int]:
    return [int(i) for i in page.page.evaluate(_FILTER_IDS, "parcels-highlight")]


def centroid(base: str, parcel_id: int) -> tuple[float, float]:
    """Mean of the outer ring's corners of the parcel's first polygon (lon, lat)."""
    geometry = httpx.get(f"{base}/api/v1/parcels/{parcel_id}", timeout=30).json()["geometry"]
    ring = geometry["coordinates"][0][0] if geometry["type"] == "MultiPolygon" \
        else geometry["coordinates"][0]
    corners = ring[:-1]
    return (sum(c[0] for c in corners) / len(corners), sum(c[1] for c in corners) / len(corners))


def test_an_enquiry_shows_the_ranked_parcels_and_outlines_them_on_the_map(
        open_map: OpenMap, map_server: str) -> None:
    page = open_map("tab=match&map=15/51.48000/11.97000")  # zoomed in on Halle
    p = page.page
    assert p.is_visible("#panel-match") and p.is_hidden("#panel-search")
    assert p.is_hidden("#match-save_enquiry"), "the public must not see the save option"
    fill_enquiry(p)
    sent = send(page)
    assert sent == BODY
    answer = api_matches(map_server, sent)
    expected = [r["parcel_id"] for r in answer["results"]]
    assert len(expected) >= 2, "the demo data should offer several parcels"
    page.settle()

    # the list: the API's ranking, names, areas, scores and German reasons
    assert shown_ids(page) == expected
    assert p.get_attribute("#match-count", "data-count") == str(len(expected))
    assert p.inner_text("#match-count").startswith(f"{len(expected)} passende Flächen")
    first = answer["results"][0]
    item = p.locator(f"#match-list > li[data-parcel-id='{first['parcel_id']}']")
    assert item.locator(".match-name").inner_text() == first["parcel"]["name"]
    assert item.locator(".match-site").inner_text() == first["parcel"]["site_name"]
    facts = item.locator(".match-facts").inner_text()
    assert f"{first['parcel']['net_area_ha']:.1f}".replace(".", ",") + " ha" in facts
    assert f"{first['score']:.1f}".replace(".", ",").removesuffix(",0") in facts
    reasons = item.locator(".match-reasons .match-reason").evaluate_all(
        "els => els.map(e => e.lastChild.textContent)")
    assert reasons == [c["reason"] for c in first["criteria"]]
    marks = item.locator(".match-reasons .match-sr").all_text_contents()
    assert marks == ["erfüllt: " if c["met"] else "nicht erfüllt: " for c in first["criteria"]]

    # the map: exactly the results outlined; moved so that all of them are in view, and
    # not much more (the view fits them, it is not the whole region)
    assert sorted(highlighted(page)) == sorted(expected)
    (west, south), (east, north) = p.evaluate("window.gefis.map.getBounds().toArray()")
    centres = {pid: centroid(map_server, pid) for pid in expected}
    for pid, (lon, lat) in centres.items():
        assert west <= lon <= east and south <= lat <= north, pid
    lons = [c[0] for c in centres.values()]
    lats = [c[1] for c in centres.values()]
    assert east - west < 3 * (max(lons) - min(lons)) + 0.05
    assert north - south < 3 * (max(lats) - min(lats)) + 0.05
    # below zoom 13 parcels are drawn per site: the results' sites are outlined
    assert p.evaluate("window.gefis.map.getZoom()") < 13
    sites = {r["parcel"]["site_id"] for r in answer["results"]}
    outlined = {f["site_id"] for f in page.rendered_features(["match-sites-outline",
                                                              "match-sites-point"])}
    assert outlined and outlined <= sites
    page.shot("matching_01_results")

    # zoomed in on a result: single parcels, the results among them outlined
    lon, lat = centres[expected[0]]
    page.set_fragment(f"tab=match&map=14/{lat:.5f}/{lon:.5f}")
    drawn = {int(f["id"]) for f in page.rendered_features(["parcels-highlight"])}
    assert drawn and drawn <= set(expected)
    assert page.rendered_parcel_ids() & set(expected) <= drawn
    page.shot("matching_02_zoomed")

    # a result opens its card (and is marked as the open one)
    second = expected[1]
    p.click(f"#match-list button[data-parcel-id='{second}']")
    p.wait_for_function(f"document.getElementById('card').dataset.parcelId == {second}",
                        timeout=WAIT_MS)
    assert page.state()["parcel"] == str(second)
    assert p.get_attribute(f"#match-list button[data-parcel-id='{second}']",
                           "aria-current") == "true"
    page.settle()
    page.shot("matching_03_card")

    # leaving the tab hides the outlines, coming back shows them again
    p.click("#tab-search")
    p.wait_for_function("!location.hash.includes('tab=match')")
    assert highlighted(page) == []
    p.click("#tab-match")
    p.wait_for_function("location.hash.includes('tab=match')")
    assert sorted(highlighted(page)) == sorted(expected)

    # resetting the form clears list and outlines
    p.click("#match-reset")
    p.wait_for_selector('#panel-match[data-match-state="idle"]', state="attached")
    assert highlighted(page) == []
    assert shown_ids(page) == []
    assert p.inner_text("#match-count") == ""
    assert p.input_value("#match-net_area_min_ha") == ""


def test_adjacent_parcels_are_offered_together_when_none_is_large_enough(
        open_map: OpenMap, map_server: str) -> None:
    page = open_map("tab=match&district=14713")  # a search filter that hides most results
    p = page.page
    p.select_option("#match-user_group", "industrie_produktion")
    p.fill("#match-net_area_min_ha", "80")
    p.select_option("#match-restriction_tolerance", "erhoeht")
    answer = api_matches(map_server, send(page))
    assert answer["results"] == [] and answer["combinations"], "the demo data should combine"
    assert shown_ids(page) == []
    assert p.inner_text("#match-count").startswith("Keine einzelne Fläche ist groß genug")
    groups = p.eval_on_selector_all("#match-combinations li[data-parcel-ids]",
                                    "els => els.map(e => e.dataset.parcelIds)")
    assert groups == [",".join(map(str, c["parcel_ids"])) for c in answer["combinations"]]
    every = {i for c in answer["combinations"] for i in c["parcel_ids"]}
    assert set(highlighted(page)) == every
    page.settle()
    page.shot("matching_08_combinations")
    # the search's filter also applies to the map: the panel says so and can lift it
    assert "Filter der Suche" in p.inner_text("#match-map-note")
    p.click("#match-clear-filters")
    p.wait_for_function("!location.hash.includes('district=')")
    assert p.is_hidden("#match-map-note")
    assert set(highlighted(page)) == every
    part = answer["combinations"][0]["parcel_ids"][-1]
    p.click(f"#match-combinations button[data-parcel-id='{part}']")
    p.wait_for_function(f"document.getElementById('card').dataset.parcelId == {part}",
                        timeout=WAIT_MS)


def test_staff_save_the_enquiry_and_others_do_not_see_the_option(
        open_map: OpenMap, map_server: str, api_keys: dict[str, str],
        committed_rows_removed: None) -> None:
    # analysts read but may not save (the API answers 403): no option for them either
    analyst = open_map("tab=match", key=api_keys["analyst"])
    assert analyst.page.is_hidden("#match-save_enquiry")

    page = open_map("tab=match", key=api_keys["admin"])
    p = page.page
    assert p.is_visible("#match-save_enquiry")
    assert p.inner_text("label:has(#match-save_enquiry)").strip() == "Anfrage speichern"
    fill_enquiry(p)
    p.check("#match-save_enquiry")
    sent = send(page)
    assert sent["save_enquiry"] is True
    enquiry_id = int(p.get_attribute("#match-saved [data-enquiry-id]", "data-enquiry-id") or 0)
    assert f"Nr. {enquiry_id} gespeichert" in p.inner_text("#match-saved")
    assert not p.is_checked("#match-save_enquiry"), "a second search must not save again"

    admin = {"Authorization": f"Bearer {api_keys['admin']}"}
    listing = httpx.get(f"{map_server}/api/v1/enquiries", params={"sort": "-id", "limit": 5},
                        headers=admin, timeout=30).json()["items"]
    saved = next(e for e in listing if e["id"] == enquiry_id)
    assert saved["user_group"] == "logistik"
    assert saved["required_net_area_ha_min"] == 10
    assert saved["requirements"]["max_junction_km"] == 10
    assert saved["outcome"] == "offen"
    p.click("#match-enquiry-show")
    p.wait_for_selector("#match-saved dl")
    assert "offen" in p.inner_text("#match-saved dl")
    page.settle()
    page.shot("matching_04_saved")

    # signing out takes the option away
    p.click("#sign-out")
    p.wait_for_function("document.getElementById('match-save-box').hidden")
    assert p.is_hidden("#match-save_enquiry")


def test_refusals_and_failures_are_shown_in_the_panel(open_map: OpenMap) -> None:
    page = open_map("tab=match")
    p = page.page
    # nothing filled in: the form says what is missing and sends nothing
    p.click("#match-submit")
    alert = p.locator("#match-error[role=alert]")
    assert "Nutzergruppe" in alert.inner_text() and "Mindestfläche" in alert.inner_text()
    assert p.get_attribute("#match-user_group", "aria-invalid") == "true"
    assert p.evaluate("document.activeElement.id") == "match-user_group"
    assert not [u for u in page.requests if "/api/v1/matches" in u]

    # the API refuses a maximum below the minimum (422): the field is named and marked
    fill_enquiry(p)
    p.fill("#match-net_area_max_ha", "5")
    send(page, "error")
    assert "Nettofläche höchstens (ha): darf nicht kleiner als die Mindestfläche sein" \
        in alert.inner_text()
    assert p.get_attribute("#match-net_area_max_ha", "aria-invalid") == "true"
    assert p.get_attribute("#match-user_group", "aria-invalid") is None
    assert "422" in p.inner_text("#status")
    page.shot("matching_05_refused")

    # a good answer first, then the service fails: no stale results, no outlines
    p.fill("#match-net_area_max_ha", "")
    send(page)
    assert shown_ids(page) and highlighted(page)
    assert p.inner_text("#match-error") == ""

    def unavailable(route: Route) -> None:
        route.fulfill(status=503, content_type="application/problem+json",
                      body='{"title": "Service Unavailable", "status": 503}')

    p.route("**/api/v1/matches", unavailable)
    send(page, "error")
    assert "ausgelastet" in alert.inner_text()
    assert shown_ids(page) == [] and highlighted(page) == []
    p.unroute("**/api/v1/matches")

    p.route("**/api/v1/matches", lambda route: route.abort("connectionrefused"))
    send(page, "error")
    assert "Keine Verbindung zum Dienst" in alert.inner_text()
    assert "Der Dienst antwortet nicht" in p.inner_text("#status")
    page.shot("matching_06_offline")
    p.unroute("**/api/v1/matches")


def test_the_panel_passes_axe_and_works_by_keyboard(open_map: OpenMap) -> None:
    page = open_map("tab=match")
    p = page.page
    assert axe_violations(p) == []
    # every control has a label
    unlabelled = p.evaluate("""() => [...document.querySelectorAll(
        '#panel-match input, #panel-match select')].filter(e => !e.labels.length).map(e => e.id)""")
    assert unlabelled == []
    # by keyboard: choose, type, Enter sends the form
    p.focus("#match-user_group")
    p.keyboard.press("ArrowDown")  # the first user group
    p.focus("#match-net_area_min_ha")
    p.keyboard.type("5")
    with p.expect_request("**/api/v1/matches"):
        p.keyboard.press("Enter")
    p.wait_for_selector('#panel-match[data-match-state="done"]', state="attached",
                        timeout=WAIT_MS)
    assert p.get_attribute("#match-count", "aria-live") == "polite"
    first = shown_ids(page)[0]
    p.focus(f"#match-list button[data-parcel-id='{first}']")
    p.keyboard.press("Enter")
    p.wait_for_function(f"document.getElementById('card').dataset.parcelId == {first}",
                        timeout=WAIT_MS)
    page.settle()
    assert axe_violations(p) == []
    page.shot("matching_07_keyboard")
