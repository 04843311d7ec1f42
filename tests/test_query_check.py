"""Unknown query parameters: a 400 problem that names each and suggests the filter meant.

Most tests run the app in-process on a database that cannot be reached: the check must answer
before authentication and before any connection is taken, so they need no database (and a
request that got past the check would answer 503, not 400). The rest use the session's
throwaway database.
"""

from __future__ import annotations

import doctest
import socket
import warnings
from collections.abc import Iterator
from typing import Annotated, Any

import pytest
from fastapi import APIRouter, Depends, FastAPI, Query
from pydantic import BaseModel, Field

import app.api.query_check as query_check
from app.api.problems import register_problem_handlers
from app.api.query_check import QueryParameterCheck, route_query_parameters
from app.main import create_app
from app.settings import Settings

with warnings.catch_warnings():  # Starlette would prefer httpx2; httpx is what we have
    warnings.filterwarnings("ignore", message=".*httpx2.*")
    from starlette.testclient import TestClient

PARCELS = "/api/v1/parcels"
METHODS = ("get", "put", "post", "patch", "delete")
#: Looks like a key; checking it would need the database.
BOGUS_KEY = {"Authorization": "Bearer gefis_" + "A" * 43}
PROBLEM = "application/problem+json"


def _unreachable_database_url() -> str:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"postgresql://gefis@127.0.0.1:{port}/gefis"


@pytest.fixture(scope="module")
def offline() -> Iterator[TestClient]:
    """The service on a database that refuses every connection."""
    app = create_app(Settings(database_url=_unreachable_database_url()))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture(scope="module")
def online(database_url: str) -> Iterator[TestClient]:
    """The service on the session's migrated throwaway database (no data needed)."""
    with TestClient(create_app(Settings(database_url=database_url))) as client:
        yield client


@pytest.fixture(scope="module")
def spec(offline: TestClient) -> dict[str, Any]:
    document: dict[str, Any] = offline.get("/openapi.json").json()
    return document


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method, op) for path, item in spec["paths"].items()
            for method, op in item.items() if method in METHODS]


def _published_query_parameters(op: dict[str, Any]) -> set[str]:
    return {p["name"] for p in op.get("parameters", []) if p["in"] == "query"}


def _url(path: str) -> str:
    """A concrete URL of a path template (every path parameter ``1``)."""
    return "/".join("1" if part.startswith("{") else part for part in path.split("/"))


def _errors(response: Any) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = response.json().get("errors", [])
    return errors


def test_the_issue_example_is_a_400_problem_suggesting_the_filter(offline: TestClient) -> None:
    response = offline.get(PARCELS, params={"user_groups": "logistik"})
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["type"].endswith("/bad-request")
    assert body["title"] == "Bad request"
    assert body["status"] == 400
    assert body["instance"] == PARCELS
    assert body["detail"].startswith("Unknown query parameter 'user_groups'. Known: ")
    assert "user_group" in body["detail"]
    assert body["errors"] == [{
        "field": "user_groups",
        "reason": "unknown query parameter; did you mean 'user_group'?",
        "code": "unknown_parameter",
    }]


@pytest.mark.parametrize(("sent", "hint"), [
    # output fields that are no filter, from the explicit table
    ("restriction_causes", "did you mean 'exclude_causes'?"),
    ("net_area_ha", "did you mean 'net_area_min_ha' or 'net_area_max_ha'?"),
    ("distance_junction_km", "did you mean 'max_junction_km'?"),
    ("distance_airport_km", "did you mean 'max_airport_km'?"),
    ("price_eur_m2", "did you mean 'max_price_eur_m2'?"),
    ("district_ags", "did you mean 'district'?"),
    ("municipality_ags", "did you mean 'municipality'?"),
    # the closest name otherwise (case, typos, aliases)
    ("Limit", "did you mean 'limit'?"),
    ("bbox_crs", "did you mean 'bbox-crs'?"),
    ("curser", "did you mean 'cursor'?"),
])
def test_a_suggestion_names_the_filter_meant(offline: TestClient, sent: str, hint: str) -> None:
    response = offline.get(PARCELS, params={sent: "1"})
    assert response.status_code == 400
    assert _errors(response) == [{"field": sent, "reason": f"unknown query parameter; {hint}",
                                  "code": "unknown_parameter"}]


