"""The parcel select path: one filter, one viewer, one source → pages, one parcel, counts, rows.

Every output that selects parcels (registry search, GeoJSON layers, OGC items, tiles,
exports, sums, matching, freshness) starts from :func:`parcel_query` or
:func:`selection_sql`, so a filter means the same everywhere and a row or field a caller may
not see never leaves the database.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Connection

from app.db.queries.documents import geometry_params
from app.db.queries.keyset import (
    Envelope,
    ListQuery,
    SortKey,
    cached_text,
    count_matches,
    page_document,
)
from app.db.queries.paging import Cursor
from app.db.queries.parcels.source import LIVE, ParcelSource
from app.db.queries.parcels.sql import (
    document_sql,
    field_sql,
    released_sql,
    where_sql,
)
from app.domain.filters import ParcelFilter, SortSpec
from app.domain.parcel_fields import Visibility, get_field
from app.domain.roles import Viewer


def parcel_query(f: ParcelFilter, viewer: Viewer, *, reference: date, srid: int | None,
                 as_feature: bool, source: ParcelSource = LIVE) -> ListQuery:
    """The parcels of ``f`` that ``viewer`` may see, each as a JSON document."""
    where, params = where_sql(f, viewer, source, reference=reference)
    if srid is not None:
        params.update(geometry_params(srid))
    return ListQuery(source.from_sql, where, params,
                     document_sql(viewer, with_geometry=srid is not None,
                                  as_feature=as_feature), "p.id")


def sort_key(sort: SortSpec, viewer: Viewer) -> SortKey:
    """The keyset order of ``sort`` for ``viewer``: values it may not see count as absent.

    The value is the plain column, so a ``(column, id)`` index serves every page.
    """
    if sort.field == "id":
        return SortKey("id", None, "bigint", sort.descending)
    f = get_field(sort.field)
    present, absent = f"{f.sql} IS NOT NULL", f"{f.sql} IS NULL"
    withheld = not viewer.internal and f.visibility is Visibility.DISCLOSABLE
    if withheld:
        present = f"{present} AND {released_sql(f)}"
        absent = f"({absent} OR NOT {released_sql(f)})"
    return SortKey(f.name, f.sql, None, sort.descending, present, absent,
                   nullable=f.nullable or withheld, kind=str(f.type))


def parcel_page(conn: Connection, f: ParcelFilter, sort: SortSpec, *, viewer: Viewer,
                reference: date, srid: int, as_feature: bool, limit: int,
                cursor: Cursor | None, envelope: Envelope,
                source: ParcelSource = LIVE) -> str:
    """The response document of one page of parcels (see :func:`page_document`)."""
    query = parcel_query(f, viewer, reference=reference, srid=srid, as_feature=as_feature,
                         source=source)
    return page_document(conn, query, sort_key(sort, viewer), limit=limit, cursor=cursor,
                         envelope=envelope)


def one_parcel(conn: Connection, parcel_id: int, *, viewer: Viewer, reference: date,
               srid: int, as_feature: bool) -> tuple[str, int] | None:
    """One parcel as JSON text and its version, or ``None`` (missing or not visible)."""
    query = parcel_query(ParcelFilter(ids=(parcel_id,)), viewer, reference=reference,
                         srid=srid, as_feature=as_feature)
    sql = (f"SELECT CAST({query.document_sql} AS text) AS doc, p.version FROM "
           f"{query.from_sql} WHERE {' AND '.join(query.where)}")
    row = conn.execute(cached_text(sql), query.params).one_or_none()
    return None if row is None else (row.doc, row.version)


def selection_sql(f: ParcelFilter, viewer: Viewer, columns: dict[str, str], *,
                  reference: date | None = None, source: ParcelSource = LIVE,
                  correlate: dict[str, str] | None = None) -> tuple[str, dict[str, Any]]:
    """``SELECT <columns> FROM <source> WHERE <filter and visibility>`` to embed elsewhere.

    ``columns`` maps output names to registry field names (seen as ``viewer`` sees them) or,
    prefixed with ``=``, to raw SQL over ``p`` and ``s`` (for internal use: geometry,
    derived values). Values are bound as ``:f_*`` / ``:src_*``. ``correlate`` maps registry
    fields to SQL of an enclosing query (``{"site_id": "s_outer.id"}``), for a ``LATERAL``
    subquery per outer row.
    """
    select = ", ".join(
        f"{expr[1:] if expr.startswith('=') else field_sql(expr, viewer)} AS {name}"
        for name, expr in columns.items())
    where, params = where_sql(f, viewer, source, reference=reference)
    tied = [f"{field_sql(name, viewer)} = {outer}" for name, outer in (correlate or {}).items()]
    return (f"SELECT {select} FROM {source.from_sql} "
            f"WHERE {' AND '.join([*where, *tied]) or 'true'}", params)


def count_parcels(conn: Connection, f: ParcelFilter, *, viewer: Viewer, reference: date,
                  exact_below: int, source: ParcelSource = LIVE) -> tuple[int, bool]:
    """How many parcels match: exact when the planner expects fewer than ``exact_below``,
    else the planner's estimate. Returns the number and whether it is an estimate."""
    where, params = where_sql(f, viewer, source, reference=reference)
    return count_matches(conn, ListQuery(source.from_sql, where, params, "NULL", "p.id"),
                         exact_below=exact_below)
