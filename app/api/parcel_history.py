"""History of a parcel (and its state at any past time) and the freshness list."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BeforeValidator, WithJsonSchema

from app.api.auth import InternalReaderDep
from app.api.connections import ReadConnDep
from app.api.deps import SettingsDep
from app.api.list_params import ags_list
from app.api.parcel_params import CRS_HINT, DistrictsParam, OutputCrsName
from app.api.parcels import ParcelId
from app.api.responses import PROBLEM_RESPONSES
from app.db.queries.freshness import overdue_by_district
from app.db.queries.history import parcel_history, parcel_state_at
from app.domain.crs import parse_crs
from app.domain.errors import NotFound

router = APIRouter(prefix="/api/v1", tags=["Historie und Aktualität"])

#: RFC 3339 date-time with an offset; PostgreSQL takes offsets up to ±15:59 only.
INSTANT_PATTERN = (r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
                   r"(\.[0-9]+)?([Zz]|[+-](0[0-9]|1[0-5]):[0-5][0-9])$")
_INSTANT = re.compile(INSTANT_PATTERN)


def _instant_text(value: Any) -> Any:
    """Only text of :data:`INSTANT_PATTERN` (the schema says so), never a number."""
    if isinstance(value, str) and _INSTANT.fullmatch(value):
        return value
    raise ValueError("must be a date-time with a time zone offset up to ±15:59, "
                     "e.g. 2026-01-01T00:00:00Z (RFC 3339)")


#: A point in time as the API accepts it: RFC 3339 with an offset.
Instant = Annotated[datetime, BeforeValidator(_instant_text), WithJsonSchema(
    {"type": "string", "format": "date-time", "pattern": INSTANT_PATTERN})]


@router.get("/parcels/{parcel_id}/history", summary="History of a parcel",
            responses=PROBLEM_RESPONSES)
def get_history(
    parcel_id: ParcelId, conn: ReadConnDep, principal: InternalReaderDep,
    at: Annotated[Instant | None, Query(
        description="Reconstruct the parcel's state at this time (RFC 3339, with zone)")] = None,
    crs: Annotated[OutputCrsName | None, Query(
        description="CRS of the reconstructed geometry (default CRS84)" + CRS_HINT)] = None,
) -> dict[str, Any]:
    """Every change (who, when, why, old and new values); with ``at``, the state at that time."""
    srid = parse_crs(crs)
    entries = parcel_history(conn, parcel_id)
    if not entries:
        raise NotFound(f"parcel {parcel_id} does not exist")
    if at is None:
        return {"parcel_id": parcel_id, "entries": entries}
    state = parcel_state_at(conn, parcel_id, at, srid)
    if state is None:
        raise NotFound(f"parcel {parcel_id} did not exist at {at.isoformat()}")
    return {"parcel_id": parcel_id, "at": at.isoformat(), "state": state}


@router.get("/freshness", summary="Parcels overdue for verification, per district",
            responses=PROBLEM_RESPONSES)
def get_freshness(
    conn: ReadConnDep, principal: InternalReaderDep, settings: SettingsDep,
    older_than_days: Annotated[int | None, Query(
        ge=1, le=3650, description="Overdue after this many days (default: configured)")] = None,
    district: DistrictsParam = None,
) -> dict[str, Any]:
    """Active parcels not verified for longer than the period (default about 6 months)."""
    days = older_than_days or settings.freshness_days
    return {"older_than_days": days,
            "districts": overdue_by_district(conn, older_than_days=days, now=datetime.now(UTC),
                                             districts=ags_list("district", district, 5))}
