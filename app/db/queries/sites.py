"""Sites (Standorte) as JSON assembled by PostGIS: filters, keyset pages by id, one site.

A site's document carries its partner municipalities and its active parcels (marketed:
``verfuegbar``/``reserviert``; count and net area in hectares). The outline is GeoJSON in the
requested CRS (``null`` when the site has none); ``outline_area_ha`` is its area in hectares.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection

from app.db.queries.conditions import Conditions, RegistryFilter
from app.db.queries.documents import document_sql, geometry_params, geometry_sql
from app.db.queries.keyset import ListQuery, SortKey, fetch_one
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


@dataclass(frozen=True, kw_only=True)
class SiteFilter(RegistryFilter):
    """Which sites to list; fields combine with AND.

    ``municipality`` matches the site's municipality or any partner municipality; ``text``
    is searched (case-insensitively) in name, marketing name and external id.
    """

    municipality: tuple[str, ...] = ()
    text: str | None = None


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def site_list(f: SiteFilter, *, srid: int, as_feature: bool) -> ListQuery:
    """The sites ``f`` selects, for :func:`~app.db.queries.keyset.page_document`."""
    conditions = Conditions.of("s", f, SITES_PARAMS)
    if f.municipality:
        conditions.add("(s.municipality_ags = ANY(:municipality) OR EXISTS (SELECT 1 FROM "
                       "site_partners sp WHERE sp.site_id = s.id "
                       "AND sp.municipality_ags = ANY(:municipality)))",
                       municipality=list(f.municipality))
    if f.text:
        conditions.add("(s.name ILIKE :pattern OR s.marketing_name ILIKE :pattern "
                       "OR s.external_id ILIKE :pattern)", pattern=_like_pattern(f.text))
    document = document_sql(_PROPERTIES, geometry_sql("s.geom_25832"), id_column="s.id",
                            as_feature=as_feature)
    return conditions.query(SITES_FROM, document, geometry_params(srid))


def fetch_site(conn: Connection, site_id: int, *, include_withdrawn: bool, srid: int = 4326,
               as_feature: bool = False) -> tuple[str, int] | None:
    """One site as JSON text and its version, or ``None`` (missing, or withdrawn and hidden)."""
    one = SiteFilter(ids=(site_id,), include_withdrawn=include_withdrawn)
    return fetch_one(conn, site_list(one, srid=srid, as_feature=as_feature))
