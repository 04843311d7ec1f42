"""Parameters and documented answers shared by every write endpoint."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Header, Query
from pydantic import WithJsonSchema

from app.api.etags import PRECONDITION_RESPONSES
from app.api.parcel_params import CRS_HINT, InputCrsName
from app.api.responses import PROBLEM_RESPONSES, json_responses

#: OpenAPI description of the answers of a write (create, update, action).
WRITE_RESPONSES: dict[int | str, dict[str, Any]] = {
    **PROBLEM_RESPONSES,
    **PRECONDITION_RESPONSES,
    409: {"description": "Conflict with stored data", "content": {"application/problem+json": {}}},
    413: {"description": "Body too large", "content": {"application/problem+json": {}}},
}


def write_responses(status: int, description: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` of a write that answers ``status`` with the item it wrote (JSON)."""
    return json_responses(description, status=status, errors=WRITE_RESPONSES)


InputCrs = Annotated[InputCrsName | None, Query(
    description="CRS of the geometry: CRS84/EPSG:4326 (default), EPSG:25832, EPSG:25833"
                + CRS_HINT)]
Repair = Annotated[bool, Query(
    alias="repair_geometry",
    description="Repair an invalid geometry with ST_MakeValid instead of rejecting it "
                "(the repair is reported in `notes`)")]
def change_reason(
    x_change_reason: Annotated[
        str | None, WithJsonSchema({"type": "string", "maxLength": 500}),
        Header(alias="X-Change-Reason", max_length=500,
               description="Why (UTF-8): recorded in the history")] = None,
) -> str | None:
    """The ``X-Change-Reason`` header as text.

    HTTP header values arrive as Latin-1; clients send German reasons as UTF-8 bytes, so
    they are decoded again (a value that is not UTF-8 is kept as received).
    """
    if x_change_reason is None:
        return None
    try:
        return x_change_reason.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return x_change_reason


Reason = Annotated[str | None, Depends(change_reason)]
