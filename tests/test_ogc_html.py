"""HTML pages of the OGC API – Features resources (``app/services/render/ogc_html.py``).

Small hand-written documents (shaped like the service's JSON) go in; the pages are parsed
and checked exactly: escaping, links, breadcrumb, table rows, counts, the SVG sketch (one
shape per geometry, holes, the projection). One test opens a page of items in Chromium and
checks that the sketch really draws. No database is needed.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import Browser, Page

from app.services.render.ogc_html import (
    collection_html,
    collections_html,
    conformance_html,
    feature_html,
    items_html,
    landing_page_html,
    queryables_html,
    sortables_html,
)
from tests.browser import browser, distinct_colours, drawn_pixels  # noqa: F401

B = "https://gefis.example/ogc"
ITEMS = f"{B}/collections/parcels/items"
FOOTER = ("Verwaltungsgrenzen: © GeoBasis-DE / BKG 2017 (Daten verändert) … Standorte, Flächen, "
          "Verkäufe und Autobahnen: synthetische Demodaten")
EVIL = "<script>alert(1)</script>"
SQUARE = [[12.0, 51.0], [12.2, 51.0], [12.2, 51.2], [12.0, 51.2], [12.0, 51.0]]
HOLE = [[12.05, 51.05], [12.1, 51.05], [12.1, 51.1], [12.05, 51.05]]
OTHER = [[12.4, 51.3], [12.5, 51.3], [12.5, 51.4], [12.4, 51.3]]


def link(href: str, rel: str, media_type: str, title: str | None = None) -> dict[str, str]:
    return {"href": href, "rel": rel, "type": media_type, **({"title": title} if title else {})}


class Parsed(HTMLParser):
    """The elements of a page (tag and attributes, in order) and its text."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.texts: list[str] = []
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {k: v or "" for k, v in attrs}))

    def handle_data(self, data: str) -> None:
        self.texts.append(data)

    def all(self, tag: str, **attrs: str) -> list[dict[str, str]]:
        return [a for t, a in self.elements
                if t == tag and all(a.get(k.rstrip("_")) == v for k, v in attrs.items())]

    def classed(self, tag: str, name: str) -> list[dict[str, str]]:
        return [a for t, a in self.elements if t == tag and name in a.get("class", "").split()]

    def hrefs(self) -> list[str]:
        return [a["href"] for t, a in self.elements if t == "a" and "href" in a]

    @property
    def text(self) -> str:
        return "".join(self.texts)


def feature(fid: Any, geometry: dict[str, Any] | None, **properties: Any) -> dict[str, Any]:
    return {"type": "Feature", "id": fid, "geometry": geometry, "properties": properties}


def items_doc(features: list[dict[str, Any]], **head: Any) -> dict[str, Any]:
    return {"type": "FeatureCollection",
            "links": [link(f"{ITEMS}?limit=10&filter=area_ha%3E1", "self", "application/geo+json"),
                      link(f"{ITEMS}?limit=10&cursor=n1", "next", "application/geo+json"),
                      link(f"{ITEMS}?limit=10&cursor=p1", "prev", "application/geo+json")],
            "numberReturned": len(features), **head, "features": features}


def mixed_features() -> list[dict[str, Any]]:
    """One feature per geometry type, one without geometry (7 features, 6 shapes)."""
    return [
        feature(1, {"type": "Polygon", "coordinates": [SQUARE]}, name=EVIL, area_ha=1.5),
        feature(2, {"type": "MultiPolygon", "coordinates": [[SQUARE, HOLE], [OTHER]]},
                name="Mit Loch", tags=["a", "b"], meta={"k": 1}),
        feature(3, {"type": "LineString", "coordinates": [[12.0, 51.5], [12.6, 51.6]]}),
        feature(4, {"type": "MultiLineString",
                    "coordinates": [[[12.1, 51.7], [12.2, 51.8]], [[12.3, 51.7], [12.4, 51.8]]]}),
        feature(5, {"type": "Point", "coordinates": [12.3, 51.25]}, ok=True),
        feature(6, {"type": "MultiPoint", "coordinates": [[12.5, 51.1], [12.55, 51.15]]}),
        feature("ohne/geo", None, name="Ohne Geometrie", web="https://example.org/a?b=1"),
    ]


