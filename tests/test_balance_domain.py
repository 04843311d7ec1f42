"""The balance arithmetic (app/domain/balance.py, app/domain/demand_scenarios.py), no database.

Every expected value is worked out by hand in a comment next to it. Spans of 1,461 days
(four years with one leap day) are exactly 4.0 years of 365.25 days, so most examples use
31 December 2020 → 31 December 2024.
"""

from __future__ import annotations

import json
from datetime import date
from itertools import pairwise
from pathlib import Path

import pytest

from app.domain import availability
from app.domain.balance import (
    AVAILABLE_AFTER_YEARS,
    SIZE_CLASSES,
    YEAR_DAYS,
    PhaseYear,
    annual_demand_ha,
    available_on,
    balance,
    first_shortfall_year,
    group_balances,
    phase,
    reach_years,
    remaining_demand_ha,
    size_class,
    split_by_shares,
    supply_by_year,
    take_up,
    years_between,
)
from app.domain.demand_scenarios import (
    GifproParameters,
    default_land_using_employees,
    gifpro_annual_ha,
    gifpro_total_ha,
    land_using_employees,
    trend_total_ha,
)
from app.domain.framework import Period

STUDY = Period(2020, 2038)  # 19 years
BASE = date(2020, 12, 31)  # the study's survey state
FOUR_YEARS_ON = date(2024, 12, 31)  # 1461 days after BASE = 4.0 years
SMALL = Period(2021, 2030)  # 10 years; 100 ha over it = 10 ha a year
REFERENCE_FIGURES = Path(__file__).parents[1] / "geodata" / "study" / "reference_figures.json"


# --- years and the study's own figures ---------------------------------------------------


def test_years_between() -> None:
    assert YEAR_DAYS == 365.25
    assert years_between(BASE, FOUR_YEARS_ON) == 4.0  # 1461 / 365.25
    assert years_between(FOUR_YEARS_ON, BASE) == -4.0
    assert years_between(date(2021, 1, 1), date(2022, 1, 1)) == pytest.approx(365 / 365.25)


def test_study_annual_demand() -> None:
    # 2545 / 19 = 133.947… → "134 ha a year"; 2840 / 19 = 149.47… → 149
    assert round(annual_demand_ha(2545, STUDY)) == 134
    assert round(annual_demand_ha(2840, STUDY)) == 149
    assert annual_demand_ha(2545, STUDY) == pytest.approx(133.947, abs=1e-3)
    # per district and year: 2545 / 19 / 9 = 14.88 → 14.9; 2840 / 19 / 9 = 16.61 → 16.6
    assert round(annual_demand_ha(2545, STUDY) / 9, 1) == 14.9
    assert round(annual_demand_ha(2840, STUDY) / 9, 1) == 16.6


def test_study_reach() -> None:
    # 1475 ha unrestricted: 1475 / 133.947 = 11.01 → 11.0; 1475 / 149.47 = 9.87 → 9.9
    assert round(reach_years(1475, annual_demand_ha(2545, STUDY)) or 0, 1) == 11.0
    assert round(reach_years(1475, annual_demand_ha(2840, STUDY)) or 0, 1) == 9.9
    # with the printed paces: 1475 / 134 = 11.007; 1475 / 149 = 9.899
    assert round(reach_years(1475, 134) or 0, 1) == 11.0
    assert round(reach_years(1475, 149) or 0, 1) == 9.9


def test_reach_without_demand_is_none() -> None:
    assert reach_years(100, 0) is None
    assert reach_years(100, -1) is None
    assert reach_years(0, 5) == 0.0


# --- remaining demand and balance --------------------------------------------------------


def test_remaining_demand_before_at_and_after_base_date() -> None:
    # 100 ha over 10 years = 10 ha a year, accruing from BASE
    assert remaining_demand_ha(100, SMALL, BASE, date(2019, 6, 30)) == 100.0  # before
    assert remaining_demand_ha(100, SMALL, BASE, BASE) == 100.0  # at: all still ahead
    assert remaining_demand_ha(100, SMALL, BASE, FOUR_YEARS_ON) == 60.0  # 100 − 10 × 4
    # one ordinary year: 100 − 10 × 365 / 365.25
    assert remaining_demand_ha(100, SMALL, BASE, date(2021, 12, 31)) == pytest.approx(
        100 - 10 * 365 / 365.25)


