"""The loaded demo data reproduce the study's published tables (computed here with SQL).

The demo is a timeline: its state at the survey date (2020-12-31, end of day), rebuilt from
the parcel history (:meth:`ParcelSource.as_of`), is the study's; later changes are the
timeline's (see ``test_demo_timeline.py``). Figures come from
``geodata/study/reference_figures.json`` (their only home); tolerances are the issue's:
±1 ha for supply figures, exact counts and ±0.1 ha for sales. Only synthetic, marketable
demo parcels are counted, so rows other tests add do not interfere.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

import pytest
from sqlalchemy import Connection, text

from app.db.queries.parcels import ParcelSource
from app.domain.clock import LOCAL_ZONE

SUPPLY_TOLERANCE_HA = 1.0
SALES_AREA_TOLERANCE_HA = 0.1

SURVEY = datetime.combine(date(2020, 12, 31), time.max, LOCAL_ZONE)
AT_SURVEY = ParcelSource.as_of(SURVEY)
#: The parcels as they were at the survey date (aliases ``p`` and ``s``, as ``parcels p``).
PARCELS = AT_SURVEY.from_sql
DEMO_PARCELS = (f"p.is_synthetic AND p.marketing_status = 'verfuegbar' "
                f"AND {AT_SURVEY.site_active_sql}")


def _key_by_ags(conn: Connection) -> dict[str, str]:
    return dict(conn.execute(text("SELECT ags, key FROM districts")).tuples().all())


def _sums(conn: Connection, sql: str) -> dict[Any, float]:
    return {row[0]: float(row[1]) for row in conn.execute(text(sql), dict(AT_SURVEY.params))}


def test_table6_sites_and_net_ha_per_district(conn: Connection, study: dict[str, Any]) -> None:
    keys = _key_by_ags(conn)
    sites = _sums(conn, f"SELECT s.district_ags, count(DISTINCT s.id) FROM {PARCELS} "
                        f"WHERE s.is_synthetic AND {DEMO_PARCELS} GROUP BY 1")
    net = _sums(conn, f"SELECT p.district_ags, sum(p.net_area_ha) FROM {PARCELS} WHERE {DEMO_PARCELS} GROUP BY 1")
    table6 = study["table6_supply_by_district"]
    for ags, key in keys.items():
        expected_sites, expected_ha = table6[key]
        assert sites.get(ags, 0) == expected_sites, key
        assert net.get(ags, 0.0) == pytest.approx(expected_ha, abs=SUPPLY_TOLERANCE_HA), key
    assert sum(sites.values()) == table6["irmd"][0]
    assert sum(net.values()) == pytest.approx(table6["irmd"][1], abs=SUPPLY_TOLERANCE_HA)


def test_table7_availability_by_district(conn: Connection, study: dict[str, Any]) -> None:
    keys = _key_by_ags(conn)
    rows = conn.execute(text(
        f"SELECT p.district_ags, p.availability, sum(p.net_area_ha) FROM {PARCELS} WHERE {DEMO_PARCELS} "
        "GROUP BY 1, 2"), dict(AT_SURVEY.params)).all()
    cells = {(ags, availability): float(ha) for ags, availability, ha in rows}
    table7 = study["table7_supply_by_availability"]
    columns = table7["columns"]
    for ags, key in keys.items():
        for availability, expected in zip(columns, table7[key], strict=True):
            got = cells.get((ags, availability), 0.0)
            if expected is None:
                assert got == 0.0, (key, availability)
            else:
                assert got == pytest.approx(expected, abs=SUPPLY_TOLERANCE_HA), (key, availability)
    for availability, expected in zip(columns, table7["irmd"], strict=True):
        total = sum(v for (_, a), v in cells.items() if a == availability)
        assert total == pytest.approx(expected, abs=SUPPLY_TOLERANCE_HA), availability


def test_category_totals_and_where_they_lie(conn: Connection, study: dict[str, Any]) -> None:
    totals = _sums(conn, f"SELECT p.category, sum(p.net_area_ha) FROM {PARCELS} WHERE {DEMO_PARCELS} GROUP BY 1")
    for category, figure in study["supply_by_site_category_ha"].items():
        if category.startswith("_"):
            continue
        expected = figure["ha"] if isinstance(figure, dict) else figure
        assert totals.get(category, 0.0) == pytest.approx(expected, abs=SUPPLY_TOLERANCE_HA), category
    where = conn.execute(text(
        f"SELECT p.category, array_agg(DISTINCT p.district_ags ORDER BY p.district_ags) FROM {PARCELS} "
        f"WHERE {DEMO_PARCELS} AND p.category IN ('braunkohle_folgeflaeche', 'innerstaedtische_brache') "
        "GROUP BY 1"), dict(AT_SURVEY.params)).tuples().all()
    assert dict(where) == {"braunkohle_folgeflaeche": ["15084"],
                           "innerstaedtische_brache": ["14713", "15002"]}


def test_preview_areas_in_burgenlandkreis(conn: Connection, study: dict[str, Any]) -> None:
    figure = study["supply_by_site_category_ha"]["vorschauflaeche"]["burgenlandkreis"]
    row = conn.execute(text(
        f"SELECT count(DISTINCT p.site_id), sum(p.net_area_ha) FROM {PARCELS} WHERE {DEMO_PARCELS} "
        "AND p.category = 'vorschauflaeche' AND p.district_ags = '15084'"), dict(AT_SURVEY.params)).one()
    assert row[0] == figure["sites"]
    assert row[1] == pytest.approx(figure["ha"], abs=SUPPLY_TOLERANCE_HA)


def test_restriction_totals(conn: Connection, study: dict[str, Any]) -> None:
    totals = _sums(conn, f"SELECT p.restriction_level, sum(p.net_area_ha) FROM {PARCELS} WHERE {DEMO_PARCELS} GROUP BY 1")
    figures = study["supply_by_restriction_ha"]
    for level in ("keine", "gering", "erhoeht", "unbekannt"):
        assert totals.get(level, 0.0) == pytest.approx(figures[level], abs=SUPPLY_TOLERANCE_HA), level


def test_unrestricted_land_by_availability(conn: Connection, study: dict[str, Any]) -> None:
    figures = study["supply_by_restriction_ha"]["unrestricted_by_availability"]
    horizon = ("CASE WHEN p.availability IN ('sofort', 'kurzfristig') THEN 'sofort_oder_kurzfristig' "
               "ELSE p.availability END")
    by_class = _sums(conn, f"SELECT {horizon}, sum(p.net_area_ha) FROM {PARCELS} "
                           f"WHERE {DEMO_PARCELS} AND p.restriction_level = 'keine' GROUP BY 1")
    for horizon_class in ("sofort_oder_kurzfristig", "mittelfristig", "langfristig", "unbekannt"):
        assert by_class.get(horizon_class, 0.0) == pytest.approx(
            figures[horizon_class], abs=SUPPLY_TOLERANCE_HA), horizon_class
    by_district = conn.execute(text(
        f"SELECT d.key, {horizon}, sum(p.net_area_ha) FROM {PARCELS} JOIN districts d ON d.ags = p.district_ags "
        f"WHERE {DEMO_PARCELS} AND p.restriction_level = 'keine' GROUP BY 1, 2"), dict(AT_SURVEY.params)).all()
    cells = {(k, h): float(v) for k, h, v in by_district}
    for key, expected in figures["sofort_oder_kurzfristig_top_districts"].items():
        assert cells.get((key, "sofort_oder_kurzfristig"), 0.0) == pytest.approx(expected, abs=SUPPLY_TOLERANCE_HA)
    for key, expected in figures["langfristig_top_districts"].items():
        assert cells.get((key, "langfristig"), 0.0) == pytest.approx(expected, abs=SUPPLY_TOLERANCE_HA)


def test_user_group_totals(conn: Connection, study: dict[str, Any]) -> None:
    totals = _sums(conn, f"SELECT g, sum(p.net_area_ha) FROM {PARCELS} CROSS JOIN unnest(p.user_groups) g "
                         f"WHERE {DEMO_PARCELS} GROUP BY 1")
    for group, figure in study["supply_by_user_group_ha"].items():
        if group.startswith("_"):
            continue
        assert totals.get(group, 0.0) == pytest.approx(figure["total"], abs=SUPPLY_TOLERANCE_HA), group


def test_table5_land_sales_2010_2019(conn: Connection, study: dict[str, Any]) -> None:
    rows = conn.execute(text(
        "SELECT d.key, count(s.id), coalesce(sum(s.area_ha), 0) FROM districts d "
        "LEFT JOIN land_sales s ON s.district_ags = d.ags AND s.is_synthetic "
        "AND s.sale_date BETWEEN '2010-01-01' AND '2019-12-31' GROUP BY 1")).all()
    table5 = study["table5_land_sales_2010_2019"]
    for key, count, area in rows:
        expected_count, expected_area, _ = table5[key]
        assert count == expected_count, key
        assert float(area) == pytest.approx(expected_area, abs=SALES_AREA_TOLERANCE_HA), key
    assert sum(r[1] for r in rows) == table5["irmd"][0]


def test_sales_are_mostly_small_and_large_ones_near_a9_a14(conn: Connection) -> None:
    """The study's sales name no buyer group (none is stored); large plots lie near the A 9
    and A 14, where logistics buys."""
    row = conn.execute(text(
        "SELECT avg((area_ha < 1)::int), count(buyer_user_group) "
        "FROM land_sales WHERE is_synthetic AND sale_date < '2020-01-01'")).one()
    assert row[0] > 0.5 and row[1] == 0
    large = conn.execute(text(
        "SELECT avg((EXISTS (SELECT 1 FROM infrastructure i "
        "WHERE i.kind = 'autobahn' AND i.ref IN ('A 9', 'A 14') AND ST_DWithin(i.geom_25832, s.geom_25832, 5000)))::int) "
        "FROM land_sales s WHERE is_synthetic AND sale_date < '2020-01-01' AND area_ha >= 10")).one()
    assert large[0] > 0.5


def test_sales_after_base_date_exist_for_take_up(conn: Connection) -> None:
    """Sales after the survey come from the timeline: each the sale of a parcel, with the
    buyer's user group (details in ``test_demo_timeline.py``)."""
    row = conn.execute(text(
        "SELECT array_agg(DISTINCT extract(year FROM sale_date)::int ORDER BY extract(year FROM sale_date)::int), "
        "count(*) FILTER (WHERE parcel_id IS NULL OR buyer_user_group IS NULL) FROM land_sales "
        "WHERE is_synthetic AND sale_date > '2020-12-31'")).one()
    assert row[0] == [2021, 2022, 2023, 2024, 2025, 2026] and row[1] == 0