COLLECTION = {
    "id": "parcels", "title": "Flächen", "description": "Gewerbeflächen <b>im Revier</b>",
    "itemType": "feature",
    "extent": {"spatial": {"bbox": [[11.5, 50.9, 13.2, 51.9]],
                           "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84"}},
    "crs": ["http://www.opengis.net/def/crs/OGC/1.3/CRS84",
            "http://www.opengis.net/def/crs/EPSG/0/25832"],
    "storageCrs": "http://www.opengis.net/def/crs/EPSG/0/25832",
    "links": [
        link(f"{B}/collections/parcels", "self", "application/json", "Flächen"),
        link(f"{B}/collections/parcels?f=html", "alternate", "text/html", "Flächen"),
        link(ITEMS, "items", "application/geo+json", "Objekte"),
        link(f"{ITEMS}?f=html", "items", "text/html", "Objekte als HTML"),
        link(f"{B}/collections/parcels/queryables",
             "http://www.opengis.net/def/rel/ogc/1.0/queryables", "application/schema+json"),
        link(f"{B}/collections/parcels/sortables",
             "http://www.opengis.net/def/rel/ogc/1.0/sortables", "application/schema+json")],
}

LANDING = {
    "title": "GEFIS-MD", "description": "OGC API – Features <i>Demo</i>",
    "links": [link(f"{B}/", "self", "application/json", "Diese Seite"),
              link(f"{B}/?f=html", "alternate", "text/html"),
              link(f"{B}/api", "service-desc", "application/vnd.oai.openapi+json;version=3.0",
                   "API-Definition (OpenAPI 3.0)"),
              link(f"{B}/conformance", "conformance", "application/json"),
              link(f"{B}/collections", "data", "application/json")]}

CONFORMANCE = {"conformsTo": ["http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
                              "javascript:alert(1)"]}

SCHEMA = {"$schema": "https://json-schema.org/draft/2020-12/schema",
          "$id": f"{B}/collections/parcels/queryables", "type": "object", "title": "Flächen",
          "properties": {
              "geometry": {"title": "geometry",
                           "$ref": "https://geojson.org/schema/Polygon.json"},
              "area_ha": {"type": "number", "title": "Fläche", "description": "Netto, ha"},
              "sale_date": {"type": "string", "format": "date"},
              "status": {"type": "string", "enum": ["frei", "verkauft", EVIL]}}}


def collections_doc(**extra: Any) -> dict[str, Any]:
    second = {"id": "sites", "title": "Standorte", "links": [
        link(f"{B}/collections/sites", "self", "application/json"),
        link(f"{B}/collections/sites/items", "items", "application/geo+json")], **extra}
    return {"links": [link(f"{B}/collections", "self", "application/json"),
                      link(f"{B}/collections?f=html", "alternate", "text/html")],
            "collections": [COLLECTION, second]}


PAGES: dict[str, tuple[Callable[..., str], dict[str, Any], dict[str, Any], str, list[str]]] = {
    # name: (function, document, keywords, JSON link, breadcrumb)
    "landing": (landing_page_html, LANDING, {}, f"{B}/", ["Start"]),
    "conformance": (conformance_html, {**CONFORMANCE, "links": [
        link(f"{B}/conformance", "self", "application/json")]}, {}, f"{B}/conformance",
        ["Start", "Konformität"]),
    "collections": (collections_html, collections_doc(), {}, f"{B}/collections",
                    ["Start", "Sammlungen"]),
    "collection": (collection_html, COLLECTION, {}, f"{B}/collections/parcels",
                   ["Start", "Sammlungen", "Flächen"]),
    "items": (items_html, items_doc(mixed_features()), {"collection_title": "Flächen"},
              f"{ITEMS}?limit=10&filter=area_ha%3E1", ["Start", "Sammlungen", "Flächen", "Objekte"]),
    "feature": (feature_html, {**mixed_features()[0], "links": [
        link(f"{ITEMS}/1", "self", "application/geo+json")]}, {"collection_title": "Flächen"},
        f"{ITEMS}/1", ["Start", "Sammlungen", "Flächen", "Objekte", "Objekt 1"]),
    "queryables": (queryables_html, SCHEMA, {}, f"{B}/collections/parcels/queryables?f=json",
                   ["Start", "Sammlungen", "Flächen", "Abfragbare Eigenschaften"]),
    "sortables": (sortables_html, {**SCHEMA, "$id": f"{B}/collections/parcels/sortables"}, {},
                  f"{B}/collections/parcels/sortables?f=json",
                  ["Start", "Sammlungen", "Flächen", "Sortierbare Eigenschaften"]),
}


