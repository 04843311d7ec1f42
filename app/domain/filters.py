"""The one filter vocabulary for parcels: search, layers, OGC items, tiles, exports, reports.

A :class:`ParcelFilter` knows nothing about HTTP or SQL. Routers build it from query
parameters, matching builds it from an enquiry, and ``app.db.queries.parcels`` turns it into
``WHERE`` clauses. Codes are validated against :mod:`app.domain.vocab`; ranges must be ordered.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from app.domain import vocab

#: Numeric (or date) parcel fields a result can be sorted by.
SORTABLE_FIELDS: tuple[str, ...] = (
    "id", "net_area_ha", "gross_area_ha", "price_eur_m2", "distance_junction_km",
    "distance_airport_km", "max_building_height_m", "grid_capacity_mw", "broadband_mbps",
    "last_verified_at", "available_from", "updated_at",
)

#: The accepted ``sort`` values: a sortable field, optionally signed ('-' for descending).
SORT_PATTERN = rf"^[-+]?(?:{'|'.join(SORTABLE_FIELDS)})$"

#: Marketing status searched when the caller does not say.
DEFAULT_MARKETING_STATUS: tuple[str, ...] = ("verfuegbar",)

Codes = tuple[str, ...]


def _check_codes(field: str, codes: Codes, vocabulary: vocab.Vocabulary) -> Codes:
    vocab.check_codes(field, codes, vocabulary)
    return codes


class BBox(BaseModel):
    """A bounding box in a CRS given by EPSG code (4326 = lon/lat, axis order x, y)."""

    model_config = ConfigDict(frozen=True)

    minx: float
    miny: float
    maxx: float
    maxy: float
    srid: int = 4326

    @model_validator(mode="after")
    def _ordered(self) -> BBox:
        values = (self.minx, self.miny, self.maxx, self.maxy)
        if not all(math.isfinite(v) for v in values):
            raise ValueError("bbox values must be finite numbers")
        if self.srid == 4326 and not (-180 <= self.minx <= 180 and -180 <= self.maxx <= 180
                                      and -90 <= self.miny <= 90 and -90 <= self.maxy <= 90):
            raise ValueError("bbox in lon/lat must lie within -180..180 and -90..90")
        if self.minx > self.maxx or self.miny > self.maxy:
            raise ValueError("bbox must be minx,miny,maxx,maxy with min ≤ max "
                             "(boxes across the antimeridian are not supported here)")
        return self


class ParcelFilter(BaseModel):
    """Which parcels to select. Every field is optional; fields combine with AND.

    Areas are net hectares; distances kilometres; prices EUR per m².
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    ids: tuple[int, ...] = ()
    district: Codes = Field((), description="5-digit AGS of districts")
    municipality: Codes = Field((), description="8-digit AGS of municipalities")
    site_id: tuple[int, ...] = ()
    availability: Codes = Field((), description="exact availability classes")
    availability_horizon: str | None = Field(
        None, description="available no later than this class (sofort < kurzfristig < …)"
    )
    available_by: date | None = Field(
        None, description="available on or before this date (available_from, else the class)"
    )
    restriction_max: str | None = Field(None, description="restriction level at most this")
    exclude_causes: Codes = ()
    user_group: Codes = Field((), description="suitable for any of these user groups")
    net_area_min_ha: Annotated[float, Field(ge=0)] | None = None
    net_area_max_ha: Annotated[float, Field(ge=0)] | None = None
    category: Codes = ()
    planning_status: Codes = ()
    zoning: Codes = ()
    servicing: Codes = ()
    marketing_status: Codes = DEFAULT_MARKETING_STATUS
    rail_siding: bool | None = None
    operation_24h: bool | None = None
    max_junction_km: Annotated[float, Field(ge=0)] | None = None
    max_airport_km: Annotated[float, Field(ge=0)] | None = None
    max_price_eur_m2: Annotated[float, Field(ge=0)] | None = None
    text: str | None = Field(None, min_length=1, max_length=200)
    bbox: BBox | None = None
    active_sites_only: bool = Field(
        True, description="Leave out parcels of withdrawn sites (the public never sees them)")

    @field_validator("district")
    @classmethod
    def _districts(cls, v: Codes) -> Codes:
        bad = [c for c in v if not (len(c) == 5 and c.isdigit())]
        if bad:
            raise ValueError(f"district must be a 5-digit AGS, got {', '.join(bad)}")
        return v

    @field_validator("municipality")
    @classmethod
    def _municipalities(cls, v: Codes) -> Codes:
        bad = [c for c in v if not (len(c) == 8 and c.isdigit())]
        if bad:
            raise ValueError(f"municipality must be an 8-digit AGS, got {', '.join(bad)}")
        return v

    @field_validator("availability")
    @classmethod
    def _availability(cls, v: Codes) -> Codes:
        return _check_codes("availability", v, vocab.AVAILABILITY)

    @field_validator("availability_horizon")
    @classmethod
    def _horizon(cls, v: str | None) -> str | None:
        if v is not None and v not in vocab.AVAILABILITY_HORIZON:
            known = ", ".join(vocab.AVAILABILITY_HORIZON)
            raise ValueError(f"availability_horizon must be one of {known}")
        return v

    @field_validator("restriction_max")
    @classmethod
    def _restriction(cls, v: str | None) -> str | None:
        if v is not None and v not in vocab.RESTRICTION_RANK:
            raise ValueError(f"restriction_max must be one of {', '.join(vocab.RESTRICTION_RANK)}")
        return v

    @field_validator("exclude_causes")
    @classmethod
    def _causes(cls, v: Codes) -> Codes:
        return _check_codes("exclude_causes", v, vocab.RESTRICTION_CAUSE)

    @field_validator("user_group")
    @classmethod
    def _user_groups(cls, v: Codes) -> Codes:
        return _check_codes("user_group", v, vocab.USER_GROUP)

    @field_validator("category")
    @classmethod
    def _category(cls, v: Codes) -> Codes:
        return _check_codes("category", v, vocab.CATEGORY)

    @field_validator("planning_status")
    @classmethod
    def _planning(cls, v: Codes) -> Codes:
        return _check_codes("planning_status", v, vocab.PLANNING_STATUS)

    @field_validator("zoning")
    @classmethod
    def _zoning(cls, v: Codes) -> Codes:
        return _check_codes("zoning", v, vocab.ZONING)

    @field_validator("servicing")
    @classmethod
    def _servicing(cls, v: Codes) -> Codes:
        return _check_codes("servicing", v, vocab.SERVICING)

    @field_validator("marketing_status")
    @classmethod
    def _marketing(cls, v: Codes) -> Codes:
        return _check_codes("marketing_status", v, vocab.MARKETING_STATUS)

    @field_validator("net_area_max_ha")
    @classmethod
    def _max_not_below_min(cls, v: float | None, info: ValidationInfo) -> float | None:
        low = info.data.get("net_area_min_ha")
        if v is not None and low is not None and low > v:
            raise ValueError(f"net_area_max_ha {v} is below net_area_min_ha {low}")
        return v


