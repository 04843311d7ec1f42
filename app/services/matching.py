"""Investor matching against the database: candidates, combinations, saving the enquiry.

One query loads every candidate (the hard conditions of :mod:`app.domain.matching` as a
:class:`ParcelFilter`, through :func:`selection_sql`, so the caller's visibility applies);
scoring and ranking happen in Python. Only when no single parcel is large enough, a second
query finds adjacent candidates of the same site (within :data:`ADJACENCY_M` of each other)
for combinations. A third query fetches the chosen parcels' representation as the caller may
see it (:func:`properties_sql`).
"""

from __future__ import annotations

from collections import defaultdict
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
    Candidate,
    Criterion,
    MatchRequest,
    Scored,
    combine,
    rank,
    score,
)
from app.domain.parcel_combination import adjacency_groups, pick_combination, reaches
from app.domain.roles import PUBLIC_VIEWER, STAFF, Principal, Viewer, ensure_can_write_district

#: Parcels of one site closer than this (m, EPSG:25832) count as adjacent.
ADJACENCY_M = 30.0

#: At most this many combinations are offered (and never more than the request's limit).
MAX_COMBINATIONS = 5

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


def candidate_filter(request: MatchRequest) -> ParcelFilter:
    """The hard conditions as a parcel filter (area is applied later, see the domain)."""
    return ParcelFilter(
        user_group=(request.user_group,),
        restriction_max=request.restriction_tolerance,
        marketing_status=("verfuegbar",),
        active_sites_only=True,
    )


_CANDIDATE_FIELDS = (
    "id", "site_id", "district_ags", "net_area_ha", "availability", "available_from",
    "restriction_level", "rail_siding", "operation_24h", "distance_junction_km", "user_groups")


def _viewer(can_read_internal: bool) -> Viewer:
    return STAFF if can_read_internal else PUBLIC_VIEWER


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


def load_candidates(
    conn: Connection, request: MatchRequest, *, can_read_internal: bool, reference: date
) -> list[Candidate]:
    """Every parcel meeting the hard conditions (any size), on active sites, in one query."""
    sql, params = selection_sql(
        candidate_filter(request), _viewer(can_read_internal), {
            **{name: name for name in _CANDIDATE_FIELDS},
            "district_name": "=(SELECT d.name FROM districts d WHERE d.ags = p.district_ags)"},
        reference=reference)
    return [
        Candidate(
            id=r.id, site_id=r.site_id, district_ags=r.district_ags,
            net_area_ha=float(r.net_area_ha), availability=r.availability,
            available_from=r.available_from, restriction_level=r.restriction_level,
            rail_siding=bool(r.rail_siding), operation_24h=bool(r.operation_24h),
            distance_junction_km=r.distance_junction_km, user_groups=tuple(r.user_groups),
            district_name=r.district_name,
        )
        for r in conn.execute(cached_text(sql + " ORDER BY id"), params)
    ]


def adjacent_pairs(
    conn: Connection, request: MatchRequest, site_ids: Sequence[int], *,
    can_read_internal: bool, reference: date,
) -> list[tuple[int, int]]:
    """Pairs of candidate parcels of the same site within :data:`ADJACENCY_M` of each other."""
    if not site_ids:
        return []
    scoped = candidate_filter(request).model_copy(update={"site_id": tuple(sorted(site_ids))})
    sql, params = selection_sql(
        scoped, _viewer(can_read_internal),
        {"id": "id", "site_id": "site_id", "geom": "=p.geom_25832"}, reference=reference)
    stmt = cached_text(
        f"WITH candidates AS ({sql}) SELECT a.id AS a, b.id AS b FROM candidates a "
        "JOIN candidates b ON a.site_id = b.site_id AND a.id < b.id "
        "AND ST_DWithin(a.geom, b.geom, :adjacency_m)")
    params["adjacency_m"] = ADJACENCY_M
    return [(r.a, r.b) for r in conn.execute(stmt, params)]


def _combinations(
    conn: Connection, request: MatchRequest, candidates: Sequence[Candidate], *,
    can_read_internal: bool, reference: date,
) -> list[tuple[Scored, tuple[int, ...]]]:
    """Best combination per adjacency group that can reach the minimum area, ranked.

    Each with the ids of its parts.
    """
    need = request.net_area_min_ha
    by_site: dict[int, list[Candidate]] = defaultdict(list)
    for c in candidates:
        by_site[c.site_id].append(c)
    eligible = [s for s, members in by_site.items()
                if reaches(sum(m.net_area_ha for m in members), need)]
    edges = adjacent_pairs(conn, request, eligible, can_read_internal=can_read_internal,
                           reference=reference)
    by_id = {c.id: c for c in candidates}
    found: list[tuple[Scored, tuple[int, ...]]] = []
    for site in eligible:
        for group in adjacency_groups([m.id for m in by_site[site]], edges):
            if not reaches(sum(by_id[i].net_area_ha for i in group), need):
                continue
            chosen = pick_combination({i: by_id[i].net_area_ha for i in group}, edges, need)
            if chosen is None:
                continue
            unit = combine([by_id[i] for i in chosen], reference, request.preferred_districts)
            points, criteria = score(request, unit, reference)
            found.append((Scored(unit, points, tuple(criteria)), chosen))
    # Best score first; then fewer parts, less total area (surplus), smaller first id.
    found.sort(key=lambda f: (-f[0].score, f[0].candidate.parts, f[0].candidate.net_area_ha,
                              f[0].candidate.id))
    return found[: min(MAX_COMBINATIONS, request.limit)]


def parcel_documents(
    conn: Connection, ids: Sequence[int], *, can_read_internal: bool, reference: date
) -> dict[int, dict[str, Any]]:
    """The representation of each parcel in ``ids`` as the caller may see it (one query)."""
    if not ids:
        return {}
    viewer = _viewer(can_read_internal)
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
    internal = principal.can_read_internal
    candidates = load_candidates(conn, request, can_read_internal=internal, reference=reference)
    large = [c for c in candidates if reaches(c.net_area_ha, request.net_area_min_ha)]
    singles = rank(request, large, reference)[: request.limit]
    combos: list[tuple[Scored, tuple[int, ...]]] = []
    if not singles:
        combos = _combinations(conn, request, candidates, can_read_internal=internal,
                               reference=reference)
    ids = sorted({s.candidate.id for s in singles} | {i for _, part in combos for i in part})
    docs = parcel_documents(conn, ids, can_read_internal=internal, reference=reference)
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