def render(name: str, footer: str = FOOTER) -> str:
    function, doc, keywords, _, _ = PAGES[name]
    return function(doc, footer=footer, **keywords)


@pytest.mark.parametrize("name", PAGES)
def test_every_page_is_a_complete_german_page(name: str) -> None:
    page = render(name, footer=f"{FOOTER} {EVIL}")
    parsed = Parsed(page)
    assert page.startswith("<!DOCTYPE html>\n<html lang=\"de\">")
    assert parsed.all("meta", charset="utf-8")
    titles = re.findall(r"<title>([^<]+)</title>", page)
    assert titles and titles[0].strip()
    assert len(parsed.all("style")) == 1
    assert "<script" not in page  # escaped
    assert not [h for h in parsed.hrefs()
                if not h.startswith(("https://", "http://"))]  # never javascript:
    assert not parsed.all("link", rel="stylesheet") and not [a for _, a in parsed.elements
                                                              if "src" in a]
    assert f"<footer>{FOOTER} &lt;script&gt;alert(1)&lt;/script&gt;</footer>" in page
    json_links = [a for a in parsed.all("a") if a.get("class") == "json"]
    assert [a["href"] for a in json_links] == [PAGES[name][3]]
    assert "Als JSON" in parsed.text
    crumbs = re.search(r'<nav class="crumbs" aria-label="Navigationspfad">(.*?)</nav>', page,
                       re.S)
    assert crumbs is not None
    labels = [re.sub(r"<[^>]+>|›", "", item).strip()
              for item in re.findall(r"<li>(.*?)</li>", crumbs.group(1), re.S)]
    assert labels == PAGES[name][4]
    assert crumbs.group(1).count('aria-current="page"') == 1
    for table in re.findall(r"<thead>(.*?)</thead>", page, re.S):
        assert table.count("<th ") == table.count('<th scope="col"')


def test_the_breadcrumb_links_stay_in_html() -> None:
    crumbs = Parsed(render("feature")).hrefs()[:4]
    assert crumbs == [f"{B}/?f=html", f"{B}/collections?f=html",
                      f"{B}/collections/parcels?f=html", f"{ITEMS}?f=html"]


def test_a_document_without_links_uses_the_page_url() -> None:
    lone = feature(7, {"type": "Point", "coordinates": [12.0, 51.0]}, name="x")
    page = feature_html(lone, collection_title="Flächen", footer="",
                        self_href=f"{ITEMS}/7?f=html&crs=x")
    parsed = Parsed(page)
    assert parsed.hrefs()[:4] == [f"{B}/?f=html", f"{B}/collections?f=html",
                                  f"{B}/collections/parcels?f=html", f"{ITEMS}?f=html"]
    assert [a["href"] for a in parsed.all("a") if a.get("class") == "json"] == [
        f"{ITEMS}/7?crs=x&f=json"]
    bare = Parsed(feature_html(lone, collection_title="Flächen", footer=""))
    assert bare.hrefs() == [] and "Objekte" in bare.text  # no URL known: plain text only
    assert "links" not in lone  # the document is not modified


def test_an_html_page_document_links_its_json_with_f_json() -> None:
    doc = {**items_doc([]), "links": [link(f"{ITEMS}?f=html&limit=5", "self", "text/html"),
                                      link(f"{ITEMS}?f=html&limit=5&cursor=c", "next",
                                           "text/html")]}
    parsed = Parsed(items_html(doc, collection_title="F", footer=""))
    assert [a["href"] for a in parsed.all("a") if a.get("class") == "json"] == [
        f"{ITEMS}?limit=5&f=json"]
    assert f"{ITEMS}?f=html&limit=5&cursor=c" in parsed.hrefs()  # an HTML link as it is


