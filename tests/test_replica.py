"""Reads from a real streaming replica of the test cluster, and their fallback to the primary.

The module makes a hot standby of the cluster that holds the test database (``pg_basebackup
-R -X stream`` into a temporary directory, a replication slot of its own, started with
``pg_ctl`` on a free port of 127.0.0.1) and serves the app with uvicorn on both. The standby
logs every statement with its application and database (``log_statement = all``), so which
server ran a search is read from its log, not inferred. The copy is of the whole cluster:
about a minute for the 7.7 GB of a development cluster with benchmark databases, seconds on
a fresh one. Cleanup (also after a failure, and of what a killed run left behind): the
standby is stopped, its slot dropped, its directory removed; the rows the tests commit on
the primary are deleted again (``purge_above``).

Needs a superuser with replication rights on a cluster on this machine (the project's
local cluster: ``scripts/dev/pg_local.sh`` allows replication connections; an older
cluster's ``pg_hba.conf`` is extended here) and PostgreSQL's server binaries.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from app.db.replica import ReplicaRouter, read_connection
from app.main import create_app
from app.settings import Settings
from tests.server import free_port, serving
from tests.standby import (
    Standby,
    commit_on_primary,
    replayed,
    resume_replay,
    running_standby,
    until,
)

pytestmark = pytest.mark.slow

SQUARE = {"type": "Polygon", "coordinates": [[
    [12.320, 51.320], [12.324, 51.320], [12.324, 51.3225], [12.320, 51.3225], [12.320, 51.320]]]}



@pytest.fixture(scope="module")
def standby(database_url: str, demo_loaded: dict[str, int]) -> Iterator[Standby]:
    """A running hot standby of the test cluster, streaming from it."""
    with running_standby(database_url) as node:
        yield node


@pytest.fixture(scope="module")
def standby_engine(standby: Standby, database_url: str) -> Iterator[Engine]:
    """The test database on the standby (no pool: the standby is stopped at the end)."""
    engine = create_engine(standby.url(database_url), poolclass=NullPool,
                           isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
    yield engine
    engine.dispose()


def _settings(database_url: str, standby: Standby, **extra: Any) -> Settings:
    return Settings(database_url=database_url, database_read_url=standby.url(database_url),
                    **{"replica_check_interval_s": 0.2, **extra})


def _replica(base: str) -> dict[str, Any]:
    response = httpx.get(base + "/health", timeout=10)
    assert response.status_code == 200, response.text
    replica: dict[str, Any] = response.json()["replica"]
    return replica


def _reads_on(base: str, where: str) -> dict[str, Any]:
    return until(lambda: (r := _replica(base))["reads_on"] == where and r,
                  f"/health to report reads on the {where}")


def _search(base: str, marker: str, key: str | None = None) -> list[dict[str, Any]]:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    response = httpx.get(base + "/api/v1/parcels", params={"q": marker}, headers=headers,
                         timeout=30)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def test_health_without_a_replica_says_so(http: httpx.Client) -> None:
    replica = http.get("/health").json()["replica"]
    assert replica == {"configured": False, "reachable": None, "in_recovery": None,
                       "lag_s": None, "max_lag_s": None, "reads_on": "primary",
                       "last_checked": None, "last_error": None}


def test_read_connections_refuse_writes_and_leave_the_pool_writable(database_url: str) -> None:
    """Reads run in read-only transactions (opened as BEGIN READ ONLY); the pooled
    connection is writable again for the next user."""
    primary = create_engine(database_url, pool_size=1, max_overflow=0)
    try:
        with read_connection(primary, None) as conn:
            assert conn.exec_driver_sql("SHOW transaction_read_only").scalar_one() == "on"
        with primary.connect() as conn:
            assert conn.exec_driver_sql("SHOW transaction_read_only").scalar_one() == "off"
    finally:
        primary.dispose()


def test_a_server_that_is_not_a_standby_gets_no_reads(database_url: str, engine: Engine) -> None:
    """The read URL names a primary (a promoted replica, a mistake): reads stay on the
    configured primary."""
    router = ReplicaRouter.from_settings(Settings(database_url=database_url,
                                                  database_read_url=database_url))
    assert router is not None
    try:
        state = router.check()
        assert (state.reachable, state.in_recovery, router.reads_on_replica) == (
            True, False, False)
        assert state.error == "not a standby: pg_is_in_recovery() is false"
        assert router.connect() is None
    finally:
        router.close()


def test_an_unreachable_replica_leaves_reads_on_the_primary(database_url: str,
                                                           engine: Engine) -> None:
    nobody = make_url(database_url).set(port=free_port()).render_as_string(hide_password=False)
    router = ReplicaRouter.from_settings(Settings(database_url=database_url,
                                                  database_read_url=nobody))
    assert router is not None
    try:
        state = router.check()
        assert (state.reachable, router.reads_on_replica) == (False, False)
        assert "refused" in (state.error or "")
        with read_connection(engine, router) as conn:
            assert conn.execute(text("SELECT NOT pg_is_in_recovery()")).scalar_one()
    finally:
        router.close()


def test_searches_and_features_are_served_by_the_replica(
        database_url: str, standby: Standby, api_keys: dict[str, str]) -> None:
    marker, feature_marker = f"suche{secrets.token_hex(4)}", f"objekt{secrets.token_hex(4)}"
    with serving(create_app(_settings(database_url, standby))) as base:
        replica = _reads_on(base, "replica")
        assert _search(base, marker, api_keys["analyst"]) == []
        items = httpx.get(base + "/collections/parcels/items", params={"site_name": feature_marker})
        assert items.status_code == 200, items.text
    database = make_url(database_url).database
    for searched in (marker, feature_marker):
        ran = standby.statements(searched)
        assert ran and {(app, db) for app, db, _ in ran} == {("gefis-md-read", database)}
    # The API key was looked up on the primary: no key lookup reached the standby.
    assert not [s for s in standby.statements("api_keys") if s[0].startswith("gefis-md")]
    assert (replica["configured"], replica["reachable"], replica["in_recovery"]) == (
        True, True, True)
    assert 0 <= replica["lag_s"] <= replica["max_lag_s"] == 30
    assert replica["last_checked"] and replica["last_error"] is None


def test_a_write_goes_to_the_primary_and_is_soon_read_from_the_replica(
        database_url: str, standby: Standby, engine: Engine, api_keys: dict[str, str],
        committed_rows_removed: None) -> None:
    marker = f"Replikat {secrets.token_hex(4)}"
    admin = {"Authorization": f"Bearer {api_keys['admin']}"}
    with serving(create_app(_settings(database_url, standby))) as base:
        _reads_on(base, "replica")
        site = httpx.post(base + "/api/v1/sites", headers=admin,
                          json={"name": marker, "municipality_ags": "14713000"})
        assert site.status_code == 201, site.text
        parcel = httpx.post(base + "/api/v1/parcels", headers=admin, json={
            "site_id": site.json()["id"], "geometry": SQUARE, "category": "erweiterungsflaeche",
            "user_groups": ["logistik"], "servicing": "erschlossen"})
        assert parcel.status_code == 201, parcel.text
        written = time.monotonic()

        def found_on_the_replica() -> bool:
            # A search may go to the primary while the replica's lag is momentarily unknown
            # (the WAL of the first write since it started arrives before it is replayed):
            # the safe side. What counts is a search on the replica that finds the parcel.
            before = len(standby.statements(marker))
            hits = {p["id"] for p in _search(base, marker, api_keys["analyst"])}
            return parcel.json()["id"] in hits and len(standby.statements(marker)) == before + 1

        until(found_on_the_replica, "the new parcel in a search on the replica", timeout_s=10)
        visible_after_s = time.monotonic() - written
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM parcels p JOIN sites s ON s.id = p.site_id "
                                 "WHERE s.name = :m"), {"m": marker}).scalar_one() == 1
    ran = standby.statements(marker)
    assert ran
    assert not [s for s in ran if "INSERT" in s[2]]  # the writes ran on the primary only
    assert {s[0] for s in ran} == {"gefis-md-read"}
    assert visible_after_s < 5, f"visible through the API after {visible_after_s:.1f} s"
    print(f"write visible through a search on the replica after {visible_after_s:.2f} s")


def test_a_replica_behind_by_more_than_the_maximum_gets_no_reads(
        database_url: str, standby: Standby, engine: Engine, standby_engine: Engine) -> None:
    """A real lag: replay paused on the standby while the primary commits."""
    settings = _settings(database_url, standby, replica_max_lag_s=0.5)
    router = ReplicaRouter.from_settings(settings.model_copy(update={
        "replica_check_interval_s": 300}))
    assert router is not None
    marker = f"verzug{secrets.token_hex(4)}"

    def recovering() -> bool:
        with read_connection(engine, router) as conn:
            return bool(conn.execute(text("SELECT pg_is_in_recovery()")).scalar_one())

    with ExitStack() as stack:
        stack.callback(router.close)
        base = stack.enter_context(serving(create_app(settings)))
        replayed(engine, standby_engine)
        with standby_engine.connect() as conn:  # a replayed commit: the lag has a base
            assert conn.execute(text("SELECT pg_last_xact_replay_timestamp()")).scalar_one()
        until(lambda: router.check().fit_for_reads(0.5), "the replica to catch up")
        assert router.reads_on_replica and recovering()

        with standby_engine.connect() as conn:
            conn.execute(text("SELECT pg_wal_replay_pause()"))
        stack.callback(resume_replay, standby_engine)
        commit_on_primary(engine)
        state = until(lambda: (s := router.check()).lag_s is not None and s.lag_s > 0.5 and s,
                       "a lag above 0.5 s", timeout_s=30)
        assert not router.reads_on_replica and not recovering()
        assert "replay lag" in (state.error or "")
        replica = _reads_on(base, "primary")
        assert replica["reachable"] and replica["lag_s"] > replica["max_lag_s"] == 0.5
        assert _search(base, marker) == []
        assert not standby.statements(marker)  # served by the primary

        resume_replay(standby_engine)
        replayed(engine, standby_engine)
        until(lambda: router.check().fit_for_reads(0.5), "the replica to catch up again")
        assert recovering()
        _reads_on(base, "replica")


def test_a_stopped_replica_leaves_reads_working_on_the_primary(
        database_url: str, standby: Standby, standby_engine: Engine, engine: Engine) -> None:
    """Runs last: it stops the standby (and starts it again)."""
    before, after, again = (f"{w}{secrets.token_hex(4)}" for w in ("vorher", "nachher", "wieder"))
    # No check for five minutes: only the request itself can notice the replica is gone.
    with serving(create_app(_settings(database_url, standby,
                                      replica_check_interval_s=300))) as base:
        _reads_on(base, "replica")
        assert _search(base, before) == []
        standby.stop()
        assert _search(base, after) == []
        items = httpx.get(base + "/collections/parcels/items", params={"limit": 1})
        assert items.status_code == 200, items.text
        replica = _replica(base)
    assert standby.statements(before) and not standby.statements(after)
    assert (replica["reads_on"], replica["reachable"]) == ("primary", False)
    assert replica["last_error"] and replica["lag_s"] is None

    # Started again, the standby catches up and gets the reads back at the next check.
    with serving(create_app(_settings(database_url, standby))) as base:
        assert _replica(base)["reads_on"] == "primary"
        standby.start()
        replayed(engine, standby_engine, timeout_s=120)
        _reads_on(base, "replica")
        assert _search(base, again) == []
    assert [s[0] for s in standby.statements(again)] == ["gefis-md-read"]
