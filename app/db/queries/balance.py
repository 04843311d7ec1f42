"""The sums the balance needs, one set-based query per view (never one per district).

- :func:`supply_rows`: parcels of the select path (filters, viewer, source as of a day)
  by district × category in four views (:class:`View`): availability × restriction level,
  the year they become available (``available_from``, else their class counted from the day
  it was assessed, :data:`app.domain.balance.AVAILABLE_AFTER_YEARS`), size class, user
  group (overlapping); one statement.
- :func:`sales_rows`: recorded land sales up to a day by district × year × buyer user group
  (``unbekannt`` when not recorded, never guessed) × size class.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from enum import IntEnum

from sqlalchemy import Connection

from app.db.queries.keyset import cached_text
from app.db.queries.parcels import ParcelSource, selection_sql
from app.domain.clock import LOCAL_ZONE
from app.domain.filters import ParcelFilter
from app.domain.roles import Viewer

#: The calendar year the land becomes available (SQL functions of migration 0014, also used
#: by the supply cells): ``available_from``, else the class
#: (:data:`app.domain.balance.AVAILABLE_AFTER_YEARS`) counted from the day it was assessed
#: (recorded, else the last verification, else the creation: German calendar days).
_AVAILABLE_YEAR = ("=gefis_available_year(p.availability, p.available_from, gefis_assessed_on("
                   "p.availability_assessed_on, p.last_verified_at, p.created_at))")


class View(IntEnum):
    """The groupings of the supply (each row belongs to one; all are by district and
    category, which separates market supply from potential)."""

    CLASS = 1  #: availability × restriction level
    YEAR = 2  #: the calendar year the land becomes available
    SIZE = 3  #: size class of the net area
    GROUP = 4  #: user group (overlapping: a parcel counts once per group it suits)


#: The columns of each view besides district and category.
VIEW_COLUMNS: dict[View, tuple[str, ...]] = {
    View.CLASS: ("restriction_level", "availability"), View.YEAR: ("available_year",),
    View.SIZE: ("size_class",), View.GROUP: ("user_group",)}
DIMENSIONS = ("restriction_level", "availability", "available_year", "size_class",
              "user_group")
_TYPES = {"available_year": "integer"}


@dataclass(frozen=True)
class SupplyRow:
    """Net and gross ha (EPSG:25832) of the parcels of one combination of one view; the
    columns of other views are ``None``."""

    view: View
    district_ags: str
    category: str
    restriction_level: str | None
    availability: str | None
    #: calendar year the land becomes available; ``None``: never (or another view)
    available_year: int | None
    size_class: str | None
    user_group: str | None
    parcels: int
    net_ha: float
    gross_ha: float


#: The user-group view: the rows are first summed per distinct list of user groups (a few
#: dozen lists), then the lists are unnested, instead of unnesting every parcel's list
#: (about 0.4 s at 200,000 parcels). A parcel still counts once per group it suits. The
#: sums are aliased ``x`` like the rows, so the view is built as the others.
_GROUP_SUMS = ("(SELECT x.district_ags, x.category, x.user_groups, count(*) AS parcels, "
               "sum(x.net_ha) AS net_ha, sum(x.gross_ha) AS gross_ha FROM x GROUP BY 1, 2, 3) x "
               "CROSS JOIN LATERAL unnest(x.user_groups) AS u(value)")


def views_sql(rows_sql: str) -> str:
    """The four views over the rows of ``rows_sql`` (district, category, the dimensions but
    ``user_group``, ``user_groups``, ``net_ha``, ``gross_ha``): one ``UNION ALL``."""
    parts = []
    for view, columns in VIEW_COLUMNS.items():
        value = {c: "u.value" if c == "user_group" else f"x.{c}" for c in columns}
        nulls = {c: f"CAST(NULL AS {_TYPES.get(c, 'text')})" for c in DIMENSIONS}
        picked = ", ".join(f"{value.get(c, nulls[c])} AS {c}" for c in DIMENSIONS)
        keys = ", ".join(["x.district_ags", "x.category", *value.values()])
        sums = ("CAST(sum(x.parcels) AS bigint) AS parcels, sum(x.net_ha) AS net_ha, "
                "sum(x.gross_ha) AS gross_ha FROM " + _GROUP_SUMS if view is View.GROUP else
                "count(*) AS parcels, sum(x.net_ha) AS net_ha, sum(x.gross_ha) AS gross_ha "
                "FROM x")
        parts.append(f"SELECT {int(view)} AS view, x.district_ags, x.category, {picked}, "
                     f"{sums} GROUP BY {keys}")
    return f"WITH x AS MATERIALIZED ({rows_sql}) " + " UNION ALL ".join(parts)


def supply_rows(conn: Connection, f: ParcelFilter, *, viewer: Viewer, day: date,
                source: ParcelSource) -> list[SupplyRow]:
    """The supply of ``f`` at the end of ``day`` (``source``) in the four views."""
    inner, params = selection_sql(f, viewer, {
        "district_ags": "district_ags", "category": "category",
        "restriction_level": "restriction_level", "availability": "availability",
        "size_class": "size_class", "available_year": _AVAILABLE_YEAR,
        "user_groups": "user_groups", "net_ha": "net_area_ha", "gross_ha": "gross_area_ha",
    }, reference=day, source=source)
    rows = conn.execute(cached_text(views_sql(inner)), params)
    return [SupplyRow(**{**r._mapping, "view": View(r.view)}) for r in rows]


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


def district_names(conn: Connection) -> dict[str, str]:
    """Name of every district by AGS, in AGS order."""
    rows = conn.execute(cached_text("SELECT ags, name FROM districts ORDER BY ags"))
    return dict(rows.tuples().all())


def sales_rows(conn: Connection, day: date, *, since: date) -> list[SalesRow]:
    """Sales dated up to ``day`` and not withdrawn at its end, grouped (see module doc)."""
    end = datetime.combine(day, time.max, LOCAL_ZONE)
    sql = """
        SELECT district_ags, extract(year FROM sale_date)::int AS year,
               coalesce(buyer_user_group, 'unbekannt') AS user_group,
               gefis_size_class(area_ha) AS size_class, sale_date > :since AS after_base,
               count(*) AS sales, sum(area_ha) AS area_ha
          FROM land_sales
         WHERE sale_date <= :day AND (withdrawn_at IS NULL OR withdrawn_at > :end)
         GROUP BY 1, 2, 3, 4, 5"""
    rows = conn.execute(cached_text(sql), {"day": day, "end": end, "since": since})
    return [SalesRow(**r._mapping) for r in rows]
