"""Test fixtures: a throwaway PostGIS database per test session, built by the migrations.

The server comes from ``TEST_DATABASE_URL`` (preferred) or ``DATABASE_URL``; the test session
creates ``gefis_test_<random>`` on it, migrates it, loads the demo data once (a run of the
whole suite does so while pytest collects), and drops it at the end; pytest-xdist's workers
each copy one the controller built (``tests/session_database.py``). The development
database named by ``DATABASE_URL`` is never written to.

Isolation: a test gets ``conn``, one connection inside a transaction that is rolled back
after it. The HTTP tests call the real app in-process (``http``, ``clients``) on that same
connection (see ``tests/server.py``), so they see the test's own rows and leave nothing
behind. Only tests that need concurrent transactions commit (``committing_clients``), and
they remove what they committed.

Time: "today" is pinned for the whole run (a run across midnight sees one day); the ``clock``
fixture sets the day, or the database clock of the parcel history, for one test.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Connection, Engine, text

from app.db.session import build_engine, set_actor
from app.domain import clock as service_clock
from app.settings import Settings
from tests import demo_runs
from tests.resource_client import Client
from tests.server import high_water_marks, in_process, on_connection, purge_above
from tests.session_database import SessionDatabase

#: Fixtures of the browser tests: ``browser`` (tests/browser.py) and the web map's
#: ``map_server`` and ``open_map`` (tests/map_page.py), for every test module.
pytest_plugins = ("tests.browser", "tests.map_page")

FIXTURES = Path(__file__).parent / "fixtures"

#: Roles of ``api_keys`` and ``clients`` (``public``: no key).
ROLES = ("public", "analyst", "editor", "editor_halle", "admin")


def pytest_configure(config: pytest.Config) -> None:
    """Pin "today" before collection: module constants such as ``TODAY = today()`` and the
    service then agree on one day for the whole run."""
    del config
    service_clock.set_today(service_clock.today())


def pytest_unconfigure(config: pytest.Config) -> None:
    del config
    service_clock.set_today(None)


_SESSION_DATABASE = SessionDatabase()


def _whole_suite(config: pytest.Config) -> bool:
    options = config.option
    return (not options.file_or_dir and not options.collectonly
            and bool(os.environ.get("TEST_DATABASE_URL") or os.environ.get("DATABASE_URL")))


def pytest_sessionstart(session: pytest.Session) -> None:
    """A run of the whole suite (no paths given) starts building the database at once, so
    that migrating and loading the demo (seconds) overlap with collecting the tests; other
    runs build it when a test first needs it. With pytest-xdist each worker copies the
    controller's template database, and the one demo-generator run is the controller's
    (:func:`pytest_configure_node`)."""
    workerinput = getattr(session.config, "workerinput", None)
    if getattr(session.config.option, "numprocesses", None) and workerinput is None:
        return  # the controller of pytest-xdist's workers runs no test
    if workerinput is not None and "gefis_template_db" in workerinput:
        _SESSION_DATABASE.start_clone(workerinput["gefis_template_db"])
        demo_runs.adopt(workerinput["gefis_demo_run"])
    elif _whole_suite(session.config):
        _SESSION_DATABASE.start()
        demo_runs.start()


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """pytest-xdist's controller, for each worker it starts: the database is built once,
    here, as the template every worker copies; the demo generator runs once, started here,
    and whichever worker runs the determinism test waits for it."""
    if _whole_suite(node.config):
        node.workerinput["gefis_template_db"] = _SESSION_DATABASE.start_template()
        node.workerinput["gefis_demo_run"] = str(demo_runs.start())


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """While the database is still being built (whole-suite runs), the tests that need none
    run: they go first (a stable partition; the order within each part stays)."""
    del config
    if _SESSION_DATABASE.started:
        items.sort(key=lambda item: (item.path.name == "test_demo_determinism.py",
                                     "database_url" in getattr(item, "fixturenames", ())))


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """Drop the database after the session's fixtures have closed their connections."""
    del session
    demo_runs.cleanup()
    _SESSION_DATABASE.drop()


@pytest.fixture(scope="session")
def database_url() -> str:
    """URL of the session's throwaway database: migrated, with the demo data loaded."""
    return _SESSION_DATABASE.result()[0]


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    """Settings pointing at the throwaway database."""
    return Settings(database_url=database_url)


