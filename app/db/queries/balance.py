"""The sums the balance needs, one set-based query per view (never one per district).

- :func:`supply_rows`: parcels of the select path (filters, viewer, source as of a day)
  grouped by district × category × restriction level × availability × size class × the
  year they become available (``available_from``, else their class counted from the day it
  was assessed, :data:`app.domain.balance.AVAILABLE_AFTER_YEARS`).
- :func:`user_group_supply`: the same parcels by district × category × user group
  (overlapping).
- :func:`sales_rows`: recorded land sales up to a day by district × year × buyer user group
  (``unbekannt`` when not recorded, never guessed) × size class.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import Connection

from app.db.queries.keyset import cached_text
from app.db.queries.parcels import ParcelSource, selection_sql, sums_sql
from app.domain.clock import LOCAL_ZONE
from app.domain.filters import ParcelFilter
from app.domain.parcel_fields import size_class_sql
from app.domain.roles import Viewer

#: The calendar year the land becomes available (SQL functions of migration 0014, also used
#: by the supply cells): ``available_from``, else the class
#: (:data:`app.domain.balance.AVAILABLE_AFTER_YEARS`) counted from the day it was assessed
#: (recorded, else the last verification, else the creation: German calendar days).
_AVAILABLE_YEAR = ("=gefis_available_year(p.availability, p.available_from, gefis_assessed_on("
                   "p.availability_assessed_on, p.last_verified_at, p.created_at))")


@dataclass(frozen=True)
class SupplyRow:
    """Net and gross ha (EPSG:25832) of the parcels of one combination."""

    district_ags: str
    category: str
    restriction_level: str
    availability: str
    size_class: str
    #: calendar year the land becomes available; ``None``: not within any horizon
    available_year: int | None
    parcels: int
    net_ha: float
    gross_ha: float


def supply_rows(conn: Connection, f: ParcelFilter, *, viewer: Viewer, day: date,
                source: ParcelSource) -> list[SupplyRow]:
    """The supply of ``f`` at the end of ``day`` (``source``), grouped (see module doc)."""
    inner, params = selection_sql(f, viewer, {
        "district_ags": "district_ags", "category": "category",
        "restriction_level": "restriction_level", "availability": "availability",
        "size_class": "size_class", "available_year": _AVAILABLE_YEAR,
        "net_ha": "net_area_ha", "gross_ha": "gross_area_ha",
    }, reference=day, source=source)
    sql = f"""
        SELECT x.district_ags, x.category, x.restriction_level, x.availability, x.size_class,
               x.available_year, count(*) AS parcels, sum(x.net_ha) AS net_ha,
               sum(x.gross_ha) AS gross_ha
          FROM ({inner}) x GROUP BY 1, 2, 3, 4, 5, 6"""
    rows = conn.execute(cached_text(sql), params)
    return [SupplyRow(**r._mapping) for r in rows]


def user_group_supply(conn: Connection, f: ParcelFilter, *, viewer: Viewer, day: date,
                      source: ParcelSource) -> list[dict[str, Any]]:
    """Net ha per district × category × user group (a parcel counts once per group it
    suits; ``None`` for parcels that suit none)."""
    sql, params = sums_sql(f, ["district_ags", "category", "user_groups"], viewer=viewer,
                           reference=day, source=source)
    return [dict(r._mapping) for r in conn.execute(cached_text(sql), params)]


@dataclass(frozen=True)
class SalesRow:
    """Recorded sales of one district, year, buyer group and size class."""

    district_ags: str
    year: int
    user_group: str
    size_class: str
    #: dated after ``since`` (the framework's base date: take-up)
    after_base: bool
    sales: int
    area_ha: float


def sales_rows(conn: Connection, day: date, *, since: date) -> list[SalesRow]:
    """Sales dated up to ``day`` and not withdrawn at its end, grouped (see module doc)."""
    end = datetime.combine(day, time.max, LOCAL_ZONE)
    sql = f"""
        SELECT district_ags, extract(year FROM sale_date)::int AS year,
               coalesce(buyer_user_group, 'unbekannt') AS user_group,
               {size_class_sql("area_ha")} AS size_class, sale_date > :since AS after_base,
               count(*) AS sales, sum(area_ha) AS area_ha
          FROM land_sales
         WHERE sale_date <= :day AND (withdrawn_at IS NULL OR withdrawn_at > :end)
         GROUP BY 1, 2, 3, 4, 5"""
    rows = conn.execute(cached_text(sql), {"day": day, "end": end, "since": since})
    return [SalesRow(**r._mapping) for r in rows]
