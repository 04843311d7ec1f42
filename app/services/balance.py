"""The supply–demand balance per district and for the region, as of a day.

Sums come from :mod:`app.db.queries.balance` (three set-based queries, whatever the number
of districts); the arithmetic is :mod:`app.domain.balance`; this module assembles the
document. Every area is net hectares unless a name says gross.

The region's demand is every component of the framework; a district's demand is its share
of the located components (the SMEs' regular demand). Computed scenarios (``trend``,
``gifpro``) stand beside the framework's own scenarios and are derived per district.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Connection

from app.db.queries.balance import SupplyRow, View, district_names, sales_rows
from app.db.queries.frameworks import get_framework
from app.db.queries.snapshots import source_for_day
from app.db.queries.supply_cells import balance_supply
from app.domain import balance as b
from app.domain.clock import today
from app.domain.demand_scenarios import (
    GifproParameters,
    default_land_using_employees,
    gifpro_total_ha,
    trend_total_ha,
)
from app.domain.errors import InvalidInput
from app.domain.filters import ParcelFilter
from app.domain.framework import FRAMEWORK_GROSS_CONVENTION, Framework
from app.domain.roles import Viewer

SUPPLY_GROSS_CONVENTION = ("the parcels' gross areas (net = 75 % of gross for land not yet "
                           "serviced: factor 1.333, the study's supply rule)")
COMPUTED_SCENARIOS = ("trend", "gifpro")
SHORT_TERM = ("sofort", "kurzfristig")
REGION = "region"


@dataclass(frozen=True)
class BalanceOptions:
    """What the caller chose (see ``GET /api/v1/balance``)."""

    day: date
    framework_id: int | None = None
    #: scenario keys (framework scenarios, ``trend``, ``gifpro``); empty: all of them
    scenarios: tuple[str, ...] = ()
    #: ``market`` (without the potential categories) or ``all``
    supply_scope: str = "market"
    potential_categories: tuple[str, ...] = ()
    #: first and last year of the sales trend; ``None``: the ten full years before ``day``
    trend_years: tuple[int, int] | None = None
    gifpro: GifproParameters = field(default_factory=GifproParameters)
    #: years of sales (up to ``day``) whose buyer groups and sizes split the demand
    sales_window_years: int = 5


@dataclass(frozen=True)
class _Scenario:
    key: str
    label: str
    kind: str
    parameters: dict[str, Any]
    #: district AGS -> net ha over the period; REGION -> the region's
    totals: dict[str, float]


def _r(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def _sum(rows: Iterable[Any], value: Callable[[Any], float]) -> float:
    return float(sum(value(r) for r in rows))


def _by(rows: Iterable[Any], key: Callable[[Any], Any], value: Callable[[Any], float]
        ) -> dict[Any, float]:
    out: dict[Any, float] = defaultdict(float)
    for r in rows:
        out[key(r)] += value(r)
    return dict(out)


def _scenarios(fw: Framework, options: BalanceOptions, districts: list[str],
               sales: list[Any]) -> list[_Scenario]:
    period = fw.period
    known = (*fw.scenario_keys(), *COMPUTED_SCENARIOS)
    wanted = options.scenarios or known
    unknown = [k for k in wanted if k not in known]
    if unknown:
        raise InvalidInput.for_field(
            "scenario", f"unknown scenario {', '.join(unknown)}; known: {', '.join(known)}",
            "unknown_scenario")
    out: list[_Scenario] = []
    for s in fw.scenarios:
        if s.key in wanted:
            totals = {d: fw.demand_net_ha(s.key, d) for d in districts}
            totals[REGION] = fw.demand_net_ha(s.key)
            out.append(_Scenario(s.key, s.label, "framework", {}, totals))
    if "trend" in wanted:
        first, last = options.trend_years or (options.day.year - 10, options.day.year - 1)
        by_district_year = _by(sales, lambda r: (r.district_ags, r.year), lambda r: r.area_ha)
        totals = {d: trend_total_ha({y: ha for (dd, y), ha in by_district_year.items()
                                     if dd == d}, first, last, period) for d in districts}
        totals[REGION] = sum(totals.values())
        out.append(_Scenario("trend", f"Trend der Grundstücksverkäufe {first}–{last}", "trend",
                             {"first_year": first, "last_year": last}, totals))
    if "gifpro" in wanted:
        employees = default_land_using_employees()
        totals = {d: gifpro_total_ha(employees.get(d, 0), options.gifpro, period)
                  for d in districts}
        totals[REGION] = sum(totals.values())
        out.append(_Scenario("gifpro", "GIFPRO-Schätzung", "gifpro",
                             {**options.gifpro.__dict__,
                              "employees": {d: employees.get(d, 0) for d in districts}},
                             totals))
    return out


def _weights(sales: list[Any], area: str, key: Callable[[Any], str], day: date,
             window: int) -> tuple[dict[str, float], bool]:
    """Sales area by ``key`` in the window; a district without sales takes the region's."""
    recent = [r for r in sales if r.year > day.year - window]
    mine = [r for r in recent if area == REGION or r.district_ags == area]
    if mine:
        return _by(mine, key, lambda r: r.area_ha), False
    return _by(recent, key, lambda r: r.area_ha), area != REGION


