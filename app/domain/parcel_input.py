"""What a client may send to create or change a parcel (API field names, validated codes).

The database re-checks everything (vocabularies, net ≤ gross, geometry); validating here as
well gives the client every problem at once, with field names it knows.

The input types shared by every write model (parcels, sites, land sales, enquiries,
matching) live here too: :class:`Range` bounds a number by its column type and names the
whole range when refused, :data:`IsoDate` accepts only ``YYYY-MM-DD``, :func:`code_of`
publishes a vocabulary as an enum, and :func:`check_storable_text` keeps text that
PostgreSQL cannot store (NUL, lone UTF-16 surrogates) out.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    StrictBool,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

from app.domain import vocab
from app.domain.clock import today
from app.domain.disclosure import DISCLOSABLE_FIELDS
from app.domain.geometry_input import PolygonGeometry

EARLIEST_DATE = date(1990, 1, 1)

#: Largest id accepted: 2⁵³ − 1, the largest integer a JSON number holds exactly everywhere
#: (ids are ``bigint``, far from it).
MAX_ID = 9_007_199_254_740_991
#: Largest value of PostgreSQL's ``integer`` columns.
INTEGER_MAX = 2_147_483_647

#: Marketing states a plain update may set; the others have their own action.
EDITABLE_MARKETING_STATUS: tuple[str, ...] = ("verfuegbar", "reserviert")


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


@dataclass(frozen=True, slots=True)
class Range:
    """Annotation for a JSON number field: ``low`` ≤ value ≤ ``high`` (``low`` < value with
    ``low_exclusive``), published as ``minimum``/``maximum`` in the schema.

    A value outside, NaN, infinity, or something that is no JSON number (a boolean, a
    string) is refused with a reason naming the whole range, e.g. "must lie between 0 and
    99999999.99" (the bounds follow the column type, so the database never sees an
    overflow).
    """

    low: float
    high: float
    low_exclusive: bool = False

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_before_validator_function(
            self._only_numbers,
            core_schema.no_info_after_validator_function(self._within, handler(source)))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        out = handler(schema)
        out["exclusiveMinimum" if self.low_exclusive else "minimum"] = self.low
        out["maximum"] = self.high
        return out

    @property
    def reason(self) -> str:
        """The refusal, naming the range."""
        if self.low_exclusive:
            return f"must be greater than {_number(self.low)} and at most {_number(self.high)}"
        return f"must lie between {_number(self.low)} and {_number(self.high)}"

    def _only_numbers(self, value: Any) -> Any:
        if isinstance(value, bool | str):
            raise ValueError(f"must be a number; {self.reason}")
        return value

    def _within(self, value: float) -> float:
        above_low = self.low < value if self.low_exclusive else self.low <= value
        if not (above_low and value <= self.high):  # also false for NaN
            raise ValueError(self.reason)
        return value


_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def _iso_date_text(value: Any) -> Any:
    """Only ``YYYY-MM-DD`` text (or a date from Python code), never a number.

    Pydantic would otherwise read ``0`` or ``"0"`` as a Unix time (1970-01-01).
    """
    if isinstance(value, date) or (isinstance(value, str) and _ISO_DATE.fullmatch(value)):
        return value
    raise ValueError("must be a date written as YYYY-MM-DD (ISO 8601)")


#: A calendar date as the API accepts it: ISO 8601 ``YYYY-MM-DD`` only.
IsoDate = Annotated[date, BeforeValidator(_iso_date_text)]

#: Id of a stored row (``bigint``).
Id = Annotated[int, Range(1, MAX_ID)]
#: An area in hectares (the whole region has about 4,400 km², i.e. 440,000 ha).
AreaHa = Annotated[float, Range(0, 100_000, low_exclusive=True)]
#: A price in EUR per m² (``numeric(10, 2)``: below 10⁸).
PriceEurM2 = Annotated[float, Range(0, 99_999_999.99)]


def code_of(vocabulary: vocab.Vocabulary, codes: tuple[str, ...] | None = None) -> WithJsonSchema:
    """Annotation publishing a text field as an enum of ``vocabulary`` (or its ``codes``).

    Only the schema: the model's own validator checks the code and names the field.
    """
    return WithJsonSchema(vocab.enum_schema(vocabulary, codes))


#: One code of a vocabulary, published as an enum (checked by the models' validators).
AvailabilityCode = Annotated[str, code_of(vocab.AVAILABILITY)]
CategoryCode = Annotated[str, code_of(vocab.CATEGORY)]
RestrictionLevelCode = Annotated[str, code_of(vocab.RESTRICTION_LEVEL)]
RestrictionCauseCode = Annotated[str, code_of(vocab.RESTRICTION_CAUSE)]
UserGroupCode = Annotated[str, code_of(vocab.USER_GROUP)]
PlanningStatusCode = Annotated[str, code_of(vocab.PLANNING_STATUS)]
ZoningCode = Annotated[str, code_of(vocab.ZONING)]
ServicingCode = Annotated[str, code_of(vocab.SERVICING)]
MarketingStatusCode = Annotated[str, code_of(vocab.MARKETING_STATUS)]
OwnerTypeCode = Annotated[str, code_of(vocab.OWNER_TYPE)]
BuyerOriginCode = Annotated[str, code_of(vocab.BUYER_ORIGIN)]
EnquiryOutcomeCode = Annotated[str, code_of(vocab.ENQUIRY_OUTCOME)]


def check_storable_text(value: Any) -> Any:
    """``value`` unchanged unless some text in it (keys included) cannot be stored.

    PostgreSQL text holds neither NUL nor a lone UTF-16 surrogate (which JSON may escape,
    ``"\\ud800"``, and Python keeps, but which is no Unicode character); raises
    ``ValueError`` for either.

    >>> check_storable_text({"a": ["ok", 1]})
    {'a': ['ok', 1]}
    >>> check_storable_text({chr(0xD800): 1})
    Traceback (most recent call last):
    ...
    ValueError: text must be valid Unicode: it contains a lone surrogate (\\ud800)
    """
    if isinstance(value, BaseModel):
        check_storable_text(value.model_dump())
    elif isinstance(value, str):
        if "\x00" in value:
            raise ValueError("text must not contain NUL (0x00) characters")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            bad = value[exc.start].encode("unicode_escape").decode("ascii")
            raise ValueError(
                f"text must be valid Unicode: it contains a lone surrogate ({bad})") from exc
    elif isinstance(value, dict):
        for key, item in value.items():
            check_storable_text(key)
            check_storable_text(item)
    elif isinstance(value, list | tuple):
        for item in value:
            check_storable_text(item)
    return value


NOT_REMOVABLE = "must not be null: leave the field out to keep its value (or the default)"


def not_nullable(*fields: str) -> Callable[[dict[str, Any]], None]:
    """``json_schema_extra`` of a model whose ``fields`` may be left out but not sent as null.

    Their schemas lose the ``null`` alternative (and the ``null`` default) that the Python
    type ``X | None`` (needed for "not sent") would publish; the model's validator refuses
    null with :data:`NOT_REMOVABLE`.
    """
    def drop_null(schema: dict[str, Any]) -> None:
        for name in fields:
            prop = schema["properties"][name]
            variants = [s for s in prop.pop("anyOf", []) if s.get("type") != "null"]
            if len(variants) == 1:
                prop.update(variants[0])
            elif variants:
                prop["anyOf"] = variants
            if prop.get("default", ...) is None:
                del prop["default"]
    return drop_null


def _codes(field: str, value: Any, vocabulary: vocab.Vocabulary) -> Any:
    vocab.check_codes(field, value, vocabulary)
    if isinstance(value, list):
        # A set of codes: duplicates dropped, vocabulary order (so re-sending the same set
        # in another order is not a change).
        return [code for code in vocabulary.codes if code in set(value)]
    return value


#: Parcel fields of NOT NULL columns: a client may leave them out, but not send null.
PARCEL_NOT_NULL: tuple[str, ...] = (
    "site_id", "geometry", "category", "availability", "restriction_level",
    "restriction_causes", "user_groups", "planning_status", "zoning", "servicing",
    "marketing_status", "rail_siding", "operation_24h", "public_fields",
)


class ParcelFields(BaseModel):
    """Attributes shared by create and update (all optional here)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=not_nullable(*PARCEL_NOT_NULL))

    external_id: str | None = Field(None, max_length=100)
    name: str | None = Field(None, max_length=200)
    site_id: Id | None = None
    geometry: PolygonGeometry | None = None
    net_area_ha: AreaHa | None = Field(
        None, description="Net area in ha; omit to derive it (unerschlossen: 75 % of gross)")
    category: CategoryCode | None = None
    availability: AvailabilityCode | None = None
    available_from: IsoDate | None = Field(None, description="Between 1990 and 2100")
    restriction_level: RestrictionLevelCode | None = None
    restriction_causes: list[RestrictionCauseCode] | None = Field(
        None, max_length=50)
    user_groups: list[UserGroupCode] | None = Field(
        None, min_length=1, max_length=50)
    planning_status: PlanningStatusCode | None = None
    zoning: ZoningCode | None = None
    servicing: ServicingCode | None = None
    marketing_status: Annotated[
        str, code_of(vocab.MARKETING_STATUS, EDITABLE_MARKETING_STATUS)] | None = None
    price_eur_m2: PriceEurM2 | None = None
    owner_type: OwnerTypeCode | None = None
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

    @field_validator("*")
    @classmethod
    def _storable_text(cls, v: Any) -> Any:
        return check_storable_text(v)

    @field_validator(*PARCEL_NOT_NULL)
    @classmethod
    def _not_null(cls, v: Any) -> Any:
        if v is None:
            raise ValueError(NOT_REMOVABLE)
        return v

    @field_validator("category")
    @classmethod
    def _category(cls, v: Any) -> Any:
        return _codes("category", v, vocab.CATEGORY)

    @field_validator("availability")
    @classmethod
    def _availability(cls, v: Any) -> Any:
        return _codes("availability", v, vocab.AVAILABILITY)

    @field_validator("restriction_level")
    @classmethod
    def _restriction_level(cls, v: Any) -> Any:
        return _codes("restriction_level", v, vocab.RESTRICTION_LEVEL)

    @field_validator("restriction_causes")
    @classmethod
    def _causes(cls, v: Any) -> Any:
        return _codes("restriction_causes", v, vocab.RESTRICTION_CAUSE)

    @field_validator("user_groups")
    @classmethod
    def _user_groups(cls, v: Any) -> Any:
        return _codes("user_groups", v, vocab.USER_GROUP)

    @field_validator("planning_status")
    @classmethod
    def _planning(cls, v: Any) -> Any:
        return _codes("planning_status", v, vocab.PLANNING_STATUS)

    @field_validator("zoning")
    @classmethod
    def _zoning(cls, v: Any) -> Any:
        return _codes("zoning", v, vocab.ZONING)

    @field_validator("servicing")
    @classmethod
    def _servicing(cls, v: Any) -> Any:
        return _codes("servicing", v, vocab.SERVICING)

    @field_validator("owner_type")
    @classmethod
    def _owner(cls, v: Any) -> Any:
        return _codes("owner_type", v, vocab.OWNER_TYPE)

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

    def changes(self) -> dict[str, Any]:
        """Fields the client sent (explicit nulls included), by API name."""
        return {name: getattr(self, name) for name in self.model_fields_set}