def test_the_landing_page_links_definition_conformance_and_collections() -> None:
    page = render("landing")
    hrefs = Parsed(page).hrefs()
    assert f"{B}/api" in hrefs
    assert f"{B}/conformance?f=html" in hrefs and f"{B}/collections?f=html" in hrefs
    assert "OGC API – Features &lt;i&gt;Demo&lt;/i&gt;" in page
    for label in ("API-Definition", "Konformität", "Sammlungen"):
        assert f"<dt>{label}</dt>" in page


def test_conformance_lists_every_class_and_links_only_http() -> None:
    parsed = Parsed(render("conformance"))
    assert CONFORMANCE["conformsTo"][0] in parsed.hrefs()
    assert "javascript:alert(1)" in parsed.text  # shown as text
    assert [h for h in parsed.hrefs() if "javascript" in h] == []


def test_the_collections_table() -> None:
    page = render("collections")
    body = re.search(r"<tbody>(.*?)</tbody>", page, re.S)
    assert body is not None and body.group(1).count("<tr>") == 2
    hrefs = Parsed(page).hrefs()
    assert f"{B}/collections/parcels?f=html" in hrefs  # the HTML alternate
    assert f"{B}/collections/sites?f=html" in hrefs  # a JSON self link, with f=html
    assert f"{ITEMS}?f=html" in hrefs and f"{B}/collections/sites/items?f=html" in hrefs
    assert "11,5000 bis 13,2000° Länge, 50,9000 bis 51,9000° Breite" in page
    assert "Gewerbeflächen &lt;b&gt;im Revier&lt;/b&gt;" in page
    assert "Anzahl Objekte" not in page
    counted = collections_html(collections_doc(itemCount=12345), footer=FOOTER)
    assert "Anzahl Objekte" in counted and '<td class="n">12.345</td>' in counted


def test_the_collection_page() -> None:
    page = render("collection")
    hrefs = Parsed(page).hrefs()
    assert f"{ITEMS}?f=html" in hrefs
    assert f"{B}/collections/parcels/queryables?f=html" in hrefs
    assert f"{B}/collections/parcels/sortables?f=html" in hrefs
    for heading in ("Koordinatenreferenzsysteme", "Ausdehnung", "Speicher-Koordinatenreferenzsystem"):
        assert heading in page
    assert page.count("<li><code>http://www.opengis.net/def/crs/") == 2
    assert "<dd><code>http://www.opengis.net/def/crs/EPSG/0/25832</code></dd>" in page


