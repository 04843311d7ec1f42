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
    GEOJSON_MEDIA_TYPE,
    JSON_MEDIA_TYPE,
    PROBLEM_RESPONSES,
    collection_response,
)
from app.db.queries.districts import district_documents, municipality_documents
from app.domain.crs import crs_uri
from app.domain.errors import NotFound

router = APIRouter(prefix="/api/v1", tags=["Gebiete"])

#: Source note the licence of the administrative boundaries requires.
ATTRIBUTION = ("© GeoBasis-DE / BKG 2017 (Daten verändert); Verwaltungsgrenzen VG250, "
               "Gebietsstand 01.01.2016")

_CONTENT = {JSON_MEDIA_TYPE: {}, GEOJSON_MEDIA_TYPE: {}}

SimplifyM = Annotated[float | None, Query(
    ge=0, le=10_000,
    description="Simplify boundaries with this tolerance in metres (ST_SimplifyPreserveTopology "
                "in EPSG:25832, before transforming); only with f=geojson")]
DistrictAgs = Annotated[str, Path(
    pattern=r"^[0-9]{5}$", examples=["14713"], description="District AGS (5 digits)")]
MunicipalityAgs = Annotated[str, Path(
    pattern=r"^[0-9]{8}$", examples=["14713000"], description="Municipality AGS (8 digits)")]


def _with_attribution(json_object: bytes | str) -> bytes:
    """The serialised JSON object with an ``attribution`` member first."""
    raw = json_object.encode() if isinstance(json_object, str) else json_object
    member = json.dumps({"attribution": ATTRIBUTION}, ensure_ascii=False)[:-1].encode()
    return member + b", " + raw.lstrip()[1:]


def _list_response(request: Request, items: list[str], as_geojson: bool, srid: int) -> Response:
    page = collection_response(request, items, as_geojson=as_geojson, srid=srid,
                               next_token=None, number_matched=len(items))
    headers = {k: v for k, v in page.headers.items()
               if k.lower() not in ("content-length", "content-type")}
    return Response(content=_with_attribution(page.body), media_type=page.media_type,
                    headers=headers)


def _item_response(item: str, as_geojson: bool, srid: int) -> Response:
    return Response(content=_with_attribution(item),
                    media_type=GEOJSON_MEDIA_TYPE if as_geojson else JSON_MEDIA_TYPE,
                    headers={"Content-Crs": f"<{crs_uri(srid)}>"})


@router.get("/districts", openapi_extra=OPTIONAL_API_KEY,
            summary="Districts of the region", response_class=Response,
            responses={200: {"description": "All districts", "content": _CONTENT},
                       **PROBLEM_RESPONSES})
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
            responses={200: {"description": "The district", "content": _CONTENT},
                       **PROBLEM_RESPONSES})
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
            responses={200: {"description": "Municipalities", "content": _CONTENT},
                       **PROBLEM_RESPONSES})
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
            responses={200: {"description": "The municipality", "content": _CONTENT},
                       **PROBLEM_RESPONSES})
def get_municipality(ags: MunicipalityAgs, conn: ReadConnDep, out: OutputDep,
                     simplify_m: SimplifyM = None) -> Response:
    """One municipality by its AGS; ``f=geojson`` gives a Feature with the boundary."""
    as_geojson = out.format is OutputFormat.GEOJSON
    items = municipality_documents(conn, ags=ags, with_geometry=as_geojson, srid=out.srid,
                                   simplify_m=simplify_m)
    if not items:
        raise NotFound(f"municipality {ags} is not part of the region")
    return _item_response(items[0], as_geojson, out.srid)
