"""Sites (Standorte) as JSON assembled by PostGIS: filters, keyset pages by id, one site.

A site's document carries its partner municipalities and its active parcels (marketed:
``verfuegbar``/``reserviert``; count and net area in hectares). The outline is GeoJSON in the
requested CRS (``null`` when the site has none); ``outline_area_ha`` is its area in hectares.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from app.db.queries.documents import document_sql, geometry_params, geometry_sql
from app.db.queries.keyset import Envelope, ListQuery, SortKey, fetch_one, page_document
from app.db.queries.paging import Cursor
from app.db.queries.parcels import sums_sql
from app.domain.filters import MARKETED_STATUS, ParcelFilter
from app.domain.roles import STAFF

#: Sort order of site lists (keyset by id).
SITE_SORT = SortKey()

SITES_FROM = """sites s
    JOIN municipalities m ON m.ags = s.municipality_ags
    JOIN districts d ON d.ags = s.district_ags
    LEFT JOIN LATERAL (SELECT s.id AS site_key) k ON true
    LEFT JOIN LATERAL ({supply}) a0 ON true
    LEFT JOIN LATERAL (SELECT a0.parcels AS n, a0.net_ha AS ha) a ON true"""

#: A site's active parcels: the marketed ones (verfuegbar, reserviert), summed for each site
#: on its own (index on ``site_id``), not for all sites at once. The sums are LEFT JOINs
#: (each yields exactly one row), so PostgreSQL leaves them out of a query that does not read
#: them: a count or a keyset scan does not sum every site's parcels.
_SUPPLY, SITES_PARAMS = sums_sql(ParcelFilter(marketing_status=MARKETED_STATUS), (),
                                   viewer=STAFF, correlate={"site_id": "k.site_key"})
SITES_FROM = SITES_FROM.format(supply=_SUPPLY)

_PARTNERS = """coalesce((
    SELECT jsonb_agg(jsonb_build_object('municipality_ags', sp.municipality_ags,
                                        'municipality_name', pm.name, 'share_pct', sp.share_pct)
                     ORDER BY sp.municipality_ags)
    FROM site_partners sp JOIN municipalities pm ON pm.ags = sp.municipality_ags
    WHERE sp.site_id = s.id), '[]'::jsonb)"""

_PROPERTIES = f"""jsonb_build_object(
    'id', s.id, 'external_id', s.external_id, 'name', s.name,
    'marketing_name', s.marketing_name, 'description', s.description, 'web_url', s.web_url,
    'municipality_ags', s.municipality_ags, 'municipality_name', m.name,
    'district_ags', s.district_ags, 'district_name', d.name,
    'outline_area_ha', round(s.outline_area_ha::numeric, 4), 'partners', {_PARTNERS},
    'active_parcels', a.n, 'active_net_area_ha', round(a.ha::numeric, 4),
    'synthetic', s.is_synthetic, 'withdrawn_at', s.withdrawn_at,
    'created_at', s.created_at, 'updated_at', s.updated_at, 'version', s.version)"""


@dataclass(frozen=True)
class SiteFilter:
    """Which sites to list; fields combine with AND.

    ``municipality`` matches the site's municipality or any partner municipality; ``text``
    is searched (case-insensitively) in name, marketing name and external id.
    """

    ids: tuple[int, ...] = ()
    district: tuple[str, ...] = ()
    municipality: tuple[str, ...] = ()
    text: str | None = None
    include_withdrawn: bool = False


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _where(f: SiteFilter) -> tuple[list[str], dict[str, Any]]:
    where: list[str] = []
    params: dict[str, Any] = dict(SITES_PARAMS)
    if f.ids:
        where.append("s.id = ANY(:ids)")
        params["ids"] = list(f.ids)
    if not f.include_withdrawn:
        where.append("s.withdrawn_at IS NULL")
    if f.district:
        where.append("s.district_ags = ANY(:district)")
        params["district"] = list(f.district)
    if f.municipality:
        where.append("(s.municipality_ags = ANY(:municipality) OR EXISTS (SELECT 1 FROM "
                     "site_partners sp WHERE sp.site_id = s.id "
                     "AND sp.municipality_ags = ANY(:municipality)))")
        params["municipality"] = list(f.municipality)
    if f.text:
        where.append("(s.name ILIKE :pattern OR s.marketing_name ILIKE :pattern "
                     "OR s.external_id ILIKE :pattern)")
        params["pattern"] = _like_pattern(f.text)
    return where, params


def _document(srid: int, as_feature: bool) -> tuple[str, dict[str, int]]:
    return (document_sql(_PROPERTIES, geometry_sql("s.geom_25832"), id_column="s.id",
                         as_feature=as_feature), geometry_params(srid))


def fetch_site_page(conn: Connection, f: SiteFilter, *, limit: int, cursor: Cursor | None,
                    srid: int, as_feature: bool, envelope: Envelope) -> str:
    """Up to ``limit`` sites after ``cursor``, ordered by id."""
    where, params = _where(f)
    document, geo = _document(srid, as_feature)
    query = ListQuery(SITES_FROM, tuple(where), {**params, **geo}, document, "s.id")
    return page_document(conn, query, SITE_SORT, limit=limit, cursor=cursor, envelope=envelope)


def fetch_site(conn: Connection, site_id: int, *, include_withdrawn: bool, srid: int = 4326,
               as_feature: bool = False) -> tuple[str, int] | None:
    """One site as JSON text and its version, or ``None`` (missing, or withdrawn and hidden)."""
    where, params = _where(SiteFilter(ids=(site_id,), include_withdrawn=include_withdrawn))
    document, geo = _document(srid, as_feature)
    return fetch_one(conn, ListQuery(SITES_FROM, tuple(where), {**params, **geo}, document, "s.id"))