@pytest.fixture(scope="session")
def engine(settings: Settings) -> Iterator[Engine]:
    """Engine on the throwaway database."""
    eng = build_engine(settings)
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def demo_loaded(database_url: str) -> dict[str, int]:
    """The demo data, loaded once per session with the database; the rows written per table."""
    return _SESSION_DATABASE.result()[1]


@pytest.fixture
def conn(engine: Engine, demo_loaded: dict[str, int]) -> Iterator[Connection]:
    """A connection inside a transaction that is rolled back after the test."""
    with engine.connect() as connection:
        transaction = connection.begin()
        set_actor(connection, "pytest")
        try:
            yield connection
        finally:
            transaction.rollback()


@pytest.fixture(scope="session")
def study() -> dict[str, Any]:
    """The study's published figures (a copy kept with the tests)."""
    data: dict[str, Any] = json.loads((FIXTURES.parents[1] / "geodata" / "study" / "reference_figures.json").read_text("utf-8"))
    return data


@pytest.fixture(scope="session")
def api_keys(engine: Engine, demo_loaded: dict[str, int]) -> dict[str, str]:
    """Bearer keys by role: analyst, editor (Leipzig city only), editor_halle, admin.

    Committed once per session (setup data, read by every test, changed by none).
    """
    from app.services.api_keys import create_api_key

    specs = {
        "analyst": ("test-analyst", "analyst", []),
        "editor": ("test-editor-leipzig", "editor", ["14713"]),
        "editor_halle": ("test-editor-halle", "editor", ["15002"]),
        "admin": ("test-admin", "admin", []),
    }
    keys = {}
    with engine.begin() as conn:
        for role_key, (name, role, districts) in specs.items():
            _, keys[role_key] = create_api_key(conn, name, role, districts, "pytest")
    return keys


@pytest.fixture(scope="session")
def api(settings: Settings) -> FastAPI:
    """The service (``app.main.create_app``) for the session's database."""
    from app.main import create_app

    return create_app(settings)


@pytest.fixture(scope="session")
def app_client(api: FastAPI, demo_loaded: dict[str, int]) -> Iterator[httpx.Client]:
    """An in-process client of :func:`api`, open for the whole session (one event loop).

    Without the overrides of ``http`` the app uses its own engine: committed data only.
    """
    with in_process(api) as client:
        yield client


@pytest.fixture
def http(api: FastAPI, app_client: httpx.Client, conn: Connection) -> Iterator[httpx.Client]:
    """The in-process client, with every database access of the app on ``conn``."""
    with on_connection(api, conn):
        yield app_client


@pytest.fixture
def clients(http: httpx.Client, api_keys: dict[str, str]) -> dict[str, Client]:
    """``/api/v1`` clients by role (see :data:`ROLES`), on the test's transaction."""
    return {role: Client(http, api_keys.get(role)) for role in ROLES}


@pytest.fixture(scope="module")
def committed_rows_removed(engine: Engine, demo_loaded: dict[str, int]) -> Iterator[None]:
    """Rows a module commits (through a real server or committing clients) are deleted
    after it, down to the ids there were before; the test database is as it was."""
    marks = high_water_marks(engine)
    yield
    purge_above(engine, marks)
    assert high_water_marks(engine) == marks


@pytest.fixture(scope="module")
def committing_clients(app_client: httpx.Client, api_keys: dict[str, str]) -> dict[str, Client]:
    """``/api/v1`` clients by role whose requests commit (the app's own connection pool).

    Only for tests of concurrent transactions; they must remove what they commit (see
    ``tests/server.py``: ``high_water_marks`` and ``purge_above``).
    """
    return {role: Client(app_client, api_keys.get(role)) for role in ROLES}


@dataclass
class Clock:
    """Sets the service's "today" and the database clock of the parcel history for a test."""

    conn: Connection

    def set_today(self, day: date) -> None:
        """What ``app.domain.clock.today()`` answers until the test ends."""
        service_clock.set_today(day)

    def set_db_now(self, moment: datetime) -> None:
        """The time the history trigger stamps on writes of ``conn``'s transaction from now
        on (``gefis_now()``, migration 0007), in place of the transaction's start."""
        self.conn.execute(text("SELECT set_config('gefis.now', :t, true)"),
                          {"t": moment.isoformat()})


@pytest.fixture
def clock(conn: Connection) -> Iterator[Clock]:
    """A :class:`Clock` for the test; the pinned day of the session is restored after it."""
    day = service_clock.today()
    yield Clock(conn)
    service_clock.set_today(day)
