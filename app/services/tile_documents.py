"""The documents around the tiles: tilesets (OGC API – Tiles), TileJSON 3.0 and a MapLibre
style that draws the service's own layers.

Links are absolute and built from a ``base`` URL (the service root, without a trailing
slash); a ``query`` string (the filter of the request for the document) is carried into the
tile URL templates, so a filtered map is one link.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from app.db.queries.cql2_sql import QueryableType
from app.db.queries.features.base import Collection
from app.domain.roles import Viewer
from app.domain.tms import (
    MAX_ZOOM,
    TMS_CRS,
    TMS_ID,
    TMS_URI,
    WEB_MERCATOR_QUAD,
    lon_lat_to_mercator,
)
from app.services.ogc.documents import region_extent
from app.services.tiles import AGGREGATE_ATTRIBUTES, tile_columns

MVT_MEDIA_TYPE = "application/vnd.mapbox-vector-tile"
TILEJSON_MEDIA_TYPE = "application/json"
STYLE_MEDIA_TYPE = "application/vnd.mapbox.style+json"

REL_TILING_SCHEME = "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme"
REL_TILING_SCHEMES = "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes"
REL_TILESETS_VECTOR = "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"

#: Zoom levels TileJSON announces; beyond the last a map enlarges the deepest tiles.
TILEJSON_MIN_ZOOM = 0
TILEJSON_MAX_ZOOM = 16

ATTRIBUTION = ("Verwaltungsgrenzen © GeoBasis-DE / BKG 2017 (Daten verändert); "
               "Standorte, Flächen und Infrastruktur der Demo: synthetisch")


@dataclass(frozen=True)
class RegionExtent:
    """The region's bounding box, in longitude/latitude (WGS 84) and EPSG:3857 metres."""

    lon_lat: tuple[float, float, float, float]

    @property
    def mercator(self) -> tuple[float, float, float, float]:
        west, south, east, north = self.lon_lat
        return (*lon_lat_to_mercator(west, south), *lon_lat_to_mercator(east, north))


def tile_region(conn: Connection) -> RegionExtent:
    """The region (the districts' bounding box), clamped to Web Mercator's latitudes."""
    west, south, east, north = region_extent(conn)
    limit = 85.0511
    return RegionExtent((west, max(south, -limit), east, min(north, limit)))


def _type_name(kind: QueryableType) -> str:
    return {QueryableType.INTEGER: "integer", QueryableType.NUMBER: "number",
            QueryableType.BOOLEAN: "boolean"}.get(kind, "string")


def layer_fields(collection: Collection, viewer: Viewer) -> dict[str, tuple[str, str]]:
    """The attributes of ``collection``'s tiles for ``viewer``: name → (type, description)."""
    fields: dict[str, tuple[str, str]] = {}
    schemas = collection.property_schemas(viewer)
    for column in tile_columns(collection, viewer, None):
        description = schemas.get(column.name, {}).get("description", column.name)
        fields[column.name] = (_type_name(column.type), str(description))
    if collection.id == "parcels":
        for name, (kind, text) in AGGREGATE_ATTRIBUTES.items():
            fields.setdefault(name, (_type_name(kind), text))
    return fields


def tile_template(base: str, collection_id: str, query: str = "") -> str:
    """The URL template of ``collection_id``'s tiles (``{z}/{y}/{x}``: row before column)."""
    suffix = f"?{query}" if query else ""
    return f"{base}/collections/{collection_id}/tiles/{TMS_ID}/{{z}}/{{y}}/{{x}}{suffix}"


