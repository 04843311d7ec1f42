"""Query parameters → :class:`ParcelFilter`, paging and output options (HTTP only).

List parameters may be repeated (``?district=14713&district=14729``) or comma-separated
(``?district=14713,14729``). Invalid values become a 422 problem naming the parameter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Annotated

from fastapi import Depends, Query, Request
from pydantic import ValidationError

from app.domain.crs import parse_crs
from app.domain.errors import FieldProblem, InvalidInput
from app.domain.filters import SORTABLE_FIELDS, BBox, ParcelFilter, SortSpec

from .deps import SettingsDep

DistrictsParam = Annotated[list[str] | None, Query(
    description="District AGS (5 digits), repeated or comma-separated")]


def split_list(values: list[str] | None) -> tuple[str, ...]:
    if not values:
        return ()
    return tuple(v.strip() for value in values for v in value.split(",") if v.strip())


def _ints(name: str, values: list[str] | None) -> tuple[int, ...]:
    try:
        return tuple(int(v) for v in split_list(values))
    except ValueError as exc:
        raise InvalidInput.for_field(name, f"{name} must be whole numbers") from exc


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
    """``minx,miny,maxx,maxy`` in the CRS of ``bbox-crs`` (default CRS84 lon/lat)."""
    if not text:
        return None
    parts = text.split(",")
    if len(parts) != 4:
        raise InvalidInput.for_field(field, "bbox needs four numbers: minx,miny,maxx,maxy")
    try:
        minx, miny, maxx, maxy = (float(p) for p in parts)
        srid = parse_crs(crs_text, field="bbox-crs", allowed=(4326, 25832, 25833, 3857))
        return BBox(minx=minx, miny=miny, maxx=maxx, maxy=maxy, srid=srid)
    except ValidationError as exc:
        message = str(exc.errors()[0]["msg"]).removeprefix("Value error, ")
        raise InvalidInput.for_field(field, message) from exc
    except ValueError as exc:
        raise InvalidInput.for_field(field, "bbox values must be numbers") from exc


def parcel_filter(
    district: Annotated[list[str] | None, Query(description="District AGS (5 digits)")] = None,
    municipality: Annotated[
        list[str] | None, Query(description="Municipality AGS (8 digits)")
    ] = None,
    site_id: Annotated[list[str] | None, Query(description="Site ids")] = None,
    availability: Annotated[
        list[str] | None, Query(description="Exact availability classes")
    ] = None,
    availability_horizon: Annotated[
        str | None,
        Query(
            description="Available no later than this class: "
            "sofort < kurzfristig < mittelfristig < langfristig"
        ),
    ] = None,
    available_by: Annotated[
        date | None,
        Query(description="Available on or before this date (its available_from, else its class)"),
    ] = None,
    restriction_max: Annotated[
        str | None, Query(description="Restriction level at most: keine < gering < erhoeht")
    ] = None,
    exclude_causes: Annotated[
        list[str] | None, Query(description="Exclude parcels with any of these restriction causes")
    ] = None,
    user_group: Annotated[
        list[str] | None, Query(description="Suitable for any of these user groups")
    ] = None,
    net_area_min_ha: Annotated[
        float | None, Query(ge=0, description="Minimum net area, ha")
    ] = None,
    net_area_max_ha: Annotated[
        float | None, Query(ge=0, description="Maximum net area, ha")
    ] = None,
    category: Annotated[list[str] | None, Query(description="Area categories")] = None,
    planning_status: Annotated[list[str] | None, Query(description="Planning status")] = None,
    zoning: Annotated[list[str] | None, Query(description="Zoning (BauNVO)")] = None,
    servicing: Annotated[list[str] | None, Query(description="Servicing state")] = None,
    marketing_status: Annotated[
        list[str] | None, Query(description="Marketing status (default: verfuegbar)")
    ] = None,
    rail_siding: Annotated[bool | None, Query(description="Has a rail siding")] = None,
    operation_24h: Annotated[bool | None, Query(description="24-hour operation allowed")] = None,
    max_junction_km: Annotated[
        float | None, Query(ge=0, description="Max km to a motorway junction")
    ] = None,
    max_airport_km: Annotated[
        float | None, Query(ge=0, description="Max km to the airport")
    ] = None,
    max_price_eur_m2: Annotated[float | None, Query(ge=0, description="Max price, EUR/m²")] = None,
    q: Annotated[
        str | None, Query(max_length=200, description="Text in site or parcel names")
    ] = None,
    bbox: Annotated[str | None, Query(description="minx,miny,maxx,maxy (in bbox-crs)")] = None,
    bbox_crs: Annotated[
        str | None, Query(alias="bbox-crs", description="CRS of bbox (default CRS84)")
    ] = None,
) -> ParcelFilter:
    """The search filter from query parameters."""
    try:
        return ParcelFilter(
            district=split_list(district),
            municipality=split_list(municipality),
            site_id=_ints("site_id", site_id),
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
    sort: Annotated[
        str | None,
        Query(description=f"Sort field, '-' for descending: {', '.join(SORTABLE_FIELDS)}"),
    ] = None,
    limit: Annotated[
        int | None, Query(ge=1, description="Page size; larger values are clamped to the maximum")
    ] = None,
    cursor: Annotated[str | None, Query(description="Opaque token from a 'next' link")] = None,
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
    crs: Annotated[
        str | None,
        Query(
            description="Output CRS: CRS84/EPSG:4326 (default), EPSG:25832, EPSG:25833, EPSG:3857"
        ),
    ] = None,
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
