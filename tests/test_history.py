"""Versioning and the append-only parcel history, maintained by triggers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from app.db.session import set_actor
from tests.conftest import Clock
from tests.shapes import LEIPZIG_X, LEIPZIG_Y, insert_parcel, insert_site, square


def _history(conn: Connection, pid: int) -> list:  # type: ignore[type-arg]
    return conn.execute(text(
        "SELECT operation, actor, reason, changes, row_after FROM parcel_history "
        "WHERE parcel_id = :id ORDER BY id"), {"id": pid}).all()


@pytest.fixture
def parcel(conn: Connection) -> int:
    set_actor(conn, "editor:alice", "Ersterfassung")
    return insert_parcel(conn, insert_site(conn), square(LEIPZIG_X, LEIPZIG_Y, 100.0))


def test_insert_is_recorded_with_actor_and_reason(conn: Connection, parcel: int) -> None:
    [entry] = _history(conn, parcel)
    assert entry.operation == "insert"
    assert entry.actor == "editor:alice"
    assert entry.reason == "Ersterfassung"
    assert entry.row_after["availability"] == "sofort"
    assert entry.row_after["gross_area_ha"] == pytest.approx(1.0)


def test_real_change_bumps_version_and_records_old_and_new(conn: Connection, parcel: int) -> None:
    set_actor(conn, "editor:bob", "Verfügbarkeit korrigiert")
    conn.execute(text("UPDATE parcels SET availability = 'kurzfristig' WHERE id = :id"), {"id": parcel})
    version = conn.execute(text("SELECT version FROM parcels WHERE id = :id"), {"id": parcel}).scalar()
    assert version == 2
    entries = _history(conn, parcel)
    assert [e.operation for e in entries] == ["insert", "update"]
    update = entries[1]
    assert update.actor == "editor:bob"
    assert update.changes == {"availability": {"old": "sofort", "new": "kurzfristig"}}
    current = conn.execute(text("SELECT to_jsonb(p) FROM parcels p WHERE id = :id"), {"id": parcel}).scalar()
    assert update.row_after == current


def test_update_without_change_records_nothing(conn: Connection, parcel: int) -> None:
    conn.execute(text("UPDATE parcels SET availability = availability WHERE id = :id"), {"id": parcel})
    version = conn.execute(text("SELECT version FROM parcels WHERE id = :id"), {"id": parcel}).scalar()
    assert version == 1
    assert len(_history(conn, parcel)) == 1


def test_geometry_change_rederives_areas_and_location(conn: Connection, parcel: int) -> None:
    conn.execute(text("UPDATE parcels SET geom_25832 = ST_GeomFromEWKT(:g) WHERE id = :id"),
                 {"g": square(LEIPZIG_X, LEIPZIG_Y, 200.0), "id": parcel})
    entries = _history(conn, parcel)
    row = conn.execute(text("SELECT gross_area_ha, version FROM parcels WHERE id = :id"),
                       {"id": parcel}).one()
    assert row.gross_area_ha == pytest.approx(4.0)
    assert row.version == 2
    assert "geom_25832" in entries[-1].changes


@pytest.mark.parametrize("statement", [
    "UPDATE parcel_history SET actor = 'mallory' WHERE parcel_id = :id",
    "DELETE FROM parcel_history WHERE parcel_id = :id",
    "TRUNCATE parcel_history",
])
def test_history_is_append_only(conn: Connection, parcel: int, statement: str) -> None:
    savepoint = conn.begin_nested()
    with pytest.raises(DBAPIError, match="append-only"):
        conn.execute(text(statement), {"id": parcel})
    savepoint.rollback()
    assert len(_history(conn, parcel)) == 1


def test_distances_follow_the_infrastructure(conn: Connection, parcel: int) -> None:
    before = conn.execute(text("SELECT distance_junction_km FROM parcels WHERE id = :id"),
                          {"id": parcel}).scalar()
    assert before is not None and before > 0
    # A new junction 1 km east of the parcel's corner: the parcel is then ~0.9 km away.
    conn.execute(text(
        "INSERT INTO infrastructure (kind, name, ref, geom_25832) VALUES "
        "('anschlussstelle', 'AS Test', 'A 0', ST_SetSRID(ST_MakePoint(:x, :y), 25832))"),
        {"x": LEIPZIG_X + 1000.0, "y": LEIPZIG_Y})
    after = conn.execute(text("SELECT distance_junction_km FROM parcels WHERE id = :id"),
                         {"id": parcel}).scalar()
    assert after == pytest.approx(0.9, abs=1e-6)
    last = _history(conn, parcel)[-1]
    assert last.reason == "Infrastruktur geändert: Entfernungen neu berechnet"
    assert set(last.changes) == {"distance_junction_km"}


def test_history_is_stamped_with_the_transactions_clock_unless_the_test_sets_it(
        conn: Connection, parcel: int, clock: Clock) -> None:
    """``changed_at`` is ``now()`` (the transaction's start) unless ``gefis.now`` is set
    (migration 0007; only tests set it, to tell several writes of one transaction apart)."""
    start = conn.execute(text("SELECT now()")).scalar_one()
    assert [row.changed_at for row in conn.execute(text(
        "SELECT changed_at FROM parcel_history WHERE parcel_id = :id"), {"id": parcel})] == [start]
    later = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    clock.set_db_now(later)
    conn.execute(text("UPDATE parcels SET availability = 'kurzfristig' WHERE id = :id"), {"id": parcel})
    stamped = conn.execute(text(
        "SELECT changed_at FROM parcel_history WHERE parcel_id = :id ORDER BY id"), {"id": parcel}
    ).scalars().all()
    assert stamped == [start, later]
    assert conn.execute(text("SELECT now()")).scalar_one() == start  # only the history's clock
