"""The quarterly monitoring report's figures (``scripts/quarterly_report.py``).

For a completed quarter: the snapshot of every parcel at its end (stored once, immutable),
the changes against the previous quarter, take-up in the quarter and the year to date
against the framework's pace, the balance and reach at the quarter's end and their trend
since the framework's base date, enquiries without a matching offer, and parcels overdue
for verification. Every figure is read from stored or rebuilt states, never from today's
tables, so a re-run for the same quarter gives the same document.

"Supply" is the balance's: parcels on the market (``verfuegbar``, ``reserviert``) of active
sites, net ha; the market scope leaves out the potential categories (setting
``GEFIS_POTENTIAL_CATEGORIES``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection

from app.db.queries.balance import district_names
from app.db.queries.changes import parcel_changes
from app.db.queries.frameworks import get_framework
from app.db.queries.keyset import cached_text
from app.db.queries.monitoring import enquiries_without_offer, sales_by_district
from app.db.queries.parcels import ParcelSource, parcel_sums
from app.db.queries.parcels.source import end_of_day
from app.db.queries.parcels.sums import STATE_DAY
from app.db.queries.snapshots import (
    StoredQuarter,
    source_for_day,
    stored_quarter,
    take_snapshot,
)
from app.domain import balance as b
from app.domain.clock import today
from app.domain.errors import InvalidInput
from app.domain.filters import MARKETED_STATUS, ParcelFilter
from app.domain.framework import Framework
from app.domain.quarters import Quarter, quarters_between
from app.domain.roles import STAFF
from app.services.balance import REGION, BalanceOptions, compute_balance

#: The supply the monitoring follows (as the balance and the summary by default).
SUPPLY = ParcelFilter(marketing_status=MARKETED_STATUS, active_sites_only=True)
SHORT_TERM = ("sofort", "kurzfristig")
ONE_DAY = timedelta(days=1)

Progress = Callable[[str], None]


@dataclass(frozen=True)
class QuarterlyOptions:
    """What the operator chose."""

    quarter: Quarter
    potential_categories: tuple[str, ...]
    freshness_days: int
    framework_id: int | None = None
    actor: str = "quarterly-report"


def check_completed(quarter: Quarter, day: date) -> None:
    """Only a quarter that has ended can be reported (its state is final)."""
    if quarter.last_day >= day:
        raise InvalidInput.for_field(
            "quarter", f"{quarter.label} has not ended yet (last day "
            f"{quarter.last_day.isoformat()}); the last completed quarter is "
            f"{Quarter.last_completed(day).label}", "quarter_not_completed")


def store_snapshot(conn: Connection, options: QuarterlyOptions) -> tuple[StoredQuarter, bool]:
    """Store the quarter's snapshot unless stored (caller commits); see
    :func:`~app.db.queries.snapshots.take_snapshot`."""
    check_completed(options.quarter, today())
    return take_snapshot(conn, options.quarter.last_day, actor=options.actor)


def _r(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def _take_up(conn: Connection, q: Quarter, fw: Framework, names: dict[str, str],
             annual: dict[str, dict[str, float]]) -> dict[str, Any]:
    """Sales in the quarter and the year to date against the framework's pace."""
    state_at = end_of_day(q.last_day)
    spans = {"quarter": (q.first_day, q.last_day),
             "year_to_date": (date(q.year, 1, 1), q.last_day)}
    out: dict[str, Any] = {}
    for key, (first, last) in spans.items():
        sales = sales_by_district(conn, first, last, state_at=state_at)
        # the framework's pace runs from its base date: no expectation before it
        years = max(0.0, b.years_between(max(first - ONE_DAY, fw.base_date), last))
        rows = []
        for area in (REGION, *names):
            if area == REGION:
                count, sold = sum(c for c, _ in sales.values()), sum(h for _, h in sales.values())
            else:
                count, sold = sales.get(area, (0, 0.0))
            expected = {s: _r(pace * years) for s, pace in annual[area].items()}
            rows.append({"ags": None if area == REGION else area,
                         "name": "Region" if area == REGION else names[area],
                         "sales": count, "sold_ha": _r(sold), "expected_net_ha": expected,
                         "ratio": {s: _r(sold / e, 3) if e else None
                                   for s, e in expected.items()}})
        out[key] = {"first_day": first.isoformat(), "last_day": last.isoformat(),
                    "areas": rows}
    return out


