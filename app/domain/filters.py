"""The one filter vocabulary for parcels: search, layers, OGC items, tiles, exports, sums.

A :class:`ParcelFilter` knows nothing about HTTP or SQL, and an empty filter means *every
parcel*: the search screen's defaults (marketed parcels of active sites) belong to the HTTP
layer. Its fields are the filter parameters of the field registry
(:mod:`app.domain.parcel_fields`) plus a few that span several fields (``text``, ``bbox``,
``available_by``, ``active_sites_only``). Codes are checked against their vocabulary, AGS
against their pattern, ranges must be ordered.

>>> ParcelFilter().active()
{}
>>> ParcelFilter(district=("14713",), net_area_min_ha=2).active()
{'district': ('14713',), 'net_area_min_ha': 2.0}
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    create_model,
    field_validator,
    model_validator,
)

from app.domain.parcel_fields import (
    FILTER_PARAMS,
    SORTABLE_FIELDS,
    FieldType,
    FilterParam,
    Op,
    ParcelField,
)

#: The accepted ``sort`` values: a sortable field, optionally signed ('-' for descending).
SORT_PATTERN = rf"^[-+]?(?:{'|'.join(SORTABLE_FIELDS)})$"

#: Marketing states whose land is being marketed (what the public sees, what is "active").
MARKETED_STATUS: tuple[str, ...] = ("verfuegbar", "reserviert")

#: Marketing status the search screen shows when the caller does not say.
SEARCH_DEFAULT_MARKETING_STATUS: tuple[str, ...] = ("verfuegbar",)


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


def _python_type(f: ParcelField, p: FilterParam) -> tuple[Any, Any]:
    """Annotation and default of the filter field ``p`` on the registry field ``f``."""
    if p.op in (Op.IN, Op.OVERLAPS, Op.DISJOINT):
        item: Any = int if f.type is FieldType.INTEGER else str
        return tuple[item, ...], ()
    if p.op is Op.EQ:
        return bool | None, None
    if p.op in (Op.GE, Op.LE):
        return float | None, Field(None, ge=0, allow_inf_nan=False)
    if p.op is Op.UP_TO:
        return str | None, None
    if p.op is Op.BEFORE_OR_NULL:
        return datetime | None, None
    raise AssertionError(p.op)


def _check_param(f: ParcelField, p: FilterParam, value: Any) -> None:
    """Raise ``ValueError`` naming the parameter when ``value`` is not allowed for it."""
    if p.op is Op.UP_TO:
        if value not in p.up_to_codes:
            raise ValueError(f"{p.param} must be one of {', '.join(p.up_to_codes)}")
        return
    if not isinstance(value, tuple):
        return
    if f.vocabulary is not None:
        unknown = [c for c in value if c not in f.vocabulary]
        if unknown:
            raise ValueError(f"unknown {f.vocabulary.name} code(s) {', '.join(unknown)} for "
                             f"{p.param}; known: {', '.join(f.vocabulary.codes)}")
    if f.pattern is not None:
        bad = [c for c in value if not re.fullmatch(f.pattern, str(c))]
        if bad:
            raise ValueError(f"{p.param}: {', '.join(map(str, bad))} do not match {f.pattern}")


class _FilterBase(BaseModel):
    """Filters spanning several fields; the registry's parameters are added to it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    available_by: date | None = Field(
        None, description="available on or before this date (available_from, else the class)")
    text: str | None = Field(None, min_length=1, max_length=200)
    bbox: BBox | None = None
    active_sites_only: bool = Field(
        False, description="Leave out parcels of withdrawn sites")

    def active(self) -> dict[str, Any]:
        """The filters that are set (non-empty), by name."""
        return {k: v for k, v in self.__dict__.items()
                if v is not None and v != () and not (k == "active_sites_only" and not v)}


def _validator(name: str) -> Any:
    """A field validator checking the filter parameter ``name`` against the registry."""
    f, p = FILTER_PARAMS[name]
    low = next((q.param for q in f.filters if q.op is Op.GE), None) if p.op is Op.LE else None

    def check(cls: type, value: Any, info: ValidationInfo) -> Any:
        if value is not None and value != ():
            _check_param(f, p, value)
        lowest = info.data.get(low) if low else None
        if value is not None and lowest is not None and lowest > value:
            raise ValueError(f"{name} {value} is below {low} {lowest}")
        return value

    return field_validator(name)(check)


#: Which parcels to select. Every field is optional; fields combine with AND; no field set
#: means every parcel. Areas are hectares, distances kilometres, prices EUR per m².
ParcelFilter: type[_FilterBase] = create_model(  # type: ignore[call-overload]
    "ParcelFilter",
    __base__=_FilterBase,
    __module__=__name__,
    __validators__={f"_check_{name}": _validator(name) for name in FILTER_PARAMS},
    **{name: _python_type(f, p) for name, (f, p) in FILTER_PARAMS.items()},
)
ParcelFilter.__doc__ = _FilterBase.__doc__


class SortSpec(BaseModel):
    """Sort order: one registry field (see :data:`SORTABLE_FIELDS`), ties broken by id.

    The direction applies to the field and to the id; NULLs (and values the caller may not
    see) come last in either direction.

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

        ``None`` sorts by id. Exactly the strings of :data:`SORT_PATTERN` are accepted.

        >>> SortSpec.parse("+price_eur_m2")
        SortSpec(field='price_eur_m2', descending=False)
        """
        if text is None:
            return cls()
        sign = text[:1]
        name = text[1:] if sign in ("-", "+") else text
        return cls(field=name, descending=sign == "-")

    def __str__(self) -> str:
        return ("-" if self.descending else "") + self.field
