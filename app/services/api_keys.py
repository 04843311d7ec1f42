"""API keys: create, list, revoke, and authenticate a presented key.

A key is ``gefis_`` followed by 43 URL-safe characters (256 random bits). Only its hex SHA-256
is stored, with the first :data:`PREFIX_LENGTH` characters kept to recognise a key in
listings; the plain key is returned once, at creation. A fast hash suffices because the keys
are random, not chosen by people (see migration 0003).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, text

from app.domain.errors import InvalidInput
from app.domain.roles import KEY_ROLES, Principal, Role

KEY_PREFIX = "gefis_"
"""Every key starts with this, so leaked keys are easy to recognise (secret scanners)."""

PREFIX_LENGTH = 12
"""How many leading characters of a key are stored in clear, to identify it."""

_MAX_KEY_LENGTH = 128  # far above a real key; longer input is refused without a lookup
_AGS_FORMAT = re.compile(r"^[0-9]{5}$")

#: ``last_used_at`` is refreshed only when older than this, so that reads do not all write.
LAST_USED_RESOLUTION = "1 minute"


@dataclass(frozen=True, slots=True)
class ApiKeyInfo:
    """An API key as listed: everything but the hash (the plain key is never stored)."""

    id: int
    name: str
    role: Role
    districts: tuple[str, ...]
    key_prefix: str
    created_at: datetime
    created_by: str | None
    revoked_at: datetime | None
    last_used_at: datetime | None

    @property
    def is_revoked(self) -> bool:
        """Whether the key no longer authenticates."""
        return self.revoked_at is not None


def hash_key(key: str) -> str:
    """Hex SHA-256 of a key, as stored in ``api_keys.key_hash``.

    >>> hash_key("gefis_example")[:16]
    '96d1a53b247249ab'
    """
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def generate_key() -> str:
    """A new random key: :data:`KEY_PREFIX` and 256 random bits, URL-safe base64."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def _parse_role(role: Role | str) -> Role:
    """The role of a key (``public`` is not one: it is the absence of a key)."""
    if role not in KEY_ROLES:  # roles are str enums: plain strings compare equal
        allowed = ", ".join(KEY_ROLES)
        raise InvalidInput.for_field("role", f"role must be one of {allowed}, not {role!r}")
    return Role(role)


def _validated_districts(conn: Connection, role: Role, districts: Iterable[str]) -> list[str]:
    """Distinct, sorted districts; editors need at least one, other roles none."""
    wanted = sorted(set(districts))
    malformed = [ags for ags in wanted if not _AGS_FORMAT.match(ags)]
    if malformed:
        raise InvalidInput.for_field(
            "districts", f"district keys must be 5-digit AGS: {', '.join(malformed)}")
    if role == Role.EDITOR and not wanted:
        raise InvalidInput.for_field("districts", "an editor key needs at least one district")
    if role != Role.EDITOR and wanted:
        raise InvalidInput.for_field(
            "districts", f"only editor keys are limited to districts, not {role} keys")
    known = set(conn.execute(
        text("SELECT ags FROM districts WHERE ags = ANY(:wanted)"), {"wanted": wanted}
    ).scalars())
    unknown = [ags for ags in wanted if ags not in known]
    if unknown:
        raise InvalidInput.for_field(
            "districts", f"unknown district(s): {', '.join(unknown)}", "unknown")
    return wanted


def create_api_key(
    conn: Connection,
    name: str,
    role: Role | str,
    districts: Iterable[str] = (),
    created_by: str | None = None,
) -> tuple[int, str]:
    """Store a new key; returns its id and the plain key (shown once, never stored).

    Raises :class:`InvalidInput` naming ``name``, ``role`` or ``districts``.
    """
    clean_name = name.strip()
    if not clean_name:
        raise InvalidInput.for_field("name", "the name must not be blank")
    parsed_role = _parse_role(role)
    scope = _validated_districts(conn, parsed_role, districts)
    key = generate_key()
    key_id: int = conn.execute(
        text(
            "INSERT INTO api_keys (name, role, districts, key_prefix, key_hash, created_by) "
            "VALUES (:name, :role, :districts, :prefix, :hash, :created_by) RETURNING id"
        ),
        {"name": clean_name, "role": str(parsed_role), "districts": scope,
         "prefix": key[:PREFIX_LENGTH], "hash": hash_key(key), "created_by": created_by},
    ).scalar_one()
    return key_id, key


def list_api_keys(conn: Connection) -> list[ApiKeyInfo]:
    """All keys, revoked ones included, oldest first (without hashes)."""
    rows = conn.execute(text(
        "SELECT id, name, role, districts, key_prefix, created_at, created_by, revoked_at, "
        "last_used_at FROM api_keys ORDER BY id"
    )).all()
    return [
        ApiKeyInfo(
            id=row.id, name=row.name, role=Role(row.role), districts=tuple(row.districts),
            key_prefix=row.key_prefix, created_at=row.created_at, created_by=row.created_by,
            revoked_at=row.revoked_at, last_used_at=row.last_used_at,
        )
        for row in rows
    ]


def revoke_api_key(conn: Connection, key_id: int) -> bool:
    """Revoke a key; ``False`` when no such key exists or it was already revoked."""
    revoked = conn.execute(
        text("UPDATE api_keys SET revoked_at = now() "
             "WHERE id = :id AND revoked_at IS NULL RETURNING id"),
        {"id": key_id},
    ).first()
    return revoked is not None


def authenticate(conn: Connection, presented_key: str) -> Principal | None:
    """The principal of a presented key, or ``None`` if it is unknown or revoked.

    The key is found by its hash through the unique index, so no secret is compared in
    Python (timing attacks do not apply). ``last_used_at`` is written only when older than
    :data:`LAST_USED_RESOLUTION`; the caller commits.
    """
    if not presented_key.startswith(KEY_PREFIX) or len(presented_key) > _MAX_KEY_LENGTH:
        return None
    row = conn.execute(
        text(
            "SELECT id, name, role, districts, "
            "       last_used_at IS NULL OR last_used_at < now() - CAST(:resolution AS interval)"
            "       AS stale "
            "FROM api_keys WHERE key_hash = :hash AND revoked_at IS NULL"
        ),
        {"hash": hash_key(presented_key), "resolution": LAST_USED_RESOLUTION},
    ).first()
    if row is None:
        return None
    if row.stale:
        conn.execute(text("UPDATE api_keys SET last_used_at = now() WHERE id = :id"),
                     {"id": row.id})
    return Principal(role=Role(row.role), key_id=row.id, name=row.name,
                     districts=frozenset(row.districts))