def _supply(rows: list[SupplyRow], potential: tuple[str, ...]) -> dict[str, Any]:
    """The supply block of an area from its rows of the class view (every category)."""
    market = [r for r in rows if r.category not in potential]
    cells = _by(rows, lambda r: (r.availability, r.restriction_level), lambda r: r.net_ha)
    gross = _by(rows, lambda r: (r.availability, r.restriction_level), lambda r: r.gross_ha)
    return {
        "parcels": sum(r.parcels for r in rows),
        "net_ha": _r(_sum(rows, lambda r: r.net_ha)),
        "gross_ha": _r(_sum(rows, lambda r: r.gross_ha)),
        "gross_convention": SUPPLY_GROSS_CONVENTION,
        "market_net_ha": _r(_sum(market, lambda r: r.net_ha)),
        "potential_net_ha": _r(_sum(rows, lambda r: r.net_ha) - _sum(market, lambda r: r.net_ha)),
        "short_term_net_ha": _r(_sum([r for r in rows if r.availability in SHORT_TERM],
                                     lambda r: r.net_ha)),
        "by_availability": {k: _r(v) for k, v in sorted(
            _by(rows, lambda r: r.availability, lambda r: r.net_ha).items())},
        "by_restriction_level": {k: _r(v) for k, v in sorted(
            _by(rows, lambda r: r.restriction_level, lambda r: r.net_ha).items())},
        "by_availability_restriction": [
            {"availability": a, "restriction_level": lvl, "net_ha": _r(ha),
             "gross_ha": _r(gross[(a, lvl)])} for (a, lvl), ha in sorted(cells.items())],
    }


def _groups(items: list[b.GroupBalance]) -> list[dict[str, Any]]:
    return [{"key": g.key, "supply_net_ha": _r(g.supply_net_ha),
             "demand_share": _r(g.demand_share, 4), "demand_net_ha": _r(g.demand_net_ha),
             "balance_net_ha": _r(g.balance_net_ha)} for g in items]


