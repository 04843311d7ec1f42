"""HTML pages of the OGC API – Features resources, in German, from their JSON documents.

Each function takes the document exactly as the service sends it as JSON (landing page,
conformance, collections, one collection, a GeoJSON page of items, one feature, queryables,
sortables) and returns a complete page: a breadcrumb (Start › Sammlungen › Sammlung ›
Objekte), a link "Als JSON" to the same resource, the content, and the ``footer`` text the
caller passes (the data attribution). The templates live in ``templates/ogc/`` and are
rendered by the project's Jinja2 environment (autoescaping, :mod:`app.services.render.html`):
every value of a document is escaped, and only ``http``/``https``/relative links are linked.

Navigation stays in HTML: a link that is not ``text/html`` gets ``f=html``. The breadcrumb is
derived from the resource's own URL (its ``self`` link, ``$id`` of a JSON Schema, or the
``self_href`` every function accepts for a document without either, such as a single
feature), whose path ends in ``/collections/{id}/items`` and so on; "Als JSON" is the JSON
``self``/``alternate`` link, else that URL with ``f=json``. Pages of items and single
features show an inline SVG sketch of their geometries (:mod:`app.services.render.ogc_sketch`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from app.services.render.html import environment, number_de
from app.services.render.ogc_sketch import PALETTE, sketch_map

HTML = "text/html"
JSON_TYPES = ("application/json", "application/geo+json", "application/schema+json")
OGC_REL = "http://www.opengis.net/def/rel/ogc/1.0/"
#: Longest text of a table cell on a page of items (the feature page shows everything).
CELL_CHARS = 160

ItemHref = Callable[[Any], str | None]


# -- links ------------------------------------------------------------------------------------
def _safe(href: Any) -> str | None:
    """``href`` if it is an http(s) or relative URL (never ``javascript:`` and the like)."""
    if not isinstance(href, str) or not href.strip():
        return None
    return href if urlsplit(href.strip()).scheme.lower() in ("", "http", "https") else None


def _with_f(href: str, fmt: str) -> str:
    parts = urlsplit(href)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "f"]
    return urlunsplit(parts._replace(query=urlencode([*query, ("f", fmt)])))


def _links(doc: dict[str, Any]) -> list[dict[str, Any]]:
    links = doc.get("links")
    return [link for link in links if isinstance(link, dict) and _safe(link.get("href"))
            ] if isinstance(links, list) else []


def _with_self(doc: dict[str, Any], self_href: str | None) -> dict[str, Any]:
    """``doc`` with a ``self`` link to ``self_href`` (the page's URL) if it has none."""
    if _safe(self_href) is None or any(link.get("rel") == "self" for link in _links(doc)):
        return doc
    links = doc["links"] if isinstance(doc.get("links"), list) else []
    return {**doc, "links": [*links, {"rel": "self", "type": HTML, "href": self_href}]}


def _html_href(links: Sequence[dict[str, Any]], *rels: str) -> str | None:
    """The HTML link of one of ``rels``; else the first such link with ``f=html``."""
    found = [link for link in links if link.get("rel") in rels]
    for link in found:
        if link.get("type") == HTML:
            return str(link["href"])
    return _with_f(str(found[0]["href"]), "html") if found else None


def _json_link(doc: dict[str, Any]) -> tuple[str | None, str]:
    """Where the JSON of this resource is, and its media type."""
    links = _links(doc)
    for rel in ("self", "alternate"):
        for link in links:
            if link.get("rel") == rel and link.get("type") in JSON_TYPES:
                return str(link["href"]), str(link["type"])
    own = next((str(link["href"]) for link in links if link.get("rel") == "self"),
               _safe(doc.get("$id")))
    return (_with_f(own, "json"), "application/json") if own else (None, "")


def _urls(doc: dict[str, Any]) -> tuple[str | None, str | None]:
    """The service's root URL and, when the resource belongs to one, the collection's URL."""
    href = next((str(link["href"]) for link in _links(doc) if link.get("rel") == "self"),
                _safe(doc.get("$id")))
    if href is None:
        return None, None
    parts = urlsplit(href)
    path, collection = parts.path, None
    index = path.rfind("/collections")
    if index >= 0:
        rest = path[index + len("/collections"):].split("/")
        if len(rest) > 1 and rest[1]:
            collection = path[:index] + "/collections/" + rest[1]
        path = path[:index]
    elif path.endswith("/conformance"):
        path = path[:-len("/conformance")]

    def url(p: str) -> str:
        return urlunsplit((parts.scheme, parts.netloc, p, "", ""))

    return url(path.rstrip("/")), url(collection) if collection else None


def _crumbs(doc: dict[str, Any], *trail: str) -> list[dict[str, str | None]]:
    """Start › Sammlungen › collection › Objekte … up to the length of ``trail``."""
    root, collection = _urls(doc)
    targets = [None if root is None else f"{root}/?f=html",
               None if root is None else f"{root}/collections?f=html",
               None if collection is None else f"{collection}?f=html",
               None if collection is None else f"{collection}/items?f=html"]
    crumbs: list[dict[str, str | None]] = [{"label": "Start", "href": targets[0]}]
    crumbs += [{"label": label, "href": targets[i + 1] if i + 1 < len(targets) else None}
               for i, label in enumerate(trail)]
    crumbs[-1]["href"] = None
    return crumbs


# -- values -----------------------------------------------------------------------------------
def _text(value: Any, limit: int | None = None) -> str:
    """A property value as short German text: numbers with a decimal comma, JSON for
    nested values, an en dash for nothing."""
    if value is None or value == "":
        text = "–"
    elif isinstance(value, bool):
        text = "ja" if value else "nein"
    elif isinstance(value, float):
        text = str(value).replace(".", ",") if math.isfinite(value) else "–"
    elif isinstance(value, dict | list):
        text = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    else:
        text = str(value)
    return text if limit is None or len(text) <= limit else text[:limit - 1] + "…"


def _cell(value: Any, limit: int | None = None) -> dict[str, Any]:
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    href = _safe(value) if isinstance(value, str) and value.startswith("http") else None
    return {"text": _text(value, limit), "href": href, "numeric": numeric}


def _bbox(extent: Any) -> str | None:
    """The first spatial bbox of an extent: ``11,5–13,2° Länge, 50,9–51,9° Breite``."""
    try:
        box = [float(v) for v in extent["spatial"]["bbox"][0]]
    except (KeyError, IndexError, TypeError, ValueError):
        return None
    if len(box) == 6:
        box = [box[0], box[1], box[3], box[4]]
    if len(box) != 4:
        return None
    w, s, e, n = (number_de(v, 4) for v in box)
    return f"{w} bis {e}° Länge, {s} bis {n}° Breite"


def _interval(extent: Any) -> str | None:
    try:
        start, end = extent["temporal"]["interval"][0]
    except (KeyError, IndexError, TypeError, ValueError):
        return None
    return f"{start or 'offen'} bis {end or 'offen'}"


# -- pages ----------------------------------------------------------------------------------------
def _render(template: str, doc: dict[str, Any], footer: str, title: str,
            crumbs: list[dict[str, str | None]], **context: Any) -> str:
    json_href, json_type = _json_link(doc)
    return environment().get_template(f"ogc/{template}").render(
        title=title, crumbs=crumbs, json_href=json_href, json_type=json_type, footer=footer,
        **context)


def landing_page_html(doc: dict[str, Any], *, footer: str, self_href: str | None = None) -> str:
    """The landing page: title, description, the API definition, conformance, collections."""
    doc = _with_self(doc, self_href)
    links = _links(doc)
    title = str(doc.get("title") or "OGC API – Features")
    main = [{"label": label, "links": [
        {"href": str(link["href"]), "title": link.get("title") or label,
         "type": link.get("type") or ""}
        for link in links if link.get("rel") in rels]}
        for label, rels in (("API-Definition", ("service-desc",)),
                            ("API-Dokumentation", ("service-doc",)))]
    main += [{"label": label, "links": [{"href": href, "title": label, "type": HTML}]}
             for label, href in (
                 ("Konformität", _html_href(links, "conformance", OGC_REL + "conformance")),
                 ("Sammlungen", _html_href(links, "data", OGC_REL + "data"))) if href]
    return _render("landing.html.j2", doc, footer, title, _crumbs(doc),
                   description=doc.get("description") or "",
                   main=[m for m in main if m["links"]],
                   links=[{key: str(link.get(key) or "") for key in ("href", "rel", "title",
                                                                      "type")} for link in links])


def conformance_html(doc: dict[str, Any], *, footer: str, self_href: str | None = None) -> str:
    """The conformance declaration: the ``conformsTo`` URIs."""
    doc = _with_self(doc, self_href)
    uris = [{"uri": str(uri), "href": _safe(uri)} for uri in doc.get("conformsTo") or []]
    return _render("conformance.html.j2", doc, footer, "Konformität",
                   _crumbs(doc, "Konformität"), uris=uris)


def _collection_row(collection: dict[str, Any]) -> dict[str, Any]:
    links = _links(collection)
    count = next((collection[k] for k in ("itemCount", "numberMatched", "item_count")
                  if isinstance(collection.get(k), int)), None)
    return {"id": str(collection.get("id") or ""),
            "title": str(collection.get("title") or collection.get("id") or "–"),
            "href": _html_href(links, "self", "alternate"),
            "description": collection.get("description") or "",
            "bbox": _bbox(collection.get("extent")),
            "count": None if count is None else number_de(count, 0),
            "items_href": _html_href(links, "items"),
            "items_json_href": next((str(link["href"]) for link in links
                                     if link.get("rel") == "items"
                                     and link.get("type") in JSON_TYPES), None)}


def collections_html(doc: dict[str, Any], *, footer: str, self_href: str | None = None) -> str:
    """The collections as a table: title, description, extent, count, links to the items."""
    doc = _with_self(doc, self_href)
    rows = [_collection_row(c) for c in doc.get("collections") or [] if isinstance(c, dict)]
    return _render("collections.html.j2", doc, footer, "Sammlungen",
                   _crumbs(doc, "Sammlungen"), rows=rows,
                   with_count=any(row["count"] is not None for row in rows))


def collection_html(doc: dict[str, Any], *, footer: str, self_href: str | None = None) -> str:
    """One collection: description, extent, coordinate reference systems, links."""
    doc = _with_self(doc, self_href)
    row = _collection_row(doc)
    links = _links(doc)
    targets = [(label, _html_href(links, *rels)) for label, rels in (
        ("Objekte", ("items",)),
        ("Abfragbare Eigenschaften", (OGC_REL + "queryables", "queryables")),
        ("Sortierbare Eigenschaften", (OGC_REL + "sortables", "sortables")))]
    return _render("collection.html.j2", doc, footer, row["title"],
                   _crumbs(doc, "Sammlungen", row["title"]), row=row,
                   item_type=doc.get("itemType") or "", interval=_interval(doc.get("extent")),
                   crs=[str(c) for c in doc.get("crs") or []],
                   storage_crs=doc.get("storageCrs") or "",
                   targets=[{"label": label, "href": href} for label, href in targets if href])


def _feature_href(feature: dict[str, Any], collection: str | None,
                  item_href: ItemHref | None) -> str | None:
    found = _html_href(_links(feature), "self", "alternate")
    fid = feature.get("id")
    if found or fid is None:
        return found
    if item_href is not None:
        return _safe(item_href(fid))
    return None if collection is None else f"{collection}/items/{quote(str(fid), safe='')}?f=html"


def items_html(doc: dict[str, Any], *, collection_title: str, footer: str,
               item_href: ItemHref | None = None, self_href: str | None = None) -> str:
    """A page of items (a GeoJSON FeatureCollection): sketch, counts, table, paging links.

    A feature's id links to its ``self``/``alternate`` link, else to ``item_href(id)``, else
    to ``{collection}/items/{id}?f=html`` below the page's own URL.
    """
    doc = _with_self(doc, self_href)
    features = [f for f in doc.get("features") or [] if isinstance(f, dict)]
    collection = _urls(doc)[1]
    columns: list[str] = []
    for feature in features:
        for name in feature.get("properties") or {}:
            if name not in columns:
                columns.append(name)
    rows = []
    for index, feature in enumerate(features):
        properties = feature.get("properties") or {}
        fid = feature.get("id")
        rows.append({"id": "–" if fid is None else str(fid),
                     "href": _feature_href(feature, collection, item_href),
                     "colour": PALETTE[index % len(PALETTE)]
                     if isinstance(feature.get("geometry"), dict) else None,
                     "cells": [_cell(properties.get(name), CELL_CHARS) for name in columns]})
    drawing = sketch_map([(f"Objekt {row['id']}", row["href"], feature["geometry"],
                           row["colour"])
                          for row, feature in zip(rows, features, strict=True) if row["colour"]])
    matched = doc.get("numberMatched")
    links = _links(doc)
    return _render(
        "items.html.j2", doc, footer, f"{collection_title} – Objekte",
        _crumbs(doc, "Sammlungen", collection_title, "Objekte"),
        collection_title=collection_title, columns=columns, rows=rows, sketch=drawing,
        matched=number_de(matched, 0) if isinstance(matched, int) else None,
        estimated=doc.get("numberMatchedEstimated") is True,
        returned=number_de(doc.get("numberReturned", len(features)), 0),
        next_href=_html_href(links, "next"), prev_href=_html_href(links, "prev"),
        form=_limit_form(doc))


def _limit_form(doc: dict[str, Any]) -> dict[str, Any] | None:
    """The page-size form: the page's URL and its other query parameters (kept)."""
    href = next((str(link["href"]) for link in _links(doc) if link.get("rel") == "self"), None)
    if href is None:
        return None
    parts = urlsplit(href)
    query = parse_qsl(parts.query, keep_blank_values=True)
    limit = next((v for k, v in query if k == "limit" and v.isdigit()), "10")
    return {"action": urlunsplit(parts._replace(query="", fragment="")),
            "hidden": [(k, v) for k, v in query if k not in ("limit", "f", "cursor", "offset")],
            "limits": sorted({"10", "50", "100", "500", limit}, key=lambda v: (len(v), v)),
            "limit": limit}


def feature_html(doc: dict[str, Any], *, collection_title: str, footer: str,
                 self_href: str | None = None) -> str:
    """One feature: sketch and its properties (``self_href``: the feature's URL, for the
    breadcrumb and the JSON link when the feature has no ``self`` link)."""
    doc = _with_self(doc, self_href)
    fid = "–" if doc.get("id") is None else str(doc["id"])
    geometry = doc.get("geometry")
    drawing = (sketch_map([(f"Objekt {fid}", None, geometry, PALETTE[0])])
               if isinstance(geometry, dict) else None)
    properties = doc.get("properties") or {}
    rows = [{"name": str(name), "cell": _cell(value)} for name, value in properties.items()]
    return _render("feature.html.j2", doc, footer, f"{collection_title} – Objekt {fid}",
                   _crumbs(doc, "Sammlungen", collection_title, "Objekte", f"Objekt {fid}"),
                   fid=fid, rows=rows, sketch=drawing,
                   geometry_type=geometry.get("type") if isinstance(geometry, dict) else None)


def _type_text(schema: dict[str, Any]) -> str:
    kind = schema.get("type")
    text = " oder ".join(map(str, kind)) if isinstance(kind, list) else str(kind or "")
    if not text and isinstance(schema.get("$ref"), str):
        name = schema["$ref"].rstrip("/").rsplit("/", 1)[-1].removesuffix(".json")
        text = f"Geometrie ({name})" if "geojson" in schema["$ref"] else name
    branches = schema.get("anyOf") or schema.get("oneOf")
    if not text and isinstance(branches, list):
        text = " oder ".join(_type_text(b) for b in branches if isinstance(b, dict))
    fmt = schema.get("format")
    return f"{text or 'beliebig'} ({fmt})" if fmt else text or "beliebig"


def _schema_page(doc: dict[str, Any], label: str, footer: str, self_href: str | None) -> str:
    doc = _with_self(doc, self_href)
    collection_title = str(doc.get("title") or "Sammlung")
    rows = []
    for name, schema in (doc.get("properties") or {}).items():
        schema = schema if isinstance(schema, dict) else {}
        values = schema["enum"] if isinstance(schema.get("enum"), list) else (
            [schema["const"]] if "const" in schema else [])
        rows.append({"name": str(name), "title": str(schema.get("title") or ""),
                     "description": str(schema.get("description") or ""),
                     "type": _type_text(schema), "allowed": ", ".join(_text(v) for v in values)})
    return _render("schema.html.j2", doc, footer, f"{collection_title} – {label}",
                   _crumbs(doc, "Sammlungen", collection_title, label), label=label,
                   collection_title=collection_title, rows=rows)


def queryables_html(doc: dict[str, Any], *, footer: str, self_href: str | None = None) -> str:
    """The queryables (a JSON Schema): name, title and description, type, allowed values."""
    return _schema_page(doc, "Abfragbare Eigenschaften", footer, self_href)


def sortables_html(doc: dict[str, Any], *, footer: str, self_href: str | None = None) -> str:
    """The sortables (a JSON Schema), shown like the queryables."""
    return _schema_page(doc, "Sortierbare Eigenschaften", footer, self_href)
