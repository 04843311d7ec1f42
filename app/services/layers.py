"""Whole layers as one RFC 7946 GeoJSON file each (``/layers/{name}.geojson``).

A layer is a published collection read whole: every feature the viewer may see (the
collection's role rules: the public sees marketed parcels of active sites, sites not
withdrawn, no withheld field), in OGC:CRS84 (longitude, latitude) with coordinates rounded
to ``GEFIS_LAYER_DECIMALS``, polygon rings right-handed (exterior counter-clockwise, holes
clockwise: :func:`~app.db.queries.features.base.feature_geometry_sql`), an ``id`` on every
feature and no ``crs`` member. Features come in the order of their ids.

Entity tag (:func:`layer_etag`): one aggregate over exactly the rows the layer serves, the
count and a sum of per-row hashes of the values a feature is made of (the row versions
``xmin`` of the tables it reads, and the sums it carries), combined with everything else the
document depends on: the SQL (role, chosen properties, precision), the bound values (filter,
today's balance), the day where the features depend on it and the service's version. A
change to a row the viewer cannot see leaves the viewer's tag alone.

Streaming (:func:`feature_chunks`): rows come from a server-side cursor in batches of
:data:`FETCH_ROWS`, each batch written as one chunk of the document; memory stays bounded
whatever the size of the layer. :func:`gzipped` compresses such a stream as it goes.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Generator
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection

from app import __version__
from app.db.queries.features.base import Selection, TableCollection
from app.db.queries.features.tables import DISTRICTS, INFRASTRUCTURE, SITES, municipalities
from app.db.queries.keyset import ListQuery, cached_text
from app.domain.crs import CRS84_URI, OgcCrs
from app.domain.errors import NotFound
from app.domain.filters import ParcelFilter
from app.domain.roles import Viewer
from app.services.ogc.registry import PARCELS, district_balance_collection
from app.settings import Settings

#: Rows fetched from the server-side cursor at a time (one chunk of the document each).
FETCH_ROWS = 500

#: gzip level of compressed layers (6: zlib's default balance of speed and size).
GZIP_LEVEL = 6

#: The districts' own properties: every property of the collection but the balance figures.
DISTRICT_PROPERTIES: tuple[str, ...] = tuple(
    p.name for p in DISTRICTS.properties if "b.doc" not in p.sql)

_SUPPLY = ("a.n", "a.ha")


@dataclass(frozen=True)
class Layer:
    """A published layer: its name and, per feature, the SQL values a feature is made of
    (hashed for the entity tag)."""

    name: str
    version_sql: tuple[str, ...]
    #: whether the features depend on the day (today's balance)
    dated: bool = False


#: The layers, by name, in the order they are listed.
LAYERS: dict[str, Layer] = {layer.name: layer for layer in (
    Layer("parcels", ("p.id", "p.xmin", "s.xmin")),
    Layer("sites", ("s.id", "s.xmin", "m.xmin", "d.xmin", *_SUPPLY)),
    Layer("districts", ("d.ags", "d.xmin", *_SUPPLY)),
    Layer("municipalities", ("m.ags", "m.xmin", "d.xmin", *_SUPPLY)),
    Layer("district_balance", ("d.ags", "d.xmin", *_SUPPLY, "b.doc"), dated=True),
    Layer("infrastructure", ("i.id", "i.xmin")),
)}


def layer_crs(decimals: int) -> OgcCrs:
    """OGC:CRS84 (longitude first, as RFC 7946 requires) with ``decimals`` decimals.

    >>> layer_crs(6)
    OgcCrs(uri='http://www.opengis.net/def/crs/OGC/1.3/CRS84', srid=4326, lat_lon=False, \
decimals=6)
    """
    return OgcCrs(CRS84_URI, 4326, lat_lon=False, decimals=decimals)


def find_layer(name: str) -> Layer:
    """The layer ``name``; 404 when there is none (land sales are staff data, no layer).

    >>> find_layer("sites").name
    'sites'
    """
    layer = LAYERS.get(name)
    if layer is None:
        raise NotFound(f"layer {name!r} does not exist; layers: {', '.join(LAYERS)}")
    return layer


@dataclass(frozen=True)
class PreparedLayer:
    """A layer ready to be sent: its select (role rules and filter applied) and its tag."""

    layer: Layer
    query: ListQuery
    etag: str


def _table(name: str) -> tuple[TableCollection, tuple[str, ...] | None]:
    """The collection of a table layer and the properties it publishes (``None``: all)."""
    if name == "sites":
        return SITES, None
    if name == "districts":
        return DISTRICTS, DISTRICT_PROPERTIES
    if name == "municipalities":
        return municipalities(), None
    if name == "infrastructure":
        return INFRASTRUCTURE, None
    raise AssertionError(name)


def layer_query(conn: Connection, layer: Layer, viewer: Viewer, settings: Settings, *,
                day: date, parcel_filter: ParcelFilter | None = None) -> ListQuery:
    """The select of every feature of ``layer`` that ``viewer`` may see (parcels narrowed by
    ``parcel_filter``), in CRS84 with the configured decimals."""
    crs = layer_crs(settings.layer_decimals)
    if layer.name == "parcels":
        return PARCELS.filtered_query(parcel_filter or ParcelFilter(), Selection(), viewer, crs)
    if layer.name == "district_balance":
        collection = district_balance_collection(conn, viewer, settings, day)
        return collection.items_query(Selection(), viewer, crs)
    if parcel_filter is not None:
        raise ValueError(f"layer {layer.name!r} takes no parcel filter")
    table, properties = _table(layer.name)
    return table.items_query(Selection(properties=properties), viewer, crs)


def _where(query: ListQuery) -> str:
    return " AND ".join(f"({condition})" for condition in query.where) or "true"


def layer_etag(conn: Connection, layer: Layer, query: ListQuery, viewer: Viewer, *,
               decimals: int, day: date) -> str:
    """The strong entity tag of ``layer`` as ``query`` selects it (see the module docstring).

    One aggregate over the selected rows, no geometry or document built.
    """
    values = ", ".join(layer.version_sql)
    sql = (f"SELECT count(*), CAST(coalesce(sum(hashtextextended(concat_ws(':', {values}), "
           f"0)), 0) AS text) FROM {query.from_sql} WHERE {_where(query)}")
    count, digest = conn.execute(cached_text(sql), query.params).one()
    material = json.dumps({
        "service": __version__, "layer": layer.name, "internal": viewer.internal,
        "decimals": decimals, "day": day.isoformat() if layer.dated else None,
        "from": query.from_sql, "where": list(query.where), "document": query.document_sql,
        "params": query.params, "rows": count, "digest": digest,
    }, sort_keys=True, default=str)
    return f'"layer-{layer.name}-{hashlib.sha256(material.encode()).hexdigest()[:32]}"'


def prepare_layer(conn: Connection, name: str, viewer: Viewer, settings: Settings, *,
                  day: date, parcel_filter: ParcelFilter | None = None) -> PreparedLayer:
    """Layer ``name`` for ``viewer`` on ``day``: its select and entity tag (404: no layer)."""
    layer = find_layer(name)
    query = layer_query(conn, layer, viewer, settings, day=day, parcel_filter=parcel_filter)
    etag = layer_etag(conn, layer, query, viewer, decimals=settings.layer_decimals, day=day)
    return PreparedLayer(layer, query, etag)


def document_head(name: str) -> bytes:
    """The start of a layer's document, up to the first feature. ``name`` is a foreign member
    (RFC 7946 §6.1) that GDAL and QGIS take as the layer's name.

    >>> document_head("sites")
    b'{"type": "FeatureCollection", "name": "sites", "features": ['
    """
    return b'{"type": "FeatureCollection", "name": ' + json.dumps(name).encode() + \
        b', "features": ['


#: The end of a layer's document.
DOCUMENT_TAIL = b"]}\n"


def feature_chunks(conn: Connection, prepared: PreparedLayer,
                   batch_rows: int | None = None) -> Generator[bytes, None, None]:
    """The layer's GeoJSON document in chunks: the head, one chunk per batch of features
    (``batch_rows``, default :data:`FETCH_ROWS`, read from a server-side cursor), the tail.

    Close the generator when stopping early: that closes the cursor.
    """
    query = prepared.query
    sql = (f"SELECT CAST(({query.document_sql}) AS text) FROM {query.from_sql} "
           f"WHERE {_where(query)} ORDER BY {query.id_sql}")
    size = batch_rows or FETCH_ROWS
    yield document_head(prepared.layer.name)
    separator = b""
    # SQLAlchemy ignores ``yield_per`` for textual SQL: ask for the server-side cursor and the
    # batch size explicitly
    with conn.execute(cached_text(sql), query.params, execution_options={
            "stream_results": True, "max_row_buffer": size}) as result:
        for rows in result.partitions(size):
            yield separator + ",".join(row[0] for row in rows).encode()
            separator = b","
    yield DOCUMENT_TAIL


def gzipped(chunks: Generator[bytes, None, None],
            level: int = GZIP_LEVEL) -> Generator[bytes, None, None]:
    """``chunks`` as one gzip member (RFC 1952), compressed as they come; closing this
    generator closes ``chunks``.

    >>> import gzip
    >>> gzip.decompress(b"".join(gzipped(chunk for chunk in [b"ab", b"", b"c"])))
    b'abc'
    """
    compressor = zlib.compressobj(level, zlib.DEFLATED, 31)
    try:
        for chunk in chunks:
            if out := compressor.compress(chunk):
                yield out
        yield compressor.flush()
    finally:
        chunks.close()
