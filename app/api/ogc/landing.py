"""``/``, ``/conformance`` and ``/api`` (the OpenAPI 3.0 document behind ``service-desc``)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.api.negotiation import HTML_MEDIA_TYPE
from app.api.ogc.pages import html_answer, json_answer
from app.api.ogc.params import HtmlDep
from app.api.openapi30 import OPENAPI30_MEDIA_TYPE, to_openapi30
from app.api.responses import JSON_MEDIA_TYPE, base_url
from app.services.ogc.documents import conformance, landing_page
from app.services.render.ogc_html import conformance_html, landing_page_html

router = APIRouter(tags=["OGC API – Features"])

_DOCS = {200: {"content": {JSON_MEDIA_TYPE: {}, HTML_MEDIA_TYPE: {}}}}


@router.get("/", summary="Landing page", response_class=Response, responses=_DOCS)
def get_landing_page(request: Request, html: HtmlDep) -> Response:
    """Links to the API definition, the conformance declaration and the collections."""
    document = landing_page(base_url(request))
    return html_answer(landing_page_html, document) if html else json_answer(document)


@router.get("/conformance", summary="Conformance declaration", response_class=Response,
            responses=_DOCS)
def get_conformance(html: HtmlDep) -> Response:
    """The OGC conformance classes the service implements (each proven by the test suite)."""
    document = conformance()
    return html_answer(conformance_html, document) if html else json_answer(document)


@router.get("/api", summary="API definition (OpenAPI 3.0)", response_class=Response,
            responses={200: {"content": {OPENAPI30_MEDIA_TYPE: {}}}})
def get_api_definition(request: Request) -> Response:
    """This API as OpenAPI 3.0 (the ``service-desc`` of the landing page)."""
    state = request.app.state
    if getattr(state, "openapi30", None) is None:
        state.openapi30 = to_openapi30(request.app.openapi())
    return json_answer(state.openapi30, OPENAPI30_MEDIA_TYPE)
