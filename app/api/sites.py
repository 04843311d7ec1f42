"""Sites (Standorte): ``/api/v1/sites`` — search, read, create, update (If-Match), withdraw.

Routers only translate HTTP; the writes are in :mod:`app.services.site_writes`, inside one
transaction that records the caller. Sites are public unless withdrawn; withdrawn sites are
visible to analysts and above.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from app.api.auth import OPTIONAL_API_KEY, PrincipalDep, WriterDep, require_internal_reader
from app.api.connections import ReadConnDep
from app.api.deps import EngineDep
from app.api.etags import IF_MATCH_REQUIRED, IfMatch, RequiredIfMatch, VersionedResource
from app.api.list_params import (
    IncludeWithdrawn,
    KeysetPagingDep,
    ags_list,
    page_response,
)
from app.api.parcel_params import (
    LIST_HINT,
    DistrictsParam,
    Municipality,
    OutputDep,
    QueryText,
)
from app.api.responses import FEATURE_MEDIA_TYPES, json_responses
from app.api.write_params import InputCrs, Reason, Repair, write_responses
from app.db.queries.sites import SITE_SORT, SiteFilter, fetch_site, site_list
from app.db.session import write_transaction
from app.domain.crs import INPUT_SRIDS, parse_crs
from app.domain.input_types import MAX_ID
from app.domain.site_input import SiteCreate, SitePatch
from app.services import site_writes

router = APIRouter(prefix="/api/v1", tags=["Standorte"])

SiteId = Annotated[int, Path(ge=1, le=MAX_ID, description="Site id")]

_SITE = VersionedResource("site", "get_site", "site_id",
                          partial(fetch_site, include_withdrawn=True))


@router.get("/sites", openapi_extra=OPTIONAL_API_KEY,
            summary="List sites", response_class=Response,
            responses=json_responses("A page of sites", FEATURE_MEDIA_TYPES))
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
    query = site_list(f, srid=out.srid, as_feature=out.as_geojson)
    return page_response(conn, request, page, query, SITE_SORT, as_geojson=out.as_geojson,
                         srid=out.srid)


@router.get("/sites/{site_id}", openapi_extra=OPTIONAL_API_KEY,
            summary="One site", response_class=Response,
            responses=json_responses("The site", FEATURE_MEDIA_TYPES))
def get_site(site_id: SiteId, conn: ReadConnDep, principal: PrincipalDep,
             out: OutputDep) -> Response:
    """One site with partners and active parcels, and an ``ETag`` for ``If-Match``."""
    found = fetch_site(conn, site_id, include_withdrawn=principal.can_read_internal,
                       srid=out.srid, as_feature=out.as_geojson)
    return _SITE.item(found, site_id, f"site {site_id} does not exist or is withdrawn",
                      as_geojson=out.as_geojson, srid=out.srid)


@router.post("/sites", status_code=201, summary="Create a site", response_class=Response,
             responses=write_responses(201, "Created"))
def create_site(request: Request, body: SiteCreate, engine: EngineDep, principal: WriterDep,
                crs: InputCrs = None, repair: Repair = False, reason: Reason = None) -> Response:
    """Create a site in one of the caller's districts; partners' shares must sum to 100."""
    srid = parse_crs(crs, allowed=INPUT_SRIDS)
    with write_transaction(engine, principal.actor, reason or "Standort angelegt") as conn:
        result = site_writes.create_site(conn, principal, body, srid=srid, repair=repair)
        return _SITE.written(conn, request, result, 201)


@router.patch("/sites/{site_id}", openapi_extra=IF_MATCH_REQUIRED,
              summary="Update a site", response_class=Response,
              responses=write_responses(200, "Updated"))
def update_site(request: Request, site_id: SiteId, body: SitePatch, engine: EngineDep,
                principal: WriterDep, if_match: RequiredIfMatch, crs: InputCrs = None,
                repair: Repair = False, reason: Reason = None) -> Response:
    """Change the fields sent (merge patch; ``partners`` replaced as a whole). Needs If-Match."""
    version = _SITE.expected_version(if_match, site_id, required=True)
    srid = parse_crs(crs, allowed=INPUT_SRIDS)
    with write_transaction(engine, principal.actor, reason or "Standort geändert") as conn:
        result = site_writes.update_site(conn, principal, site_id, body,
                                         expected_version=version, srid=srid, repair=repair)
        return _SITE.written(conn, request, result)


@router.post("/sites/{site_id}/withdraw", summary="Withdraw a site", response_class=Response,
             responses=write_responses(200, "Withdrawn"))
def withdraw_site(request: Request, site_id: SiteId, engine: EngineDep, principal: WriterDep,
                  if_match: IfMatch = None, reason: Reason = None) -> Response:
    """Set ``withdrawn_at``; refused (409) while parcels of the site are still marketed."""
    version = _SITE.expected_version(if_match, site_id, required=False)
    with write_transaction(engine, principal.actor, reason or "Standort zurückgezogen") as conn:
        result = site_writes.withdraw_site(conn, principal, site_id, version)
        return _SITE.written(conn, request, result)
