"""Translate database errors into the service's problem kinds, in one place.

Constraint names follow ``ck_<table>__<column>__<rule>`` / ``fk_<table>__<column>`` /
``uq_<table>__<columns>`` (see :mod:`app.db.ddl`), so the field an error concerns is read
from the constraint name, or from the column the database reports.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError

from app.domain.errors import (
    Conflict,
    FieldProblem,
    GefisError,
    InvalidInput,
    ServiceUnavailable,
)

_CHECK_VIOLATION = "23514"
_NOT_NULL_VIOLATION = "23502"
_FOREIGN_KEY_VIOLATION = "23503"
_UNIQUE_VIOLATION = "23505"
_RESTRICT_VIOLATION = "23001"
_INVALID_TEXT = "22P02"
_NUMERIC_OUT_OF_RANGE = "22003"
_DATA_EXCEPTION_CLASS = "22"
_TRANSACTION_ROLLBACK_CLASS = "40"  # serialization failure, deadlock detected
_LOCK_NOT_AVAILABLE = "55P03"
_QUERY_CANCELED = "57014"  # statement_timeout
_INTERNAL_ERROR = "XX000"  # PostGIS reports unparsable geometry input this way


#: Readable reasons for constraint rules (the last part of ``ck_<table>__<column>__<rule>``).
RULE_REASONS: dict[str, str] = {
    "vocab": "not a known code of this vocabulary (see /api/v1/vocabularies)",
    "not_above_gross": "net area exceeds the gross area computed from the geometry",
    "not_below_min": "maximum is below minimum",
    "none_when_unrestricted": "restriction causes given although the restriction level is 'keine'",
    "ags_prefix": "municipality does not belong to the district",
    "not_empty": "must not be empty",
    "positive": "must be greater than zero",
    "non_negative": "must not be negative",
    "format": "has the wrong format",
    "quarter": "is not the last day of a quarter",
}


def rule_of_constraint(name: str | None) -> str | None:
    """The rule part of a constraint name.

    >>> rule_of_constraint("ck_parcels__net_area_ha__not_above_gross")
    'not_above_gross'
    """
    if not name or name.count("__") < 2:
        return None
    return name.rsplit("__", 1)[1]


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
    reason = RULE_REASONS.get(rule_of_constraint(constraint) or "", message)
    # PostgreSQL's "Failing row contains (...)" detail dumps internal values: never pass it on.
    if detail and not detail.startswith("Failing row contains"):
        reason = f"{reason} ({detail})"
    rule = constraint or code or "invalid"

    if code in (_CHECK_VIOLATION, _NOT_NULL_VIOLATION):
        return InvalidInput(reason, problems=[FieldProblem(field, reason, rule)])
    if code == _FOREIGN_KEY_VIOLATION:
        return InvalidInput(
            reason, problems=[FieldProblem(field, f"unknown reference: {reason}", rule)]
        )
    if code in (_UNIQUE_VIOLATION, _RESTRICT_VIOLATION):
        return Conflict(reason, problems=[FieldProblem(field, reason, rule)])
    if code == _NUMERIC_OUT_OF_RANGE:
        # The input models bound every number by its column; this is only a safety net, and
        # PostgreSQL's wording (precision, scale, type names) means nothing to a client.
        reason = "a number is too large for its field"
        return InvalidInput(reason, problems=[FieldProblem(field, reason, "out_of_range")])
    if code == _INVALID_TEXT or (code and code.startswith(_DATA_EXCEPTION_CLASS)):
        return InvalidInput(reason, problems=[FieldProblem(field, reason, code)])
    if code == _INTERNAL_ERROR and "geometry" in message.lower():
        return InvalidInput(reason, problems=[FieldProblem("geometry", reason, "geometry")])
    if code and (code.startswith(_TRANSACTION_ROLLBACK_CLASS) or code == _LOCK_NOT_AVAILABLE):
        return ServiceUnavailable(
            "The request collided with a concurrent change (another write, or the read "
            "replica replaying one) and was rolled back; nothing was changed. Send it again.",
            headers={"Retry-After": "1"})
    if code == _QUERY_CANCELED:
        return ServiceUnavailable(
            "The request took longer than the database's time limit and was cancelled; "
            "nothing was changed. Narrow it down (filters, a smaller page) or retry later.",
            headers={"Retry-After": "5"})
    return None