def tileset_document(base: str, collection: Collection, viewer: Viewer,
                     extent: RegionExtent, query: str = "") -> dict[str, Any]:
    """The tileset metadata of ``collection`` in WebMercatorQuad (OGC API – Tiles)."""
    suffix = f"?{query}" if query else ""
    own = f"{base}/collections/{collection.id}/tiles/{TMS_ID}"
    fields = layer_fields(collection, viewer)
    return {
        "title": f"{collection.title} (Vektorkacheln)",
        "description": collection.description,
        "dataType": "vector",
        "crs": TMS_CRS,
        "tileMatrixSetURI": TMS_URI,
        "tileMatrixSetLimits": [
            {"tileMatrix": str(limit.z), "minTileRow": limit.min_row,
             "maxTileRow": limit.max_row, "minTileCol": limit.min_col,
             "maxTileCol": limit.max_col}
            for limit in WEB_MERCATOR_QUAD.limits(extent.mercator, range(MAX_ZOOM + 1))],
        "boundingBox": {"lowerLeft": list(extent.lon_lat[:2]),
                        "upperRight": list(extent.lon_lat[2:]),
                        "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84"},
        "layers": [{
            "id": collection.id, "title": collection.title, "dataType": "vector",
            "geometryDimension": 0 if collection.geometry_type in ("Point", "MultiPoint")
            else 2 if "Polygon" in collection.geometry_type else None,
            "minTileMatrix": "0", "maxTileMatrix": str(MAX_ZOOM),
            "propertiesSchema": {"type": "object", "properties": {
                name: {"type": kind, "description": text}
                for name, (kind, text) in fields.items()}},
        }],
        "links": [
            {"rel": "self", "type": "application/json", "href": f"{own}{suffix}",
             "title": "Diese Kachelmenge"},
            {"rel": REL_TILING_SCHEME, "type": "application/json",
             "href": f"{base}/tileMatrixSets/{TMS_ID}", "title": "Kachelschema"},
            {"rel": "item", "type": MVT_MEDIA_TYPE, "templated": True,
             "href": f"{own}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}{suffix}",
             "title": "Vektorkacheln (Mapbox Vector Tiles)"},
            {"rel": "describedby", "type": TILEJSON_MEDIA_TYPE,
             "href": f"{own}/tilejson.json{suffix}", "title": "TileJSON 3.0"},
            {"rel": "collection", "type": "application/json",
             "href": f"{base}/collections/{collection.id}", "title": collection.title},
        ],
    }


def tilesets_document(base: str, collection: Collection) -> dict[str, Any]:
    """The list of ``collection``'s tilesets (one: WebMercatorQuad)."""
    own = f"{base}/collections/{collection.id}/tiles"
    return {
        "links": [{"rel": "self", "type": "application/json", "href": own}],
        "tilesets": [{
            "title": f"{collection.title} (Vektorkacheln)", "dataType": "vector",
            "crs": TMS_CRS, "tileMatrixSetURI": TMS_URI,
            "links": [
                {"rel": "self", "type": "application/json", "href": f"{own}/{TMS_ID}"},
                {"rel": REL_TILING_SCHEME, "type": "application/json",
                 "href": f"{base}/tileMatrixSets/{TMS_ID}"},
            ],
        }],
    }


def tile_matrix_sets_document(base: str) -> dict[str, Any]:
    """The tiling schemes offered (``/tileMatrixSets``)."""
    return {"tileMatrixSets": [{
        "id": TMS_ID, "title": "Google Maps Compatible for the World", "uri": TMS_URI,
        "links": [{"rel": "self", "type": "application/json",
                   "href": f"{base}/tileMatrixSets/{TMS_ID}"}],
    }]}


def tilejson_document(base: str, collection: Collection, viewer: Viewer,
                      extent: RegionExtent, query: str = "") -> dict[str, Any]:
    """TileJSON 3.0.0 of ``collection``'s vector tiles."""
    west, south, east, north = extent.lon_lat
    fields = layer_fields(collection, viewer)
    return {
        "tilejson": "3.0.0",
        "name": collection.title,
        "description": collection.description,
        "attribution": ATTRIBUTION,
        "scheme": "xyz",
        "tiles": [tile_template(base, collection.id, query)],
        "minzoom": TILEJSON_MIN_ZOOM,
        "maxzoom": TILEJSON_MAX_ZOOM,
        "bounds": [west, south, east, north],
        "center": [(west + east) / 2, (south + north) / 2, 8],
        "vector_layers": [{
            "id": collection.id, "description": collection.title,
            "minzoom": TILEJSON_MIN_ZOOM, "maxzoom": TILEJSON_MAX_ZOOM,
            "fields": {name: text for name, (_, text) in fields.items()},
        }],
    }
