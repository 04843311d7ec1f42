"""The request body limit over real HTTP: with a Content-Length and sent chunked (no length)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, text

from app.settings import Settings

LIMIT = Settings.model_fields["max_body_bytes"].default
SQUARE = {"type": "Polygon", "coordinates": [[
    [12.310, 51.310], [12.314, 51.310], [12.314, 51.3125], [12.310, 51.3125], [12.310, 51.310]]]}


@pytest.fixture(scope="module")
def site_id(engine: Engine, demo_loaded: dict[str, int]) -> int:
    """A test site in Leipzig (committed; the database is throwaway)."""
    with engine.begin() as conn:
        return int(conn.execute(text(
            "INSERT INTO sites (name, municipality_ags) VALUES ('Testgebiet Limits', '14713000') "
            "RETURNING id")).scalar_one())


@pytest.fixture(scope="module")
def url(service_url: str) -> str:
    return service_url + "/api/v1/parcels"


@pytest.fixture(scope="module")
def headers(api_keys: dict[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_keys['admin']}", "Content-Type": "application/json"}


def _valid(site_id: int, **extra: Any) -> dict[str, Any]:
    return {"site_id": site_id, "geometry": SQUARE, "category": "erweiterungsflaeche",
            "user_groups": ["handwerk_gewerbe"], "servicing": "erschlossen", **extra}


def _oversized(site_id: int) -> bytes:
    """A body that would create a parcel but for its size: valid JSON padded with whitespace."""
    body = json.dumps(_valid(site_id)).encode()
    return body[:-1] + b" " * (LIMIT + 1000) + b"}"


def _chunked(body: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    """A generator, so httpx sends the body with Transfer-Encoding: chunked and no length."""
    for start in range(0, len(body), size):
        yield body[start:start + size]


def _parcels(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM parcels")).scalar_one())


def _assert_too_large(response: httpx.Response) -> None:
    assert response.status_code == 413, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 413
    assert problem["errors"][0]["field"] == "body"


def test_padding_alone_is_accepted(url: str, headers: dict[str, str], site_id: int) -> None:
    """Control: whitespace padding below the limit is fine, so only the size is refused below."""
    body = json.dumps(_valid(site_id)).encode()
    response = httpx.post(url, content=body[:-1] + b" " * 1000 + b"}", headers=headers)
    assert response.status_code == 201, response.text


def test_content_length_over_limit_is_413_and_writes_nothing(url: str, headers: dict[str, str],
                                                             site_id: int, engine: Engine) -> None:
    body = _oversized(site_id)
    before = _parcels(engine)
    response = httpx.post(url, content=body, headers=headers)
    assert response.request.headers["content-length"] == str(len(body))
    _assert_too_large(response)
    assert _parcels(engine) == before


def test_chunked_over_limit_is_413_and_writes_nothing(url: str, headers: dict[str, str],
                                                      site_id: int, engine: Engine) -> None:
    before = _parcels(engine)
    response = httpx.post(url, content=_chunked(_oversized(site_id)), headers=headers)
    assert "content-length" not in response.request.headers
    assert response.request.headers["transfer-encoding"] == "chunked"
    _assert_too_large(response)
    assert _parcels(engine) == before


def test_small_chunked_body_reaches_the_app(url: str, headers: dict[str, str], site_id: int,
                                            engine: Engine) -> None:
    invalid = json.dumps(_valid(site_id, category="acker")).encode()
    response = httpx.post(url, content=_chunked(invalid, size=16), headers=headers)
    assert "content-length" not in response.request.headers
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == "category"

    before = _parcels(engine)
    valid = json.dumps(_valid(site_id, internal_notes="ü" * 100)).encode()
    response = httpx.post(url, content=_chunked(valid, size=7), headers=headers)
    assert response.status_code == 201, response.text
    assert response.json()["internal_notes"] == "ü" * 100
    assert _parcels(engine) == before + 1
