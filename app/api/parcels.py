"""Parcel registry, read side: ``GET /api/v1/parcels`` (search) and ``/parcels/{id}``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from app.api.auth import OPTIONAL_API_KEY, PrincipalDep
from app.api.connections import ReadConnDep
from app.api.deps import SettingsDep
from app.api.etags import etag
from app.api.parcel_params import OutputDep, PagingDep, ParcelFilterDep, ReferenceDayDep
from app.api.responses import (
    GEOJSON_MEDIA_TYPE,
    JSON_MEDIA_TYPE,
    PROBLEM_RESPONSES,
    document_response,
    envelope,
)
from app.db.queries.paging import Cursor
from app.db.queries.parcels import count_parcels, one_parcel, parcel_page
from app.db.queries.snapshots import source_for_day
from app.domain.clock import today
from app.domain.errors import NotFound
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
    settings: SettingsDep,
    selection: ParcelFilterDep,
    page: PagingDep,
    out: OutputDep,
    at: ReferenceDayDep,
) -> Response:
    """Parcels matching every given filter, in keyset pages with ``next``/``prev`` links.

    The public sees marketed parcels and their released fields only; analysts and above see
    everything. ``f=geojson`` (or ``Accept: application/geo+json``) returns a FeatureCollection.
    ``count=true`` adds ``numberMatched``: exact up to ``GEFIS_COUNT_EXACT_MAX`` expected
    matches, above that the planner's estimate (then ``numberMatchedEstimated: true``).
    ``at`` shows the parcels as they were at the end of that day (rebuilt from the history,
    or read from a stored quarterly snapshot; today's disclosure applies).
    """
    cursor = Cursor.decode(page.cursor, str(page.sort)) if page.cursor is not None else None
    viewer, source = principal.viewer, source_for_day(conn, at, today())
    matched, estimated = None, False
    if page.count:
        matched, estimated = count_parcels(conn, selection, viewer=viewer, reference=at,
                                           exact_below=settings.count_exact_max, source=source)
    document = parcel_page(
        conn, selection, page.sort, viewer=viewer, reference=at, srid=out.srid,
        as_feature=out.as_geojson, limit=page.limit, cursor=cursor, source=source,
        envelope=envelope(request, as_geojson=out.as_geojson, srid=out.srid,
                          number_matched=matched, estimated=estimated))
    return document_response(document, as_geojson=out.as_geojson, srid=out.srid)


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
    """One parcel with an ``ETag`` for optimistic locking (send it back as ``If-Match``).

    Any marketing status: a direct link to a sold parcel still resolves (for the roles that
    may see it).
    """
    found = one_parcel(conn, parcel_id, viewer=principal.viewer, reference=today(),
                       srid=out.srid, as_feature=out.as_geojson)
    if found is None:
        raise NotFound(f"parcel {parcel_id} does not exist or is not public")
    document, version = found
    return document_response(document, as_geojson=out.as_geojson, srid=out.srid,
                             headers={"ETag": etag("parcel", parcel_id, version)})
