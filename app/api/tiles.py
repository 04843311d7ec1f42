"""OGC API – Tiles: vector tiles (Mapbox Vector Tiles) of the published collections, their
tiling scheme and tileset metadata, TileJSON and a MapLibre style (HTTP only).

``/collections/{id}/tiles/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}`` (row before
column: z/y/x) takes the collection's selection (``filter``, ``datetime``, ``properties``;
for parcels also the registry's filter parameters, ``property=value`` and ``at``). A tile
without features is answered 204; a tile outside the tile matrix, 404. Caching: a strong
``ETag`` (the tile's digest), ``Cache-Control`` public for callers without a key (private
with one) for ``GEFIS_TILE_MAX_AGE_S``, 304 on ``If-None-Match``, gzip when accepted.
"""

from __future__ import annotations

import gzip
from dataclasses import replace
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import Connection

from app.api.auth import OPTIONAL_API_KEY, PrincipalDep
from app.api.caching import accepts_gzip, gzip_etag, none_match
from app.api.connections import ReadConnDep
from app.api.deps import SettingsDep
from app.api.ogc.collections import CollectionId, registry
from app.api.ogc.params import (
    PROPERTY_PARAMETERS_OPENAPI,
    CqlFilterDep,
    PropertyEqualsDep,
)
from app.api.parcel_params import LayerFilterDep, ReferenceDayDep
from app.api.responses import PROBLEM_RESPONSES, base_url
from app.db.queries.features.base import Collection
from app.domain.clock import today
from app.domain.errors import NotFound
from app.domain.ogc_params import parse_datetime, parse_properties
from app.domain.roles import Principal
from app.domain.tms import MAX_ZOOM, TMS_ID, WEB_MERCATOR_QUAD, Tile
from app.services.map_style import STYLE_SOURCES, style_document
from app.services.ogc.items import ItemsRequest
from app.services.tile_documents import (
    MVT_MEDIA_TYPE,
    STYLE_MEDIA_TYPE,
    tile_matrix_sets_document,
    tile_region,
    tilejson_document,
    tileset_document,
    tilesets_document,
)
from app.services.tiles import TileRequest, render_tile, tile_etag
from app.settings import Settings

router = APIRouter(tags=["Kacheln"])

#: Request headers a tile depends on (the API key is sent as ``Authorization``).
VARY = "Accept-Encoding, Authorization"
#: gzip level of tiles (fast; tiles are small).
GZIP_LEVEL = 6

TileMatrixSetId = Annotated[str, Path(
    description="Tiling scheme (only WebMercatorQuad)", json_schema_extra={"enum": [TMS_ID]})]
TileMatrix = Annotated[int, Path(description=f"Zoom level 0–{MAX_ZOOM}")]
TileRow = Annotated[int, Path(description="Row, counted from the north")]
TileCol = Annotated[int, Path(description="Column, counted from the west")]

_TILE = {200: {"description": "A Mapbox Vector Tile", "content": {MVT_MEDIA_TYPE: {}},
               "headers": {"ETag": {"schema": {"type": "string"}},
                           "Cache-Control": {"schema": {"type": "string"}}}},
         204: {"description": "No feature in the tile"},
         304: {"description": "Not modified (If-None-Match names the tile's ETag)"},
         **PROBLEM_RESPONSES}


async def tile_selection(
    at: ReferenceDayDep,
    cql: CqlFilterDep,
    datetime: Annotated[str | None, Query(
        description="Instant or interval on the collection's temporal property")] = None,
    properties: Annotated[str | None, Query(
        description="Comma-separated attributes the tile carries (default: all)")] = None,
) -> tuple[ItemsRequest, date]:
    """The collection selection of a tile request and the day to show (``at``, parcels)."""
    return ItemsRequest(
        limit=1, datetime=None if datetime is None else parse_datetime(datetime),
        filter=cql.tree, filter_crs=cql.crs,
        properties=parse_properties(properties)), at


TileSelectionDep = Annotated[tuple[ItemsRequest, date], Depends(tile_selection)]


def _tms(tms_id: str) -> None:
    if tms_id != TMS_ID:
        raise NotFound(f"tiling scheme {tms_id!r} is not offered; offered: {TMS_ID}")


def _collection(request: Request, conn: Connection, principal: Principal,
                collection_id: str) -> Collection:
    return registry(request).get(conn, collection_id, principal.viewer, today())


