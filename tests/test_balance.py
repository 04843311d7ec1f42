"""``GET /api/v1/balance`` on a hand-built data set, every figure computed by hand here.

The test hides the demo's sales (withdrawn, inside the rolled-back transaction), stores a
tiny framework and two sites with five parcels, and selects them with ``site_id``. Today is
pinned to 2026-12-31, four years (exactly 1,461 days = 4 × 365.25) after the framework's
base date 2022-12-31.

Framework "Testrahmen", period 2023–2032 (10 years), gross factor 1.5, scenario ``basis``:
  kmu (located): Leipzig 20 ha, Halle 10 ha; joker (regional): 10 ha → region 40 ha.
  annual: region 4, Leipzig 2, Halle 1; remaining after 4 years: 24, 12, 6.
Parcels (net = gross: serviced squares):
  Leipzig P1 2.25 ha sofort, keine, logistik, assessed 2026-12-31   → available 2026
          P2 9 ha mittelfristig, gering, industrie+logistik, assessed 2026-06-30 → 2031
          P3 1 ha pv_anlage (potential), available_from 2030-03-01   → 2030
          P4 0.25 ha unbekannt, restriction unbekannt, handwerk        → never
  Halle   P5 16 ha langfristig, assessed 2020-06-30 (+10 years)       → 2030
Sales (district, date, ha, buyer group):
  Leipzig 2023-01-15 1.0 logistik; 2024-05-01 2.0 logistik; 2025-03-01 0.5 none;
          2026-02-01 1.5 handwerk;   Halle 2021-06-01 3.0 logistik; 2026-07-01 12.0 industrie
  window of shares (5 years: 2022–2026): Leipzig logistik 3, unbekannt 0.5, handwerk 1.5;
  Halle industrie 12 (the 2021 sale lies outside).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import Connection, event, text

from tests.conftest import Clock
from tests.resource_client import Client
from tests.shapes import insert_parcel, insert_site, square

LEIPZIG_X, LEIPZIG_Y = 731_000.0, 5_690_000.0


def _halle_xy(conn: Connection) -> tuple[float, float]:
    row = conn.execute(text("SELECT ST_X(g), ST_Y(g) FROM ST_Transform(ST_SetSRID("
                            "ST_MakePoint(11.972, 51.481), 4326), 25832) g")).one()
    return float(row[0]), float(row[1])


@pytest.fixture
def built(conn: Connection, clock: Clock) -> dict[str, int]:
    clock.set_today(date(2026, 12, 31))
    conn.execute(text("UPDATE land_sales SET withdrawn_at = now() WHERE withdrawn_at IS NULL"))
    fid = conn.execute(text(
        "INSERT INTO demand_frameworks (name, version, base_date, period_first_year, "
        "period_last_year, net_to_gross_factor) VALUES ('Testrahmen', 1, '2022-12-31', 2023, "
        "2032, 1.5) RETURNING id")).scalar_one()
    conn.execute(text("INSERT INTO demand_scenarios (framework_id, key, label) "
                      "VALUES (:f, 'basis', 'Basis')"), {"f": fid})
    conn.execute(text("INSERT INTO demand_components (framework_id, key, label, located, "
                      "sort_order) VALUES (:f, 'kmu', 'KMU', true, 0), "
                      "(:f, 'joker', 'Joker', false, 1)"), {"f": fid})
    conn.execute(text(
        "INSERT INTO demand_component_values (framework_id, component_key, scenario_key, "
        "district_ags, net_ha) VALUES (:f, 'kmu', 'basis', '14713', 20), "
        "(:f, 'kmu', 'basis', '15002', 10), (:f, 'joker', 'basis', NULL, 10)"), {"f": fid})
    leipzig = insert_site(conn, "14713000", name="Handgebaut Leipzig")
    halle = insert_site(conn, "15002000", name="Handgebaut Halle")
    hx, hy = _halle_xy(conn)
    x, y = LEIPZIG_X, LEIPZIG_Y
    insert_parcel(conn, leipzig, square(x, y, 150), availability="sofort",
                  user_groups=["logistik"], availability_assessed_on=date(2026, 12, 31))
    insert_parcel(conn, leipzig, square(x + 400, y, 300), availability="mittelfristig",
                  restriction_level="gering", user_groups=["industrie_produktion", "logistik"],
                  availability_assessed_on=date(2026, 6, 30))
    insert_parcel(conn, leipzig, square(x + 900, y, 100), availability="mittelfristig",
                  category="pv_anlage", available_from=date(2030, 3, 1),
                  user_groups=["handwerk_gewerbe"])
    insert_parcel(conn, leipzig, square(x + 1200, y, 50), availability="unbekannt",
                  restriction_level="unbekannt", user_groups=["handwerk_gewerbe"])
    insert_parcel(conn, halle, square(hx, hy, 400), availability="langfristig",
                  user_groups=["industrie_produktion"],
                  availability_assessed_on=date(2020, 6, 30))
    for day, district, ha, group in (
            ("2023-01-15", "14713", 1.0, "logistik"), ("2024-05-01", "14713", 2.0, "logistik"),
            ("2025-03-01", "14713", 0.5, None), ("2026-02-01", "14713", 1.5, "handwerk_gewerbe"),
            ("2021-06-01", "15002", 3.0, "logistik"),
            ("2026-07-01", "15002", 12.0, "industrie_produktion")):
        conn.execute(text("INSERT INTO land_sales (sale_date, district_ags, area_ha, "
                          "buyer_user_group) VALUES (:d, :a, :ha, :g)"),
                     {"d": day, "a": district, "ha": ha, "g": group})
    return {"framework": fid, "leipzig": leipzig, "halle": halle}


def _balance(client: Client, built: dict[str, int], **params: Any) -> dict[str, Any]:
    response = client.get("/balance", framework=built["framework"],
                          site_id=f"{built['leipzig']},{built['halle']}", **params)
    assert response.status_code == 200, response.text
    return {a["ags"] or "region": a for a in response.json()["areas"]}


def _groups(items: list[dict[str, Any]]) -> dict[str, tuple[float, float, float]]:
    return {g["key"]: (g["supply_net_ha"], g["demand_net_ha"], g["balance_net_ha"])
            for g in items}


def test_every_figure_of_the_hand_built_balance(clients: dict[str, Client],
                                                 built: dict[str, int]) -> None:
    areas = _balance(clients["analyst"], built, scenario="basis")
    leipzig, halle, region = areas["14713"], areas["15002"], areas["region"]
    le = leipzig["scenarios"]["basis"]
    # market supply 2.25 + 9 + 0.25 = 11.5 (the 1 ha under PV is potential)
    assert leipzig["supply_scope_net_ha"] == pytest.approx(11.5)
    assert leipzig["supply"]["potential_net_ha"] == pytest.approx(1.0)
    assert le["demand_total_net_ha"] == 20 and le["demand_total_gross_ha"] == 30
    assert le["annual_demand_net_ha"] == 2 and le["demand_remaining_net_ha"] == 12
    assert le["balance_net_ha"] == pytest.approx(-0.5) and le["shortfall"] is True
    assert le["reach_years"] == pytest.approx(5.75)
    assert le["short_term_balance_net_ha"] == pytest.approx(2.25 - 12)
    # 2026: 2.25 against 0; 2027: 2.25 against 2 × 365/365.25; 2028: 2.25 against ≈4.003
    assert le["first_shortfall_year"] == 2028
    phased = {p["year"]: p for p in le["phased"]}
    assert [phased[y]["supply_cum_net_ha"] for y in (2026, 2030, 2031)] == pytest.approx(
        [2.25, 2.25, 11.25])
    assert phased[2032]["demand_cum_net_ha"] == pytest.approx(12)
    # shares of 5 ha of sales: logistik 3, unbekannt 0.5, handwerk 1.5 of 12 ha demand
    assert _groups(le["by_user_group"]) == {
        "logistik": pytest.approx((11.25, 7.2, 4.05)),
        "industrie_produktion": pytest.approx((9.0, 0.0, 9.0)),
        "handwerk_gewerbe": pytest.approx((0.25, 3.6, -3.35)),
        "unbekannt": pytest.approx((0.0, 1.2, -1.2)),
    }
    # sizes: sales 1–5 ha 4.5, < 1 ha 0.5 of 5 ha
    assert _groups(le["by_size_class"]) == {
        "lt_1": pytest.approx((0.25, 1.2, -0.95)), "1_5": pytest.approx((2.25, 10.8, -8.55)),
        "5_10": pytest.approx((9.0, 0.0, 9.0)), "10_50": pytest.approx((0.0, 0.0, 0.0)),
        "gt_50": pytest.approx((0.0, 0.0, 0.0)),
    }
    # take-up: 5 ha sold since 2022-12-31 against 2 ha × 4 years
    assert le["take_up"] == {"sold_net_ha": 5.0, "expected_net_ha": 8.0, "ratio": 0.625}

    ha = halle["scenarios"]["basis"]
    assert (ha["demand_remaining_net_ha"], ha["balance_net_ha"], ha["reach_years"]) == (
        6, 10, 16)
    assert ha["first_shortfall_year"] == 2027  # nothing before 2030, 1 ha a year from 2027
    assert _groups(ha["by_user_group"]) == {"industrie_produktion": (16.0, 6.0, 10.0)}
    assert ha["take_up"]["ratio"] == 3.0  # 12 ha against 1 ha × 4 years

    rg = region["scenarios"]["basis"]
    assert region["supply_scope_net_ha"] == pytest.approx(27.5)
    assert (rg["demand_total_net_ha"], rg["demand_remaining_net_ha"]) == (40, 24)
    assert rg["demand_remaining_gross_ha"] == 36
    assert rg["balance_net_ha"] == pytest.approx(3.5) and rg["reach_years"] == 6.88
    assert rg["first_shortfall_year"] == 2027
    assert rg["take_up"]["sold_net_ha"] == 17 and rg["take_up"]["ratio"] == pytest.approx(
        17 / 16, abs=1e-3)
    # region shares: logistik 3, unbekannt 0.5, handwerk 1.5, industrie 12 of 17 ha
    assert _groups(rg["by_user_group"])["logistik"][1] == pytest.approx(24 * 3 / 17, abs=1e-3)
    # districts without demand in this framework
    assert areas["16077"]["scenarios"]["basis"]["reach_years"] is None


def test_all_supply_counts_potential_and_trend_is_computed(clients: dict[str, Client],
                                                           built: dict[str, int]) -> None:
    areas = _balance(clients["analyst"], built, supply="all", scenario="basis,trend")
    leipzig = areas["14713"]
    assert leipzig["supply_scope_net_ha"] == pytest.approx(12.5)
    assert leipzig["scenarios"]["basis"]["balance_net_ha"] == pytest.approx(0.5)
    # trend 2016–2025: Leipzig 1 + 2 + 0.5 = 3.5 ha in 10 years → 0.35 a year × 10 years
    trend = leipzig["scenarios"]["trend"]
    assert trend["demand_total_net_ha"] == pytest.approx(3.5)
    assert trend["demand_remaining_net_ha"] == pytest.approx(3.5 - 0.35 * 4)
    assert areas["15002"]["scenarios"]["trend"]["demand_total_net_ha"] == pytest.approx(3.0)
    assert areas["region"]["scenarios"]["trend"]["demand_total_net_ha"] == pytest.approx(6.5)


def test_csv_has_a_row_per_area_and_scenario(clients: dict[str, Client],
                                             built: dict[str, int]) -> None:
    response = clients["analyst"].get("/balance", framework=built["framework"], f="csv")
    assert response.headers["content-type"].startswith("text/csv")
    lines = response.text.strip().splitlines()
    assert lines[0].startswith("level,ags,name,scenario,supply_net_ha")
    assert len(lines) == 1 + 10 * 3  # region + 9 districts, basis/trend/gifpro


@pytest.mark.parametrize(("params", "field"), [
    ({"scenario": "mittel"}, "scenario"), ({"at": "2999-01-01"}, "at"),
    ({"trend_from": "2015"}, "trend_to"), ({"framework": "999999"}, None),
    ({"supply": "alles"}, "supply"), ({"reuse_share": "2"}, "reuse_share"),
])
def test_bad_parameters_are_named(clients: dict[str, Client], params: dict[str, str],
                                  field: str | None) -> None:
    response = clients["public"].get("/balance", **params)
    assert 400 <= response.status_code < 500
    body = response.json()
    if field is not None:
        assert field in {e["field"] for e in body["errors"]}, body


def test_gifpro_from_the_employees_and_its_parameters(clients: dict[str, Client]) -> None:
    areas = _groups_of(clients["public"].get(
        "/balance", scenario="gifpro", settlement_quota_pct="1", relocation_quota_pct="0",
        m2_per_employee="100").json())
    # Halle: 11,355 employees × 1 % × 100 m² = 11,355 m² a year = 1.1355 ha × 19 years
    assert areas["15002"]["demand_total_net_ha"] == pytest.approx(1.1355 * 19, abs=1e-3)


def _groups_of(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {a["ags"] or "region": a["scenarios"]["gifpro"] for a in document["areas"]}


def test_no_query_per_district(clients: dict[str, Client], conn: Connection) -> None:
    sent: list[str] = []

    def record(*args: Any) -> None:
        sent.append(args[2])

    event.listen(conn, "before_cursor_execute", record)
    try:
        assert clients["public"].get("/balance").status_code == 200
    finally:
        event.remove(conn, "before_cursor_execute", record)
    reads = [s for s in sent if s.lstrip().upper().startswith(("SELECT", "WITH"))]
    # framework (2), district names, supply, user groups, sales; auth reads nothing for
    # the public
    assert len(reads) <= 7, reads
