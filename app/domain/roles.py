"""Roles and the principal a request acts as (pure: no I/O).

Four roles, ordered by what they may do: ``public`` (no credential, published data only) <
``analyst`` (reads internal data) < ``editor`` (writes, limited to its districts) < ``admin``
(everything, in every district). Districts are named by their 5-digit AGS.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from app.domain.errors import Forbidden, Unauthorized


class Role(StrEnum):
    """A caller's role; members compare by rank (declaration order), not alphabetically.

    >>> Role.PUBLIC < Role.ANALYST < Role.EDITOR < Role.ADMIN
    True
    >>> max(Role.EDITOR, Role.ANALYST)
    <Role.EDITOR: 'editor'>
    >>> Role("admin") >= Role.EDITOR
    True
    """

    PUBLIC = "public"
    ANALYST = "analyst"
    EDITOR = "editor"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        """Position in the order public (0) < analyst < editor < admin (3)."""
        return _RANKS[self]

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Role):
            return NotImplemented
        return self.rank < other.rank

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Role):
            return NotImplemented
        return self.rank <= other.rank

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Role):
            return NotImplemented
        return self.rank > other.rank

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Role):
            return NotImplemented
        return self.rank >= other.rank


_RANKS: dict[Role, int] = {role: rank for rank, role in enumerate(Role)}


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who reads parcels: decides which rows and which fields leave the database.

    Staff (``internal``) see every parcel and field; the public sees marketed parcels of
    active sites, public fields, and the optional fields each parcel's editor released.

    >>> Viewer.for_role(Role.ANALYST) == STAFF
    True
    """

    internal: bool

    @classmethod
    def for_role(cls, role: Role) -> Viewer:
        """The viewer of a caller with ``role`` (analyst and above read internal data)."""
        return cls(internal=role >= Role.ANALYST)


#: The general public (no API key).
PUBLIC_VIEWER = Viewer(internal=False)
#: Analysts, editors, admins, and the service's own jobs (reports, write responses).
STAFF = Viewer(internal=True)

#: Roles an API key can carry (``public`` is the absence of a key).
KEY_ROLES: tuple[Role, ...] = (Role.ANALYST, Role.EDITOR, Role.ADMIN)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a request acts as: a role, the API key behind it and the districts it may edit.

    ``districts`` only matters for editors; admins may write everywhere.

    >>> alice = Principal(Role.EDITOR, 12, "alice", frozenset({"14713"}))
    >>> alice.actor
    'api-key:12:alice'
    >>> alice.can_write_district("14713"), alice.can_write_district("15002")
    (True, False)
    >>> PUBLIC.is_authenticated, PUBLIC.can_read_internal, PUBLIC.actor
    (False, False, 'public')
    >>> Principal(Role.ADMIN, 1, "root").can_write_district("15002")
    True
    """

    role: Role
    key_id: int | None
    name: str
    districts: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_authenticated(self) -> bool:
        """Whether a valid credential was presented (any role above ``public``)."""
        return self.role > Role.PUBLIC

    @property
    def can_read_internal(self) -> bool:
        """Whether internal (non-published) data may be read: analyst and above."""
        return self.role >= Role.ANALYST

    @property
    def viewer(self) -> Viewer:
        """Which parcels and fields this caller may read."""
        return Viewer.for_role(self.role)

    @property
    def can_write(self) -> bool:
        """Whether the role may write at all (editor and above; editors only in scope)."""
        return self.role >= Role.EDITOR

    def can_write_district(self, ags: str) -> bool:
        """Whether data of the district ``ags`` may be written: admins all, editors theirs."""
        if self.role >= Role.ADMIN:
            return True
        return self.role == Role.EDITOR and ags in self.districts

    @property
    def actor(self) -> str:
        """Who to record in the history: ``api-key:<id>:<name>``, or ``public``.

        >>> Principal(Role.ANALYST, 7, "bob").actor
        'api-key:7:bob'
        """
        if self.key_id is None:
            return self.name
        return f"api-key:{self.key_id}:{self.name}"


#: The principal of a request without credentials.
PUBLIC = Principal(role=Role.PUBLIC, key_id=None, name="public")


def ensure_can_write(principal: Principal) -> None:
    """Refuse unless the role may write: 401 for the public, 403 for analysts."""
    if not principal.is_authenticated:
        raise Unauthorized("Writing requires an API key: 'Authorization: Bearer <key>'.")
    if not principal.can_write:
        raise Forbidden(
            f"The role '{principal.role}' may not write; an editor or admin key is required.")


def ensure_can_write_district(principal: Principal, ags: str) -> None:
    """Refuse (401/403) unless ``principal`` may write data of the district ``ags``."""
    ensure_can_write(principal)
    if not principal.can_write_district(ags):
        scope = ", ".join(sorted(principal.districts)) or "none"
        raise Forbidden(
            f"The API key '{principal.name}' may not write in district {ags} "
            f"(its districts: {scope}).")


def ensure_can_write_in(principal: Principal, district_ags: str | None) -> None:
    """Refuse (401/403) unless ``principal`` may write data of the district ``district_ags``,
    or, for ``None`` (data of the region as a whole), write at all."""
    if district_ags is None:
        ensure_can_write(principal)
    else:
        ensure_can_write_district(principal, district_ags)