def _tile_answer(request: Request, data: bytes, principal: Principal,
                 settings: Settings) -> Response:
    scope = "private" if principal.is_authenticated else "public"
    headers = {"Vary": VARY, "Cache-Control": f"{scope}, max-age={settings.tile_max_age_s}"}
    if not data:
        return Response(status_code=204, headers=headers)
    compress = accepts_gzip(request.headers.getlist("accept-encoding"))
    etag = tile_etag(data)
    headers["ETag"] = gzip_etag(etag) if compress else etag
    if none_match(request.headers.get("if-none-match"), headers["ETag"]):
        return Response(status_code=304, headers=headers)
    if compress:
        headers["Content-Encoding"] = "gzip"
        data = gzip.compress(data, GZIP_LEVEL, mtime=0)
    return Response(data, media_type=MVT_MEDIA_TYPE, headers=headers)


def _tile(request: Request, conn: Connection, principal: Principal, settings: Settings,
          collection_id: str, tms_id: str, tile: Tile, items: ItemsRequest,
          at: date) -> Response:
    _tms(tms_id)
    if not tile.exists():
        raise NotFound(f"tile {tile.z}/{tile.y}/{tile.x} lies outside {TMS_ID} "
                       f"(tile matrices 0–{MAX_ZOOM}, rows and columns 0 to 2^z − 1)")
    collection = _collection(request, conn, principal, collection_id)
    data = render_tile(conn, collection, TileRequest(tile, items, at), principal.viewer,
                       settings)
    return _tile_answer(request, data, principal, settings)


@router.get("/collections/parcels/tiles/{tile_matrix_set_id}/{tile_matrix}/{tile_row}/"
            "{tile_col}", summary="A vector tile of the parcels", response_class=Response,
            responses=_TILE,
            openapi_extra={**OPTIONAL_API_KEY, "parameters": PROPERTY_PARAMETERS_OPENAPI})
def get_parcel_tile(request: Request, tile_matrix_set_id: TileMatrixSetId,
                    tile_matrix: TileMatrix, tile_row: TileRow, tile_col: TileCol,
                    conn: ReadConnDep, principal: PrincipalDep, settings: SettingsDep,
                    selection: TileSelectionDep, parcel_filter: LayerFilterDep,
                    equals: PropertyEqualsDep) -> Response:
    """The parcels the caller may see in one tile, narrowed by the registry's filter
    parameters, ``property=value`` and a CQL2 ``filter``; as of the end of day ``at`` when
    given. Below the aggregation zoom each site holding matching parcels is one feature
    (``aggregated``: true) with the number of parcels and their summed net hectares."""
    items, at = selection
    items = replace(items, parcel_filter=parcel_filter, equals=equals)
    return _tile(request, conn, principal, settings, "parcels", tile_matrix_set_id,
                 Tile(tile_matrix, tile_row, tile_col), items, at)


@router.get("/collections/{collection_id}/tiles/{tile_matrix_set_id}/{tile_matrix}/"
            "{tile_row}/{tile_col}", summary="A vector tile of a collection",
            response_class=Response, responses=_TILE, openapi_extra=OPTIONAL_API_KEY)
def get_tile(request: Request, collection_id: CollectionId,
             tile_matrix_set_id: TileMatrixSetId, tile_matrix: TileMatrix, tile_row: TileRow,
             tile_col: TileCol, conn: ReadConnDep, principal: PrincipalDep,
             settings: SettingsDep, selection: TileSelectionDep) -> Response:
    """The features of a collection the caller may see in one tile (Mapbox Vector Tile,
    one layer named like the collection)."""
    items, at = selection
    return _tile(request, conn, principal, settings, collection_id, tile_matrix_set_id,
                 Tile(tile_matrix, tile_row, tile_col), items, at)


def _query_string(request: Request) -> str:
    return request.url.query


@router.get("/collections/parcels/tiles/{tile_matrix_set_id}/tilejson.json",
            summary="TileJSON of the parcels' tiles", responses=PROBLEM_RESPONSES,
            openapi_extra={**OPTIONAL_API_KEY, "parameters": PROPERTY_PARAMETERS_OPENAPI})