@pytest.mark.parametrize(("path", "sent", "hint"), [
    ("/api/v1/land-sales", "sale_date", "did you mean 'from' or 'to'?"),
    ("/api/v1/enquiries", "received_on", "did you mean 'received_from' or 'received_to'?"),
    ("/api/v1/enquiries", "user_groups", "did you mean 'user_group'?"),
])
def test_other_routes_suggest_their_own_filters(offline: TestClient, path: str, sent: str,
                                                hint: str) -> None:
    response = offline.get(path, params={sent: "1"})
    assert _errors(response) == [{"field": sent, "reason": f"unknown query parameter; {hint}",
                                  "code": "unknown_parameter"}]


def test_a_table_entry_only_suggests_filters_the_route_has(offline: TestClient) -> None:
    # /sites has no restriction filter: no suggestion rather than a wrong one
    response = offline.get("/api/v1/sites", params={"restriction_level": "gering",
                                                     "district_ags": "14713"})
    assert _errors(response) == [
        {"field": "restriction_level", "reason": "unknown query parameter",
         "code": "unknown_parameter"},
        {"field": "district_ags", "reason": "unknown query parameter; did you mean 'district'?",
         "code": "unknown_parameter"},
    ]


def test_every_unknown_parameter_is_named_once_in_order(offline: TestClient) -> None:
    response = offline.get(PARCELS + "?zzz=1&user_groups=a&limit=5&qqqqqqqq=2&zzz=3&bbox-crs=x")
    assert response.status_code == 400
    assert [(e["field"], e["reason"]) for e in _errors(response)] == [
        ("zzz", "unknown query parameter"),
        ("user_groups", "unknown query parameter; did you mean 'user_group'?"),
        ("qqqqqqqq", "unknown query parameter"),
    ]
    assert response.json()["detail"].startswith(
        "Unknown query parameters 'zzz', 'user_groups', 'qqqqqqqq'. Known: ")


def test_endpoints_without_query_parameters_refuse_any(offline: TestClient) -> None:
    for path in ("/health", "/api/v1/vocabularies"):
        response = offline.get(path, params={"verbose": "1"})
        assert response.status_code == 400, path
        assert response.json()["detail"] == (
            "Unknown query parameter 'verbose'. This endpoint takes no query parameters.")
        assert _errors(response) == [{
            "field": "verbose", "code": "unknown_parameter",
            "reason": "unknown query parameter; this endpoint takes no query parameters"}]


def test_the_check_comes_before_authentication_and_the_database(offline: TestClient) -> None:
    # Without the unknown parameter the same request checks the key: the database is down.
    assert offline.get(PARCELS, headers=BOGUS_KEY).status_code == 503
    response = offline.get(PARCELS, params={"user_groups": "x"}, headers=BOGUS_KEY)
    assert response.status_code == 400
    assert _errors(response)[0]["code"] == "unknown_parameter"


def test_every_operation_refuses_an_unknown_parameter(offline: TestClient,
                                                      spec: dict[str, Any]) -> None:
    operations = _operations(spec)
    assert len(operations) > 30
    for path, method, op in operations:
        response = offline.request(method.upper(), _url(path), headers=BOGUS_KEY,
                                   params={"no_such_parameter": "1"})
        where = f"{method.upper()} {path}"
        assert response.status_code == 400, (where, response.text)
        assert response.headers["content-type"] == PROBLEM, where
        [error] = _errors(response)
        assert error["field"] == "no_such_parameter", where
        assert error["code"] == "unknown_parameter", where
        if not _published_query_parameters(op):
            assert error["reason"].endswith("takes no query parameters"), where


def test_every_published_parameter_passes_the_check(offline: TestClient,
                                                    spec: dict[str, Any]) -> None:
    for path, method, op in _operations(spec):
        for name in sorted(_published_query_parameters(op)):
            response = offline.request(method.upper(), _url(path), params={name: "1"})
            problems = _errors(response) if response.status_code == 400 else []
            assert all(p["code"] != "unknown_parameter" for p in problems), (path, name)


