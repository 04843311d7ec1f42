"""The OpenAPI document describes every endpoint, parameter and error response."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture(scope="module")
def spec(service_url: str) -> dict[str, Any]:
    response = httpx.get(service_url + "/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


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
        for code in codes - {200, 201, 204, 304}:
            content = op["responses"][str(code)].get("content", {})
            assert "application/problem+json" in content or code == 422, (path, method, code)


def test_every_parameter_is_described(spec: dict[str, Any]) -> None:
    for path, method, op in _operations(spec):
        for parameter in op.get("parameters", []):
            assert parameter.get("description"), f"{method.upper()} {path}: {parameter['name']} undescribed"


def test_bearer_security_scheme_is_declared(spec: dict[str, Any]) -> None:
    schemes = spec["components"]["securitySchemes"]
    assert any(s.get("type") == "http" and s.get("scheme") == "bearer" for s in schemes.values())
