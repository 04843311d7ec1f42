"""Vector tiles of the published collections (OGC API – Tiles, Mapbox Vector Tiles).

A tile is the collection's one select (:func:`app.services.ogc.items.items_query`: role
rules, the registry's filter for parcels, ``datetime``, a CQL2 ``filter``, ``property=value``)
cut to the tile by :mod:`app.db.queries.tiles`. Parcels have two faces: from
``GEFIS_TILE_PARCEL_AGGREGATE_BELOW_ZOOM`` on, the parcels themselves with their tile fields
from the registry; below it, one feature per site holding matching parcels (its outline,
the number of parcels, their summed net hectares, the class holding most of that area),
which keeps the whole-region tiles small. Parcels can be read as of a past day (``at``: the
web map's time slider), from the stored quarterly snapshot when the day ends a stored
quarter, else rebuilt from the history, exactly as the sums of ``/parcels/summary`` are.

The entity tag is a digest of the tile's bytes, so it changes exactly when a feature drawn
in the tile (or an attribute it carries) changes; a cache revalidates with
``If-None-Match`` and gets a 304.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection

from app.db.queries.cql2_sql import QueryableType
from app.db.queries.features.base import Collection, TableCollection, chosen
from app.db.queries.features.parcels import ParcelCollection
from app.db.queries.keyset import cached_text
from app.db.queries.parcels.source import LIVE, ParcelSource
from app.db.queries.parcels.sql import visible_fields, visible_sql
from app.db.queries.snapshots import source_for_day
from app.db.queries.tiles import (
    TileColumn,
    aggregated_parcels_sql,
    mvt_sql,
    tile_params,
)
from app.domain.clock import today
from app.domain.crs import CRS84
from app.domain.errors import InvalidInput
from app.domain.filters import ParcelFilter
from app.domain.parcel_fields import FIELDS, FieldType
from app.domain.roles import Viewer
from app.domain.tms import Tile
from app.services.ogc.items import ItemsRequest, selection
from app.settings import Settings

_TYPE = {FieldType.INTEGER: QueryableType.INTEGER, FieldType.NUMBER: QueryableType.NUMBER,
         FieldType.STRING: QueryableType.STRING, FieldType.BOOLEAN: QueryableType.BOOLEAN,
         FieldType.DATE: QueryableType.DATE, FieldType.DATETIME: QueryableType.DATETIME,
         FieldType.STRINGS: QueryableType.STRINGS}

#: Attributes of the aggregated parcel features (one per site, below the aggregation zoom).
AGGREGATE_ATTRIBUTES: dict[str, tuple[QueryableType, str]] = {
    "aggregated": (QueryableType.BOOLEAN, "Zusammengefasst: ein Standort statt seiner Flächen"),
    "site_id": (QueryableType.INTEGER, "Standort (id)"),
    "site_name": (QueryableType.STRING, "Standort"),
    "district_ags": (QueryableType.STRING, "Kreis (AGS)"),
    "parcels": (QueryableType.INTEGER, "Anzahl passender Flächen des Standorts"),
    "net_area_ha": (QueryableType.NUMBER, "Summe der Nettoflächen (ha)"),
    "availability": (QueryableType.STRING, "Verfügbarkeit mit der größten Nettofläche"),
    "synthetic": (QueryableType.BOOLEAN, "Synthetische Demodaten"),
}


@dataclass(frozen=True)
class TileRequest:
    """What a client asked of one tile: the tile, the collection's selection (the items
    parameters: ``filter``, ``datetime``, ``properties``, the registry's parcel filter) and,
    for parcels, the day to show (``None``: today)."""

    tile: Tile
    items: ItemsRequest
    at: date | None = None


def parcel_tile_columns(viewer: Viewer, names: tuple[str, ...] | None) -> list[TileColumn]:
    """The registry's tile fields ``viewer`` may see (narrowed to ``names``); a withheld
    value is NULL, so it is left out of the feature."""
    available = {f.name: f for f in visible_fields(viewer) if f.tile and f.name != "id"}
    return [TileColumn(name, visible_sql(available[name], viewer) or "NULL",
                       _TYPE[available[name].type])
            for name in chosen(list(available), names)]


def table_tile_columns(collection: TableCollection, viewer: Viewer,
                       names: tuple[str, ...] | None) -> list[TileColumn]:
    """The properties of a table collection ``viewer`` may see (narrowed to ``names``)."""
    visible = {p.name: p for p in collection.properties if viewer.internal or not p.staff_only}
    return [TileColumn(name, visible[name].sql, visible[name].type)
            for name in chosen(list(visible), names)]


def tile_columns(collection: Collection, viewer: Viewer,
                 names: tuple[str, ...] | None) -> list[TileColumn]:
    """The attributes a tile of ``collection`` carries for ``viewer``."""
    if isinstance(collection, ParcelCollection):
        return parcel_tile_columns(viewer, names)
    if isinstance(collection, TableCollection):
        return table_tile_columns(collection, viewer, names)
    raise TypeError(f"no tiles for {type(collection).__name__}")


def aggregates(collection: Collection, tile: Tile, settings: Settings) -> bool:
    """Whether ``tile`` of ``collection`` carries one feature per site instead of parcels."""
    return isinstance(collection, ParcelCollection) \
        and tile.z < settings.tile_parcel_aggregate_below_zoom


def _feature_id(collection: Collection) -> str | None:
    if isinstance(collection, ParcelCollection):
        return "p.id"
    if isinstance(collection, TableCollection):
        if collection.id_type is QueryableType.INTEGER:
            return collection.id_sql
        if collection.id in ("districts", "municipalities"):  # AGS: digits only
            return f"CAST({collection.id_sql} AS bigint)"
    return None


def tile_statement(collection: Collection, request: TileRequest, viewer: Viewer,
                   settings: Settings, source: ParcelSource = LIVE
                   ) -> tuple[str, dict[str, object]] | None:
    """The SQL of one tile of ``collection`` for ``viewer`` and its bound values; ``None``
    when the tile lies outside the storage CRS's domain (no features there). Parcels come
    from ``source`` (:func:`parcel_source` of the request's day)."""
    items = request.items
    if not isinstance(collection, ParcelCollection) and request.at is not None \
            and request.at < today():
        raise InvalidInput.for_field(
            "at", "only the parcels can be shown as of a past day", "unsupported")
    chosen_rows = selection(collection, items, viewer)
    bounds = tile_params(request.tile, collection.storage_srid)
    if bounds is None:
        return None
    params: dict[str, object] = {**bounds, "t_layer": collection.id,
                                 "t_cap": settings.tile_feature_cap}
    if isinstance(collection, ParcelCollection):
        query = collection.filtered_query(items.parcel_filter or ParcelFilter(), chosen_rows,
                                          viewer, CRS84, source)
        if aggregates(collection, request.tile, settings):
            sql = aggregated_parcels_sql(
                query, net_area_sql=_parcel_sql("net_area_ha", viewer),
                availability_sql=_parcel_sql("availability", viewer),
                synthetic_sql=_parcel_sql("synthetic", viewer))
            return sql, {**query.params, **params}
        geometry_sql, srid = "p.geom_25832", collection.storage_srid
    else:
        assert isinstance(collection, TableCollection)
        query = collection.items_query(chosen_rows, viewer, CRS84)
        geometry_sql, srid = collection.geometry_sql, collection.storage_srid
    sql = mvt_sql(query, geometry_sql=geometry_sql, srid=srid,
                  columns=tile_columns(collection, viewer, items.properties),
                  id_sql=_feature_id(collection),
                  simplify=collection.geometry_type not in ("Point", "MultiPoint"))
    return sql, {**query.params, **params}


def _parcel_sql(name: str, viewer: Viewer) -> str:
    return visible_sql(FIELDS[name], viewer) or "NULL"


def render_tile(conn: Connection, collection: Collection, request: TileRequest,
                viewer: Viewer, settings: Settings) -> bytes:
    """One Mapbox Vector Tile of ``collection`` (empty bytes: no feature in the tile)."""
    source = LIVE
    if isinstance(collection, ParcelCollection) and request.at is not None:
        source = source_for_day(conn, request.at, today())
    statement = tile_statement(collection, request, viewer, settings, source)
    if statement is None:
        return b""
    sql, params = statement
    data = conn.execute(cached_text(sql), params).scalar_one()
    return bytes(data) if data is not None else b""


def tile_etag(data: bytes) -> str:
    """The strong entity tag of a tile: a digest of its bytes.

    >>> tile_etag(b"x") == tile_etag(b"x") != tile_etag(b"y")
    True
    """
    return '"tile-' + hashlib.blake2b(data, digest_size=16).hexdigest() + '"'
