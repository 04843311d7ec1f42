"""Parameters and documented answers shared by every write endpoint."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Header, Query

from app.api.etags import PRECONDITION_RESPONSES
from app.api.responses import PROBLEM_RESPONSES

#: OpenAPI description of the answers of a write (create, update, action).
WRITE_RESPONSES: dict[int | str, dict[str, Any]] = {
    **PROBLEM_RESPONSES,
    **PRECONDITION_RESPONSES,
    409: {"description": "Conflict with stored data", "content": {"application/problem+json": {}}},
    413: {"description": "Body too large", "content": {"application/problem+json": {}}},
}

InputCrs = Annotated[str | None, Query(
    description="CRS of the geometry: CRS84/EPSG:4326 (default), EPSG:25832, EPSG:25833")]
Repair = Annotated[bool, Query(
    alias="repair_geometry",
    description="Repair an invalid geometry with ST_MakeValid instead of rejecting it "
                "(the repair is reported in `notes`)")]
Reason = Annotated[str | None, Header(
    alias="X-Change-Reason", max_length=500, description="Why: recorded in the history")]
