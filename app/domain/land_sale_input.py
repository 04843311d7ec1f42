"""What a client may send to record or correct a land sale (Grundstücksverkauf).

Where the sale lies is given by ``district_ags``, ``municipality_ags`` or a Point ``geometry``
(the most precise one given determines the others). Codes are validated against the
vocabularies; the database re-checks everything.
"""

from __future__ import annotations

from datetime import date

from pydantic import ConfigDict, Field, field_validator

from app.domain.geometry_input import PointGeometry
from app.domain.input_types import (
    AreaHa,
    DistrictAgs,
    Id,
    IsoDate,
    KnownBuyerOrigin,
    KnownUserGroup,
    MunicipalityAgs,
    PriceEurM2,
    WriteModel,
    check_past_date,
    not_nullable,
    refuse_null,
)

#: Fields that together say where a sale lies (sending one replaces the location).
LOCATION_FIELDS: tuple[str, ...] = ("geometry", "municipality_ags", "district_ags")


class LandSaleFields(WriteModel):
    """Attributes shared by create and update (all optional here)."""

    external_id: str | None = Field(None, max_length=100)
    sale_date: IsoDate | None = Field(None, description="Between 1990-01-01 and today")
    district_ags: DistrictAgs | None = None
    municipality_ags: MunicipalityAgs | None = None
    geometry: PointGeometry | None = Field(
        None, description="Location of the sale (Point); district and municipality follow")
    parcel_id: Id | None = Field(None, description="The parcel sold, if registered")
    site_id: Id | None = Field(None, description="The site of the sale, if registered")
    area_ha: AreaHa | None = Field(None, description="Sold area in hectares")
    price_eur_m2: PriceEurM2 | None = Field(None, description="Price in EUR per m²")
    buyer_user_group: KnownUserGroup | None = None
    buyer_origin: KnownBuyerOrigin | None = None

    @field_validator("sale_date")
    @classmethod
    def _sale_date(cls, v: date | None) -> date | None:
        return check_past_date("sale_date", v)


class LandSaleCreate(LandSaleFields):
    """A new land sale: date and area are required, and a location (or a parcel or site
    to take it from)."""

    sale_date: IsoDate = Field(description="Between 1990-01-01 and today")
    area_ha: AreaHa = Field(description="Sold area in hectares")


class LandSalePatch(LandSaleFields):
    """Changes to a land sale (merge patch: only the fields sent change; null clears).

    ``geometry``, ``municipality_ags`` and ``district_ags`` form the location: sending any
    of them replaces the location as a whole (fields not sent are derived or cleared).
    """

    model_config = ConfigDict(json_schema_extra=not_nullable("sale_date", "area_ha"))

    _required = field_validator("sale_date", "area_ha")(refuse_null)