def _trend(conn: Connection, q: Quarter, fw: Framework, names: dict[str, str],
           potential: tuple[str, ...]) -> list[dict[str, Any]]:
    """Market supply, balance and reach at the end of every quarter since the base date,
    region and districts, rebuilt from the history in one pass."""
    quarters = quarters_between(Quarter.containing(fw.base_date), q)
    days = [x.last_day for x in quarters]
    rows = parcel_sums(conn, SUPPLY, (STATE_DAY, "district_ags", "category", "availability"),
                       viewer=STAFF, reference=q.last_day, source=ParcelSource.at_days(days))
    supply: dict[tuple[date, str], float] = defaultdict(float)
    short: dict[tuple[date, str], float] = defaultdict(float)
    for r in rows:
        if r["category"] in potential:
            continue
        for area in (REGION, r["district_ags"]):
            supply[(r[STATE_DAY], area)] += r["net_ha"]
            if r["availability"] in SHORT_TERM:
                short[(r[STATE_DAY], area)] += r["net_ha"]
    out = []
    for quarter, day in zip(quarters, days, strict=True):
        areas = []
        for area in (REGION, *names):
            district = None if area == REGION else area
            scenarios = {}
            for key in fw.scenario_keys():
                bal = b.balance(supply[(day, area)], fw.demand_net_ha(key, district),
                                fw.period, fw.base_date, day)
                scenarios[key] = {"balance_net_ha": _r(bal.balance_net_ha),
                                  "reach_years": _r(bal.reach_years, 2)}
            areas.append({"ags": district, "supply_net_ha": _r(supply[(day, area)]),
                          "short_term_net_ha": _r(short[(day, area)]),
                          "scenarios": scenarios})
        out.append({"quarter": quarter.label, "quarter_end": day.isoformat(), "areas": areas})
    return out


def _overdue(conn: Connection, source: ParcelSource, q: Quarter, days: int
             ) -> dict[str, dict[str, int]]:
    """Per district: parcels on the market and those not verified for ``days`` days at the
    quarter's end (never verified included)."""
    by = ("district_ags",)
    active = parcel_sums(conn, SUPPLY, by, viewer=STAFF, reference=q.last_day, source=source)
    late = SUPPLY.model_copy(update={
        "verified_before": end_of_day(q.last_day) - timedelta(days=days)})
    overdue = parcel_sums(conn, late, by, viewer=STAFF, reference=q.last_day, source=source)
    counts = {r["district_ags"]: {"active": r["parcels"], "overdue": 0} for r in active}
    for r in overdue:
        counts[r["district_ags"]]["overdue"] = r["parcels"]
    return counts


