"""Reading stored demand frameworks (Orientierungsrahmen) as domain objects.

Values of a :class:`~app.domain.framework.Framework` are net hectares over its whole
period. A framework is read with two queries whatever its size (the framework rows with
their scenarios, then every component with its values), and so is the list of all
frameworks. Withdrawn frameworks stay readable: reports that name them can be recomputed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, text

from app.domain.errors import NotFound
from app.domain.framework import Component, Framework, Period, Scenario

#: The framework rows, each with its scenarios (by sort order) as a JSON array.
_FRAMEWORKS = """
SELECT f.id, f.name, f.version, f.base_date, f.period_first_year, f.period_last_year,
       f.net_to_gross_factor, f.method, f.parameters, f.description, f.source, f.assumptions,
       f.is_default, f.withdrawn_at, f.created_at,
       coalesce((SELECT jsonb_agg(jsonb_build_object('key', s.key, 'label', s.label)
                                  ORDER BY s.sort_order, s.key)
                   FROM demand_scenarios s WHERE s.framework_id = f.id), '[]') AS scenarios
  FROM demand_frameworks f
 WHERE {where}
 ORDER BY f.created_at DESC, f.id DESC
"""

#: The components of some frameworks (by sort order), each with its values as a JSON array.
_COMPONENTS = text("""
SELECT c.framework_id, c.key, c.label, c.located, c.method,
       coalesce((SELECT jsonb_agg(jsonb_build_array(v.scenario_key, v.district_ags, v.net_ha)
                                  ORDER BY v.scenario_key, v.district_ags NULLS FIRST)
                   FROM demand_component_values v
                  WHERE v.framework_id = c.framework_id AND v.component_key = c.key),
                '[]') AS "values"
  FROM demand_components c
 WHERE c.framework_id = ANY(:ids)
 ORDER BY c.framework_id, c.sort_order, c.key
""")


@dataclass(frozen=True)
class FrameworkRecord:
    """A stored framework with what its document shows besides the domain object."""

    framework: Framework
    created_at: datetime
    #: component key -> how its values were derived (free text, may be ``None``)
    component_methods: Mapping[str, str | None]


def _component(row: Any, scenario_keys: tuple[str, ...]) -> Component:
    """A component row with its values: scenario → district AGS (``None``: regional) → net ha.

    Every scenario of the framework has an entry (empty if nothing is stored for it).
    """
    values: dict[str, dict[str | None, float]] = {key: {} for key in scenario_keys}
    for scenario, district, net_ha in row.values:
        values.setdefault(scenario, {})[district] = float(net_ha)
    return Component(key=row.key, label=row.label, located=bool(row.located), values=values)


def _framework(row: Any, components: list[Any]) -> Framework:
    scenarios = tuple(Scenario(s["key"], s["label"]) for s in row.scenarios)
    keys = tuple(s.key for s in scenarios)
    parameters: Mapping[str, object] = dict(row.parameters or {})
    return Framework(
        id=int(row.id), name=row.name, version=int(row.version), base_date=row.base_date,
        period=Period(int(row.period_first_year), int(row.period_last_year)),
        gross_factor=float(row.net_to_gross_factor), scenarios=scenarios,
        components=tuple(_component(c, keys) for c in components),
        is_default=bool(row.is_default), withdrawn_at=row.withdrawn_at,
        description=row.description, source=row.source, assumptions=row.assumptions,
        method=row.method, parameters=parameters)


def _load(conn: Connection, where: str, params: dict[str, Any]) -> list[FrameworkRecord]:
    """The frameworks matching ``where`` (SQL on ``f``, the service's own text), newest first."""
    rows = conn.execute(text(_FRAMEWORKS.format(where=where)), params).all()
    if not rows:
        return []
    by_framework: dict[int, list[Any]] = defaultdict(list)
    for c in conn.execute(_COMPONENTS, {"ids": [int(r.id) for r in rows]}):
        by_framework[int(c.framework_id)].append(c)
    return [FrameworkRecord(_framework(r, by_framework[int(r.id)]), r.created_at,
                            {c.key: c.method for c in by_framework[int(r.id)]})
            for r in rows]


def get_framework_record(conn: Connection, framework_id: int | None = None) -> FrameworkRecord:
    """:func:`get_framework` with the creation time and the components' methods."""
    if framework_id is None:
        found = _load(conn, "f.is_default", {})
        if not found:
            raise NotFound("no demand framework is the default: set one "
                           "(POST /api/v1/frameworks/{id}/default or 'gefis framework "
                           "set-default ID')")
    else:
        found = _load(conn, "f.id = :id", {"id": framework_id})
        if not found:
            raise NotFound(f"demand framework {framework_id} does not exist")
    return found[0]


def get_framework(conn: Connection, framework_id: int | None = None) -> Framework:
    """The framework ``framework_id`` (withdrawn ones too), or the default one if ``None``.

    Values are net ha over the whole period. Raises :class:`~app.domain.errors.NotFound`
    for an unknown id, or when no framework is the default. Two queries.
    """
    return get_framework_record(conn, framework_id).framework


def list_framework_records(conn: Connection, *,
                           include_withdrawn: bool = True) -> list[FrameworkRecord]:
    """:func:`list_frameworks` with creation times and the components' methods."""
    where = "true" if include_withdrawn else "f.withdrawn_at IS NULL"
    return _load(conn, where, {})


def list_frameworks(conn: Connection, *, include_withdrawn: bool = True) -> list[Framework]:
    """All stored frameworks (withdrawn ones unless excluded), newest first; two queries."""
    return [r.framework for r in list_framework_records(conn, include_withdrawn=include_withdrawn)]
