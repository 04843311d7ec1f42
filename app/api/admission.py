"""Admission control: at most ``limit`` requests use the database at once; the rest queue.

Why: request handlers are synchronous and run in a bounded thread pool, and each one borrows a
pooled database connection. Without a gate, a burst fills every worker thread with requests
blocked on ``pool.checkout`` while the requests that do hold connections cannot get a thread
to finish on: the service stalls until the pool's timeouts break the jam. Queuing here, in
the event loop and before any thread or connection is taken, keeps the number of requests
doing work at or below the number of connections, so none of them ever waits for one.

Queued requests cost a coroutine each. A request that waits longer than ``wait_s`` (or
arrives when ``max_queued`` are already waiting) gets a fast ``503`` problem with
``Retry-After``. Paths in ``exempt_paths`` (``/health``, the API docs) bypass the gate: they
must answer while the service is saturated, and need no database connection of the pool.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass

import anyio
from starlette.types import ASGIApp, Receive, Scope, Send

from app.api.problems import PROBLEM_MEDIA_TYPE, PROBLEM_TYPE_BASE

#: Paths (and their sub-paths) that never queue: liveness has a connection pool of its own;
#: the docs, the vocabularies and the web map's files read no data.
DEFAULT_EXEMPT_PATHS: tuple[str, ...] = (
    "/health", "/docs", "/redoc", "/openapi.json", "/api/v1/vocabularies",
    "/karte/static", "/karte/vendor")


@dataclass(frozen=True)
class AdmissionStats:
    """A snapshot of the gate, for ``/health`` and operators."""

    limit: int
    in_flight: int
    waiting: int
    max_queued: int
    wait_s: float
    refused_total: int

    @property
    def saturated(self) -> bool:
        """Every slot is taken: new requests queue (or are refused once the queue is full)."""
        return self.in_flight >= self.limit


class Admission:
    """The gate's state: ``limit`` slots, a queue of at most ``max_queued``, ``wait_s``."""

    def __init__(self, *, limit: int, wait_s: float, max_queued: int) -> None:
        self.limit = limit
        self.wait_s = wait_s
        self.max_queued = max_queued
        self.retry_after_s = max(1, math.ceil(wait_s / 5))
        self._slots = anyio.Semaphore(limit)
        self._waiting = 0
        self._refused = 0

    def stats(self) -> AdmissionStats:
        """The gate's current state."""
        return AdmissionStats(
            limit=self.limit, in_flight=self.limit - self._slots.value, waiting=self._waiting,
            max_queued=self.max_queued, wait_s=self.wait_s, refused_total=self._refused)

    async def acquire(self) -> bool:
        """Take a slot, waiting at most ``wait_s``; ``False`` when refused."""
        try:
            self._slots.acquire_nowait()
            return True
        except anyio.WouldBlock:
            pass
        if self._waiting < self.max_queued:
            self._waiting += 1
            try:
                with anyio.move_on_after(self.wait_s):
                    await self._slots.acquire()
                    return True
            finally:
                self._waiting -= 1
        self._refused += 1
        return False

    def release(self) -> None:
        """Give back a slot taken by :meth:`acquire`."""
        self._slots.release()


class AdmissionGate:
    """ASGI middleware: HTTP requests outside ``exempt_paths`` pass through ``admission``."""

    def __init__(self, app: ASGIApp, *, admission: Admission,
                 exempt_paths: Iterable[str] = DEFAULT_EXEMPT_PATHS) -> None:
        self.app = app
        self.admission = admission
        self.exempt_paths = tuple(exempt_paths)

    def _exempt(self, path: str) -> bool:
        return any(path == p or path.startswith(p + "/") for p in self.exempt_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self._exempt(scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        if not await self.admission.acquire():
            await self._refuse(scope, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self.admission.release()

    async def _refuse(self, scope: Scope, send: Send) -> None:
        gate = self.admission.stats()
        retry_after = self.admission.retry_after_s
        body = json.dumps({
            "type": PROBLEM_TYPE_BASE + "service-busy",
            "title": "Service busy",
            "status": 503,
            "detail": f"The service is at capacity ({gate.in_flight} requests in progress, "
                      f"{gate.waiting} waiting) and could not start this request within "
                      f"{gate.wait_s:g} s. Retry after {retry_after} s.",
            "instance": scope.get("path", ""),
        }).encode()
        await send({"type": "http.response.start", "status": 503,
                    "headers": [(b"content-type", PROBLEM_MEDIA_TYPE.encode()),
                                (b"content-length", str(len(body)).encode()),
                                (b"retry-after", str(retry_after).encode())]})
        await send({"type": "http.response.body", "body": body})
