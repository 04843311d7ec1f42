"""RFC 9457 problem details: every error leaves the API as ``application/problem+json``.

Handlers are registered once for the service's problem kinds, FastAPI's request validation,
Starlette's HTTP errors and database errors (translated by :mod:`app.db.errors`).

A 405 lists in ``Allow`` every documented method of the path (Starlette would list only those
of the first route it tried, and each method is a route of its own in FastAPI).
Problem texts that quote client input stay valid UTF-8 (a lone surrogate is escaped).
"""

from __future__ import annotations

import logging
import re
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
    extensions: dict[str, Any] | None = None,
) -> JSONResponse:
    """A problem+json response; ``errors`` lists each field with its reason, and
    ``extensions`` adds members of the problem's own (RFC 9457, e.g. an import's report)."""
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + type_slug,
        "title": title,
        "status": status,
        "detail": _utf8(detail),
        "instance": request.url.path,
    }
    if problems:
        body["errors"] = [
            {"field": None if p.field is None else _utf8(p.field), "reason": _utf8(p.reason),
             "code": p.code}
            for p in problems
        ]
    body.update(extensions or {})
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def _utf8(text: str) -> str:
    """``text`` with lone surrogates (from JSON escapes like ``\\ud800``) written as escapes."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


_PATH_PARAMETER = re.compile(r"\{[^/{}]+\}")
_HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def _template_regex(template: str) -> re.Pattern[str]:
    """``/parcels/{parcel_id}`` → a regex of the paths it stands for (one segment per name)."""
    literals = _PATH_PARAMETER.split(template)
    return re.compile("[^/]+".join(re.escape(part) for part in literals))


def allowed_methods(request: Request) -> list[str]:
    """The methods the OpenAPI document lists for the request's path (all its operations).

    Read from the document, so ``Allow`` and the documentation cannot disagree.
    """
    path = request.url.path.removeprefix(request.scope.get("root_path", ""))
    paths: dict[str, dict[str, Any]] = request.app.openapi().get("paths", {})
    methods = {method.upper() for template, item in paths.items()
               if _template_regex(template).fullmatch(path)
               for method in item if method in _HTTP_METHODS}
    return sorted(methods)


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
        reason = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        code = err.get("type", "invalid")
        problems.append(FieldProblem(".".join(loc) or None, reason, code))
    return problem_response(
        request, 422, "Invalid input", "The request does not match the expected schema.",
        "invalid-input", problems,
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    slug = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http-error")
    headers = dict(getattr(exc, "headers", None) or {})
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(allowed_methods(request)) or headers.get("Allow", "")
    return problem_response(
        request, exc.status_code, str(exc.detail), str(exc.detail), slug, headers=headers or None,
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
    if isinstance(exc, UnicodeEncodeError):  # text the input models did not check
        return problem_response(
            request, 422, "Invalid input", "Text values must be valid Unicode.", "invalid-input",
            [FieldProblem(None, "text contains a lone surrogate", "unicode")])
    log.exception("unexpected error", exc_info=exc)
    return problem_response(
        request, 500, "Internal error", "An unexpected error occurred.", "internal-error")


async def _pool_timeout(request: Request, exc: Exception) -> JSONResponse:
    log.error("no database connection free: %s", exc)
    return _from_error(request, ServiceUnavailable(
        "The service is busy: no database connection became free in time. Retry shortly.",
        headers={"Retry-After": "1"}))


def register_problem_handlers(app: FastAPI) -> None:
    """Install the handlers that turn every error into problem+json."""
    app.add_exception_handler(PoolTimeout, _pool_timeout)
    app.add_exception_handler(ValueError, _value_error)
    app.add_exception_handler(GefisError, _gefis_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(DBAPIError, _db_error)
