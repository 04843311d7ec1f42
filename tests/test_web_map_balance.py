"""The web map's balance dashboard (``/karte#tab=balance``) in Chromium: its charts draw, its
table states the figures of ``GET /api/v1/balance`` for the page's day, the districts are
coloured by reach while it is open, and a failed request is shown instead of stale figures.
Screenshots: ``test-artifacts/karte/balance_*.png``."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from playwright.sync_api import Route

from tests.browser import drawn_pixels
from tests.map_page import WAIT_MS, MapPage, axe_violations

pytestmark = pytest.mark.slow

OpenMap = Callable[..., MapPage]
CHARTS = ["#balance-chart-supply", "#balance-chart-phased", "#balance-chart-reach"]
#: The district shown on its own besides the region (Halle (Saale), Stadt).
DISTRICT = "15002"
LAYER = "districts-choropleth"


def api_balance(base: str, at: str | None = None) -> dict[str, Any]:
    """``GET /api/v1/balance`` (for ``at``) as the page would ask for it."""
    response = httpx.get(f"{base}/api/v1/balance", params={"at": at} if at else {}, timeout=60)
    assert response.status_code == 200, response.text
    return dict(response.json())


def wait_balance(page: MapPage, at: str) -> None:
    """Wait until the dashboard shows the balance of ``at`` with its charts drawn."""
    page.page.wait_for_selector(
        f'#panel-balance[data-balance-state="ready"][data-balance-at="{at}"][data-charts="drawn"]',
        state="attached", timeout=WAIT_MS)


def parse_de(text: str) -> float:
    """A German number as displayed ("1.625,1", "-87,3")."""
    return float(text.strip().replace(".", "").replace(",", "."))


def table(page: MapPage) -> dict[str, dict[str, str]]:
    """The balance table: area ("region" or AGS) -> column -> displayed text."""
    rows = page.page.eval_on_selector_all("#balance-table tbody tr", """rows => rows.map(r => [
        r.dataset.area,
        Object.fromEntries([...r.querySelectorAll('td')].map(td => [td.dataset.col, td.textContent]))])""")
    return dict(rows)


def assert_shown(text: str, value: float | None) -> None:
    """The displayed ``text`` is ``value`` rounded to one decimal (either way at a tie)."""
    assert value is not None, text
    assert abs(parse_de(text) - value) <= 0.05 + 1e-9, (text, value)


def assert_table_matches(page: MapPage, body: dict[str, Any], scenario: str,
                         areas: tuple[str, ...] = ("region", DISTRICT)) -> None:
    last = body["framework"]["period"]["last_year"]
    shown = table(page)
    by_key = {a["ags"] or "region": a for a in body["areas"]}
    assert set(shown) == set(by_key)
    for key in areas:
        cells, result = shown[key], by_key[key]["scenarios"][scenario]
        assert body["supply_scope"] == "market"
        assert_shown(cells["supply"], by_key[key]["supply"]["market_net_ha"])
        assert_shown(cells["demand"], result["demand_remaining_net_ha"])
        assert_shown(cells["balance"], result["balance_net_ha"])
        assert_shown(cells["reach"], result["reach_years"])
        year = result["first_shortfall_year"]
        assert cells["shortfall"] == (str(year) if year else f"kein Fehlbedarf bis {last}")


def reach_class(result: dict[str, Any]) -> str:
    """The dashboard's reach classes: covered until the framework's end, else by years."""
    if result["reach_years"] is None:
        return "none"
    if not result["shortfall"]:
        return "covers"
    years = result["reach_years"]
    return "lt5" if years < 5 else "5_10" if years < 10 else "10_15" if years < 15 else "ge15"


def choropleth(page: MapPage) -> dict[str, str]:
    """AGS -> fill colour of the map's choropleth (its ``match`` expression)."""
    expression = page.page.evaluate(f"window.gefis.map.getPaintProperty('{LAYER}', 'fill-color')")
    assert expression[0] == "match", expression
    labels, outputs = expression[2:-1:2], expression[3:-1:2]
    return dict(zip(labels, outputs, strict=True))


def legend(page: MapPage) -> dict[str, str]:
    """Reach class -> colour, as the panel's legend states them."""
    return dict(page.page.eval_on_selector_all(
        ".balance-legend li", "items => items.map(li => [li.dataset.reachClass, li.dataset.colour])"))


def expected_fills(page: MapPage, body: dict[str, Any], scenario: str) -> dict[str, str]:
    """AGS -> the legend's colour of the district's reach class in ``body``."""
    colours = legend(page)
    return {a["ags"]: colours[reach_class(a["scenarios"][scenario])]
            for a in body["areas"] if a["level"] == "district"}


def assert_choropleth_follows(page: MapPage, body: dict[str, Any], scenario: str) -> None:
    colours = legend(page)
    assert len(set(colours.values())) == len(colours), colours
    assert choropleth(page) == expected_fills(page, body, scenario)
    assert page.page.evaluate(f"window.gefis.map.getLayoutProperty('{LAYER}', 'visibility')") == "visible"
    page.page.wait_for_function(
        f"window.gefis.map.queryRenderedFeatures({{layers: ['{LAYER}']}}).length > 0", timeout=WAIT_MS)
    drawn = {f["ags"] for f in page.rendered_features([LAYER])}
    assert drawn and drawn <= {a["ags"] for a in body["areas"] if a["level"] == "district"}


def chart_requests(page: MapPage) -> int:
    """How often the page asked for Chart.js."""
    return sum(1 for url in page.requests if url.endswith("/karte/vendor/chart.js/chart.umd.min.js"))


