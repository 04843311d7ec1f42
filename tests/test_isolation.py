"""The test harness itself: in-process requests on the test's transaction (tests/server.py).

A write through :class:`SavepointEngine` behaves as a transaction of its own would: a check
deferred to ``COMMIT`` fails it at its end, and then only it is undone; a read is read-only;
and nothing a test writes over HTTP is seen by the next test or committed.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from tests.resource_client import Client
from tests.server import SavepointEngine
from tests.shapes import LEIPZIG_X, LEIPZIG_Y, insert_parcel, insert_site, square

#: Name of the site the first test writes and the second must not see.
MARKER = "Isolationsprobe"


def _sites_named(conn: Connection, name: str) -> int:
    return int(conn.execute(text("SELECT count(*) FROM sites WHERE name = :n"),
                            {"n": name}).scalar_one())


def test_a_write_that_fails_at_commit_fails_at_its_end_and_undoes_only_itself(
        conn: Connection) -> None:
    engine = SavepointEngine(conn)
    site_id = insert_site(conn, name="Vorher")
    conn.execute(text("UPDATE sites SET withdrawn_at = now() WHERE id = :id"), {"id": site_id})
    with pytest.raises(DBAPIError, match="withdrawn"), engine.begin() as tx:
        # A marketed parcel on a withdrawn site: refused by a trigger deferred to COMMIT.
        insert_parcel(tx, site_id, square(LEIPZIG_X, LEIPZIG_Y, 50))
        assert tx.execute(text("SELECT count(*) FROM parcels WHERE site_id = :id"),
                          {"id": site_id}).scalar_one() == 1  # not refused before the end
    assert conn.execute(text("SELECT count(*) FROM parcels WHERE site_id = :id"),
                        {"id": site_id}).scalar_one() == 0
    assert _sites_named(conn, "Vorher") == 1  # what came before the write is kept
    with engine.begin() as tx:  # and the next write goes through
        insert_parcel(tx, site_id, square(LEIPZIG_X, LEIPZIG_Y, 50),
                      marketing_status="zurueckgezogen")


def test_a_write_leaves_the_constraint_modes_as_a_new_transaction_finds_them(
        conn: Connection) -> None:
    engine = SavepointEngine(conn)
    with engine.begin() as tx:
        tx.execute(text("SET CONSTRAINTS site_partners_sum_100 IMMEDIATE"))
    site_id = insert_site(conn)
    with engine.begin() as tx:  # 60 + 40 in two statements: fine if still deferred
        for ags, share in (("14713000", 60), ("14729010", 40)):
            tx.execute(text("INSERT INTO site_partners (site_id, municipality_ags, share_pct) "
                            "VALUES (:s, :m, :p)"), {"s": site_id, "m": ags, "p": share})


def test_a_read_is_read_only_and_keeps_nothing(conn: Connection) -> None:
    engine = SavepointEngine(conn)
    with pytest.raises(DBAPIError, match="read-only"), engine.connect() as tx:
        tx.exec_driver_sql("SET TRANSACTION READ ONLY")
        insert_site(tx, name="Lesend")
    with engine.connect() as tx:
        tx.execute(text("SELECT set_config('gefis.reason', 'nur gelesen', true)"))
    assert conn.execute(text("SELECT current_setting('gefis.reason', true)")).scalar() == ""
    insert_site(conn, name="Danach")  # the test's transaction is writable again


def test_a_tests_writes_are_its_own(clients: dict[str, Client], conn: Connection) -> None:
    created = clients["admin"].created("/sites", {"name": MARKER, "municipality_ags": "14713000"})
    assert clients["public"].get(f"/sites/{created['id']}").status_code == 200
    assert _sites_named(conn, MARKER) == 1


def test_the_next_test_does_not_see_them(clients: dict[str, Client], conn: Connection,
                                         engine: Engine) -> None:
    assert _sites_named(conn, MARKER) == 0
    with engine.connect() as committed:
        assert _sites_named(committed, MARKER) == 0
    found = clients["public"].get("/sites", q=MARKER).json()["items"]
    assert found == []
