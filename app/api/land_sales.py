"""Land sales (Grundstücksverkäufe): ``/api/v1/land-sales`` — internal data.

Analysts and above read; editors (in the sale's district) and admins write. Writes are in
:mod:`app.services.land_sale_writes`, inside one transaction that records the caller.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from pydantic import WithJsonSchema
from sqlalchemy import Connection

from app.api.auth import InternalReaderDep, WriterDep
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
    code_list,
)
from app.api.parcel_params import (
    LIST_HINT,
    DistrictsParam,
    Municipality,
    OutputDep,
    OutputFormat,
)
from app.api.responses import (
    GEOJSON_MEDIA_TYPE,
    JSON_MEDIA_TYPE,
    PROBLEM_RESPONSES,
    document_response,
    envelope,
)
from app.api.write_params import WRITE_RESPONSES, InputCrs, Reason
from app.db.queries.keyset import SortKey
from app.db.queries.land_sales import (
    DEFAULT_SALE_SORT,
    SALE_SORT_FIELDS,
    LandSaleFilter,
    fetch_land_sale,
    fetch_land_sale_page,
)
from app.db.queries.paging import Cursor
from app.db.session import write_transaction
from app.domain import vocab
from app.domain.crs import INPUT_SRIDS, crs_uri, parse_crs
from app.domain.errors import InvalidInput, NotFound
from app.domain.input_types import MAX_ID, IsoDate, UserGroupCode
from app.domain.land_sale_input import LandSaleCreate, LandSalePatch
from app.services import land_sale_writes
from app.services.write_common import WriteResult

router = APIRouter(prefix="/api/v1", tags=["Grundstücksverkäufe"])

SaleId = Annotated[int, Path(ge=1, le=MAX_ID, description="Land sale id")]
SaleSort = Annotated[str, WithJsonSchema(
    {"type": "string", "enum": SortKey.choices(SALE_SORT_FIELDS)})]

_CONTENT = {JSON_MEDIA_TYPE: {}, GEOJSON_MEDIA_TYPE: {}}


@router.get("/land-sales", summary="List land sales", response_class=Response,
            responses={200: {"description": "A page of land sales", "content": _CONTENT},
                       **PROBLEM_RESPONSES})
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
    order = SortKey.parse(sort, SALE_SORT_FIELDS, DEFAULT_SALE_SORT, "l")
    f = LandSaleFilter(
        district=ags_list("district", district, 5),
        municipality=ags_list("municipality", municipality, 8),
        date_from=date_from, date_to=date_to,
        buyer_user_group=code_list("buyer_user_group", buyer_user_group, vocab.USER_GROUP),
        include_withdrawn=include_withdrawn)
    cursor = Cursor.decode(page.cursor, str(order)) if page.cursor is not None else None
    as_geojson = out.format is OutputFormat.GEOJSON
    document = fetch_land_sale_page(conn, f, order, limit=page.limit, cursor=cursor,
                                  srid=out.srid, as_feature=as_geojson,
        envelope=envelope(request, as_geojson=as_geojson, srid=out.srid))
    return document_response(document, as_geojson=as_geojson, srid=out.srid)


@router.get("/land-sales/{sale_id}", summary="One land sale", response_class=Response,
            responses={200: {"description": "The land sale", "content": _CONTENT},
                       **PROBLEM_RESPONSES})
def get_land_sale(sale_id: SaleId, conn: ReadConnDep, principal: InternalReaderDep,
                  out: OutputDep) -> Response:
    """One sale (also when withdrawn) with an ``ETag`` for ``If-Match``."""
    as_geojson = out.format is OutputFormat.GEOJSON
    found = fetch_land_sale(conn, sale_id, srid=out.srid, as_feature=as_geojson)
    if found is None:
        raise NotFound(f"land sale {sale_id} does not exist")
    document, version = found
    return item_response(
        document, etag_value=etag("land-sale", sale_id, version),
        media_type=GEOJSON_MEDIA_TYPE if as_geojson else JSON_MEDIA_TYPE,
        headers={"Content-Crs": f"<{crs_uri(out.srid)}>"})


def _written(conn: Connection, request: Request, result: WriteResult,
             status: int = 200) -> Response:
    found = fetch_land_sale(conn, result.item_id)
    assert found is not None  # written in this transaction
    document, version = found
    location = (str(request.url_for("get_land_sale", sale_id=result.item_id))
                if status == 201 else None)
    return item_response(document, etag_value=etag("land-sale", result.item_id, version),
                         status=status, location=location, notes=result.notes)


@router.post("/land-sales", status_code=201, summary="Record a land sale",
             response_class=Response,
             responses={201: {"description": "Created", "content": {JSON_MEDIA_TYPE: {}}},
                        **WRITE_RESPONSES})
def create_land_sale(request: Request, body: LandSaleCreate, engine: EngineDep,
                     principal: WriterDep, crs: InputCrs = None,
                     reason: Reason = None) -> Response:
    """Record a sale; located by district, municipality, a point, or the parcel/site sold."""
    srid = parse_crs(crs, allowed=INPUT_SRIDS)
    with write_transaction(engine, principal.actor,
                           reason or "Grundstücksverkauf erfasst") as conn:
        result = land_sale_writes.create_land_sale(conn, principal, body, srid=srid)
        return _written(conn, request, result, 201)


@router.patch("/land-sales/{sale_id}", openapi_extra=IF_MATCH_REQUIRED,
              summary="Correct a land sale", response_class=Response,
              responses={200: {"description": "Updated", "content": {JSON_MEDIA_TYPE: {}}},
                         **WRITE_RESPONSES})
def update_land_sale(request: Request, sale_id: SaleId, body: LandSalePatch,
                     engine: EngineDep, principal: WriterDep, if_match: RequiredIfMatch,
                     crs: InputCrs = None, reason: Reason = None) -> Response:
    """Change the fields sent (merge patch). Needs ``If-Match``; a stale one gets 412."""
    version = expected_version(if_match, "land-sale", sale_id, required=True)
    srid = parse_crs(crs, allowed=INPUT_SRIDS)
    with write_transaction(engine, principal.actor,
                           reason or "Grundstücksverkauf geändert") as conn:
        result = land_sale_writes.update_land_sale(conn, principal, sale_id, body,
                                                   expected_version=version, srid=srid)
        return _written(conn, request, result)


@router.post("/land-sales/{sale_id}/withdraw", summary="Withdraw a land sale",
             response_class=Response,
             responses={200: {"description": "Withdrawn", "content": {JSON_MEDIA_TYPE: {}}},
                        **WRITE_RESPONSES})
def withdraw_land_sale(request: Request, sale_id: SaleId, engine: EngineDep,
                       principal: WriterDep, if_match: IfMatch = None,
                       reason: Reason = None) -> Response:
    """Set ``withdrawn_at``: the sale no longer counts and is left out of lists by default."""
    version = expected_version(if_match, "land-sale", sale_id, required=False)
    with write_transaction(engine, principal.actor,
                           reason or "Grundstücksverkauf zurückgezogen") as conn:
        result = land_sale_writes.withdraw_land_sale(conn, principal, sale_id, version)
        return _written(conn, request, result)
