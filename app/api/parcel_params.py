"""Query parameters → :class:`ParcelFilter`, paging and output options (HTTP only).

List parameters may be repeated (``?district=14713&district=14729``) or comma-separated
(``?district=14713,14729``). Invalid values become a 422 problem naming the parameter.

Every parameter's schema says exactly what is accepted (vocabulary enums, AGS and number
patterns, ISO dates), and the checks here refuse exactly what the schema refuses, empty
values included: a client generating requests from the OpenAPI document gets no surprises.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from pydantic import ValidationError, WithJsonSchema

from app.db.queries.paging import CURSOR_PATTERN
from app.domain.clock import today
from app.domain.crs import INPUT_SRIDS, OUTPUT_SRIDS, crs_names, parse_crs, window_problem
from app.domain.errors import BadRequest, FieldProblem, InvalidInput
from app.domain.filters import (
    MARKETED_STATUS,
    SEARCH_DEFAULT_MARKETING_STATUS,
    SORT_PATTERN,
    BBox,
    ParcelFilter,
    SortSpec,
)
from app.domain.input_types import MAX_ID, IsoDate, code_of
from app.domain.parcel_fields import (
    FILTER_PARAMS,
    SORTABLE_FIELDS,
    FieldType,
    FilterParam,
    Op,
    ParcelField,
)

from .deps import SettingsDep
from .negotiation import accept_header, require_acceptable

LIST_HINT = "; repeat the parameter or separate values by commas"
CRS_HINT = " (EPSG:n, n and OGC URIs/URNs are read too)"

_NUMBER = r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?"
#: ``minx,miny,maxx,maxy``: four decimal numbers.
BBOX_PATTERN = rf"^{_NUMBER},{_NUMBER},{_NUMBER},{_NUMBER}$"
_BBOX = re.compile(BBOX_PATTERN)
_ID = re.compile(r"^[1-9][0-9]{0,18}$")


def _pattern(pattern: str) -> WithJsonSchema:
    return WithJsonSchema({"type": "string", "pattern": pattern})


def _crs_enum(srids: tuple[int, ...]) -> WithJsonSchema:
    return WithJsonSchema({"type": "string", "enum": crs_names(srids)})


# Published schemas of single parameter values; the checks below enforce each of them.
#: One AGS of a district (5 digits) or municipality (8 digits).
District = Annotated[str, _pattern("^[0-9]{5}$")]
Municipality = Annotated[str, _pattern("^[0-9]{8}$")]
#: One id in a list parameter.
ListedId = Annotated[str, WithJsonSchema({"type": "integer", "minimum": 1,
                                          "maximum": MAX_ID})]
#: Free text in a query: anything but NUL (PostgreSQL text cannot hold it).
QueryText = Annotated[str, WithJsonSchema(
    {"type": "string", "maxLength": 200, "pattern": "^[^\\u0000]*$"})]
BBoxText = Annotated[str, _pattern(BBOX_PATTERN)]
SortText = Annotated[str, _pattern(SORT_PATTERN)]
CursorText = Annotated[str, _pattern(CURSOR_PATTERN)]
#: A CRS: an enum of the canonical names of the output (or input) CRSs.
OutputCrsName = Annotated[str, _crs_enum(OUTPUT_SRIDS)]
InputCrsName = Annotated[str, _crs_enum(INPUT_SRIDS)]

DistrictsParam = Annotated[list[District] | None, Query(
    description="District AGS (5 digits)" + LIST_HINT)]


def split_list(values: list[str] | None) -> tuple[str, ...]:
    """The items of repeated and comma-separated parameters, exactly as sent.

    Empty items are kept (so the caller's check refuses them, as the schema does).

    >>> split_list(["14713,15002", "14729"])
    ('14713', '15002', '14729')
    """
    if not values:
        return ()
    return tuple(v for value in values for v in value.split(","))


def _ids(name: str, values: list[str] | None) -> tuple[int, ...]:
    items = split_list(values)
    if not all(_ID.fullmatch(v) and int(v) <= MAX_ID for v in items):
        raise InvalidInput.for_field(name, f"{name} must be whole numbers from 1 to {MAX_ID}")
    return tuple(int(v) for v in items)


def validation_problem(exc: ValidationError, prefix: str = "") -> InvalidInput:
    """A pydantic validation error as an InvalidInput naming each field."""
    problems = [
        FieldProblem(
            prefix + ".".join(str(p) for p in err["loc"]) or None,
            str(err["msg"]).removeprefix("Value error, "),
            err["type"],
        )
        for err in exc.errors()
    ]
    return InvalidInput("; ".join(f"{p.field}: {p.reason}" for p in problems), problems=problems)


def parse_bbox(text: str | None, crs_text: str | None, field: str = "bbox") -> BBox | None:
    """``minx,miny,maxx,maxy`` in the CRS of ``bbox-crs`` (default CRS84 lon/lat).

    ``bbox-crs`` is checked even without a box. 422 for a malformed box; 400 for one outside
    where its CRS is defined (area of use, projection domain): PostGIS could not transform it.
    """
    srid = parse_crs(crs_text, field="bbox-crs", allowed=OUTPUT_SRIDS)
    if text is None:
        return None
    if not _BBOX.fullmatch(text):
        raise InvalidInput.for_field(field, "bbox needs four numbers: minx,miny,maxx,maxy")
    minx, miny, maxx, maxy = (float(p) for p in text.split(","))
    try:
        box = BBox(minx=minx, miny=miny, maxx=maxx, maxy=maxy, srid=srid)
    except ValidationError as exc:
        message = str(exc.errors()[0]["msg"]).removeprefix("Value error, ")
        raise InvalidInput.for_field(field, message) from exc
    problem = window_problem(srid, minx, miny, maxx, maxy)
    if problem:
        raise BadRequest.for_field(field, problem, "area_of_use")
    return box


def _param_annotation(f: ParcelField, p: FilterParam) -> Any:
    """The query parameter of the registry filter ``p`` on ``f``, with its published schema."""
    item: Any
    if f.vocabulary is not None:
        item = Annotated[str, code_of(f.vocabulary, p.up_to_codes or None)]
    elif f.pattern is not None:
        item = Annotated[str, _pattern(f.pattern)]
    elif f.type is FieldType.INTEGER:
        item = ListedId
    else:
        item = str
    if p.op in (Op.IN, Op.OVERLAPS, Op.DISJOINT):
        return Annotated[list[item] | None, Query(description=p.description)]
    if p.op is Op.EQ:
        return Annotated[bool | None, Query(description=p.description)]
    if p.op in (Op.GE, Op.LE):
        return Annotated[float | None, Query(ge=0, allow_inf_nan=False,
                                             description=p.description)]
    if p.op is Op.UP_TO:
        return Annotated[item | None, Query(description=p.description)]
    raise AssertionError(p.op)


#: The registry's filter parameters offered over HTTP, in registry order.
HTTP_FILTERS: tuple[tuple[ParcelField, FilterParam], ...] = tuple(
    (f, p) for f, p in FILTER_PARAMS.values() if p.http)


def _filter_value(f: ParcelField, p: FilterParam, raw: Any) -> Any:
    if p.op in (Op.IN, Op.OVERLAPS, Op.DISJOINT):
        if f.type is FieldType.INTEGER:
            return _ids(p.param, raw)
        return split_list(raw)
    return raw


def _filter_from_query(query: dict[str, Any], default_status: tuple[str, ...], *,
                       specials: bool = True) -> ParcelFilter:
    """The filter from query parameters, with the marketing status ``default_status``
    unless asked otherwise; with ``specials`` (the search's ``q``, ``bbox``,
    ``available_by``) active sites only."""
    values = {p.param: _filter_value(f, p, query[p.param]) for f, p in HTTP_FILTERS}
    values = {k: v for k, v in values.items() if v is not None and v != ()}
    if default_status:
        values.setdefault("marketing_status", default_status)
    try:
        if not specials:
            return ParcelFilter(**values, text=query.get("q") or None)
        return ParcelFilter(
            **values,
            available_by=query["available_by"],
            text=query["q"] or None,
            bbox=parse_bbox(query["bbox"], query["bbox_crs"]),
            active_sites_only=True,
        )
    except ValidationError as exc:
        raise validation_problem(exc) from exc


def _special_parameters(names: tuple[str, ...] | None = None) -> list[inspect.Parameter]:
    specs: dict[str, Any] = {
        "available_by": Annotated[IsoDate | None, Query(
            description="Available on or before this date (YYYY-MM-DD; its available_from, "
                        "else its class)")],
        "q": Annotated[QueryText | None, Query(
            max_length=200, description="Text in site or parcel names")],
        "bbox": Annotated[BBoxText | None, Query(
            description="minx,miny,maxx,maxy (in bbox-crs); lon/lat within ±180/±90, "
                        "min ≤ max; 400 when outside the area of use of bbox-crs")],
        "bbox_crs": Annotated[OutputCrsName | None, Query(
            alias="bbox-crs", description="CRS of bbox (default CRS84)" + CRS_HINT)],
    }
    return [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None,
                              annotation=annotation) for name, annotation in specs.items()
            if names is None or name in names]


def _build_parcel_filter(default_status: tuple[str, ...], doc: str, *,
                         specials: bool = True) -> Any:
    """A FastAPI dependency reading every filter parameter of the field registry and the
    text search ``q``; the marketing status defaults to ``default_status``; ``specials``
    adds the search's own parameters (``bbox``, ``bbox-crs``, ``available_by``) and
    restricts to active sites."""
    async def parcel_filter(**query: Any) -> ParcelFilter:
        return _filter_from_query(query, default_status, specials=specials)

    parameters = [inspect.Parameter(p.param, inspect.Parameter.KEYWORD_ONLY, default=None,
                                    annotation=_param_annotation(f, p))
                  for f, p in HTTP_FILTERS]
    extra = _special_parameters() if specials else _special_parameters(("q",))
    parcel_filter.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [*parameters, *extra], return_annotation=ParcelFilter)
    parcel_filter.__doc__ = doc
    return parcel_filter


#: The search screen's filter: marketing status ``verfuegbar`` unless asked otherwise.
parcel_filter = _build_parcel_filter(
    SEARCH_DEFAULT_MARKETING_STATUS,
    "The search filter: marketing status verfuegbar unless asked, active sites only.")
#: The filter of sums (summary, balance): land still on the market (``verfuegbar`` and
#: ``reserviert``) unless asked otherwise; sold and withdrawn land is no supply.
supply_filter = _build_parcel_filter(
    MARKETED_STATUS,
    "The supply filter: marketing status verfuegbar or reserviert unless asked, active "
    "sites only.")

#: The filter of a published layer (OGC items, GeoJSON layers): every parcel the caller may
#: see, narrowed only by the registry parameters given.
layer_filter = _build_parcel_filter(
    (), "The layer filter: every parcel the caller may see unless the registry's parameters "
    "narrow it.", specials=False)


async def reference_day(
    at: Annotated[IsoDate | None, Query(
        description="Reference date (YYYY-MM-DD): the state at the end of that day, rebuilt "
                    "from the history; default today")] = None,
) -> date:
    """The day whose state is asked for (today by default); 400 for a day after today."""
    day = today()
    if at is None:
        return day
    if at > day:
        raise BadRequest.for_field("at", f"at lies in the future (today is {day.isoformat()})",
                                   "future_date")
    return at


class OutputFormat(StrEnum):
    """Representations of a parcel list."""

    JSON = "json"
    GEOJSON = "geojson"


@dataclass(frozen=True)
class Paging:
    """Sort order, page size (clamped to the configured maximum) and cursor token."""

    sort: SortSpec
    limit: int
    cursor: str | None
    count: bool


async def paging(
    settings: SettingsDep,
    sort: Annotated[SortText | None, Query(
        description=f"Sort field, '-' for descending: {', '.join(SORTABLE_FIELDS)}")] = None,
    limit: Annotated[int | None, Query(
        ge=1, description="Page size; larger values are clamped to the maximum")] = None,
    cursor: Annotated[CursorText | None, Query(
        description="Opaque token from a 'next' link")] = None,
    count: Annotated[bool, Query(description="Also return the exact number of matches")] = False,
) -> Paging:
    """Paging parameters; ``limit`` above the maximum is clamped, never an error."""
    try:
        spec = SortSpec.parse(sort)
    except ValidationError as exc:
        raise validation_problem(exc, prefix="sort.") from exc
    size = min(limit or settings.page_size_default, settings.page_size_max)
    return Paging(sort=spec, limit=size, cursor=cursor, count=count)


@dataclass(frozen=True)
class Output:
    """Requested representation and CRS."""

    format: OutputFormat
    srid: int

    @property
    def as_geojson(self) -> bool:
        """Whether GeoJSON (Features in a FeatureCollection) was asked for."""
        return self.format is OutputFormat.GEOJSON

    @property
    def media_type(self) -> str:
        """The media type of the representation."""
        return _MEDIA_TYPES[self.format]


_MEDIA_TYPES = {OutputFormat.JSON: "application/json",
                OutputFormat.GEOJSON: "application/geo+json"}


async def output(
    request: Request,
    format_: Annotated[OutputFormat | None, Query(
        alias="f", description="json or geojson (else negotiated from Accept)")] = None,
    crs: Annotated[OutputCrsName | None, Query(
        description="Output CRS (default CRS84)" + CRS_HINT)] = None,
) -> Output:
    """Format from ``f`` first, then the ``Accept`` header (q-values honoured; 406 when it
    accepts neither JSON nor GeoJSON); CRS from ``crs``."""
    fmt = format_
    if fmt is None:
        chosen = require_acceptable(accept_header(request), list(_MEDIA_TYPES.values()),
                                    _MEDIA_TYPES[OutputFormat.JSON])
        fmt = next(k for k, v in _MEDIA_TYPES.items() if v == chosen)
    return Output(format=fmt, srid=parse_crs(crs))


ParcelFilterDep = Annotated[ParcelFilter, Depends(parcel_filter)]
SupplyFilterDep = Annotated[ParcelFilter, Depends(supply_filter)]
LayerFilterDep = Annotated[ParcelFilter, Depends(layer_filter)]
ReferenceDayDep = Annotated[date, Depends(reference_day)]
PagingDep = Annotated[Paging, Depends(paging)]
OutputDep = Annotated[Output, Depends(output)]
