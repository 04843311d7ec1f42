"""Parcel registry, read side: ``GET /api/v1/parcels`` (search) and ``/parcels/{id}``."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from app.api.auth import OPTIONAL_API_KEY, PrincipalDep
from app.api.connections import ReadConnDep
from app.api.etags import etag
from app.api.parcel_params import OutputDep, OutputFormat, PagingDep, ParcelFilterDep
from app.api.responses import (
    GEOJSON_MEDIA_TYPE,
    JSON_MEDIA_TYPE,
    PROBLEM_RESPONSES,
    collection_response,
)
from app.db.queries.paging import Cursor
from app.db.queries.parcel_page import fetch_parcel_page
from app.domain.clock import today
from app.domain.crs import crs_uri
from app.domain.errors import NotFound
from app.domain.filters import ParcelFilter, SortSpec
from app.domain.input_types import MAX_ID

router = APIRouter(prefix="/api/v1", tags=["Flächen"])

ParcelId = Annotated[int, Path(ge=1, le=MAX_ID, description="Parcel id")]

_LIST_CONTENT = {JSON_MEDIA_TYPE: {}, GEOJSON_MEDIA_TYPE: {}}


@router.get(
    "/parcels",
    openapi_extra=OPTIONAL_API_KEY,
    summary="Search parcels",
    response_class=Response,
    responses={200: {"description": "A page of parcels", "content": _LIST_CONTENT},
               **PROBLEM_RESPONSES},
)
def search_parcels(
    request: Request,
    conn: ReadConnDep,
    principal: PrincipalDep,
    f: ParcelFilterDep,
    page: PagingDep,
    out: OutputDep,
) -> Response:
    """Parcels matching every given filter, in keyset pages with a ``next`` link.

    The public sees marketed parcels and their released fields only; analysts and above see
    everything. ``f=geojson`` (or ``Accept: application/geo+json``) returns a FeatureCollection.
    """
    cursor = Cursor.decode(page.cursor, str(page.sort)) if page.cursor is not None else None
    result = fetch_parcel_page(
        conn, f, page.sort, limit=page.limit, cursor=cursor,
        can_read_internal=principal.can_read_internal, reference=today(),
        srid=out.srid, as_feature=out.format is OutputFormat.GEOJSON, count=page.count,
    )
    return collection_response(
        request, result.items, as_geojson=out.format is OutputFormat.GEOJSON, srid=out.srid,
        next_token=result.next_cursor.encode() if result.next_cursor else None,
        number_matched=result.number_matched,
    )


@router.get(
    "/parcels/{parcel_id}",
    openapi_extra=OPTIONAL_API_KEY,
    summary="One parcel",
    response_class=Response,
    responses={200: {"description": "The parcel", "content": _LIST_CONTENT}, **PROBLEM_RESPONSES},
)
def get_parcel(
    parcel_id: ParcelId, conn: ReadConnDep, principal: PrincipalDep, out: OutputDep
) -> Response:
    """One parcel with an ``ETag`` for optimistic locking (send it back as ``If-Match``)."""
    # Any marketing status: a direct link to a sold parcel still resolves (for the roles
    # that may see it).
    f = ParcelFilter(ids=(parcel_id,), marketing_status=(), active_sites_only=False)
    result = fetch_parcel_page(
        conn, f, SortSpec(), limit=1, cursor=None,
        can_read_internal=principal.can_read_internal, reference=today(),
        srid=out.srid, as_feature=out.format is OutputFormat.GEOJSON,
    )
    if not result.items:
        raise NotFound(f"parcel {parcel_id} does not exist or is not public")
    document = result.items[0]
    # The ETag must describe exactly this body, so its version comes from the same row.
    body = json.loads(document)
    version = body.get("properties", body)["version"]
    media = GEOJSON_MEDIA_TYPE if out.format is OutputFormat.GEOJSON else JSON_MEDIA_TYPE
    return Response(
        content=document, media_type=media,
        headers={"ETag": etag("parcel", parcel_id, version),
                 "Content-Crs": f"<{crs_uri(out.srid)}>"},
    )
