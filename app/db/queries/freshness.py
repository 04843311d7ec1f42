"""Which parcels have not been verified for too long, per district."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, text

#: Marketing states whose data must be kept current.
ACTIVE_STATUS: tuple[str, ...] = ("verfuegbar", "reserviert")


def overdue_by_district(conn: Connection, *, older_than_days: int,
                        districts: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Per district: active parcels and those last verified more than N days ago (or never)."""
    rows = conn.execute(text("""
        SELECT d.ags, d.name, count(p.id) AS active,
               coalesce(jsonb_agg(jsonb_build_object(
                   'id', p.id, 'name', p.name, 'site_id', p.site_id, 'site_name', s.name,
                   'last_verified_at', p.last_verified_at,
                   'days_since_verified',
                   floor(extract(epoch FROM now() - p.last_verified_at) / 86400))
                 ORDER BY p.last_verified_at NULLS FIRST, p.id)
                 FILTER (WHERE p.last_verified_at IS NULL
                         OR p.last_verified_at < now() - make_interval(days => :days)),
                 '[]'::jsonb) AS overdue
        FROM districts d
        LEFT JOIN parcels p ON p.district_ags = d.ags AND p.marketing_status = ANY(:active)
        LEFT JOIN sites s ON s.id = p.site_id
        WHERE cardinality(CAST(:districts AS text[])) = 0 OR d.ags = ANY(:districts)
        GROUP BY d.ags, d.name ORDER BY d.ags
    """), {"days": older_than_days, "active": list(ACTIVE_STATUS), "districts": list(districts)})
    return [{"district_ags": r.ags, "district_name": r.name, "active_parcels": r.active,
             "overdue_count": len(r.overdue), "overdue": r.overdue} for r in rows]
