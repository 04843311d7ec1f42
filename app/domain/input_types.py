"""Input types shared by every write model and query parameter (parcels, sites, land sales,
enquiries, matching).

:class:`Range` bounds a number by its column type and names the whole range when refused,
:data:`IsoDate` accepts only ``YYYY-MM-DD``, :func:`code_of` publishes a vocabulary as an
enum, :func:`check_storable_text` keeps text that PostgreSQL cannot store (NUL, lone UTF-16
surrogates) out, and :func:`not_nullable` publishes fields that may be left out but not sent
as null.
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
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    WithJsonSchema,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

from app.domain import vocab

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
