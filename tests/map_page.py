"""The web map (``/karte``) in a real browser: the service on a socket, Debian's Chromium
driven by Playwright (``tests/browser.py``), and helpers that ask the map itself what it drew.

The fixtures ``map_server`` and ``open_map`` reach every test module through
``tests/conftest.py`` (``pytest_plugins``). One service runs with uvicorn for the whole run,
on the session's test database (demo data, committed): tests that write through the page
must remove what they commit (``committed_rows_removed``; write only to parcels they
created). Every map tab opens in one Chromium profile (``profiled_context``), so MapLibre is
fetched and compiled once.

Screenshots of each state go to ``test-artifacts/karte/`` (``GEFIS_TEST_ARTIFACTS``
overrides the folder), kept after the run for a person to look at.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page

from app.main import create_app
from app.settings import Settings
from tests.server import serving

#: axe-core from web/node_modules (a development dependency of web/package.json).
AXE = Path(__file__).resolve().parent.parent / "web" / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = Path(os.environ.get("GEFIS_TEST_ARTIFACTS",
                                Path(__file__).resolve().parent.parent / "test-artifacts")) / "karte"
#: Longest wait for the page, the map or a list (ms); software WebGL on 2 cores is slow.
WAIT_MS = 60_000

#: True once the map has drawn everything its sources asked for (and nothing is pending).
_MAP_SETTLED = """() => {
  const m = window.gefis && window.gefis.map;
  return !!m && m.loaded() && m.areTilesLoaded() && !m.isMoving();
}"""


@pytest.fixture(scope="session")
def map_server(settings: Settings, demo_loaded: dict[str, int]) -> Iterator[str]:
    """The service on a free port of 127.0.0.1 (its base URL), for the whole run.

    Its public tiles may be kept for 0 s (``tile_max_age_s``): the browser revalidates each
    one (ETag), so a page never draws a tile cached before another test changed parcels.
    """
    with serving(create_app(settings.model_copy(update={"tile_max_age_s": 0}))) as base:
        yield base


@pytest.fixture(scope="session")
def map_context(profiled_context: BrowserContext) -> BrowserContext:
    """One browser context for every map tab of the run: its caches keep MapLibre's code
    (fetched and compiled once, not in every test). Each tab has its own session storage,
    so a key signs in that tab only."""
    return profiled_context


def artifact(page: Page, name: str) -> Path:
    """Save a screenshot of the whole page as ``<ARTIFACTS>/<name>.png``."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{re.sub(r'[^a-z0-9_-]+', '_', name.lower())}.png"
    page.screenshot(path=str(path))
    return path


def axe_violations(page: Page, selector: str | None = None) -> list[dict[str, Any]]:
    """axe-core's serious and critical WCAG 2 A/AA violations of the page as it is (inside
    ``selector`` when given)."""
    page.add_script_tag(path=str(AXE))
    result: list[dict[str, Any]] = page.evaluate("""async (selector) => {
      const r = await axe.run(selector ? {include: [selector]} : document,
                              {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa']}});
      return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                     nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}));
    }""", selector)
    return [v for v in result if v["impact"] in ("serious", "critical")]


def wait_settled(page: Page) -> None:
    """Wait until the map has loaded every tile it needs and the result list is not busy."""
    page.wait_for_function(_MAP_SETTLED, timeout=WAIT_MS)
    page.wait_for_selector("#result-list:not([aria-busy])", state="attached", timeout=WAIT_MS)
    page.wait_for_function(_MAP_SETTLED, timeout=WAIT_MS)


class MapPage:
    """A browser tab on the web map, with the questions tests ask of it."""

    def __init__(self, page: Page, requests: list[str]) -> None:
        self.page = page
        #: Every URL the page requested (for checks of what left the browser).
        self.requests = requests

    def settle(self) -> MapPage:
        wait_settled(self.page)
        return self

    def set_fragment(self, fragment: str) -> MapPage:
        """Navigate within the page to ``#fragment`` (as following a sent link would)."""
        self.page.evaluate("""f => new Promise(resolve => {
          window.addEventListener('hashchange', () => setTimeout(resolve, 0), {once: true});
          window.location.hash = f;
        })""", fragment)
        return self.settle()

    def state(self) -> dict[str, str]:
        """The URL fragment's parameters."""
        fragment = self.page.evaluate("window.location.hash").lstrip("#")
        return dict(p.split("=", 1) for p in fragment.split("&") if "=" in p)

    def rendered_parcel_ids(self) -> set[int]:
        """Ids of the single parcels the map has drawn in the current view."""
        return set(self.page.evaluate("""() => window.gefis.map
          .queryRenderedFeatures({layers: ['parcels-fill']})
          .filter(f => !f.properties.aggregated).map(f => f.id)"""))

    def rendered_features(self, layers: list[str]) -> list[dict[str, Any]]:
        """Properties (and id) of the features the map has drawn on ``layers``."""
        return list(self.page.evaluate("""layers => window.gefis.map
          .queryRenderedFeatures({layers}).map(f => ({id: f.id, ...f.properties}))""", layers))

    def tile_parcel_total(self) -> int:
        """Parcels the loaded low-zoom tiles stand for: the ``parcels`` count of every site
        feature (each site once, though it may lie in several tiles)."""
        return int(self.page.evaluate("""() => {
          const counts = new Map();
          for (const f of window.gefis.map.querySourceFeatures('parcels', {sourceLayer: 'parcels'}))
            if (f.properties.aggregated) counts.set(f.properties.site_id, f.properties.parcels);
          return [...counts.values()].reduce((a, b) => a + b, 0);
        }"""))

    def list_count(self) -> int:
        """The number of matches the result list states."""
        return int(self.page.get_attribute("#result-count", "data-count") or -1)

    def list_ids(self) -> list[int]:
        return [int(v) for v in self.page.eval_on_selector_all(
            "#result-list [data-parcel-id]", "els => els.map(e => e.dataset.parcelId)")]

    def shot(self, name: str) -> Path:
        return artifact(self.page, name)


@pytest.fixture
def open_map(map_context: BrowserContext, map_server: str) -> Iterator[Callable[..., MapPage]]:
    """``open_map(fragment="", key=None, width=1400, height=860, prepare=None,
    settle=True)``: a new tab on ``/karte#fragment``, signed in with ``key`` (put into
    session storage before the page starts), once the page is ready and (with ``settle``)
    the map has settled; ``prepare(page)`` runs before the page is loaded (routes)."""
    pages: list[Page] = []

    def open_(fragment: str = "", key: str | None = None, width: int = 1400,
              height: int = 860, prepare: Callable[[Page], None] | None = None,
              settle: bool = True) -> MapPage:
        page = map_context.new_page()
        pages.append(page)
        page.set_viewport_size({"width": width, "height": height})
        if key is not None:
            page.add_init_script(f"sessionStorage.setItem('gefis.apiKey', {key!r});")
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        if prepare is not None:
            prepare(page)
        page.goto(f"{map_server}/karte" + (f"#{fragment}" if fragment else ""))
        page.wait_for_function("document.body.dataset.ready", timeout=WAIT_MS)
        if not settle:
            return MapPage(page, requests)
        assert page.evaluate("document.body.dataset.ready") == "true", \
            page.inner_text("#status")
        return MapPage(page, requests).settle()

    yield open_
    for page in pages:
        page.close()
