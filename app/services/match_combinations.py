"""Combinations of adjacent parcels, offered when no single parcel is large enough.

A query loads the candidates of the sites whose candidates together may reach the minimum,
a second finds adjacent candidates of the same site (within :data:`ADJACENCY_M` of each
other); the parts are chosen (:mod:`app.domain.parcel_combination`) and scored in Python.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date

from sqlalchemy import Connection

from app.db.queries.keyset import cached_text
from app.db.queries.parcels import selection_sql
from app.db.queries.parcels.sql import field_sql
from app.domain.match_combination import combine
from app.domain.matching import Candidate, MatchRequest, Scored, score
from app.domain.parcel_combination import adjacency_groups, pick_combination, reaches
from app.domain.roles import Viewer
from app.services.match_candidates import (
    CANDIDATE_COLUMNS,
    DISTRICT_NAME,
    candidate_filter,
    candidate_from_row,
)

#: Parcels of one site closer than this (m, EPSG:25832) count as adjacent.
ADJACENCY_M = 30.0

#: At most this many combinations are offered (and never more than the request's limit).
MAX_COMBINATIONS = 5

#: Slack (ha) of the SQL preselection of sites for combinations: a site is loaded when its
#: candidates' area (summed by PostgreSQL, in any order) is within this of the minimum; the
#: exact test (:func:`reaches` on the sum in Python) follows.
SITE_SUM_SLACK_HA = 0.01


def combinable_candidates(
    conn: Connection, request: MatchRequest, *, viewer: Viewer, reference: date
) -> list[Candidate]:
    """The candidates (any size) of the sites whose candidates together may reach the
    minimum net area (see :data:`SITE_SUM_SLACK_HA`), by id."""
    area = field_sql("net_area_ha", viewer)
    sql, params = selection_sql(
        candidate_filter(request), viewer,
        {**CANDIDATE_COLUMNS,
         "site_area": f"=sum({area}) OVER (PARTITION BY p.site_id)"}, reference=reference)
    stmt = cached_text(
        f"SELECT c.*, {DISTRICT_NAME} AS district_name FROM ({sql}) c "
        "WHERE c.site_area >= CAST(:m_site_area_min AS double precision) ORDER BY c.id")
    params["m_site_area_min"] = request.net_area_min_ha - SITE_SUM_SLACK_HA
    return [candidate_from_row(r) for r in conn.execute(stmt, params)]


def adjacent_pairs(
    conn: Connection, request: MatchRequest, site_ids: Sequence[int], *,
    viewer: Viewer, reference: date,
) -> list[tuple[int, int]]:
    """Pairs of candidate parcels of the same site within :data:`ADJACENCY_M` of each other."""
    if not site_ids:
        return []
    scoped = candidate_filter(request).model_copy(update={"site_id": tuple(sorted(site_ids))})
    sql, params = selection_sql(
        scoped, viewer,
        {"id": "id", "site_id": "site_id", "geom": "=p.geom_25832"}, reference=reference)
    stmt = cached_text(
        f"WITH candidates AS ({sql}) SELECT a.id AS a, b.id AS b FROM candidates a "
        "JOIN candidates b ON a.site_id = b.site_id AND a.id < b.id "
        "AND ST_DWithin(a.geom, b.geom, :adjacency_m)")
    params["adjacency_m"] = ADJACENCY_M
    return [(r.a, r.b) for r in conn.execute(stmt, params)]


def best_combinations(
    conn: Connection, request: MatchRequest, candidates: Sequence[Candidate], *,
    viewer: Viewer, reference: date,
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
    for a, b in adjacent_pairs(conn, request, eligible, viewer=viewer,
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
