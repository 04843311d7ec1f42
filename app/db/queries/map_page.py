"""Facts the web map's page needs from the database (``app/services/web_map.py``)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection, text

from app.db.queries.parcels.rows import any_synthetic
from app.domain.clock import LOCAL_ZONE

_FIRST_CHANGE = text("SELECT min(changed_at) FROM parcel_history")


def map_page_facts(conn: Connection) -> tuple[date | None, bool]:
    """The first day of the parcel history (German time; ``None`` without history) and
    whether synthetic (demo) parcels are loaded."""
    first_change = conn.execute(_FIRST_CHANGE).scalar_one()
    first_day = None if first_change is None else first_change.astimezone(LOCAL_ZONE).date()
    return first_day, any_synthetic(conn)
