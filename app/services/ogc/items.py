"""Pages of items and single items of any collection, with the OGC query parameters.

``bbox``, ``datetime`` and a CQL2 ``filter`` become SQL conditions over the collection's
queryables (values bound); for parcels the registry's own filter joins them in the one parcel
select path. The page itself (keyset, links, ``numberReturned``) is assembled by PostgreSQL
(:func:`~app.db.queries.keyset.page_document`). ``numberMatched`` is given on the first page
only (a client reads it there; deeper pages stay as cheap as the first): exact when the
planner expects fewer matches than ``exact_below``, otherwise the planner's estimate, marked
``numberMatchedEstimated``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from app.db.queries.cql2_sql import QueryableType, compile_filter
from app.db.queries.features.base import Collection, Selection
from app.db.queries.features.conditions import bbox_condition, datetime_condition
from app.db.queries.features.parcels import ParcelCollection
from app.db.queries.keyset import (
    Envelope,
    ListQuery,
    cached_text,
    count_matches,
    page_document,
)
from app.db.queries.paging import Cursor
from app.domain.crs import CRS84, OgcCrs
from app.domain.errors import InvalidInput
from app.domain.filters import ParcelFilter
from app.domain.ogc_params import TimeInterval
from app.domain.roles import Viewer


@dataclass(frozen=True)
class ItemsRequest:
    """What a client asked of ``/collections/{id}/items`` (values already read)."""

    limit: int
    cursor: str | None = None
    bbox: tuple[float, float, float, float] | None = None
    bbox_crs: OgcCrs = CRS84
    datetime: TimeInterval | None = None
    crs: OgcCrs = CRS84
    filter: dict[str, Any] | None = None
    filter_crs: OgcCrs = CRS84
    sortby: str | None = None
    descending: bool = False
    properties: tuple[str, ...] | None = None
    #: the registry's filter parameters (parcels only)
    parcel_filter: ParcelFilter | None = None
    #: ``property=value`` query parameters (queryables as query parameters)
    equals: tuple[tuple[str, str], ...] = ()


def _literal(name: str, kind: QueryableType, value: str) -> Any:
    """A ``property=value`` parameter's value as the CQL2 literal of the queryable's type."""
    try:
        if kind is QueryableType.INTEGER:
            return int(value)
        if kind is QueryableType.NUMBER:
            return float(value)
    except ValueError:
        raise InvalidInput.for_field(name, f"{value!r} is not a {kind}", "type") from None
    if kind is QueryableType.BOOLEAN:
        if value.lower() not in ("true", "false"):
            raise InvalidInput.for_field(name, "true or false", "type")
        return value.lower() == "true"
    if kind is QueryableType.DATE:
        return {"date": value}
    if kind is QueryableType.DATETIME:
        return {"timestamp": value}
    return value


def equals_filter(request: ItemsRequest, queryables: dict[str, Any]) -> dict[str, Any] | None:
    """The ``property=value`` parameters and the ``filter`` as one CQL2 tree (AND)."""
    parts = []
    for name, value in request.equals:
        prop = queryables.get(name)
        if prop is None:  # a field this caller may not see: unknown to it
            raise InvalidInput.for_field(name, f"unknown property {name!r}", "unknown_property")
        parts.append({"op": "=", "args": [{"property": name}, _literal(name, prop.type, value)]})
    if request.filter is not None:
        parts.append(request.filter)
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else {"op": "and", "args": parts}


def selection(collection: Collection, request: ItemsRequest, viewer: Viewer) -> Selection:
    """The SQL conditions of ``request`` over ``collection`` as ``viewer`` sees it."""
    queryables = collection.queryables(viewer)
    conditions: list[str] = []
    params: dict[str, Any] = {}
    if request.bbox is not None:
        geometry = queryables[collection.geometry_name]
        sql, values = bbox_condition(geometry.sql, collection.storage_srid, request.bbox,
                                     request.bbox_crs)
        conditions.append(sql)
        params.update(values)
    if request.datetime is not None:
        temporal = collection.temporal
        prop = queryables.get(temporal) if temporal else None
        if prop is None or prop.type not in (QueryableType.DATE, QueryableType.DATETIME):
            raise InvalidInput.for_field(
                "datetime", f"collection {collection.id!r} has no temporal property", "datetime")
        sql, values = datetime_condition(prop, request.datetime)
        conditions.append(sql)
        params.update(values)
    tree = equals_filter(request, queryables)
    if tree is not None:
        sql, values = compile_filter(tree, queryables,
                                     filter_srid=request.filter_crs.srid,
                                     swap_axes=request.filter_crs.lat_lon)
        conditions.append(f"({sql})")
        params.update(values)
    return Selection(tuple(conditions), params, request.properties)


def items_query(collection: Collection, request: ItemsRequest, viewer: Viewer) -> ListQuery:
    """The one select of ``request``: collection rows, role rules, filters, CRS."""
    chosen = selection(collection, request, viewer)
    if isinstance(collection, ParcelCollection) and request.parcel_filter is not None:
        return collection.filtered_query(request.parcel_filter, chosen, viewer, request.crs)
    return collection.items_query(chosen, viewer, request.crs)


def items_page(conn: Connection, collection: Collection, request: ItemsRequest,
               viewer: Viewer, *, envelope: Callable[[int | None, bool], Envelope],
               exact_below: int) -> str:
    """One page of items as a GeoJSON FeatureCollection (text made by the database).

    ``envelope(number_matched, estimated)`` gives the links and head members.
    """
    query = items_query(collection, request, viewer)
    sort = collection.sort_key(request.sortby, request.descending, viewer)
    cursor = None if request.cursor is None else Cursor.decode(request.cursor, str(sort))
    matched, estimated = None, False
    if cursor is None:
        matched, estimated = count_matches(conn, query, exact_below=exact_below)
    return page_document(conn, query, sort, limit=request.limit, cursor=cursor,
                         envelope=envelope(matched, estimated))


def one_item(conn: Connection, collection: Collection, feature_id: str, viewer: Viewer,
             crs: OgcCrs) -> str | None:
    """One feature as GeoJSON text, or ``None`` (no such id, or not visible)."""
    query = collection.item_query(feature_id, viewer, crs)
    if query is None:
        return None
    sql = (f"SELECT CAST(({query.document_sql}) AS text) FROM {query.from_sql} "
           f"WHERE {' AND '.join(query.where) or 'true'} LIMIT 1")
    return conn.execute(cached_text(sql), query.params).scalar_one_or_none()
