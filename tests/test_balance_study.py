"""The balance reproduces the study at its survey date (``at=2020-12-31``, every surveyed
area: ``supply=all``), on the demo data calibrated to the study's tables.

Expected figures come from ``geodata/study/reference_figures.json`` (the study's roundings).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from app.db.queries.parcels import LIVE
from app.domain.clock import today as clock_today
from tests.resource_client import Client

FIGURES = json.loads((Path(__file__).resolve().parents[1] / "geodata" / "study"
                      / "reference_figures.json").read_text(encoding="utf-8"))
FRAMEWORK = FIGURES["orientation_framework_2038"]
FINDINGS = FIGURES["balance_findings"]
RESTRICTION = FIGURES["supply_by_restriction_ha"]
SURVEY = "2020-12-31"
SCENARIOS = ("niedrig", "hoch")


def _areas(client: Client, **params: Any) -> dict[str, dict[str, Any]]:
    response = client.get("/balance", at=SURVEY, supply="all", scenario="niedrig,hoch",
                          **params)
    assert response.status_code == 200, response.text
    return {a["ags"] or "region": a for a in response.json()["areas"]}


@pytest.fixture(scope="module")
def survey(app_client: Any) -> dict[str, dict[str, Any]]:
    return _areas(Client(app_client))


def test_demand_of_the_framework(survey: dict[str, dict[str, Any]]) -> None:
    region = survey["region"]["scenarios"]
    assert [region[s]["demand_total_net_ha"] for s in SCENARIOS] == FRAMEWORK["total_net_ha"]
    # at the survey date the whole framework lies ahead
    assert [region[s]["demand_remaining_net_ha"] for s in SCENARIOS] == FRAMEWORK["total_net_ha"]
    # 2,545 / 19 = 133.9 and 2,840 / 19 = 149.5: "134–149 ha a year"
    assert [round(region[s]["annual_demand_net_ha"]) for s in SCENARIOS] == \
        FRAMEWORK["per_year_net_ha"]
    # per district and year (÷ 9 districts): 14.9–16.6, printed as 15.0–16.5 by the study
    assert [round(region[s]["annual_demand_net_ha_per_district"], 1) for s in SCENARIOS] == [
        14.9, 16.6]
    # gross with the framework's "Faktor 1,3": 3,308.5 and 3,692 ha, printed 3,300–3,690
    for s, printed in zip(SCENARIOS, FRAMEWORK["total_gross_ha"], strict=True):
        assert region[s]["demand_total_gross_ha"] == pytest.approx(printed, abs=10)


def test_supply_available_within_two_years(survey: dict[str, dict[str, Any]]) -> None:
    supply = survey["region"]["supply"]
    assert round(supply["by_availability"]["sofort"] + supply["by_availability"]["kurzfristig"]) \
        == FINDINGS["sofort_plus_kurzfristig_ha"]
    assert round(supply["short_term_net_ha"]) == FINDINGS["sofort_plus_kurzfristig_ha"]


def test_no_arithmetic_shortage_for_the_region(survey: dict[str, dict[str, Any]]) -> None:
    assert FINDINGS["no_regional_shortage_arithmetically"]
    for s in SCENARIOS:
        scenario = survey["region"]["scenarios"][s]
        assert scenario["balance_net_ha"] > 0 and not scenario["shortfall"], s


def test_unrestricted_supply_and_its_reach(clients: dict[str, Client]) -> None:
    region = _areas(clients["public"], restriction_level="keine")["region"]
    assert round(region["supply_scope_net_ha"]) == FINDINGS["unrestricted_supply_ha"] == \
        RESTRICTION["keine"]
    # 1,475 / 133.9 = 11.0 and 1,475 / 149.5 = 9.9: the study's "10–11 years"
    reach = [round(region["scenarios"][s]["reach_years"], 1) for s in SCENARIOS]
    assert reach == [11.0, 9.9]
    low, high = FINDINGS["unrestricted_supply_reach_years"]
    assert all(low - 0.5 <= r <= high + 0.5 for r in reach)


def test_unrestricted_and_short_term(clients: dict[str, Client]) -> None:
    region = _areas(clients["public"], restriction_level="keine",
                    availability="sofort,kurzfristig")["region"]
    assert round(region["supply_scope_net_ha"]) == \
        RESTRICTION["unrestricted_by_availability"]["sofort_oder_kurzfristig"]


def test_halle_and_leipzig_short_of_land_within_two_years(
        survey: dict[str, dict[str, Any]]) -> None:
    for ags in ("15002", "14713"):  # Halle (Saale), Leipzig: SME demand to 2038
        for s in SCENARIOS:
            scenario = survey[ags]["scenarios"][s]
            assert scenario["short_term_shortfall"], (ags, s)
            assert survey[ags]["supply"]["short_term_net_ha"] < scenario["demand_total_net_ha"]


def test_the_balance_supply_is_the_supply_the_history_explains(
        clients: dict[str, Client], conn: Any) -> None:
    """The balance counts exactly the supply whose change since the survey
    ``tests/test_demo_timeline.py`` explains from the history, on both days."""
    from tests.test_demo_timeline import AT_SURVEY, _by_district

    for at, source in ((SURVEY, AT_SURVEY), (None, LIVE)):
        params = {"at": at} if at else {"at": clock_today().isoformat()}
        response = clients["analyst"].get("/balance", supply="all", scenario="niedrig",
                                          **params)
        areas = {a["ags"]: a for a in response.json()["areas"] if a["ags"]}
        expected = _by_district(conn, source)
        assert {k: a["supply_scope_net_ha"] for k, a in areas.items() if expected.get(k)} == \
            pytest.approx(expected, abs=1e-3), at
