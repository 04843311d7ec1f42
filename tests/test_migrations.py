"""Migrations run down to base and up to head again on a fresh database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic import command
from sqlalchemy import create_engine, text

from app.cli import alembic_config
from app.db.status import migration_head
from tests.session_database import create_scratch_database, drop_scratch_database


@pytest.fixture
def scratch_url() -> Iterator[str]:
    url = create_scratch_database("gefis_migr")
    yield url
    drop_scratch_database(url)


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    with engine.connect() as conn:
        names = set(conn.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars())
    engine.dispose()
    return names - {"spatial_ref_sys"}


def _revision(url: str) -> str | None:
    engine = create_engine(url)
    with engine.connect() as conn:
        rev = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one_or_none()
    engine.dispose()
    return rev


def test_downgrade_to_base_and_upgrade_again(scratch_url: str) -> None:
    config = alembic_config(scratch_url)
    command.upgrade(config, "head")
    full = _tables(scratch_url)
    assert {"parcels", "parcel_history", "districts", "monitoring_snapshots"} <= full
    assert _revision(scratch_url) == migration_head()

    command.downgrade(config, "base")
    assert _tables(scratch_url) == {"alembic_version"}
    assert _revision(scratch_url) is None

    command.upgrade(config, "head")
    assert _tables(scratch_url) == full
    assert _revision(scratch_url) == migration_head()


def test_each_step_downgrades_cleanly(scratch_url: str) -> None:
    config = alembic_config(scratch_url)
    command.upgrade(config, "head")
    command.downgrade(config, "0001")
    engine = create_engine(scratch_url)
    with engine.connect() as conn:
        triggers = conn.execute(text(
            "SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal")).scalar()
        functions = conn.execute(text(
            "SELECT count(*) FROM pg_proc WHERE proname LIKE 'gefis\\_%'")).scalar()
    engine.dispose()
    assert (triggers, functions) == (0, 0)
    command.upgrade(config, "head")
    assert _revision(scratch_url) == migration_head()
