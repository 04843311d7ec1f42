"""Input types shared by every write model and query parameter (parcels, sites, land sales,
enquiries, matching).

:class:`Range` bounds a number by its column type and names the whole range when refused,
:data:`IsoDate` accepts only ``YYYY-MM-DD``, :data:`DistrictAgs` and :data:`MunicipalityAgs`
take an official municipality key (AGS) of 5 or 8 digits, :func:`check_storable_text` keeps
text that PostgreSQL cannot store (NUL, lone UTF-16 surrogates) out, :func:`not_nullable`
publishes fields that may be left out but not sent as null, and :class:`WriteModel` is the
base of the write models (its :meth:`~WriteModel.changes` is what a merge patch changes).

Vocabulary codes come in two kinds of types:

- ``KnownCategory``, ``KnownUserGroups``, … (:class:`Code`, :class:`CodeSet`) check the
  code(s) against :mod:`app.domain.vocab` and name the field when refusing; use them in
  models;
- ``CategoryCode``, ``UserGroupCode``, … (:func:`code_of`) only publish the enum in the
  schema, for values that are checked elsewhere (e.g. comma-separated query parameters,
  split before they are checked).
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
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    StringConstraints,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

from app.domain import vocab
from app.domain.clock import today

#: Largest id accepted: 2⁵³ − 1, the largest integer a JSON number holds exactly everywhere
#: (ids are ``bigint``, far from it).
MAX_ID = 9_007_199_254_740_991
#: Largest value of PostgreSQL's ``integer`` columns.
INTEGER_MAX = 2_147_483_647

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

#: The earliest date the registry records (no sale, enquiry or availability before it).
EARLIEST_DATE = date(1990, 1, 1)


def check_past_date(field: str, value: date | None) -> date | None:
    """A date of something that has happened: between 1990-01-01 and today (``None`` passes).

    >>> check_past_date("sale_date", date(1989, 12, 31))
    Traceback (most recent call last):
    ...
    ValueError: sale_date lies before 1990
    """
    if value is None:
        return value
    if value > today():
        raise ValueError(f"{field} lies in the future")
    if value < EARLIEST_DATE:
        raise ValueError(f"{field} lies before 1990")
    return value

#: Id of a stored row (``bigint``).
Id = Annotated[int, Range(1, MAX_ID)]
#: An area in hectares (the whole region has about 4,400 km², i.e. 440,000 ha).
AreaHa = Annotated[float, Range(0, 100_000, low_exclusive=True)]
#: A price in EUR per m² (``numeric(10, 2)``: below 10⁸).
PriceEurM2 = Annotated[float, Range(0, 99_999_999.99)]


#: Official municipality key (AGS) of a district (Kreis, kreisfreie Stadt): 5 digits.
DISTRICT_AGS_PATTERN = r"^[0-9]{5}$"
#: Official municipality key (AGS) of a municipality: 8 digits, the first 5 its district's.
MUNICIPALITY_AGS_PATTERN = r"^[0-9]{8}$"

#: AGS of a district, e.g. ``14713`` (refused: "String should match pattern …").
DistrictAgs = Annotated[str, StringConstraints(pattern=DISTRICT_AGS_PATTERN)]
#: AGS of a municipality, e.g. ``14713000`` (refused: "String should match pattern …").
MunicipalityAgs = Annotated[str, StringConstraints(pattern=MUNICIPALITY_AGS_PATTERN)]


def code_of(vocabulary: vocab.Vocabulary, codes: tuple[str, ...] | None = None) -> WithJsonSchema:
    """Annotation publishing a text field as an enum of ``vocabulary`` (or its ``codes``).

    Only the schema: nothing is checked (see :class:`Code` for a checked code).
    """
    return WithJsonSchema(vocab.enum_schema(vocabulary, codes))


#: One code of a vocabulary, published as an enum, not checked (see the module docstring).
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


def _field(info: ValidationInfo, vocabulary: vocab.Vocabulary) -> str:
    """Name of the field being validated (the vocabulary's name outside a model)."""
    return info.field_name or vocabulary.name


@dataclass(frozen=True, slots=True)
class Code:
    """Annotation for a text field holding one code of ``vocabulary``, published as an enum.

    An unknown code is refused naming the field and the known codes (see
    :func:`app.domain.vocab.check_codes`); text PostgreSQL cannot store is refused as such
    first (:func:`check_storable_text`).
    """

    vocabulary: vocab.Vocabulary

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.with_info_after_validator_function(self._check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return vocab.enum_schema(self.vocabulary)

    def _check(self, value: str, info: ValidationInfo) -> str:
        check_storable_text(value)
        vocab.check_codes(_field(info, self.vocabulary), value, self.vocabulary)
        return value


#: Most codes a list field takes (a vocabulary has a dozen codes at most).
MAX_CODES = 50


@dataclass(frozen=True, slots=True)
class CodeSet:
    """Annotation for a list of codes of ``vocabulary``: a set, kept in vocabulary order.

    The list must hold ``min_length`` to ``max_length`` items (checked first, refused with
    pydantic's "List should have …"); then every unknown code is named in one refusal.
    Duplicates are dropped and the codes sorted in vocabulary order, so re-sending the same
    set in another order is no change. The items' type publishes the enum (``list[XCode]``).
    """

    vocabulary: vocab.Vocabulary
    min_length: int = 0
    max_length: int = MAX_CODES

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        schema = handler(source)
        if schema["type"] != "list":
            raise TypeError(f"CodeSet annotates a list, not {source!r}")
        if self.min_length:
            schema["min_length"] = self.min_length
        schema["max_length"] = self.max_length
        return core_schema.with_info_after_validator_function(self._check, schema)

    def _check(self, value: list[str], info: ValidationInfo) -> list[str]:
        check_storable_text(value)
        vocab.check_codes(_field(info, self.vocabulary), value, self.vocabulary)
        present = set(value)
        return [code for code in self.vocabulary.codes if code in present]


#: One code of a vocabulary, checked (see :class:`Code`), published as an enum.
KnownAvailability = Annotated[str, Code(vocab.AVAILABILITY)]
KnownCategory = Annotated[str, Code(vocab.CATEGORY)]
KnownRestrictionLevel = Annotated[str, Code(vocab.RESTRICTION_LEVEL)]
KnownUserGroup = Annotated[str, Code(vocab.USER_GROUP)]
KnownPlanningStatus = Annotated[str, Code(vocab.PLANNING_STATUS)]
KnownZoning = Annotated[str, Code(vocab.ZONING)]
KnownServicing = Annotated[str, Code(vocab.SERVICING)]
KnownMarketingStatus = Annotated[str, Code(vocab.MARKETING_STATUS)]
KnownOwnerType = Annotated[str, Code(vocab.OWNER_TYPE)]
KnownBuyerOrigin = Annotated[str, Code(vocab.BUYER_ORIGIN)]
KnownEnquiryOutcome = Annotated[str, Code(vocab.ENQUIRY_OUTCOME)]

#: A set of codes, checked and put in vocabulary order (see :class:`CodeSet`).
KnownRestrictionCauses = Annotated[list[RestrictionCauseCode], CodeSet(vocab.RESTRICTION_CAUSE)]
#: One or more user groups (a parcel suits at least one).
KnownUserGroups = Annotated[list[UserGroupCode], CodeSet(vocab.USER_GROUP, min_length=1)]


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


def refuse_null(value: Any) -> Any:
    """The value of a field that may be left out but not sent as null; null is refused with
    :data:`NOT_REMOVABLE` (a model's ``field_validator`` for the fields of
    :func:`not_nullable`)."""
    if value is None:
        raise ValueError(NOT_REMOVABLE)
    return value


def not_nullable(*fields: str) -> Callable[[dict[str, Any]], None]:
    """``json_schema_extra`` of a model whose ``fields`` may be left out but not sent as null.

    Their schemas lose the ``null`` alternative (and the ``null`` default) that the Python
    type ``X | None`` (needed for "not sent") would publish; the model's validator
    (:func:`refuse_null`) refuses null with :data:`NOT_REMOVABLE`.
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


class WriteModel(BaseModel):
    """Base of the models a client sends to create or change a resource.

    Unknown fields are refused, and text PostgreSQL cannot store is refused in every field.
    Create and update models share their fields; an update is a JSON merge patch (RFC 7396):
    only the fields sent change, and null clears one. :meth:`changes` gives those fields.
    """

    model_config = ConfigDict(extra="forbid")

    @field_validator("*")
    @classmethod
    def _storable_text(cls, v: Any) -> Any:
        return check_storable_text(v)

    def changes(self) -> dict[str, Any]:
        """The fields the client sent (explicit nulls included) with their validated values,
        by API name, in the model's field order.

        Values stay as validated (codes checked and sets ordered, nested models kept as
        models): unlike ``model_dump(exclude_unset=True)``, which would turn a geometry or a
        partner into a dict.
        """
        sent = self.model_fields_set
        return {name: getattr(self, name) for name in type(self).model_fields if name in sent}
