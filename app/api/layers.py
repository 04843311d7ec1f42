"""``GET /layers/{name}.geojson``: a whole layer as one RFC 7946 GeoJSON file (HTTP only).

The document is streamed (:mod:`app.services.layers`) on the request's read connection,
which FastAPI keeps open until the body has been sent (dependencies with ``yield`` end
after the response by default). Before streaming, the layer's entity tag is computed: an
``If-None-Match`` that names it is answered 304 without a body. ``Cache-Control`` lets
anyone (public callers) or only the caller's own cache (callers with an API key) keep the
file for a minute; ``Vary`` names the headers the answer depends on. With ``Accept-Encoding``
allowing gzip, the body is compressed as it streams; the gzip representation has a tag of
its own (its bytes differ).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from sqlalchemy import Connection

from app.api.auth import OPTIONAL_API_KEY, PrincipalDep
from app.api.caching import accepts_gzip, gzip_etag, none_match
from app.api.connections import ReadConnDep
from app.api.deps import SettingsDep
from app.api.parcel_params import LayerFilterDep
from app.api.responses import GEOJSON_MEDIA_TYPE, PROBLEM_RESPONSES
from app.api.streaming import CleanupStreamingResponse
from app.domain.clock import today
from app.domain.errors import NotFound
from app.domain.filters import ParcelFilter
from app.domain.roles import Principal
from app.services.layers import LAYERS, feature_chunks, gzipped, prepare_layer
from app.settings import Settings

router = APIRouter(tags=["Kartenebenen"])

#: How long a client or cache may use a layer without asking again (seconds).
MAX_AGE_S = 60
#: Request headers the answer depends on (the API key is sent as ``Authorization``).
VARY = "Accept-Encoding, Authorization"

_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "Every feature of the layer the caller may see (RFC 7946)",
          "content": {GEOJSON_MEDIA_TYPE: {"schema": {"type": "object"}}},
          "headers": {"ETag": {"schema": {"type": "string"}},
                      "Cache-Control": {"schema": {"type": "string"}}}},
    304: {"description": "Not modified: the layer still has the ETag of If-None-Match"},
    **PROBLEM_RESPONSES,
}


class ClosingStreamingResponse(CleanupStreamingResponse):
    """A streamed body whose generator is closed once the response ends, also when the
    client went away mid-way: the database cursor it reads closes before the request's
    connection is given back."""

    def __init__(self, chunks: Generator[bytes, None, None], **kwargs: Any) -> None:
        super().__init__(chunks, chunks.close, **kwargs)


def _layer_response(request: Request, conn: Connection, principal: Principal,
                    settings: Settings, name: str,
                    parcel_filter: ParcelFilter | None = None) -> Response:
    prepared = prepare_layer(conn, name, principal.viewer, settings, day=today(),
                             parcel_filter=parcel_filter)
    compress = accepts_gzip(request.headers.getlist("accept-encoding"))
    etag = gzip_etag(prepared.etag) if compress else prepared.etag
    headers = {
        "ETag": etag, "Vary": VARY,
        "Cache-Control": f"{'private' if principal.is_authenticated else 'public'}, "
                         f"max-age={MAX_AGE_S}",
    }
    if none_match(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    headers["Content-Disposition"] = f'inline; filename="{prepared.layer.name}.geojson"'
    chunks = feature_chunks(conn, prepared)
    if compress:
        chunks = gzipped(chunks)
        headers["Content-Encoding"] = "gzip"
    return ClosingStreamingResponse(chunks, media_type=GEOJSON_MEDIA_TYPE, headers=headers)


@router.get("/layers/parcels.geojson", summary="Parcels as one GeoJSON file",
            response_class=Response, openapi_extra=OPTIONAL_API_KEY, responses=_RESPONSES)
def get_parcels_layer(request: Request, conn: ReadConnDep, principal: PrincipalDep,
                      settings: SettingsDep, selection: LayerFilterDep) -> Response:
    """Every parcel the caller may see (the public: marketed parcels of active sites, their
    public and released fields), narrowed by the registry's filter parameters; RFC 7946
    (CRS84 longitude/latitude, right-hand rule), streamed, gzip when accepted, 304 for an
    unchanged layer (``If-None-Match``)."""
    return _layer_response(request, conn, principal, settings, "parcels", selection)


#: The file names of the layers served by :func:`get_layer` (a whole path segment, so that
#: the path template has one parameter per segment).
LAYER_FILES = [f"{n}.geojson" for n in LAYERS if n != "parcels"]

LayerFile = Annotated[str, Path(
    description="The layer's file: " + ", ".join(LAYER_FILES)
                + " (parcels: see /layers/parcels.geojson)",
    json_schema_extra={"enum": LAYER_FILES})]


@router.get("/layers/{name}", summary="A layer as one GeoJSON file",
            response_class=Response, openapi_extra=OPTIONAL_API_KEY, responses=_RESPONSES)
def get_layer(request: Request, name: LayerFile, conn: ReadConnDep, principal: PrincipalDep,
              settings: SettingsDep) -> Response:
    """Every feature of a layer the caller may see: sites, district boundaries (districts),
    districts with today's supply–demand balance (district_balance), municipalities,
    infrastructure. RFC 7946, streamed, gzip when accepted, 304 for an unchanged layer."""
    layer = name.removesuffix(".geojson")
    if layer == name or layer == "parcels":
        raise NotFound(f"no layer file {name!r}; layers: {', '.join(LAYER_FILES)}")
    return _layer_response(request, conn, principal, settings, layer)
