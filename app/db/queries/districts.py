"""Districts and municipalities with their active parcels, as JSON assembled by PostGIS.

"Active" parcels are those being marketed (``verfuegbar``, ``reserviert``) on sites that are
not withdrawn, i.e. what the public sees. Areas: ``area_km2`` of the boundary (ST_Area in
EPSG:25832), ``active_net_area_ha`` the sum of the active parcels' net areas in hectares.
Geometry can be simplified in EPSG:25832 (tolerance in metres) before it is transformed.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from app.db.queries.documents import document_sql, geometry_params, geometry_sql
from app.db.queries.keyset import cached_text
from app.db.queries.parcels import sums_sql
from app.domain.clock import today
from app.domain.filters import MARKETED_STATUS, ParcelFilter
from app.domain.roles import STAFF


def active_supply_join(column: str, alias: str) -> tuple[str, dict[str, Any]]:
    """``LEFT JOIN`` of the marketed supply (:func:`sums_sql`) per ``column`` as ``a``
    (left out by the planner from queries that do not read it, such as counts)."""
    sql, params = sums_sql(ACTIVE_SUPPLY, (column,), viewer=STAFF, reference=today())
    return (f"LEFT JOIN ({sql}) a0 ON a0.{column} = {alias}.ags "
            "LEFT JOIN LATERAL (SELECT coalesce(a0.parcels, 0) AS n, "
            "coalesce(a0.net_ha, 0) AS ha) a ON true", params)


#: The supply counted as "active": marketed parcels (verfuegbar, reserviert) of active sites.
ACTIVE_SUPPLY = ParcelFilter(marketing_status=MARKETED_STATUS, active_sites_only=True)

_DISTRICT_PROPERTIES = """jsonb_build_object(
    'ags', d.ags, 'key', d.key, 'name', d.name, 'kind', d.kind, 'state', d.state,
    'nuts3', d.nuts3, 'seat', d.seat, 'area_km2', round(d.area_km2::numeric, 3),
    'active_parcels', a.n, 'active_net_area_ha', round(a.ha::numeric, 4))"""

_MUNICIPALITY_PROPERTIES = """jsonb_build_object(
    'ags', m.ags, 'name', m.name, 'district_ags', m.district_ags, 'district_name', d.name,
    'area_km2', round(m.area_km2::numeric, 3),
    'active_parcels', a.n, 'active_net_area_ha', round(a.ha::numeric, 4))"""


def _geometry(alias: str, simplify_m: float | None) -> str:
    column = f"{alias}.geom_25832"
    if simplify_m:
        column = f"ST_SimplifyPreserveTopology({column}, CAST(:simplify_m AS float8))"
    return geometry_sql(column)


def _documents(conn: Connection, sql: str, params: dict[str, Any], *, srid: int,
               simplify_m: float | None) -> list[str]:
    bind = {**params, **geometry_params(srid), "simplify_m": simplify_m}
    return [row.doc for row in conn.execute(cached_text(sql), bind)]


def district_documents(conn: Connection, *, ags: str | None = None, with_geometry: bool,
                       srid: int = 4326, simplify_m: float | None = None) -> list[str]:
    """Districts ordered by AGS (one, or none, when ``ags`` is given), as JSON text.

    With geometry each is a GeoJSON Feature (id: the AGS), else a plain object.
    """
    geometry = _geometry("d", simplify_m) if with_geometry else None
    document = document_sql(_DISTRICT_PROPERTIES, geometry, id_column="d.ags",
                            as_feature=with_geometry)
    active, params = active_supply_join("district_ags", "d")
    sql = (f"SELECT ({document})::text AS doc FROM districts d {active} "
           "WHERE (CAST(:ags AS text) IS NULL OR d.ags = :ags) ORDER BY d.ags")
    return _documents(conn, sql, {**params, "ags": ags}, srid=srid, simplify_m=simplify_m)


def municipality_documents(conn: Connection, *, ags: str | None = None,
                           districts: tuple[str, ...] = (), with_geometry: bool,
                           srid: int = 4326, simplify_m: float | None = None) -> list[str]:
    """Municipalities ordered by AGS, optionally of some districts only, as JSON text."""
    geometry = _geometry("m", simplify_m) if with_geometry else None
    document = document_sql(_MUNICIPALITY_PROPERTIES, geometry, id_column="m.ags",
                            as_feature=with_geometry)
    active, params = active_supply_join("municipality_ags", "m")
    sql = (f"SELECT ({document})::text AS doc FROM municipalities m "
           f"JOIN districts d ON d.ags = m.district_ags {active} "
           "WHERE (CAST(:ags AS text) IS NULL OR m.ags = :ags) "
           "AND (cardinality(CAST(:districts AS text[])) = 0 OR m.district_ags = ANY(:districts)) "
           "ORDER BY m.ags")
    return _documents(conn, sql, {**params, "ags": ags, "districts": list(districts)}, srid=srid,
                      simplify_m=simplify_m)
