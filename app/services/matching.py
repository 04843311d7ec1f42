"""Investor matching against the database: ranking, combinations, saving the enquiry.

The hard conditions of :mod:`app.domain.matching` (user group, restriction tolerance,
marketing status, active site and, for single parcels, the minimum net area) are a
:class:`ParcelFilter`, applied through :func:`selection_sql`, so the caller's visibility
applies. One query ranks the single parcels in SQL by the weight of the criteria they meet
(:func:`criteria_sql`: one condition per scored criterion, mirroring the domain's functions)
and returns only the best ``request.limit``; their scores and German reasons are then written
by the domain's :func:`~app.domain.matching.score`, for those parcels alone.

Only when no single parcel is large enough, a second query loads the candidates of the sites
whose candidates together may reach the minimum, and a third finds adjacent candidates of the
same site (within :data:`ADJACENCY_M` of each other) for combinations, chosen and scored in
Python. A last query fetches the offered parcels' representation as the caller may see it
(:func:`properties_sql`).
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
from app.db.queries.parcels.sql import field_sql, properties_sql
from app.domain import vocab
from app.domain.availability import latest_available_date
from app.domain.errors import Forbidden, InvalidInput, Unauthorized
from app.domain.filters import ParcelFilter
from app.domain.matching import (
    Candidate,
    Criterion,
    MatchRequest,
    Scored,
    asked_weights,
    combine,
    score,
)
from app.domain.parcel_combination import (
    AREA_TOLERANCE_HA,
    adjacency_groups,
    pick_combination,
    reaches,
)
from app.domain.roles import PUBLIC_VIEWER, STAFF, Principal, Viewer, ensure_can_write_district

#: Parcels of one site closer than this (m, EPSG:25832) count as adjacent.
ADJACENCY_M = 30.0

#: At most this many combinations are offered (and never more than the request's limit).
MAX_COMBINATIONS = 5

#: Slack (ha) of the SQL preselection of sites for combinations: a site is loaded when its
#: candidates' area (summed by PostgreSQL, in any order) is within this of the minimum; the
#: exact test (:func:`reaches` on the sum in Python) follows.
SITE_SUM_SLACK_HA = 0.01

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


def candidate_filter(request: MatchRequest, *, single: bool = False) -> ParcelFilter:
    """The hard conditions as a parcel filter.

    ``single``: also the minimum net area (within :data:`AREA_TOLERANCE_HA`, as
    :func:`reaches`), which parts of a combination need not meet.
    """
    area_min = (max(0.0, request.net_area_min_ha - AREA_TOLERANCE_HA) if single else None)
    return ParcelFilter(
        user_group=(request.user_group,),
        restriction_max=request.restriction_tolerance,
        marketing_status=("verfuegbar",),
        active_sites_only=True,
        net_area_min_ha=area_min,
    )


#: The registry fields scoring needs (read as the viewer sees them), by output name.
_CANDIDATE_COLUMNS = {name: name for name in (
    "id", "site_id", "district_ags", "net_area_ha", "availability", "available_from",
    "restriction_level", "rail_siding", "operation_24h", "distance_junction_km", "user_groups")}

#: Ranking of single parcels in SQL: the weight met (see :func:`criteria_sql`) descending,
#: then larger net area, then smaller id, as :attr:`Scored.rank_key`.
_RANK_ORDER = "met_weight DESC, net_area_ha DESC, id"

_DISTRICT_NAME = "(SELECT d.name FROM districts d WHERE d.ags = c.district_ags)"


def _float(name: str) -> str:
    return f"CAST(:{name} AS double precision)"


def criteria_sql(
    request: MatchRequest, viewer: Viewer, reference: date
) -> tuple[dict[str, str], dict[str, Any]]:
    """Per scored criterion ``request`` asks for (:func:`asked_weights`): SQL over ``p`` that
    is true exactly when the domain reports it met, and the values it binds (``:m_*``).

    Fields are read as ``viewer`` sees them, as the candidates the domain scores are. Bounds
    are computed in Python and bound as doubles, so SQL compares the same floating-point
    numbers as :func:`~app.domain.parcel_combination.reaches` does.
    """
    area = field_sql("net_area_ha", viewer)
    params: dict[str, Any] = {}
    conditions: dict[str, str] = {}
    for key in asked_weights(request):
        if key == "net_area":  # reaches(area, low) and (no high or reaches(high, area))
            params["m_area_low"] = request.net_area_min_ha - AREA_TOLERANCE_HA
            sql = f"{area} >= {_float('m_area_low')}"
            if request.net_area_max_ha is not None:
                params["m_area_high"] = request.net_area_max_ha
                params["m_area_tolerance"] = AREA_TOLERANCE_HA
                sql += (f" AND {_float('m_area_high')} >= "
                        f"{area} - {_float('m_area_tolerance')}")
            conditions[key] = sql
        elif key == "available_by":  # available_from, else the class's latest date
            needed_by = request.needed_by
            assert needed_by is not None
            params["m_needed_by"] = needed_by
            params["m_classes_by"] = [
                code for code in vocab.AVAILABILITY.codes
                if (latest := latest_available_date(code, reference)) is not None
                and latest <= needed_by]
            since = field_sql("available_from", viewer)
            conditions[key] = (
                f"CASE WHEN {since} IS NOT NULL THEN {since} <= :m_needed_by "
                f"ELSE {field_sql('availability', viewer)} = ANY(CAST(:m_classes_by AS text[])) "
                "END")
        elif key == "junction":
            params["m_max_junction_km"] = request.max_junction_km
            conditions[key] = (f"{field_sql('distance_junction_km', viewer)} <= "
                               f"{_float('m_max_junction_km')}")
        elif key in ("rail_siding", "operation_24h"):
            conditions[key] = field_sql(key, viewer)
        elif key == "district":
            params["m_districts"] = list(request.preferred_districts)
            conditions[key] = (f"{field_sql('district_ags', viewer)} = "
                               "ANY(CAST(:m_districts AS text[]))")
        else:
            raise AssertionError(f"no SQL for the criterion {key!r}")
    return conditions, params


def met_weight_sql(request: MatchRequest, viewer: Viewer,
                   reference: date) -> tuple[str, dict[str, Any]]:
    """SQL: the weight of the scored criteria a parcel meets (an integer), and its values."""
    conditions, params = criteria_sql(request, viewer, reference)
    weights = asked_weights(request)
    terms = [f"CASE WHEN {sql} THEN {weights[key]} ELSE 0 END"
             for key, sql in conditions.items()]
    return "(" + " + ".join(terms) + ")", params


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


def _candidate(r: Any) -> Candidate:
    return Candidate(
        id=r.id, site_id=r.site_id, district_ags=r.district_ags,
        net_area_ha=float(r.net_area_ha), availability=r.availability,
        available_from=r.available_from, restriction_level=r.restriction_level,
        rail_siding=bool(r.rail_siding), operation_24h=bool(r.operation_24h),
        distance_junction_km=r.distance_junction_km, user_groups=tuple(r.user_groups),
        district_name=r.district_name,
    )


def best_singles(
    conn: Connection, request: MatchRequest, *, can_read_internal: bool, reference: date
) -> list[Scored]:
    """The best ``request.limit`` single parcels meeting every hard condition, ranked.

    Ranked in SQL by the weight met (the score's numerator; the denominator depends on the
    request alone), then larger net area, then smaller id; scored with their German reasons
    by the domain, for the returned parcels only.
    """
    viewer = _viewer(can_read_internal)
    met_sql, met_params = met_weight_sql(request, viewer, reference)
    sql, params = selection_sql(
        candidate_filter(request, single=True), viewer,
        {**_CANDIDATE_COLUMNS, "met_weight": "=" + met_sql}, reference=reference)
    stmt = cached_text(
        f"SELECT c.*, {_DISTRICT_NAME} AS district_name "
        f"FROM ({sql} ORDER BY {_RANK_ORDER} LIMIT :m_limit) c ORDER BY {_RANK_ORDER}")
    params.update(met_params, m_limit=request.limit)
    singles = []
    for r in conn.execute(stmt, params):
        candidate = _candidate(r)
        points, criteria = score(request, candidate, reference)
        singles.append(Scored(candidate, points, tuple(criteria)))
    return singles


def combinable_candidates(
    conn: Connection, request: MatchRequest, *, can_read_internal: bool, reference: date
) -> list[Candidate]:
    """The candidates (any size) of the sites whose candidates together may reach the
    minimum net area (see :data:`SITE_SUM_SLACK_HA`), by id."""
    viewer = _viewer(can_read_internal)
    area = field_sql("net_area_ha", viewer)
    sql, params = selection_sql(
        candidate_filter(request), viewer,
        {**_CANDIDATE_COLUMNS,
         "site_area": f"=sum({area}) OVER (PARTITION BY p.site_id)"}, reference=reference)
    stmt = cached_text(
        f"SELECT c.*, {_DISTRICT_NAME} AS district_name FROM ({sql}) c "
        "WHERE c.site_area >= CAST(:m_site_area_min AS double precision) ORDER BY c.id")
    params["m_site_area_min"] = request.net_area_min_ha - SITE_SUM_SLACK_HA
    return [_candidate(r) for r in conn.execute(stmt, params)]


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
    by_id = {c.id: c for c in candidates}
    # Pairs lie within one site: each site's graph gets only its own edges.
    edges: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for a, b in adjacent_pairs(conn, request, eligible, can_read_internal=can_read_internal,
                               reference=reference):
        if a in by_id:
            edges[by_id[a].site_id].append((a, b))
    found: list[tuple[Scored, tuple[int, ...]]] = []
    for site in eligible:
        for group in adjacency_groups([m.id for m in by_site[site]], edges[site]):
            if not reaches(sum(by_id[i].net_area_ha for i in group), need):
                continue
            chosen = pick_combination({i: by_id[i].net_area_ha for i in group}, edges[site],
                                      need)
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
    singles = best_singles(conn, request, can_read_internal=internal, reference=reference)
    combos: list[tuple[Scored, tuple[int, ...]]] = []
    if not singles:
        candidates = combinable_candidates(conn, request, can_read_internal=internal,
                                           reference=reference)
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
