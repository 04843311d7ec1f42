"""Bursts of simultaneous requests: every request completes or gets a fast 503, never a stall.

The service under test is a real uvicorn process with the default settings, on the session's
database. Bounds are generous: these tests are about liveness, not speed (speed is measured
by ``scripts/bench/concurrency.sh``, see BENCHMARKS.md).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, text

from app.api.admission import Admission, AdmissionGate
from app.settings import Settings
from tests.server import running_service, serving_app

BURST = 200
REQUEST_BOUND_S = 15.0
HEALTH_BOUND_S = 2.0


@pytest.fixture(scope="module")
def fresh_service(database_url: str, demo_loaded: dict[str, int]) -> Iterator[str]:
    """A service process of its own (default settings), so the burst finds an idle gate."""
    with running_service(database_url) as url:
        yield url


@dataclass
class BurstOutcome:
    """What the clients saw: statuses and seconds per request, and the health polls."""

    statuses: list[int | str] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    health: list[tuple[int | str, float, bool]] = field(default_factory=list)


async def _burst(base: str, path: str, n: int) -> BurstOutcome:
    """``n`` simultaneous GETs of ``path`` while ``/health`` is polled every 0.1 s."""
    outcome = BurstOutcome()
    limits = httpx.Limits(max_connections=n + 10, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=base, limits=limits) as client:
        done = asyncio.Event()

        async def one() -> None:
            start = time.monotonic()
            try:
                response = await client.get(path, timeout=REQUEST_BOUND_S)
                outcome.statuses.append(response.status_code)
            except httpx.HTTPError as exc:
                outcome.statuses.append(type(exc).__name__)
            outcome.seconds.append(time.monotonic() - start)

        async def poll_health() -> None:
            while not done.is_set():
                start = time.monotonic()
                try:
                    response = await client.get("/health", timeout=HEALTH_BOUND_S)
                    saturated = response.json().get("load", {}).get("saturated", False)
                    outcome.health.append(
                        (response.status_code, time.monotonic() - start, saturated))
                except httpx.HTTPError as exc:
                    outcome.health.append((type(exc).__name__, time.monotonic() - start, False))
                await asyncio.sleep(0.1)

        poller = asyncio.create_task(poll_health())
        await asyncio.sleep(0.05)
        await asyncio.gather(*(one() for _ in range(n)))
        done.set()
        await poller
    return outcome


def _idle_in_transaction(engine: Engine) -> int:
    with engine.connect() as conn:
        count: int = conn.execute(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND state LIKE 'idle in transaction%' AND pid <> pg_backend_pid()")).scalar_one()
    return count


def test_a_burst_of_200_pages_is_served_and_health_keeps_answering(
        fresh_service: str, engine: Engine) -> None:
    outcome = asyncio.run(_burst(fresh_service, "/api/v1/parcels?limit=100", BURST))

    assert len(outcome.statuses) == BURST
    assert outcome.statuses == [200] * BURST, sorted(map(str, outcome.statuses))
    assert max(outcome.seconds) < REQUEST_BOUND_S
    assert outcome.health, "no health poll completed"
    assert all(status == 200 for status, _, _ in outcome.health), outcome.health
    assert max(seconds for _, seconds, _ in outcome.health) < HEALTH_BOUND_S
    # The burst really filled every slot, and /health said so.
    assert any(saturated for _, _, saturated in outcome.health), outcome.health
    assert _idle_in_transaction(engine) == 0


def test_health_reports_the_load_of_an_idle_service(fresh_service: str) -> None:
    load = httpx.get(fresh_service + "/health", timeout=5).json()["load"]
    defaults = Settings()
    assert load["saturated"] is False
    assert load["in_flight"] == 0
    assert load["max_in_flight"] == defaults.db_pool_size + defaults.db_max_overflow
    assert load["pool_size"] == defaults.db_pool_size


# --- the gate on a probe app ----------------------------------------------------------


def _probe(admission: Admission, hold_s: float) -> FastAPI:
    """An app whose ``/slow`` holds its slot ``hold_s`` seconds; ``/health`` is exempt."""
    probe = FastAPI()

    @probe.get("/slow")
    async def slow() -> dict[str, bool]:
        await asyncio.sleep(hold_s)
        return {"ok": True}

    @probe.get("/health")
    async def health() -> dict[str, int]:
        return {"in_flight": admission.stats().in_flight}

    probe.add_middleware(AdmissionGate, admission=admission)
    return probe


async def _simultaneous(base: str, paths: list[str]) -> list[tuple[httpx.Response, float]]:
    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        async def one(path: str) -> tuple[httpx.Response, float]:
            start = time.monotonic()
            response = await client.get(path)
            return response, time.monotonic() - start
        return list(await asyncio.gather(*(one(p) for p in paths)))


def test_a_request_that_waits_longer_than_the_bound_gets_a_fast_503_with_retry_after() -> None:
    admission = Admission(limit=1, wait_s=0.3, max_queued=10)
    with serving_app(_probe(admission, hold_s=2.0)) as http:
        results = asyncio.run(_simultaneous(str(http.base_url), ["/slow"] * 3 + ["/health"]))

    statuses = sorted(response.status_code for response, _ in results[:3])
    assert statuses == [200, 503, 503]
    for response, seconds in results[:3]:
        if response.status_code == 503:
            assert response.headers["content-type"] == "application/problem+json"
            assert int(response.headers["retry-after"]) >= 1
            assert response.json()["status"] == 503
            assert seconds < 1.5  # refused after the 0.3 s wait, not after the 2 s hold
    health, seconds = results[3]
    assert health.status_code == 200 and health.json() == {"in_flight": 1}
    assert seconds < 1.5
    assert admission.stats().refused_total == 2


def test_a_full_queue_is_refused_at_once() -> None:
    admission = Admission(limit=1, wait_s=5.0, max_queued=0)
    with serving_app(_probe(admission, hold_s=1.5)) as http:
        results = asyncio.run(_simultaneous(str(http.base_url), ["/slow", "/slow"]))

    by_status = {response.status_code: seconds for response, seconds in results}
    assert set(by_status) == {200, 503}
    assert by_status[503] < 1.0


def test_work_that_fits_into_the_wait_is_served_not_refused() -> None:
    admission = Admission(limit=2, wait_s=3.0, max_queued=10)
    with serving_app(_probe(admission, hold_s=0.3)) as http:
        results = asyncio.run(_simultaneous(str(http.base_url), ["/slow"] * 8))

    assert [response.status_code for response, _ in results] == [200] * 8
    assert admission.stats().in_flight == 0


def test_the_default_admission_limit_is_the_pool_capacity() -> None:
    settings = Settings(db_pool_size=5, db_max_overflow=3)
    assert settings.admission_limit == 8
    assert Settings(db_pool_size=5, db_max_overflow=3, max_in_flight=20).admission_limit == 20
