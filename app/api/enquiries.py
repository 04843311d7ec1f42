"""Settlement enquiries (Ansiedlungsanfragen): ``/api/v1/enquiries`` — internal data.

Analysts and above read; editors and admins write (editors only enquiries about their
districts or about the region as a whole). Writes are in :mod:`app.services.enquiry_writes`.
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
from app.api.parcel_params import LIST_HINT, DistrictsParam
from app.api.responses import JSON_MEDIA_TYPE, PROBLEM_RESPONSES, document_response, envelope
from app.api.write_params import WRITE_RESPONSES, Reason
from app.db.queries.enquiries import (
    DEFAULT_ENQUIRY_SORT,
    ENQUIRY_SORT_FIELDS,
    EnquiryFilter,
    fetch_enquiry,
    fetch_enquiry_page,
)
from app.db.queries.keyset import SortKey
from app.db.queries.paging import Cursor
from app.db.session import write_transaction
from app.domain import vocab
from app.domain.enquiry_input import EnquiryCreate, EnquiryPatch
from app.domain.errors import InvalidInput, NotFound
from app.domain.input_types import MAX_ID, EnquiryOutcomeCode, IsoDate, UserGroupCode
from app.services import enquiry_writes
from app.services.write_common import WriteResult

router = APIRouter(prefix="/api/v1", tags=["Ansiedlungsanfragen"])

EnquiryId = Annotated[int, Path(ge=1, le=MAX_ID, description="Enquiry id")]
EnquirySort = Annotated[str, WithJsonSchema(
    {"type": "string", "enum": SortKey.choices(ENQUIRY_SORT_FIELDS)})]

_CONTENT = {JSON_MEDIA_TYPE: {}}


@router.get("/enquiries", summary="List settlement enquiries", response_class=Response,
            responses={200: {"description": "A page of enquiries", "content": _CONTENT},
                       **PROBLEM_RESPONSES})
def list_enquiries(
    request: Request, conn: ReadConnDep, principal: InternalReaderDep, page: KeysetPagingDep,
    district: DistrictsParam = None,
    outcome: Annotated[list[EnquiryOutcomeCode] | None, Query(
        description="Outcome (codes of vocabulary enquiry_outcome)" + LIST_HINT)] = None,
    user_group: Annotated[list[UserGroupCode] | None, Query(
        description="User group (codes of vocabulary user_group)" + LIST_HINT)] = None,
    received_from: Annotated[IsoDate | None, Query(
        description="Received on or after (YYYY-MM-DD)")] = None,
    received_to: Annotated[IsoDate | None, Query(
        description="Received on or before (YYYY-MM-DD)")] = None,
    include_withdrawn: IncludeWithdrawn = False,
    sort: Annotated[EnquirySort | None, Query(
        description="received_on, -received_on (default) or id, -id; ties by id")] = None,
) -> Response:
    """Enquiries in keyset pages with a ``next`` link."""
    if received_from and received_to and received_from > received_to:
        raise InvalidInput.for_field("received_from", "received_from lies after received_to",
                                     "range")
    order = SortKey.parse(sort, ENQUIRY_SORT_FIELDS, DEFAULT_ENQUIRY_SORT, "e")
    f = EnquiryFilter(
        district=ags_list("district", district, 5),
        outcome=code_list("outcome", outcome, vocab.ENQUIRY_OUTCOME),
        user_group=code_list("user_group", user_group, vocab.USER_GROUP),
        received_from=received_from, received_to=received_to,
        include_withdrawn=include_withdrawn)
    cursor = Cursor.decode(page.cursor, str(order)) if page.cursor is not None else None
    document = fetch_enquiry_page(conn, f, order, limit=page.limit, cursor=cursor,
        envelope=envelope(request, as_geojson=False, srid=4326))
    return document_response(document, as_geojson=False, srid=4326)


@router.get("/enquiries/{enquiry_id}", summary="One settlement enquiry",
            response_class=Response,
            responses={200: {"description": "The enquiry", "content": _CONTENT},
                       **PROBLEM_RESPONSES})
def get_enquiry(enquiry_id: EnquiryId, conn: ReadConnDep,
                principal: InternalReaderDep) -> Response:
    """One enquiry (also when withdrawn) with an ``ETag`` for ``If-Match``."""
    found = fetch_enquiry(conn, enquiry_id)
    if found is None:
        raise NotFound(f"enquiry {enquiry_id} does not exist")
    document, version = found
    return item_response(document, etag_value=etag("enquiry", enquiry_id, version))


def _written(conn: Connection, request: Request, result: WriteResult,
             status: int = 200) -> Response:
    found = fetch_enquiry(conn, result.item_id)
    assert found is not None  # written in this transaction
    document, version = found
    location = (str(request.url_for("get_enquiry", enquiry_id=result.item_id))
                if status == 201 else None)
    return item_response(document, etag_value=etag("enquiry", result.item_id, version),
                         status=status, location=location)


@router.post("/enquiries", status_code=201, summary="Record a settlement enquiry",
             response_class=Response,
             responses={201: {"description": "Created", "content": _CONTENT},
                        **WRITE_RESPONSES})
def create_enquiry(request: Request, body: EnquiryCreate, engine: EngineDep,
                   principal: WriterDep, reason: Reason = None) -> Response:
    """Record an enquiry; ``received_on`` defaults to today, ``outcome`` to ``offen``."""
    with write_transaction(engine, principal.actor,
                           reason or "Ansiedlungsanfrage erfasst") as conn:
        result = enquiry_writes.create_enquiry(conn, principal, body)
        return _written(conn, request, result, 201)


@router.patch("/enquiries/{enquiry_id}", openapi_extra=IF_MATCH_REQUIRED,
              summary="Update a settlement enquiry",
              response_class=Response,
              responses={200: {"description": "Updated", "content": _CONTENT},
                         **WRITE_RESPONSES})
def update_enquiry(request: Request, enquiry_id: EnquiryId, body: EnquiryPatch,
                   engine: EngineDep, principal: WriterDep, if_match: RequiredIfMatch,
                   reason: Reason = None) -> Response:
    """Change the fields sent (merge patch). Needs ``If-Match``; a stale one gets 412."""
    version = expected_version(if_match, "enquiry", enquiry_id, required=True)
    with write_transaction(engine, principal.actor,
                           reason or "Ansiedlungsanfrage geändert") as conn:
        result = enquiry_writes.update_enquiry(conn, principal, enquiry_id, body,
                                               expected_version=version)
        return _written(conn, request, result)


@router.post("/enquiries/{enquiry_id}/withdraw", summary="Withdraw a settlement enquiry",
             response_class=Response,
             responses={200: {"description": "Withdrawn", "content": _CONTENT},
                        **WRITE_RESPONSES})
def withdraw_enquiry(request: Request, enquiry_id: EnquiryId, engine: EngineDep,
                     principal: WriterDep, if_match: IfMatch = None,
                     reason: Reason = None) -> Response:
    """Set ``withdrawn_at``: the enquiry is left out of lists by default."""
    version = expected_version(if_match, "enquiry", enquiry_id, required=False)
    with write_transaction(engine, principal.actor,
                           reason or "Ansiedlungsanfrage zurückgezogen") as conn:
        result = enquiry_writes.withdraw_enquiry(conn, principal, enquiry_id, version)
        return _written(conn, request, result)
