"""Building JSON/GeoJSON collection responses from items serialised by the database."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import Response

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


def absolute_link(request: Request, **replace: str | None) -> str:
    """The request URL with some query parameters replaced (``None`` removes one).

    Repeated parameters (``?district=a&district=b``) are kept; links are always absolute
    (GDAL mis-joins root-relative ``next`` links).
    """
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in replace]
    params += [(k, v) for k, v in replace.items() if v is not None]
    base = str(request.app.state.settings.public_base_url or request.base_url).rstrip("/")
    query = "&".join(f"{quote(k, safe='-_.')}={quote(v, safe='-_.,:')}" for k, v in params)
    return f"{base}{request.url.path}" + (f"?{query}" if query else "")


def collection_response(
    request: Request,
    items: list[str],
    *,
    as_geojson: bool,
    srid: int,
    next_token: str | None,
    number_matched: int | None,
    extra_headers: dict[str, str] | None = None,
) -> Response:
    """A page as JSON ``{"items": [...]}`` or a GeoJSON FeatureCollection, with links."""
    media = GEOJSON_MEDIA_TYPE if as_geojson else JSON_MEDIA_TYPE
    links = [{"rel": "self", "type": media, "href": absolute_link(request)}]
    if next_token:
        links.append({"rel": "next", "type": media,
                      "href": absolute_link(request, cursor=next_token)})
    head: dict[str, Any] = {"type": "FeatureCollection"} if as_geojson else {}
    head["links"] = links
    head["numberReturned"] = len(items)
    if number_matched is not None:
        head["numberMatched"] = number_matched
    if srid != 4326:
        head["crs"] = crs_uri(srid)
    opening = json.dumps(head, ensure_ascii=False)[:-1]
    member = "features" if as_geojson else "items"
    body = f'{opening}, "{member}": [' + ",".join(items) + "]}"
    headers = {"Content-Crs": f"<{crs_uri(srid)}>", **(extra_headers or {})}
    return Response(content=body, media_type=media, headers=headers)
