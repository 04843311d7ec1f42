"""Versioned demand frameworks: store a new version, withdraw one, choose the default.

A stored framework never changes (migration 0011: the database refuses it); a new version is
a new row. Only ``is_default`` and ``withdrawn_at`` move. Every function runs inside the
caller's transaction (``write_transaction``); the documents of the API and the CLI are built
here too, so both show the same figures.

Figures are net ha over the framework's whole period unless named otherwise: ``annual_*``
is the total spread evenly over the period's years, ``*_gross_ha`` uses the framework's own
factor (:data:`~app.domain.framework.FRAMEWORK_GROSS_CONVENTION`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from app.db.queries.frameworks import FrameworkRecord
from app.domain.errors import Conflict, FieldProblem, InvalidInput, NotFound
from app.domain.framework import FRAMEWORK_GROSS_CONVENTION, Framework
from app.domain.framework_input import FrameworkInput, districts_named, framework_problems

#: Decimals of the hectare figures in documents (0.01 ha = 100 m²).
HA_DECIMALS = 2

IMMUTABLE_DETAIL = ("a stored demand framework is immutable: store a new version instead "
                    "(only the default and the withdrawal may change)")

#: Serialises choosing the default (transaction-level advisory lock).
_DEFAULT_LOCK = text("SELECT pg_advisory_xact_lock(hashtext('gefis:framework-default'))")
#: Serialises numbering the versions of one name.
_NAME_LOCK = text("SELECT pg_advisory_xact_lock(hashtext('gefis:framework:' || :name))")

_INSERT_FRAMEWORK = text("""
INSERT INTO demand_frameworks (name, version, base_date, period_first_year, period_last_year,
                               net_to_gross_factor, method, description, source, assumptions)
VALUES (:name, :version, :base_date, :period_first_year, :period_last_year,
        :net_to_gross_factor, 'vorgabe', :description, :source, :assumptions)
RETURNING id
""")
_INSERT_SCENARIOS = text("""
INSERT INTO demand_scenarios (framework_id, key, label, sort_order)
SELECT :fid, r.key, r.label, r.sort_order
  FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(key text, label text, sort_order int)
""")
_INSERT_COMPONENTS = text("""
INSERT INTO demand_components (framework_id, key, label, located, method, sort_order)
SELECT :fid, r.key, r.label, r.located, r.method, r.sort_order
  FROM jsonb_to_recordset(CAST(:rows AS jsonb))
       AS r(key text, label text, located boolean, method text, sort_order int)
""")
_INSERT_VALUES = text("""
INSERT INTO demand_component_values (framework_id, component_key, scenario_key, district_ags,
                                     net_ha)
SELECT :fid, r.component_key, r.scenario_key, r.district_ags, r.net_ha
  FROM jsonb_to_recordset(CAST(:rows AS jsonb))
       AS r(component_key text, scenario_key text, district_ags text, net_ha float8)
""")


@contextmanager
def immutable_as_conflict() -> Iterator[None]:
    """Report the database's refusal to change a stored framework as a 409 (not a 422)."""
    try:
        yield
    except DBAPIError as exc:
        constraint = getattr(getattr(exc.orig, "diag", None), "constraint_name", None) or ""
        if constraint.endswith("__immutable"):
            raise Conflict(IMMUTABLE_DETAIL, problems=[
                FieldProblem(None, IMMUTABLE_DETAIL, constraint)]) from exc
        raise


def _unknown_districts(conn: Connection, data: FrameworkInput) -> list[FieldProblem]:
    named = districts_named(data)
    if not named:
        return []
    known = set(conn.execute(text("SELECT ags FROM districts WHERE ags = ANY(:ags)"),
                             {"ags": list(named)}).scalars())
    return [FieldProblem(field, f"district {ags} does not exist", "unknown_reference")
            for ags, field in named.items() if ags not in known]


def _value_rows(data: FrameworkInput) -> list[dict[str, Any]]:
    """One row per stored value: per district for located components, else regional."""
    rows = []
    for c in data.components:
        for scenario, value in c.values.items():
            split = value.by_district if c.located else {None: value.total}
            rows.extend({"component_key": c.key, "scenario_key": scenario,
                         "district_ags": ags, "net_ha": net_ha}
                        for ags, net_ha in (split or {}).items())
    return rows


def create_framework(conn: Connection, data: FrameworkInput) -> int:
    """Store ``data`` as a new framework (not the default); returns its id.

    Version: the one given, else the highest of this name + 1 (1 for a new name). A
    (name, version) that exists is a 409; a rule across fields or an unknown district a 422
    naming the field. Values are net ha.
    """
    problems = framework_problems(data) + _unknown_districts(conn, data)
    if problems:
        raise InvalidInput("the framework document is inconsistent", problems=problems)
    conn.execute(_NAME_LOCK, {"name": data.name})
    version = data.version
    if version is None:
        version = conn.execute(text(
            "SELECT coalesce(max(version), 0) + 1 FROM demand_frameworks WHERE name = :name"),
            {"name": data.name}).scalar_one()
    else:
        existing = conn.execute(text(
            "SELECT id FROM demand_frameworks WHERE name = :name AND version = :version"),
            {"name": data.name, "version": version}).scalar_one_or_none()
        if existing is not None:
            raise Conflict.for_field(
                "version", f"version {version} of '{data.name}' exists already (framework "
                f"{existing}); leave version out to store the next one", "exists")
    with immutable_as_conflict():
        fid = int(conn.execute(_INSERT_FRAMEWORK, {
            **data.model_dump(include={"name", "base_date", "period_first_year",
                                       "period_last_year", "net_to_gross_factor",
                                       "description", "source", "assumptions"}),
            "version": version}).scalar_one())
        scenarios = [{"key": s.key, "label": s.label, "sort_order": i}
                     for i, s in enumerate(data.scenarios)]
        components = [{"key": c.key, "label": c.label, "located": c.located,
                       "method": c.method, "sort_order": i}
                      for i, c in enumerate(data.components)]
        for statement, rows in ((_INSERT_SCENARIOS, scenarios),
                                (_INSERT_COMPONENTS, components),
                                (_INSERT_VALUES, _value_rows(data))):
            conn.execute(statement, {"fid": fid, "rows": json.dumps(rows)})
    return fid