def choose_scenario(page: MapPage, key: str, label: str) -> None:
    page.page.select_option("#balance-scenario", key)
    page.page.wait_for_function(
        """label => document.querySelector('#balance-table caption').textContent.includes(label)
                    && document.getElementById('panel-balance').dataset.charts === 'drawn'""",
        arg=label, timeout=WAIT_MS)


def test_the_dashboard_draws_charts_table_and_choropleth(open_map: OpenMap, map_server: str) -> None:
    body = api_balance(map_server)
    page = open_map()
    # Chart.js is loaded once, when the dashboard first opens; no choropleth before
    assert chart_requests(page) == 0
    assert page.page.evaluate(f"window.gefis.map.getLayoutProperty('{LAYER}', 'visibility')") == "none"
    page.page.click("#tab-balance")
    wait_balance(page, body["at"])
    assert page.state()["tab"] == "balance"
    assert chart_requests(page) == 1
    page.shot("balance_01_region_today")
    for chart in CHARTS:
        assert drawn_pixels(page.page, chart) > 2000, chart
    assert page.page.locator("#panel-balance .balance-stand").inner_text().startswith("Stand: heute")
    if page.page.evaluate("window.gefis.config.synthetic"):
        assert "Synthetische Demodaten" in page.page.inner_text("#panel-balance .balance-synthetic")
    assert page.page.inner_text("#panel-balance .balance-error") == ""
    assert_table_matches(page, body, body["scenarios"][0]["key"])
    assert_choropleth_follows(page, body, body["scenarios"][0]["key"])

    # another scenario and one district: table, charts and map follow
    trend = next(s for s in body["scenarios"] if s["kind"] == "trend")
    choose_scenario(page, trend["key"], trend["label"])
    page.page.select_option("#balance-area", DISTRICT)
    page.page.wait_for_selector(f'#balance-table tr.selected[data-area="{DISTRICT}"]', timeout=WAIT_MS)
    page.page.wait_for_selector('#panel-balance[data-charts="drawn"]', state="attached", timeout=WAIT_MS)
    for chart in CHARTS:
        assert drawn_pixels(page.page, chart) > 2000, chart
    assert_table_matches(page, body, trend["key"])
    assert_choropleth_follows(page, body, trend["key"])
    page.shot("balance_02_district_trend")
    page.page.evaluate("document.querySelectorAll('#panel-balance details').forEach(d => d.open = true)")
    assert axe_violations(page.page) == []

    # the search tab hides the choropleth; back on the dashboard it returns
    page.page.click("#tab-search")
    page.page.wait_for_function(
        f"window.gefis.map.getLayoutProperty('{LAYER}', 'visibility') === 'none'", timeout=WAIT_MS)
    page.settle()
    assert page.rendered_features([LAYER]) == []
    page.shot("balance_03_search_tab_no_choropleth")
    page.page.click("#tab-balance")
    assert_choropleth_follows(page, body, trend["key"])
    assert chart_requests(page) == 1


def test_the_dashboard_follows_the_day(open_map: OpenMap, map_server: str) -> None:
    today = api_balance(map_server)
    past = api_balance(map_server, "2020-12-31")
    key = today["scenarios"][0]["key"]
    page = open_map("tab=balance")
    wait_balance(page, today["at"])
    before = table(page)
    # the time slider's day (set through the fragment, as a link would): the figures reload
    page.set_fragment("tab=balance&at=2020-12-31")
    wait_balance(page, "2020-12-31")
    page.shot("balance_04_2020_12_31")
    assert page.page.inner_text("#panel-balance .balance-stand").startswith("Stand: 31.12.2020")
    assert_table_matches(page, past, key)
    assert table(page)["region"] != before["region"]
    assert_choropleth_follows(page, past, key)
    assert choropleth(page) != expected_fills(page, today, key)
    # a link with the day opens the dashboard on that day
    again = open_map("at=2020-12-31&tab=balance")
    wait_balance(again, "2020-12-31")
    assert_table_matches(again, past, key)
    assert_choropleth_follows(again, past, key)


def test_a_failed_request_is_shown_instead_of_stale_figures(open_map: OpenMap,
                                                            map_server: str) -> None:
    today = api_balance(map_server)
    page = open_map("tab=balance")
    wait_balance(page, today["at"])
    problem = {"type": "about:blank", "title": "Service Unavailable", "status": 503,
               "detail": "database down"}

    def unavailable(route: Route) -> None:
        route.fulfill(status=503, content_type="application/problem+json", body=json.dumps(problem))

    pattern = re.compile(r"/api/v1/balance(\?|$)")
    page.page.route(pattern, unavailable)
    page.set_fragment("tab=balance&at=2021-12-31")
    page.page.wait_for_selector('#panel-balance[data-balance-state="error"]', state="attached",
                                timeout=WAIT_MS)
    alert = page.page.locator('#panel-balance [role="alert"]')
    assert "Die Flächenbilanz konnte nicht geladen werden" in alert.inner_text()
    assert "ausgelastet" in alert.inner_text()
    assert "ausgelastet" in page.page.inner_text("#status")
    assert page.page.locator("#balance-table").count() == 0
    assert page.page.evaluate(f"window.gefis.map.getLayoutProperty('{LAYER}', 'visibility')") == "none"
    page.shot("balance_05_error")
    # the service answers again: the next day shown loads
    page.page.unroute(pattern, unavailable)
    page.set_fragment("tab=balance&at=2020-12-31")
    wait_balance(page, "2020-12-31")
    assert page.page.inner_text("#panel-balance .balance-error") == ""
    assert_table_matches(page, api_balance(map_server, "2020-12-31"), today["scenarios"][0]["key"])
