"""Kinds of problems the service reports, each with its HTTP status (RFC 9457 in the API).

Raised by services and the database-error translator; ``app.api.problems`` maps them to
``application/problem+json`` once, so routers never build error bodies themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Self


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """One thing wrong with one input field (``field`` is a dotted path, e.g. ``geometry``)."""

    field: str | None
    reason: str
    code: str = "invalid"


class GefisError(Exception):
    """Base of all reported problems."""

    status: ClassVar[int] = 500
    title: ClassVar[str] = "Internal error"
    type_slug: ClassVar[str] = "internal-error"

    def __init__(
        self,
        detail: str,
        *,
        problems: list[FieldProblem] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.problems = problems or []
        self.headers: dict[str, str] = dict(headers or {})  # extra HTTP response headers

    @classmethod
    def for_field(cls, field: str | None, reason: str, code: str = "invalid") -> Self:
        """One problem with one field."""
        return cls(reason, problems=[FieldProblem(field, reason, code)])


class InvalidInput(GefisError):
    """The request is well-formed but a field's value is not acceptable."""

    status = 422
    title = "Invalid input"
    type_slug = "invalid-input"


class BadRequest(GefisError):
    """The request cannot be read (syntax, unsupported parameter combination)."""

    status = 400
    title = "Bad request"
    type_slug = "bad-request"


#: The ``WWW-Authenticate`` challenge of a 401 when no usable credential was sent (RFC 6750).
BEARER_CHALLENGE = 'Bearer realm="gefis-md"'


class Unauthorized(GefisError):
    """No or an unknown credential; the response carries a ``WWW-Authenticate`` challenge."""

    status = 401
    title = "Authentication required"
    type_slug = "unauthorized"

    def __init__(
        self,
        detail: str,
        *,
        problems: list[FieldProblem] | None = None,
        challenge: str = BEARER_CHALLENGE,
    ) -> None:
        super().__init__(detail, problems=problems, headers={"WWW-Authenticate": challenge})


class Forbidden(GefisError):
    """The caller's role or district scope does not allow this."""

    status = 403
    title = "Forbidden"
    type_slug = "forbidden"


class NotFound(GefisError):
    """The addressed resource does not exist (or is not visible to the caller)."""

    status = 404
    title = "Not found"
    type_slug = "not-found"


class ExportTooLarge(GefisError):
    """The selection has more features than one export (or its format) may hold."""

    status = 413
    title = "Export too large"
    type_slug = "export-too-large"


class Conflict(GefisError):
    """The write collides with existing data (duplicate key, referenced row)."""

    status = 409
    title = "Conflict"
    type_slug = "conflict"


class PreconditionFailed(GefisError):
    """``If-Match`` does not match the current version."""

    status = 412
    title = "Precondition failed"
    type_slug = "precondition-failed"


class ServiceUnavailable(GefisError):
    """A dependency (the database) is not available or not ready."""

    status = 503
    title = "Service unavailable"
    type_slug = "service-unavailable"


class PreconditionRequired(GefisError):
    """An update was sent without ``If-Match`` (lost updates are not allowed)."""

    status = 428
    title = "Precondition required"
    type_slug = "precondition-required"


class NotAcceptable(GefisError):
    """No representation of the resource is acceptable to the client (its ``Accept``)."""

    status = 406
    title = "Not acceptable"
    type_slug = "not-acceptable"


class PdfUnavailable(ServiceUnavailable):
    """A PDF cannot be printed now: headless Chromium is missing, failed or timed out."""

    title = "PDF rendering unavailable"
    type_slug = "pdf-unavailable"
