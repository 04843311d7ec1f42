"""How the tests serve the app: in-process on the test's transaction, or uvicorn on a socket.

Almost every HTTP test runs the real app (``app.main.create_app``) in-process (an httpx
client whose transport calls the app, :func:`in_process`), with the app's database engine
replaced (:func:`on_connection`) by a :class:`SavepointEngine` on the test's one
connection: every connection and transaction a request takes is a savepoint inside the
test's outer transaction, which is rolled back after the test. No test sees another test's
writes, and nothing is committed.

Only ``tests/test_socket.py`` serves the app with ``uvicorn`` on a socket (:func:`serving`):
request bodies sent chunked, the admission gate of a real server, and a GDAL client over HTTP.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from contextlib import AsyncExitStack, contextmanager
from typing import Any, ClassVar, TypeVar

import httpx
import uvicorn
from fastapi import FastAPI
from sqlalchemy import Connection, Engine, text

T = TypeVar("T")


def run_in_own_loop(coroutine: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(coroutine)`` in a thread of its own: a test may run while the main
    thread already has a running event loop (Playwright's sync API keeps one there once a
    browser test has started in the same process)."""
    result: list[T] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            result.append(asyncio.run(coroutine))
        except BaseException as exc:  # handed to the caller
            failure.append(exc)

    thread = threading.Thread(target=run, name="test-event-loop")
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    return result[0]


class InProcessTransport(httpx.BaseTransport):
    """Sends requests straight to an ASGI app running on an event loop of its own (a thread).

    One hop per request (``TestClient`` makes several), and requests sent from several
    threads at once run concurrently on that loop, as they would in a server.
    """

    def __init__(self, app: FastAPI) -> None:
        self._asgi = httpx.ASGITransport(app=app)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="asgi-app",
                                        daemon=True)
        self._thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run ``coroutine`` on the app's loop; its result (or its exception)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        status, headers, body = self.run(self._call(request))
        return httpx.Response(status, headers=headers, content=body, request=request)

    async def _call(self, request: httpx.Request) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        response = await self._asgi.handle_async_request(request)
        body = b"".join([chunk async for chunk in response.aiter_raw()])
        return response.status_code, response.headers.raw, body

    def stop(self) -> None:
        """End the app's loop (after its lifespan has ended; closing a client does not)."""
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()


@contextmanager
def in_process(app: FastAPI) -> Iterator[httpx.Client]:
    """An httpx client of ``app`` (base URL ``http://testserver``), in-process; the app's
    lifespan runs around it, as in a server."""
    transport = InProcessTransport(app)
    lifespan = AsyncExitStack()
    transport.run(lifespan.enter_async_context(app.router.lifespan_context(app)))
    try:
        with httpx.Client(transport=transport, base_url="http://testserver") as client:
            yield client
    finally:
        transport.run(lifespan.aclose())
        transport.stop()


class SavepointEngine:
    """Stands in for the app's :class:`~sqlalchemy.Engine`: one connection, savepoints.

    The app uses its engine in two ways, and both keep their production meaning here:

    - ``engine.connect()`` (reads, the health check): a savepoint that is always rolled
      back at the end, as closing a pooled connection rolls back whatever it did;
    - ``engine.begin()`` (writes via ``write_transaction``, authentication): a savepoint
      released on success and rolled back on an error, so a failed write undoes only
      itself. Before the release it does what ``COMMIT`` would: it fires the constraint
      triggers PostgreSQL defers to the commit (``SET CONSTRAINTS ALL IMMEDIATE``), so a
      write that fails at commit in production fails here, with the same error; and then
      puts every deferrable constraint back into its initial mode, as a new transaction
      would find it (a write may switch one to ``IMMEDIATE`` for itself).
    """

    #: No pool of its own (``/health`` reports 0 connections checked out).
    pool = None
    #: ``SET CONSTRAINTS`` statements restoring the initial modes, by database URL.
    _initial_modes: ClassVar[dict[str, list[str]]] = {}

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        savepoint = self.conn.begin_nested()
        try:
            yield self.conn
        finally:
            if savepoint.is_active:
                savepoint.rollback()

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        savepoint = self.conn.begin_nested()
        try:
            yield self.conn
            # One round trip: fire the deferred checks (an error stops the rest), then
            # restore the initial modes.
            self.conn.exec_driver_sql(self._commit_statements())
        except BaseException:
            if savepoint.is_active:
                savepoint.rollback()
            raise
        savepoint.commit()

    def _commit_statements(self) -> str:
        """``SET CONSTRAINTS ALL IMMEDIATE``, then the statements that restore every
        deferrable constraint's initial mode (``INITIALLY DEFERRED`` or ``… IMMEDIATE``)."""
        database = str(self.conn.engine.url)
        if database not in self._initial_modes:
            rows = self.conn.execute(text(
                "SELECT condeferred, string_agg(DISTINCT quote_ident(conname), ', ') "
                "FROM pg_constraint WHERE condeferrable GROUP BY condeferred")).all()
            self._initial_modes[database] = [
                f"SET CONSTRAINTS {names} {'DEFERRED' if deferred else 'IMMEDIATE'}"
                for deferred, names in rows]
        return "; ".join(["SET CONSTRAINTS ALL IMMEDIATE", *self._initial_modes[database]])


