"""The loaded demo data reproduce the study's published tables (computed here with SQL).

Figures come from ``geodata/study/reference_figures.json`` (their only home); tolerances are
the issue's: ±1 ha for supply figures, exact counts and ±0.1 ha for sales.
Only synthetic, marketable demo parcels are counted, so rows other tests add do not interfere.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Connection, text

SUPPLY_TOLERANCE_HA = 1.0
SALES_AREA_TOLERANCE_HA = 0.1

DEMO_PARCELS = "p.is_synthetic AND p.marketing_status = 'verfuegbar'"


def _key_by_ags(conn: Connection) -> dict[str, str]:
    return dict(conn.execute(text("SELECT ags, key FROM districts")).tuples().all())


def _sums(conn: Connection, sql: str) -> dict[Any, float]:
    return {row[0]: float(row[1]) for row in conn.execute(text(sql))}


def test_table6_sites_and_net_ha_per_district(conn: Connection, study: dict[str, Any]) -> None:
    keys = _key_by_ags(conn)
    sites = _sums(conn, "SELECT district_ags, count(*) FROM sites WHERE is_synthetic GROUP BY 1")
    net = _sums(conn, f"SELECT district_ags, sum(net_area_ha) FROM parcels p WHERE {DEMO_PARCELS} GROUP BY 1")
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
        f"SELECT district_ags, availability, sum(net_area_ha) FROM parcels p WHERE {DEMO_PARCELS} "
        "GROUP BY 1, 2")).all()
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
    totals = _sums(conn, f"SELECT category, sum(net_area_ha) FROM parcels p WHERE {DEMO_PARCELS} GROUP BY 1")
    for category, figure in study["supply_by_site_category_ha"].items():
        if category.startswith("_"):
            continue
        expected = figure["ha"] if isinstance(figure, dict) else figure
        assert totals.get(category, 0.0) == pytest.approx(expected, abs=SUPPLY_TOLERANCE_HA), category
    where = conn.execute(text(
        f"SELECT category, array_agg(DISTINCT district_ags ORDER BY district_ags) FROM parcels p "
        f"WHERE {DEMO_PARCELS} AND category IN ('braunkohle_folgeflaeche', 'innerstaedtische_brache') "
        "GROUP BY 1")).tuples().all()
    assert dict(where) == {"braunkohle_folgeflaeche": ["15084"],
                           "innerstaedtische_brache": ["14713", "15002"]}


def test_preview_areas_in_burgenlandkreis(conn: Connection, study: dict[str, Any]) -> None:
    figure = study["supply_by_site_category_ha"]["vorschauflaeche"]["burgenlandkreis"]
    row = conn.execute(text(
        f"SELECT count(DISTINCT site_id), sum(net_area_ha) FROM parcels p WHERE {DEMO_PARCELS} "
        "AND category = 'vorschauflaeche' AND district_ags = '15084'")).one()
    assert row[0] == figure["sites"]
    assert row[1] == pytest.approx(figure["ha"], abs=SUPPLY_TOLERANCE_HA)


def test_restriction_totals(conn: Connection, study: dict[str, Any]) -> None:
    totals = _sums(conn, f"SELECT restriction_level, sum(net_area_ha) FROM parcels p WHERE {DEMO_PARCELS} GROUP BY 1")
    figures = study["supply_by_restriction_ha"]
    for level in ("keine", "gering", "erhoeht", "unbekannt"):
        assert totals.get(level, 0.0) == pytest.approx(figures[level], abs=SUPPLY_TOLERANCE_HA), level


def test_unrestricted_land_by_availability(conn: Connection, study: dict[str, Any]) -> None:
    figures = study["supply_by_restriction_ha"]["unrestricted_by_availability"]
    horizon = ("CASE WHEN availability IN ('sofort', 'kurzfristig') THEN 'sofort_oder_kurzfristig' "
               "ELSE availability END")
    by_class = _sums(conn, f"SELECT {horizon}, sum(net_area_ha) FROM parcels p "
                           f"WHERE {DEMO_PARCELS} AND restriction_level = 'keine' GROUP BY 1")
    for horizon_class in ("sofort_oder_kurzfristig", "mittelfristig", "langfristig", "unbekannt"):
        assert by_class.get(horizon_class, 0.0) == pytest.approx(
            figures[horizon_class], abs=SUPPLY_TOLERANCE_HA), horizon_class
    by_district = conn.execute(text(
        f"SELECT d.key, {horizon}, sum(net_area_ha) FROM parcels p JOIN districts d ON d.ags = p.district_ags "
        f"WHERE {DEMO_PARCELS} AND restriction_level = 'keine' GROUP BY 1, 2")).all()
    cells = {(k, h): float(v) for k, h, v in by_district}
    for key, expected in figures["sofort_oder_kurzfristig_top_districts"].items():
        assert cells.get((key, "sofort_oder_kurzfristig"), 0.0) == pytest.approx(expected, abs=SUPPLY_TOLERANCE_HA)
    for key, expected in figures["langfristig_top_districts"].items():
        assert cells.get((key, "langfristig"), 0.0) == pytest.approx(expected, abs=SUPPLY_TOLERANCE_HA)


def test_user_group_totals(conn: Connection, study: dict[str, Any]) -> None:
    totals = _sums(conn, f"SELECT g, sum(net_area_ha) FROM parcels p, unnest(p.user_groups) g "
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


def test_sales_are_mostly_small_and_large_ones_logistics_near_a9_a14(conn: Connection) -> None:
    row = conn.execute(text(
        "SELECT avg((area_ha < 1)::int), count(*) FILTER (WHERE buyer_user_group IS NULL) "
        "FROM land_sales WHERE is_synthetic AND sale_date < '2020-01-01'")).one()
    assert row[0] > 0.5 and row[1] == 0
    large = conn.execute(text(
        "SELECT avg((buyer_user_group = 'logistik')::int), avg((EXISTS (SELECT 1 FROM infrastructure i "
        "WHERE i.kind = 'autobahn' AND i.ref IN ('A 9', 'A 14') AND ST_DWithin(i.geom_25832, s.geom_25832, 5000)))::int) "
        "FROM land_sales s WHERE is_synthetic AND sale_date < '2020-01-01' AND area_ha >= 10")).one()
    assert large[0] > 0.5 and large[1] > 0.5


def test_sales_after_base_date_exist_for_take_up(conn: Connection) -> None:
    years = conn.execute(text(
        "SELECT array_agg(DISTINCT extract(year FROM sale_date)::int ORDER BY extract(year FROM sale_date)::int) FROM land_sales "
        "WHERE is_synthetic AND sale_date > '2020-12-31'")).scalar_one()
    assert years == [2021, 2022, 2023, 2024, 2025]


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
