"""The test session's throwaway databases on the test server.

A session builds one database: create it (with PostGIS), migrate it, load the demo data
(about 5 s). With pytest-xdist the controller builds it once, as a template, and marks it
ready with a comment that holds the demo report; every worker then copies it (``CREATE
DATABASE … TEMPLATE``, well under a second) instead of building its own.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

import pytest
from alembic import command
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.cli import alembic_config
from app.db.session import build_engine, set_actor
from app.services.demo_loader import load_demo
from app.settings import Settings

#: A built database: its URL and the demo rows written per table.
Built = tuple[str, dict[str, int]]
#: Longest wait of a worker for the controller's template, seconds.
TEMPLATE_TIMEOUT_S = 600


def server_url() -> str:
    """The test server: ``TEST_DATABASE_URL`` (preferred) or ``DATABASE_URL``."""
    url = os.environ.get("TEST_DATABASE_URL") or os.environ.get("DATABASE_URL")
    if not url:
        pytest.exit(
            "Set TEST_DATABASE_URL or DATABASE_URL to a PostGIS server (or run `make test`).",
            returncode=2,
        )
    return Settings(database_url=url).database_url


def scratch_name(prefix: str = "gefis_test") -> str:
    return f"{prefix}_{secrets.token_hex(4)}"


def _admin_execute(sql: str, **params: object) -> list[tuple[object, ...]]:
    """Run ``sql`` on the server's own database (outside any transaction)."""
    admin = create_engine(make_url(server_url()), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            result = conn.execute(text(sql), params)
            return [tuple(r) for r in result] if result.returns_rows else []
    finally:
        admin.dispose()


def create_scratch_database(prefix: str = "gefis_test", *, name: str | None = None) -> str:
    """Create an empty database with PostGIS on the test server; returns its URL."""
    name = name or scratch_name(prefix)
    _admin_execute(f'CREATE DATABASE "{name}"')
    url = make_url(server_url()).set(database=name)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
    engine.dispose()
    return url.render_as_string(hide_password=False)


def drop_scratch_database(url: str) -> None:
    """Drop a database made by :func:`create_scratch_database` (closing its sessions)."""
    _admin_execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


def build_session_database(name: str | None = None) -> Built:
    """Create, migrate and load the session's database; its URL and the demo rows written."""
    url = create_scratch_database(name=name)
    try:
        command.upgrade(alembic_config(url), "head")
        engine = build_engine(Settings(database_url=url))
        try:
            with engine.begin() as conn:
                set_actor(conn, "test-demo-loader", "Demo-Daten für Tests")
                report = load_demo(conn, Settings(database_url=url).geodata_dir,
                                   progress=lambda _: None)
        finally:
            engine.dispose()
    except BaseException:
        drop_scratch_database(url)
        raise
    return url, report.written


def build_template(name: str) -> Built:
    """:func:`build_session_database` as a template: once built (and no longer connected
    to), it is marked ready by a comment that holds the demo report."""
    url, written = build_session_database(name)
    _admin_execute(f"COMMENT ON DATABASE \"{name}\" IS '{json.dumps(written)}'")
    return url, written


def clone_template(template: str) -> Built:
    """A database of its own copied from ``template`` once :func:`build_template` has
    marked it ready (another process builds it)."""
    deadline = time.monotonic() + TEMPLATE_TIMEOUT_S
    seen = False
    admin = create_engine(make_url(server_url()), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            while (ready := conn.execute(text(
                    "SELECT shobj_description(oid, 'pg_database') FROM pg_database "
                    "WHERE datname = :n"), {"n": template}).first()) is None or ready[0] is None:
                if seen and ready is None:
                    raise RuntimeError(f"building the template database {template} failed "
                                       "(see pytest-xdist's controller)")
                if time.monotonic() > deadline:
                    raise TimeoutError(f"the template database {template} was not built in "
                                       f"{TEMPLATE_TIMEOUT_S} s (see pytest-xdist's controller)")
                seen = seen or ready is not None
                time.sleep(0.1)
            name = scratch_name()
            # a database's comment is not copied with it: the copy is not marked ready
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    finally:
        admin.dispose()
    url = make_url(server_url()).set(database=name).render_as_string(hide_password=False)
    written: dict[str, int] = json.loads(str(ready[0]))
    return url, written


class SessionDatabase:
    """The session's throwaway database, made at most once, in the background."""

    def __init__(self) -> None:
        self._executor: ThreadPoolExecutor | None = None
        self._built: Future[Built] | None = None
        #: its name, known from the start (a template's, for the workers)
        self.name: str | None = None

    @property
    def started(self) -> bool:
        return self._built is not None

    def _submit(self, make: Callable[[], Built]) -> None:
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="gefis-test-database")
        self._built = self._executor.submit(make)

    def start(self) -> None:
        """Begin building it unless that has begun."""
        if self._built is None:
            self._submit(build_session_database)

    def start_template(self) -> str:
        """Begin building it as the workers' template unless that has begun; its name."""
        if self._built is None:
            name = self.name = scratch_name("gefis_template")
            self._submit(lambda: build_template(name))
        assert self.name is not None
        return self.name

    def start_clone(self, template: str) -> None:
        """Begin copying it from ``template`` (built by another process)."""
        if self._built is None:
            self._submit(lambda: clone_template(template))

    def result(self) -> Built:
        """Its URL and demo rows, once made."""
        self.start()
        assert self._built is not None
        return self._built.result()

    def drop(self) -> None:
        """Drop it, if it was begun (waiting for the build to end first)."""
        if self._built is None:
            return
        try:
            url, _ = self._built.result()
        except Exception as exc:  # the build removed what it had made
            sys.stderr.write(f"\n[gefis] building the test database failed: {exc!r}\n")
            return
        finally:
            assert self._executor is not None
            self._executor.shutdown()
        drop_scratch_database(url)
