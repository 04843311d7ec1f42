"""RFC 9457 problem details: every error leaves the API as ``application/problem+json``.

Handlers are registered once for the service's problem kinds, FastAPI's request validation,
Starlette's HTTP errors and database errors (translated by :mod:`app.db.errors`).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.db.errors import translate_db_error
from app.domain.errors import FieldProblem, GefisError, ServiceUnavailable

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://gefis-md.example.org/problems/"

log = logging.getLogger(__name__)


def problem_response(
    request: Request,
    status: int,
    title: str,
    detail: str,
    type_slug: str,
    problems: list[FieldProblem] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """A problem+json response; ``errors`` lists each field with its reason."""
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + type_slug,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
    }
    if problems:
        body["errors"] = [
            {"field": p.field, "reason": p.reason, "code": p.code} for p in problems
        ]
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def _from_error(request: Request, exc: GefisError) -> JSONResponse:
    return problem_response(
        request, exc.status, exc.title, exc.detail, exc.type_slug, exc.problems,
        headers=exc.headers or None,
    )


async def _gefis_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, GefisError)
    return _from_error(request, exc)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "header")]
        reason, code = err.get("msg", "invalid"), err.get("type", "invalid")
        problems.append(FieldProblem(".".join(loc) or None, reason, code))
    return problem_response(
        request, 422, "Invalid input", "The request does not match the expected schema.",
        "invalid-input", problems,
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    slug = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http-error")
    return problem_response(
        request, exc.status_code, str(exc.detail), str(exc.detail), slug,
        headers=getattr(exc, "headers", None),
    )


async def _db_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DBAPIError)
    translated = translate_db_error(exc)
    if translated is not None:
        return _from_error(request, translated)
    if isinstance(exc, OperationalError):
        log.error("database unavailable: %s", exc)
        return _from_error(request, ServiceUnavailable("The database is not reachable."))
    log.exception("unexpected database error", exc_info=exc)
    return problem_response(
        request, 500, "Internal error", "An unexpected database error occurred.", "internal-error"
    )


#: What psycopg2 says (as a plain ValueError) when a text value contains a NUL character.
_NUL_MESSAGE = "cannot contain NUL (0x00) characters"


async def _value_error(request: Request, exc: Exception) -> JSONResponse:
    if _NUL_MESSAGE in str(exc):
        return problem_response(
            request, 422, "Invalid input", "Text values must not contain NUL (0x00) characters.",
            "invalid-input", [FieldProblem(None, "text contains a NUL (0x00) character", "nul")])
    log.exception("unexpected error", exc_info=exc)
    return problem_response(
        request, 500, "Internal error", "An unexpected error occurred.", "internal-error")


async def _pool_timeout(request: Request, exc: Exception) -> JSONResponse:
    log.error("no database connection free: %s", exc)
    return _from_error(request, ServiceUnavailable(
        "The service is busy: no database connection became free in time. Retry shortly."))


def register_problem_handlers(app: FastAPI) -> None:
    """Install the handlers that turn every error into problem+json."""
    app.add_exception_handler(PoolTimeout, _pool_timeout)
    app.add_exception_handler(ValueError, _value_error)
    app.add_exception_handler(GefisError, _gefis_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(DBAPIError, _db_error)