class ParcelCreate(ParcelFields):
    """A new parcel: site, geometry, category, user groups and servicing are required."""

    site_id: Id
    geometry: PolygonGeometry
    category: CategoryCode
    user_groups: list[UserGroupCode] = Field(
        min_length=1, max_length=50)
    servicing: ServicingCode


class ParcelPatch(ParcelFields):
    """Changes to a parcel (JSON merge patch: only the fields sent change; null clears)."""


class SaleInput(BaseModel):
    """The sale of a parcel: recorded as a land sale and the parcel marked ``verkauft``."""

    model_config = ConfigDict(extra="forbid")

    sale_date: IsoDate = Field(description="Between 1990-01-01 and today")
    buyer_user_group: UserGroupCode
    buyer_origin: BuyerOriginCode | None = None
    price_eur_m2: PriceEurM2 | None = None
    area_ha: AreaHa | None = Field(
        None, description="Sold area in ha (default: the parcel's net area)")

    @field_validator("*")
    @classmethod
    def _storable_text(cls, v: Any) -> Any:
        return check_storable_text(v)

    @field_validator("sale_date")
    @classmethod
    def _not_future(cls, v: date) -> date:
        if v > today():
            raise ValueError("sale_date lies in the future")
        if v < EARLIEST_DATE:
            raise ValueError("sale_date lies before 1990")
        return v

    @field_validator("buyer_user_group")
    @classmethod
    def _group(cls, v: Any) -> Any:
        return _codes("buyer_user_group", v, vocab.USER_GROUP)

    @field_validator("buyer_origin")
    @classmethod
    def _origin(cls, v: Any) -> Any:
        return _codes("buyer_origin", v, vocab.BUYER_ORIGIN)
