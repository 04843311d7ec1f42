"""A demand framework (Orientierungsrahmen) as the balance reads it: period, scenarios, parts.

Values are net hectares. A framework's demand is spread evenly over the years of its
period (``first_year`` through ``last_year``, both included): the study's 2038 framework
covers 2020 through 2038, 19 years, so 2,545 ha are 134 ha a year. Located components
(the SMEs' regular demand) are split to districts; the others (large settlements, the
coal-exit compensation, the Joker) are regional only. A district's demand is therefore its
located components, the region's demand all components.

Gross figures: the framework converts net to gross with its own factor (the study prints
gross 3,300–3,690 ha with "Faktor 1,3"); supply converts with the net area rule (net = 75 %
of gross, factor 1.333). :data:`FRAMEWORK_GROSS_CONVENTION` names the first.

>>> p = Period(2020, 2038)
>>> p.years
19
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

#: How a framework's gross figures are derived (said beside every gross demand figure).
FRAMEWORK_GROSS_CONVENTION = "net × the framework's own factor (study: Faktor 1,3)"


@dataclass(frozen=True)
class Period:
    """The calendar years a framework's demand covers, first and last included."""

    first_year: int
    last_year: int

    def __post_init__(self) -> None:
        if self.last_year < self.first_year:
            raise ValueError("a period's last year precedes its first")

    @property
    def years(self) -> int:
        """Number of years (2020 through 2038: 19)."""
        return self.last_year - self.first_year + 1

    @property
    def end(self) -> date:
        """The period's last day (31 December of the last year)."""
        return date(self.last_year, 12, 31)


@dataclass(frozen=True)
class Component:
    """A demand component: net ha per scenario, per district (located) or regional (``None``)."""

    key: str
    label: str
    located: bool
    #: scenario key -> district AGS (``None`` for a regional value) -> net ha
    values: Mapping[str, Mapping[str | None, float]]

    def net_ha(self, scenario: str, district: str | None = None) -> float:
        """Net ha in ``scenario``: of ``district`` (0 for a regional component), or in total.

        >>> c = Component("kmu", "KMU", True, {"hoch": {"14713": 2.0, "15002": 1.5}})
        >>> c.net_ha("hoch"), c.net_ha("hoch", "15002"), c.net_ha("hoch", "16077")
        (3.5, 1.5, 0.0)
        """
        by_district = self.values.get(scenario, {})
        if district is None:
            return float(sum(by_district.values()))
        return float(by_district.get(district, 0.0)) if self.located else 0.0


@dataclass(frozen=True)
class Scenario:
    key: str
    label: str


@dataclass(frozen=True)
class Framework:
    """A stored framework version (immutable once stored)."""

    id: int
    name: str
    version: int
    base_date: date
    period: Period
    gross_factor: float
    scenarios: tuple[Scenario, ...]
    components: tuple[Component, ...]
    is_default: bool = False
    withdrawn_at: datetime | None = None
    description: str | None = None
    source: str | None = None
    assumptions: str | None = None
    method: str = "vorgabe"
    parameters: Mapping[str, object] = field(default_factory=dict)

    def scenario_keys(self) -> tuple[str, ...]:
        return tuple(s.key for s in self.scenarios)

    def demand_net_ha(self, scenario: str, district: str | None = None) -> float:
        """Net ha over the whole period: the region's (every component) or a district's
        (its share of the located components)."""
        return sum(c.net_ha(scenario, district) for c in self.components)

    def gross_ha(self, net_ha: float) -> float:
        """Gross ha by the framework's own factor (:data:`FRAMEWORK_GROSS_CONVENTION`)."""
        return net_ha * self.gross_factor
