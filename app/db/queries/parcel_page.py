"""One page of parcels, as JSON text assembled by PostGIS, with keyset paging.

The database returns each parcel already serialised (a JSON object or a GeoJSON Feature),
so the service only joins strings: no per-row Python objects on the hot path. One row
beyond the limit tells whether a next page exists; counts are exact and only on request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, Text, cast, func, literal

from app.db.queries.paging import Cursor
from app.db.queries.parcel_json import geometry_json, properties_json
from app.db.queries.parcels import (
    after_cursor,
    count_parcels,
    filtered_parcels,
    parcels,
    sort_key,
)
from app.domain.filters import ParcelFilter, SortSpec


@dataclass(frozen=True)
class ParcelPage:
    """Serialised items of one page, the cursor of the next page, and the count if asked."""

    items: list[str]
    next_cursor: Cursor | None
    number_matched: int | None


def parcel_document(*, can_read_internal: bool, srid: int, as_feature: bool) -> Any:
    """SQL expression of one parcel as JSONB: a GeoJSON Feature or a plain object."""
    properties = properties_json(can_read_internal)
    geometry = geometry_json(srid)
    if as_feature:
        return func.jsonb_build_object(
            literal("type"), literal("Feature"), literal("id"), parcels.c.id,
            literal("geometry"), geometry, literal("properties"), properties,
        )
    return properties.op("||")(func.jsonb_build_object(literal("geometry"), geometry))


def fetch_parcel_page(
    conn: Connection,
    f: ParcelFilter,
    sort: SortSpec,
    *,
    limit: int,
    cursor: Cursor | None,
    can_read_internal: bool,
    reference: date,
    srid: int,
    as_feature: bool,
    count: bool = False,
) -> ParcelPage:
    """Fetch up to ``limit`` parcels after ``cursor`` in ``sort`` order."""
    key = sort_key(sort, can_read_internal)
    document = parcel_document(can_read_internal=can_read_internal, srid=srid,
                               as_feature=as_feature)
    stmt = filtered_parcels(
        f, can_read_internal=can_read_internal, reference=reference,
        columns=[cast(document, Text).label("doc"), key.label("sort_value"), parcels.c.id],
    )
    if cursor is not None:
        stmt = stmt.where(after_cursor(sort, cursor, can_read_internal))
    order = key.desc() if sort.descending else key.asc()
    stmt = stmt.order_by(order, parcels.c.id.asc()).limit(limit + 1)
    rows = conn.execute(stmt).all()

    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = Cursor(sort=str(sort), value=_json_value(last.sort_value), last_id=last.id)
        rows = rows[:limit]
    matched = None
    if count:
        matched = conn.execute(
            count_parcels(f, can_read_internal=can_read_internal, reference=reference)
        ).scalar_one()
    return ParcelPage(items=[r.doc for r in rows], next_cursor=next_cursor, number_matched=matched)


def _json_value(value: Any) -> Any:
    """A sort value as it survives JSON: numbers stay numbers, dates become ISO text."""
    if isinstance(value, int | float):
        return value
    return value.isoformat() if hasattr(value, "isoformat") else str(value)
