"""The web map for everyone: accessibility (axe-core's WCAG 2 A/AA rules, keyboard use), a
tablet's screen, and clear messages when the service or its tiles do not answer.
Screenshots: ``test-artifacts/karte/``."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, Route

from tests.map_page import MapPage, axe_violations

pytestmark = pytest.mark.slow

OpenMap = Callable[..., MapPage]


def test_the_page_passes_axe_and_works_by_keyboard(open_map: OpenMap, map_server: str) -> None:
    page = open_map()
    assert axe_violations(page.page) == []
    p = page.page
    # the skip link leads to the search; the tabs answer to the arrow keys
    p.keyboard.press("Tab")
    assert p.evaluate("document.activeElement.className") == "skip-link"
    p.keyboard.press("Enter")
    p.focus("#tab-search")
    p.keyboard.press("ArrowRight")
    p.wait_for_function("location.hash.includes('tab=match')")
    assert p.evaluate("document.activeElement.id") == "tab-match"
    assert p.is_visible("#panel-match") and p.is_hidden("#panel-search")
    p.keyboard.press("ArrowLeft")
    p.wait_for_function("!location.hash.includes('tab=')")
    # a result opens its card by keyboard; the card takes the focus
    p.focus("#result-list button")
    p.keyboard.press("Enter")
    p.wait_for_function("document.getElementById('card').dataset.parcelId")
    assert p.evaluate("document.activeElement.id") == "card"
    page.settle()
    assert axe_violations(p) == []
    page.shot("10_keyboard_card")


@pytest.mark.parametrize(("width", "height"), [(1024, 768), (768, 1024)])
def test_a_tablet_screen_shows_map_panel_and_card(open_map: OpenMap, width: int,
                                                  height: int) -> None:
    page = open_map(width=width, height=height)
    p = page.page
    assert p.evaluate("document.documentElement.scrollWidth") <= width
    box = p.locator("#map").bounding_box()
    assert box is not None and box["width"] >= 300 and box["height"] >= 300
    assert p.locator("#search-form").is_visible()
    p.click("#result-list button")
    p.wait_for_function("document.getElementById('card').dataset.parcelId")
    card = p.locator("#card").bounding_box()
    assert card is not None and card["x"] + card["width"] <= width + 1
    page.settle()
    page.shot(f"11_tablet_{width}x{height}")


def _fail_tiles(page: Page) -> None:
    page.route("**/collections/parcels/tiles/**", lambda route: route.abort("connectionrefused"))


def _list_unavailable(page: Page) -> None:
    def answer(route: Route) -> None:
        if "/api/v1/parcels?" in route.request.url:
            route.fulfill(status=503, content_type="application/problem+json",
                          body='{"title": "Service unavailable", "status": 503}')
        else:
            route.continue_()
    page.route("**/api/v1/parcels?**", answer)


def test_tiles_that_do_not_answer_are_reported(open_map: OpenMap) -> None:
    page = open_map(prepare=_fail_tiles, settle=False)
    p = page.page
    p.wait_for_function("document.getElementById('status').textContent.includes('Kartenkacheln')")
    assert "error" in (p.get_attribute("#status", "class") or "")
    page.shot("12_tiles_down")


def test_a_list_the_service_cannot_give_is_reported(open_map: OpenMap) -> None:
    page = open_map(prepare=_list_unavailable, settle=False)
    p = page.page
    p.wait_for_function(
        "document.getElementById('result-count').textContent.includes('nicht geladen')")
    assert "ausgelastet" in p.inner_text("#status")
    page.shot("13_list_unavailable")


def test_a_service_that_does_not_answer_at_start_is_reported(open_map: OpenMap) -> None:
    def no_api(page: Page) -> None:
        page.route("**/api/v1/**", lambda route: route.abort("connectionrefused"))

    page = open_map(prepare=no_api, settle=False)
    p = page.page
    assert p.evaluate("document.body.dataset.ready") == "error"
    assert "Der Dienst antwortet nicht" in p.inner_text("#status")
    page.shot("14_service_down")
