"""The service served by uvicorn on a real socket: what in-process tests cannot show.

- request bodies with a ``Content-Length`` and sent chunked (``Transfer-Encoding: chunked``,
  no length), over and under the size limit;
- the admission gate of a real process whose database connections are all busy: admitted
  requests wait in the database for a lock the test holds (seen in ``pg_stat_activity``),
  more requests queue, one more is refused at once, ``/health`` keeps answering and reports
  the load, and everything is served once the test lets go. No burst whose outcome depends
  on the machine's speed;
- a real GIS client: GDAL's ``ogrinfo`` and ``ogr2ogr`` read the parcels as a GeoJSON layer
  over HTTP.

The server (a thread of the test process, see ``tests/server.py``) runs the app with a pool
of two connections and a queue of two. Rows written here are committed (the app uses its own
connections) and deleted after the module.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, text

from app.main import create_app
from app.settings import Settings
from tests.server import serving, wait_for_lock_waiters
from tests.shapes import insert_site

LIMIT = Settings.model_fields["max_body_bytes"].default
SQUARE = {"type": "Polygon", "coordinates": [[
    [12.310, 51.310], [12.314, 51.310], [12.314, 51.3125], [12.310, 51.3125], [12.310, 51.310]]]}
#: The service's connections (pool size, no overflow: also its admission limit) and queue.
CONNECTIONS = 2
QUEUE = 2


@pytest.fixture(scope="module")
def base(settings: Settings, committed_rows_removed: None,
         api_keys: dict[str, str]) -> Iterator[str]:
    """Base URL of the service."""
    app = create_app(settings.model_copy(update={
        "db_pool_size": CONNECTIONS, "db_max_overflow": 0, "max_queued": QUEUE,
        "queue_wait_s": 60.0}))
    with serving(app) as url:
        yield url


@pytest.fixture(scope="module")
def site_id(engine: Engine, committed_rows_removed: None) -> int:
    with engine.begin() as conn:
        return insert_site(conn, name="Testgebiet Socket")


@pytest.fixture(scope="module")
def headers(api_keys: dict[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_keys['admin']}", "Content-Type": "application/json"}


# --- request bodies ---------------------------------------------------------------------


def _valid(site_id: int, **extra: Any) -> dict[str, Any]:
    return {"site_id": site_id, "geometry": SQUARE, "category": "erweiterungsflaeche",
            "user_groups": ["handwerk_gewerbe"], "servicing": "erschlossen", **extra}


def _oversized(site_id: int) -> bytes:
    """A body that would create a parcel but for its size: valid JSON padded with whitespace."""
    body = json.dumps(_valid(site_id)).encode()
    return body[:-1] + b" " * (LIMIT + 1000) + b"}"


def _chunked(body: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    """A generator, so httpx sends the body with Transfer-Encoding: chunked and no length."""
    for start in range(0, len(body), size):
        yield body[start:start + size]


def _parcels(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM parcels")).scalar_one())


def _assert_too_large(response: httpx.Response) -> None:
    assert response.status_code == 413, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 413
    assert problem["errors"][0]["field"] == "body"


def test_padding_alone_is_accepted(base: str, headers: dict[str, str], site_id: int) -> None:
    """Control: whitespace padding below the limit is fine, so only the size is refused below."""
    body = json.dumps(_valid(site_id)).encode()
    response = httpx.post(base + "/api/v1/parcels", content=body[:-1] + b" " * 1000 + b"}",
                          headers=headers)
    assert response.status_code == 201, response.text


def test_content_length_over_limit_is_413_and_writes_nothing(base: str, headers: dict[str, str],
                                                             site_id: int, engine: Engine) -> None:
    body = _oversized(site_id)
    before = _parcels(engine)
    response = httpx.post(base + "/api/v1/parcels", content=body, headers=headers)
    assert response.request.headers["content-length"] == str(len(body))
    _assert_too_large(response)
    assert _parcels(engine) == before


def test_chunked_over_limit_is_413_and_writes_nothing(base: str, headers: dict[str, str],
                                                      site_id: int, engine: Engine) -> None:
    before = _parcels(engine)
    response = httpx.post(base + "/api/v1/parcels", content=_chunked(_oversized(site_id)),
                          headers=headers)
    assert "content-length" not in response.request.headers
    assert response.request.headers["transfer-encoding"] == "chunked"
    _assert_too_large(response)
    assert _parcels(engine) == before


def test_small_chunked_body_reaches_the_app(base: str, headers: dict[str, str], site_id: int,
                                            engine: Engine) -> None:
    url = base + "/api/v1/parcels"
    invalid = json.dumps(_valid(site_id, category="acker")).encode()
    response = httpx.post(url, content=_chunked(invalid, size=16), headers=headers)
    assert "content-length" not in response.request.headers
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == "category"

    before = _parcels(engine)
    valid = json.dumps(_valid(site_id, internal_notes="ü" * 100)).encode()
    response = httpx.post(url, content=_chunked(valid, size=7), headers=headers)
    assert response.status_code == 201, response.text
    assert response.json()["internal_notes"] == "ü" * 100
    assert _parcels(engine) == before + 1


# --- a saturated process ------------------------------------------------------------------


def _load(base: str) -> dict[str, Any]:
    response = httpx.get(base + "/health", timeout=5)
    assert response.status_code == 200, response.text
    load: dict[str, Any] = response.json()["load"]
    return load


def _until_queued(base: str, waiting: int, timeout_s: float = 30.0) -> dict[str, Any]:
    """Poll ``/health`` until ``waiting`` requests queue at the gate (a state, not a guess)."""
    deadline = time.monotonic() + timeout_s
    while (load := _load(base))["waiting"] < waiting:
        assert time.monotonic() < deadline, load
        time.sleep(0.01)
    return load


def _idle_in_transaction(engine: Engine) -> int:
    with engine.connect() as conn:
        count: int = conn.execute(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND state LIKE 'idle in transaction%' AND pid <> pg_backend_pid()")).scalar_one()
    return count


def test_a_saturated_service_queues_refuses_at_once_beyond_its_queue_and_stays_healthy(
        base: str, engine: Engine, api_keys: dict[str, str]) -> None:
    idle = _load(base)
    assert (idle["saturated"], idle["in_flight"], idle["waiting"]) == (False, 0, 0)
    assert (idle["max_in_flight"], idle["pool_size"], idle["max_queued"]) == (
        CONNECTIONS, CONNECTIONS, QUEUE)
    refused_before = idle["refused_total"]
    analyst = {"Authorization": f"Bearer {api_keys['analyst']}"}

    def page() -> httpx.Response:
        return httpx.get(base + "/api/v1/parcels", params={"limit": 5}, headers=analyst,
                         timeout=60)

    with ThreadPoolExecutor(max_workers=CONNECTIONS + QUEUE) as threads, \
            engine.connect() as holder:
        holder.execute(text("LOCK TABLE parcels IN ACCESS EXCLUSIVE MODE"))
        admitted = [threads.submit(page) for _ in range(CONNECTIONS)]
        # Each admitted request holds one of the two connections and waits for the lock:
        # authentication gave its own connection back first (two at once would exhaust the
        # pool and leave the requests waiting for connections, not for the lock).
        wait_for_lock_waiters(engine, CONNECTIONS, unless=lambda: any(f.done() for f in admitted))
        assert not any(f.done() for f in admitted), [f.result().text for f in admitted if f.done()]
        saturated = _load(base)
        assert (saturated["saturated"], saturated["in_flight"], saturated["waiting"],
                saturated["pool_checked_out"]) == (True, CONNECTIONS, 0, CONNECTIONS)
        queued = [threads.submit(page) for _ in range(QUEUE)]
        _until_queued(base, QUEUE)
        refused = page()  # the queue is full: refused at once, nothing waits
        holder.rollback()
        answers = [f.result(timeout=60) for f in admitted + queued]
    assert refused.status_code == 503, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert int(refused.headers["retry-after"]) >= 1
    assert [a.status_code for a in answers] == [200] * (CONNECTIONS + QUEUE)
    after = _load(base)
    assert (after["in_flight"], after["waiting"], after["pool_checked_out"]) == (0, 0, 0)
    assert after["refused_total"] == refused_before + 1
    assert _idle_in_transaction(engine) == 0


# --- a GIS client -------------------------------------------------------------------------


def _gdal(tool: str) -> str:
    path = shutil.which(tool)
    assert path, f"{tool} (Debian package gdal-bin) is needed: `make test` installs it"
    return path


def test_ogrinfo_reads_the_parcel_layer_over_http(base: str) -> None:
    url = f"{base}/api/v1/parcels?f=geojson&limit=50"
    result = subprocess.run([_gdal("ogrinfo"), "-ro", "-al", "-so", f"GeoJSON:{url}"],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert "Feature Count: 50" in result.stdout, result.stdout
    assert "Geometry: Multi Polygon" in result.stdout, result.stdout
    fields = dict(line.strip().split(": ", 1) for line in result.stdout.splitlines()
                  if line.startswith(("net_area_ha:", "district_ags:", "availability:")))
    assert fields["net_area_ha"].startswith("Real"), result.stdout
    assert fields["district_ags"].startswith("String"), result.stdout


def test_ogr2ogr_converts_the_layer_to_utm(base: str, tmp_path: Path) -> None:
    served = httpx.get(base + "/api/v1/parcels", params={"f": "geojson", "limit": 20}).json()
    out = tmp_path / "parcels_25832.geojson"
    result = subprocess.run(
        [_gdal("ogr2ogr"), "-f", "GeoJSON", "-t_srs", "EPSG:25832", str(out),
         f"GeoJSON:{base}/api/v1/parcels?f=geojson&limit=20"],
        capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    converted = json.loads(out.read_text("utf-8"))["features"]
    # GDAL keeps the feature ids as feature ids (FID) of the new layer
    assert [f["id"] for f in converted] == [f["id"] for f in served["features"]]
    assert [f["properties"]["net_area_ha"] for f in converted] == [
        f["properties"]["net_area_ha"] for f in served["features"]]
    x, y = converted[0]["geometry"]["coordinates"][0][0][0]
    assert 600_000 < x < 800_000 and 5_600_000 < y < 5_800_000