def get_parcel_tilejson(request: Request, tile_matrix_set_id: TileMatrixSetId,
                        conn: ReadConnDep, principal: PrincipalDep,
                        selection: TileSelectionDep, parcel_filter: LayerFilterDep,
                        equals: PropertyEqualsDep) -> JSONResponse:
    """TileJSON 3.0.0 of the parcels; the request's filter parameters are carried into the
    tile URL template."""
    del selection, parcel_filter, equals  # checked here, applied by the tiles themselves
    return _tilejson(request, conn, principal, "parcels", tile_matrix_set_id)


@router.get("/collections/{collection_id}/tiles/{tile_matrix_set_id}/tilejson.json",
            summary="TileJSON of a collection's tiles", responses=PROBLEM_RESPONSES,
            openapi_extra=OPTIONAL_API_KEY)
def get_tilejson(request: Request, collection_id: CollectionId,
                 tile_matrix_set_id: TileMatrixSetId, conn: ReadConnDep,
                 principal: PrincipalDep, selection: TileSelectionDep) -> JSONResponse:
    """TileJSON 3.0.0 of a collection's vector tiles."""
    del selection
    return _tilejson(request, conn, principal, collection_id, tile_matrix_set_id)


def _tilejson(request: Request, conn: Connection, principal: Principal, collection_id: str,
              tms_id: str) -> JSONResponse:
    _tms(tms_id)
    collection = _collection(request, conn, principal, collection_id)
    return JSONResponse(tilejson_document(base_url(request), collection, principal.viewer,
                                          tile_region(conn), _query_string(request)))


@router.get("/collections/{collection_id}/tiles", summary="Tilesets of a collection",
            responses=PROBLEM_RESPONSES, openapi_extra=OPTIONAL_API_KEY)
def get_tilesets(request: Request, collection_id: CollectionId, conn: ReadConnDep,
                 principal: PrincipalDep) -> JSONResponse:
    """The vector tilesets of a collection (one, in WebMercatorQuad)."""
    collection = _collection(request, conn, principal, collection_id)
    return JSONResponse(tilesets_document(base_url(request), collection))


@router.get("/collections/{collection_id}/tiles/{tile_matrix_set_id}",
            summary="Tileset metadata", responses=PROBLEM_RESPONSES,
            openapi_extra=OPTIONAL_API_KEY)
def get_tileset(request: Request, collection_id: CollectionId,
                tile_matrix_set_id: TileMatrixSetId, conn: ReadConnDep,
                principal: PrincipalDep) -> JSONResponse:
    """The tileset of a collection: tiling scheme, limits, layer and attributes, links to
    the tile template and TileJSON."""
    _tms(tile_matrix_set_id)
    collection = _collection(request, conn, principal, collection_id)
    return JSONResponse(tileset_document(base_url(request), collection, principal.viewer,
                                         tile_region(conn)))


@router.get("/tileMatrixSets", summary="Tiling schemes", responses=PROBLEM_RESPONSES)
async def get_tile_matrix_sets(request: Request) -> JSONResponse:
    """The tiling schemes offered (WebMercatorQuad)."""
    return JSONResponse(tile_matrix_sets_document(base_url(request)))


@router.get("/tileMatrixSets/{tile_matrix_set_id}", summary="A tiling scheme",
            responses=PROBLEM_RESPONSES)
async def get_tile_matrix_set(tile_matrix_set_id: TileMatrixSetId) -> JSONResponse:
    """The definition of WebMercatorQuad (OGC 2D Tile Matrix Set 2.0)."""
    _tms(tile_matrix_set_id)
    return JSONResponse(WEB_MERCATOR_QUAD.document())


@router.get("/styles/gefis", summary="MapLibre style of the service's layers",
            response_class=JSONResponse, responses={
                200: {"content": {STYLE_MEDIA_TYPE: {}}}, **PROBLEM_RESPONSES},
            openapi_extra=OPTIONAL_API_KEY)
def get_style(request: Request, settings: SettingsDep, conn: ReadConnDep,
              principal: PrincipalDep) -> JSONResponse:
    """A MapLibre GL style (version 8): parcels by availability class, sites, district and
    municipality boundaries, infrastructure; labels when glyphs are configured."""
    base = base_url(request)
    shown = {c.id for c in registry(request).listed(conn, principal.viewer)}
    urls = {name: f"{base}/collections/{name}/tiles/{TMS_ID}/tilejson.json"
            for name in STYLE_SOURCES if name in shown}
    document: dict[str, Any] = style_document(urls, glyphs_url=settings.map_glyphs_url)
    return JSONResponse(document, media_type=STYLE_MEDIA_TYPE)