def quarterly_document(conn: Connection, options: QuarterlyOptions,
                       progress: Progress = lambda _: None) -> dict[str, Any]:
    """The report's figures for ``options.quarter`` (its snapshot must be stored)."""
    q = options.quarter
    check_completed(q, today())
    this = source_for_day(conn, q.last_day, today())
    if this.kind != "snapshot":
        raise InvalidInput.for_field("quarter", f"no snapshot of {q.label} is stored",
                                     "snapshot_missing")
    previous = source_for_day(conn, q.previous.last_day, today())
    fw = get_framework(conn, options.framework_id)
    names = district_names(conn)
    progress("Veränderungen zum Vorquartal")
    changes = parcel_changes(conn, SUPPLY, viewer=STAFF, before=previous, after=this,
                             reference=q.last_day)
    progress("Bilanz und Reichweite")
    balance = compute_balance(conn, SUPPLY, STAFF, BalanceOptions(
        day=q.last_day, framework_id=fw.id, scenarios=fw.scenario_keys(),
        potential_categories=options.potential_categories))
    annual = {(REGION if a["level"] == "region" else a["ags"]): {
        k: s["annual_demand_net_ha"] for k, s in a["scenarios"].items()}
        for a in balance["areas"]}
    progress("Flächenumsatz")
    take_up = _take_up(conn, q, fw, names, annual)
    progress("Zeitreihe seit dem Basisdatum")
    trend = _trend(conn, q, fw, names, options.potential_categories)
    progress("Anfragen und Prüfrückstand")
    unmet = enquiries_without_offer(conn, q.first_day, q.last_day, supply=SUPPLY, source=this,
                                    state_at=end_of_day(q.last_day))
    overdue = _overdue(conn, this, q, options.freshness_days)
    stored = stored_quarter(conn, q.last_day)
    assert stored is not None
    return {
        "quarter": q.label,
        "title": f"Monitoringbericht Gewerbeflächen, {q.label_de}",
        "first_day": q.first_day.isoformat(),
        "quarter_end": q.last_day.isoformat(),
        "previous_quarter": q.previous.label,
        "previous_quarter_end": q.previous.last_day.isoformat(),
        "snapshot": {"state_at": stored.state_at.isoformat(), "parcels": stored.parcels,
                     "taken_at": stored.taken_at.isoformat(),
                     "previous_from": "snapshot" if previous.kind == "snapshot"
                     else "history"},
        "synthetic": _synthetic(conn, q.last_day),
        "framework": balance["framework"],
        "scenarios": balance["scenarios"],
        "potential_categories": list(options.potential_categories),
        "changes": {"districts": changes.districts, "total": changes.total,
                    "parcels": changes.parcels},
        "balance": [{k: v for k, v in a.items() if k != "shares_from_region"}
                    for a in balance["areas"]],
        "take_up": take_up,
        "trend": trend,
        "enquiries_without_offer": unmet,
        "freshness_days": options.freshness_days,
        "overdue_verification": [
            {"ags": ags, "name": name, **overdue.get(ags, {"active": 0, "overdue": 0})}
            for ags, name in names.items()],
        "notes": NOTES,
    }


def _synthetic(conn: Connection, quarter_end: date) -> bool:
    """Whether the quarter's snapshot holds synthetic (demo) parcels."""
    return bool(conn.execute(cached_text(
        "SELECT coalesce(bool_or(CAST(state ->> 'is_synthetic' AS boolean)), false) "
        "FROM monitoring_snapshots WHERE quarter_end = :q"), {"q": quarter_end}).scalar_one())


NOTES = [
    "Angebot: Flächen in Vermarktung (verfügbar oder reserviert) aktiver Standorte, Hektar "
    "netto; die Bilanz zählt Potenzialkategorien nicht mit.",
    "Stand der Flächen: die am Quartalsende gespeicherte Momentaufnahme (unveränderlich); "
    "das Vorquartal aus seiner Momentaufnahme oder, wenn keine gespeichert ist, aus der "
    "Änderungshistorie.",
    "Flächenumsatz: beurkundete Grundstücksverkäufe nach Verkaufsdatum, verglichen mit dem "
    "jährlichen Bedarf des Orientierungsrahmens (anteilig für den Zeitraum).",
    "Anfragen ohne Angebot: im Quartal eingegangene Anfragen, für die am Quartalsende keine "
    "Fläche der gewünschten Nutzergruppe mit mindestens der gewünschten Nettofläche (im "
    "gewünschten Kreis) angeboten war.",
    "Prüfrückstand: Flächen in Vermarktung, deren letzte Prüfung am Quartalsende länger als "
    "die eingestellte Frist zurücklag oder die nie geprüft wurden.",
]
