"""Changes between two states (``app.db.queries.changes``), pinned on five parcels.

On 2024-01-10 one site gets a (4 ha, sofort), b (9 ha, kurzfristig, cause altlasten),
c (1 ha), e (16 ha, reserviert later sold). On 2025-01-10: a is sold, b becomes sofort and
loses its cause, c is withdrawn, e gains the cause kampfmittel, and d (25 ha) is added.
Net = gross: serviced squares in EPSG:25832.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import Connection, text

from app.db.queries.changes import parcel_changes
from app.db.queries.parcels import LIVE, ParcelSource, parcel_sums
from app.db.queries.parcels.source import end_of_day
from app.domain.clock import LOCAL_ZONE
from app.domain.filters import MARKETED_STATUS, ParcelFilter
from app.domain.roles import PUBLIC_VIEWER, STAFF
from tests.conftest import Clock
from tests.shapes import insert_parcel, insert_site, square

X, Y = 731_000.0, 5_690_000.0
DISTRICT = "14713"
BEFORE, AFTER = date(2024, 6, 30), date(2025, 6, 30)


@pytest.fixture
def ids(conn: Connection, clock: Clock) -> dict[str, int]:
    clock.set_db_now(datetime(2024, 1, 10, 12, tzinfo=LOCAL_ZONE))
    site = insert_site(conn, "14713000", name="Wandel")
    out = {
        "site": site,
        "a": insert_parcel(conn, site, square(X, Y, 200)),
        "b": insert_parcel(conn, site, square(X + 400, Y, 300), availability="kurzfristig",
                           restriction_level="gering", restriction_causes=["altlasten"]),
        "c": insert_parcel(conn, site, square(X + 800, Y, 100)),
        "e": insert_parcel(conn, site, square(X + 1200, Y, 400)),
    }
    clock.set_db_now(datetime(2025, 1, 10, 12, tzinfo=LOCAL_ZONE))
    for sql, key in (
        ("marketing_status = 'verkauft'", "a"),
        ("availability = 'sofort', restriction_level = 'keine', restriction_causes = '{}'", "b"),
        ("marketing_status = 'zurueckgezogen'", "c"),
        ("restriction_level = 'gering', restriction_causes = '{kampfmittel}'", "e"),
    ):
        conn.execute(text(f"UPDATE parcels SET {sql} WHERE id = :i"), {"i": out[key]})
    out["d"] = insert_parcel(conn, site, square(X + 1800, Y, 500))
    return out


def _changes(conn: Connection, site: int, viewer=STAFF, after=None):
    f = ParcelFilter(site_id=(site,), marketing_status=MARKETED_STATUS, active_sites_only=True)
    return parcel_changes(conn, f, viewer=viewer,
                          before=ParcelSource.as_of(end_of_day(BEFORE)),
                          after=after or ParcelSource.as_of(end_of_day(AFTER)),
                          reference=AFTER)


def test_each_change_is_classified_and_summed(conn: Connection, ids: dict[str, int]) -> None:
    changes = _changes(conn, ids["site"])
    codes = {p["id"]: p["changes"] for p in changes.parcels}
    assert codes == {
        ids["a"]: ["sold"],
        ids["b"]: ["availability_moved", "restriction_removed"],
        ids["c"]: ["withdrawn"],
        ids["e"]: ["restriction_added"],
        ids["d"]: ["added"],
    }
    [row] = [d for d in changes.districts if d["district_ags"] == DISTRICT]
    assert {k: row[k] for k in ("added", "sold", "reserved", "withdrawn", "availability_moved",
                                "restrictions_added", "restrictions_removed")} == {
        "added": 1, "sold": 1, "reserved": 0, "withdrawn": 1, "availability_moved": 1,
        "restrictions_added": 1, "restrictions_removed": 1}
    assert row["added_net_ha"] == pytest.approx(25.0)
    assert row["sold_net_ha"] == pytest.approx(4.0)
    assert row["withdrawn_net_ha"] == pytest.approx(1.0)
    assert row["net_ha_before"] == pytest.approx(4 + 9 + 1 + 16)
    assert row["net_ha_after"] == pytest.approx(9 + 16 + 25)
    assert row["net_ha_delta"] == pytest.approx(20.0)
    others = [d for d in changes.districts if d["district_ags"] != DISTRICT]
    assert len(others) == 8 and all(d["net_ha_before"] == 0 == d["added"] for d in others)
    assert changes.total["added"] == 1 and changes.total["net_ha_delta"] == pytest.approx(20.0)
    b = next(p for p in changes.parcels if p["id"] == ids["b"])
    assert (b["availability_before"], b["availability_after"]) == ("kurzfristig", "sofort")
    assert b["restriction_causes_before"] == ["altlasten"]


def test_the_hectares_are_the_summary_of_each_day(conn: Connection,
                                                  ids: dict[str, int]) -> None:
    f = ParcelFilter(site_id=(ids["site"],), marketing_status=MARKETED_STATUS,
                     active_sites_only=True)
    changes = _changes(conn, ids["site"], after=LIVE)
    for day, key in ((BEFORE, "net_ha_before"), (date(2026, 1, 1), "net_ha_after")):
        source = LIVE if key == "net_ha_after" else ParcelSource.as_of(end_of_day(day))
        [total] = parcel_sums(conn, f, (), viewer=STAFF, reference=day, source=source)
        assert changes.total[key] == pytest.approx(total["net_ha"])


def test_a_reservation_and_a_sale_of_reserved_land(conn: Connection, clock: Clock,
                                                   ids: dict[str, int]) -> None:
    clock.set_db_now(datetime(2025, 8, 1, 12, tzinfo=LOCAL_ZONE))
    conn.execute(text("UPDATE parcels SET marketing_status = 'reserviert' WHERE id = :i"),
                 {"i": ids["e"]})
    changes = _changes(conn, ids["site"], after=LIVE)
    e = next(p for p in changes.parcels if p["id"] == ids["e"])
    assert e["changes"] == ["reserved", "restriction_added"]
    assert changes.total["reserved_net_ha"] == pytest.approx(16.0)
    # reserved land is still supply: the hectares after keep it
    assert changes.total["net_ha_after"] == pytest.approx(9 + 16 + 25)


def test_a_withdrawn_site_withdraws_its_parcels(conn: Connection, clock: Clock,
                                                ids: dict[str, int]) -> None:
    conn.execute(text("UPDATE sites SET withdrawn_at = '2025-03-01' WHERE id = :s"),
                 {"s": ids["site"]})
    changes = _changes(conn, ids["site"])
    codes = {p["id"]: p["changes"] for p in changes.parcels}
    assert codes[ids["b"]] == ["withdrawn", "availability_moved", "restriction_removed"]
    assert codes[ids["e"]] == ["withdrawn", "restriction_added"]
    assert changes.total["net_ha_after"] == 0


def test_the_public_sees_land_leave_the_market(conn: Connection, ids: dict[str, int]) -> None:
    changes = _changes(conn, ids["site"], viewer=PUBLIC_VIEWER)
    codes = {p["id"]: p["changes"] for p in changes.parcels}
    # a sale is not public: the parcel just left the market
    assert codes[ids["a"]] == ["withdrawn"] and codes[ids["d"]] == ["added"]
    assert changes.total["sold"] == 0 and changes.total["withdrawn"] == 2
    assert changes.total["net_ha_delta"] == pytest.approx(20.0)


def test_demo_quarters_since_2021_all_have_changes(conn: Connection) -> None:
    """The demo history gives every quarter from 2021Q1 on something to report."""
    from app.domain.quarters import Quarter, quarters_between

    marketed = ParcelFilter(marketing_status=MARKETED_STATUS, active_sites_only=True)
    for q in quarters_between(Quarter(2021, 1), Quarter(2026, 3)):
        changes = parcel_changes(
            conn, marketed, viewer=STAFF,
            before=ParcelSource.as_of(end_of_day(q.previous.last_day)),
            after=ParcelSource.as_of(end_of_day(q.last_day)), reference=q.last_day)
        kinds = {c for p in changes.parcels for c in p["changes"]}
        assert len(changes.parcels) >= 3 and "sold" in kinds, q.label
