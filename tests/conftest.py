"""Test fixtures: a throwaway PostGIS database per test session, built by the migrations.

The server comes from ``TEST_DATABASE_URL`` (preferred) or ``DATABASE_URL``; the test session
creates ``gefis_test_<random>`` on it, migrates it, loads the demo data once, and drops it at
the end. The development database named by ``DATABASE_URL`` is never written to.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url

from app.cli import alembic_config
from app.db.session import build_engine, set_actor
from app.services.demo_loader import load_demo
from app.settings import Settings

FIXTURES = Path(__file__).parent / "fixtures"


def _server_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL") or os.environ.get("DATABASE_URL")
    if not url:
        pytest.exit(
            "Set TEST_DATABASE_URL or DATABASE_URL to a PostGIS server (or run `make test`).",
            returncode=2,
        )
    return Settings(database_url=url).database_url


def create_scratch_database(prefix: str = "gefis_test") -> str:
    """Create an empty database with PostGIS on the test server; returns its URL."""
    server = make_url(_server_url())
    name = f"{prefix}_{secrets.token_hex(4)}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = server.set(database=name)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
    engine.dispose()
    return url.render_as_string(hide_password=False)


def drop_scratch_database(url: str) -> None:
    """Drop a database made by :func:`create_scratch_database` (closing its sessions)."""
    target = make_url(url)
    admin = create_engine(make_url(_server_url()), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """URL of the session's migrated throwaway database."""
    url = create_scratch_database()
    try:
        command.upgrade(alembic_config(url), "head")
        yield url
    finally:
        drop_scratch_database(url)


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
def demo_loaded(engine: Engine, settings: Settings) -> dict[str, int]:
    """Load the demo data once per session; returns the rows written per table."""
    with engine.begin() as conn:
        set_actor(conn, "test-demo-loader", "Demo-Daten für Tests")
        report = load_demo(conn, settings.geodata_dir, progress=lambda _: None)
    return report.written


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
    data: dict[str, Any] = json.loads((FIXTURES / "study_figures.json").read_text("utf-8"))
    return data


@pytest.fixture(scope="session")
def service_url(database_url: str, demo_loaded: dict[str, int]) -> Iterator[str]:
    """Base URL of the real service (uvicorn) running on the throwaway database."""
    from tests.server import running_service

    with running_service(database_url) as url:
        yield url


@pytest.fixture(scope="session")
def api_keys(engine: Engine, demo_loaded: dict[str, int]) -> dict[str, str]:
    """Bearer keys by role: analyst, editor (Leipzig city only), editor_halle, admin."""
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
def clients(service_url: str, api_keys: dict[str, str]) -> dict[str, Any]:
    """``/api/v1`` clients of the running service by role, plus ``public`` (no key)."""
    from tests.resource_client import Client

    return {"public": Client(service_url),
            **{role: Client(service_url, key) for role, key in api_keys.items()}}
