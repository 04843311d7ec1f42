"""The service's side of the web map: the page and its configuration, the files it loads,
``GET /api/v1/me``, ``at`` on the parcel search and ``q`` on the parcel tiles."""

from __future__ import annotations

import gzip
import json
import re
from datetime import date
from pathlib import Path

import httpx
import mapbox_vector_tile
from sqlalchemy import Connection, text

from app.settings import Settings
from tests.server import in_process, on_connection


def _config(page: str) -> dict:
    match = re.search(r'<script type="application/json" id="gefis-config">(.*?)</script>', page,
                      re.S)
    assert match is not None
    return json.loads(match.group(1))


def test_the_page_carries_its_configuration(http: httpx.Client, conn: Connection,
                                           clock) -> None:
    clock.set_today(date(2021, 8, 2))
    response = http.get("/karte")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-cache"
    page = response.text
    config = _config(page)
    # quarters from the survey (first history day 2020-12-31) to the last completed one
    assert config["quarters"] == ["2020-12-31", "2021-03-31", "2021-06-30"]
    assert config["today"] == "2021-08-02"
    assert config["synthetic"] is True and "Synthetische Demodaten" in page
    (west, south), (east, north) = config["regionBounds"]
    assert 10.8 < west < 11.0 and 52.0 < north < 52.2 and west < east and south < north
    assert config["apiBase"].endswith("/api/v1") and config["backgroundStyleUrl"] is None
    for module in ("main.js", "map.js", "search.js"):
        assert f'/karte/static/{module}"' in page
    # without demo data the banner goes
    conn.execute(text("ALTER TABLE parcels DISABLE TRIGGER USER"))
    conn.execute(text("UPDATE parcels SET is_synthetic = false"))
    conn.execute(text("ALTER TABLE parcels ENABLE TRIGGER USER"))
    page = http.get("/karte").text
    assert _config(page)["synthetic"] is False and "demo-banner" not in page


def test_a_value_cannot_close_the_configuration_script(tmp_path: Path) -> None:
    from app.services.web_map import MapPageConfig, map_page_html

    page = map_page_html(MapPageConfig(
        base_url="http://x", today=date(2026, 1, 1), quarters=(), synthetic=False,
        background_style_url="http://tiles.example/</script><script>alert(1)</script>",
        region=(11.0, 51.0, 12.0, 52.0)))
    assert "</script><script>alert(1)" not in page
    assert _config(page)["backgroundStyleUrl"].endswith("</script><script>alert(1)</script>")


def test_the_page_answers_503_without_its_packages(settings: Settings, conn: Connection,
                                                   tmp_path: Path) -> None:
    from app.main import create_app

    app = create_app(settings.model_copy(update={"web_modules_dir": tmp_path}))
    with in_process(app) as client, on_connection(app, conn):
        response = client.get("/karte")
        assert response.status_code == 503
        assert response.headers["content-type"] == "application/problem+json"
        assert "npm ci" in response.json()["detail"]
        assert client.get("/karte/vendor/maplibre-gl/maplibre-gl.mjs").status_code == 404


def test_the_files_the_page_loads(http: httpx.Client) -> None:
    script = http.get("/karte/static/main.js", headers={"Accept-Encoding": "gzip"})
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
    assert script.headers.get("etag")
    maplibre = http.get("/karte/vendor/maplibre-gl/maplibre-gl.mjs",
                        headers={"Accept-Encoding": "gzip"})
    assert maplibre.status_code == 200 and maplibre.headers["content-encoding"] == "gzip"
    assert len(maplibre.content) > 500_000  # httpx has undone the gzip
    assert http.get("/karte/vendor/chart.js/chart.umd.min.js").status_code == 200
    # only the packages' distribution folders are served
    for path in ("/karte/vendor/maplibre-gl/../package.json", "/karte/vendor/axe-core/axe.js",
                 "/karte/vendor/maplibre-gl/%2e%2e/package.json", "/karte/static/../karte.html"):
        assert http.get(path).status_code == 404, path
    cached = http.get("/karte/static/main.js", headers={"If-None-Match": script.headers["etag"]})
    assert cached.status_code == 304


def test_me_names_the_role_and_districts(http: httpx.Client, api_keys: dict[str, str]) -> None:
    assert http.get("/api/v1/me").json() == {"role": "public", "name": "public",
                                             "districts": [], "authenticated": False}
    editor = http.get("/api/v1/me", headers={"Authorization": f"Bearer {api_keys['editor']}"})
    assert editor.json() == {"role": "editor", "name": "test-editor-leipzig",
                             "districts": ["14713"], "authenticated": True}
    wrong = http.get("/api/v1/me", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401


def test_the_parcel_search_shows_a_past_day(http: httpx.Client) -> None:
    def count(query: str) -> int:
        body = http.get(f"/api/v1/parcels?{query}&count=true&limit=1").json()
        return int(body["numberMatched"])

    then = count("at=2020-12-31&marketing_status=verfuegbar")
    now = count("marketing_status=verfuegbar")
    assert then != now
    summary = http.get("/api/v1/parcels/summary?at=2020-12-31&marketing_status=verfuegbar")
    assert then == summary.json()["total"]["parcels"]
    # every page of the past day (the cursor carries on in the same source)
    seen: list[int] = []
    url: str | None = "/api/v1/parcels?at=2020-12-31&marketing_status=verfuegbar&limit=200"
    while url:
        body = http.get(url).json()
        seen += [item["id"] for item in body["items"]]
        url = next((link["href"] for link in body["links"] if link["rel"] == "next"), None)
    assert len(seen) == len(set(seen)) == then
    future = http.get("/api/v1/parcels?at=2999-01-01")
    assert future.status_code == 400 and future.json()["errors"][0]["field"] == "at"


def test_q_narrows_the_parcel_tiles(http: httpx.Client) -> None:
    def features(query: str) -> list[dict]:
        response = http.get(f"/collections/parcels/tiles/WebMercatorQuad/7/42/68?{query}",
                            headers={"Accept-Encoding": "gzip"})
        if response.status_code == 204:
            return []
        data = response.content
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        return mapbox_vector_tile.decode(data)["parcels"]["features"]

    everything = features("marketing_status=verfuegbar")
    named = features("marketing_status=verfuegbar&q=Leuna")
    assert 0 < len(named) < len(everything)
    assert all("Leuna" in f["properties"]["site_name"] for f in named)