def test_demand_framework_2038(conn: Connection, study: dict[str, Any]) -> None:
    framework = study["orientation_framework_2038"]
    fw = conn.execute(text("SELECT id, base_date::text, period_first_year, period_last_year, "
                           "net_to_gross_factor FROM demand_frameworks WHERE is_default")).one()
    assert (fw.base_date, fw.period_first_year, fw.period_last_year,
            float(fw.net_to_gross_factor)) == (
        framework["base_date"], framework["period_first_year"], framework["period_last_year"],
        framework["gross_factor_used_by_study"])
    totals = _sums(conn, f"SELECT scenario_key, sum(net_ha) FROM demand_component_values "
                         f"WHERE framework_id = {fw.id} GROUP BY 1")
    assert (totals["niedrig"], totals["hoch"]) == pytest.approx(tuple(framework["total_net_ha"]))
    for component, figure in framework["components_net_ha"].items():
        got = _sums(conn, f"SELECT scenario_key, sum(net_ha) FROM demand_component_values "
                          f"WHERE framework_id = {fw.id} AND component_key = '{component}' GROUP BY 1")
        assert (got["niedrig"], got["hoch"]) == pytest.approx(tuple(figure["range"])), component


def test_sme_demand_split_follows_sales_area(conn: Connection) -> None:
    rows = conn.execute(text(
        "SELECT v.scenario_key, v.district_ags, v.net_ha, sales.area, "
        "sum(v.net_ha) OVER (PARTITION BY v.scenario_key) AS total, sum(sales.area) OVER (PARTITION BY v.scenario_key) AS all_sales "
        "FROM demand_component_values v JOIN demand_frameworks f ON f.id = v.framework_id AND f.is_default "
        "JOIN (SELECT district_ags, sum(area_ha) AS area FROM land_sales WHERE is_synthetic "
        "      AND sale_date BETWEEN '2010-01-01' AND '2019-12-31' GROUP BY 1) sales USING (district_ags) "
        "WHERE v.component_key = 'kmu_regular_demand'")).all()
    assert len(rows) == 18
    for r in rows:
        assert r.net_ha == pytest.approx(r.total * r.area / r.all_sales, abs=0.02), (r.scenario_key, r.district_ags)