def test_remaining_demand_after_the_period_end_is_zero() -> None:
    # 2020-12-31 → 2040-12-31: 7305 days = 20.0 years; 20 × 133.947 = 2679 > 2545 → 0
    assert remaining_demand_ha(2545, STUDY, BASE, date(2040, 12, 31)) == 0.0
    assert remaining_demand_ha(100, SMALL, BASE, date(2035, 1, 1)) == 0.0  # 14 years × 10 > 100


def test_remaining_demand_on_the_study_period_end() -> None:
    # The base date is the end of 2020, the period's first year: on 2038-12-31 only
    # 6574 days (18 × 365 + 4 leap days) have passed, so one year's demand is still ahead:
    # 2545 − 2545 / 19 × 6574 / 365.25 = 134.1
    remaining = remaining_demand_ha(2545, STUDY, BASE, STUDY.end)
    assert remaining == pytest.approx(2545 - 2545 / 19 * 6574 / 365.25)
    assert round(remaining, 1) == 134.1


def test_balance_deficit() -> None:
    # remaining 100 − 10 × 4 = 60; 50 − 60 = −10; reach 50 / 10 = 5
    b = balance(50, 100, SMALL, BASE, FOUR_YEARS_ON)
    assert (b.supply_net_ha, b.demand_total_net_ha, b.demand_remaining_net_ha) == (50, 100, 60.0)
    assert b.annual_demand_net_ha == 10.0
    assert b.balance_net_ha == -10.0
    assert b.reach_years == 5.0
    assert b.shortfall is True


def test_balance_even_is_no_shortfall() -> None:
    # 60 − 60 = 0: a balance of exactly 0 is no deficit
    b = balance(60, 100, SMALL, BASE, FOUR_YEARS_ON)
    assert b.balance_net_ha == 0.0
    assert b.shortfall is False


def test_study_balance_on_the_base_date() -> None:
    # unrestricted 1475 against the whole 2545: 1475 − 2545 = −1070
    b = balance(1475, 2545, STUDY, BASE, BASE)
    assert b.balance_net_ha == -1070
    assert b.shortfall
    assert round(b.reach_years or 0, 1) == 11.0


# --- time phasing ------------------------------------------------------------------------


def test_available_after_years_reuses_the_class_bounds() -> None:
    for cls, years in availability.LATEST_YEARS.items():
        assert AVAILABLE_AFTER_YEARS[cls] == years
    assert AVAILABLE_AFTER_YEARS["langfristig"] == 10  # the phasing's assumption
    assert AVAILABLE_AFTER_YEARS["unbekannt"] is None
    assert list(AVAILABLE_AFTER_YEARS) == [
        "sofort", "kurzfristig", "mittelfristig", "langfristig", "unbekannt"]
    with pytest.raises(TypeError):
        AVAILABLE_AFTER_YEARS["unbekannt"] = 3  # type: ignore[index]


def test_available_on_by_class() -> None:
    assert available_on("sofort", BASE, None) == BASE
    assert available_on("kurzfristig", BASE, None) == date(2022, 12, 31)  # + 2
    assert available_on("mittelfristig", BASE, None) == date(2025, 12, 31)  # + 5
    assert available_on("langfristig", BASE, None) == date(2030, 12, 31)  # + 10 (assumed)
    # 29 February + 2 years falls back to 28 February
    assert available_on("kurzfristig", date(2024, 2, 29), None) == date(2026, 2, 28)


def test_unbekannt_is_never_available() -> None:
    assert available_on("unbekannt", BASE, None) is None
    assert available_on("unbekannt", date(1990, 1, 1), None) is None


def test_available_from_overrides_the_class() -> None:
    assert available_on("langfristig", BASE, date(2022, 5, 1)) == date(2022, 5, 1)
    assert available_on("sofort", BASE, date(2023, 7, 1)) == date(2023, 7, 1)


