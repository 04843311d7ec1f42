"""Mapbox Vector Tiles made by PostGIS (``ST_AsMVT``) from the one select of a collection.

A tile's features are the rows of a collection's :class:`~app.db.queries.keyset.ListQuery`
(role rules, the registry's filter, CQL2 already applied) whose geometry meets the tile
(an index search in the storage CRS), transformed to EPSG:3857, simplified to the tile's
resolution, clipped with a buffer and quantised to the tile's grid by ``ST_AsMVTGeom``. A
tile carries at most ``cap`` features, the largest first.

Attributes are the collection's properties as MVT values: strings, numbers and booleans
unchanged, dates and times as ISO text, lists joined with ``;``. NULL (also a withheld value)
is left out of the feature, as MVT has no null.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import pyproj

from app.db.queries.cql2_sql import QueryableType
from app.db.queries.keyset import ListQuery
from app.db.queries.parcels import selection_sql
from app.domain.filters import ParcelFilter
from app.domain.roles import STAFF
from app.domain.tms import (
    MVT_EXTENT,
    ORIGIN_SHIFT_M,
    WEB_MERCATOR_QUAD,
    Tile,
    lon_lat_to_mercator,
)

#: The whole Web Mercator square (EPSG:3857 metres).
WORLD_M = (-ORIGIN_SHIFT_M, -ORIGIN_SHIFT_M, ORIGIN_SHIFT_M, ORIGIN_SHIFT_M)

#: Buffer around a tile (MVT units) kept when clipping, so that strokes join across tiles.
BUFFER_UNITS = 64


@dataclass(frozen=True)
class TileColumn:
    """An attribute of a tile layer: its name, SQL (over the query's aliases), type."""

    name: str
    sql: str
    type: QueryableType


def mvt_value_sql(column: TileColumn) -> str:
    """``column`` as a value MVT can carry.

    >>> mvt_value_sql(TileColumn("g", "p.user_groups", QueryableType.STRINGS))
    "array_to_string(p.user_groups, ';')"
    >>> mvt_value_sql(TileColumn("d", "x.day", QueryableType.DATE))
    'CAST(x.day AS text)'
    """
    if column.type in (QueryableType.STRINGS, QueryableType.INTEGERS):
        return f"array_to_string({column.sql}, ';')"
    if column.type in (QueryableType.DATE, QueryableType.DATETIME):
        return f"CAST({column.sql} AS text)"
    if column.type is QueryableType.NUMBER:
        return f"CAST({column.sql} AS float8)"
    return column.sql


#: Degrees by which a storage CRS's area of use is widened for the tile search (a transverse
#: Mercator zone such as EPSG:25832 is used far beyond its official 6° band, e.g. for all of
#: the region up to 13.3° E, and stays well defined there).
DOMAIN_MARGIN_DEG = 15.0


@lru_cache(maxsize=32)
def search_domain_m(srid: int) -> tuple[float, float, float, float]:
    """EPSG:3857 bounds within which tiles are searched in storage CRS ``srid``: its area of
    use widened by :data:`DOMAIN_MARGIN_DEG` (a huge tile of a low zoom, transformed whole,
    would fall outside the projection's domain).

    >>> [round(v) for v in search_domain_m(3857)] == [round(v) for v in WORLD_M]
    True
    """
    if srid == 3857:
        return WORLD_M
    area = pyproj.CRS.from_epsg(srid).area_of_use
    if area is None:
        return WORLD_M
    west, south = max(area.west - DOMAIN_MARGIN_DEG, -180.0), max(area.south - 10, -85.05)
    east, north = min(area.east + DOMAIN_MARGIN_DEG, 180.0), min(area.north + 10, 85.05)
    return (*lon_lat_to_mercator(west, south), *lon_lat_to_mercator(east, north))


def tile_params(tile: Tile, srid: int) -> dict[str, Any] | None:
    """The bound values of ``tile``: its EPSG:3857 bounds (``t_*``), those bounds widened by
    the clipping buffer and kept within the search domain of ``srid`` (``tb_*``, the index
    search) and the simplification tolerance (half an MVT unit, metres). ``None``: the tile
    lies outside the domain (it has no features).
    """
    xmin, ymin, xmax, ymax = WEB_MERCATOR_QUAD.tile_bounds(tile)
    margin = (xmax - xmin) * BUFFER_UNITS / MVT_EXTENT
    dxmin, dymin, dxmax, dymax = search_domain_m(srid)
    box = (max(xmin - margin, dxmin), max(ymin - margin, dymin),
           min(xmax + margin, dxmax), min(ymax + margin, dymax))
    if box[0] >= box[2] or box[1] >= box[3]:
        return None
    return {"t_xmin": xmin, "t_ymin": ymin, "t_xmax": xmax, "t_ymax": ymax,
            "tb_xmin": box[0], "tb_ymin": box[1], "tb_xmax": box[2], "tb_ymax": box[3],
            "t_tolerance": WEB_MERCATOR_QUAD.unit_m(tile.z) / 2}


_ENVELOPE = "ST_MakeEnvelope(:t_xmin, :t_ymin, :t_xmax, :t_ymax, 3857)"


def _search_box(srid: int) -> str:
    """The buffered tile in the storage CRS ``srid`` (densified first, so that the curved
    outline of a large tile stays inside the box of its vertices)."""
    box = "ST_MakeEnvelope(:tb_xmin, :tb_ymin, :tb_xmax, :tb_ymax, 3857)"
    if srid == 3857:
        return box
    return f"ST_Transform(ST_Segmentize({box}, (:tb_xmax - :tb_xmin) / 16), {int(srid)})"


def _tile_geometry(geometry_sql: str, srid: int, *, simplify: bool) -> str:
    geometry = geometry_sql if srid == 3857 else f"ST_Transform({geometry_sql}, 3857)"
    if simplify:
        geometry = f"ST_Simplify({geometry}, :t_tolerance, true)"
    return (f"ST_AsMVTGeom({geometry}, {_ENVELOPE}, {MVT_EXTENT}, {BUFFER_UNITS}, true)")


def _mvt(select: str, has_id: bool) -> str:
    id_name = ", 'id'" if has_id else ""
    return (f"SELECT ST_AsMVT(t, :t_layer, {MVT_EXTENT}, 'geom'{id_name}) "
            f"FROM ({select}) t WHERE t.geom IS NOT NULL")


def mvt_sql(query: ListQuery, *, geometry_sql: str, srid: int, columns: list[TileColumn],
            id_sql: str | None, simplify: bool) -> str:
    """SQL of one tile layer of ``query``'s rows: one ``bytea`` (empty without features).

    Bound values: ``query.params``, :func:`tile_params`, ``t_layer`` (the layer's name) and
    ``t_cap`` (most features). ``id_sql`` (an integer) becomes the features' ids.
    """
    values = [f"{mvt_value_sql(c)} AS {c.name}" for c in columns]
    if id_sql is not None:
        values.insert(0, f"{id_sql} AS id")
    where = [*query.where, f"{geometry_sql} && {_search_box(srid)}"]
    select = (f"SELECT {', '.join([*values, ''])}"
              f"{_tile_geometry(geometry_sql, srid, simplify=simplify)} AS geom "
              f"FROM {query.from_sql} WHERE {' AND '.join(f'({w})' for w in where)} "
              f"ORDER BY ST_Area({geometry_sql}) DESC, {query.id_sql} LIMIT :t_cap")
    return _mvt(select, id_sql is not None)


def _parcels_shape(site_sql: str) -> str:
    """SQL: every parcel (in any state) of the site ``site_sql`` collected into one
    MultiPolygon (EPSG:25832; NULL without parcels)."""
    parcels, params = selection_sql(ParcelFilter(), STAFF, {"geom": "=p.geom_25832"},
                                    correlate={"site_id": site_sql})
    assert not params  # every parcel of the site: nothing to bind
    return f"(SELECT ST_Multi(ST_Collect(q.geom)) FROM ({parcels}) q)"


def aggregated_parcels_sql(query: ListQuery, *, net_area_sql: str, availability_sql: str,
                           synthetic_sql: str) -> str:
    """SQL of a parcels tile at low zoom: one feature per site holding matching parcels,
    the site's outline (or, without one, its parcels collected), with the number of parcels,
    their summed net area (ha) and the availability class holding most of it. A site too
    small to be drawn at the tile's resolution becomes a point, so that no site (and no
    hectare) drops out of a low-zoom tile.

    ``query`` is a parcel select (aliases ``p`` and ``s``); the SQL of the three fields is
    as the viewer sees them. The sums are taken per site and class from the parcels' plain
    columns first (no parcel geometry is carried through the grouping); the outlines are
    joined to the few sites that remain.
    """
    where = [*query.where, f"p.geom_25832 && {_search_box(25832)}"]
    by_class = (
        f"SELECT p.site_id, {availability_sql} AS availability, count(*) AS parcels, "
        f"sum({net_area_sql}) AS net_ha, sum(p.gross_area_ha) AS gross_ha, "
        f"bool_and({synthetic_sql}) AS synthetic FROM {query.from_sql} "
        f"WHERE {' AND '.join(f'({w})' for w in where)} GROUP BY 1, 2")
    by_site = (
        "SELECT c.site_id, CAST(sum(c.parcels) AS integer) AS parcels, "
        "sum(c.net_ha) AS net_ha, bool_and(c.synthetic) AS synthetic, "
        "(array_agg(c.availability ORDER BY c.net_ha DESC NULLS LAST, c.availability))[1] "
        f"AS availability FROM ({by_class}) c GROUP BY c.site_id "
        "ORDER BY sum(c.gross_ha) DESC, c.site_id LIMIT :t_cap")
    shape = f"coalesce(o.geom_25832, {_parcels_shape('o.id')})"
    select = (
        "SELECT o.id AS id, true AS aggregated, o.id AS site_id, o.name AS site_name, "
        "o.district_ags AS district_ags, g.parcels, "
        "CAST(round(CAST(g.net_ha AS numeric), 2) AS float8) AS net_area_ha, "
        "g.availability, g.synthetic, "
        f"coalesce({_tile_geometry(shape, 25832, simplify=True)}, "
        f"{_tile_geometry(f'ST_PointOnSurface({shape})', 25832, simplify=False)}) AS geom "
        # OFFSET 0: the outlines are made for the remaining sites only (else the planner
        # pushes the test of the tile geometry down into a scan of every site)
        f"FROM ({by_site}) g JOIN sites o ON o.id = g.site_id OFFSET 0")
    return _mvt(select, True)