#: Where the app keeps its engines (``app.main.create_app``'s lifespan puts them there; the
#: dependencies ``get_engine_dep`` and ``get_health_engine`` read them from there).
_ENGINE_SLOTS = ("engine", "health_engine")
#: Where it keeps the read replica's router (``None`` without a read URL); switched off on
#: the test's connection, so every read runs there too.
_REPLICA_SLOT = "replica"


@contextmanager
def on_connection(app: FastAPI, conn: Connection) -> Iterator[SavepointEngine]:
    """Let ``app`` use only ``conn`` (see :class:`SavepointEngine`) until the block ends.

    The engines are swapped in ``app.state`` rather than with ``app.dependency_overrides``:
    while any override is set, FastAPI rebuilds every dependency of every request (some
    20 ms a request here); production code reads the engine from ``app.state`` anyway.
    """
    engine = SavepointEngine(conn)
    saved = {slot: getattr(app.state, slot, None) for slot in _ENGINE_SLOTS}
    saved_replica = getattr(app.state, _REPLICA_SLOT, None)
    for slot in _ENGINE_SLOTS:
        setattr(app.state, slot, engine)
    setattr(app.state, _REPLICA_SLOT, None)
    try:
        yield engine
    finally:
        setattr(app.state, _REPLICA_SLOT, saved_replica)
        for slot, previous in saved.items():
            if previous is None:
                delattr(app.state, slot)
            else:
                setattr(app.state, slot, previous)


# --- committed data, for the tests that need concurrent transactions ----------------------

#: Tables a concurrency test may write to, children first (the order rows are purged in).
PURGED_TABLES = ("land_sales", "parcel_history", "parcels", "sites", "enquiries")
#: Triggers that refuse deletions; disabled only inside the purging transaction.
_NO_DELETE_TRIGGERS = (("land_sales", "land_sales_no_delete"),
                       ("parcel_history", "parcel_history_append_only"),
                       ("parcels", "parcels_no_delete"), ("sites", "sites_no_delete"),
                       ("enquiries", "enquiries_no_delete"))


def high_water_marks(engine: Engine) -> dict[str, int]:
    """The largest id of every table in :data:`PURGED_TABLES` (0 when empty)."""
    with engine.connect() as conn:
        return {table: int(conn.execute(text(f"SELECT coalesce(max(id), 0) FROM {table}"))
                           .scalar_one()) for table in PURGED_TABLES}


def purge_above(engine: Engine, marks: dict[str, int]) -> None:
    """Delete every row committed after :func:`high_water_marks` returned ``marks``.

    For the tests that must commit (concurrent transactions cannot share the rolled-back
    one). Parcels, sites, sales, enquiries and the history refuse deletion by design; their
    guard triggers are disabled inside this one transaction only (``ALTER TABLE`` is
    transactional, and other sessions wait for its lock), so no one else ever sees them off.
    """
    with engine.begin() as conn:
        for table, trigger in _NO_DELETE_TRIGGERS:
            conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}"))
        conn.execute(text("DELETE FROM land_sales WHERE id > :m OR parcel_id IN "
                          "(SELECT id FROM parcels WHERE id > :p)"),
                     {"m": marks["land_sales"], "p": marks["parcels"]})
        conn.execute(text("DELETE FROM parcel_history WHERE id > :m"),
                     {"m": marks["parcel_history"]})
        conn.execute(text("DELETE FROM parcels WHERE id > :m"), {"m": marks["parcels"]})
        conn.execute(text("DELETE FROM site_partners WHERE site_id > :m"), {"m": marks["sites"]})
        conn.execute(text("DELETE FROM sites WHERE id > :m"), {"m": marks["sites"]})
        conn.execute(text("DELETE FROM enquiries WHERE id > :m"), {"m": marks["enquiries"]})
        for table, trigger in _NO_DELETE_TRIGGERS:
            conn.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER {trigger}"))


def wait_for_lock_waiters(engine: Engine, count: int, timeout_s: float = 30.0,
                          unless: Callable[[], bool] | None = None) -> None:
    """Block until ``count`` sessions of this database wait for a lock.

    Not a timing guess: the tests hold the lock themselves and release it only after this
    returns. ``unless`` ends the wait early (e.g. "the request has already answered"); the
    caller then finds out why. Fails after ``timeout_s``.
    """
    deadline = time.monotonic() + timeout_s
    with engine.connect() as conn:
        while True:
            waiting = int(conn.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()")).scalar_one())
            if waiting >= count or (unless is not None and unless()):
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"{waiting} sessions wait for a lock, expected {count}")
            conn.rollback()  # a fresh snapshot of pg_stat_activity
            time.sleep(0.005)


# --- a real server on a socket ----------------------------------------------------------


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (``scripts/dev/fuzz.sh``)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def serving(app: FastAPI, timeout_s: float = 30.0) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free port of 127.0.0.1 (in a thread of this process,
    with an event loop of its own, so the app's imports are not paid again); yield its base
    URL; stop it after. The app's lifespan runs as in production (its own connection pool).
    """
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning",
                                           lifespan="on"))
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout_s
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=timeout_s)
