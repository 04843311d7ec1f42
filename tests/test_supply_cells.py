"""``supply_cells`` (migration 0014) always equal the sums over the live parcels.

The cells answer today's unfiltered balance and summaries; here they are compared with the
select path on the demo, after every kind of write, and their SQL functions with the domain.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, event, text

from app.db.queries.balance import supply_rows
from app.db.queries.parcels import LIVE, parcel_sums
from app.db.queries.supply_cells import cell_sums, cell_supply_rows, cells_answer
from app.domain import balance as b
from app.domain.filters import MARKETED_STATUS, ParcelFilter
from app.domain.roles import PUBLIC_VIEWER, STAFF, Viewer
from tests.resource_client import Client
from tests.shapes import insert_parcel, insert_site, square

DAY = date(2026, 11, 30)
FILTERS = (
    ParcelFilter(),
    ParcelFilter(marketing_status=MARKETED_STATUS, active_sites_only=True),
    ParcelFilter(district=("14713", "15082"), category=("pv_anlage", "vorschauflaeche",
                                                         "restflaeche_bestandsgebiet")),
    ParcelFilter(marketing_status=("verkauft", "zurueckgezogen")),
)
#: Groupings of summaries the cells answer (each fits one view).
GROUPINGS = (["district_ags", "availability", "restriction_level"], ["size_class"],
             ["category", "user_groups"], ["marketing_status", "district_ags"], [])


def _key(row: Any) -> tuple[Any, ...]:
    return (row.view, row.district_ags, row.category, row.restriction_level, row.availability,
            row.available_year, row.size_class, row.user_group)


def _same_supply(conn: Connection, f: ParcelFilter, viewer: Viewer) -> None:
    direct = {_key(r): (r.parcels, r.net_ha, r.gross_ha)
              for r in supply_rows(conn, f, viewer=viewer, day=DAY, source=LIVE)}
    cells = {_key(r): (r.parcels, r.net_ha, r.gross_ha)
             for r in cell_supply_rows(conn, f, viewer)}
    assert cells.keys() == direct.keys()
    for k, (n, net, gross) in direct.items():
        assert cells[k] == (n, pytest.approx(net, abs=1e-6), pytest.approx(gross, abs=1e-6)), k


@pytest.mark.parametrize("viewer", [PUBLIC_VIEWER, STAFF], ids=["public", "staff"])
@pytest.mark.parametrize("f", FILTERS, ids=["all", "supply", "narrow", "off_market"])
def test_cells_equal_the_select_path_on_the_demo(conn: Connection, f: ParcelFilter,
                                                 viewer: Viewer) -> None:
    assert cells_answer(f, LIVE)
    _same_supply(conn, f, viewer)
    for by in GROUPINGS:
        assert cells_answer(f, LIVE, by), by
        direct = parcel_sums(conn, f, by, viewer=viewer, reference=DAY, source=LIVE)
        assert cell_sums(conn, f, by, viewer) == [
            {**r, "net_ha": pytest.approx(r["net_ha"], abs=1e-6),
             "gross_ha": pytest.approx(r["gross_ha"], abs=1e-6)} for r in direct]


def test_cells_follow_every_write(conn: Connection) -> None:
    site = insert_site(conn, "14713000", name="Zellen")
    a = insert_parcel(conn, site, square(731_000, 5_690_000, 150), availability="kurzfristig")
    b_id = insert_parcel(conn, site, square(731_400, 5_690_000, 300),
                         user_groups=["logistik", "industrie_produktion"])
    steps = [
        "UPDATE parcels SET availability = 'sofort', availability_assessed_on = NULL "
        f"WHERE id = {a}",
        f"UPDATE parcels SET marketing_status = 'verkauft' WHERE id = {b_id}",
        f"UPDATE parcels SET net_area_ha_given = 1.5 WHERE id = {a}",
        f"UPDATE parcels SET last_verified_at = now() - interval '3 years' WHERE id = {a}",
        f"UPDATE parcels SET restriction_level = 'erhoeht' WHERE site_id = {site}",
        f"UPDATE parcels SET marketing_status = 'zurueckgezogen' WHERE site_id = {site} "
        "AND marketing_status = 'verfuegbar'",
        f"UPDATE sites SET withdrawn_at = now() WHERE id = {site}",
    ]
    for sql in steps:
        conn.execute(text(sql))
        for f in FILTERS[:2]:
            _same_supply(conn, f, STAFF)
    # deleting is refused (parcels_no_delete); with that guard off (test clean-up does so)
    # the cells still follow
    guards = (("parcels", "parcels_no_delete"), ("parcel_history", "parcel_history_append_only"),
              ("land_sales", "land_sales_no_delete"))
    conn.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))  # no deferred checks pending
    for table, trigger in guards:
        conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}"))
    conn.execute(text(f"DELETE FROM parcel_history WHERE parcel_id IN ({a}, {b_id})"))
    conn.execute(text(f"DELETE FROM land_sales WHERE parcel_id IN ({a}, {b_id})"))
    conn.execute(text(f"DELETE FROM parcels WHERE id IN ({a}, {b_id})"))
    for table, trigger in guards:
        conn.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER {trigger}"))
    for f in FILTERS[:2]:
        _same_supply(conn, f, STAFF)
    untouched = conn.execute(text("SELECT count(*) FROM supply_cells WHERE parcels = 0"))
    assert untouched.scalar_one() == 0


def test_sql_functions_agree_with_the_domain(conn: Connection) -> None:
    for ha in (0.0, 0.999, 1.0, 4.99, 5.0, 9.999, 10.0, 49.9, 50.0, 1234.5):
        assert conn.execute(text("SELECT gefis_size_class(:ha)"), {"ha": ha}).scalar_one() \
            == b.size_class(ha), ha
    assessed = date(2021, 2, 28)
    for availability in b.AVAILABLE_AFTER_YEARS:
        year = conn.execute(text("SELECT gefis_available_year(:a, NULL, :d)"),
                            {"a": availability, "d": assessed}).scalar_one()
        expected = b.available_on(availability, assessed, None)
        assert year == (None if expected is None else expected.year), availability
    given = assessed + timedelta(days=400)
    assert conn.execute(text("SELECT gefis_available_year('unbekannt', :g, :d)"),
                        {"g": given, "d": assessed}).scalar_one() == given.year


def _statements(conn: Connection, call: Any) -> list[str]:
    sent: list[str] = []

    def record(*args: Any) -> None:
        sent.append(args[2])

    event.listen(conn, "before_cursor_execute", record)
    try:
        call()
    finally:
        event.remove(conn, "before_cursor_execute", record)
    return sent


def test_requests_use_the_cells_only_when_they_answer(clients: dict[str, Client],
                                                      conn: Connection) -> None:
    public = clients["public"]
    today = _statements(conn, lambda: public.get("/balance"))
    assert any("supply_cells" in s for s in today)
    assert not any("FROM parcels p" in s for s in today), [s[:300] for s in today if "FROM parcels p" in s]
    filtered = _statements(conn, lambda: public.get("/balance", rail_siding="true"))
    assert not any("supply_cells" in s for s in filtered)
    past = _statements(conn, lambda: public.get("/parcels/summary", by="district",
                                                at="2024-06-30"))
    assert not any("supply_cells" in s for s in past)
    # municipalities are no cell key: the groups come from the parcels (the total may not)
    municipality = _statements(conn, lambda: public.get("/parcels/summary", by="municipality"))
    assert any("FROM parcels p" in s for s in municipality)
    across = _statements(conn, lambda: public.get("/parcels/summary", by="size_class,user_group"))
    assert any("FROM parcels p" in s for s in across)
    assert not cells_answer(ParcelFilter(availability=("sofort",)), LIVE)
