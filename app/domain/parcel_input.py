"""What a client may send to create or change a parcel (API field names, validated codes).

The database re-checks everything (vocabularies, net ≤ gross, geometry); validating here as
well gives the client every problem at once, with field names it knows. The input types
shared with the other write models are in :mod:`app.domain.input_types`.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from pydantic import (
    ConfigDict,
    Field,
    StrictBool,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from app.domain import vocab
from app.domain.clock import today
from app.domain.disclosure import DISCLOSABLE_FIELDS
from app.domain.geometry_input import PolygonGeometry
from app.domain.input_types import (
    EARLIEST_DATE,
    INTEGER_MAX,
    AreaHa,
    Id,
    IsoDate,
    KnownAvailability,
    KnownBuyerOrigin,
    KnownCategory,
    KnownOwnerType,
    KnownPlanningStatus,
    KnownRestrictionCauses,
    KnownRestrictionLevel,
    KnownServicing,
    KnownUserGroup,
    KnownUserGroups,
    KnownZoning,
    PriceEurM2,
    Range,
    WriteModel,
    check_past_date,
    code_of,
    not_nullable,
    refuse_null,
)

#: Marketing states a plain update may set; the others have their own action.
EDITABLE_MARKETING_STATUS: tuple[str, ...] = ("verfuegbar", "reserviert")


#: Parcel fields of NOT NULL columns: a client may leave them out, but not send null.
PARCEL_NOT_NULL: tuple[str, ...] = (
    "site_id", "geometry", "category", "availability", "restriction_level",
    "restriction_causes", "user_groups", "planning_status", "zoning", "servicing",
    "marketing_status", "rail_siding", "operation_24h", "public_fields",
)


class ParcelFields(WriteModel):
    """Attributes shared by create and update (all optional here)."""

    model_config = ConfigDict(json_schema_extra=not_nullable(*PARCEL_NOT_NULL))

    external_id: str | None = Field(None, max_length=100)
    name: str | None = Field(None, max_length=200)
    site_id: Id | None = None
    geometry: PolygonGeometry | None = None
    net_area_ha: AreaHa | None = Field(
        None, description="Net area in ha; omit to derive it (unerschlossen: 75 % of gross)")
    category: KnownCategory | None = None
    availability: KnownAvailability | None = None
    available_from: IsoDate | None = Field(None, description="Between 1990 and 2100")
    restriction_level: KnownRestrictionLevel | None = None
    restriction_causes: KnownRestrictionCauses | None = None
    user_groups: KnownUserGroups | None = None
    planning_status: KnownPlanningStatus | None = None
    zoning: KnownZoning | None = None
    servicing: KnownServicing | None = None
    marketing_status: Annotated[
        str, code_of(vocab.MARKETING_STATUS, EDITABLE_MARKETING_STATUS)] | None = None
    price_eur_m2: PriceEurM2 | None = None
    owner_type: KnownOwnerType | None = None
    owner_name: str | None = Field(None, max_length=200)
    rail_siding: StrictBool | None = None
    operation_24h: StrictBool | None = None
    max_building_height_m: Annotated[float, Range(0, 500, low_exclusive=True)] | None = None
    broadband_mbps: Annotated[int, Range(0, INTEGER_MAX)] | None = None
    grid_capacity_mw: Annotated[float, Range(0, 999_999.99)] | None = None  # numeric(8, 2)
    contact_name: str | None = Field(None, max_length=200)
    contact_email: str | None = Field(None, max_length=200, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    contact_phone: str | None = Field(None, max_length=50)
    public_fields: list[Annotated[str, WithJsonSchema(
        {"type": "string", "enum": list(DISCLOSABLE_FIELDS)})]] | None = Field(None, max_length=50)
    internal_notes: str | None = Field(None, max_length=5000)

    _not_null = field_validator(*PARCEL_NOT_NULL)(refuse_null)

    @field_validator("marketing_status")
    @classmethod
    def _marketing(cls, v: Any) -> Any:
        if v is not None and v not in EDITABLE_MARKETING_STATUS:
            raise ValueError(
                f"marketing_status {v!r} cannot be set directly: use the withdraw or sell "
                f"action; allowed here: {', '.join(EDITABLE_MARKETING_STATUS)}")
        return v

    @field_validator("public_fields")
    @classmethod
    def _public_fields(cls, v: Any) -> Any:
        if v is not None:
            unknown = [f for f in v if f not in DISCLOSABLE_FIELDS]
            if unknown:
                raise ValueError(f"cannot release {', '.join(unknown)}; releasable: "
                                 f"{', '.join(DISCLOSABLE_FIELDS)}")
            return [f for f in DISCLOSABLE_FIELDS if f in set(v)]
        return v

    @field_validator("available_from")
    @classmethod
    def _plausible_date(cls, v: date | None) -> date | None:
        if v is not None and not EARLIEST_DATE <= v <= date(2100, 12, 31):
            raise ValueError("available_from must lie between 1990 and 2100")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> ParcelFields:
        if self.restriction_level == "keine" and self.restriction_causes:
            raise ValueError("restriction_causes must be empty when restriction_level is 'keine'")
        if (self.availability == "sofort" and self.available_from is not None
                and self.available_from > today()):
            raise ValueError("available_from lies in the future but availability is 'sofort'")
        return self


class ParcelCreate(ParcelFields):
    """A new parcel: site, geometry, category, user groups and servicing are required."""

    site_id: Id
    geometry: PolygonGeometry
    category: KnownCategory
    user_groups: KnownUserGroups
    servicing: KnownServicing


class ParcelPatch(ParcelFields):
    """Changes to a parcel (JSON merge patch: only the fields sent change; null clears)."""


class SaleInput(WriteModel):
    """The sale of a parcel: recorded as a land sale and the parcel marked ``verkauft``."""

    sale_date: IsoDate = Field(description="Between 1990-01-01 and today")
    buyer_user_group: KnownUserGroup
    buyer_origin: KnownBuyerOrigin | None = None
    price_eur_m2: PriceEurM2 | None = None
    area_ha: AreaHa | None = Field(
        None, description="Sold area in ha (default: the parcel's net area)")

    @field_validator("sale_date")
    @classmethod
    def _not_future(cls, v: date) -> date | None:
        return check_past_date("sale_date", v)