def test_available_on_unknown_class() -> None:
    with pytest.raises(ValueError, match="unknown availability"):
        available_on("bald", BASE, None)


def test_supply_by_year_sums_per_year_and_drops_undated() -> None:
    dated = [(date(2022, 1, 1), 2.0), (date(2022, 12, 31), 3.0), (date(2025, 6, 1), 4.0),
             (None, 100.0)]
    assert supply_by_year(dated) == {2022: 5.0, 2025: 4.0}  # 2 + 3; the 100 undated ha nowhere


def test_phase_with_a_shortfall() -> None:
    # annual 10, remaining 50, from 2020-12-31; rows 2020 … 2025
    # supply: 2019 + 2020 → first row (10); 2022: +15; 2027 lies after 2025 → never counted
    rows = phase({2019: 5.0, 2020: 5.0, 2022: 15.0, 2027: 100.0}, BASE, Period(2021, 2025),
                 10.0, 50.0)
    assert [r.year for r in rows] == [2020, 2021, 2022, 2023, 2024, 2025]
    assert [r.supply_cum_net_ha for r in rows] == [10.0, 10.0, 25.0, 25.0, 25.0, 25.0]
    # demand: 10 × days / 365.25 with 0, 365, 730, 1095, 1461, 1826 days (all below 50)
    days = [0, 365, 730, 1095, 1461, 1826]
    assert [r.demand_cum_net_ha for r in rows] == pytest.approx([10 * d / 365.25 for d in days])
    # 2021: 10 − 9.993 ≥ 0; 2022: 25 − 19.986 ≥ 0; 2023: 25 − 29.979 < 0
    assert rows[1].balance_net_ha == pytest.approx(10 - 10 * 365 / 365.25)
    assert rows[3].balance_net_ha == pytest.approx(25 - 10 * 1095 / 365.25)
    assert first_shortfall_year(rows) == 2023


def test_phase_demand_stops_at_the_remaining_demand() -> None:
    # annual 10 but only 25 ha remain: 2023 would be 29.98 → capped at 25
    rows = phase({}, BASE, Period(2021, 2024), 10.0, 25.0)
    assert [r.demand_cum_net_ha for r in rows][-2:] == [25.0, 25.0]
    assert [r.supply_cum_net_ha for r in rows] == [0.0] * 5


def test_phase_without_a_shortfall() -> None:
    # 60 ha at once covers the 50 ha remaining in every year
    rows = phase({2020: 60.0}, BASE, Period(2021, 2025), 10.0, 50.0)
    assert all(r.balance_net_ha > 0 for r in rows)
    assert rows[-1].balance_net_ha == pytest.approx(60 - 10 * 1826 / 365.25)
    assert first_shortfall_year(rows) is None


def test_phase_starts_in_the_year_of_at() -> None:
    # at 2024-12-31: rows 2024 and 2025; demand 2025 = 10 × 365 / 365.25
    rows = phase({2023: 1.0, 2025: 2.0}, FOUR_YEARS_ON, Period(2021, 2025), 10.0, 50.0)
    assert [(r.year, r.supply_cum_net_ha) for r in rows] == [(2024, 1.0), (2025, 3.0)]
    assert rows[1].demand_cum_net_ha == pytest.approx(10 * 365 / 365.25)


def test_phase_after_the_period_is_empty() -> None:
    assert phase({2020: 5.0}, date(2026, 1, 1), Period(2021, 2025), 10.0, 50.0) == []


def test_first_shortfall_year_tolerance() -> None:
    equal = [PhaseYear(2030, 10.0, 10.0 + 1e-12, -1e-12)]
    short = [PhaseYear(2030, 10.0, 10.0, 0.0), PhaseYear(2031, 10.0, 10.1, -0.1)]
    assert first_shortfall_year(equal) is None
    assert first_shortfall_year(short) == 2031
    assert first_shortfall_year([]) is None


# --- size classes ------------------------------------------------------------------------


