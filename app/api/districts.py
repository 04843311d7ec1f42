"""Districts and municipalities (read-only, public): ``/api/v1/districts``, ``/municipalities``.

Plain JSON lists carry the attributes and the active parcels; ``f=geojson`` (or ``Accept:
application/geo+json``) returns the boundaries as GeoJSON in ``crs`` (default WGS 84 lon/lat),
optionally simplified. Every answer names the source of the boundaries (``attribution``), as
the licence of VG250 (dl-de/by-2-0) requires.
"""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from app.api.auth import OPTIONAL_API_KEY
from app.api.connections import ReadConnDep
from app.api.list_params import ags_list
from app.api.parcel_params import District, OutputDep, OutputFormat
from app.api.responses import (
    FEATURE_MEDIA_TYPES,
    GEOJSON_MEDIA_TYPE,
    JSON_MEDIA_TYPE,
    absolute_link,
    document_response,
    json_responses,
)
from app.db.queries.districts import district_documents, municipality_documents
from app.domain.crs import crs_uri
from app.domain.errors import NotFound

router = APIRouter(prefix="/api/v1", tags=["Gebiete"])

#: Source note the licence of the administrative boundaries requires.
ATTRIBUTION = ("© GeoBasis-DE / BKG 2017 (Daten verändert); Verwaltungsgrenzen VG250, "
               "Gebietsstand 01.01.2016")

SimplifyM = Annotated[float | None, Query(
    ge=0, le=10_000,
    description="Simplify boundaries with this tolerance in metres (ST_SimplifyPreserveTopology "
                "in EPSG:25832, before transforming); only with f=geojson")]
DistrictAgs = Annotated[str, Path(
    pattern=r"^[0-9]{5}$", examples=["14713"], description="District AGS (5 digits)")]
MunicipalityAgs = Annotated[str, Path(
    pattern=r"^[0-9]{8}$", examples=["14713000"], description="Municipality AGS (8 digits)")]


def _list_response(request: Request, items: list[str], as_geojson: bool, srid: int) -> Response:
    """All items in one document, the attribution first (no paging: at most 187 rows)."""
    media = GEOJSON_MEDIA_TYPE if as_geojson else JSON_MEDIA_TYPE
    document: dict[str, object] = {"attribution": ATTRIBUTION}
    if as_geojson:
        document["type"] = "FeatureCollection"
    document["links"] = [{"rel": "self", "type": media, "href": absolute_link(request)}]
    document["numberReturned"] = document["numberMatched"] = len(items)
    if srid != 4326:
        document["crs"] = crs_uri(srid)
    document["features" if as_geojson else "items"] = [json.loads(i) for i in items]
    return document_response(json.dumps(document, ensure_ascii=False), as_geojson=as_geojson,
                             srid=srid)


def _item_response(item: str, as_geojson: bool, srid: int) -> Response:
    document = {"attribution": ATTRIBUTION, **json.loads(item)}
    return document_response(json.dumps(document, ensure_ascii=False), as_geojson=as_geojson,
                             srid=srid)


@router.get("/districts", openapi_extra=OPTIONAL_API_KEY,
            summary="Districts of the region", response_class=Response,
            responses=json_responses("All districts", FEATURE_MEDIA_TYPES))
def list_districts(request: Request, conn: ReadConnDep, out: OutputDep,
                   simplify_m: SimplifyM = None) -> Response:
    """The nine districts (Kreise, kreisfreie Städte) with their active parcels.

    ``area_km2`` is the boundary's area; ``active_parcels`` and ``active_net_area_ha``
    count the marketed parcels (verfügbar, reserviert) and their net area in hectares.
    """
    as_geojson = out.format is OutputFormat.GEOJSON
    items = district_documents(conn, with_geometry=as_geojson, srid=out.srid,
                               simplify_m=simplify_m)
    return _list_response(request, items, as_geojson, out.srid)


@router.get("/districts/{ags}", openapi_extra=OPTIONAL_API_KEY,
            summary="One district", response_class=Response,
            responses=json_responses("The district", FEATURE_MEDIA_TYPES))
def get_district(ags: DistrictAgs, conn: ReadConnDep, out: OutputDep,
                 simplify_m: SimplifyM = None) -> Response:
    """One district by its AGS; ``f=geojson`` gives a Feature with the boundary."""
    as_geojson = out.format is OutputFormat.GEOJSON
    items = district_documents(conn, ags=ags, with_geometry=as_geojson, srid=out.srid,
                               simplify_m=simplify_m)
    if not items:
        raise NotFound(f"district {ags} is not part of the region")
    return _item_response(items[0], as_geojson, out.srid)


@router.get("/municipalities", openapi_extra=OPTIONAL_API_KEY,
            summary="Municipalities of the region", response_class=Response,
            responses=json_responses("Municipalities", FEATURE_MEDIA_TYPES))
def list_municipalities(
    request: Request, conn: ReadConnDep, out: OutputDep,
    district: Annotated[list[District] | None, Query(
        description="Only municipalities of these districts (AGS, 5 digits); repeat the "
                    "parameter or separate values by commas")] = None,
    simplify_m: SimplifyM = None,
) -> Response:
    """Municipalities (Gemeinden) ordered by AGS, with their district and active parcels."""
    as_geojson = out.format is OutputFormat.GEOJSON
    items = municipality_documents(
        conn, districts=ags_list("district", district, 5), with_geometry=as_geojson,
        srid=out.srid, simplify_m=simplify_m)
    return _list_response(request, items, as_geojson, out.srid)


@router.get("/municipalities/{ags}", openapi_extra=OPTIONAL_API_KEY,
            summary="One municipality", response_class=Response,
            responses=json_responses("The municipality", FEATURE_MEDIA_TYPES))
def get_municipality(ags: MunicipalityAgs, conn: ReadConnDep, out: OutputDep,
                     simplify_m: SimplifyM = None) -> Response:
    """One municipality by its AGS; ``f=geojson`` gives a Feature with the boundary."""
    as_geojson = out.format is OutputFormat.GEOJSON
    items = municipality_documents(conn, ags=ags, with_geometry=as_geojson, srid=out.srid,
                                   simplify_m=simplify_m)
    if not items:
        raise NotFound(f"municipality {ags} is not part of the region")
    return _item_response(items[0], as_geojson, out.srid)
