"""Cross-row rules hold when conflicting writes race (the real app, real PostGIS, commits).

Races are staged, not hoped for: the test locks the row both requests need on a connection
of its own, sends the first request and waits until PostgreSQL shows it waiting for that
lock (``pg_stat_activity``), sends the second and waits for it too, then releases the lock.
Both requests are in flight at once and PostgreSQL serves them in the order they queued, so
each test runs both orders and checks that each pair of answers is the one that serial
order gives, and the rule in the database. The database's own safety net (deferred
constraint triggers of migration 0005) is tested directly on two connections, without the
service's row locks.

These tests need transactions of their own that commit; what they commit is deleted after
the module (``committed_rows_removed``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from typing import Any

import httpx
import pytest
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from app.db.errors import translate_db_error
from app.db.session import set_actor
from app.domain.errors import InvalidInput
from tests.resource_client import HALLE_SQUARE, LEIPZIG_SQUARE, Client, problem_fields
from tests.server import high_water_marks, purge_above, wait_for_lock_waiters
from tests.shapes import LEIPZIG_X, LEIPZIG_Y, insert_parcel, insert_site, square

#: Parcels of the given sites that are on offer although their site is withdrawn.
_MARKETED_ON_WITHDRAWN = text(
    "SELECT p.id FROM parcels p JOIN sites s ON s.id = p.site_id "
    "WHERE s.withdrawn_at IS NOT NULL AND p.marketing_status IN ('verfuegbar', 'reserviert') "
    "AND s.id = ANY(:sites)")
_LOCK_SITE = text("SELECT 1 FROM sites WHERE id = :id FOR UPDATE")
_LOCK_PARCEL = text("SELECT 1 FROM parcels WHERE id = :id FOR UPDATE")

Call = Callable[[], httpx.Response]


@pytest.fixture(scope="module", autouse=True)
def committed_rows_removed(engine: Engine, demo_loaded: dict[str, int]) -> Iterator[None]:
    """Delete what the module committed; check that the tables are as they were."""
    marks = high_water_marks(engine)
    yield
    purge_above(engine, marks)
    assert high_water_marks(engine) == marks


@pytest.fixture(scope="module")
def admin(committing_clients: dict[str, Client]) -> Client:
    return committing_clients["admin"]


@pytest.fixture(scope="module")
def pool() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(max_workers=2) as executor:
        yield executor


def _queued(engine: Engine, future: Future[httpx.Response], waiters: int) -> None:
    """Wait until ``waiters`` sessions wait for a lock; fail at once if ``future`` answered
    instead (a request that never waited for the held lock)."""
    wait_for_lock_waiters(engine, waiters, unless=future.done)
    if future.done():
        raise AssertionError(f"answered without waiting for the lock: {future.result().text}")


def _in_order(engine: Engine, pool: ThreadPoolExecutor, lock: tuple[Any, int],
              first: Call, second: Call) -> tuple[httpx.Response, httpx.Response]:
    """Both requests in flight at once, queued in this order behind ``lock`` (a statement
    and a row id) held by the test; their answers in the same order."""
    statement, row_id = lock
    with engine.connect() as holder:
        holder.execute(statement, {"id": row_id})
        one = pool.submit(first)
        _queued(engine, one, 1)
        two = pool.submit(second)
        _queued(engine, two, 2)
        holder.rollback()
    return one.result(timeout=60), two.result(timeout=60)


def _site(admin: Client, municipality_ags: str = "14713000", **extra: Any) -> dict[str, Any]:
    return admin.created("/sites", {"name": "Wettlauf", "municipality_ags": municipality_ags,
                                    **extra})


def _parcel_body(site_id: int, geometry: dict[str, Any] = LEIPZIG_SQUARE) -> dict[str, Any]:
    return {"site_id": site_id, "geometry": geometry, "category": "erweiterungsflaeche",
            "user_groups": ["handwerk_gewerbe"], "servicing": "erschlossen"}


def _parcel(admin: Client, site_id: int, geometry: dict[str, Any] = LEIPZIG_SQUARE
            ) -> dict[str, Any]:
    return admin.created("/parcels", _parcel_body(site_id, geometry))


def _withdraw(admin: Client, site_id: int) -> Call:
    return partial(admin.post, f"/sites/{site_id}/withdraw")


def _assert_no_marketed_parcel_on_a_withdrawn_site(engine: Engine, *site_ids: int) -> None:
    with engine.connect() as conn:
        assert conn.execute(_MARKETED_ON_WITHDRAWN, {"sites": list(site_ids)}
                            ).scalars().all() == []


def _site_withdrawn(engine: Engine, site_id: int) -> bool:
    with engine.connect() as conn:
        withdrawn: bool = conn.execute(text(
            "SELECT withdrawn_at IS NOT NULL FROM sites WHERE id = :id"), {"id": site_id}
        ).scalar_one()
    return withdrawn


def _codes(response: httpx.Response) -> list[str]:
    return [e["code"] for e in response.json().get("errors", [])]


@pytest.mark.parametrize("move_first", [True, False])
def test_moving_a_parcel_onto_a_site_being_withdrawn(admin: Client, engine: Engine,
                                                     pool: ThreadPoolExecutor,
                                                     move_first: bool) -> None:
    home, target = _site(admin), _site(admin)
    parcel = _parcel(admin, home["id"])
    move = partial(admin.patch, f"/parcels/{parcel['id']}", {"site_id": target["id"]},
                   parcel["_etag"])
    withdraw = _withdraw(admin, target["id"])
    lock = (_LOCK_SITE, target["id"])
    if move_first:
        moved, withdrawn = _in_order(engine, pool, lock, move, withdraw)
        assert (moved.status_code, withdrawn.status_code) == (200, 409), (moved.text,
                                                                          withdrawn.text)
    else:
        withdrawn, moved = _in_order(engine, pool, lock, withdraw, move)
        assert (moved.status_code, withdrawn.status_code) == (422, 200), (moved.text,
                                                                          withdrawn.text)
        assert problem_fields(moved, 422) == ["site_id"]
        assert _codes(moved) == ["withdrawn_site"]
    _assert_no_marketed_parcel_on_a_withdrawn_site(engine, home["id"], target["id"])
    assert _site_withdrawn(engine, target["id"]) is not move_first


@pytest.mark.parametrize("create_first", [True, False])
def test_creating_a_parcel_on_a_site_being_withdrawn(admin: Client, engine: Engine,
                                                     pool: ThreadPoolExecutor,
                                                     create_first: bool) -> None:
    site = _site(admin)
    create = partial(admin.post, "/parcels", _parcel_body(site["id"]))
    withdraw = _withdraw(admin, site["id"])
    lock = (_LOCK_SITE, site["id"])
    if create_first:
        created, withdrawn = _in_order(engine, pool, lock, create, withdraw)
        assert (created.status_code, withdrawn.status_code) == (201, 409), (created.text,
                                                                            withdrawn.text)
    else:
        withdrawn, created = _in_order(engine, pool, lock, withdraw, create)
        assert (created.status_code, withdrawn.status_code) == (422, 200), (created.text,
                                                                            withdrawn.text)
        assert problem_fields(created, 422) == ["site_id"]
    _assert_no_marketed_parcel_on_a_withdrawn_site(engine, site["id"])
    assert _site_withdrawn(engine, site["id"]) is not create_first


@pytest.mark.parametrize("market_first", [True, False])
def test_marketing_a_parcel_again_while_its_site_is_withdrawn(admin: Client, engine: Engine,
                                                              pool: ThreadPoolExecutor,
                                                              market_first: bool) -> None:
    site = _site(admin)
    parcel = _parcel(admin, site["id"])
    off = admin.post(f"/parcels/{parcel['id']}/withdraw")
    assert off.status_code == 200, off.text
    market = partial(admin.patch, f"/parcels/{parcel['id']}",
                     {"marketing_status": "verfuegbar"}, off.headers["ETag"])
    withdraw = _withdraw(admin, site["id"])
    lock = (_LOCK_SITE, site["id"])
    if market_first:
        marketed, withdrawn = _in_order(engine, pool, lock, market, withdraw)
        expected = (200, 409)
    else:
        withdrawn, marketed = _in_order(engine, pool, lock, withdraw, market)
        expected = (409, 200)
    assert (marketed.status_code, withdrawn.status_code) == expected, (marketed.text,
                                                                       withdrawn.text)
    _assert_no_marketed_parcel_on_a_withdrawn_site(engine, site["id"])
    assert _site_withdrawn(engine, site["id"]) is not market_first


@pytest.mark.parametrize("order", [(0, 1), (1, 0)])
def test_partner_lists_replaced_at_once_stay_whole(admin: Client, engine: Engine,
                                                   pool: ThreadPoolExecutor,
                                                   order: tuple[int, int]) -> None:
    """Two partner lists sent at once: both apply, in the order they queued, and the list
    that stays is the second one, whole (its shares sum to 100)."""
    lists = ([{"municipality_ags": "14713000", "share_pct": 60},
              {"municipality_ags": "14729010", "share_pct": 40}],
             [{"municipality_ags": "14729010", "share_pct": 25},
              {"municipality_ags": "14729020", "share_pct": 75}])
    site = _site(admin)
    path = f"/sites/{site['id']}"
    first, second = (partial(admin.patch, path, {"partners": lists[i]}, "*") for i in order)
    answers = _in_order(engine, pool, (_LOCK_SITE, site["id"]), first, second)
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    with engine.connect() as conn:
        rows = sorted((r.municipality_ags, float(r.share_pct)) for r in conn.execute(text(
            "SELECT municipality_ags, share_pct FROM site_partners WHERE site_id = :id"),
            {"id": site["id"]}))
    last = lists[order[1]]
    assert rows == sorted((p["municipality_ags"], float(p["share_pct"])) for p in last)


@pytest.mark.parametrize("sale_first", [True, False])
def test_sale_recorded_while_its_parcel_moves(admin: Client, engine: Engine,
                                              pool: ThreadPoolExecutor, sale_first: bool) -> None:
    """A sale taking its site and place from a parcel sees the parcel before or after a
    concurrent move (site and district of the same state), never a mix of both."""
    leipzig, halle = _site(admin), _site(admin, "15002000")
    parcel = _parcel(admin, leipzig["id"])
    sale = partial(admin.post, "/land-sales", {
        "parcel_id": parcel["id"], "sale_date": "2024-05-02", "area_ha": 1.0})
    move = partial(admin.patch, f"/parcels/{parcel['id']}",
                   {"site_id": halle["id"], "geometry": HALLE_SQUARE}, parcel["_etag"])
    lock = (_LOCK_PARCEL, parcel["id"])
    if sale_first:
        sold, moved = _in_order(engine, pool, lock, sale, move)
    else:
        moved, sold = _in_order(engine, pool, lock, move, sale)
    assert (sold.status_code, moved.status_code) == (201, 200), (sold.text, moved.text)
    place = (sold.json()["site_id"], sold.json()["district_ags"])
    assert place == ((leipzig["id"], "14713") if sale_first else (halle["id"], "15002"))


# --- the database's safety net, without the service's locks --------------------------------


@pytest.fixture
def two_connections(engine: Engine) -> Iterator[tuple[Connection, Connection]]:
    with engine.connect() as one, engine.connect() as two:
        for conn in (one, two):
            conn.begin()
            set_actor(conn, "pytest-races")
        yield one, two
        for conn in (one, two):
            conn.rollback()


def _committed_site(engine: Engine, withdrawn: bool = False) -> int:
    with engine.begin() as conn:
        site_id = insert_site(conn)
        if withdrawn:
            conn.execute(text("UPDATE sites SET withdrawn_at = now() WHERE id = :id"),
                         {"id": site_id})
        return site_id


def _refused_commit(conn: Connection) -> InvalidInput:
    with pytest.raises(DBAPIError) as info:
        conn.commit()
    translated = translate_db_error(info.value)
    assert isinstance(translated, InvalidInput), info.value
    return translated


def test_database_refuses_a_marketed_parcel_on_a_withdrawn_site(engine: Engine) -> None:
    site_id = _committed_site(engine, withdrawn=True)
    with engine.connect() as conn:
        conn.begin()
        insert_parcel(conn, site_id, square(LEIPZIG_X, LEIPZIG_Y, 50))
        problem = _refused_commit(conn)
    assert [(p.field, p.code) for p in problem.problems] == [
        ("site_id", "ck_parcels__site_id__site_active")]
    assert f"site {site_id}" in problem.detail
    with engine.begin() as conn:  # a withdrawn parcel may stay on a withdrawn site
        insert_parcel(conn, site_id, square(LEIPZIG_X, LEIPZIG_Y, 50),
                      marketing_status="zurueckgezogen")


def test_database_refuses_withdrawing_a_site_with_marketed_parcels(engine: Engine) -> None:
    site_id = _committed_site(engine)
    with engine.begin() as conn:
        insert_parcel(conn, site_id, square(LEIPZIG_X, LEIPZIG_Y, 50))
    with engine.connect() as conn:
        conn.begin()
        conn.execute(text("UPDATE sites SET withdrawn_at = now() WHERE id = :id"),
                     {"id": site_id})
        problem = _refused_commit(conn)
    assert [(p.field, p.code) for p in problem.problems] == [
        ("withdrawn_at", "ck_sites__withdrawn_at__no_marketed_parcels")]


@pytest.mark.parametrize("site_commits_first", [True, False])
def test_database_catches_the_unlocked_race(engine: Engine,
                                            two_connections: tuple[Connection, Connection],
                                            site_commits_first: bool) -> None:
    """Plain SQL writers that take no locks: one inserts a marketed parcel, the other
    withdraws its site, both before either commits. Whichever commits first, one fails."""
    site_id = _committed_site(engine)
    parcel_tx, site_tx = two_connections
    insert_parcel(parcel_tx, site_id, square(LEIPZIG_X, LEIPZIG_Y, 50))
    site_tx.execute(text("UPDATE sites SET withdrawn_at = now() WHERE id = :id"),
                    {"id": site_id})
    if site_commits_first:
        site_tx.commit()
        _refused_commit(parcel_tx)
    else:
        # The parcel's commit-time check waits for the site's row lock: commit it once the
        # check is seen waiting.
        with ThreadPoolExecutor(max_workers=1) as executor:
            waiting = executor.submit(_refused_commit, parcel_tx)
            wait_for_lock_waiters(engine, 1, unless=waiting.done)
            site_tx.commit()
            assert waiting.result(timeout=30).problems[0].field == "site_id"
    _assert_no_marketed_parcel_on_a_withdrawn_site(engine, site_id)


def test_a_deadlock_is_answered_as_a_problem(admin: Client, engine: Engine,
                                             pool: ThreadPoolExecutor) -> None:
    """Force a lock cycle with an outside transaction that locks parcel, then site (the
    wrong order): the move, which holds the target site and waits for the parcel, is the
    victim and is answered with a problem (409 or 503), never a 500."""
    home, target = _site(admin), _site(admin)
    parcel = _parcel(admin, home["id"])
    with engine.connect() as outside:
        outside.begin()
        outside.execute(text("SET LOCAL lock_timeout = '20s'"))
        outside.execute(_LOCK_PARCEL, {"id": parcel["id"]})
        move = pool.submit(admin.patch, f"/parcels/{parcel['id']}", {"site_id": target["id"]},
                           parcel["_etag"])
        # the move holds the target site and waits for the parcel
        wait_for_lock_waiters(engine, 1, unless=move.done)
        outside_victim = False
        try:
            outside.execute(text("SELECT 1 FROM sites WHERE id = :id FOR UPDATE"),
                            {"id": target["id"]})
        except DBAPIError as exc:  # only if this side's deadlock check ran first
            outside_victim = getattr(exc.orig, "pgcode", None) == "40P01"
        outside.rollback()
        answer = move.result(timeout=60)
    if outside_victim:
        assert answer.status_code == 200, answer.text
        return
    assert answer.status_code == 503, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.headers["retry-after"] == "1"
    assert "collided with a concurrent" in answer.json()["detail"]
    assert admin.get(f"/parcels/{parcel['id']}").json()["site_id"] == home["id"]
