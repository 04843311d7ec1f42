"""Sums over the select path: parcel count, net and gross hectares, grouped by registry fields.

The one definition of "supply": district, municipality and site totals, freshness counts,
the balance and the reports all sum here. Grouping by an array field (``user_groups``)
counts a parcel once per group it suits: **those sums overlap** and do not add up to the
total.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Connection

from app.db.queries.keyset import cached_text
from app.db.queries.parcels.select import selection_sql
from app.db.queries.parcels.source import LIVE, ParcelSource
from app.domain.filters import ParcelFilter
from app.domain.parcel_fields import FieldType, get_field
from app.domain.roles import Viewer

#: Grouping key of a :meth:`ParcelSource.at_days` source: the day a row's state is of.
STATE_DAY = "state_day"


def sums_sql(f: ParcelFilter, by: Sequence[str], *, viewer: Viewer,
             reference: date | None = None, source: ParcelSource = LIVE,
             correlate: dict[str, str] | None = None) -> tuple[str, dict[str, Any]]:
    """SQL with one row per group: the ``by`` fields, ``parcels``, ``net_ha``, ``gross_ha``.

    Array fields are unnested: a parcel counts once per value (and once, in the group NULL,
    when its list is empty); several array fields give every combination of their values.
    Hectares are the parcels' areas computed in EPSG:25832. With a source of several days
    (:meth:`ParcelSource.at_days`), ``by`` may name :data:`STATE_DAY`. ``correlate`` ties registry
    fields to SQL of an enclosing query (see :func:`selection_sql`).
    """
    columns = {name: ("=p.state_day" if name == STATE_DAY else name) for name in by}
    columns.update(net_ha="net_area_ha", gross_ha="gross_area_ha", parcel_id="id")
    inner, params = selection_sql(f, viewer, columns, reference=reference, source=source,
                                  correlate=correlate)
    joins, keys = [], []
    for i, name in enumerate(by):
        if name != STATE_DAY and get_field(name).type is FieldType.STRINGS:
            # one row per value; an empty list counts once, as the group NULL
            joins.append(f"LEFT JOIN LATERAL unnest(x.{name}) AS u{i}(value) ON true")
            keys.append(f"u{i}.value AS {name}")
        else:
            keys.append(f"x.{name}")
    grouped = ", ".join(str(i + 1) for i in range(len(by)))
    select = ", ".join([*keys, "count(*) AS parcels", "coalesce(sum(x.net_ha), 0) AS net_ha",
                        "coalesce(sum(x.gross_ha), 0) AS gross_ha"])
    sql = (f"SELECT {select} FROM ({inner}) x {' '.join(joins)}"
           + (f" GROUP BY {grouped}" if by else ""))
    return sql, params


def parcel_sums(conn: Connection, f: ParcelFilter, by: Sequence[str] = (), *,
                viewer: Viewer, reference: date | None = None,
                source: ParcelSource = LIVE) -> list[dict[str, Any]]:
    """Count, net ha and gross ha of the parcels of ``f`` per combination of ``by``.

    Ordered by the ``by`` values. With ``by=()`` one row for the whole selection.
    """
    sql, params = sums_sql(f, by, viewer=viewer, reference=reference, source=source)
    order = ", ".join(f"{name} NULLS LAST" for name in by)
    rows = conn.execute(cached_text(f"SELECT * FROM ({sql}) g"
                                    + (f" ORDER BY {order}" if order else "")),
                        params)
    return [dict(r._mapping) for r in rows]
