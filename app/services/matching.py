"""Investor matching against the database: the answer, and saving the enquiry.

Single parcels are ranked in SQL (:mod:`app.services.match_candidates`); only when none is
large enough, combinations of adjacent parcels are built
(:mod:`app.services.match_combinations`). A last query fetches the offered parcels'
representation as the caller may see it (:func:`properties_sql`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, insert, select

from app.db.models import District, Enquiry
from app.db.queries.keyset import cached_text
from app.db.queries.parcels import selection_sql
from app.db.queries.parcels.sql import properties_sql
from app.domain.errors import Forbidden, InvalidInput, Unauthorized
from app.domain.filters import ParcelFilter
from app.domain.matching import (
    Criterion,
    MatchRequest,
    Scored,
)
from app.domain.roles import Principal, Viewer, ensure_can_write_district
from app.services.match_candidates import best_singles
from app.services.match_combinations import (
    best_combinations,
    combinable_candidates,
)

districts = District.__table__
enquiries = Enquiry.__table__


@dataclass(frozen=True)
class MatchItem:
    """A single parcel offered: score 0–100, criteria, and its representation."""

    parcel_id: int
    score: float
    criteria: tuple[Criterion, ...]
    parcel: dict[str, Any]


@dataclass(frozen=True)
class CombinationItem:
    """Adjacent parcels of one site offered together; ``net_area_ha`` is their sum (ha)."""

    parcel_ids: tuple[int, ...]
    site_id: int
    net_area_ha: float
    score: float
    criteria: tuple[Criterion, ...]
    parcels: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class MatchOutcome:
    """The answer to a :class:`MatchRequest`."""

    request: MatchRequest
    reference_date: date
    results: tuple[MatchItem, ...]
    combinations: tuple[CombinationItem, ...]
    enquiry_id: int | None


def ensure_may_save(principal: Principal) -> None:
    """Refuse saving an enquiry unless ``principal`` is an editor or admin (401 / 403)."""
    if not principal.is_authenticated:
        raise Unauthorized("Saving an enquiry requires an API key: 'Authorization: Bearer <key>'.")
    if not principal.can_write:
        raise Forbidden(
            f"The role '{principal.role}' may not save enquiries; an editor or admin key is "
            "required.")


def _check_districts(conn: Connection, wanted: Sequence[str]) -> None:
    if not wanted:
        return
    known = set(conn.execute(
        select(districts.c.ags).where(districts.c.ags.in_(wanted))).scalars())
    unknown = [ags for ags in wanted if ags not in known]
    if unknown:
        raise InvalidInput.for_field(
            "preferred_districts", f"unknown district(s): {', '.join(unknown)}", "unknown")


def parcel_documents(
    conn: Connection, ids: Sequence[int], *, viewer: Viewer, reference: date
) -> dict[int, dict[str, Any]]:
    """The representation of each parcel in ``ids`` as the caller may see it (one query)."""
    if not ids:
        return {}
    sql, params = selection_sql(
        ParcelFilter(ids=tuple(ids), marketing_status=("verfuegbar",)), viewer,
        {"id": "id", "doc": "=" + properties_sql(viewer)}, reference=reference)
    return {r.id: r.doc for r in conn.execute(cached_text(sql), params)}


def handling_district(principal: Principal) -> str | None:
    """The district that handles an enquiry saved by ``principal``.

    The caller's own district when it has exactly one (an editor for one district), else
    ``None`` (a regional enquiry: admins, editors of several districts). The investor's
    preferred districts never decide it; they are kept in the requirements.

    >>> from app.domain.roles import Role
    >>> handling_district(Principal(Role.EDITOR, 1, "e", frozenset({"14713"})))
    '14713'
    >>> handling_district(Principal(Role.EDITOR, 1, "e", frozenset({"14713", "14729"}))) is None
    True
    >>> handling_district(Principal(Role.ADMIN, 1, "root")) is None
    True
    """
    if len(principal.districts) != 1:
        return None
    (district,) = principal.districts
    return district if principal.can_write_district(district) else None


def save_enquiry(
    conn: Connection, request: MatchRequest, principal: Principal, reference: date, *,
    offered: bool,
) -> int:
    """Store ``request`` as an enquiry received on ``reference``; returns its id.

    The outcome is ``offen`` if anything was offered, else ``kein_angebot`` (unmet demand).
    The enquiry's district is the one handling it (:func:`handling_district`), never one
    outside the caller's scope.
    """
    ensure_may_save(principal)
    district = handling_district(principal)
    if district is not None:
        ensure_can_write_district(principal, district)
    stmt = insert(enquiries).values(
        received_on=reference,
        district_ags=district,
        required_net_area_ha_min=request.net_area_min_ha,
        required_net_area_ha_max=request.net_area_max_ha,
        user_group=request.user_group,
        needed_by=request.needed_by,
        requirements=request.model_dump(mode="json"),
        outcome="offen" if offered else "kein_angebot",
        created_by=principal.actor,
    ).returning(enquiries.c.id)
    enquiry_id: int = conn.execute(stmt).scalar_one()
    return enquiry_id


def find_matches(
    conn: Connection, request: MatchRequest, principal: Principal, reference: date
) -> MatchOutcome:
    """Rank parcels (and, if no single one is large enough, combinations) for ``request``.

    Saves the enquiry when ``request.save_enquiry`` (``conn`` must then be writable).
    Raises :class:`Unauthorized` / :class:`Forbidden` before any work if saving is not
    allowed, :class:`InvalidInput` for unknown preferred districts.
    """
    if request.save_enquiry:
        ensure_may_save(principal)
    _check_districts(conn, request.preferred_districts)
    viewer = principal.viewer
    singles = best_singles(conn, request, viewer=viewer, reference=reference)
    combos: list[tuple[Scored, tuple[int, ...]]] = []
    if not singles:
        candidates = combinable_candidates(conn, request, viewer=viewer,
                                           reference=reference)
        combos = best_combinations(conn, request, candidates, viewer=viewer,
                               reference=reference)
    ids = sorted({s.candidate.id for s in singles} | {i for _, part in combos for i in part})
    docs = parcel_documents(conn, ids, viewer=viewer, reference=reference)
    enquiry_id = None
    if request.save_enquiry:
        enquiry_id = save_enquiry(conn, request, principal, reference,
                                  offered=bool(singles or combos))
    return MatchOutcome(
        request=request,
        reference_date=reference,
        # A parcel changed by a concurrent write between the queries is left out.
        results=tuple(MatchItem(s.candidate.id, s.score, s.criteria, docs[s.candidate.id])
                      for s in singles if s.candidate.id in docs),
        combinations=tuple(
            CombinationItem(part, s.candidate.site_id, s.candidate.net_area_ha, s.score,
                            s.criteria, tuple(docs[i] for i in part))
            for s, part in combos if all(i in docs for i in part)
        ),
        enquiry_id=enquiry_id,
    )
