"""The parcel query builder: a :class:`ParcelFilter` and a caller's visibility → SQL.

Every output (registry search, GeoJSON layers, OGC items, tiles, exports, balance, reports)
selects parcels through :func:`filtered_parcels`, so a filter means the same everywhere and
a row a caller may not see never leaves the database.

Spatial windows are transformed to the storage CRS (EPSG:25832), never the column, so the
GiST index on ``geom_25832`` stays usable.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    DateTime,
    Double,
    Select,
    and_,
    case,
    cast,
    false,
    func,
    literal,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import Text

from app.db.models import Parcel, Site
from app.db.queries.paging import Cursor
from app.domain import vocab
from app.domain.availability import latest_available_date
from app.domain.disclosure import DISCLOSABLE_FIELDS
from app.domain.filters import ParcelFilter, SortSpec

parcels = Parcel.__table__
sites = Site.__table__

#: Marketing states the public may see (land that is being marketed).
PUBLIC_MARKETING_STATUS: tuple[str, ...] = ("verfuegbar", "reserviert")

_TEXT_ARRAY = ARRAY(Text)


def _codes(values: tuple[str, ...]) -> Any:
    return cast(list(values), _TEXT_ARRAY)


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def bbox_window(minx: float, miny: float, maxx: float, maxy: float, srid: int) -> Any:
    """A query window as geometry in EPSG:25832.

    Lon/lat boxes are densified before transforming, so their edges follow the
    meridians and parallels instead of being straight chords in UTM.
    """
    envelope = func.ST_MakeEnvelope(minx, miny, maxx, maxy, srid)
    if srid == 25832:
        return envelope
    if srid == 4326:
        envelope = func.ST_Segmentize(envelope, 0.01)
    return func.ST_Transform(envelope, 25832)


def available_by_clause(by: date, reference: date) -> ColumnElement[bool]:
    """Parcels available on or before ``by``: their ``available_from`` if set, else their class.

    Classes without an upper bound (``langfristig``, ``unbekannt``) qualify only by date.
    """
    by_class = [
        parcels.c.availability == code
        for code in vocab.AVAILABILITY_HORIZON
        if (latest := latest_available_date(code, reference)) is not None and latest <= by
    ]
    return or_(
        and_(parcels.c.available_from.is_not(None), parcels.c.available_from <= by),
        and_(parcels.c.available_from.is_(None), or_(false(), *by_class)),
    )


def visible_value(name: str, can_read_internal: bool) -> ColumnElement[Any]:
    """A parcel column as the caller may see it: NULL where a disclosable field is withheld.

    Filters and sort keys use this, so a withheld value (e.g. a price that is not
    released) can neither be narrowed down by filtering nor read back from a cursor.
    """
    column = parcels.c[name]
    if can_read_internal or name not in DISCLOSABLE_FIELDS:
        return column
    return case((literal(name) == func.any(parcels.c.public_fields), column))


def where_clauses(f: ParcelFilter, reference: date,
                  can_read_internal: bool = True) -> list[ColumnElement[bool]]:
    """One SQL condition per set field of the filter (combined with AND by the caller)."""
    p = parcels.c
    clauses: list[ColumnElement[bool]] = []
    if f.ids:
        clauses.append(p.id.in_(f.ids))
    if f.district:
        clauses.append(p.district_ags.in_(f.district))
    if f.municipality:
        clauses.append(p.municipality_ags.in_(f.municipality))
    if f.site_id:
        clauses.append(p.site_id.in_(f.site_id))
    if f.availability:
        clauses.append(p.availability.in_(f.availability))
    if f.availability_horizon:
        clauses.append(p.availability.in_(vocab.availability_up_to(f.availability_horizon)))
    if f.available_by:
        clauses.append(available_by_clause(f.available_by, reference))
    if f.restriction_max:
        clauses.append(p.restriction_level.in_(vocab.restriction_up_to(f.restriction_max)))
    if f.exclude_causes:
        clauses.append(not_(p.restriction_causes.op("&&")(_codes(f.exclude_causes))))
    if f.user_group:
        clauses.append(p.user_groups.op("&&")(_codes(f.user_group)))
    if f.net_area_min_ha is not None:
        clauses.append(p.net_area_ha >= f.net_area_min_ha)
    if f.net_area_max_ha is not None:
        clauses.append(p.net_area_ha <= f.net_area_max_ha)
    for field in ("category", "planning_status", "zoning", "servicing", "marketing_status"):
        codes = getattr(f, field)
        if codes:
            clauses.append(p[field].in_(codes))
    if f.rail_siding is not None:
        clauses.append(p.rail_siding.is_(f.rail_siding))
    if f.operation_24h is not None:
        clauses.append(p.operation_24h.is_(f.operation_24h))
    if f.max_junction_km is not None:
        clauses.append(p.distance_junction_km <= f.max_junction_km)
    if f.max_airport_km is not None:
        clauses.append(p.distance_airport_km <= f.max_airport_km)
    if f.max_price_eur_m2 is not None:
        clauses.append(visible_value("price_eur_m2", can_read_internal) <= f.max_price_eur_m2)
    if f.text:
        pattern = _like_pattern(f.text)
        clauses.append(or_(
            p.name.ilike(pattern), sites.c.name.ilike(pattern),
            sites.c.marketing_name.ilike(pattern), p.external_id.ilike(pattern),
        ))
    if f.active_sites_only:
        clauses.append(sites.c.withdrawn_at.is_(None))
    if f.bbox:
        b = f.bbox
        clauses.append(func.ST_Intersects(
            p.geom_25832, bbox_window(b.minx, b.miny, b.maxx, b.maxy, b.srid)))
    return clauses


def visibility_clause(can_read_internal: bool) -> ColumnElement[bool]:
    """Rows the caller may see: the public only marketed parcels of active sites."""
    if can_read_internal:
        return true()
    return and_(
        parcels.c.marketing_status.in_(PUBLIC_MARKETING_STATUS),
        sites.c.withdrawn_at.is_(None),
    )


#: Finite stand-ins for NULL in date sort keys. They survive the round trip through the
#: driver and the JSON cursor (``'infinity'`` would come back as ``date.max`` and break
#: the keyset comparison).
_LATEST = {"date": "9999-12-31", "timestamptz": "9999-12-31 00:00:00+00"}
_EARLIEST = {"date": "0001-01-01", "timestamptz": "0001-01-01 00:00:00+00"}


def sort_key(sort: SortSpec, can_read_internal: bool = True) -> ColumnElement[Any]:
    """The sort expression, never NULL (NULLs and withheld values sort last either way)."""
    column: Any = parcels.c[sort.field]
    if sort.field == "id":
        return column
    if not can_read_internal and sort.field in DISCLOSABLE_FIELDS:
        column = visible_value(sort.field, can_read_internal)
    if isinstance(column.type, Date | DateTime):
        kind = "date" if isinstance(column.type, Date) else "timestamptz"
        sentinel = (_EARLIEST if sort.descending else _LATEST)[kind]
        return func.coalesce(column, cast(literal(sentinel), column.type))
    sentinel_value = "-Infinity" if sort.descending else "Infinity"
    return func.coalesce(cast(column, Double), cast(literal(sentinel_value), Double))


def after_cursor(sort: SortSpec, cursor: Cursor,
                 can_read_internal: bool = True) -> ColumnElement[bool]:
    """Rows after the cursor in (sort key, id) order; ties by id ascending."""
    key = sort_key(sort, can_read_internal)
    value = cursor.value
    if sort.field == "id":
        return parcels.c.id < cursor.last_id if sort.descending else parcels.c.id > cursor.last_id
    value_expr = cast(literal(value), key.type)
    beyond = key < value_expr if sort.descending else key > value_expr
    return or_(beyond, and_(key == value_expr, parcels.c.id > cursor.last_id))


def filtered_parcels(
    f: ParcelFilter,
    *,
    can_read_internal: bool,
    reference: date,
    columns: list[Any] | None = None,
) -> Select[Any]:
    """``SELECT columns FROM parcels JOIN sites WHERE filter AND visibility``.

    The one entry point: callers add ordering, paging, grouping or output expressions.
    """
    stmt = select(*(columns or [parcels])).select_from(
        parcels.join(sites, sites.c.id == parcels.c.site_id)
    )
    return stmt.where(visibility_clause(can_read_internal),
                      *where_clauses(f, reference, can_read_internal))


def count_parcels(f: ParcelFilter, *, can_read_internal: bool, reference: date) -> Select[Any]:
    """Exact number of parcels matching the filter."""
    return filtered_parcels(
        f, can_read_internal=can_read_internal, reference=reference,
        columns=[func.count().label("n")],
    )
