"""Answers of the OGC routes: a JSON document, or the same resource as an HTML page."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi.responses import HTMLResponse, Response

from app.api.responses import GEOJSON_MEDIA_TYPE, JSON_MEDIA_TYPE
from app.domain.crs import OgcCrs

#: Footer of every HTML page: the boundaries' licence and the demo data's nature.
FOOTER = ("Verwaltungsgrenzen: © GeoBasis-DE / BKG 2017 (Daten verändert), VG250, "
          "Gebietsstand 01.01.2016. Standorte, Flächen, Verkäufe und Infrastruktur: "
          "synthetische Demodaten.")


def json_answer(document: dict[str, Any], media_type: str = JSON_MEDIA_TYPE) -> Response:
    """A JSON document."""
    return Response(json.dumps(document, ensure_ascii=False), media_type=media_type)


def html_answer(render: Callable[..., str], document: dict[str, Any], **kwargs: Any
                ) -> HTMLResponse:
    """``document`` rendered by ``render`` (one of app/services/render/ogc_html)."""
    return HTMLResponse(render(document, footer=FOOTER, **kwargs))


def features_answer(text: str, crs: OgcCrs) -> Response:
    """Features assembled by the database, with the ``Content-Crs`` header (Part 2)."""
    return Response(text, media_type=GEOJSON_MEDIA_TYPE,
                    headers={"Content-Crs": crs.header})