class SortSpec(BaseModel):
    """Sort order: one field (see :data:`SORTABLE_FIELDS`), ties broken by id ascending.

    >>> SortSpec.parse("-net_area_ha")
    SortSpec(field='net_area_ha', descending=True)
    """

    model_config = ConfigDict(frozen=True)

    field: str = "id"
    descending: bool = False

    @field_validator("field")
    @classmethod
    def _known(cls, v: str) -> str:
        if v not in SORTABLE_FIELDS:
            raise ValueError(f"cannot sort by {v!r}; sortable: {', '.join(SORTABLE_FIELDS)}")
        return v

    @classmethod
    def parse(cls, text: str | None) -> SortSpec:
        """``"net_area_ha"`` (or ``"+net_area_ha"``) ascending, ``"-net_area_ha"`` descending.

        ``None`` sorts by id. Exactly the strings of :data:`SORT_PATTERN` are accepted: an
        empty value or a repeated sign names no sortable field.

        >>> SortSpec.parse("+price_eur_m2")
        SortSpec(field='price_eur_m2', descending=False)
        """
        if text is None:
            return cls()
        sign = text[:1]
        field = text[1:] if sign in ("-", "+") else text
        return cls(field=field, descending=sign == "-")

    def __str__(self) -> str:
        return ("-" if self.descending else "") + self.field
