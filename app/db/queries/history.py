"""Reading the append-only parcel history: entries, and any parcel's state at a past time.

"State at T" is the ``row_after`` of the last history entry with ``changed_at <= T``
(ties broken by entry id, i.e. order of writing). The geometry inside ``row_after`` is GeoJSON
in EPSG:25832 (PostGIS's JSON cast); it is returned transformed to the requested CRS.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, text

from app.domain.crs import coordinate_decimals

_STATES_AT = """
    SELECT DISTINCT ON (h.parcel_id) h.parcel_id, h.id AS history_id, h.changed_at,
           (h.row_after - 'geom_25832') || jsonb_build_object('geometry',
               ST_AsGeoJSON(ST_Transform(ST_GeomFromGeoJSON(h.row_after->>'geom_25832'), :srid),
                            :decimals, 0)::jsonb) AS state
    FROM parcel_history h
    WHERE h.changed_at <= :at {extra}
    ORDER BY h.parcel_id, h.changed_at DESC, h.id DESC
"""


def parcel_state_at(conn: Connection, parcel_id: int, at: datetime, srid: int = 4326
                    ) -> dict[str, Any] | None:
    """The parcel as it was at ``at`` (``None`` if it did not exist yet)."""
    row = conn.execute(
        text(_STATES_AT.format(extra="AND h.parcel_id = :parcel_id")),
        {"at": at, "parcel_id": parcel_id, "srid": srid, "decimals": coordinate_decimals(srid)},
    ).one_or_none()
    if row is None:
        return None
    state: dict[str, Any] = row.state
    return {"history_id": row.history_id, "changed_at": row.changed_at.isoformat(), **state}


def parcel_history(conn: Connection, parcel_id: int, limit: int = 1000) -> list[dict[str, Any]]:
    """History entries of a parcel, oldest first (geometry changes shown as changed, not
    dumped); ``import_id`` names the file import that made the change, if one did."""
    rows = conn.execute(text(
        "SELECT id, changed_at, operation, actor, reason, changes, import_id FROM parcel_history "
        "WHERE parcel_id = :id ORDER BY changed_at, id LIMIT :limit"),
        {"id": parcel_id, "limit": limit}).all()
    entries = []
    for r in rows:
        changes = dict(r.changes)
        if "geom_25832" in changes:
            changes["geometry"] = {"old": "…", "new": "…"}
            del changes["geom_25832"]
        entries.append({"id": r.id, "changed_at": r.changed_at.isoformat(),
                        "operation": r.operation, "actor": r.actor, "reason": r.reason,
                        "import_id": r.import_id, "changes": changes})
    return entries
