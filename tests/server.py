"""How the tests serve the app: in-process on the test's transaction, or uvicorn on a socket.

Almost every HTTP test runs the real app (``app.main.create_app``) in-process through
Starlette's ``TestClient``, with the app's database engine replaced (a FastAPI dependency
override) by a :class:`SavepointEngine` on the test's one connection: every connection and
transaction a request takes is a savepoint inside the test's outer transaction, which is
rolled back after the test. No test sees another test's writes, and nothing is committed.

Only ``tests/test_socket.py`` serves the app with ``uvicorn`` on a socket (:func:`serving`):
request bodies sent chunked, the admission gate of a real server, and a GDAL client over HTTP.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from fastapi import FastAPI
from sqlalchemy import Connection, Engine, text

from app.api.deps import get_engine_dep
from app.api.health import get_health_engine


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

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._initial_modes: list[str] | None = None

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
        if self._initial_modes is None:
            rows = self.conn.execute(text(
                "SELECT condeferred, string_agg(DISTINCT quote_ident(conname), ', ') "
                "FROM pg_constraint WHERE condeferrable GROUP BY condeferred")).all()
            self._initial_modes = [
                f"SET CONSTRAINTS {names} {'DEFERRED' if deferred else 'IMMEDIATE'}"
                for deferred, names in rows]
        return "; ".join(["SET CONSTRAINTS ALL IMMEDIATE", *self._initial_modes])


@contextmanager
def on_connection(app: FastAPI, conn: Connection) -> Iterator[SavepointEngine]:
    """Let ``app`` use only ``conn`` (see :class:`SavepointEngine`) until the block ends."""
    engine = SavepointEngine(conn)
    app.dependency_overrides[get_engine_dep] = lambda: engine
    app.dependency_overrides[get_health_engine] = lambda: engine
    try:
        yield engine
    finally:
        app.dependency_overrides.pop(get_engine_dep, None)
        app.dependency_overrides.pop(get_health_engine, None)


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


@contextmanager
def serving(app: FastAPI, timeout_s: float = 30.0) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free port of 127.0.0.1 (in a thread of this process,
    with an event loop of its own, so the app's imports are not paid again); yield its base
    URL; stop it after. The app's lifespan runs as in production (its own connection pool).
    """
    import threading

    import uvicorn

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
