"""Who is calling: the API-key authentication dependency and role/district checks.

Callers send ``Authorization: Bearer <API key>`` (the scheme in any letter case, RFC 7235);
without the header a request acts as :data:`~app.domain.roles.PUBLIC`. A malformed header or
an unknown/revoked key is a 401 with a ``WWW-Authenticate: Bearer`` challenge (never silently
public, so a typo in a key is noticed); two ``Authorization`` headers are a 400 (which one
would count is anybody's guess).

In the OpenAPI document every operation that reads the caller names the ``ApiKey`` scheme;
public ones also declare ``openapi_extra=OPTIONAL_API_KEY``, which adds the empty
requirement: ``security: [{"ApiKey": []}, {}]``, i.e. a key or none.

Use in routers::

    @router.get("/x", openapi_extra=OPTIONAL_API_KEY)
    def read(principal: PrincipalDep) -> ...            # any caller, public included
    @router.get("/y")
    def internal(principal: InternalReaderDep) -> ...   # analyst and above, else 401
    @router.patch("/z/{id}")
    def write(principal: WriterDep, ...) -> ...         # editor/admin: 401 public, 403 analyst
        ensure_can_write_district(principal, parcel.district_ags)  # 403 outside its districts
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from app.api.deps import EngineDep
from app.domain.errors import BEARER_CHALLENGE, BadRequest, Forbidden, Unauthorized
from app.domain.roles import PUBLIC, Principal, Role, ensure_can_write
from app.services.api_keys import authenticate

#: The OpenAPI security scheme; reading the header itself is done in :func:`get_principal`,
#: which also has to tell a missing header from a malformed one.
bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    bearerFormat="gefis_<43 characters>",
    description="API key as a bearer token. Without it, only published data is visible.",
)

_TOKEN68 = re.compile(r"^[A-Za-z0-9._~+/-]+=*$")  # RFC 6750 b64token

#: ``openapi_extra`` of a public operation that reads an optional API key. FastAPI merges it
#: into the operation, appending to the ``security`` list the scheme dependency produced.
OPTIONAL_API_KEY: dict[str, Any] = {"security": [{}]}

MALFORMED_DETAIL = "Malformed Authorization header: expected 'Authorization: Bearer <API key>'."
UNKNOWN_KEY_DETAIL = "The API key is unknown or has been revoked."


def _challenge(error: str, description: str) -> str:
    """A ``WWW-Authenticate`` value with an RFC 6750 error code."""
    return f'{BEARER_CHALLENGE}, error="{error}", error_description="{description}"'


def _bearer_token(header: str) -> str:
    """The token of ``Bearer <token>`` (scheme case-insensitive); 401 when malformed."""
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not _TOKEN68.match(token):
        raise Unauthorized(
            MALFORMED_DETAIL, challenge=_challenge("invalid_request", "malformed header"))
    return token


def _look_up(engine: Engine, token: str) -> Principal | None:
    with engine.begin() as conn:
        return authenticate(conn, token)


async def get_principal(
    request: Request,
    engine: EngineDep,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_scheme)],
) -> Principal:
    """The caller: :data:`PUBLIC` without ``Authorization``, else the key's principal.

    Raises :class:`BadRequest` for more than one ``Authorization`` header and
    :class:`Unauthorized` for a malformed header or an unknown or revoked key. The lookup
    uses a short connection of its own (it may refresh ``last_used_at``) in a worker thread;
    a public request needs no thread at all.
    """
    headers = request.headers.getlist("authorization")
    if not headers:
        return PUBLIC
    if len(headers) > 1:
        raise BadRequest.for_field(
            "Authorization", f"send one Authorization header, not {len(headers)}",
            "duplicate_header")
    token = _bearer_token(headers[0])
    principal = await run_in_threadpool(_look_up, engine, token)
    if principal is None:
        raise Unauthorized(
            UNKNOWN_KEY_DETAIL, challenge=_challenge("invalid_token", "unknown or revoked key"))
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require_internal_reader(principal: PrincipalDep) -> Principal:
    """``principal`` if it may read internal data (analyst and above); else 401."""
    if not principal.can_read_internal:
        raise Unauthorized("Internal data requires an API key: 'Authorization: Bearer <key>'.")
    return principal


def require_authenticated_writer(principal: PrincipalDep) -> Principal:
    """``principal`` if its role may write (editor, admin); 401 for public, 403 otherwise."""
    ensure_can_write(principal)
    return principal


def require_admin(principal: PrincipalDep) -> Principal:
    """``principal`` if it is an admin: 401 for the public, 403 for everybody else."""
    ensure_can_write(principal)
    if principal.role < Role.ADMIN:
        raise Forbidden(f"This needs an admin key; the role '{principal.role}' may not.")
    return principal


InternalReaderDep = Annotated[Principal, Depends(require_internal_reader)]
WriterDep = Annotated[Principal, Depends(require_authenticated_writer)]
AdminDep = Annotated[Principal, Depends(require_admin)]
