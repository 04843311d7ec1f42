"""An OpenAPI 3.0.3 document from FastAPI's OpenAPI 3.1 document.

OGC API - Features Part 1 (conformance class ``oas30``) and clients such as GDAL's OAPIF
driver read an OpenAPI 3.0 document behind the landing page's ``service-desc`` link; FastAPI
publishes 3.1, whose Schema Object is full JSON Schema 2020-12. :func:`to_openapi30` rewrites
a 3.1 document into a new 3.0.3 one and leaves its input untouched.

Document: ``openapi: 3.0.3``; ``webhooks``, ``jsonSchemaDialect``, ``info.summary``,
``license.identifier`` (an SPDX ``url`` when there is none), ``mutualTLS`` security schemes
and ``components.pathItems`` (inlined where referenced) go; a non-schema ``$ref`` loses its
``summary``/``description``. Schemas (only where the document holds schemas: the ``examples``
maps of parameters and media types stay): a ``null`` type or ``{"type": "null"}`` branch of
``anyOf``/``oneOf`` becomes ``nullable: true`` (and ``null`` in an ``enum``); several types
become ``anyOf``; ``const`` a one-value ``enum``; an ``examples`` list its first ``example``;
numeric ``exclusiveMinimum``/``exclusiveMaximum`` a bound plus the boolean; base64
``contentEncoding`` ``format: byte``, other binary content ``format: binary``;
``prefixItems`` the union as ``items`` (``maxItems`` for a closed tuple);
``patternProperties`` an ``additionalProperties`` (the key pattern is lost); a ``$ref`` with
siblings ``allOf: [{$ref}]`` plus the siblings; ``$defs`` move to ``components/schemas``;
boolean schemas become objects; an array gets ``items: {}`` if it has none; other keywords
3.0 lacks (``propertyNames``, ``if``, ``$comment``, ``unevaluated*`` ...) are dropped.
``nullable`` beside ``allOf``/``anyOf`` without ``type`` is the usual 3.0 spelling of a
nullable reference or union, although 3.0.3 gives it effect only beside ``type``.

>>> to_openapi30({"openapi": "3.1.0", "info": {"title": "T", "version": "1"}, "paths": {},
...     "components": {"schemas": {"A": {"type": ["integer", "null"], "const": 1}}}}
...     )["components"]["schemas"]["A"]
{'type': 'integer', 'enum': [1, None], 'nullable': True}
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from copy import deepcopy
from typing import Any

from app.api.openapi30_keywords import (
    content_format,
    exclusive_bounds,
    lift_null,
    pattern_properties,
    tuple_items,
)

OPENAPI30_MEDIA_TYPE = "application/vnd.oai.openapi+json;version=3.0"
OPENAPI30_VERSION = "3.0.3"

#: The keywords of an OpenAPI 3.0 Schema Object (besides ``$ref`` and ``x-`` extensions).
SCHEMA_KEYWORDS_30 = frozenset({
    "title", "multipleOf", "maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum",
    "maxLength", "minLength", "pattern", "maxItems", "minItems", "uniqueItems", "maxProperties",
    "minProperties", "required", "enum", "type", "allOf", "oneOf", "anyOf", "not", "items",
    "properties", "additionalProperties", "description", "format", "default", "nullable",
    "discriminator", "readOnly", "writeOnly", "xml", "externalDocs", "example", "deprecated"})

_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})
_COMPONENTS = "#/components/schemas/"
_PATH_ITEMS = "#/components/pathItems/"


def to_openapi30(document: dict[str, Any]) -> dict[str, Any]:
    """A new OpenAPI 3.0.3 document equivalent to the 3.1 ``document`` (not modified)."""
    return _Converter(document).document()


def _pointer_token(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")


def _walk_defs(node: Any, pointer: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every ``$defs`` map below ``node``, with its JSON pointer."""
    if isinstance(node, dict):
        defs = node.get("$defs")
        if isinstance(defs, dict):
            yield pointer + "/$defs", defs
        for key, value in node.items():
            yield from _walk_defs(value, f"{pointer}/{_pointer_token(str(key))}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk_defs(value, f"{pointer}/{index}")


class _Converter:
    """One conversion: the ``$defs`` moved to components and the references to them."""

    def __init__(self, source: dict[str, Any]) -> None:
        self.source = source
        components = source.get("components") or {}
        self.schemas: dict[str, Any] = components.get("schemas") or {}
        self.path_items: dict[str, Any] = components.get("pathItems") or {}
        self.hoisted: dict[str, dict[str, Any]] = {}
        self.defs_names: dict[int, dict[str, str]] = {}
        self.ref_map: dict[str, str] = {}
        self.scopes: list[dict[str, str]] = []
        taken = set(self.schemas)
        for pointer, defs in _walk_defs(source, "#"):
            names = self.defs_names.setdefault(id(defs), {})
            for name, schema in defs.items():
                new = name
                if self.schemas.get(name) != schema:
                    number = 1
                    while new in taken:
                        number += 1
                        new = f"{name}_{number}"
                    taken.add(new)
                names[name] = new
                self.ref_map[f"{pointer}/{_pointer_token(name)}"] = _COMPONENTS + new

    # -- references ---------------------------------------------------------------------
    def ref(self, ref: str) -> str:
        """``ref`` rewritten when it points into a ``$defs`` map (innermost scope first)."""
        for old, new in self.ref_map.items():
            if ref == old or ref.startswith(old + "/"):
                return new + ref[len(old):]
        if ref.startswith("#/$defs/"):
            name, _, rest = ref[len("#/$defs/"):].partition("/")
            name = name.replace("~1", "/").replace("~0", "~")
            for scope in reversed(self.scopes):
                if name in scope:
                    return _COMPONENTS + _pointer_token(scope[name]) + (f"/{rest}" if rest else "")
            for names in self.defs_names.values():
                if name in names:
                    return _COMPONENTS + _pointer_token(names[name]) + (f"/{rest}" if rest else "")
        return ref

    # -- schemas ------------------------------------------------------------------------
    def schema(self, raw: Any) -> Any:
        """One Schema Object (and everything below it) in its 3.0 form."""
        if raw is True:
            return {}
        if raw is False:
            return {"not": {}}
        if not isinstance(raw, dict):
            return deepcopy(raw)
        defs = raw.get("$defs")
        if isinstance(defs, dict):
            names = self.defs_names.get(id(defs), {})
            self.scopes.append(names)
            try:
                for name, schema in defs.items():
                    new = names.get(name, name)
                    if new not in self.hoisted and self.schemas.get(new) != schema:
                        self.hoisted[new] = self.schema(schema)
                return self.schema({k: v for k, v in raw.items() if k != "$defs"})
            finally:
                self.scopes.pop()
        if "$ref" in raw:
            ref = {"$ref": self.ref(str(raw["$ref"]))}
            siblings = {k: v for k, v in raw.items() if k != "$ref"}
            if not siblings:
                return ref
            return self.schema({**siblings, "allOf": [ref, *siblings.get("allOf", [])]})
        return self._plain_schema(raw)

    def _plain_schema(self, raw: dict[str, Any]) -> dict[str, Any]:
        src, nullable, only_null = lift_null(raw)
        if only_null:
            kept = {k: deepcopy(v) for k, v in src.items() if k in ("title", "description")}
            return {**kept, "enum": [None], "nullable": True}
        if "const" in src:
            src["enum"] = [src.pop("const")]
        examples = src.pop("examples", None)
        if isinstance(examples, list) and examples and "example" not in src:
            src["example"] = examples[0]
        if isinstance(src.get("type"), list):
            typed = [{"type": kind} for kind in src.pop("type")]
            if "anyOf" in src:
                src["allOf"] = [*src.get("allOf", []), {"anyOf": typed}]
            else:
                src["anyOf"] = typed
        exclusive_bounds(src)
        content_format(src)
        tuple_items(src)
        pattern_properties(src)
        if src.get("type") == "array" and "items" not in src:
            src["items"] = {}
        if src.get("required") == []:
            del src["required"]
        out: dict[str, Any] = {}
        for key, value in src.items():
            if key == "properties" and isinstance(value, dict):
                out[key] = {name: self.schema(schema) for name, schema in value.items()}
            elif key in ("items", "not") or (key == "additionalProperties"
                                              and not isinstance(value, bool)):
                out[key] = self.schema(value)
            elif key in ("allOf", "anyOf", "oneOf") and isinstance(value, list):
                out[key] = [self.schema(schema) for schema in value]
            elif key == "discriminator" and isinstance(value, dict):
                out[key] = deepcopy(value)
                if isinstance(value.get("mapping"), dict):
                    out[key]["mapping"] = {k: self.ref(v) for k, v in value["mapping"].items()}
            elif key in SCHEMA_KEYWORDS_30 or key.startswith("x-"):
                out[key] = deepcopy(value)
        if nullable:
            if isinstance(out.get("enum"), list) and None not in out["enum"]:
                out["enum"].append(None)
            out["nullable"] = True
        return out

    # -- the other objects ----------------------------------------------------------------
    def document(self) -> dict[str, Any]:
        out: dict[str, Any] = {"openapi": OPENAPI30_VERSION}
        for key, value in self.source.items():
            if key in ("openapi", "webhooks", "jsonSchemaDialect", "$schema"):
                continue
            if key == "info":
                out[key] = _info(value)
            elif key == "paths":
                out[key] = _each(value, self.path_item, extensions=True)
            elif key == "components":
                out[key] = self.components(value)
            else:
                out[key] = deepcopy(value)
        out.setdefault("paths", {})
        if self.hoisted:
            schemas = out.setdefault("components", {}).setdefault("schemas", {})
            schemas.update({k: v for k, v in self.hoisted.items() if k not in schemas})
        return out

    def components(self, raw: dict[str, Any]) -> dict[str, Any]:
        convert: dict[str, Callable[[Any], Any]] = {
            "schemas": self.schema, "responses": self.response, "parameters": self.parameter,
            "requestBodies": self.request_body, "headers": self.parameter,
            "callbacks": self.callback}
        out: dict[str, Any] = {}
        for key, value in raw.items():
            if key == "pathItems":
                continue
            if key in convert:
                out[key] = _each(value, convert[key])
            elif key == "securitySchemes":
                out[key] = {name: deepcopy(scheme) for name, scheme in value.items()
                            if scheme.get("type") != "mutualTLS"}
            else:
                out[key] = deepcopy(value)
        return out

    def path_item(self, raw: dict[str, Any]) -> dict[str, Any]:
        ref = raw.get("$ref")
        if isinstance(ref, str) and ref.startswith(_PATH_ITEMS):
            target = self.path_items.get(ref[len(_PATH_ITEMS):].replace("~1", "/"), {})
            raw = {**target, **{k: v for k, v in raw.items() if k != "$ref"}}
        out: dict[str, Any] = {}
        for key, value in raw.items():
            if key in _METHODS:
                out[key] = self.operation(value)
            elif key == "parameters":
                out[key] = [self.parameter(parameter) for parameter in value]
            else:
                out[key] = deepcopy(value)
        return out

    def operation(self, raw: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in raw.items():
            if key == "parameters":
                out[key] = [self.parameter(parameter) for parameter in value]
            elif key == "requestBody":
                out[key] = self.request_body(value)
            elif key == "responses":
                out[key] = _each(value, self.response, extensions=True)
            elif key == "callbacks":
                out[key] = _each(value, self.callback)
            else:
                out[key] = deepcopy(value)
        out.setdefault("responses", {"default": {"description": "Default response"}})
        return out

    def callback(self, raw: dict[str, Any]) -> dict[str, Any]:
        if "$ref" in raw:
            return {"$ref": raw["$ref"]}
        return _each(raw, self.path_item, extensions=True)

    def parameter(self, raw: dict[str, Any]) -> dict[str, Any]:
        """A Parameter or Header Object (or a reference to one)."""
        if "$ref" in raw:
            return {"$ref": raw["$ref"]}
        out = self._with_content(raw)
        if "schema" in raw:
            out["schema"] = self.schema(raw["schema"])
        return out

    def request_body(self, raw: dict[str, Any]) -> dict[str, Any]:
        return {"$ref": raw["$ref"]} if "$ref" in raw else self._with_content(raw)

    def response(self, raw: dict[str, Any]) -> dict[str, Any]:
        if "$ref" in raw:
            return {"$ref": raw["$ref"]}
        out = self._with_content(raw)
        if isinstance(raw.get("headers"), dict):
            out["headers"] = _each(raw["headers"], self.parameter)
        return out

    def media_type(self, raw: dict[str, Any]) -> dict[str, Any]:
        out = _examples_map(raw)
        if "schema" in raw:
            out["schema"] = self.schema(raw["schema"])
        for name, encoding in (raw.get("encoding") or {}).items():
            if isinstance(encoding.get("headers"), dict):
                out["encoding"][name]["headers"] = _each(encoding["headers"], self.parameter)
        return out

    def _with_content(self, raw: dict[str, Any]) -> dict[str, Any]:
        out = _examples_map(raw)
        if isinstance(raw.get("content"), dict):
            out["content"] = {media: self.media_type(value)
                              for media, value in raw["content"].items()}
        return out


def _examples_map(raw: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``raw`` in which a (3.0-invalid) ``examples`` list became ``example``."""
    out = deepcopy(raw)
    if isinstance(out.get("examples"), list):
        examples = out.pop("examples")
        if examples and "example" not in out:
            out["example"] = examples[0]
    return out


def _each(mapping: dict[str, Any], convert: Callable[[Any], Any], *,
          extensions: bool = False) -> dict[str, Any]:
    """``convert`` applied to every value; with ``extensions``, ``x-`` keys are copied."""
    return {key: deepcopy(value) if extensions and key.startswith("x-") else convert(value)
            for key, value in mapping.items()}


def _info(raw: dict[str, Any]) -> dict[str, Any]:
    out = {key: deepcopy(value) for key, value in raw.items() if key != "summary"}
    licence = out.get("license")
    if isinstance(licence, dict) and "identifier" in licence:
        identifier = licence.pop("identifier")
        licence.setdefault("url", f"https://spdx.org/licenses/{identifier}.html")
    return out

