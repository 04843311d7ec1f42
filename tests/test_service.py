"""The running service over real HTTP: health, OpenAPI docs, vocabularies, problem+json."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from app.db.status import migration_head
from app.domain.vocab import VOCABULARIES
from tests.conftest import create_scratch_database, drop_scratch_database
from tests.server import running_service


@pytest.fixture(scope="module")
def base_url(database_url: str) -> Iterator[str]:
    with running_service(database_url) as url:
        yield url


def test_health_reports_postgis_and_migration_head(base_url: str) -> None:
    response = httpx.get(base_url + "/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["postgis_version"].startswith("3.")
    assert body["migration"] == {"database": migration_head(), "head": migration_head(),
                                 "up_to_date": True}


def test_health_is_503_on_an_unmigrated_database() -> None:
    url = create_scratch_database("gefis_unmigrated")
    try:
        with running_service(url) as base:
            response = httpx.get(base + "/health")
    finally:
        drop_scratch_database(url)
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert "migrate" in response.json()["detail"]


def test_openapi_docs_are_served(base_url: str) -> None:
    assert httpx.get(base_url + "/docs").status_code == 200
    spec = httpx.get(base_url + "/openapi.json").json()
    assert "/health" in spec["paths"]
    assert "/api/v1/vocabularies" in spec["paths"]


def test_vocabularies_list_every_code_with_german_label(base_url: str) -> None:
    body = httpx.get(base_url + "/api/v1/vocabularies").json()
    assert set(body) == set(VOCABULARIES)
    availability = body["availability"]
    assert availability["ordered"] is True
    assert [t["code"] for t in availability["terms"]] == [
        "sofort", "kurzfristig", "mittelfristig", "langfristig", "unbekannt"]
    restriction = {t["code"]: t["label"] for t in body["restriction_level"]["terms"]}
    assert restriction["erhoeht"] == "erhöht"


def test_unknown_vocabulary_is_a_problem_document(base_url: str) -> None:
    response = httpx.get(base_url + "/api/v1/vocabularies/farben")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 404 and "farben" in body["detail"]


def test_unknown_path_is_a_problem_document(base_url: str) -> None:
    response = httpx.get(base_url + "/gibt-es-nicht")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
