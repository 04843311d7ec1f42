"""Sites (Standorte): ``/api/v1/sites`` — search, read, create, update (If-Match), withdraw.

Routers only translate HTTP; the writes are in :mod:`app.services.site_writes`, inside one
transaction that records the caller. Sites are public unless withdrawn; withdrawn sites are
visible to analysts and above.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from sqlalchemy import Connection

from app.api.auth import OPTIONAL_API_KEY, PrincipalDep, WriterDep, require_internal_reader
from app.api.connections import ReadConnDep
from app.api.deps import EngineDep
from app.api.etags import (
    IF_MATCH_REQUIRED,
    IfMatch,
    RequiredIfMatch,
    etag,
    expected_version,
    item_response,
)
from app.api.list_params import (
    IncludeWithdrawn,
    KeysetPagingDep,
    ags_list,
)
from app.api.parcel_params import (
    LIST_HINT,
    DistrictsParam,
    Municipality,
    OutputDep,
    OutputFormat,
    QueryText,
)
from app.api.responses import (
    GEOJSON_MEDIA_TYPE,
    JSON_MEDIA_TYPE,
    PROBLEM_RESPONSES,
    document_response,
    envelope,
)
from app.api.write_params import WRITE_RESPONSES, InputCrs, Reason, Repair
from app.db.queries.paging import Cursor
from app.db.queries.sites import SITE_SORT, SiteFilter, fetch_site, fetch_site_page
from app.db.session import write_transaction
from app.domain.crs import INPUT_SRIDS, crs_uri, parse_crs
from app.domain.errors import NotFound
from app.domain.input_types import MAX_ID
from app.domain.site_input import SiteCreate, SitePatch
from app.services import site_writes
from app.services.write_common import WriteResult

router = APIRouter(prefix="/api/v1", tags=["Standorte"])

SiteId = Annotated[int, Path(ge=1, le=MAX_ID, description="Site id")]

_CONTENT = {JSON_MEDIA_TYPE: {}, GEOJSON_MEDIA_TYPE: {}}


@router.get("/sites", openapi_extra=OPTIONAL_API_KEY,
            summary="List sites", response_class=Response,
            responses={200: {"description": "A page of sites", "content": _CONTENT},
                       **PROBLEM_RESPONSES})
def list_sites(
    request: Request, conn: ReadConnDep, principal: PrincipalDep, page: KeysetPagingDep,
    out: OutputDep,
    district: DistrictsParam = None,
    municipality: Annotated[list[Municipality] | None, Query(
        description="Municipality AGS (8 digits): the site's or a partner's" + LIST_HINT)] = None,
    q: Annotated[QueryText | None, Query(
        max_length=200, description="Text in name, marketing name or external id")] = None,
    include_withdrawn: IncludeWithdrawn = False,
) -> Response:
    """Sites ordered by id, in keyset pages with a ``next`` link; ``f=geojson`` for outlines."""
    if include_withdrawn:
        require_internal_reader(principal)
    f = SiteFilter(district=ags_list("district", district, 5),
                   municipality=ags_list("municipality", municipality, 8),
                   text=q or None, include_withdrawn=include_withdrawn)
    cursor = Cursor.decode(page.cursor, str(SITE_SORT)) if page.cursor is not None else None
    as_geojson = out.format is OutputFormat.GEOJSON
    document = fetch_site_page(conn, f, limit=page.limit, cursor=cursor, srid=out.srid,
                             as_feature=as_geojson,
        envelope=envelope(request, as_geojson=as_geojson, srid=out.srid))
    return document_response(document, as_geojson=as_geojson, srid=out.srid)


@router.get("/sites/{site_id}", openapi_extra=OPTIONAL_API_KEY,
            summary="One site", response_class=Response,
            responses={200: {"description": "The site", "content": _CONTENT},
                       **PROBLEM_RESPONSES})
def get_site(site_id: SiteId, conn: ReadConnDep, principal: PrincipalDep,
             out: OutputDep) -> Response:
    """One site with partners and active parcels, and an ``ETag`` for ``If-Match``."""
    as_geojson = out.format is OutputFormat.GEOJSON
    found = fetch_site(conn, site_id, include_withdrawn=principal.can_read_internal,
                       srid=out.srid, as_feature=as_geojson)
    if found is None:
        raise NotFound(f"site {site_id} does not exist or is withdrawn")
    document, version = found
    return item_response(
        document, etag_value=etag("site", site_id, version),
        media_type=GEOJSON_MEDIA_TYPE if as_geojson else JSON_MEDIA_TYPE,
        headers={"Content-Crs": f"<{crs_uri(out.srid)}>"})


def _written(conn: Connection, request: Request, result: WriteResult,
             status: int = 200) -> Response:
    found = fetch_site(conn, result.item_id, include_withdrawn=True)
    assert found is not None  # written in this transaction
    document, version = found
    location = (str(request.url_for("get_site", site_id=result.item_id))
                if status == 201 else None)
    return item_response(document, etag_value=etag("site", result.item_id, version),
                         status=status, location=location, notes=result.notes)


@router.post("/sites", status_code=201, summary="Create a site", response_class=Response,
             responses={201: {"description": "Created", "content": {JSON_MEDIA_TYPE: {}}},
                        **WRITE_RESPONSES})
def create_site(request: Request, body: SiteCreate, engine: EngineDep, principal: WriterDep,
                crs: InputCrs = None, repair: Repair = False, reason: Reason = None) -> Response:
    """Create a site in one of the caller's districts; partners' shares must sum to 100."""
    srid = parse_crs(crs, allowed=INPUT_SRIDS)
    with write_transaction(engine, principal.actor, reason or "Standort angelegt") as conn:
        result = site_writes.create_site(conn, principal, body, srid=srid, repair=repair)
        return _written(conn, request, result, 201)


@router.patch("/sites/{site_id}", openapi_extra=IF_MATCH_REQUIRED,
              summary="Update a site", response_class=Response,
              responses={200: {"description": "Updated", "content": {JSON_MEDIA_TYPE: {}}},
                         **WRITE_RESPONSES})
def update_site(request: Request, site_id: SiteId, body: SitePatch, engine: EngineDep,
                principal: WriterDep, if_match: RequiredIfMatch, crs: InputCrs = None,
                repair: Repair = False, reason: Reason = None) -> Response:
    """Change the fields sent (merge patch; ``partners`` replaced as a whole). Needs If-Match."""
    version = expected_version(if_match, "site", site_id, required=True)
    srid = parse_crs(crs, allowed=INPUT_SRIDS)
    with write_transaction(engine, principal.actor, reason or "Standort geändert") as conn:
        result = site_writes.update_site(conn, principal, site_id, body,
                                         expected_version=version, srid=srid, repair=repair)
        return _written(conn, request, result)


@router.post("/sites/{site_id}/withdraw", summary="Withdraw a site", response_class=Response,
             responses={200: {"description": "Withdrawn", "content": {JSON_MEDIA_TYPE: {}}},
                        **WRITE_RESPONSES})
def withdraw_site(request: Request, site_id: SiteId, engine: EngineDep, principal: WriterDep,
                  if_match: IfMatch = None, reason: Reason = None) -> Response:
    """Set ``withdrawn_at``; refused (409) while parcels of the site are still marketed."""
    version = expected_version(if_match, "site", site_id, required=False)
    with write_transaction(engine, principal.actor, reason or "Standort zurückgezogen") as conn:
        result = site_writes.withdraw_site(conn, principal, site_id, version)
        return _written(conn, request, result)
