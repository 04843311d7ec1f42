"""Today's sums from ``supply_cells`` (migration 0014) instead of every parcel row.

The cells hold count, net ha and gross ha per combination of district, category,
restriction level, availability, size class, year of availability, marketing status, site
active and user groups, kept current by the writes' triggers. A sum over the live parcels
whose filters and groupings use only those fields is answered from them, with the same
rows as the select path (``tests/test_supply_cells.py`` compares both); anything else
(other filters, a past day, other groupings) goes through the select path.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Connection

from app.db.queries.balance import SupplyRow, supply_rows, user_group_supply
from app.db.queries.keyset import cached_text
from app.db.queries.parcels import ParcelSource, parcel_sums
from app.domain.filters import MARKETED_STATUS, ParcelFilter
from app.domain.roles import Viewer

#: Filter parameters the cells answer → their column (``user_group``: overlaps the array).
CELL_FILTERS = {"marketing_status": "marketing_status", "district": "district_ags",
                "category": "category", "availability": "availability",
                "restriction_level": "restriction_level", "user_group": "user_groups"}
#: Registry fields the cells can group by (``user_groups`` unnested).
CELL_GROUPS = frozenset({"district_ags", "category", "restriction_level", "availability",
                         "size_class", "marketing_status", "user_groups"})


def cells_answer(f: ParcelFilter, source: ParcelSource, by: Sequence[str] = ()) -> bool:
    """Whether the cells answer a sum of ``f`` grouped by ``by`` over ``source``."""
    active = f.active()
    return (source.is_live and set(by) <= CELL_GROUPS
            and all(k in CELL_FILTERS or k == "active_sites_only" for k in active))


def _where(f: ParcelFilter, viewer: Viewer) -> tuple[str, dict[str, Any]]:
    clauses, params = [], {}
    for name, values in f.active().items():
        if name == "active_sites_only":
            clauses.append("c.site_active")
        elif name == "user_group":
            clauses.append("c.user_groups && CAST(:c_user_group AS text[])")
            params["c_user_group"] = list(values)
        else:
            clauses.append(f"c.{CELL_FILTERS[name]} = ANY(CAST(:c_{name} AS text[]))")
            params[f"c_{name}"] = list(values)
    if not viewer.internal:  # the public: marketed parcels of active sites
        clauses.append("c.marketing_status = ANY(CAST(:c_marketed AS text[])) AND c.site_active")
        params["c_marketed"] = list(MARKETED_STATUS)
    return " AND ".join(clauses) or "true", params


def cell_supply_rows(conn: Connection, f: ParcelFilter, viewer: Viewer) -> list[SupplyRow]:
    """What :func:`app.db.queries.balance.supply_rows` answers, from the cells."""
    where, params = _where(f, viewer)
    rows = conn.execute(cached_text(f"""
        SELECT c.district_ags, c.category, c.restriction_level, c.availability, c.size_class,
               c.available_year, sum(c.parcels)::bigint AS parcels, sum(c.net_ha) AS net_ha,
               sum(c.gross_ha) AS gross_ha
          FROM supply_cells c WHERE {where} GROUP BY 1, 2, 3, 4, 5, 6"""), params)
    return [SupplyRow(**r._mapping) for r in rows]


def cell_sums(conn: Connection, f: ParcelFilter, by: Sequence[str], viewer: Viewer
              ) -> list[dict[str, Any]]:
    """What :func:`app.db.queries.parcels.parcel_sums` answers (same rows and order), from
    the cells; ``user_groups`` unnested."""
    where, params = _where(f, viewer)
    keys = [("u.value" if name == "user_groups" else f"c.{name}") + f" AS {name}"
            for name in by]
    join = " CROSS JOIN LATERAL unnest(c.user_groups) AS u(value)" \
        if "user_groups" in by else ""
    grouped = ", ".join(str(i + 1) for i in range(len(by)))
    order = ", ".join(f"{name} NULLS LAST" for name in by)
    select = ", ".join([*keys, "coalesce(sum(c.parcels), 0)::bigint AS parcels",
                        "coalesce(sum(c.net_ha), 0) AS net_ha",
                        "coalesce(sum(c.gross_ha), 0) AS gross_ha"])
    sql = (f"SELECT {select} FROM supply_cells c{join} WHERE {where}"
           + (f" GROUP BY {grouped} ORDER BY {order}" if by else ""))
    return [dict(r._mapping) for r in conn.execute(cached_text(sql), params)]


def supply_sums(conn: Connection, f: ParcelFilter, by: Sequence[str], *, viewer: Viewer,
                reference: date, source: ParcelSource) -> list[dict[str, Any]]:
    """:func:`~app.db.queries.parcels.parcel_sums`, from the cells when they answer it."""
    if cells_answer(f, source, by):
        return cell_sums(conn, f, by, viewer)
    return parcel_sums(conn, f, by, viewer=viewer, reference=reference, source=source)


def balance_supply(conn: Connection, f: ParcelFilter, *, viewer: Viewer, day: date,
                   source: ParcelSource) -> tuple[list[SupplyRow], list[dict[str, Any]]]:
    """The balance's supply rows and user-group sums (district × category × user group),
    from the cells when they answer them."""
    by = ["district_ags", "category", "user_groups"]
    if cells_answer(f, source, by):
        return cell_supply_rows(conn, f, viewer), cell_sums(conn, f, by, viewer)
    return (supply_rows(conn, f, viewer=viewer, day=day, source=source),
            user_group_supply(conn, f, viewer=viewer, day=day, source=source))
