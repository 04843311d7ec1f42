"""Writing settlement enquiries: record, change (optimistic locking), withdraw.

Every function runs inside the caller's transaction. Enquiries have no version trigger: the
version is bumped here with every real change (and ``updated_at`` set). An enquiry about a
district is written by editors of that district and admins; a regional one (no district)
by any editor.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, text

from app.domain.enquiry_input import EnquiryCreate, EnquiryPatch, cross_field_problem
from app.domain.errors import InvalidInput
from app.domain.roles import Principal, ensure_can_write_in
from app.services.write_common import RegistryTable, WriteResult, ensure_exists

_ENQUIRIES = RegistryTable("enquiries", "enquiry",
                           {"requirements": "CAST(:requirements AS jsonb)"},
                           stamp="version = version + 1, updated_at = now()",
                           regional_rows=True)
_LOCKED_COLUMNS = ("id, version, received_on, district_ags, required_net_area_ha_min, "
                   "required_net_area_ha_max, user_group, needed_by, requirements, outcome, "
                   "outcome_note")

def _check_rules(state: dict[str, Any]) -> None:
    """422 naming the field when the state after the write breaks a rule across fields."""
    problem = cross_field_problem(state["received_on"], state["needed_by"],
                                  state["required_net_area_ha_min"],
                                  state["required_net_area_ha_max"])
    if problem is not None:
        raise InvalidInput.for_field(problem[0], problem[1], "cross_field")


def _check_district(conn: Connection, district_ags: str | None) -> None:
    if district_ags is not None:
        ensure_exists(conn, "districts", "ags", district_ags, "district_ags", "district")


def _bound(values: dict[str, Any]) -> dict[str, Any]:
    """Bind values; ``requirements`` as JSON text for the jsonb cast."""
    out = dict(values)
    if "requirements" in out:
        out["requirements"] = json.dumps(out["requirements"], ensure_ascii=False)
    return out


def create_enquiry(conn: Connection, principal: Principal, data: EnquiryCreate, *,
                   synthetic: bool = False) -> WriteResult:
    """Record an enquiry (``created_by``: the caller); ``synthetic`` labels demo data."""
    values = data.model_dump()
    _check_rules(values)
    _check_district(conn, values["district_ags"])
    ensure_can_write_in(principal, values["district_ags"])
    values["created_by"] = principal.actor
    if synthetic:
        values["is_synthetic"] = True
    row = _ENQUIRIES.insert(conn, values, _bound(values))
    return WriteResult(row.id, row.version)


def update_enquiry(conn: Connection, principal: Principal, enquiry_id: int, data: EnquiryPatch,
                   *, expected_version: int | None) -> WriteResult:
    """Apply a merge patch if the enquiry is still at ``expected_version`` (else 412).

    The version goes up by one when a value really changes; sending the current values
    changes nothing.
    """
    current = _ENQUIRIES.lock(conn, principal, _LOCKED_COLUMNS, enquiry_id, expected_version)
    old = dict(current._mapping)
    changes = {k: v for k, v in data.changes().items() if old[k] != v}
    if not changes:
        return WriteResult(enquiry_id, current.version)
    _check_rules({**old, **changes})
    if "district_ags" in changes:
        _check_district(conn, changes["district_ags"])
        ensure_can_write_in(principal, changes["district_ags"])
    version = _ENQUIRIES.update(conn, enquiry_id, changes, _bound(changes))
    return WriteResult(enquiry_id, version)


def withdraw_enquiry(conn: Connection, principal: Principal, enquiry_id: int,
                     expected_version: int | None = None) -> WriteResult:
    """Withdraw an enquiry (``withdrawn_at``; the first time is kept); nothing is deleted."""
    current = _ENQUIRIES.lock(conn, principal, "id, version, district_ags", enquiry_id,
                              expected_version)
    version = conn.execute(text(
        "UPDATE enquiries SET withdrawn_at = now(), version = version + 1, updated_at = now() "
        "WHERE id = :id AND withdrawn_at IS NULL RETURNING version"),
        {"id": enquiry_id}).scalar_one_or_none()
    return WriteResult(enquiry_id, current.version if version is None else version)
