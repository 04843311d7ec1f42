"""What an admin sends to store a demand framework (Orientierungsrahmen) version.

The document has the shape of ``geodata/demo/demand_framework_2038.json``: name, optional
version, base date, period, net-to-gross factor, texts, scenarios and components with their
values per scenario (``total`` net ha; ``by_district`` net ha per district AGS for located
components). The model checks each field on its own; :func:`framework_problems` checks the
rules across fields (period, base date, keys, sums), naming each field as a dotted path
(``components.0.values.hoch.by_district``). Whether a district exists is the service's
check (it needs the database).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, StringConstraints, ValidationError

from app.domain.errors import FieldProblem, InvalidInput
from app.domain.input_types import INTEGER_MAX, DistrictAgs, IsoDate, Range, WriteModel

#: Pattern of scenario and component keys (as the database checks them).
KEY_PATTERN = r"^[a-z][a-z0-9_]*$"
#: How far the districts of a located component may miss its total (net ha).
SUM_TOLERANCE_HA = 0.01
#: Earliest and latest year of a framework's period (as the database checks them).
FIRST_YEAR, LAST_YEAR = 1990, 2100

Key = Annotated[str, StringConstraints(pattern=KEY_PATTERN, max_length=60)]
Label = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
#: Net hectares of a demand value (the whole region has about 440,000 ha).
NetHa = Annotated[float, Range(0, 100_000)]
Year = Annotated[int, Range(FIRST_YEAR, LAST_YEAR)]
LongText = Annotated[str, StringConstraints(max_length=20_000)]


class FrameworkScenarioInput(WriteModel):
    """A scenario, e.g. ``{"key": "hoch", "label": "oberes Szenario"}``."""

    key: Key = Field(description="Lower-case key, e.g. 'niedrig'")
    label: Label


class FrameworkValueInput(WriteModel):
    """A component's demand in one scenario: net ha in total and, if located, per district."""

    total: NetHa = Field(description="Net ha over the whole period")
    by_district: dict[DistrictAgs, NetHa] | None = Field(
        None, max_length=100,
        description="Located components only: net ha per district AGS, summing to total")


class FrameworkComponentInput(WriteModel):
    """A demand component with a value for every scenario of the framework."""

    key: Key = Field(description="Lower-case key, e.g. 'kmu_regular_demand'")
    label: Label
    located: bool = Field(description="Split to districts (true) or regional only (false)")
    method: LongText | None = Field(None, description="How the values were derived")
    values: dict[Key, FrameworkValueInput] = Field(
        max_length=20, description="Scenario key -> value (every scenario, no other)")


class FrameworkInput(WriteModel):
    """A new framework version (stored as a new row; nothing stored is ever changed)."""

    name: Label = Field(description="Name shared by all versions of this framework")
    version: Annotated[int, Range(1, INTEGER_MAX)] | None = Field(
        None, description="Version number; left out: the next one of this name")
    base_date: IsoDate = Field(description="Date the figures refer to (YYYY-MM-DD)")
    period_first_year: Year = Field(description="First year the demand covers (included)")
    period_last_year: Year = Field(description="Last year the demand covers (included)")
    net_to_gross_factor: Annotated[float, Range(1, 3)] = Field(
        description="Gross ha = net ha × this factor (study: 1.3)")
    description: LongText | None = None
    source: LongText | None = None
    assumptions: LongText | None = None
    scenarios: list[FrameworkScenarioInput] = Field(min_length=1, max_length=20)
    components: list[FrameworkComponentInput] = Field(min_length=1, max_length=50)


def _duplicates(keys: list[str]) -> list[int]:
    """Positions of keys that occurred before."""
    seen: set[str] = set()
    out = []
    for i, key in enumerate(keys):
        if key in seen:
            out.append(i)
        seen.add(key)
    return out