def _lock(conn: Connection, framework_id: int) -> Any:
    row = conn.execute(text(
        "SELECT id, name, version, is_default, withdrawn_at FROM demand_frameworks "
        "WHERE id = :id FOR UPDATE"), {"id": framework_id}).one_or_none()
    if row is None:
        raise NotFound(f"demand framework {framework_id} does not exist")
    return row


def withdraw_framework(conn: Connection, framework_id: int) -> None:
    """Withdraw a framework (``withdrawn_at``; the first time is kept). It stays readable.

    The default framework cannot be withdrawn (409): make another one the default first.
    """
    conn.execute(_DEFAULT_LOCK)
    row = _lock(conn, framework_id)
    if row.is_default:
        raise Conflict(f"demand framework {framework_id} is the default and cannot be "
                       "withdrawn: make another framework the default first")
    with immutable_as_conflict():
        conn.execute(text("UPDATE demand_frameworks SET withdrawn_at = coalesce(withdrawn_at, "
                          "now()) WHERE id = :id"), {"id": framework_id})


def set_default_framework(conn: Connection, framework_id: int) -> None:
    """Make a framework the default (the one the balance reads); the old one stops being it.

    A withdrawn framework cannot become the default (409). Concurrent calls are serialised.
    """
    conn.execute(_DEFAULT_LOCK)
    row = _lock(conn, framework_id)
    if row.withdrawn_at is not None:
        raise Conflict(f"demand framework {framework_id} is withdrawn and cannot become "
                       "the default")
    if row.is_default:
        return
    with immutable_as_conflict():
        conn.execute(text("UPDATE demand_frameworks SET is_default = false WHERE is_default"))
        conn.execute(text("UPDATE demand_frameworks SET is_default = true WHERE id = :id"),
                     {"id": framework_id})


def _ha(value: float) -> float:
    return round(value, HA_DECIMALS)


def scenario_figures(framework: Framework) -> list[dict[str, Any]]:
    """Per scenario: net ha in total, located and regional, per year, and gross.

    >>> from datetime import date
    >>> from app.domain.framework import Component, Period, Scenario
    >>> f = Framework(1, "x", 1, date(2020, 12, 31), Period(2020, 2038), 1.3,
    ...               (Scenario("hoch", "oberes"),),
    ...               (Component("joker", "Joker", False, {"hoch": {None: 2840.0}}),))
    >>> s = scenario_figures(f)[0]
    >>> s["total_net_ha"], s["annual_net_ha"], s["total_gross_ha"], s["annual_gross_ha"]
    (2840.0, 149.47, 3692.0, 194.32)
    """
    years = framework.period.years
    out = []
    for s in framework.scenarios:
        total = framework.demand_net_ha(s.key)
        located = sum(c.net_ha(s.key) for c in framework.components if c.located)
        out.append({
            "key": s.key, "label": s.label,
            "total_net_ha": _ha(total), "annual_net_ha": _ha(total / years),
            "located_net_ha": _ha(located), "regional_net_ha": _ha(total - located),
            "total_gross_ha": _ha(framework.gross_ha(total)),
            "annual_gross_ha": _ha(framework.gross_ha(total) / years),
        })
    return out


def framework_summary(record: FrameworkRecord) -> dict[str, Any]:
    """A framework in a list: identity, period, factor, state, figures per scenario."""
    f = record.framework
    return {
        "id": f.id, "name": f.name, "version": f.version, "base_date": f.base_date.isoformat(),
        "period": {"first_year": f.period.first_year, "last_year": f.period.last_year,
                   "years": f.period.years},
        "net_to_gross_factor": f.gross_factor, "gross_convention": FRAMEWORK_GROSS_CONVENTION,
        "unit": "ha", "method": f.method, "is_default": f.is_default,
        "withdrawn_at": f.withdrawn_at.isoformat() if f.withdrawn_at else None,
        "created_at": record.created_at.isoformat(),
        "scenarios": scenario_figures(f),
    }


def _component_document(record: FrameworkRecord, index: int) -> dict[str, Any]:
    c = record.framework.components[index]
    values: dict[str, Any] = {}
    for scenario, by_district in c.values.items():
        value: dict[str, Any] = {"total": _ha(sum(by_district.values()))}
        if c.located:
            value["by_district"] = dict(sorted(
                (k, v) for k, v in by_district.items() if k is not None))
        values[scenario] = value
    return {"key": c.key, "label": c.label, "located": c.located,
            "method": record.component_methods.get(c.key), "values": values}


def framework_document(record: FrameworkRecord) -> dict[str, Any]:
    """The whole framework: :func:`framework_summary`, texts, and every component's values
    (net ha over the period) in the shape a new version is sent in."""
    f = record.framework
    return {
        **framework_summary(record),
        "description": f.description, "source": f.source, "assumptions": f.assumptions,
        "parameters": dict(f.parameters),
        "components": [_component_document(record, i) for i in range(len(f.components))],
    }
