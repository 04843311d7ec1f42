"""The OpenAPI 3.0 document (``app/api/openapi30.py``): valid 3.0.3, one exact case per rule.

The service's own 3.1 document converts to a document that ``openapi-spec-validator``
accepts as 3.0; the same document unconverted is rejected, and so is each 3.1 construct of
the small cases below, so that a converter that left one in place would fail here.
No database is needed: building the app opens no connection.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from openapi_spec_validator import OpenAPIV30SpecValidator, OpenAPIV31SpecValidator, validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

from app.api.openapi30 import OPENAPI30_MEDIA_TYPE, to_openapi30
from app.main import create_app
from app.settings import Settings

B_REF = {"$ref": "#/components/schemas/B"}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    """The service's OpenAPI 3.1 document (FastAPI's ``app.openapi()``)."""
    app = create_app(Settings(database_url="postgresql://x@127.0.0.1:1/x"))
    return app.openapi()


def _wrap(schema: Any, version: str = "3.1.0") -> dict[str, Any]:
    """A minimal document holding ``schema`` as component ``S`` (and ``B`` to refer to)."""
    return {"openapi": version, "info": {"title": "T", "version": "1"}, "paths": {},
            "components": {"schemas": {"S": schema, "B": {"type": "string"}}}}


def _convert(schema: Any) -> Any:
    return to_openapi30(_wrap(schema))["components"]["schemas"]["S"]


def _walk(node: Any) -> Any:
    yield node
    if isinstance(node, dict):
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def test_the_media_type() -> None:
    assert OPENAPI30_MEDIA_TYPE == "application/vnd.oai.openapi+json;version=3.0"


def test_the_service_document_validates_as_openapi_30(document: dict[str, Any]) -> None:
    converted = to_openapi30(document)
    assert converted["openapi"] == "3.0.3"
    validate(converted, cls=OpenAPIV30SpecValidator)
    validate(converted)  # detected from the version field
    assert converted["paths"].keys() == document["paths"].keys()
    assert converted["components"]["schemas"].keys() == document["components"]["schemas"].keys()
    schemas = [node for node in _walk(converted["components"]) if isinstance(node, dict)]
    assert not [s for s in schemas if isinstance(s.get("type"), list) or s.get("type") == "null"]
    assert not [s for s in schemas if {"const", "$defs", "patternProperties"} & s.keys()]
    assert any(s.get("nullable") is True for s in schemas)


def test_the_unconverted_document_is_not_valid_openapi_30(document: dict[str, Any]) -> None:
    validate(document, cls=OpenAPIV31SpecValidator)  # FastAPI's document is valid 3.1 ...
    relabelled = {**document, "openapi": "3.0.3"}
    with pytest.raises(OpenAPIValidationError):  # ... but not 3.0 by relabelling it
        validate(relabelled, cls=OpenAPIV30SpecValidator)
    assert len(list(OpenAPIV30SpecValidator(relabelled).iter_errors())) > 10


def test_the_input_is_neither_modified_nor_shared(document: dict[str, Any]) -> None:
    before = copy.deepcopy(document)
    converted = to_openapi30(document)
    assert document == before
    inner = {id(node) for node in _walk(document) if isinstance(node, dict | list)}
    assert not [node for node in _walk(converted)
                if isinstance(node, dict | list) and id(node) in inner]


# (3.1 schema in, 3.0 schema out, whether the input is itself invalid as 3.0)
CASES: dict[str, tuple[Any, Any, bool]] = {
    "type list with null": (
        {"type": ["string", "null"], "maxLength": 5},
        {"type": "string", "maxLength": 5, "nullable": True}, True),
    "anyOf inline and null": (
        {"anyOf": [{"type": "integer", "minimum": 1}, {"type": "null"}], "title": "N",
         "default": None},
        {"type": "integer", "minimum": 1, "title": "N", "default": None, "nullable": True}, True),
    "anyOf reference and null": (
        {"anyOf": [B_REF, {"type": "null"}], "description": "d"},
        {"description": "d", "allOf": [B_REF], "nullable": True}, True),
    "oneOf two types and null": (
        {"oneOf": [{"type": "string"}, {"type": "integer"}, {"type": "null"}]},
        {"oneOf": [{"type": "string"}, {"type": "integer"}], "nullable": True}, True),
    "nullable enum gets null": (
        {"anyOf": [{"enum": ["a", "b"], "type": "string"}, {"type": "null"}]},
        {"enum": ["a", "b", None], "type": "string", "nullable": True}, True),
    "const": (
        {"type": "string", "const": "Point"}, {"type": "string", "enum": ["Point"]}, True),
    "examples list": (
        {"type": "string", "examples": ["14713", "14729"]},
        {"type": "string", "example": "14713"}, True),
    "numeric exclusiveMinimum": (
        {"type": "number", "exclusiveMinimum": 0, "maximum": 100},
        {"type": "number", "minimum": 0, "exclusiveMinimum": True, "maximum": 100}, True),
    "exclusiveMaximum tighter than maximum": (
        {"type": "integer", "maximum": 10, "exclusiveMaximum": 5},
        {"type": "integer", "maximum": 5, "exclusiveMaximum": True}, True),
    "exclusiveMinimum looser than minimum": (
        {"type": "number", "minimum": 5, "exclusiveMinimum": 1},
        {"type": "number", "minimum": 5}, True),
    "contentMediaType": (
        {"type": "string", "contentMediaType": "application/octet-stream"},
        {"type": "string", "format": "binary"}, True),
    "contentEncoding base64": (
        {"type": "string", "contentEncoding": "base64", "contentMediaType": "image/png"},
        {"type": "string", "format": "byte"}, True),
    "prefixItems of one type": (
        {"type": "array", "prefixItems": [{"type": "number"}, {"type": "number"}],
         "minItems": 2, "maxItems": 2},
        {"type": "array", "minItems": 2, "maxItems": 2, "items": {"type": "number"}}, True),
    "closed tuple of two types": (
        {"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}],
         "items": False},
        {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
         "maxItems": 2}, True),
    "reference with siblings": (
        {"$ref": "#/components/schemas/B", "description": "d"},
        {"description": "d", "allOf": [B_REF]}, False),  # valid 3.0, but the sibling is ignored
    "several types": (
        {"type": ["string", "integer"]},
        {"anyOf": [{"type": "string"}, {"type": "integer"}]}, True),
    "only null": (
        {"type": "null", "title": "Nothing"},
        {"title": "Nothing", "enum": [None], "nullable": True}, True),
    "boolean schemas": (
        {"type": "object", "properties": {"a": True, "b": False}},
        {"type": "object", "properties": {"a": {}, "b": {"not": {}}}}, True),
    "array without items": (
        {"type": "array", "maxItems": 3}, {"type": "array", "maxItems": 3, "items": {}}, False),
    "keywords 3.0 lacks": (
        {"type": "object", "propertyNames": {"maxLength": 3}, "$comment": "c",
         "if": {"required": ["a"]}, "then": {"required": ["b"]}, "unevaluatedProperties": False,
         "x-extra": [1]},
        {"type": "object", "x-extra": [1]}, True),
    "patternProperties": (
        {"type": "object", "patternProperties": {"^[0-9]{5}$": {"type": "number"}}},
        {"type": "object", "additionalProperties": {"type": "number"}}, True),
    "nested in items and properties": (
        {"type": "object", "properties": {
            "list": {"type": "array", "items": {"type": ["integer", "null"]}},
            "examples": {"type": "string"}, "const": {"const": 1}}},
        {"type": "object", "properties": {
            "list": {"type": "array", "items": {"type": "integer", "nullable": True}},
            "examples": {"type": "string"}, "const": {"enum": [1]}}}, True),
    "discriminated union": (
        {"oneOf": [B_REF], "discriminator": {"propertyName": "kind",
                                             "mapping": {"b": "#/components/schemas/B"}}},
        {"oneOf": [B_REF], "discriminator": {"propertyName": "kind",
                                             "mapping": {"b": "#/components/schemas/B"}}},
        False),
}


@pytest.mark.parametrize("name", CASES)
def test_each_schema_rule(name: str) -> None:
    given, expected, invalid_as_30 = CASES[name]
    assert _convert(given) == expected
    assert json.dumps(_convert(given)) == json.dumps(_convert(given))  # deterministic
    validate(to_openapi30(_wrap(given)), cls=OpenAPIV30SpecValidator)
    if invalid_as_30:
        with pytest.raises(OpenAPIValidationError):
            validate(_wrap(given, "3.0.3"), cls=OpenAPIV30SpecValidator)


def test_defs_move_to_the_components_and_references_follow() -> None:
    source = _wrap({"type": "object", "properties": {
        "b": {"$ref": "#/$defs/B"}, "c": {"$ref": "#/$defs/C"}},
        "$defs": {"B": {"type": ["string", "null"]}, "C": {"type": "integer"}}})
    source["components"]["schemas"]["D"] = {
        "type": "array", "items": {"$ref": "#/components/schemas/S/$defs/C"}}
    converted = to_openapi30(source)
    schemas = converted["components"]["schemas"]
    assert schemas["S"] == {"type": "object", "properties": {
        "b": {"$ref": "#/components/schemas/B_2"}, "c": {"$ref": "#/components/schemas/C"}}}
    assert schemas["B"] == {"type": "string"}  # the existing, different B is kept
    assert schemas["B_2"] == {"type": "string", "nullable": True}
    assert schemas["C"] == {"type": "integer"}
    assert schemas["D"] == {"type": "array", "items": {"$ref": "#/components/schemas/C"}}
    validate(converted, cls=OpenAPIV30SpecValidator)


def test_document_level_rules() -> None:
    parameter_examples = {"one": {"summary": "Eins", "value": "14713"}}
    source = {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "info": {"title": "T", "version": "1", "summary": "kurz",
                 "license": {"name": "MIT", "identifier": "MIT"}},
        "webhooks": {"ping": {"post": {"responses": {"200": {"description": "ok"}}}}},
        "paths": {
            "/a/{id}": {
                "get": {
                    "parameters": [
                        {"name": "id", "in": "path", "required": True,
                         "schema": {"type": "string", "examples": ["x"]},
                         "examples": parameter_examples},
                        {"$ref": "#/components/parameters/P", "description": "sibling"}],
                    "responses": {
                        "200": {"description": "ok", "content": {"application/json": {
                            "schema": {"type": ["object", "null"]},
                            "examples": {"e": {"value": {"type": "null"}}}}}},
                        "x-note": {"type": ["kept", "as is"]}}}},
            "/b": {"$ref": "#/components/pathItems/B"},
            "x-paths-note": {"const": 1}},
        "components": {
            "parameters": {"P": {"name": "p", "in": "query",
                                 "schema": {"anyOf": [{"type": "integer"}, {"type": "null"}]}}},
            "pathItems": {"B": {"get": {"responses": {"204": {"description": "leer"}}}}},
            "securitySchemes": {"tls": {"type": "mutualTLS"},
                                "key": {"type": "apiKey", "in": "header", "name": "X-Key"}}}}
    before = copy.deepcopy(source)
    converted = to_openapi30(source)
    assert source == before
    assert converted == {
        "openapi": "3.0.3",
        "info": {"title": "T", "version": "1",
                 "license": {"name": "MIT", "url": "https://spdx.org/licenses/MIT.html"}},
        "paths": {
            "/a/{id}": {
                "get": {
                    "parameters": [
                        {"name": "id", "in": "path", "required": True,
                         "schema": {"type": "string", "example": "x"},
                         "examples": parameter_examples},
                        {"$ref": "#/components/parameters/P"}],
                    "responses": {
                        "200": {"description": "ok", "content": {"application/json": {
                            "schema": {"type": "object", "nullable": True},
                            "examples": {"e": {"value": {"type": "null"}}}}}},
                        "x-note": {"type": ["kept", "as is"]}}}},
            "/b": {"get": {"responses": {"204": {"description": "leer"}}}},
            "x-paths-note": {"const": 1}},
        "components": {
            "parameters": {"P": {"name": "p", "in": "query",
                                 "schema": {"type": "integer", "nullable": True}}},
            "securitySchemes": {"key": {"type": "apiKey", "in": "header", "name": "X-Key"}}}}
    validate(converted, cls=OpenAPIV30SpecValidator)
    with pytest.raises(OpenAPIValidationError):
        validate({**source, "openapi": "3.0.3"}, cls=OpenAPIV30SpecValidator)