def _value_problems(path: str, located: bool, value: FrameworkValueInput) -> list[FieldProblem]:
    if not located:
        if value.by_district is not None:
            return [FieldProblem(f"{path}.by_district", "a regional component (located: "
                                 "false) has no by_district values", "regional")]
        return []
    if value.by_district is None:
        return [FieldProblem(f"{path}.by_district", "a located component needs net ha per "
                             "district (by_district)", "required")]
    total = sum(value.by_district.values())
    if abs(total - value.total) > SUM_TOLERANCE_HA:
        return [FieldProblem(f"{path}.by_district", f"the districts sum to {total:.2f} ha, "
                             f"not to the total {value.total:.2f} ha (±{SUM_TOLERANCE_HA} ha)",
                             "sum_mismatch")]
    return []


def framework_problems(data: FrameworkInput) -> list[FieldProblem]:
    """Every rule across fields that ``data`` breaks, each naming its field (dotted path).

    Period ordered; the base date's year within [first year − 1, last year]; the factor with
    two decimals at most; unique keys; every component valued in every scenario and no
    other; located components split to districts summing to their total (±0.01 ha),
    regional ones not split.
    """
    problems: list[FieldProblem] = []
    first, last = data.period_first_year, data.period_last_year
    if last < first:
        problems.append(FieldProblem("period_last_year", f"the period's last year ({last}) "
                                     f"precedes its first ({first})", "period_order"))
    elif not first - 1 <= data.base_date.year <= last:
        problems.append(FieldProblem(
            "base_date", f"the base date's year ({data.base_date.year}) must lie between "
            f"{first - 1} and {last} (the period's first year − 1 and its last year)",
            "base_date_period"))
    if round(data.net_to_gross_factor, 2) != data.net_to_gross_factor:
        problems.append(FieldProblem("net_to_gross_factor", "give the factor with at most two "
                                     "decimals (e.g. 1.3)", "precision"))
    scenario_keys = [s.key for s in data.scenarios]
    for i in _duplicates(scenario_keys):
        problems.append(FieldProblem(f"scenarios.{i}.key",
                                     f"scenario key '{scenario_keys[i]}' occurs twice", "unique"))
    component_keys = [c.key for c in data.components]
    for i in _duplicates(component_keys):
        problems.append(FieldProblem(f"components.{i}.key",
                                     f"component key '{component_keys[i]}' occurs twice",
                                     "unique"))
    known = set(scenario_keys)
    for i, component in enumerate(data.components):
        path = f"components.{i}.values"
        missing = [key for key in dict.fromkeys(scenario_keys) if key not in component.values]
        if missing:
            problems.append(FieldProblem(path, "no value for scenario(s) "
                                         + ", ".join(missing), "scenario_missing"))
        for key, value in component.values.items():
            if key not in known:
                problems.append(FieldProblem(f"{path}.{key}", f"'{key}' is not a scenario of "
                                             "this framework", "unknown_scenario"))
                continue
            problems.extend(_value_problems(f"{path}.{key}", component.located, value))
    return problems


def districts_named(data: FrameworkInput) -> dict[str, str]:
    """Each district AGS the document names -> the first field naming it."""
    named: dict[str, str] = {}
    for i, component in enumerate(data.components):
        for key, value in component.values.items():
            for ags in value.by_district or {}:
                named.setdefault(ags, f"components.{i}.values.{key}.by_district.{ags}")
    return named


def parse_framework_document(document: Any) -> FrameworkInput:
    """``document`` (parsed JSON) as a :class:`FrameworkInput`; else :class:`InvalidInput`
    naming each field refused (the same paths as the API's 422)."""
    try:
        return FrameworkInput.model_validate(document)
    except ValidationError as exc:
        problems = [FieldProblem(".".join(str(p) for p in err["loc"]) or None,
                                 str(err["msg"]).removeprefix("Value error, "), err["type"])
                    for err in exc.errors()]
        raise InvalidInput("the framework document does not match the expected schema",
                           problems=problems) from exc
