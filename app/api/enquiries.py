"""Settlement enquiries (Ansiedlungsanfragen): ``/api/v1/enquiries`` — internal data.

Analysts and above read; editors and admins write (editors only enquiries about their
districts or about the region as a whole). Writes are in :mod:`app.services.enquiry_writes`.
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
from app.api.parcel_params import LIST_HINT, DistrictsParam
from app.api.responses import json_responses
from app.api.write_params import Reason, write_responses
from app.db.queries.enquiries import ENQUIRY_SORT, EnquiryFilter, enquiry_list, fetch_enquiry
from app.db.session import write_transaction
from app.domain import vocab
from app.domain.enquiry_input import EnquiryCreate, EnquiryPatch
from app.domain.errors import InvalidInput
from app.domain.input_types import MAX_ID, EnquiryOutcomeCode, IsoDate, UserGroupCode
from app.services import enquiry_writes

router = APIRouter(prefix="/api/v1", tags=["Ansiedlungsanfragen"])

EnquiryId = Annotated[int, Path(ge=1, le=MAX_ID, description="Enquiry id")]
EnquirySort = Annotated[str, WithJsonSchema(
    {"type": "string", "enum": ENQUIRY_SORT.choices()})]

_ENQUIRY = VersionedResource("enquiry", "get_enquiry", "enquiry_id", fetch_enquiry)


@router.get("/enquiries", summary="List settlement enquiries", response_class=Response,
            responses=json_responses("A page of enquiries"))
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
    order = ENQUIRY_SORT.parse(sort)
    f = EnquiryFilter(
        district=ags_list("district", district, 5),
        outcome=code_list("outcome", outcome, vocab.ENQUIRY_OUTCOME),
        user_group=code_list("user_group", user_group, vocab.USER_GROUP),
        received_from=received_from, received_to=received_to,
        include_withdrawn=include_withdrawn)
    return page_response(conn, request, page, enquiry_list(f), order)


@router.get("/enquiries/{enquiry_id}", summary="One settlement enquiry",
            response_class=Response,
            responses=json_responses("The enquiry"))
def get_enquiry(enquiry_id: EnquiryId, conn: ReadConnDep,
                principal: InternalReaderDep) -> Response:
    """One enquiry (also when withdrawn) with an ``ETag`` for ``If-Match``."""
    return _ENQUIRY.item(fetch_enquiry(conn, enquiry_id), enquiry_id,
                         f"enquiry {enquiry_id} does not exist")


@router.post("/enquiries", status_code=201, summary="Record a settlement enquiry",
             response_class=Response,
             responses=write_responses(201, "Created"))
def create_enquiry(request: Request, body: EnquiryCreate, engine: EngineDep,
                   principal: WriterDep, reason: Reason = None) -> Response:
    """Record an enquiry; ``received_on`` defaults to today, ``outcome`` to ``offen``."""
    with write_transaction(engine, principal.actor,
                           reason or "Ansiedlungsanfrage erfasst") as conn:
        result = enquiry_writes.create_enquiry(conn, principal, body)
        return _ENQUIRY.written(conn, request, result, 201)


@router.patch("/enquiries/{enquiry_id}", openapi_extra=IF_MATCH_REQUIRED,
              summary="Update a settlement enquiry",
              response_class=Response,
              responses=write_responses(200, "Updated"))
def update_enquiry(request: Request, enquiry_id: EnquiryId, body: EnquiryPatch,
                   engine: EngineDep, principal: WriterDep, if_match: RequiredIfMatch,
                   reason: Reason = None) -> Response:
    """Change the fields sent (merge patch). Needs ``If-Match``; a stale one gets 412."""
    version = _ENQUIRY.expected_version(if_match, enquiry_id, required=True)
    with write_transaction(engine, principal.actor,
                           reason or "Ansiedlungsanfrage geändert") as conn:
        result = enquiry_writes.update_enquiry(conn, principal, enquiry_id, body,
                                               expected_version=version)
        return _ENQUIRY.written(conn, request, result)


@router.post("/enquiries/{enquiry_id}/withdraw", summary="Withdraw a settlement enquiry",
             response_class=Response,
             responses=write_responses(200, "Withdrawn"))
def withdraw_enquiry(request: Request, enquiry_id: EnquiryId, engine: EngineDep,
                     principal: WriterDep, if_match: IfMatch = None,
                     reason: Reason = None) -> Response:
    """Set ``withdrawn_at``: the enquiry is left out of lists by default."""
    version = _ENQUIRY.expected_version(if_match, enquiry_id, required=False)
    with write_transaction(engine, principal.actor,
                           reason or "Ansiedlungsanfrage zurückgezogen") as conn:
        result = enquiry_writes.withdraw_enquiry(conn, principal, enquiry_id, version)
        return _ENQUIRY.written(conn, request, result)
