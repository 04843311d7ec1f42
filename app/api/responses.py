"""JSON/GeoJSON responses whose documents the database assembled (pages, items)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import Response

from app.api.negotiation import PDF_MEDIA_TYPE, XLSX_MEDIA_TYPE
from app.db.queries.keyset import Envelope
from app.domain.crs import crs_uri

GEOJSON_MEDIA_TYPE = "application/geo+json"
JSON_MEDIA_TYPE = "application/json"

#: OpenAPI description of the 4xx/5xx answers every endpoint may give.
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"description": "Malformed request", "content": {"application/problem+json": {}}},
    401: {"description": "Missing or invalid API key", "content": {"application/problem+json": {}}},
    403: {"description": "Role or district scope does not allow this",
          "content": {"application/problem+json": {}}},
    404: {"description": "Not found", "content": {"application/problem+json": {}}},
    422: {"description": "Invalid input (field and reason in `errors`)",
          "content": {"application/problem+json": {}}},
}

#: Answers of routes that print documents: 406 for an unacceptable ``Accept``, 503 when the
#: PDF printer (headless Chromium) is missing, failed or busy.
DOCUMENT_RESPONSES: dict[int | str, dict[str, Any]] = {
    406: {"description": "Accept allows none of the route's media types",
          "content": {"application/problem+json": {}}},
    503: {"description": "PDF printing unavailable (headless Chromium missing, failed or "
                         "busy); the other formats still work",
          "content": {"application/problem+json": {}}},
    **PROBLEM_RESPONSES,
}

#: The media types of a registry resource: JSON, or GeoJSON with ``f=geojson``.
FEATURE_MEDIA_TYPES = (JSON_MEDIA_TYPE, GEOJSON_MEDIA_TYPE)


def json_responses(description: str, media_types: Iterable[str] = (JSON_MEDIA_TYPE,), *,
                   status: int = 200,
                   errors: dict[int | str, dict[str, Any]] = PROBLEM_RESPONSES,
                   ) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` of a route that answers ``status`` with a JSON document (in any
    of ``media_types``), followed by its error answers.

    >>> json_responses("The site", FEATURE_MEDIA_TYPES)[200]["content"]
    {'application/json': {}, 'application/geo+json': {}}
    """
    return {status: {"description": description, "content": {m: {} for m in media_types}},
            **errors}


def document_responses(description: str, media_types: Iterable[str]
                       ) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` of a route that prints one document in any of ``media_types``
    (JSON an object, PDF and XLSX binary strings, others text), with its error answers.

    >>> ok = document_responses("A report", ["application/json", "application/pdf"])[200]
    >>> ok["content"]["application/pdf"]["schema"]
    {'type': 'string', 'format': 'binary'}
    """
    def schema(media_type: str) -> dict[str, str]:
        if media_type == JSON_MEDIA_TYPE:
            return {"type": "object"}
        if media_type in (PDF_MEDIA_TYPE, XLSX_MEDIA_TYPE):
            return {"type": "string", "format": "binary"}
        return {"type": "string"}

    return {200: {"description": description,
                  "content": {m: {"schema": schema(m)} for m in media_types}},
            **DOCUMENT_RESPONSES}


def base_url(request: Request) -> str:
    """The service's public URL without a trailing slash (``GEFIS_PUBLIC_BASE_URL``, else
    the request's)."""
    return str(request.app.state.settings.public_base_url or request.base_url).rstrip("/")


def absolute_link(request: Request, **replace: str | None) -> str:
    """The request URL with some query parameters replaced (``None`` removes one).

    Repeated parameters (``?district=a&district=b``) are kept; links are always absolute
    (GDAL mis-joins root-relative ``next`` links).
    """
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in replace]
    params += [(k, v) for k, v in replace.items() if v is not None]
    base = base_url(request)
    query = "&".join(f"{quote(k, safe='-_.')}={quote(v, safe='-_.,:')}" for k, v in params)
    return f"{base}{request.url.path}" + (f"?{query}" if query else "")


def envelope(request: Request, *, as_geojson: bool, srid: int,
             number_matched: int | None = None, estimated: bool = False,
             head: tuple[tuple[str, Any], ...] = ()) -> Envelope:
    """The response around a page: links from the request URL, and the head members.

    ``crs`` is stated when it is not CRS84; ``numberMatched`` only when counted.
    """
    media = GEOJSON_MEDIA_TYPE if as_geojson else JSON_MEDIA_TYPE
    cursor_href = absolute_link(request, cursor="")
    extra = (("crs", crs_uri(srid)),) if srid != 4326 else ()
    return Envelope(
        member="features" if as_geojson else "items", self_href=absolute_link(request),
        next_href=cursor_href, prev_href=cursor_href, media_type=media,
        feature_collection=as_geojson, number_matched=number_matched,
        number_matched_estimated=estimated, head=(*extra, *head))


def document_response(document: str, *, as_geojson: bool, srid: int | None,
                      headers: dict[str, str] | None = None) -> Response:
    """A JSON document made by the database, sent as it is (with ``Content-Crs``)."""
    out = dict(headers or {})
    if srid is not None:
        out["Content-Crs"] = f"<{crs_uri(srid)}>"
    return Response(content=document, media_type=GEOJSON_MEDIA_TYPE if as_geojson
                    else JSON_MEDIA_TYPE, headers=out)
