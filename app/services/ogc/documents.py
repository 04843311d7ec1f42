"""The OGC API – Features documents: landing page, conformance, collections, queryables.

Links are absolute (``base`` is the service's public URL without a trailing slash): GDAL
mis-joins root-relative links. Each link names its media type; HTML pages are the same
resources with ``f=html``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, text

from app.db.queries.cql2_sql import conformance_classes
from app.db.queries.features.base import GEOMETRY_SCHEMA_URL, Collection
from app.domain.crs import ogc_crs_list
from app.domain.roles import Viewer
from app.domain.tms import TILES_CONFORMANCE

JSON = "application/json"
GEOJSON = "application/geo+json"
HTML = "text/html"
SCHEMA_JSON = "application/schema+json"
OPENAPI30 = "application/vnd.oai.openapi+json;version=3.0"

_FEATURES = "http://www.opengis.net/spec/ogcapi-features-{part}/1.0/conf/{name}"

#: What the service conforms to, besides the CQL2 classes the filter compiler passes.
FEATURES_CONFORMANCE: tuple[str, ...] = (
    _FEATURES.format(part=1, name="core"),
    _FEATURES.format(part=1, name="geojson"),
    _FEATURES.format(part=1, name="html"),
    _FEATURES.format(part=1, name="oas30"),
    _FEATURES.format(part=2, name="crs"),
    _FEATURES.format(part=3, name="queryables"),
    _FEATURES.format(part=3, name="filter"),
    _FEATURES.format(part=3, name="features-filter"),
)

TITLE = "GEFIS-MD – Gewerbeflächen im Mitteldeutschen Revier"
DESCRIPTION = (
    "OGC API – Features des Gewerbeflächen-Informations- und Monitoringsystems: Flächen, "
    "Standorte, Kreise mit Flächenbilanz, Gemeinden, Infrastruktur. Verwaltungsgrenzen: "
    "© GeoBasis-DE / BKG 2017 (Daten verändert); Standorte, Flächen, Verkäufe und "
    "Infrastruktur der Demo sind synthetisch.")


def link(href: str, rel: str, media_type: str, title: str | None = None) -> dict[str, str]:
    """One link object."""
    found = {"href": href, "rel": rel, "type": media_type}
    if title:
        found["title"] = title
    return found


def landing_page(base: str) -> dict[str, Any]:
    """The landing page at ``/``."""
    return {
        "title": TITLE, "description": DESCRIPTION,
        "links": [
            link(f"{base}/", "self", JSON, "Diese Seite"),
            link(f"{base}/?f=html", "alternate", HTML, "Diese Seite als HTML"),
            link(f"{base}/api", "service-desc", OPENAPI30, "API-Definition (OpenAPI 3.0)"),
            link(f"{base}/docs", "service-doc", HTML, "API-Dokumentation"),
            link(f"{base}/conformance", "conformance", JSON, "Konformitätsklassen"),
            link(f"{base}/conformance", "http://www.opengis.net/def/rel/ogc/1.0/conformance",
                 JSON, "Konformitätsklassen"),
            link(f"{base}/collections", "data", JSON, "Sammlungen"),
            link(f"{base}/collections", "http://www.opengis.net/def/rel/ogc/1.0/data", JSON,
                 "Sammlungen"),
            link(f"{base}/tileMatrixSets", "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes",
                 JSON, "Kachelschemata"),
            link(f"{base}/styles/gefis", "stylesheet", "application/vnd.mapbox.style+json",
                 "Kartenstil (MapLibre)"),
        ],
    }


def conformance() -> dict[str, Any]:
    """The conformance declaration: only classes the test suite proves."""
    return {"conformsTo": [*FEATURES_CONFORMANCE, *conformance_classes(), *TILES_CONFORMANCE]}


def region_extent(conn: Connection) -> list[float]:
    """The region's bounding box in CRS84 (from the districts' boundaries)."""
    row = conn.execute(text(
        "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT "
        "ST_Transform(ST_SetSRID(ST_Extent(geom_25832)::geometry, 25832), 4326) AS e "
        "FROM districts) x")).one()
    return [round(float(v), 6) for v in row] if row[0] is not None else [-180, -90, 180, 90]


def collection_extent(conn: Connection, collection: Collection, region: list[float]
                      ) -> list[float]:
    """Bounding box in CRS84: the region's for the built-in collections, the table's own
    for configured ones."""
    if collection.storage_srid == 25832:
        return region
    geometry = collection.queryables(Viewer(internal=True))[collection.geometry_name].sql
    from_sql = collection.from_sql
    row = conn.execute(text(
        f"SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent("
        f"ST_Transform({geometry}, 4326))::geometry AS e FROM {from_sql}) x")).one()
    return [float(v) for v in row] if row[0] is not None else [-180, -90, 180, 90]


def collection_document(base: str, collection: Collection, extent: list[float]
                        ) -> dict[str, Any]:
    """One collection's metadata: extent, CRS list, storage CRS, links."""
    href = f"{base}/collections/{collection.id}"
    storage = next((c.uri for c in ogc_crs_list()
                    if c.srid == collection.storage_srid and not c.lat_lon), None)
    document: dict[str, Any] = {
        "id": collection.id, "title": collection.title, "description": collection.description,
        "itemType": "feature",
        "extent": {"spatial": {"bbox": [extent],
                               "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84"}},
        "crs": [c.uri for c in ogc_crs_list()],
        "links": [
            link(href, "self", JSON, collection.title),
            link(f"{href}?f=html", "alternate", HTML, collection.title),
            link(f"{href}/items", "items", GEOJSON, "Objekte"),
            link(f"{href}/items?f=html", "items", HTML, "Objekte als HTML"),
            link(f"{href}/queryables", "http://www.opengis.net/def/rel/ogc/1.0/queryables",
                 SCHEMA_JSON, "Abfragbare Eigenschaften"),
            # GDAL before 3.7 looks for the draft relation name and reads it as JSON
            link(f"{href}/queryables", "queryables", JSON, "Abfragbare Eigenschaften"),
            link(f"{href}/sortables", "http://www.opengis.net/def/rel/ogc/1.0/sortables",
                 SCHEMA_JSON, "Sortierbare Eigenschaften"),
            link(f"{href}/tiles", "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector",
                 JSON, "Vektorkacheln"),
        ],
    }
    if storage is not None:
        document["storageCrs"] = storage
    return document


