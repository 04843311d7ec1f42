"""Supply–demand balance (Flächenbilanz), pure arithmetic: no database, no I/O.

Units: areas are net hectares (net ha), durations are years of :data:`YEAR_DAYS` days.

Demand
    A framework's total demand (:class:`~app.domain.framework.Framework`) is spread evenly
    over its period: ``annual = total / period.years`` (study: 2,545 ha / 19 years = 134 ha
    a year). Demand accrues at that pace from the framework's base date (the survey state,
    2020-12-31, when the whole total is still ahead); the demand *remaining* on a day is the
    total less what has accrued since the base date, never below 0.

Balance
    ``balance = supply − remaining demand``; a negative balance is a deficit (shortfall).
    The *reach* is how many years the supply lasts at the annual pace (study: 1,475 ha of
    unrestricted land last 11.0 years at 134 ha a year).

Time phasing
    Land becomes available on a day derived from its availability class (or its own
    ``available_from``); :func:`phase` compares the cumulative supply with the cumulative
    demand year by year and :func:`first_shortfall_year` finds the first deficit.

Groups and sizes
    :func:`group_balances` splits a demand by weights (such as the user groups of recorded
    sales) and compares it with the supply per group; :data:`SIZE_CLASSES` bins parcels.

>>> p = Period(2020, 2038)
>>> round(annual_demand_ha(2545, p), 1)
133.9
>>> round(reach_years(1475, annual_demand_ha(2545, p)), 1)
11.0
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType

from app.domain.availability import LATEST_YEARS, add_years
from app.domain.framework import Period

#: Days of the year used to turn a span of days into years (the Julian year).
YEAR_DAYS = 365.25

#: Areas closer than this (net ha) count as equal when looking for a shortfall.
TOLERANCE_HA = 1e-9

#: Years after the assessment until land of an availability class counts as available.
#: ``sofort``, ``kurzfristig`` and ``mittelfristig`` take the upper bound of their class
#: (:data:`app.domain.availability.LATEST_YEARS`). ``langfristig`` means "more than
#: 5 years" and has no bound: 10 years is an ASSUMPTION of the phasing, not a figure of the
#: study. ``unbekannt`` (``None``) never becomes available within any horizon.
AVAILABLE_AFTER_YEARS: Mapping[str, int | None] = MappingProxyType(
    {**LATEST_YEARS, "langfristig": 10, "unbekannt": None}
)


def years_between(start: date, end: date) -> float:
    """Years from ``start`` to ``end`` (days / :data:`YEAR_DAYS`; negative if ``end`` is earlier).

    >>> years_between(date(2020, 12, 31), date(2024, 12, 31))  # 1461 days
    4.0
    >>> years_between(date(2024, 12, 31), date(2020, 12, 31))
    -4.0
    """
    return (end - start).days / YEAR_DAYS


def annual_demand_ha(total_net_ha: float, period: Period) -> float:
    """Demand per year, net ha: ``total_net_ha`` (net ha over the period) / ``period.years``.

    >>> round(annual_demand_ha(2840, Period(2020, 2038)), 1)
    149.5
    """
    return total_net_ha / period.years


def remaining_demand_ha(total_net_ha: float, period: Period, base_date: date, at: date) -> float:
    """Demand still ahead on ``at``, net ha.

    Demand accrues at the annual pace (:func:`annual_demand_ha`) from ``base_date``:
    ``total − annual × years_between(base_date, at)``, clamped to ``[0, total]``; on or
    before ``base_date`` the whole total remains. Because the study's base date is the end
    of the period's first year (2020-12-31 for 2020–2038), about one year's demand is still
    ahead on the period's last day; the remainder reaches 0 one period length after the
    base date.

    >>> p = Period(2021, 2030)  # 10 years, 100 ha: 10 ha a year
    >>> remaining_demand_ha(100, p, date(2020, 12, 31), date(2024, 12, 31))  # 4 years on
    60.0
    >>> remaining_demand_ha(100, p, date(2020, 12, 31), date(2019, 6, 30))
    100.0
    """
    accrued = annual_demand_ha(total_net_ha, period) * years_between(base_date, at)
    return float(min(total_net_ha, max(0.0, total_net_ha - accrued)))


def reach_years(supply_ha: float, annual_demand_ha: float) -> float | None:
    """Years ``supply_ha`` (net ha) lasts at ``annual_demand_ha`` (net ha a year).

    ``None`` when there is no annual demand (the supply never runs out).

    >>> round(reach_years(1475, 149), 1)
    9.9
    >>> reach_years(10, 0) is None
    True
    """
    if annual_demand_ha <= 0:
        return None
    return supply_ha / annual_demand_ha


@dataclass(frozen=True)
class Balance:
    """Supply against the remaining demand on one day; every area is net ha."""

    supply_net_ha: float
    demand_total_net_ha: float
    demand_remaining_net_ha: float
    annual_demand_net_ha: float
    #: supply − remaining demand; negative = deficit
    balance_net_ha: float
    #: years the supply lasts at the annual pace (``None``: no demand)
    reach_years: float | None
    #: the supply falls short of the remaining demand
    shortfall: bool


def balance(supply_net_ha: float, total_net_ha: float, period: Period, base_date: date,
            at: date) -> Balance:
    """Balance of ``supply_net_ha`` against a framework total on ``at`` (all net ha).

    >>> b = balance(50, 100, Period(2021, 2030), date(2020, 12, 31), date(2024, 12, 31))
    >>> b.demand_remaining_net_ha, b.balance_net_ha, b.reach_years, b.shortfall
    (60.0, -10.0, 5.0, True)
    """
    annual = annual_demand_ha(total_net_ha, period)
    remaining = remaining_demand_ha(total_net_ha, period, base_date, at)
    result = supply_net_ha - remaining
    return Balance(
        supply_net_ha=supply_net_ha,
        demand_total_net_ha=total_net_ha,
        demand_remaining_net_ha=remaining,
        annual_demand_net_ha=annual,
        balance_net_ha=result,
        reach_years=reach_years(supply_net_ha, annual),
        shortfall=result < -TOLERANCE_HA,
    )


# --- time phasing ------------------------------------------------------------------------


def available_on(availability: str, assessed_on: date, available_from: date | None) -> date | None:
    """Day on which land counts as available for the phasing.

    ``available_from`` when it is recorded (it beats the class, ``unbekannt`` included);
    otherwise ``assessed_on`` plus :data:`AVAILABLE_AFTER_YEARS` of the class; ``None`` for
    ``unbekannt`` without a date. ``ValueError`` for a code that is no availability class.

    >>> available_on("kurzfristig", date(2020, 12, 31), None)
    datetime.date(2022, 12, 31)
    >>> available_on("unbekannt", date(2020, 12, 31), None) is None
    True
    """
    if available_from is not None:
        return available_from
    if availability not in AVAILABLE_AFTER_YEARS:
        raise ValueError(f"unknown availability class: {availability!r}")
    years = AVAILABLE_AFTER_YEARS[availability]
    return None if years is None else add_years(assessed_on, years)


def supply_by_year(dated_supply: Iterable[tuple[date | None, float]]) -> dict[int, float]:
    """Net ha per calendar year of availability from ``(available_on, net_ha)`` pairs.

    Pairs without a day (``unbekannt``) are left out: they never become available.

    >>> supply_by_year([(date(2022, 3, 1), 2.0), (date(2022, 9, 1), 1.5), (None, 9.0)])
    {2022: 3.5}
    """
    result: dict[int, float] = {}
    for day, net_ha in dated_supply:
        if day is not None:
            result[day.year] = result.get(day.year, 0.0) + net_ha
    return result


@dataclass(frozen=True)
class PhaseYear:
    """One year of the phasing, cumulative up to its 31 December; net ha."""

    year: int
    supply_cum_net_ha: float
    demand_cum_net_ha: float
    #: supply_cum − demand_cum; negative = deficit in that year
    balance_net_ha: float


def phase(supply_by_year: Mapping[int, float], at: date, period: Period,
          annual_demand_net_ha: float, remaining_demand_net_ha: float) -> list[PhaseYear]:
    """Cumulative supply against cumulative demand, one row per year ``at.year`` … last year.

    ``supply_by_year`` maps the calendar year in which land becomes available to net ha;
    land of ``at.year`` or earlier counts in the first row, land after the period's last
    year in none. Demand accrues from ``at`` at ``annual_demand_net_ha`` and stops at
    ``remaining_demand_net_ha``: ``demand_cum(y) = min(remaining, annual × years from at
    to 31 Dec y)``. Empty when ``at`` lies after the period's last year.

    >>> rows = phase({2019: 5.0, 2023: 10.0}, date(2020, 12, 31), Period(2021, 2024), 5.0, 18.0)
    >>> for r in rows:
    ...     print(r.year, r.supply_cum_net_ha, round(r.demand_cum_net_ha, 3))
    2020 5.0 0.0
    2021 5.0 4.997
    2022 5.0 9.993
    2023 15.0 14.99
    2024 15.0 18.0
    >>> first_shortfall_year(rows)
    2022
    """
    rows: list[PhaseYear] = []
    supply_cum = sum(ha for y, ha in supply_by_year.items() if y <= at.year)
    for year in range(at.year, period.last_year + 1):
        if year > at.year:
            supply_cum += supply_by_year.get(year, 0.0)
        elapsed = max(0.0, years_between(at, date(year, 12, 31)))
        demand_cum = min(remaining_demand_net_ha, annual_demand_net_ha * elapsed)
        rows.append(PhaseYear(year, supply_cum, demand_cum, supply_cum - demand_cum))
    return rows


def first_shortfall_year(rows: Sequence[PhaseYear]) -> int | None:
    """First year whose cumulative supply is below its cumulative demand (beyond
    :data:`TOLERANCE_HA`); ``None`` when the supply keeps up throughout."""
    for row in rows:
        if row.supply_cum_net_ha < row.demand_cum_net_ha - TOLERANCE_HA:
            return row.year
    return None


# --- size classes ------------------------------------------------------------------------


@dataclass(frozen=True)
class SizeClass:
    """A parcel size class, net ha: ``min_ha`` included, ``max_ha`` excluded (``None``: open)."""

    key: str
    label: str
    min_ha: float
    max_ha: float | None

    def contains(self, net_ha: float) -> bool:
        return self.min_ha <= net_ha and (self.max_ha is None or net_ha < self.max_ha)


#: Size classes from small to large; together they cover every non-negative area.
SIZE_CLASSES: tuple[SizeClass, ...] = (
    SizeClass("lt_1", "< 1 ha", 0.0, 1.0),
    SizeClass("1_5", "1–5 ha", 1.0, 5.0),
    SizeClass("5_10", "5–10 ha", 5.0, 10.0),
    SizeClass("10_50", "10–50 ha", 10.0, 50.0),
    SizeClass("gt_50", "> 50 ha", 50.0, None),
)


def size_class(net_ha: float) -> str:
    """Key of the size class of ``net_ha`` (lower bound included); ``ValueError`` if negative.

    >>> size_class(0.999), size_class(1.0), size_class(50.0)
    ('lt_1', '1_5', 'gt_50')
    """
    for cls in SIZE_CLASSES:
        if cls.contains(net_ha):
            return cls.key
    raise ValueError(f"no size class for {net_ha!r} ha")


# --- groups ------------------------------------------------------------------------------


def split_by_shares(total: float, weights: Mapping[str, float]) -> dict[str, float]:
    """``total`` split in proportion to ``weights``; ``{}`` when there is no positive weight.

    ``ValueError`` for a negative weight.

    >>> split_by_shares(10.0, {"logistik": 3.0, "unbekannt": 1.0})
    {'logistik': 7.5, 'unbekannt': 2.5}
    """
    if any(w < 0 for w in weights.values()):
        raise ValueError("weights must not be negative")
    weight_sum = sum(weights.values())
    if weight_sum <= 0:
        return {}
    return {key: total * w / weight_sum for key, w in weights.items()}


@dataclass(frozen=True)
class GroupBalance:
    """Supply against a share of the demand for one group (user group, district …); net ha."""

    key: str
    supply_net_ha: float
    #: the group's share of the demand, 0..1
    demand_share: float
    demand_net_ha: float
    #: supply − demand; negative = deficit
    balance_net_ha: float


def group_balances(supply_by_key: Mapping[str, float], demand_net_ha: float,
                   weights: Mapping[str, float]) -> list[GroupBalance]:
    """Per group: its supply against ``demand_net_ha × weight / Σ weights`` (net ha).

    Groups are the keys of both mappings, in the order of ``supply_by_key`` followed by
    keys only ``weights`` has; a missing supply or weight is 0, and every share is 0 when
    the weights sum to 0. ``unbekannt`` is an ordinary key: the caller passes sales without
    a buyer group under it, so their demand is shown, not guessed onto a group.

    >>> [(g.key, g.demand_net_ha, g.balance_net_ha)
    ...  for g in group_balances({"logistik": 5.0}, 8.0, {"logistik": 1, "unbekannt": 1})]
    [('logistik', 4.0, 1.0), ('unbekannt', 4.0, -4.0)]
    """
    keys = list(supply_by_key) + [k for k in weights if k not in supply_by_key]
    if any(w < 0 for w in weights.values()):
        raise ValueError("weights must not be negative")
    weight_sum = sum(weights.values())
    result: list[GroupBalance] = []
    for key in keys:
        share = weights.get(key, 0.0) / weight_sum if weight_sum > 0 else 0.0
        supply = supply_by_key.get(key, 0.0)
        demand = demand_net_ha * share
        result.append(GroupBalance(key, supply, share, demand, supply - demand))
    return result


# --- take-up -----------------------------------------------------------------------------


@dataclass(frozen=True)
class TakeUp:
    """Recorded sales against the demand the framework expected so far; net ha."""

    sold_net_ha: float
    expected_net_ha: float
    #: sold / expected (``None``: nothing expected yet)
    ratio: float | None


def take_up(sold_net_ha: float, annual_demand_net_ha: float, base_date: date,
            at: date) -> TakeUp:
    """Sales since ``base_date`` against ``annual × years from base_date to at`` (net ha).

    >>> take_up(30.0, 10.0, date(2020, 12, 31), date(2024, 12, 31))  # 4 years expected: 40 ha
    TakeUp(sold_net_ha=30.0, expected_net_ha=40.0, ratio=0.75)
    """
    expected = annual_demand_net_ha * max(0.0, years_between(base_date, at))
    return TakeUp(sold_net_ha, expected, sold_net_ha / expected if expected else None)
