"""Land sales (Grundstücksverkäufe) as JSON assembled by PostGIS: filters, keyset pages, one.

``area_ha`` is the sold area in hectares, ``price_eur_m2`` the price in EUR per m²; the
location is a GeoJSON Point in the requested CRS (``null`` when only the district or
municipality is known). Withdrawn sales are left out unless asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection

from app.db.queries.documents import document_sql, geometry_params, geometry_sql
from app.db.queries.keyset import Envelope, ListQuery, SortKey, fetch_one, page_document
from app.db.queries.paging import Cursor

#: Columns a land sale list can be sorted by (besides id), with their SQL type.
SALE_SORT_FIELDS: dict[str, str] = {"sale_date": "date"}
DEFAULT_SALE_SORT = "-sale_date"

_FROM = """land_sales l
    JOIN districts d ON d.ags = l.district_ags
    LEFT JOIN municipalities m ON m.ags = l.municipality_ags"""

_PROPERTIES = """jsonb_build_object(
    'id', l.id, 'external_id', l.external_id, 'sale_date', l.sale_date,
    'district_ags', l.district_ags, 'district_name', d.name,
    'municipality_ags', l.municipality_ags, 'municipality_name', m.name,
    'parcel_id', l.parcel_id, 'site_id', l.site_id, 'area_ha', l.area_ha,
    'price_eur_m2', l.price_eur_m2, 'buyer_user_group', l.buyer_user_group,
    'buyer_origin', l.buyer_origin, 'synthetic', l.is_synthetic,
    'withdrawn_at', l.withdrawn_at, 'created_at', l.created_at, 'updated_at', l.updated_at,
    'version', l.version)"""


@dataclass(frozen=True)
class LandSaleFilter:
    """Which sales to list; fields combine with AND (dates inclusive)."""

    ids: tuple[int, ...] = ()
    district: tuple[str, ...] = ()
    municipality: tuple[str, ...] = ()
    date_from: date | None = None
    date_to: date | None = None
    buyer_user_group: tuple[str, ...] = ()
    include_withdrawn: bool = False


def _where(f: LandSaleFilter) -> tuple[list[str], dict[str, Any]]:
    where: list[str] = []
    params: dict[str, Any] = {}
    if f.ids:
        where.append("l.id = ANY(:ids)")
        params["ids"] = list(f.ids)
    if not f.include_withdrawn:
        where.append("l.withdrawn_at IS NULL")
    for column, values in (("district_ags", f.district), ("municipality_ags", f.municipality),
                           ("buyer_user_group", f.buyer_user_group)):
        if values:
            where.append(f"l.{column} = ANY(:{column})")
            params[column] = list(values)
    if f.date_from is not None:
        where.append("l.sale_date >= :date_from")
        params["date_from"] = f.date_from
    if f.date_to is not None:
        where.append("l.sale_date <= :date_to")
        params["date_to"] = f.date_to
    return where, params


def _document(srid: int, as_feature: bool) -> tuple[str, dict[str, int]]:
    return (document_sql(_PROPERTIES, geometry_sql("l.geom_25832"), id_column="l.id",
                         as_feature=as_feature), geometry_params(srid))


def fetch_land_sale_page(conn: Connection, f: LandSaleFilter, sort: SortKey, *, limit: int,
                         cursor: Cursor | None, srid: int, as_feature: bool,
        envelope: Envelope) -> str:
    """Up to ``limit`` sales after ``cursor`` in ``sort`` order (ties by id)."""
    where, params = _where(f)
    document, geo = _document(srid, as_feature)
    return page_document(conn, ListQuery(_FROM, tuple(where), {**params, **geo}, document, "l.id"),
                         sort, limit=limit, cursor=cursor, envelope=envelope)


def fetch_land_sale(conn: Connection, sale_id: int, *, srid: int = 4326,
                    as_feature: bool = False) -> tuple[str, int] | None:
    """One sale (withdrawn or not) as JSON text and its version, or ``None``."""
    where, params = _where(LandSaleFilter(ids=(sale_id,), include_withdrawn=True))
    document, geo = _document(srid, as_feature)
    return fetch_one(conn, ListQuery(_FROM, tuple(where), {**params, **geo}, document, "l.id"))
