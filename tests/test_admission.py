"""The admission gate on a probe app, in-process: every request completes or gets a 503.

The probe's ``/hold`` keeps its slot until the test lets go (an event, not a sleep), so
which requests are admitted, queued or refused is decided by the gate alone, never by the
machine's speed. The gate of the real service process is tested in ``test_socket.py``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx
from fastapi import FastAPI

from app.api.admission import Admission, AdmissionGate
from app.settings import Settings
from tests.server import run_in_own_loop


@dataclass
class Probe:
    """An app behind ``admission`` whose ``/hold`` waits for ``release``."""

    admission: Admission
    release: asyncio.Event = field(default_factory=asyncio.Event)
    holding: int = 0
    most_holding: int = 0

    def app(self) -> FastAPI:
        probe = FastAPI()

        @probe.get("/hold")
        async def hold() -> dict[str, bool]:
            self.holding += 1
            self.most_holding = max(self.most_holding, self.holding)
            try:
                await self.release.wait()
            finally:
                self.holding -= 1
            return {"ok": True}

        @probe.get("/health")
        async def health() -> dict[str, int]:
            return {"in_flight": self.admission.stats().in_flight}

        probe.add_middleware(AdmissionGate, admission=self.admission)
        return probe


async def _until(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    """Let the event loop run until ``condition`` holds (a state of the gate)."""
    async with asyncio.timeout(timeout_s):
        while not condition():
            await asyncio.sleep(0)


def _run(scenario: Callable[[httpx.AsyncClient, Probe], Awaitable[None]],
         admission: Admission) -> None:
    async def main() -> None:
        probe = Probe(admission)
        transport = httpx.ASGITransport(app=probe.app())
        async with httpx.AsyncClient(transport=transport, base_url="http://probe") as client:
            await scenario(client, probe)

    run_in_own_loop(main())


def test_a_request_that_waits_longer_than_the_bound_gets_a_503_with_retry_after() -> None:
    admission = Admission(limit=1, wait_s=0.05, max_queued=10)

    async def scenario(client: httpx.AsyncClient, probe: Probe) -> None:
        holder = asyncio.create_task(client.get("/hold"))
        await _until(lambda: probe.holding == 1)
        loop = asyncio.get_running_loop()
        started = loop.time()
        refused = await client.get("/hold")  # queues behind the holder, which never lets go
        waited = loop.time() - started
        health = await client.get("/health")  # exempt: answers while the slot is taken
        probe.release.set()
        held = await holder

        assert refused.status_code == 503
        assert refused.headers["content-type"] == "application/problem+json"
        assert int(refused.headers["retry-after"]) >= 1
        assert refused.json()["status"] == 503
        assert waited >= admission.wait_s - 1e-3  # it queued for the whole bound first
        assert health.status_code == 200 and health.json() == {"in_flight": 1}
        assert held.status_code == 200
        assert admission.stats().refused_total == 1

    _run(scenario, admission)


def test_a_full_queue_is_refused_at_once() -> None:
    admission = Admission(limit=1, wait_s=60.0, max_queued=0)

    async def scenario(client: httpx.AsyncClient, probe: Probe) -> None:
        holder = asyncio.create_task(client.get("/hold"))
        await _until(lambda: probe.holding == 1)
        # Had it queued, it would wait 60 s: the timeout fails the test instead.
        async with asyncio.timeout(10):
            refused = await client.get("/hold")
        probe.release.set()
        assert refused.status_code == 503
        assert (await holder).status_code == 200
        assert admission.stats().refused_total == 1

    _run(scenario, admission)


def test_work_that_fits_into_the_wait_is_served_not_refused() -> None:
    admission = Admission(limit=2, wait_s=60.0, max_queued=10)

    async def scenario(client: httpx.AsyncClient, probe: Probe) -> None:
        requests = [asyncio.create_task(client.get("/hold")) for _ in range(8)]
        await _until(lambda: probe.holding == 2 and admission.stats().waiting == 6)
        probe.release.set()
        answers = await asyncio.gather(*requests)
        assert [a.status_code for a in answers] == [200] * 8
        assert probe.most_holding == 2  # never more than the limit at once
        stats = admission.stats()
        assert (stats.in_flight, stats.waiting, stats.refused_total) == (0, 0, 0)

    _run(scenario, admission)


def test_the_default_admission_limit_is_the_pool_capacity() -> None:
    settings = Settings(db_pool_size=5, db_max_overflow=3)
    assert settings.admission_limit == 8
    assert Settings(db_pool_size=5, db_max_overflow=3, max_in_flight=20).admission_limit == 20
