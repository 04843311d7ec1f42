"""Sums of the quarterly monitoring beside the parcels: land sales in a span of days, and
enquiries without a matching offer on a day.

Parcel sums come from the select path (:mod:`app.db.queries.parcels`); these two read the
other tables the report needs, one statement each, per district.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection

from app.db.queries.keyset import cached_text
from app.db.queries.parcels import ParcelSource, selection_sql
from app.domain.filters import ParcelFilter
from app.domain.roles import STAFF


def sales_by_district(conn: Connection, first: date, last: date, *, state_at: datetime
                      ) -> dict[str, tuple[int, float]]:
    """Per district: land sales dated ``first``–``last`` (both included) and their area
    (ha, as recorded by the valuation board), leaving out sales withdrawn by ``state_at``.

    Sales count by their date of sale: one recorded late still counts in its quarter."""
    rows = conn.execute(cached_text("""
        SELECT district_ags, count(*) AS sales, sum(area_ha) AS area_ha FROM land_sales
        WHERE sale_date BETWEEN :first AND :last
          AND (withdrawn_at IS NULL OR withdrawn_at > :state_at)
        GROUP BY district_ags"""), {"first": first, "last": last, "state_at": state_at})
    return {r.district_ags: (int(r.sales), float(r.area_ha)) for r in rows}


def enquiries_without_offer(conn: Connection, first: date, last: date, *,
                            supply: ParcelFilter, source: ParcelSource, state_at: datetime
                            ) -> list[dict[str, Any]]:
    """Enquiries received ``first``–``last`` (by the day received; not withdrawn by ``state_at``)
    per district (``None``: none asked for) and user group: how many, the net ha asked for
    (their minimum), and how many of them no parcel of ``supply`` in ``source`` could serve.

    A parcel serves an enquiry when it suits the enquiry's user group, is at least as large
    as its minimum net area, and lies in its district if it named one.
    """
    offer_sql, params = selection_sql(supply, STAFF, {
        "district_ags": "district_ags", "user_groups": "user_groups", "net_ha": "net_area_ha"},
        source=source, reference=last)
    rows = conn.execute(cached_text(f"""
        WITH offer AS MATERIALIZED ({offer_sql})
        SELECT e.district_ags, e.user_group, count(*) AS enquiries,
               sum(e.required_net_area_ha_min) AS requested_net_ha,
               count(*) FILTER (WHERE NOT EXISTS (
                   SELECT 1 FROM offer o
                   WHERE e.user_group = ANY(o.user_groups)
                     AND o.net_ha >= e.required_net_area_ha_min
                     AND (e.district_ags IS NULL OR o.district_ags = e.district_ags)))
                   AS without_offer,
               coalesce(sum(e.required_net_area_ha_min) FILTER (WHERE NOT EXISTS (
                   SELECT 1 FROM offer o
                   WHERE e.user_group = ANY(o.user_groups)
                     AND o.net_ha >= e.required_net_area_ha_min
                     AND (e.district_ags IS NULL OR o.district_ags = e.district_ags))), 0)
                   AS without_offer_net_ha
        FROM enquiries e
        WHERE e.received_on BETWEEN :e_first AND :e_last
          AND (e.withdrawn_at IS NULL OR e.withdrawn_at > :e_state_at)
        GROUP BY e.district_ags, e.user_group
        ORDER BY e.district_ags NULLS LAST, e.user_group"""),
        {**params, "e_first": first, "e_last": last, "e_state_at": state_at})
    return [dict(r._mapping) for r in rows]
