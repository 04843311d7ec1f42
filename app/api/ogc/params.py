"""OGC API query parameters → typed values (HTTP only; reading is in app/domain/ogc_params).

The dependencies are ``async def``: they only read and check values, and FastAPI would run
each plain ``def`` dependency in a worker thread of its own (a thread hop per dependency and
request, measured as a sixth of the service's CPU time per page).

Each parameter's published schema is what GDAL and QGIS read from the OpenAPI document to
decide what to send: ``filter-lang`` lists ``cql-text`` (GDAL sends CQL only then), ``crs``
and ``bbox-crs`` list the CRS URIs.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

from fastapi import Depends, Query, Request

from app.api.deps import SettingsDep
from app.api.negotiation import HTML_MEDIA_TYPE, accept_header, require_acceptable
from app.api.parcel_params import CursorText
from app.api.responses import GEOJSON_MEDIA_TYPE, JSON_MEDIA_TYPE
from app.domain.cql2_input import parse_filter
from app.domain.crs import OgcCrs, ogc_crs_list, parse_ogc_crs
from app.domain.filters import FILTER_PARAMS
from app.domain.ogc_params import parse_bbox, parse_datetime, parse_properties, parse_sortby
from app.domain.parcel_fields import PARCEL_FIELDS, FieldType
from app.services.ogc.items import ItemsRequest


class DocumentFormat(StrEnum):
    """Representations of the OGC resources (``f``)."""

    json = "json"
    html = "html"


class FeaturesFormat(StrEnum):
    """Representations of features (``f``): GeoJSON (``json`` is the same) or HTML."""

    json = "json"
    geojson = "geojson"
    html = "html"


class FilterLang(StrEnum):
    """CQL2 encodings; ``cql-text`` is the pre-1.0 name that GDAL sends (same as cql2-text)."""

    cql2_text = "cql2-text"
    cql2_json = "cql2-json"
    cql_text = "cql-text"


def wants_html(request: Request, f: str | None, offers: list[str]) -> bool:
    """Whether to answer HTML: ``f=html``, or an ``Accept`` that prefers it to ``offers``."""
    if f is not None:
        return f == "html"
    chosen = require_acceptable(accept_header(request), [*offers, HTML_MEDIA_TYPE], offers[0])
    return chosen == HTML_MEDIA_TYPE


async def document_format(
    request: Request,
    f: Annotated[DocumentFormat | None, Query(
        description="json or html (else negotiated from Accept)")] = None,
) -> bool:
    """Whether the resource is to be answered as HTML."""
    return wants_html(request, f, [JSON_MEDIA_TYPE])


async def features_format(
    request: Request,
    f: Annotated[FeaturesFormat | None, Query(
        description="geojson (also json) or html (else negotiated from Accept)")] = None,
) -> bool:
    """Whether features are to be answered as HTML (else GeoJSON)."""
    return wants_html(request, f, [GEOJSON_MEDIA_TYPE, JSON_MEDIA_TYPE])


async def output_crs(
    crs: Annotated[str | None, Query(
        description="CRS of the response's coordinates (default CRS84, longitude first; "
                    "EPSG:4326 and EPSG:31468 in their own axis order)",
        json_schema_extra={"enum": [c.uri for c in ogc_crs_list()]})] = None,
) -> str | None:
    """The ``crs`` parameter as sent (read by :func:`items_request`)."""
    return crs


@dataclass(frozen=True)
class CqlFilter:
    """A CQL2 ``filter`` as parsed (``None``: none sent) and the CRS of its geometries."""

    tree: dict[str, Any] | None
    crs: OgcCrs


async def cql2_filter(
    filter_text: Annotated[str | None, Query(
        alias="filter", description="CQL2 filter expression over the queryables")] = None,
    filter_lang: Annotated[str | None, Query(
        alias="filter-lang", description="Encoding of filter (default cql2-text; cql-text "
                                         "is accepted as its older name)",
        json_schema_extra={"enum": [lang.value for lang in FilterLang]})] = None,
    filter_crs: Annotated[str | None, Query(
        alias="filter-crs", description="CRS of the filter's geometries (default CRS84)",
        json_schema_extra={"enum": [c.uri for c in ogc_crs_list()]})] = None,
) -> CqlFilter:
    """``filter``, ``filter-lang`` and ``filter-crs`` (OGC API – Features Part 3), the same
    for items, tiles and exports."""
    return CqlFilter(parse_filter(filter_text, filter_lang),
                     parse_ogc_crs(filter_crs, field="filter-crs"))


CqlFilterDep = Annotated[CqlFilter, Depends(cql2_filter)]


async def items_request(
    settings: SettingsDep,
    crs_text: Annotated[str | None, Depends(output_crs)],
    cql: CqlFilterDep,
    limit: Annotated[int | None, Query(
        ge=1, description="Items per page (default 10); larger values are clamped to the "
                          "configured maximum")] = None,
    cursor: Annotated[CursorText | None, Query(
        description="Opaque position from a next/prev link")] = None,
    bbox: Annotated[str | None, Query(
        description="minx,miny,maxx,maxy in bbox-crs (default CRS84); a lon/lat box with "
                    "minx > maxx crosses the antimeridian")] = None,
    bbox_crs: Annotated[str | None, Query(
        alias="bbox-crs", description="CRS of bbox (default CRS84)",
        json_schema_extra={"enum": [c.uri for c in ogc_crs_list()]})] = None,
    datetime: Annotated[str | None, Query(
        description="Instant or interval (RFC 3339, '..' for an open end) on the "
                    "collection's temporal property")] = None,
    sortby: Annotated[str | None, Query(
        description="A sortable property, '-' for descending (see /sortables)")] = None,
    properties: Annotated[str | None, Query(
        description="Comma-separated properties to return (default: all)")] = None,
) -> ItemsRequest:
    """The OGC items parameters as one :class:`ItemsRequest`."""
    name, descending = parse_sortby(sortby)
    return ItemsRequest(
        limit=min(limit or 10, settings.ogc_page_size_max), cursor=cursor,
        bbox=None if bbox is None else parse_bbox(bbox),
        bbox_crs=parse_ogc_crs(bbox_crs, field="bbox-crs"),
        datetime=None if datetime is None else parse_datetime(datetime),
        crs=parse_ogc_crs(crs_text, field="crs"),
        filter=cql.tree, filter_crs=cql.crs,
        sortby=name, descending=descending, properties=parse_properties(properties))


async def item_crs(crs_text: Annotated[str | None, Depends(output_crs)]) -> OgcCrs:
    """The output CRS of a single item."""
    return parse_ogc_crs(crs_text, field="crs")


HtmlDep = Annotated[bool, Depends(document_format)]
FeaturesHtmlDep = Annotated[bool, Depends(features_format)]
ItemsRequestDep = Annotated[ItemsRequest, Depends(items_request)]
ItemCrsDep = Annotated[OgcCrs, Depends(item_crs)]


#: Parcel properties offered as ``name=value`` query parameters (OGC API – Features Part 3,
#: "queryables as query parameters"): every scalar queryable field except those the registry
#: already filters under the same name and the feature id. GDAL lists exactly these from the
#: OpenAPI document as what it may filter on the server.
PROPERTY_PARAMS: tuple[str, ...] = tuple(
    f.name for f in PARCEL_FIELDS
    if f.queryable and f.type is not FieldType.STRINGS and f.name != "id"
    and f.name not in FILTER_PARAMS)


#: OpenAPI of the ``property=value`` parameters (``openapi_extra`` of the parcels' items).
PROPERTY_PARAMETERS_OPENAPI: list[dict[str, Any]] = [
    {"name": name, "in": "query", "required": False, "schema": {"type": "string"},
     "description": f"Only features whose {name} equals this value (read as the "
                    "queryable's type, see /collections/parcels/queryables)"}
    for name in PROPERTY_PARAMS]


async def property_equals(request: Request) -> tuple[tuple[str, str], ...]:
    """The ``property=value`` parameters sent, read from the query string in one step (27
    parameters resolved one by one by FastAPI cost a tenth of a page's Python time)."""
    query = request.query_params
    return tuple((name, value) for name in PROPERTY_PARAMS for value in query.getlist(name))


PropertyEqualsDep = Annotated[tuple[tuple[str, str], ...], Depends(property_equals)]
