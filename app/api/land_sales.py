"""Land sales (Grundstücksverkäufe): ``/api/v1/land-sales`` — internal data.

Analysts and above read; editors (in the sale's district) and admins write. Writes are in
:mod:`app.services.land_sale_writes`, inside one transaction that records the caller.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from pydantic import WithJsonSchema

from app.api.auth import InternalReaderDep, WriterDep
from app.api.connections import ReadConnDep
from app.api.deps import EngineDep
from app.api.etags import IF_MATCH_REQUIRED, IfMatch, RequiredIfMatch, VersionedResource
from app.api.list_params import (
    IncludeWithdrawn,
    KeysetPagingDep,
    ags_list,
    code_list,
    page_response,
)
from app.api.parcel_params import (
    LIST_HINT,
    DistrictsParam,
    Municipality,
    OutputDep,
)
from app.api.responses import FEATURE_MEDIA_TYPES, json_responses
from app.api.write_params import InputCrs, Reason, write_responses
from app.db.queries.land_sales import SALE_SORT, LandSaleFilter, fetch_land_sale, land_sale_list
from app.db.session import write_transaction
from app.domain import vocab
from app.domain.crs import INPUT_SRIDS, parse_crs
from app.domain.errors import InvalidInput
from app.domain.input_types import MAX_ID, IsoDate, UserGroupCode
from app.domain.land_sale_input import LandSaleCreate, LandSalePatch
from app.services import land_sale_writes

router = APIRouter(prefix="/api/v1", tags=["Grundstücksverkäufe"])

SaleId = Annotated[int, Path(ge=1, le=MAX_ID, description="Land sale id")]
SaleSort = Annotated[str, WithJsonSchema(
    {"type": "string", "enum": SALE_SORT.choices()})]

_SALE = VersionedResource("land-sale", "get_land_sale", "sale_id", fetch_land_sale)


@router.get("/land-sales", summary="List land sales", response_class=Response,
            responses=json_responses("A page of land sales", FEATURE_MEDIA_TYPES))
def list_land_sales(
    request: Request, conn: ReadConnDep, principal: InternalReaderDep, page: KeysetPagingDep,
    out: OutputDep,
    district: DistrictsParam = None,
    municipality: Annotated[list[Municipality] | None, Query(
        description="Municipality AGS (8 digits)" + LIST_HINT)] = None,
    date_from: Annotated[IsoDate | None, Query(
        alias="from", description="Sold on or after this date (YYYY-MM-DD)")] = None,
    date_to: Annotated[IsoDate | None, Query(
        alias="to", description="Sold on or before this date (YYYY-MM-DD)")] = None,
    buyer_user_group: Annotated[list[UserGroupCode] | None, Query(
        description="Buyer's user group (codes of vocabulary user_group)" + LIST_HINT)] = None,
    include_withdrawn: IncludeWithdrawn = False,
    sort: Annotated[SaleSort | None, Query(
        description="sale_date, -sale_date (default) or id, -id; ties by id")] = None,
) -> Response:
    """Sales in keyset pages with a ``next`` link; ``f=geojson`` gives Point features."""
    if date_from and date_to and date_from > date_to:
        raise InvalidInput.for_field("from", "from lies after to", "range")
    order = SALE_SORT.parse(sort)
    f = LandSaleFilter(
        district=ags_list("district", district, 5),
        municipality=ags_list("municipality", municipality, 8),
        date_from=date_from, date_to=date_to,
        buyer_user_group=code_list("buyer_user_group", buyer_user_group, vocab.USER_GROUP),
        include_withdrawn=include_withdrawn)
    query = land_sale_list(f, srid=out.srid, as_feature=out.as_geojson)
    return page_response(conn, request, page, query, order, as_geojson=out.as_geojson,
                         srid=out.srid)


@router.get("/land-sales/{sale_id}", summary="One land sale", response_class=Response,
            responses=json_responses("The land sale", FEATURE_MEDIA_TYPES))
def get_land_sale(sale_id: SaleId, conn: ReadConnDep, principal: InternalReaderDep,
                  out: OutputDep) -> Response:
    """One sale (also when withdrawn) with an ``ETag`` for ``If-Match``."""
    found = fetch_land_sale(conn, sale_id, srid=out.srid, as_feature=out.as_geojson)
    return _SALE.item(found, sale_id, f"land sale {sale_id} does not exist",
                      as_geojson=out.as_geojson, srid=out.srid)


@router.post("/land-sales", status_code=201, summary="Record a land sale",
             response_class=Response,
             responses=write_responses(201, "Created"))
def create_land_sale(request: Request, body: LandSaleCreate, engine: EngineDep,
                     principal: WriterDep, crs: InputCrs = None,
                     reason: Reason = None) -> Response:
    """Record a sale; located by district, municipality, a point, or the parcel/site sold."""
    srid = parse_crs(crs, allowed=INPUT_SRIDS)
    with write_transaction(engine, principal.actor,
                           reason or "Grundstücksverkauf erfasst") as conn:
        result = land_sale_writes.create_land_sale(conn, principal, body, srid=srid)
        return _SALE.written(conn, request, result, 201)


@router.patch("/land-sales/{sale_id}", openapi_extra=IF_MATCH_REQUIRED,
              summary="Correct a land sale", response_class=Response,
              responses=write_responses(200, "Updated"))
def update_land_sale(request: Request, sale_id: SaleId, body: LandSalePatch,
                     engine: EngineDep, principal: WriterDep, if_match: RequiredIfMatch,
                     crs: InputCrs = None, reason: Reason = None) -> Response:
    """Change the fields sent (merge patch). Needs ``If-Match``; a stale one gets 412."""
    version = _SALE.expected_version(if_match, sale_id, required=True)
    srid = parse_crs(crs, allowed=INPUT_SRIDS)
    with write_transaction(engine, principal.actor,
                           reason or "Grundstücksverkauf geändert") as conn:
        result = land_sale_writes.update_land_sale(conn, principal, sale_id, body,
                                                   expected_version=version, srid=srid)
        return _SALE.written(conn, request, result)


@router.post("/land-sales/{sale_id}/withdraw", summary="Withdraw a land sale",
             response_class=Response,
             responses=write_responses(200, "Withdrawn"))
def withdraw_land_sale(request: Request, sale_id: SaleId, engine: EngineDep,
                       principal: WriterDep, if_match: IfMatch = None,
                       reason: Reason = None) -> Response:
    """Set ``withdrawn_at``: the sale no longer counts and is left out of lists by default."""
    version = _SALE.expected_version(if_match, sale_id, required=False)
    with write_transaction(engine, principal.actor,
                           reason or "Grundstücksverkauf zurückgezogen") as conn:
        result = land_sale_writes.withdraw_land_sale(conn, principal, sale_id, version)
        return _SALE.written(conn, request, result)
