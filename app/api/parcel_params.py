"""Query parameters → :class:`ParcelFilter`, paging and output options (HTTP only).

List parameters may be repeated (``?district=14713&district=14729``) or comma-separated
(``?district=14713,14729``). Invalid values become a 422 problem naming the parameter.

Every parameter's schema says exactly what is accepted (vocabulary enums, AGS and number
patterns, ISO dates), and the checks here refuse exactly what the schema refuses, empty
values included: a client generating requests from the OpenAPI document gets no surprises.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

from fastapi import Depends, Query, Request
from pydantic import ValidationError, WithJsonSchema

from app.db.queries.paging import CURSOR_PATTERN
from app.domain import vocab
from app.domain.crs import INPUT_SRIDS, OUTPUT_SRIDS, crs_names, parse_crs, window_problem
from app.domain.errors import BadRequest, FieldProblem, InvalidInput
from app.domain.filters import SORT_PATTERN, SORTABLE_FIELDS, BBox, ParcelFilter, SortSpec
from app.domain.input_types import (
    MAX_ID,
    AvailabilityCode,
    CategoryCode,
    IsoDate,
    MarketingStatusCode,
    PlanningStatusCode,
    RestrictionCauseCode,
    ServicingCode,
    UserGroupCode,
    ZoningCode,
    code_of,
)

from .deps import SettingsDep

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


def parcel_filter(
    district: DistrictsParam = None,
    municipality: Annotated[list[Municipality] | None, Query(
        description="Municipality AGS (8 digits)" + LIST_HINT)] = None,
    site_id: Annotated[list[ListedId] | None, Query(description="Site ids" + LIST_HINT)] = None,
    availability: Annotated[list[AvailabilityCode] | None, Query(
        description="Exact availability classes" + LIST_HINT)] = None,
    availability_horizon: Annotated[
        Annotated[str, code_of(vocab.AVAILABILITY, vocab.AVAILABILITY_HORIZON)] | None,
        Query(description="Available no later than this class: "
                          "sofort < kurzfristig < mittelfristig < langfristig"),
    ] = None,
    available_by: Annotated[IsoDate | None, Query(
        description="Available on or before this date (YYYY-MM-DD; its available_from, "
                    "else its class)")] = None,
    restriction_max: Annotated[
        Annotated[str, code_of(vocab.RESTRICTION_LEVEL, vocab.RESTRICTION_RANK)] | None,
        Query(description="Restriction level at most: keine < gering < erhoeht"),
    ] = None,
    exclude_causes: Annotated[list[RestrictionCauseCode] | None, Query(
        description="Exclude parcels with any of these restriction causes" + LIST_HINT)] = None,
    user_group: Annotated[list[UserGroupCode] | None, Query(
        description="Suitable for any of these user groups" + LIST_HINT)] = None,
    net_area_min_ha: Annotated[float | None, Query(
        ge=0, allow_inf_nan=False, description="Minimum net area, ha")] = None,
    net_area_max_ha: Annotated[float | None, Query(
        ge=0, allow_inf_nan=False, description="Maximum net area, ha")] = None,
    category: Annotated[list[CategoryCode] | None, Query(
        description="Area categories" + LIST_HINT)] = None,
    planning_status: Annotated[list[PlanningStatusCode] | None, Query(
        description="Planning status" + LIST_HINT)] = None,
    zoning: Annotated[list[ZoningCode] | None, Query(
        description="Zoning (BauNVO)" + LIST_HINT)] = None,
    servicing: Annotated[list[ServicingCode] | None, Query(
        description="Servicing state" + LIST_HINT)] = None,
    marketing_status: Annotated[list[MarketingStatusCode] | None, Query(
        description="Marketing status (default: verfuegbar)" + LIST_HINT)] = None,
    rail_siding: Annotated[bool | None, Query(description="Has a rail siding")] = None,
    operation_24h: Annotated[bool | None, Query(description="24-hour operation allowed")] = None,
    max_junction_km: Annotated[float | None, Query(
        ge=0, allow_inf_nan=False, description="Max km to a motorway junction")] = None,
    max_airport_km: Annotated[float | None, Query(
        ge=0, allow_inf_nan=False, description="Max km to the airport")] = None,
    max_price_eur_m2: Annotated[float | None, Query(
        ge=0, allow_inf_nan=False, description="Max price, EUR/m²")] = None,
    q: Annotated[QueryText | None, Query(
        max_length=200, description="Text in site or parcel names")] = None,
    bbox: Annotated[BBoxText | None, Query(
        description="minx,miny,maxx,maxy (in bbox-crs); lon/lat within ±180/±90, min ≤ max; "
                    "400 when outside the area of use of bbox-crs")] = None,
    bbox_crs: Annotated[OutputCrsName | None, Query(
        alias="bbox-crs", description="CRS of bbox (default CRS84)" + CRS_HINT)] = None,
) -> ParcelFilter:
    """The search filter from query parameters."""
    try:
        return ParcelFilter(
            district=split_list(district),
            municipality=split_list(municipality),
            site_id=_ids("site_id", site_id),
            availability=split_list(availability),
            availability_horizon=availability_horizon,
            available_by=available_by,
            restriction_max=restriction_max,
            exclude_causes=split_list(exclude_causes),
            user_group=split_list(user_group),
            net_area_min_ha=net_area_min_ha,
            net_area_max_ha=net_area_max_ha,
            category=split_list(category),
            planning_status=split_list(planning_status),
            zoning=split_list(zoning),
            servicing=split_list(servicing),
            marketing_status=split_list(marketing_status) or ParcelFilter().marketing_status,
            rail_siding=rail_siding,
            operation_24h=operation_24h,
            max_junction_km=max_junction_km,
            max_airport_km=max_airport_km,
            max_price_eur_m2=max_price_eur_m2,
            text=q or None,
            bbox=parse_bbox(bbox, bbox_crs),
        )
    except ValidationError as exc:
        raise validation_problem(exc) from exc


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


def paging(
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


def output(
    request: Request,
    f: Annotated[
        OutputFormat | None, Query(description="json or geojson (else from Accept)")
    ] = None,
    crs: Annotated[OutputCrsName | None, Query(
        description="Output CRS (default CRS84)" + CRS_HINT)] = None,
) -> Output:
    """Format from ``f`` first, then the Accept header; CRS from ``crs``."""
    fmt = f
    if fmt is None:
        fmt = (
            OutputFormat.GEOJSON
            if "application/geo+json" in request.headers.get("accept", "")
            else OutputFormat.JSON
        )
    return Output(format=fmt, srid=parse_crs(crs))


ParcelFilterDep = Annotated[ParcelFilter, Depends(parcel_filter)]
PagingDep = Annotated[Paging, Depends(paging)]
OutputDep = Annotated[Output, Depends(output)]