def _area(fw: Framework, options: BalanceOptions, area: str, name: str,
          rows: list[SupplyRow], sales: list[Any], scenarios: list[_Scenario]
          ) -> dict[str, Any]:
    day, period = options.day, fw.period
    views: dict[View, list[SupplyRow]] = {v: [] for v in View}
    for r in rows:
        if options.supply_scope == "all" or r.category not in options.potential_categories:
            views[r.view].append(r)
    classes = views[View.CLASS]
    supply_ha = _sum(classes, lambda r: r.net_ha)
    short_term = _sum([r for r in classes if r.availability in SHORT_TERM], lambda r: r.net_ha)
    by_year = _by([r for r in views[View.YEAR] if r.available_year is not None],
                  lambda r: r.available_year, lambda r: r.net_ha)
    by_size = _by(views[View.SIZE], lambda r: r.size_class, lambda r: r.net_ha)
    by_group = _by(views[View.GROUP], lambda r: r.user_group, lambda r: r.net_ha)
    group_w, group_fallback = _weights(sales, area, lambda r: r.user_group, day,
                                       options.sales_window_years)
    size_w, size_fallback = _weights(sales, area, lambda r: r.size_class, day,
                                     options.sales_window_years)
    sold = _sum([r for r in sales if r.after_base and (area == REGION or r.district_ags == area)],
                lambda r: r.area_ha)
    out: dict[str, Any] = {}
    for s in scenarios:
        bal = b.balance(supply_ha, s.totals[area], period, fw.base_date, day)
        phased = b.phase(by_year, day, period, bal.annual_demand_net_ha,
                         bal.demand_remaining_net_ha)
        taken = b.take_up(sold, bal.annual_demand_net_ha, fw.base_date, day)
        out[s.key] = {
            "demand_total_net_ha": _r(bal.demand_total_net_ha),
            "demand_total_gross_ha": _r(fw.gross_ha(bal.demand_total_net_ha)),
            "demand_remaining_net_ha": _r(bal.demand_remaining_net_ha),
            "demand_remaining_gross_ha": _r(fw.gross_ha(bal.demand_remaining_net_ha)),
            "annual_demand_net_ha": _r(bal.annual_demand_net_ha),
            "balance_net_ha": _r(bal.balance_net_ha),
            "reach_years": _r(bal.reach_years, 2),
            "shortfall": bal.shortfall,
            "short_term_balance_net_ha": _r(short_term - bal.demand_remaining_net_ha),
            "short_term_shortfall": short_term < bal.demand_remaining_net_ha - b.TOLERANCE_HA,
            "first_shortfall_year": b.first_shortfall_year(phased),
            "phased": [{"year": p.year, "supply_cum_net_ha": _r(p.supply_cum_net_ha),
                        "demand_cum_net_ha": _r(p.demand_cum_net_ha),
                        "balance_net_ha": _r(p.balance_net_ha)} for p in phased],
            "by_user_group": _groups(b.group_balances(by_group, bal.demand_remaining_net_ha,
                                                      group_w)),
            "by_size_class": _groups(b.group_balances(
                {c.key: by_size.get(c.key, 0.0) for c in b.SIZE_CLASSES},
                bal.demand_remaining_net_ha, size_w)),
            "take_up": {"sold_net_ha": _r(taken.sold_net_ha),
                        "expected_net_ha": _r(taken.expected_net_ha),
                        "ratio": _r(taken.ratio, 3)},
        }
    return {"level": "region" if area == REGION else "district",
            "ags": None if area == REGION else area, "name": name,
            "supply": _supply([r for r in rows if r.view is View.CLASS],
                              options.potential_categories),
            "supply_scope_net_ha": _r(supply_ha),
            "shares_from_region": {"user_group": group_fallback, "size_class": size_fallback},
            "scenarios": out}