@pytest.mark.parametrize(("net_ha", "key"), [
    (0.0, "lt_1"), (0.999, "lt_1"), (1.0, "1_5"), (4.999, "1_5"), (5.0, "5_10"),
    (10.0, "10_50"), (49.999, "10_50"), (50.0, "gt_50"), (50.1, "gt_50"), (1e6, "gt_50"),
])
def test_size_class_boundaries(net_ha: float, key: str) -> None:
    assert size_class(net_ha) == key


def test_size_classes_are_contiguous_and_labelled() -> None:
    assert [c.key for c in SIZE_CLASSES] == ["lt_1", "1_5", "5_10", "10_50", "gt_50"]
    assert [c.label for c in SIZE_CLASSES] == ["< 1 ha", "1–5 ha", "5–10 ha", "10–50 ha",
                                               "> 50 ha"]
    for lower, upper in pairwise(SIZE_CLASSES):
        assert lower.max_ha == upper.min_ha
    assert SIZE_CLASSES[0].min_ha == 0 and SIZE_CLASSES[-1].max_ha is None


def test_size_class_refuses_negative_area() -> None:
    with pytest.raises(ValueError):
        size_class(-0.5)


# --- groups ------------------------------------------------------------------------------


def test_split_by_shares() -> None:
    # 12 split 1 : 2 : 3 → 2, 4, 6
    assert split_by_shares(12.0, {"a": 1, "b": 2, "c": 3}) == {"a": 2.0, "b": 4.0, "c": 6.0}
    assert split_by_shares(12.0, {"a": 0, "b": 0}) == {}
    assert split_by_shares(12.0, {}) == {}
    with pytest.raises(ValueError):
        split_by_shares(12.0, {"a": 2, "b": -1})


def test_group_balances_with_unbekannt() -> None:
    # sales weights: logistik 6 ha, industrie 2 ha, without buyer group 2 ha → Σ 10
    # demand 50: logistik 30, industrie 10, unbekannt 10
    rows = group_balances({"industrie_produktion": 40.0, "logistik": 20.0, "dienstleistung": 5.0},
                          50.0, {"logistik": 6.0, "industrie_produktion": 2.0, "unbekannt": 2.0})
    assert [g.key for g in rows] == ["industrie_produktion", "logistik", "dienstleistung",
                                     "unbekannt"]
    by_key = {g.key: g for g in rows}
    assert by_key["logistik"].demand_share == 0.6
    assert by_key["logistik"].demand_net_ha == 30.0
    assert by_key["logistik"].balance_net_ha == -10.0  # 20 − 30
    assert by_key["industrie_produktion"].balance_net_ha == 30.0  # 40 − 10
    assert (by_key["dienstleistung"].demand_share, by_key["dienstleistung"].balance_net_ha) == (
        0.0, 5.0)  # no sales: no demand
    unknown = by_key["unbekannt"]
    assert (unknown.supply_net_ha, unknown.demand_net_ha, unknown.balance_net_ha) == (
        0.0, 10.0, -10.0)
    assert sum(g.demand_net_ha for g in rows) == pytest.approx(50.0)


def test_group_balances_without_weights() -> None:
    rows = group_balances({"logistik": 3.0}, 50.0, {"logistik": 0.0})
    assert [(g.key, g.demand_share, g.demand_net_ha, g.balance_net_ha) for g in rows] == [
        ("logistik", 0.0, 0.0, 3.0)]


# --- take-up -----------------------------------------------------------------------------


def test_take_up() -> None:
    # expected 10 × 4 = 40; sold 30 → 0.75
    t = take_up(30.0, 10.0, BASE, FOUR_YEARS_ON)
    assert (t.sold_net_ha, t.expected_net_ha, t.ratio) == (30.0, 40.0, 0.75)


def test_take_up_before_anything_is_expected() -> None:
    assert take_up(5.0, 10.0, BASE, BASE).ratio is None  # expected 0
    before = take_up(5.0, 10.0, BASE, date(2019, 1, 1))  # before base: max(0, …) = 0
    assert (before.expected_net_ha, before.ratio) == (0.0, None)


# --- demand scenarios --------------------------------------------------------------------


