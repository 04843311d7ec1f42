"""The web map (``/karte``) in Chromium: it loads, draws parcels from the vector tiles,
follows the filters in map and list, opens a parcel's card, shows a past quarter, and shows
the public nothing that is withheld. Screenshots: ``test-artifacts/karte/``."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from tests.browser import browser  # noqa: F401
from tests.map_page import MapPage, map_server, open_map  # noqa: F401

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
