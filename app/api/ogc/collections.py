"""``/collections``, ``/collections/{id}``, its queryables and sortables."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from app.api.auth import OPTIONAL_API_KEY, PrincipalDep
from app.api.connections import ReadConnDep
from app.api.negotiation import HTML_MEDIA_TYPE, accept_header, negotiate
from app.api.ogc.pages import html_answer, json_answer
from app.api.ogc.params import HtmlDep
from app.api.responses import JSON_MEDIA_TYPE, PROBLEM_RESPONSES, base_url
from app.domain.clock import today
from app.services.ogc.documents import (
    SCHEMA_JSON,
    collection_document,
    collection_extent,
    collections_document,
    queryables_document,
    region_extent,
    sortables_document,
)
from app.services.ogc.registry import CollectionRegistry
from app.services.render.ogc_html import (
    collection_html,
    collections_html,
    queryables_html,
    sortables_html,
)

router = APIRouter(tags=["OGC API – Features"])

CollectionId = Annotated[str, Path(pattern=r"^[A-Za-z][A-Za-z0-9_-]{0,62}$",
                                   description="Collection id (see /collections)")]
_DOCS = {200: {"content": {JSON_MEDIA_TYPE: {}, HTML_MEDIA_TYPE: {}}}, **PROBLEM_RESPONSES}


def _schema_answer(request: Request, render: Callable[..., str], document: dict[str, Any],
                   html: bool) -> Response:
    """A JSON Schema document as HTML, as ``application/schema+json``, or as
    ``application/json`` to a client that accepts plain JSON only (GDAL refuses others)."""
    if html:
        return html_answer(render, document)
    media_type = negotiate(accept_header(request), [SCHEMA_JSON, JSON_MEDIA_TYPE],
                           SCHEMA_JSON)
    return json_answer(document, media_type or SCHEMA_JSON)


def registry(request: Request) -> CollectionRegistry:
    """The app's collection registry (made on first use)."""
    state = request.app.state
    if getattr(state, "collections", None) is None:
        state.collections = CollectionRegistry(state.settings)
    found: CollectionRegistry = state.collections
    return found


@router.get("/collections", summary="Feature collections", response_class=Response,
            openapi_extra=OPTIONAL_API_KEY, responses=_DOCS)
def get_collections(request: Request, conn: ReadConnDep, principal: PrincipalDep,
                    html: HtmlDep) -> Response:
    """Every collection the caller may see (land sales for staff only)."""
    base, region = base_url(request), region_extent(conn)
    documents = [collection_document(base, c, collection_extent(conn, c, region))
                 for c in registry(request).listed(conn, principal.viewer)]
    document = collections_document(base, documents)
    return html_answer(collections_html, document) if html else json_answer(document)


@router.get("/collections/{collection_id}", summary="One feature collection",
            response_class=Response, openapi_extra=OPTIONAL_API_KEY, responses=_DOCS)
def get_collection(request: Request, collection_id: CollectionId, conn: ReadConnDep,
                   principal: PrincipalDep, html: HtmlDep) -> Response:
    """A collection's extent, CRS list, storage CRS and links."""
    collection = registry(request).get(conn, collection_id, principal.viewer, today())
    document = collection_document(base_url(request), collection,
                                   collection_extent(conn, collection, region_extent(conn)))
    return html_answer(collection_html, document) if html else json_answer(document)


@router.get("/collections/{collection_id}/queryables", summary="Queryable properties",
            response_class=Response, openapi_extra=OPTIONAL_API_KEY,
            responses={200: {"content": {SCHEMA_JSON: {}, HTML_MEDIA_TYPE: {}}},
                       **PROBLEM_RESPONSES})
def get_queryables(request: Request, collection_id: CollectionId, conn: ReadConnDep,
                   principal: PrincipalDep, html: HtmlDep) -> Response:
    """The properties a CQL2 filter may use, as JSON Schema (what the caller may see)."""
    collection = registry(request).get(conn, collection_id, principal.viewer, today())
    document = queryables_document(base_url(request), collection, principal.viewer)
    return _schema_answer(request, queryables_html, document, html)


@router.get("/collections/{collection_id}/sortables", summary="Sortable properties",
            response_class=Response, openapi_extra=OPTIONAL_API_KEY,
            responses={200: {"content": {SCHEMA_JSON: {}, HTML_MEDIA_TYPE: {}}},
                       **PROBLEM_RESPONSES})
def get_sortables(request: Request, collection_id: CollectionId, conn: ReadConnDep,
                  principal: PrincipalDep, html: HtmlDep) -> Response:
    """The properties ``sortby`` accepts, as JSON Schema."""
    collection = registry(request).get(conn, collection_id, principal.viewer, today())
    document = sortables_document(base_url(request), collection, principal.viewer)
    return _schema_answer(request, sortables_html, document, html)