def test_trend_with_a_gap_year() -> None:
    # window 2015 … 2018 (4 years); 2016 without sales counts as 0; 2014 lies outside
    # (10 + 0 + 20 + 10) / 4 = 10 a year × 10 years = 100
    sales = {2014: 500.0, 2015: 10.0, 2017: 20.0, 2018: 10.0}
    assert trend_total_ha(sales, 2015, 2018, SMALL) == 100.0


def test_trend_of_study_table5() -> None:
    # 1080.2 ha in 2010 … 2019 → 108.02 a year × 19 = 2052.38
    sales = {2010 + i: 108.02 for i in range(10)}
    assert trend_total_ha(sales, 2010, 2019, STUDY) == pytest.approx(2052.38)


def test_trend_window_must_not_be_reversed() -> None:
    with pytest.raises(ValueError):
        trend_total_ha({2015: 1.0}, 2016, 2015, SMALL)


def test_gifpro_defaults() -> None:
    p = GifproParameters()
    assert (p.settlement_quota_pct, p.relocation_quota_pct, p.reuse_share,
            p.m2_per_employee) == (0.3, 0.7, 0.25, 225)
    # 10,000 × (0.3/100 + 0.7/100 × 0.75) = 10,000 × 0.00825 = 82.5 employees a year
    # × 225 m² = 18,562.5 m² = 1.85625 ha a year; × 19 years = 35.26875 ha
    assert gifpro_annual_ha(10_000, p) == pytest.approx(1.85625)
    assert gifpro_total_ha(10_000, p, STUDY) == pytest.approx(35.26875)


def test_gifpro_parameters_are_inputs() -> None:
    # full reuse: only the settlements count: 10,000 × 0.003 × 225 / 10,000 = 0.675
    assert gifpro_annual_ha(10_000, GifproParameters(reuse_share=1.0)) == pytest.approx(0.675)
    # 1 % settlement, no relocation, 100 m²: 10,000 × 0.01 × 100 / 10,000 = 1.0
    p = GifproParameters(settlement_quota_pct=1.0, relocation_quota_pct=0.0, m2_per_employee=100)
    assert gifpro_annual_ha(10_000, p) == pytest.approx(1.0)
    for bad in ({"reuse_share": 1.5}, {"m2_per_employee": 0}, {"settlement_quota_pct": -0.1}):
        with pytest.raises(ValueError):
            GifproParameters(**bad)  # type: ignore[arg-type]


def test_default_land_using_employees_from_table3() -> None:
    employees = default_land_using_employees(REFERENCE_FIGURES)
    assert len(employees) == 9
    assert employees["14713"] == 42476  # Leipzig, Stadt: producing sector, not 274,915
    assert employees["15002"] == 11355  # Halle (Saale)
    assert employees["16077"] == 10270  # Altenburger Land
    # 18673 + 42476 + 25456 + 23462 + 12647 + 20585 + 11355 + 21431 + 10270
    assert sum(employees.values()) == 186_355


def test_default_land_using_employees_reads_the_configured_file() -> None:
    assert default_land_using_employees() == default_land_using_employees(REFERENCE_FIGURES)


def test_table3_totals_exceed_the_producing_sector() -> None:
    table = json.loads(REFERENCE_FIGURES.read_text("utf-8"))["employment_table3"]
    rows = {k: v for k, v in table.items() if not k.startswith("_") and k != "columns"}
    assert table["columns"] == ["employees_total", "employees_producing_sector"]
    assert rows["burgenlandkreis"] == [57945, 18673]
    assert all(total > producing > 0 for total, producing in rows.values())


def test_land_using_employees_needs_every_district(tmp_path: Path) -> None:
    figures = {"districts": [{"key": "halle", "ags": "15002"}, {"key": "x", "ags": "99999"}],
               "employment_table3": {"halle": [98072, 11355]}}
    with pytest.raises(ValueError, match="'x'"):
        land_using_employees(figures)
    path = tmp_path / "figures.json"
    path.write_text(json.dumps({**figures, "districts": figures["districts"][:1]}), "utf-8")
    assert default_land_using_employees(path) == {"15002": 11355}