def test_known_parameters_are_what_the_openapi_document_publishes(
        offline: TestClient, spec: dict[str, Any]) -> None:
    derived = {(method.lower(), entry.path): entry.names
               for entry in route_query_parameters(offline.app)  # type: ignore[arg-type]
               for method in entry.methods}
    published = {(method, path): _published_query_parameters(op)
                 for path, method, op in _operations(spec)}
    assert published.keys() <= derived.keys()  # no operation whose parameters are unknown
    for key, names in published.items():
        assert derived[key] == names, key
    assert {"bbox-crs", "user_group", "limit", "cursor"} <= derived[("get", PARCELS)]


class _Window(BaseModel):
    start: int | None = None
    end_at: int | None = Field(None, alias="end-at")


def _tiny_app() -> FastAPI:
    """A query-parameter model, an alias and a dependency given to ``include_router``."""

    def hint(token_hint: str | None = None) -> None:
        del token_hint

    router = APIRouter()

    @router.get("/window")
    def window(w: Annotated[_Window, Query()],
               plain: Annotated[str | None, Query(alias="plain-name")] = None) -> dict[str, str]:
        return {"ok": "yes"}

    app = FastAPI(dependencies=[Depends(QueryParameterCheck())])
    register_problem_handlers(app)
    app.include_router(router, prefix="/x", dependencies=[Depends(hint)])
    return app


def test_models_aliases_and_included_dependencies_are_known() -> None:
    app = _tiny_app()
    [entry] = route_query_parameters(app)
    assert entry.names == {"start", "end-at", "plain-name", "token_hint"}
    published = _published_query_parameters(app.openapi()["paths"]["/x/window"]["get"])
    assert published == entry.names
    with TestClient(app) as client:
        assert client.get("/x/window?start=1&end-at=2&plain-name=a&token_hint=b").status_code == 200
        refused = client.get("/x/window?end_at=2")
        assert refused.status_code == 400
        assert _errors(refused) == [{"field": "end_at", "code": "unknown_parameter",
                                     "reason": "unknown query parameter; did you mean 'end-at'?"}]


def test_the_routes_parameters_are_collected_once_not_per_request(
        monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    original = query_check.route_query_parameters

    def counting(app: Any) -> Any:
        calls.append(1)
        return original(app)

    monkeypatch.setattr(query_check, "route_query_parameters", counting)
    app = create_app(Settings(database_url=_unreachable_database_url()))
    with TestClient(app) as client:
        for path in (PARCELS, "/health", PARCELS, "/api/v1/sites", PARCELS):
            assert client.get(path, params={"x": "1"}).status_code == 400
    assert len(calls) == 1


def test_docs_and_routing_answers_are_untouched(offline: TestClient) -> None:
    for path in ("/docs", "/redoc", "/openapi.json", "/docs/oauth2-redirect"):
        assert offline.get(path, params={"x": "1"}).status_code == 200, path
    assert offline.get("/no/such/path", params={"x": "1"}).status_code == 404
    wrong_method = offline.delete(PARCELS, params={"x": "1"})
    assert wrong_method.status_code == 405
    assert wrong_method.headers["allow"] == "GET, POST"


def test_openapi_documents_the_400_and_no_parameter_of_the_check(spec: dict[str, Any]) -> None:
    for path, method, op in _operations(spec):
        assert PROBLEM in op["responses"].get("400", {}).get("content", {}), (method, path)
    # The check itself publishes nothing: /health still has neither parameters nor a body.
    health = spec["paths"]["/health"]["get"]
    assert "parameters" not in health and "requestBody" not in health
    # A route's own 400 description wins over the app-wide one.
    assert spec["paths"][PARCELS]["get"]["responses"]["400"]["description"] == (
        "Malformed request")


def test_known_filters_reach_the_handler(online: TestClient, spec: dict[str, Any]) -> None:
    [user_group] = [p for p in spec["paths"][PARCELS]["get"]["parameters"]
                    if p["name"] == "user_group"]
    code = user_group["schema"]["anyOf"][0]["items"]["enum"][0]
    response = online.get(PARCELS, params={"user_group": code, "bbox": "11,51,13,52",
                                           "bbox-crs": "CRS84", "limit": "3"})
    assert response.status_code == 200, response.text
    assert online.get(PARCELS, params={"user_groups": code}).status_code == 400


def test_doctests() -> None:
    result = doctest.testmod(query_check)
    assert result.attempted > 0
    assert result.failed == 0
