"""Which parcels have not been verified for too long, per district.

"Active" parcels are the marketed ones (``verfuegbar``, ``reserviert``), selected through the
one select path; overdue are those last verified more than N days ago, or never.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from app.db.queries.keyset import cached_text
from app.db.queries.parcels import parcel_sums, selection_sql
from app.domain.clock import today
from app.domain.filters import MARKETED_STATUS, ParcelFilter
from app.domain.roles import STAFF


def overdue_by_district(conn: Connection, *, older_than_days: int, now: datetime,
                        districts: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Per district: active parcels and those last verified before ``now`` − N days."""
    active = ParcelFilter(marketing_status=MARKETED_STATUS, district=districts)
    counts = {r["district_ags"]: r["parcels"] for r in parcel_sums(
        conn, active, ("district_ags",), viewer=STAFF, reference=today())}
    overdue = active.model_copy(
        update={"verified_before": now - timedelta(days=older_than_days)})
    sql, params = selection_sql(overdue, STAFF, {
        "id": "id", "name": "name", "site_id": "site_id", "site_name": "site_name",
        "last_verified_at": "last_verified_at", "district_ags": "district_ags"},
        reference=today())
    rows = conn.execute(cached_text(f"""
        SELECT d.ags, d.name, coalesce(jsonb_agg(jsonb_build_object(
                   'id', o.id, 'name', o.name, 'site_id', o.site_id, 'site_name', o.site_name,
                   'last_verified_at', o.last_verified_at,
                   'days_since_verified',
                   floor(extract(epoch FROM CAST(:now AS timestamptz) - o.last_verified_at)
                         / 86400))
                 ORDER BY o.last_verified_at NULLS FIRST, o.id) FILTER (WHERE o.id IS NOT NULL),
                 '[]'::jsonb) AS overdue
        FROM districts d LEFT JOIN ({sql}) o ON o.district_ags = d.ags
        WHERE cardinality(CAST(:districts AS text[])) = 0 OR d.ags = ANY(:districts)
        GROUP BY d.ags, d.name ORDER BY d.ags"""),
        {**params, "now": now, "districts": list(districts)})
    return [{"district_ags": r.ags, "district_name": r.name,
             "active_parcels": counts.get(r.ags, 0), "overdue_count": len(r.overdue),
             "overdue": r.overdue} for r in rows]
