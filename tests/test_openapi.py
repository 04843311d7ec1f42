"""The OpenAPI document describes every endpoint, parameter and error response."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.resource_client import Client

METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture(scope="module")
def spec(api: FastAPI) -> dict[str, Any]:
    """The document the service serves at ``/openapi.json`` (built once per app)."""
    return api.openapi()


def test_the_document_is_served(http: httpx.Client, spec: dict[str, Any]) -> None:
    response = http.get("/openapi.json")
    assert response.status_code == 200
    assert response.json() == spec


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method, op) for path, item in spec["paths"].items()
            for method, op in item.items() if method in METHODS]


def test_registry_endpoints_are_documented(spec: dict[str, Any]) -> None:
    paths = set(spec["paths"])
    for expected in ("/api/v1/parcels", "/api/v1/parcels/{parcel_id}",
                     "/api/v1/parcels/{parcel_id}/history", "/api/v1/parcels/{parcel_id}/withdraw",
                     "/api/v1/parcels/{parcel_id}/verify", "/api/v1/parcels/{parcel_id}/sell",
                     "/api/v1/freshness", "/api/v1/vocabularies", "/health"):
        assert expected in paths, expected


def test_every_operation_has_a_summary_and_documents_errors(spec: dict[str, Any]) -> None:
    for path, method, op in _operations(spec):
        if path.startswith("/docs") or path == "/openapi.json":
            continue
        assert op.get("summary"), f"{method.upper()} {path} has no summary"
        assert op.get("description"), f"{method.upper()} {path} has no description"
        codes = {int(code) for code in op["responses"] if code.isdigit()}
        if path != "/health" and not path.startswith("/api/v1/vocabularies"):
            assert any(400 <= c < 500 for c in codes), f"{method.upper()} {path}: no 4xx documented"
        for code in codes - {200, 201, 202, 204, 304}:
            content = op["responses"][str(code)].get("content", {})
            assert "application/problem+json" in content or code == 422, (path, method, code)


def test_every_parameter_is_described(spec: dict[str, Any]) -> None:
    for path, method, op in _operations(spec):
        for parameter in op.get("parameters", []):
            assert parameter.get("description"), f"{method.upper()} {path}: {parameter['name']} undescribed"


def test_bearer_security_scheme_is_declared(spec: dict[str, Any]) -> None:
    schemes = spec["components"]["securitySchemes"]
    assert any(s.get("type") == "http" and s.get("scheme") == "bearer" for s in schemes.values())


# --- the document tells the truth -------------------------------------------------------

#: Operations anybody may call; a key (optional) widens what they show.
PUBLIC_OPERATIONS = {
    ("get", "/api/v1/parcels"), ("get", "/api/v1/parcels/{parcel_id}"),
    ("get", "/api/v1/sites"), ("get", "/api/v1/sites/{site_id}"),
    ("get", "/api/v1/districts"), ("get", "/api/v1/districts/{ags}"),
    ("get", "/api/v1/municipalities"), ("get", "/api/v1/municipalities/{ags}"),
    ("post", "/api/v1/matches"),
    ("get", "/api/v1/parcels/summary"), ("get", "/api/v1/balance"),
    ("get", "/api/v1/frameworks"), ("get", "/api/v1/frameworks/{framework_id}"),
    ("get", "/api/v1/sites/{site_id}/profile"), ("get", "/api/v1/reports/portfolio"),
    ("get", "/collections"), ("get", "/collections/{collection_id}"),
    ("get", "/collections/{collection_id}/queryables"),
    ("get", "/collections/{collection_id}/sortables"),
    ("get", "/collections/parcels/items"), ("get", "/collections/{collection_id}/items"),
    ("get", "/collections/{collection_id}/items/{feature_id}"),
    ("get", "/layers/parcels.geojson"), ("get", "/layers/{name}"),
    ("get", "/collections/parcels/tiles/{tile_matrix_set_id}/{tile_matrix}/{tile_row}/"
            "{tile_col}"),
    ("get", "/collections/{collection_id}/tiles/{tile_matrix_set_id}/{tile_matrix}/"
            "{tile_row}/{tile_col}"),
    ("get", "/collections/parcels/tiles/{tile_matrix_set_id}/tilejson.json"),
    ("get", "/collections/{collection_id}/tiles/{tile_matrix_set_id}/tilejson.json"),
    ("get", "/collections/{collection_id}/tiles"),
    ("get", "/collections/{collection_id}/tiles/{tile_matrix_set_id}"),
    ("get", "/styles/gefis"), ("get", "/api/v1/exports/{name}"),
    ("get", "/api/v1/raster/net-area.tif"), ("get", "/api/v1/imports/templates/{template}"),
    ("get", "/karte"), ("get", "/api/v1/me"),
}


#: Path values of a tile (the whole world at zoom 0).
TILE_PATH = {"tile_matrix_set_id": "WebMercatorQuad", "tile_matrix": 0, "tile_row": 0,
             "tile_col": 0}


def test_public_operations_declare_the_key_optional_and_answer_without_one(
        spec: dict[str, Any], http: httpx.Client) -> None:
    for path, method, op in _operations(spec):
        security = op.get("security")
        if (method, path) in PUBLIC_OPERATIONS:
            assert security is not None and {} in security and {"ApiKey": []} in security, (
                method, path, security)
        elif security is not None:
            assert security == [{"ApiKey": []}], (method, path, security)
    for method, path in PUBLIC_OPERATIONS:
        url = path.format(parcel_id=1, site_id=1, ags="14713", framework_id=1,
                          collection_id="sites", feature_id=1, name="sites.geojson",
                          template="parcels.csv",
                          **TILE_PATH).replace(
            "municipalities/14713", "municipalities/14713000")
        response = (http.get(url) if method == "get" else
                    http.post(url, json={"net_area_min_ha": 1, "user_group": "logistik"}))
        assert response.status_code in (200, 204, 404), (method, path, response.text)


def test_405_allows_every_documented_method_of_the_path(spec: dict[str, Any],
                                                         http: httpx.Client) -> None:
    for path, item in spec["paths"].items():
        documented = {m.upper() for m in item if m in METHODS}
        concrete = path.format(parcel_id=1, site_id=1, sale_id=1, enquiry_id=1, ags="14713",
                               name="zoning", framework_id=1, collection_id="sites",
                               feature_id=1, import_id=1, template="parcels.csv",
                               **TILE_PATH)
        response = http.request("TRACE" if "DELETE" in documented else "DELETE", concrete)
        assert response.status_code == 405, (path, response.status_code)
        allowed = {m.strip() for m in response.headers["allow"].split(",")}
        # /parcels/summary also matches the template /parcels/{parcel_id}, whose PATCH
        # (the parcel edit) the router offers for it too, answering 422 for the id
        expected = documented | ({"PATCH"} if path == "/api/v1/parcels/summary" else set())
        assert allowed == expected, path


def _parameter(spec: dict[str, Any], method: str, path: str, name: str) -> dict[str, Any]:
    operation = spec["paths"][path][method]
    schema: dict[str, Any] = next(
        p["schema"] for p in operation["parameters"] if p["name"] == name)
    # Optional parameters are documented as anyOf [<schema>, null].
    return next((s for s in schema.get("anyOf", [schema]) if s.get("type") != "null"), schema)


def _property(spec: dict[str, Any], model: str, name: str) -> dict[str, Any]:
    schema: dict[str, Any] = spec["components"]["schemas"][model]["properties"][name]
    return next((s for s in schema.get("anyOf", [schema]) if s.get("type") != "null"), schema)


def test_codes_are_enums_in_parameters_and_bodies(spec: dict[str, Any]) -> None:
    from app.domain import vocab

    parcels = ("get", "/api/v1/parcels")
    for name, vocabulary in (("user_group", vocab.USER_GROUP), ("zoning", vocab.ZONING),
                             ("category", vocab.CATEGORY), ("availability", vocab.AVAILABILITY),
                             ("marketing_status", vocab.MARKETING_STATUS),
                             ("exclude_causes", vocab.RESTRICTION_CAUSE)):
        items = _parameter(spec, *parcels, name)["items"]
        assert items["enum"] == list(vocabulary.codes), name
    assert _parameter(spec, *parcels, "restriction_max")["enum"] == list(vocab.RESTRICTION_RANK)
    assert (_parameter(spec, "get", "/api/v1/enquiries", "outcome")["items"]["enum"]
            == list(vocab.ENQUIRY_OUTCOME.codes))
    for model, name, vocabulary in (("ParcelCreate", "category", vocab.CATEGORY),
                                    ("ParcelPatch", "servicing", vocab.SERVICING),
                                    ("LandSaleCreate", "buyer_origin", vocab.BUYER_ORIGIN),
                                    ("EnquiryCreate", "outcome", vocab.ENQUIRY_OUTCOME),
                                    ("MatchRequest", "user_group", vocab.USER_GROUP)):
        assert _property(spec, model, name)["enum"] == list(vocabulary.codes), (model, name)
    assert (_property(spec, "ParcelCreate", "user_groups")["items"]["enum"]
            == list(vocab.USER_GROUP.codes))


def test_crs_sort_and_cursor_parameters_say_what_they_accept(spec: dict[str, Any]) -> None:
    parcels = ("get", "/api/v1/parcels")
    assert "EPSG:25833" in _parameter(spec, *parcels, "crs")["enum"]
    assert "EPSG:3857" in _parameter(spec, *parcels, "bbox-crs")["enum"]
    assert "EPSG:3857" not in _parameter(spec, "post", "/api/v1/parcels", "crs")["enum"]
    sort = re.compile(_parameter(spec, *parcels, "sort")["pattern"])
    assert sort.fullmatch("-net_area_ha") and sort.fullmatch("price_eur_m2")
    assert not sort.fullmatch("name") and not sort.fullmatch("--id")
    assert _parameter(spec, "get", "/api/v1/land-sales", "sort")["enum"] == [
        "sale_date", "-sale_date", "id", "-id"]
    for path in ("/api/v1/parcels", "/api/v1/sites", "/api/v1/land-sales", "/api/v1/enquiries"):
        assert _parameter(spec, "get", path, "cursor")["pattern"].startswith("^[A-Za-z0-9_-]")


@pytest.mark.parametrize(("path", "params"), [
    # Pydantic's lax mode read a number as Unix time: 0 and 86400 were 1970-01-01 and -02.
    ("/api/v1/land-sales", {"to": "0"}), ("/api/v1/land-sales", {"from": "86400"}),
    ("/api/v1/enquiries", {"received_from": "86400"}), ("/api/v1/parcels", {"available_by": "0"}),
    ("/api/v1/parcels/1/history", {"at": "0"}),
])
def test_dates_are_iso_8601_text_only(clients: dict[str, Client], path: str,
                                      params: dict[str, str]) -> None:
    analyst = clients["analyst"]
    response = analyst.http.get(path, params=params, headers=analyst.headers)
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == list(params)


def test_dates_in_bodies_are_iso_8601_text_only(http: httpx.Client) -> None:
    response = http.post("/api/v1/matches", json={
        "net_area_min_ha": 1, "user_group": "logistik", "needed_by": 0})
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["needed_by"]


def test_matches_documents_its_400(spec: dict[str, Any], http: httpx.Client) -> None:
    assert "400" in spec["paths"]["/api/v1/matches"]["post"]["responses"]
    unreadable = http.post("/api/v1/matches", content=b"{\"a\": \"\xff\"}",
                           headers={"Content-Type": "application/json"})
    assert unreadable.status_code == 400
    assert unreadable.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(("model", "field"), [
    ("ParcelPatch", "category"), ("ParcelPatch", "user_groups"), ("ParcelPatch", "rail_siding"),
    ("ParcelCreate", "availability"), ("LandSalePatch", "area_ha"),
    ("EnquiryPatch", "requirements"), ("SitePatch", "name"),
])
def test_fields_that_cannot_be_cleared_are_not_nullable(spec: dict[str, Any], model: str,
                                                        field: str) -> None:
    schema = spec["components"]["schemas"][model]["properties"][field]
    variants = schema.get("anyOf", [schema])
    assert all(v.get("type") != "null" for v in variants), (model, field, schema)


def test_null_for_a_not_null_column_names_the_field(clients: dict[str, Client]) -> None:
    admin = clients["admin"]
    parcel = admin.get("/parcels/1")
    response = admin.patch("/parcels/1", {"category": None}, parcel.headers["ETag"])
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["category"]
    assert "null value in column" not in response.text
