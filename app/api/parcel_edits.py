"""Parcel registry, write side: create, update (If-Match), withdraw, verify, sell.

Routers only translate HTTP: the work is in :mod:`app.services.parcel_writes`, inside one
transaction that records the caller as the history's actor.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import Connection

from app.api.auth import WriterDep
from app.api.deps import EngineDep
from app.api.etags import IF_MATCH_REQUIRED, IfMatch, RequiredIfMatch, VersionedResource
from app.api.parcels import ParcelId
from app.api.write_params import WRITE_RESPONSES, InputCrs, Reason, Repair, write_responses
from app.db.queries.parcels import one_parcel
from app.db.session import write_transaction
from app.domain.clock import today
from app.domain.crs import INPUT_SRIDS, parse_crs
from app.domain.parcel_input import ParcelCreate, ParcelPatch, SaleInput
from app.domain.roles import STAFF
from app.services import parcel_writes

router = APIRouter(prefix="/api/v1", tags=["Flächen"])


def _read_written(conn: Connection, parcel_id: int) -> tuple[str, int] | None:
    """A parcel as staff see it (every field, any status), for the answer of a write."""
    return one_parcel(conn, parcel_id, viewer=STAFF, reference=today(), srid=4326,
                      as_feature=False)


_PARCEL = VersionedResource("parcel", "get_parcel", "parcel_id", _read_written)


@router.post("/parcels", status_code=201, summary="Create a parcel", response_class=Response,
             responses=write_responses(201, "Created"))
def create_parcel(request: Request, body: ParcelCreate, engine: EngineDep,
                  principal: WriterDep, crs: InputCrs = None, repair: Repair = False,
                  reason: Reason = None) -> Response:
    """Create a parcel in one of the caller's districts; derived values come from the server."""
    srid = parse_crs(crs, allowed=INPUT_SRIDS)
    with write_transaction(engine, principal.actor, reason or "Fläche angelegt") as conn:
        result = parcel_writes.create_parcel(conn, principal, body, srid=srid, repair=repair)
        return _PARCEL.written(conn, request, result, 201)


@router.patch("/parcels/{parcel_id}", openapi_extra=IF_MATCH_REQUIRED,
              summary="Update a parcel", response_class=Response,
              responses=write_responses(200, "Updated"))
def update_parcel(request: Request, parcel_id: ParcelId, body: ParcelPatch, engine: EngineDep,
                  principal: WriterDep, if_match: RequiredIfMatch, crs: InputCrs = None,
                  repair: Repair = False, reason: Reason = None) -> Response:
    """Change the fields sent (merge patch). Needs ``If-Match``; a stale one gets 412."""
    version = _PARCEL.expected_version(if_match, parcel_id, required=True)
    srid = parse_crs(crs, allowed=INPUT_SRIDS)
    with write_transaction(engine, principal.actor, reason or "Fläche geändert") as conn:
        result = parcel_writes.update_parcel(
            conn, principal, parcel_id, body, expected_version=version, srid=srid, repair=repair)
        return _PARCEL.written(conn, request, result)


@router.post("/parcels/{parcel_id}/withdraw", summary="Withdraw a parcel from the market",
             response_class=Response, responses=WRITE_RESPONSES)
def withdraw_parcel(request: Request, parcel_id: ParcelId, engine: EngineDep,
                    principal: WriterDep, if_match: IfMatch = None,
                    reason: Reason = None) -> Response:
    """Set ``zurueckgezogen``; nothing is deleted and the history keeps every state."""
    version = _PARCEL.expected_version(if_match, parcel_id, required=False)
    with write_transaction(engine, principal.actor, reason or "Fläche zurückgezogen") as conn:
        result = parcel_writes.withdraw_parcel(conn, principal, parcel_id, version)
        return _PARCEL.written(conn, request, result)


@router.post("/parcels/{parcel_id}/verify", summary="Confirm a parcel's data as current",
             response_class=Response, responses=WRITE_RESPONSES)
def verify_parcel(request: Request, parcel_id: ParcelId, engine: EngineDep,
                  principal: WriterDep, if_match: IfMatch = None,
                  reason: Reason = None) -> Response:
    """One call to say "checked, unchanged": sets ``last_verified_at`` to now."""
    version = _PARCEL.expected_version(if_match, parcel_id, required=False)
    with write_transaction(engine, principal.actor, reason or "Daten bestätigt") as conn:
        result = parcel_writes.verify_parcel(conn, principal, parcel_id, version)
        return _PARCEL.written(conn, request, result)


@router.post("/parcels/{parcel_id}/sell", summary="Record the sale of a parcel",
             response_class=Response, responses=WRITE_RESPONSES)
def sell_parcel(request: Request, parcel_id: ParcelId, body: SaleInput, engine: EngineDep,
                principal: WriterDep, if_match: IfMatch = None,
                reason: Reason = None) -> Response:
    """Mark the parcel ``verkauft`` and record a land sale with the buyer's user group."""
    version = _PARCEL.expected_version(if_match, parcel_id, required=False)
    with write_transaction(engine, principal.actor, reason or "Fläche verkauft") as conn:
        result, sale_id = parcel_writes.sell_parcel(conn, principal, parcel_id, body, version)
        result.notes.append(f"Grundstücksverkauf {sale_id} erfasst")
        return _PARCEL.written(conn, request, result)
