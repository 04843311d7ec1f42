"""``/collections/{id}/items`` and ``/collections/{id}/items/{featureId}``.

Parcels have a route of their own: besides the OGC parameters it takes the registry's filter
parameters (``district``, ``user_group``, …), and the OpenAPI document lists them for
``/collections/parcels/items`` (GDAL sends ``prop=value`` for what is listed there).
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from sqlalchemy import Connection

from app.api.auth import OPTIONAL_API_KEY, PrincipalDep
from app.api.connections import ReadConnDep
from app.api.deps import SettingsDep
from app.api.negotiation import HTML_MEDIA_TYPE
from app.api.ogc.collections import CollectionId, registry
from app.api.ogc.pages import features_answer, html_answer
from app.api.ogc.params import (
    PROPERTY_PARAMETERS_OPENAPI,
    FeaturesHtmlDep,
    ItemCrsDep,
    ItemsRequestDep,
    PropertyEqualsDep,
)
from app.api.parcel_params import LayerFilterDep
from app.api.responses import GEOJSON_MEDIA_TYPE, PROBLEM_RESPONSES, absolute_link
from app.db.queries.keyset import Envelope
from app.domain.clock import today
from app.domain.crs import CRS84
from app.domain.errors import NotFound
from app.domain.roles import Principal
from app.services.ogc.items import ItemsRequest, items_page, one_item
from app.services.render.ogc_html import feature_html, items_html

router = APIRouter(tags=["OGC API – Features"])

_FEATURES = {200: {"description": "GeoJSON features (or an HTML page)",
                   "content": {GEOJSON_MEDIA_TYPE: {}, HTML_MEDIA_TYPE: {}}},
             **PROBLEM_RESPONSES}


def _page(request: Request, conn: Connection, principal: Principal, collection_id: str,
          items: ItemsRequest, exact_below: int, html: bool) -> Response:
    collection = registry(request).get(conn, collection_id, principal.viewer, today())
    if html:  # the page's sketch map draws lon/lat
        items = replace(items, crs=CRS84)
    cursor_href = absolute_link(request, cursor="")

    def envelope(matched: int | None, estimated: bool) -> Envelope:
        return Envelope(
            member="features", self_href=absolute_link(request), next_href=cursor_href,
            prev_href=cursor_href, media_type=HTML_MEDIA_TYPE if html else GEOJSON_MEDIA_TYPE,
            feature_collection=True, number_matched=matched,
            number_matched_estimated=estimated)

    text = items_page(conn, collection, items, principal.viewer, envelope=envelope,
                      exact_below=exact_below)
    if html:
        return html_answer(items_html, json.loads(text), collection_title=collection.title)
    return features_answer(text, items.crs)


@router.get("/collections/parcels/items", summary="Parcels as GeoJSON features",
            response_class=Response, responses=_FEATURES,
            openapi_extra={**OPTIONAL_API_KEY, "parameters": PROPERTY_PARAMETERS_OPENAPI})
def get_parcel_items(request: Request, conn: ReadConnDep, principal: PrincipalDep,
                     settings: SettingsDep, items: ItemsRequestDep,
                     selection: LayerFilterDep, equals: PropertyEqualsDep,
                     html: FeaturesHtmlDep) -> Response:
    """Every parcel the caller may see, narrowed by the registry's filter parameters and the
    OGC ones (``bbox``, ``datetime`` on ``updated_at``, a CQL2 ``filter``, ``property=value``
    for the scalar queryables)."""
    items = replace(items, parcel_filter=selection, equals=equals)
    return _page(request, conn, principal, "parcels", items, settings.ogc_count_exact_max, html)


@router.get("/collections/{collection_id}/items", summary="Features of a collection",
            response_class=Response, openapi_extra=OPTIONAL_API_KEY, responses=_FEATURES)
def get_items(request: Request, collection_id: CollectionId, conn: ReadConnDep,
              principal: PrincipalDep, settings: SettingsDep, items: ItemsRequestDep,
              html: FeaturesHtmlDep) -> Response:
    """Features of the collection, in keyset pages with absolute ``next``/``prev`` links;
    ``numberMatched`` on the first page (an estimate above ``GEFIS_COUNT_EXACT_MAX``)."""
    return _page(request, conn, principal, collection_id, items, settings.ogc_count_exact_max,
                 html)


@router.get("/collections/{collection_id}/items/{feature_id}", summary="One feature",
            response_class=Response, openapi_extra=OPTIONAL_API_KEY, responses=_FEATURES)
def get_item(request: Request, collection_id: CollectionId,
             feature_id: Annotated[str, Path(max_length=64, description="Feature id")],
             conn: ReadConnDep, principal: PrincipalDep, crs: ItemCrsDep,
             html: FeaturesHtmlDep) -> Response:
    """One feature, if the caller may see it."""
    collection = registry(request).get(conn, collection_id, principal.viewer, today())
    text = one_item(conn, collection, feature_id, principal.viewer, CRS84 if html else crs)
    if text is None:
        raise NotFound(f"feature {feature_id!r} of {collection_id!r} does not exist or is "
                       "not public")
    if html:
        return html_answer(feature_html, json.loads(text), collection_title=collection.title,
                           self_href=str(request.url))
    return features_answer(text, crs)
