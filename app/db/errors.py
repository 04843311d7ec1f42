"""Translate database errors into the service's problem kinds, in one place.

Constraint names follow ``ck_<table>__<column>__<rule>`` / ``fk_<table>__<column>`` /
``uq_<table>__<columns>`` (see :mod:`app.db.ddl`), so the field an error concerns is read
from the constraint name, or from the column the database reports.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError

from app.domain.errors import Conflict, FieldProblem, GefisError, InvalidInput

_CHECK_VIOLATION = "23514"
_NOT_NULL_VIOLATION = "23502"
_FOREIGN_KEY_VIOLATION = "23503"
_UNIQUE_VIOLATION = "23505"
_RESTRICT_VIOLATION = "23001"
_INVALID_TEXT = "22P02"
_DATA_EXCEPTION_CLASS = "22"
_INTERNAL_ERROR = "XX000"  # PostGIS reports unparsable geometry input this way


def field_of_constraint(name: str | None) -> str | None:
    """The column a constraint name refers to.

    >>> field_of_constraint("ck_parcels__net_area_ha__not_above_gross")
    'net_area_ha'
    >>> field_of_constraint("fk_sites__municipality_ags")
    'municipality_ags'
    >>> field_of_constraint("pk_whatever") is None
    True
    """
    if not name or "__" not in name:
        return None
    parts = name.split("__")
    return parts[1] if len(parts) >= 2 else None


def translate_db_error(exc: DBAPIError) -> GefisError | None:
    """The problem kind for a database error, or ``None`` when it is a server fault."""
    orig = exc.orig
    code = getattr(orig, "pgcode", None)
    diag = getattr(orig, "diag", None)
    constraint = getattr(diag, "constraint_name", None)
    column = getattr(diag, "column_name", None)
    message = (getattr(diag, "message_primary", None) or str(orig)).strip()
    detail = getattr(diag, "message_detail", None)
    field = column or field_of_constraint(constraint)
    reason = f"{message} ({detail})" if detail else message
    rule = constraint or code or "invalid"

    if code in (_CHECK_VIOLATION, _NOT_NULL_VIOLATION):
        return InvalidInput(reason, problems=[FieldProblem(field, reason, rule)])
    if code == _FOREIGN_KEY_VIOLATION:
        return InvalidInput(
            reason, problems=[FieldProblem(field, f"unknown reference: {reason}", rule)]
        )
    if code in (_UNIQUE_VIOLATION, _RESTRICT_VIOLATION):
        return Conflict(reason, problems=[FieldProblem(field, reason, rule)])
    if code == _INVALID_TEXT or (code and code.startswith(_DATA_EXCEPTION_CLASS)):
        return InvalidInput(reason, problems=[FieldProblem(field, reason, code)])
    if code == _INTERNAL_ERROR and "geometry" in message.lower():
        return InvalidInput(reason, problems=[FieldProblem("geometry", reason, "geometry")])
    return None