def test_the_items_table_has_one_row_per_feature_and_every_property() -> None:
    page = render("items")
    body = re.search(r"<tbody>(.*?)</tbody>", page, re.S)
    assert body is not None and body.group(1).count("<tr>") == 7
    header = re.search(r"<thead>(.*?)</thead>", page, re.S)
    assert header is not None
    assert re.findall(r'<th scope="col">([^<]*)</th>', header.group(1)) == [
        "Kennung", "name", "area_ha", "tags", "meta", "ok", "web"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script" not in page
    assert '<td class="n">1,5</td>' in page
    assert "<td>[&#34;a&#34;, &#34;b&#34;]</td>" in page and "<td>{&#34;k&#34;: 1}</td>" in page
    assert "<td>ja</td>" in page
    hrefs = Parsed(page).hrefs()
    assert f"{ITEMS}/1?f=html" in hrefs and f"{ITEMS}/ohne%2Fgeo?f=html" in hrefs
    assert "https://example.org/a?b=1" in hrefs
    assert f"{ITEMS}?limit=10&cursor=n1&f=html" in hrefs  # Weiter
    assert f"{ITEMS}?limit=10&cursor=p1&f=html" in hrefs  # Zurück
    assert "Weiter ›" in page and "‹ Zurück" in page
    swatches = Parsed(page).classed("span", "swatch")
    assert len(swatches) == 6  # the feature without geometry has none


def test_a_feature_link_and_item_href_take_precedence() -> None:
    own = {**feature(9, None), "links": [link("https://x.example/item/9?f=html", "alternate",
                                              "text/html")]}
    page = items_html(items_doc([own, feature(10, None)]), collection_title="F", footer="",
                      item_href=lambda fid: f"https://y.example/{fid}")
    hrefs = Parsed(page).hrefs()
    assert "https://x.example/item/9?f=html" in hrefs and "https://y.example/10" in hrefs


@pytest.mark.parametrize(("head", "expected"), [
    ({"numberMatched": 12345, "numberMatchedEstimated": True},
     "Treffer insgesamt: <strong>12.345</strong> (geschätzt) · auf dieser Seite: <strong>7</strong>"),
    ({"numberMatched": 12345, "numberMatchedEstimated": False},
     "Treffer insgesamt: <strong>12.345</strong> · auf dieser Seite: <strong>7</strong>"),
    ({"numberMatched": 7}, "Treffer insgesamt: <strong>7</strong> · auf dieser Seite: <strong>7</strong>"),
    ({}, "auf dieser Seite: <strong>7</strong>"),
])
def test_the_counts_say_geschaetzt_only_when_estimated(head: dict[str, Any], expected: str) -> None:
    page = items_html(items_doc(mixed_features(), **head), collection_title="F", footer="")
    counts = re.search(r'<p class="counts">(.*?)</p>', page, re.S)
    assert counts is not None and counts.group(1) == expected
    assert ("geschätzt" in page) == (head.get("numberMatchedEstimated") is True)


def _shapes(page: str) -> list[str]:
    svg = re.search(r"<svg .*?</svg>", page, re.S)
    assert svg is not None
    return re.findall(r"<(path|circle) ", svg.group(0))


def test_the_sketch_has_one_shape_per_geometry() -> None:
    page = render("items")
    parsed = Parsed(page)
    assert len(parsed.classed("g", "geom")) == 6
    assert _shapes(page) == ["path", "path", "path", "path", "circle", "path"]
    assert [a["class"] for a in parsed.all("path")] == ["poly", "poly", "line", "line", "point"]
    colours = [a["fill"] for a in parsed.classed("g", "geom")]
    assert len(set(colours)) == 6
    svg = parsed.all("svg")[0]
    assert svg["role"] == "img" and svg["viewbox"].startswith("0 0 640 ")
    assert "<title>Objekt 1</title>" in page
    assert f'<a href="{ITEMS}/1?f=html"><g class="geom"' in page  # the shape links the item


def _numbers(d: str) -> list[tuple[float, float]]:
    values = [float(v) for v in re.findall(r"-?\d+\.\d", d)]
    return list(zip(values[::2], values[1::2], strict=True))


def test_a_multipolygon_with_holes_is_one_even_odd_path() -> None:
    doc = items_doc([feature(2, {"type": "MultiPolygon", "coordinates": [[SQUARE, HOLE],
                                                                           [OTHER]]})])
    page = items_html(doc, collection_title="F", footer="")
    paths = Parsed(page).all("path")
    assert len(paths) == 1 and paths[0]["fill-rule"] == "evenodd"
    d = paths[0]["d"]
    assert d.count("M") == 3 and d.count("Z") == 3  # shell, hole, second polygon
    rings = [_numbers(ring) for ring in d.split("Z")[:3]]
    assert [len(ring) for ring in rings] == [5, 4, 4]
    xs = [x for x, _ in rings[0]]
    ys = [y for _, y in rings[0]]
    for x, y in rings[1]:  # the hole lies inside the shell
        assert min(xs) < x < max(xs) and min(ys) < y < max(ys)
    width, height = (int(v) for v in re.findall(r'viewBox="0 0 (\d+) (\d+)"', page)[0])
    for ring in rings:
        assert all(0 <= x <= width and 0 <= y <= height for x, y in ring)


def test_the_sketch_scales_longitude_by_the_cosine_of_the_latitude() -> None:
    square = [[10.0, 59.9], [10.2, 59.9], [10.2, 60.1], [10.0, 60.1], [10.0, 59.9]]
    page = items_html(items_doc([feature(1, {"type": "Polygon", "coordinates": [square]})]),
                      collection_title="F", footer="")
    ring = _numbers(Parsed(page).all("path")[0]["d"])
    width = max(x for x, _ in ring) - min(x for x, _ in ring)
    height = max(y for _, y in ring) - min(y for _, y in ring)
    assert width / height == pytest.approx(math.cos(math.radians(60)), abs=0.01)
    assert ring[0][1] > ring[3][1]  # north is up


def test_features_without_geometry() -> None:
    lone = feature("a", None, name="nur Sachdaten", note=None)
    page = feature_html(lone, collection_title="Flächen", footer="")
    assert "<svg" not in page and "Dieses Objekt hat keine Geometrie." in page
    assert "<th scope=\"row\">note</th><td>–</td>" in page
    items = items_html(items_doc([lone]), collection_title="Flächen", footer="")
    assert "<svg" not in items and "keine Geometrie" in items
    assert items.count("<tr><th scope=\"row\">") == 1


def test_the_feature_page_shows_every_property_in_full() -> None:
    long_text = "x" * 500
    doc = feature(7, {"type": "Point", "coordinates": [12.0, 51.0]}, text=long_text, n=3)
    page = feature_html(doc, collection_title="Flächen", footer="")
    assert long_text in page and _shapes(page) == ["circle"]
    assert "<th scope=\"row\">Kennung</th><td>7</td>" in page
    assert "<th scope=\"row\">n</th><td>3</td>" in page
    cut = items_html(items_doc([doc]), collection_title="F", footer="")
    assert long_text not in cut and "x" * 159 + "…" in cut


@pytest.mark.parametrize(("name", "label"), [("queryables", "Abfragbare Eigenschaften"),
                                             ("sortables", "Sortierbare Eigenschaften")])
def test_queryables_and_sortables(name: str, label: str) -> None:
    page = render(name)
    assert f"<h1>Flächen: {label}</h1>" in page
    rows = re.findall(r"<tr><th scope=\"row\"><code>([^<]+)</code></th><td>(.*?)</td>"
                      r"<td>(.*?)</td><td>(.*?)</td></tr>", page)
    assert rows == [
        ("geometry", "geometry", "Geometrie (Polygon)", "–"),
        ("area_ha", 'Fläche<br><span class="muted">Netto, ha</span>', "number", "–"),
        ("sale_date", "–", "string (date)", "–"),
        ("status", "–", "string", "frei, verkauft, &lt;script&gt;alert(1)&lt;/script&gt;")]


def test_the_page_size_form_keeps_the_other_parameters() -> None:
    page = render("items")
    parsed = Parsed(page)
    form = parsed.all("form")[0]
    assert form["action"] == ITEMS and form["method"] == "get"
    hidden = [(a["name"], a["value"]) for a in parsed.all("input", type="hidden")]
    assert hidden == [("filter", "area_ha>1"), ("f", "html")]
    assert parsed.all("label", for_="limit") and parsed.all("select", id="limit", name="limit")
    assert parsed.all("option", value="10", selected="")


def _pixels_near(page: Page, selector: str, colour: str, tolerance: int = 40) -> int:
    """How many pixels of the element's screenshot are within ``tolerance`` of ``colour``."""
    shot = Image.open(io.BytesIO(page.locator(selector).first.screenshot())).convert("RGB")
    target = [int(colour[i:i + 2], 16) for i in (1, 3, 5)]
    return sum(count for count, rgb in shot.getcolors(maxcolors=shot.width * shot.height)
               if max(abs(a - b) for a, b in zip(rgb, target, strict=True)) <= tolerance)


def test_the_sketch_draws_in_a_real_browser(browser: Browser) -> None:  # noqa: F811
    page = browser.new_page(viewport={"width": 1100, "height": 1400})
    try:
        page.set_content(render("items"), wait_until="load")
        box = page.locator("figure.sketch svg").bounding_box()
        assert box is not None and box["width"] >= 600 and box["height"] >= 140
        assert page.locator("figure.sketch svg g.geom").count() == 6
        drawn = drawn_pixels(page, "figure.sketch svg")
        assert drawn > 0.02 * box["width"] * box["height"], drawn
        assert distinct_colours(page, "figure.sketch svg") > 12
        # each feature in its own colour: the multipolygon's outline, both lines, the points
        for colour in ("#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9"):
            assert _pixels_near(page, "figure.sketch svg", colour) > 20, colour
        assert _pixels_near(page, "figure.sketch svg", "#ff00ff") == 0  # the check can fail
        assert page.locator("table.features tbody tr").count() == 7
        page.set_content(items_html(items_doc([feature(1, None)]), collection_title="F",
                                    footer=""), wait_until="load")
        assert page.locator("svg").count() == 0
    finally:
        page.close()
