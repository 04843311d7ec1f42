"""A MapLibre GL style (version 8) drawing the service's vector tiles.

Parcels are filled by availability class (the colours of :data:`AVAILABILITY_COLOURS`, with
the German class names in the style's metadata for a legend); below the aggregation zoom the
same colours fill the sites that hold matching parcels. District and municipality
boundaries, site outlines and the infrastructure are drawn as lines and points. Labels
(district, site and motorway names) need glyphs: the style names ``glyphs_url`` when one is
configured (``GEFIS_MAP_GLYPHS_URL``) and then carries the label layers; without it the
style draws no text, so that it works offline on the service alone.
"""

from __future__ import annotations

from typing import Any

from app.domain import vocab
from app.services.tile_documents import ATTRIBUTION

#: Fill colours of the availability classes (from immediate to unknown).
AVAILABILITY_COLOURS = {
    "sofort": "#1a9850", "kurzfristig": "#91cf60", "mittelfristig": "#fee08b",
    "langfristig": "#fc8d59", "unbekannt": "#9e9e9e",
}

#: The collections the style draws, in drawing order (bottom first).
STYLE_SOURCES = ("districts", "municipalities", "sites", "parcels", "infrastructure")


def _availability_colour() -> list[Any]:
    match: list[Any] = ["match", ["get", "availability"]]
    for code, colour in AVAILABILITY_COLOURS.items():
        match += [code, colour]
    return [*match, "#9e9e9e"]


def _labels() -> list[dict[str, Any]]:
    text = {"text-font": ["Noto Sans Regular"], "text-size": 12}
    halo = {"text-color": "#222222", "text-halo-color": "#ffffff", "text-halo-width": 1.5}
    return [
        {"id": "districts-label", "type": "symbol", "source": "districts",
         "source-layer": "districts", "maxzoom": 10,
         "layout": {**text, "text-field": ["get", "name"]}, "paint": halo},
        {"id": "sites-label", "type": "symbol", "source": "parcels", "source-layer": "parcels",
         "minzoom": 11, "filter": ["==", ["get", "aggregated"], True],
         "layout": {**text, "text-field": ["get", "site_name"], "text-size": 11},
         "paint": halo},
        {"id": "motorways-label", "type": "symbol", "source": "infrastructure",
         "source-layer": "infrastructure", "filter": ["==", ["get", "kind"], "autobahn"],
         "layout": {**text, "symbol-placement": "line", "text-field": ["get", "ref"]},
         "paint": halo},
    ]


def style_document(tilejson_urls: dict[str, str], *,
                   glyphs_url: str | None = None) -> dict[str, Any]:
    """The style, its sources read from the TileJSON documents ``tilejson_urls`` (by
    collection id)."""
    fill = _availability_colour()
    layers: list[dict[str, Any]] = [
        {"id": "background", "type": "background", "paint": {"background-color": "#f4f3ef"}},
        {"id": "districts-fill", "type": "fill", "source": "districts",
         "source-layer": "districts", "paint": {"fill-color": "#ffffff", "fill-opacity": 0.6}},
        {"id": "municipalities-line", "type": "line", "source": "municipalities",
         "source-layer": "municipalities", "minzoom": 9,
         "paint": {"line-color": "#b0b0b0", "line-width": 0.6}},
        {"id": "districts-line", "type": "line", "source": "districts",
         "source-layer": "districts", "paint": {"line-color": "#555555", "line-width": 1.4}},
        {"id": "sites-line", "type": "line", "source": "sites", "source-layer": "sites",
         "minzoom": 11, "paint": {"line-color": "#3f51b5", "line-width": 1}},
        {"id": "parcels-fill", "type": "fill", "source": "parcels", "source-layer": "parcels",
         "paint": {"fill-color": fill, "fill-opacity": 0.75}},
        {"id": "sites-small", "type": "circle", "source": "parcels", "source-layer": "parcels",
         "filter": ["==", ["geometry-type"], "Point"],
         "paint": {"circle-color": fill, "circle-radius": 3,
                   "circle-stroke-color": "#333333", "circle-stroke-width": 0.5}},
        {"id": "parcels-line", "type": "line", "source": "parcels", "source-layer": "parcels",
         "minzoom": 13, "paint": {"line-color": "#333333", "line-width": 0.4}},
        {"id": "motorways", "type": "line", "source": "infrastructure",
         "source-layer": "infrastructure", "filter": ["==", ["get", "kind"], "autobahn"],
         "paint": {"line-color": "#e8590c", "line-width": 2}},
        {"id": "infrastructure-points", "type": "circle", "source": "infrastructure",
         "source-layer": "infrastructure", "filter": ["==", ["geometry-type"], "Point"],
         "minzoom": 9, "paint": {"circle-color": "#e8590c", "circle-radius": 3,
                                 "circle-stroke-color": "#ffffff", "circle-stroke-width": 1}},
    ]
    style: dict[str, Any] = {
        "version": 8,
        "name": "GEFIS-MD",
        "metadata": {
            "gefis:legend": {"availability": [
                {"code": code, "label": vocab.AVAILABILITY.label(code), "colour": colour}
                for code, colour in AVAILABILITY_COLOURS.items()]},
            "gefis:synthetic": "Standorte, Flächen und Infrastruktur: synthetische Demodaten",
        },
        "center": [12.2, 51.4],
        "zoom": 8,
        "sources": {name: {"type": "vector", "url": url, "attribution": ATTRIBUTION}
                    for name, url in tilejson_urls.items()},
        "layers": [layer for layer in layers if layer.get("source") in (None, *tilejson_urls)],
    }
    if glyphs_url:
        style["glyphs"] = glyphs_url
        style["layers"] += [label for label in _labels() if label["source"] in tilejson_urls]
    return style
