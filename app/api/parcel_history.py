"""History of a parcel (and its state at any past time) and the freshness list."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query

from app.api.auth import InternalReaderDep
from app.api.connections import ReadConnDep
from app.api.deps import SettingsDep
from app.api.list_params import ags_list
from app.api.parcel_params import DistrictsParam
from app.api.parcels import ParcelId
from app.api.responses import PROBLEM_RESPONSES
from app.db.queries.freshness import overdue_by_district
from app.db.queries.history import parcel_history, parcel_state_at
from app.domain.crs import parse_crs
from app.domain.errors import InvalidInput, NotFound

router = APIRouter(prefix="/api/v1", tags=["Historie und Aktualität"])


@router.get("/parcels/{parcel_id}/history", summary="History of a parcel",
            responses=PROBLEM_RESPONSES)
def get_history(
    parcel_id: ParcelId, conn: ReadConnDep, principal: InternalReaderDep,
    at: Annotated[datetime | None, Query(
        description="Reconstruct the parcel's state at this time (ISO 8601, with zone)")] = None,
    crs: Annotated[str | None, Query(description="CRS of the reconstructed geometry")] = None,
) -> dict[str, Any]:
    """Every change (who, when, why, old and new values); with ``at``, the state at that time."""
    entries = parcel_history(conn, parcel_id)
    if not entries:
        raise NotFound(f"parcel {parcel_id} does not exist")
    if at is None:
        return {"parcel_id": parcel_id, "entries": entries}
    if at.tzinfo is None:
        raise InvalidInput.for_field("at", "give a time zone, e.g. 2026-01-01T00:00:00Z", "tz")
    state = parcel_state_at(conn, parcel_id, at, parse_crs(crs))
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
            "districts": overdue_by_district(conn, older_than_days=days,
                                             districts=ags_list("district", district, 5))}
