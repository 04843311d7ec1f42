"""The service over HTTP (in-process): health, OpenAPI docs, vocabularies, problem+json."""

from __future__ import annotations

import httpx
from sqlalchemy import Connection, text

from app.db.status import migration_head
from app.domain.vocab import VOCABULARIES


def test_health_reports_postgis_and_migration_head(http: httpx.Client) -> None:
    response = http.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["postgis_version"].startswith("3.")
    assert body["migration"] == {"database": migration_head(), "head": migration_head(),
                                 "up_to_date": True}
    assert body["load"]["in_flight"] == 0 and body["load"]["saturated"] is False


def test_health_is_503_on_an_unmigrated_database(http: httpx.Client, conn: Connection) -> None:
    """No ``alembic_version`` table: what ``/health`` sees on a database nobody migrated
    (dropped inside the test's transaction, which is rolled back)."""
    conn.execute(text("DROP TABLE alembic_version"))
    response = http.get("/health")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    detail = response.json()["detail"]
    assert "revision None" in detail and migration_head() in detail and "migrate" in detail


def test_health_is_503_on_a_database_behind_the_code(http: httpx.Client, conn: Connection) -> None:
    conn.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    response = http.get("/health")
    assert response.status_code == 503
    assert "revision 0001" in response.json()["detail"]


def test_openapi_docs_are_served(http: httpx.Client) -> None:
    assert http.get("/docs").status_code == 200
    spec = http.get("/openapi.json").json()
    assert "/health" in spec["paths"]
    assert "/api/v1/vocabularies" in spec["paths"]


def test_vocabularies_list_every_code_with_german_label(http: httpx.Client) -> None:
    body = http.get("/api/v1/vocabularies").json()
    assert set(body) == set(VOCABULARIES)
    availability = body["availability"]
    assert availability["ordered"] is True
    assert [t["code"] for t in availability["terms"]] == [
        "sofort", "kurzfristig", "mittelfristig", "langfristig", "unbekannt"]
    restriction = {t["code"]: t["label"] for t in body["restriction_level"]["terms"]}
    assert restriction["erhoeht"] == "erhöht"


def test_unknown_vocabulary_is_a_problem_document(http: httpx.Client) -> None:
    response = http.get("/api/v1/vocabularies/farben")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 404 and "farben" in body["detail"]


def test_unknown_path_is_a_problem_document(http: httpx.Client) -> None:
    response = http.get("/gibt-es-nicht")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