def compute_balance(conn: Connection, f: ParcelFilter, viewer: Viewer,
                    options: BalanceOptions) -> dict[str, Any]:
    """The balance document (see ``GET /api/v1/balance``)."""
    fw = get_framework(conn, options.framework_id)
    day = options.day
    source = source_for_day(conn, day, today())
    names = district_names(conn)
    districts = list(names)
    supply = balance_supply(conn, f, viewer=viewer, day=day, source=source)
    sales = sales_rows(conn, day, since=fw.base_date)
    scenarios = _scenarios(fw, options, districts, sales)
    areas = [_area(fw, options, REGION, "Region (alle Kreise)", supply, sales, scenarios)]
    by_district: dict[str, list[SupplyRow]] = defaultdict(list)
    for r in supply:
        by_district[r.district_ags].append(r)
    for d in districts:
        areas.append(_area(fw, options, d, names[d], by_district[d], sales, scenarios))
    region = areas[0]
    for s in scenarios:
        annual = region["scenarios"][s.key]["annual_demand_net_ha"]
        region["scenarios"][s.key]["annual_demand_net_ha_per_district"] = _r(
            annual / len(districts), 2) if districts else None
    return {
        "at": day.isoformat(),
        "framework": {
            "id": fw.id, "name": fw.name, "version": fw.version,
            "base_date": fw.base_date.isoformat(),
            "period": {"first_year": fw.period.first_year, "last_year": fw.period.last_year,
                       "years": fw.period.years},
            "gross_factor": fw.gross_factor, "gross_convention": FRAMEWORK_GROSS_CONVENTION,
            "withdrawn": fw.withdrawn_at is not None,
        },
        "supply_scope": options.supply_scope,
        "potential_categories": list(options.potential_categories),
        "filters": f.active(),
        "scenarios": [{"key": s.key, "label": s.label, "kind": s.kind,
                       "parameters": s.parameters} for s in scenarios],
        "areas": areas,
        "notes": _notes(options),
    }


def _notes(options: BalanceOptions) -> list[str]:
    return [
        "Alle Flächen in Hektar netto, sofern nicht brutto genannt.",
        "Bedarf der Kreise: ihr Anteil am verorteten KMU-Bedarf; Bedarf der Region: alle "
        "Komponenten (auch die nicht verorteten).",
        "Restbedarf: Gesamtbedarf abzüglich des seit dem Basisdatum verstrichenen Anteils "
        "(gleichmäßig über die Jahre des Zeitraums).",
        "Zeitliche Staffelung: verfügbar ab dem angegebenen Datum, sonst ab Einschätzung der "
        "Verfügbarkeit plus 0/2/5 Jahre (sofort/kurzfristig/mittelfristig); langfristig: "
        "Annahme 10 Jahre; unbekannt: nicht innerhalb des Zeitraums.",
        f"Aufteilung nach Nutzergruppen und Größenklassen: Verkäufe der letzten "
        f"{options.sales_window_years} Jahre; Verkäufe ohne erfasste Nutzergruppe zählen als "
        "'unbekannt'. Die Flächenangebote je Nutzergruppe überschneiden sich.",
    ]


def area_table(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The document flattened for CSV: one row per area and scenario."""
    rows = []
    for a in document["areas"]:
        for key, s in a["scenarios"].items():
            rows.append({
                "level": a["level"], "ags": a["ags"], "name": a["name"], "scenario": key,
                "supply_net_ha": a["supply_scope_net_ha"],
                "supply_gross_ha": a["supply"]["gross_ha"],
                "market_net_ha": a["supply"]["market_net_ha"],
                "potential_net_ha": a["supply"]["potential_net_ha"],
                "short_term_net_ha": a["supply"]["short_term_net_ha"],
                **{k: s[k] for k in (
                    "demand_total_net_ha", "demand_remaining_net_ha",
                    "demand_remaining_gross_ha", "annual_demand_net_ha", "balance_net_ha",
                    "reach_years", "first_shortfall_year")},
                "take_up_sold_net_ha": s["take_up"]["sold_net_ha"],
                "take_up_expected_net_ha": s["take_up"]["expected_net_ha"],
            })
    return rows


AREA_TABLE_COLUMNS = (
    "level", "ags", "name", "scenario", "supply_net_ha", "supply_gross_ha", "market_net_ha",
    "potential_net_ha", "short_term_net_ha", "demand_total_net_ha", "demand_remaining_net_ha",
    "demand_remaining_gross_ha", "annual_demand_net_ha", "balance_net_ha", "reach_years",
    "first_shortfall_year", "take_up_sold_net_ha", "take_up_expected_net_ha")
