"""Land sales (Grundstücksverkäufe) as JSON assembled by PostGIS: filters, keyset pages, one.

``area_ha`` is the sold area in hectares, ``price_eur_m2`` the price in EUR per m²; the
location is a GeoJSON Point in the requested CRS (``null`` when only the district or
municipality is known). Withdrawn sales are left out unless asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection

from app.db.queries.conditions import Conditions, RegistryFilter
from app.db.queries.documents import document_sql, geometry_params, geometry_sql
from app.db.queries.keyset import ListQuery, SortChoices, fetch_one

#: Orders of a land sale list: by id or by the date of sale (the default: newest first).
SALE_SORT = SortChoices({"sale_date": "date"}, "-sale_date", "l")

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


@dataclass(frozen=True, kw_only=True)
class LandSaleFilter(RegistryFilter):
    """Which sales to list; fields combine with AND (dates inclusive)."""

    municipality: tuple[str, ...] = ()
    date_from: date | None = None
    date_to: date | None = None
    buyer_user_group: tuple[str, ...] = ()


def land_sale_list(f: LandSaleFilter, *, srid: int, as_feature: bool) -> ListQuery:
    """The sales ``f`` selects, for :func:`~app.db.queries.keyset.page_document`."""
    conditions = Conditions.of("l", f)
    conditions.any_of({"municipality_ags": f.municipality,
                       "buyer_user_group": f.buyer_user_group})
    conditions.within("sale_date", ("date_from", f.date_from), ("date_to", f.date_to))
    document = document_sql(_PROPERTIES, geometry_sql("l.geom_25832"), id_column="l.id",
                            as_feature=as_feature)
    return conditions.query(_FROM, document, geometry_params(srid))


def fetch_land_sale(conn: Connection, sale_id: int, *, srid: int = 4326,
                    as_feature: bool = False) -> tuple[str, int] | None:
    """One sale (withdrawn or not) as JSON text and its version, or ``None``."""
    one = LandSaleFilter(ids=(sale_id,), include_withdrawn=True)
    return fetch_one(conn, land_sale_list(one, srid=srid, as_feature=as_feature))
