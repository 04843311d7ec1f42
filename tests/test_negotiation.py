"""Content negotiation by ``Accept`` with q-values (RFC 9110 §12.5.1); 406 as a problem."""

from __future__ import annotations

import doctest
import time
import warnings

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse

import app.api.negotiation as negotiation
from app.api.negotiation import (
    accept_header,
    negotiate,
    parse_accept,
    require_acceptable,
    weight_of,
)
from app.api.problems import register_problem_handlers

with warnings.catch_warnings():  # Starlette would prefer httpx2; httpx is what we have
    warnings.filterwarnings("ignore", message=".*httpx2.*")
    from starlette.testclient import TestClient

JSON = "application/json"
GEOJSON = "application/geo+json"
OFFERS = [JSON, GEOJSON]


@pytest.mark.parametrize(("accept", "expected"), [
    # the examples of the brief
    ("application/json;q=0.5, application/geo+json", GEOJSON),
    ("application/geo+json;q=0, */*", JSON),
    ("text/html", None),
    # no preference: the default
    (None, JSON),
    ("", JSON),
    ("   ", JSON),
    # ranges and their specificity, whatever the order in the header
    ("*/*", JSON),
    ("*", JSON),
    ("application/*", JSON),
    ("*/*;q=0.1, application/geo+json", GEOJSON),
    ("application/*;q=0.5, application/geo+json;q=0.4", JSON),
    ("application/geo+json;q=0.4, application/*;q=0.5", JSON),
    ("application/json;q=0, application/*", GEOJSON),
    ("application/json;q=0, */*;q=0.1", GEOJSON),
    ("text/*, application/geo+json;q=0.001", GEOJSON),
    # q=0 is "not acceptable"; so is a type no range names
    ("*/*;q=0", None),
    ("application/json;q=0", None),
    ("application/geo+json;q=0, application/json;q=0.0", None),
    # weights to the thousandth; ties go to the earlier offer
    ("application/geo+json;q=0.5, application/json;q=0.5", JSON),
    ("application/json;q=0.5, application/geo+json;q=0.501", GEOJSON),
    ("application/json;q=0.501, application/geo+json;q=0.5", JSON),
    ("application/geo+json, application/json", JSON),
    # case, blanks, charset
    ("APPLICATION/GEO+JSON", GEOJSON),
    ("application/geo+json ; Q=0.3 ,application/json;q=0.2", GEOJSON),
    ("application/json; charset=utf-8;q=0.1, application/geo+json;q=0.05", JSON),
    # parameters restrict a range: the offers carry none
    ('application/geo+json;profile="rfc7946"', None),
    # malformed elements are skipped; with nothing usable the header counts as absent
    ("bogus, application/geo+json", GEOJSON),
    ("application/json;q=2, application/geo+json;q=0.1", GEOJSON),
    ("application/json;q=0.1234, application/geo+json;q=0.1", GEOJSON),
    ("bogus", JSON),
    ("*/json", JSON),
    # a comma inside a quoted string does not split the list
    ('text/plain;a="x,application/geo+json,y", application/json;q=0.2', JSON),
    # the same range twice counts with its higher weight
    ("application/geo+json;q=0, application/geo+json;q=0.3", GEOJSON),
])
def test_negotiate(accept: str | None, expected: str | None) -> None:
    assert negotiate(accept, OFFERS, default=JSON) == expected


def test_the_default_applies_without_a_preference_only() -> None:
    assert negotiate(None, OFFERS, default=GEOJSON) == GEOJSON
    assert negotiate("", OFFERS, default=GEOJSON) == GEOJSON
    assert negotiate("*/*", OFFERS, default=GEOJSON) == JSON  # a tie: offer order
    assert negotiate("*/*", [GEOJSON, JSON], default=JSON) == GEOJSON


def test_the_offer_is_returned_as_given() -> None:
    assert negotiate("application/json", ["Application/JSON"], "Application/JSON") == (
        "Application/JSON")


def test_rfc_example_weights() -> None:
    # RFC 7231 §5.3.2 (the rules RFC 9110 §12.5.1 keeps): the most specific range applies.
    ranges = parse_accept(
        "text/*;q=0.3, text/html;q=0.7, text/html;level=1, text/html;level=2;q=0.4, */*;q=0.5")
    expected = {"text/html;level=1": 1000, "text/html": 700, "text/plain": 300,
                "image/jpeg": 500, "text/html;level=2": 400, "text/html;level=3": 700}
    for media_type, weight in expected.items():
        offer = negotiation.parse_media_range(media_type)
        assert offer is not None
        assert weight_of(offer, ranges) == weight, media_type


def test_offers_and_default_are_checked() -> None:
    with pytest.raises(ValueError, match="not one of the offers"):
        negotiate(None, OFFERS, default="text/csv")
    with pytest.raises(ValueError, match="not a concrete media type"):
        negotiate("*/*", ["application/*", JSON], default=JSON)


def test_hostile_headers_are_cheap() -> None:
    # Runs of blanks and semicolons must not make the parser backtrack exponentially: a
    # regex that could place each blank in two ways needs about 13 s for these 24.
    started = time.perf_counter()
    assert parse_accept("a/b" + "; " * 24 + "\x01") == []
    assert time.perf_counter() - started < 1.0
    assert parse_accept("a/b" + "; " * 5000 + "\x01") == []
    assert negotiate("application/json" + " ;" * 5000 + "x", OFFERS, JSON) == JSON


def _app() -> FastAPI:
    app = FastAPI()
    register_problem_handlers(app)

    @app.get("/thing")
    def thing(request: Request) -> PlainTextResponse:
        return PlainTextResponse(require_acceptable(accept_header(request), OFFERS, JSON))

    return app


def test_not_acceptable_is_a_406_problem() -> None:
    with TestClient(_app()) as client:
        response = client.get("/thing", headers={"Accept": "text/html"})
    assert response.status_code == 406
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"].endswith("/not-acceptable")
    assert body["title"] == "Not acceptable"
    assert body["status"] == 406
    assert body["detail"] == (
        "None of the available media types is acceptable: application/json, "
        "application/geo+json. Accept one of them (or */*), or send no Accept header.")
    assert body["errors"] == [{"field": "Accept", "code": "not_acceptable",
                               "reason": "accepts none of application/json, application/geo+json"}]


def test_acceptable_requests_get_the_negotiated_type() -> None:
    with TestClient(_app()) as client:
        assert client.get("/thing", headers={"Accept": "application/geo+json"}).text == GEOJSON
        assert client.get("/thing", headers={"Accept": "*/*"}).text == JSON
        # two Accept lines are one list
        both = client.get("/thing", headers=[("accept", "text/html"), ("accept", GEOJSON)])
        assert both.text == GEOJSON


def test_doctests() -> None:
    result = doctest.testmod(negotiation)
    assert result.attempted > 0
    assert result.failed == 0
