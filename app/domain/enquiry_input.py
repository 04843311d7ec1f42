"""What a client may send to record or change a settlement enquiry (Ansiedlungsanfrage).

Areas are net hectares. Rules across fields (``needed_by`` not before ``received_on``,
maximum area not below minimum) are checked by the service on the state after the write
(:func:`cross_field_problem`), for a create and an update alike, naming the field.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import ConfigDict, Field, field_validator

from app.domain.clock import today
from app.domain.input_types import (
    AreaHa,
    DistrictAgs,
    IsoDate,
    KnownEnquiryOutcome,
    KnownUserGroup,
    WriteModel,
    check_past_date,
    not_nullable,
    refuse_null,
)


def cross_field_problem(received_on: date | None, needed_by: date | None,
                        area_min: float | None, area_max: float | None) -> tuple[str, str] | None:
    """The first rule across fields that is broken, as ``(field, reason)``, or ``None``.

    >>> cross_field_problem(date(2026, 3, 1), date(2026, 2, 1), 1.0, None)
    ('needed_by', 'needed_by (2026-02-01) lies before received_on (2026-03-01)')
    >>> cross_field_problem(date(2026, 3, 1), None, 5.0, 2.0)[0]
    'required_net_area_ha_max'
    """
    if received_on is not None and needed_by is not None and needed_by < received_on:
        return "needed_by", f"needed_by ({needed_by}) lies before received_on ({received_on})"
    if area_min is not None and area_max is not None and area_max < area_min:
        return ("required_net_area_ha_max",
                f"maximum {area_max} ha lies below the minimum {area_min} ha")
    return None


class EnquiryFields(WriteModel):
    """Attributes shared by create and update (all optional here)."""

    received_on: IsoDate | None = Field(None, description="Between 1990-01-01 and today")
    district_ags: DistrictAgs | None = Field(
        None, description="District asked about; null: the region")
    required_net_area_ha_min: AreaHa | None = Field(
        None, description="Smallest net area needed, ha")
    required_net_area_ha_max: AreaHa | None = Field(
        None, description="Largest net area wanted, ha")
    user_group: KnownUserGroup | None = None
    needed_by: IsoDate | None = Field(None, description="Date by which the land is needed")
    requirements: dict[str, Any] | None = Field(
        None, description="Further requirements (e.g. rail_siding, operation_24h); "
                          "replaced as a whole when sent")
    outcome: KnownEnquiryOutcome | None = None
    outcome_note: str | None = Field(None, max_length=5000)

    @field_validator("received_on")
    @classmethod
    def _received(cls, v: date | None) -> date | None:
        return check_past_date("received_on", v)


class EnquiryCreate(EnquiryFields):
    """A new enquiry: minimum area and user group are required; received today by default."""

    received_on: IsoDate = Field(default_factory=today,
                                 description="Between 1990-01-01 and today (default: today)")
    required_net_area_ha_min: AreaHa = Field(description="Smallest net area needed, ha")
    user_group: KnownUserGroup
    requirements: dict[str, Any] = Field(default_factory=dict)
    outcome: KnownEnquiryOutcome = "offen"


_NOT_NULL = ("received_on", "required_net_area_ha_min", "user_group", "outcome", "requirements")


class EnquiryPatch(EnquiryFields):
    """Changes to an enquiry (merge patch: only the fields sent change; null clears)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=not_nullable(*_NOT_NULL))

    _required = field_validator(*_NOT_NULL)(refuse_null)
