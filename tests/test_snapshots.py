"""Quarterly snapshots (migration 0015): stored once, immutable, and read like the history.

The demo's history runs from 2020-12-31 to 2026-09-30, so its quarters have real states.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from app.db.queries.parcels import ParcelSource, parcel_sums
from app.db.queries.parcels.source import (
    PARCEL_COLUMNS,
    SNAPSHOT_TYPED_COLUMNS,
    end_of_day,
)
from app.db.queries.snapshots import (
    source_for_day,
    stored_quarter,
    stored_quarter_ends,
    take_snapshot,
)
from app.domain.clock import LOCAL_ZONE
from app.domain.filters import MARKETED_STATUS, BBox, ParcelFilter
from app.domain.roles import PUBLIC_VIEWER, STAFF
from tests.conftest import Clock

Q2 = date(2024, 6, 30)
TODAY = date(2026, 11, 30)


def _both(conn: Connection, f: ParcelFilter, by: tuple[str, ...], viewer=STAFF):
    kwargs = {"viewer": viewer, "reference": Q2}
    return (parcel_sums(conn, f, by, source=ParcelSource.as_of(end_of_day(Q2)), **kwargs),
            parcel_sums(conn, f, by, source=ParcelSource.snapshot(Q2), **kwargs))


def test_a_snapshot_sums_like_the_history_it_was_taken_from(conn: Connection) -> None:
    stored, created = take_snapshot(conn, Q2, actor="test")
    assert created and stored.parcels > 500
    assert stored.state_at == datetime(2024, 6, 30, 23, 59, 59, 999999, tzinfo=LOCAL_ZONE)
    cases = [
        (ParcelFilter(), ("district_ags", "availability", "restriction_level")),
        (ParcelFilter(marketing_status=MARKETED_STATUS, active_sites_only=True),
         ("category", "user_groups")),
        (ParcelFilter(text="Leipzig"), ("marketing_status",)),  # text search: name, site
        (ParcelFilter(bbox=BBox(minx=12.2, miny=51.2, maxx=12.6, maxy=51.5)), ()),  # geometry
        (ParcelFilter(rail_siding=True, net_area_min_ha=5.0), ("size_class",)),  # from state
    ]
    for f, by in cases:
        history, snapshot = _both(conn, f, by)
        assert history, f
        assert [{**r, "net_ha": pytest.approx(r["net_ha"]),
                 "gross_ha": pytest.approx(r["gross_ha"])} for r in history] == snapshot, f
    history, snapshot = _both(conn, ParcelFilter(), ("district_ags",), viewer=PUBLIC_VIEWER)
    assert [r["parcels"] for r in history] == [r["parcels"] for r in snapshot]


def test_every_column_of_a_snapshot_row_is_its_history_row(conn: Connection) -> None:
    take_snapshot(conn, Q2)
    columns = ", ".join(f"p.{n}" for n, _ in PARCEL_COLUMNS)
    rows = {}
    for name, source in (("history", ParcelSource.as_of(end_of_day(Q2))),
                         ("snapshot", ParcelSource.snapshot(Q2))):
        sql = f"SELECT {columns} FROM {source.from_sql} ORDER BY p.id"
        rows[name] = conn.execute(text(sql), dict(source.params)).all()
    assert len(rows["history"]) == len(rows["snapshot"]) > 500
    assert rows["history"] == rows["snapshot"]
    assert {"net_area_ha", "availability", "created_at"} <= SNAPSHOT_TYPED_COLUMNS


def test_a_second_run_neither_changes_nor_duplicates(conn: Connection) -> None:
    first, created = take_snapshot(conn, Q2)
    count = conn.execute(text("SELECT count(*) FROM monitoring_snapshots")).scalar_one()
    again, created_again = take_snapshot(conn, Q2)
    assert created and not created_again and again == first
    assert conn.execute(text("SELECT count(*) FROM monitoring_snapshots")).scalar_one() == count
    assert stored_quarter_ends(conn)[-1] == Q2 and count == first.parcels


@pytest.mark.parametrize("statement", [
    "UPDATE monitoring_snapshots SET net_area_ha = 0",
    "DELETE FROM monitoring_snapshots",
    "UPDATE monitoring_quarters SET parcels = 0",
    "DELETE FROM monitoring_quarters",
    "TRUNCATE monitoring_quarters CASCADE",
])
def test_snapshots_are_immutable(conn: Connection, statement: str) -> None:
    take_snapshot(conn, Q2)
    with pytest.raises(DBAPIError, match="immutable"), conn.begin_nested():
        conn.execute(text(statement))


def test_later_changes_leave_the_snapshot_alone(conn: Connection, clock: Clock) -> None:
    take_snapshot(conn, Q2)
    site = conn.execute(text(
        "SELECT site_id FROM monitoring_snapshots WHERE quarter_end = :q AND site_active "
        "AND marketing_status = 'verfuegbar' ORDER BY parcel_id LIMIT 1"), {"q": Q2}
    ).scalar_one()
    marketed = ParcelFilter(marketing_status=MARKETED_STATUS, active_sites_only=True,
                            site_id=(site,))
    before = parcel_sums(conn, marketed, (), viewer=STAFF, reference=Q2,
                         source=ParcelSource.snapshot(Q2))
    clock.set_db_now(datetime(2024, 6, 30, 12, tzinfo=LOCAL_ZONE))  # a late entry for Q2
    conn.execute(text("UPDATE parcels SET marketing_status = 'zurueckgezogen' WHERE site_id = :s"),
                 {"s": site})
    conn.execute(text("UPDATE sites SET withdrawn_at = '2025-01-01' WHERE id = :s"), {"s": site})
    after = parcel_sums(conn, marketed, (), viewer=STAFF, reference=Q2,
                        source=ParcelSource.snapshot(Q2))
    assert before == after and before[0]["parcels"] > 0
    # the history now tells a different story for that day; the snapshot keeps the reported one
    rebuilt = parcel_sums(conn, marketed, (), viewer=STAFF, reference=Q2,
                          source=ParcelSource.as_of(end_of_day(Q2)))
    assert rebuilt[0]["parcels"] == 0


def test_a_withdrawn_site_is_inactive_in_later_quarters_only(conn: Connection) -> None:
    site = conn.execute(text("SELECT min(site_id) FROM parcels")).scalar_one()
    conn.execute(text("UPDATE sites SET withdrawn_at = '2024-08-15 10:00+02' WHERE id = :s"),
                 {"s": site})
    take_snapshot(conn, Q2)
    take_snapshot(conn, date(2024, 9, 30))
    active = dict(conn.execute(text(
        "SELECT quarter_end, bool_and(site_active) FROM monitoring_snapshots "
        "WHERE site_id = :s GROUP BY quarter_end"), {"s": site}).all())
    assert active == {Q2: True, date(2024, 9, 30): False}


def test_the_day_chooses_the_source(conn: Connection) -> None:
    assert source_for_day(conn, Q2, TODAY).kind == "as_of"
    take_snapshot(conn, Q2)
    assert source_for_day(conn, Q2, TODAY).kind == "snapshot"
    assert source_for_day(conn, date(2024, 7, 1), TODAY).kind == "as_of"
    assert source_for_day(conn, TODAY, TODAY).kind == "live"
    assert stored_quarter(conn, date(2024, 9, 30)) is None


def test_a_snapshot_needs_the_end_of_a_quarter(conn: Connection) -> None:
    with pytest.raises(DBAPIError, match="quarter_end__quarter"), conn.begin_nested():
        take_snapshot(conn, date(2024, 6, 29))