def collections_document(base: str, documents: list[dict[str, Any]]) -> dict[str, Any]:
    """The list of collections."""
    return {"links": [link(f"{base}/collections", "self", JSON, "Sammlungen"),
                      link(f"{base}/collections?f=html", "alternate", HTML, "Sammlungen")],
            "collections": documents}


def _schema(base: str, collection: Collection, kind: str, properties: dict[str, Any]
            ) -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{base}/collections/{collection.id}/{kind}",
        "type": "object", "title": collection.title, "properties": properties,
        "additionalProperties": False,
    }


def queryables_document(base: str, collection: Collection, viewer: Viewer) -> dict[str, Any]:
    """The properties ``viewer`` may filter on, as JSON Schema (each with a ``type``; the
    geometry as a ``$ref`` to the GeoJSON schema of its type)."""
    schemas = collection.property_schemas(viewer)
    names = [n for n in collection.queryables(viewer) if n != collection.geometry_name]
    geometry = {"title": collection.geometry_name,
                "$ref": GEOMETRY_SCHEMA_URL.format(collection.geometry_type)}
    properties: dict[str, Any] = {collection.geometry_name: geometry}
    properties.update({n: schemas[n] for n in names if n in schemas})
    document = _schema(base, collection, "queryables", properties)
    # The draft's list (read by GDAL before 3.7 to decide what it may filter on the server);
    # an unknown keyword to JSON Schema, so schema readers ignore it.
    document["queryables"] = [{"id": n, "type": schemas[n].get("type", "string")}
                              for n in names if n in schemas]
    return document


def sortables_document(base: str, collection: Collection, viewer: Viewer) -> dict[str, Any]:
    """The properties ``viewer`` may sort by (``sortby``), as JSON Schema."""
    schemas = collection.property_schemas(viewer)
    properties = {"id": {"type": "integer", "description": "Kennung (Voreinstellung)"}}
    properties.update({n: schemas[n] for n in collection.sortables(viewer) if n in schemas})
    return _schema(base, collection, "sortables", properties)
