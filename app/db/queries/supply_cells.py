"""Today's sums from ``supply_cells`` (migration 0014) instead of every parcel row.

The cells hold count, net ha and gross ha per district, category, marketing status and
site active in the balance's four views (:class:`~app.db.queries.balance.View`), kept
current by the writes' triggers. A sum over the live parcels whose filters use only those
common fields and whose groupings fit one view is answered from them, with the same rows
as the select path (``tests/test_supply_cells.py`` compares both); anything else (other
filters, a past day, groupings across views) goes through the select path.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Connection

from app.db.queries.balance import VIEW_COLUMNS, SupplyRow, View, supply_rows
from app.db.queries.keyset import cached_text
from app.db.queries.parcels import ParcelSource, parcel_sums
from app.domain.filters import MARKETED_STATUS, ParcelFilter
from app.domain.roles import Viewer

#: Filter parameters the cells answer → their column.
CELL_FILTERS = {"marketing_status": "marketing_status", "district": "district_ags",
                "category": "category"}
#: Registry fields every view groups by.
_COMMON_GROUPS = frozenset({"district_ags", "category", "marketing_status"})
#: Registry field → the cells' column, for the view's own groupings.
_VIEW_FIELDS = {"restriction_level": "restriction_level", "availability": "availability",
                "size_class": "size_class", "user_groups": "user_group"}


def _view_of(by: Sequence[str]) -> View | None:
    """The view that has every grouping of ``by`` (``None``: none has them all)."""
    own = {_VIEW_FIELDS[name] for name in by if name in _VIEW_FIELDS}
    if any(name not in _COMMON_GROUPS and name not in _VIEW_FIELDS for name in by):
        return None
    return next((v for v, columns in VIEW_COLUMNS.items() if own <= set(columns)), None)


def cells_answer(f: ParcelFilter, source: ParcelSource, by: Sequence[str] = ()) -> bool:
    """Whether the cells answer a sum of ``f`` grouped by ``by`` over ``source``."""
    return (source.is_live and _view_of(by) is not None
            and all(k in CELL_FILTERS or k == "active_sites_only" for k in f.active()))


def _where(f: ParcelFilter, viewer: Viewer) -> tuple[str, dict[str, Any]]:
    clauses, params = [], {}
    for name, values in f.active().items():
        if name == "active_sites_only":
            clauses.append("c.site_active")
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
        SELECT c.view, c.district_ags, c.category, c.restriction_level, c.availability,
               c.available_year, c.size_class, c.user_group, sum(c.parcels)::bigint AS parcels,
               sum(c.net_ha) AS net_ha, sum(c.gross_ha) AS gross_ha
          FROM supply_cells c WHERE {where} GROUP BY 1, 2, 3, 4, 5, 6, 7, 8"""), params)
    views = {int(v): v for v in View}
    return [SupplyRow(views[v], *rest) for v, *rest in rows.tuples()]


def cell_sums(conn: Connection, f: ParcelFilter, by: Sequence[str], viewer: Viewer
              ) -> list[dict[str, Any]]:
    """What :func:`app.db.queries.parcels.parcel_sums` answers (same rows and order), from
    the cells of the view that has the groupings ``by``."""
    view = _view_of(by)
    if view is None:
        raise ValueError(f"no view of the supply cells groups by {', '.join(by)}")
    where, params = _where(f, viewer)
    keys = [f"c.{_VIEW_FIELDS.get(name, name)} AS {name}" for name in by]
    grouped = ", ".join(str(i + 1) for i in range(len(by)))
    order = ", ".join(f"{name} NULLS LAST" for name in by)
    select = ", ".join([*keys, "coalesce(sum(c.parcels), 0)::bigint AS parcels",
                        "coalesce(sum(c.net_ha), 0) AS net_ha",
                        "coalesce(sum(c.gross_ha), 0) AS gross_ha"])
    sql = (f"SELECT {select} FROM supply_cells c WHERE c.view = {int(view)} AND {where}"
           + (f" GROUP BY {grouped} ORDER BY {order}" if by else ""))
    return [dict(r._mapping) for r in conn.execute(cached_text(sql), params)]


def supply_sums(conn: Connection, f: ParcelFilter, by: Sequence[str], *, viewer: Viewer,
                reference: date, source: ParcelSource) -> list[dict[str, Any]]:
    """:func:`~app.db.queries.parcels.parcel_sums`, from the cells when they answer it."""
    if cells_answer(f, source, by):
        return cell_sums(conn, f, by, viewer)
    return parcel_sums(conn, f, by, viewer=viewer, reference=reference, source=source)


def balance_supply(conn: Connection, f: ParcelFilter, *, viewer: Viewer, day: date,
                   source: ParcelSource) -> list[SupplyRow]:
    """The balance's supply in its four views, from the cells when they answer it."""
    if cells_answer(f, source):
        return cell_supply_rows(conn, f, viewer)
    return supply_rows(conn, f, viewer=viewer, day=day, source=source)
