"""Demand frameworks (Orientierungsrahmen): ``/api/v1/frameworks`` — versioned, immutable.

Anybody reads them (the study's framework is published); only admins store a new version,
withdraw one or choose the default the balance uses. Nothing stored is ever changed: a
correction is a new version (:mod:`app.services.frameworks`). Figures are net ha over the
framework's period unless named otherwise (``annual_*``: per year, ``*_gross_ha``: by the
framework's own factor).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from sqlalchemy import Connection

from app.api.auth import OPTIONAL_API_KEY, AdminDep
from app.api.connections import ReadConnDep
from app.api.deps import EngineDep
from app.api.responses import JSON_MEDIA_TYPE, absolute_link, json_responses
from app.api.write_params import Reason, write_responses
from app.db.queries.frameworks import get_framework_record, list_framework_records
from app.db.session import write_transaction
from app.domain.framework_input import FrameworkInput
from app.domain.input_types import MAX_ID
from app.services import frameworks as service

router = APIRouter(prefix="/api/v1/frameworks", tags=["Orientierungsrahmen"])

FrameworkId = Annotated[int, Path(ge=1, le=MAX_ID, description="Demand framework id")]

IncludeWithdrawn = Annotated[bool, Query(
    description="Also list withdrawn versions (they stay readable by id in any case)")]


def _json(document: dict[str, Any], status: int = 200,
          headers: dict[str, str] | None = None) -> Response:
    return Response(content=json.dumps(document, ensure_ascii=False), status_code=status,
                    media_type=JSON_MEDIA_TYPE, headers=headers)


@router.get("", openapi_extra=OPTIONAL_API_KEY, summary="List demand frameworks",
            response_class=Response,
            responses=json_responses("The frameworks, newest first"))
def list_frameworks(request: Request, conn: ReadConnDep,
                    include_withdrawn: IncludeWithdrawn = False) -> Response:
    """Every framework version, newest first, with its figures per scenario (net ha in
    total and per year, gross by its own factor); ``include_withdrawn`` lists withdrawn
    versions too."""
    items = [service.framework_summary(r)
             for r in list_framework_records(conn, include_withdrawn=include_withdrawn)]
    return _json({"links": [{"rel": "self", "type": JSON_MEDIA_TYPE,
                             "href": absolute_link(request)}],
                  "numberMatched": len(items), "numberReturned": len(items), "items": items})


@router.get("/{framework_id}", openapi_extra=OPTIONAL_API_KEY, summary="One demand framework",
            response_class=Response,
            responses=json_responses("The framework"))
def get_framework(framework_id: FrameworkId, conn: ReadConnDep) -> Response:
    """The whole framework (also when withdrawn): period, factor, figures per scenario and
    every component's net ha per scenario (and per district when located)."""
    return _json(service.framework_document(get_framework_record(conn, framework_id)))


def _written(conn: Connection, request: Request, framework_id: int,
             status: int = 200) -> Response:
    document = service.framework_document(get_framework_record(conn, framework_id))
    headers = ({"Location": str(request.url_for("get_framework", framework_id=framework_id))}
               if status == 201 else None)
    return _json(document, status, headers)


@router.post("", status_code=201, summary="Store a new demand framework version",
             response_class=Response,
             responses=write_responses(201, "Created"))
def create_framework(request: Request, body: FrameworkInput, engine: EngineDep,
                     principal: AdminDep, reason: Reason = None) -> Response:
    """Store a framework document as a new version (admins only): version as given, else
    the next of its name; an existing name and version is a 409. It is not the default
    until made so."""
    with write_transaction(engine, principal.actor,
                           reason or "Orientierungsrahmen angelegt") as conn:
        framework_id = service.create_framework(conn, body)
        return _written(conn, request, framework_id, 201)


@router.post("/{framework_id}/withdraw", summary="Withdraw a demand framework",
             response_class=Response,
             responses=write_responses(200, "Withdrawn"))
def withdraw_framework(request: Request, framework_id: FrameworkId, engine: EngineDep,
                       principal: AdminDep, reason: Reason = None) -> Response:
    """Mark a framework withdrawn (admins only); it stays readable. The default cannot be
    withdrawn (409)."""
    with write_transaction(engine, principal.actor,
                           reason or "Orientierungsrahmen zurückgezogen") as conn:
        service.withdraw_framework(conn, framework_id)
        return _written(conn, request, framework_id)


@router.post("/{framework_id}/default", summary="Make a demand framework the default",
             response_class=Response,
             responses=write_responses(200, "Now the default"))
def set_default_framework(request: Request, framework_id: FrameworkId, engine: EngineDep,
                          principal: AdminDep, reason: Reason = None) -> Response:
    """Make a framework the one the balance uses (admins only); a withdrawn one cannot be
    (409)."""
    with write_transaction(engine, principal.actor,
                           reason or "Standard-Orientierungsrahmen gesetzt") as conn:
        service.set_default_framework(conn, framework_id)
        return _written(conn, request, framework_id)
