"""Investor matching ranks in SQL: the SQL criteria agree with the domain's scoring, the answers
equal the pure Python ranking over every candidate, and only the parcels returned are scored.

The service expresses each scored criterion of :mod:`app.domain.matching` as an SQL condition
(:func:`app.services.matching.criteria_sql`) to rank without loading every candidate. These
tests keep the two definitions from drifting: for every candidate of the demo data (plus a
few parcels on the edges of the bounds) each SQL condition must say what the domain says.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Connection, event, text

import app.services.match_candidates as cands
import app.services.match_combinations as combos
import app.services.matching as service
from app.db.queries.keyset import cached_text
from app.db.queries.parcels import selection_sql
from app.domain.availability import add_years
from app.domain.filters import ParcelFilter
from app.domain.matching import (
    HARD_KEYS,
    Candidate,
    MatchRequest,
    asked_weights,
    criteria_for,
    points_for,
    rank,
    score,
)
from app.domain.parcel_combination import AREA_TOLERANCE_HA, reaches
from app.domain.roles import PUBLIC, PUBLIC_VIEWER, STAFF, Principal, Role, Viewer
from tests.shapes import LEIPZIG_X, LEIPZIG_Y, insert_parcel, insert_site, square

REF = date(2026, 1, 15)
ANALYST = Principal(Role.ANALYST, 911, "t-analyst-shape")
VIEWERS = {"public": (PUBLIC_VIEWER, PUBLIC), "staff": (STAFF, ANALYST)}

#: The service's own mapping of candidate rows (the columns and the Candidate built from them).
_COLUMNS = cands.CANDIDATE_COLUMNS
_candidate = cands.candidate_from_row


def _rows(conn: Connection, f: ParcelFilter, viewer: Viewer,
          extra: dict[str, str] | None = None, params: dict[str, Any] | None = None) -> list[Any]:
    """Parcels of ``f`` as ``viewer`` sees them (through the select path), by id."""
    sql, bound = selection_sql(
        f, viewer, {**_COLUMNS, **(extra or {}),
                    "district_name": "=(SELECT d.name FROM districts d "
                                     "WHERE d.ags = p.district_ags)"},
        reference=REF)
    return list(conn.execute(cached_text(sql + " ORDER BY id"), {**bound, **(params or {})}))


@pytest.fixture
def edges(conn: Connection) -> dict[str, Any]:
    """The demo plus logistics parcels on the edges of the bounds the requests below use.

    Values taken from the demo make the requests' bounds hit real parcels exactly.
    """
    demo = conn.execute(text(
        "SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY distance_junction_km) AS km, "
        "percentile_disc(0.5) WITHIN GROUP (ORDER BY net_area_ha) AS area, "
        "percentile_disc(0.3) WITHIN GROUP (ORDER BY net_area_ha) AS low, "
        "percentile_disc(0.5) WITHIN GROUP (ORDER BY available_from) AS since "
        "FROM parcels WHERE marketing_status = 'verfuegbar'")).one()
    site = insert_site(conn, name="Kanten-Testgebiet")
    x, y = round(LEIPZIG_X) - 4000, round(LEIPZIG_Y) + 2500  # Leipzig, Stadt
    logistics = {"user_groups": ["logistik", "industrie_produktion"], "rail_siding": True}
    made = {
        # 10 ha minus half the tolerance: reaches 10 ha; minus twice the tolerance: does not
        "just_enough": insert_parcel(conn, site, square(x, y, 400),
                                     net_area_ha_given=10 - AREA_TOLERANCE_HA / 2, **logistics),
        "just_short": insert_parcel(conn, site, square(x + 1000, y, 400),
                                    net_area_ha_given=10 - 2 * AREA_TOLERANCE_HA, **logistics),
        "exactly_enough": insert_parcel(conn, site, square(x + 7000, y, 400),
                                        net_area_ha_given=10 - AREA_TOLERANCE_HA, **logistics),
        "exactly_above": insert_parcel(conn, site, square(x + 8000, y, 400),
                                       net_area_ha_given=15 + AREA_TOLERANCE_HA, **logistics),
        # 15 ha plus half the tolerance: within a maximum of 15 ha
        "at_max": insert_parcel(conn, site, square(x + 2000, y, 400),
                                net_area_ha_given=15 + AREA_TOLERANCE_HA / 2, **logistics),
        "on_needed_by": insert_parcel(conn, site, square(x + 3000, y, 400),
                                      availability="mittelfristig",
                                      available_from=date(2027, 6, 30), **logistics),
        "class_edge": insert_parcel(conn, site, square(x + 4000, y, 400),
                                    availability="kurzfristig", **logistics),
        "no_distance": insert_parcel(conn, site, square(x + 5000, y, 400),
                                     operation_24h=True, **logistics),
        "at_km": insert_parcel(conn, site, square(x + 6000, y, 400), **logistics),
    }
    conn.execute(text("UPDATE parcels SET distance_junction_km = NULL WHERE id = :id"),
                 {"id": made["no_distance"]})
    conn.execute(text("UPDATE parcels SET distance_junction_km = :km WHERE id = :id"),
                 {"id": made["at_km"], "km": demo.km})
    return {"km": demo.km, "area": demo.area, "low": demo.low, "since": demo.since, **made}


def _requests(e: dict[str, Any]) -> list[MatchRequest]:
    """Requests asking for every criterion, with bounds on real values."""
    return [
        MatchRequest(net_area_min_ha=10, net_area_max_ha=15, user_group="logistik",
                     needed_by=date(2027, 6, 30), max_junction_km=e["km"],
                     rail_siding_required=True, operation_24h_required=True,
                     preferred_districts=("14713", "15082"), restriction_tolerance="erhoeht",
                     limit=50),
        MatchRequest(net_area_min_ha=1, user_group="logistik",
                     needed_by=add_years(REF, 2), max_junction_km=5, limit=50),
        MatchRequest(net_area_min_ha=e["low"], net_area_max_ha=e["area"],
                     user_group="industrie_produktion", restriction_tolerance="keine",
                     needed_by=e["since"], preferred_districts=("15088",), limit=50),
        MatchRequest(net_area_min_ha=e["area"], user_group="handwerk_gewerbe", limit=50),
        MatchRequest(net_area_min_ha=0.01, user_group="dienstleistung",
                     needed_by=date(2040, 1, 1), operation_24h_required=True,
                     restriction_tolerance="gering", limit=50),
    ]


REQUEST_IDS = ["all", "timing_class_edge", "area_range", "area_only", "far_future"]


@pytest.mark.parametrize("who", list(VIEWERS))
@pytest.mark.parametrize("which", range(len(REQUEST_IDS)), ids=REQUEST_IDS)
def test_sql_criteria_agree_with_the_domain_for_every_candidate(
        conn: Connection, edges: dict[str, Any], which: int, who: str) -> None:
    request = _requests(edges)[which]
    viewer, _ = VIEWERS[who]
    conditions, params = cands.criteria_sql(request, viewer, REF)
    met_sql, met_params = cands.met_weight_sql(request, viewer, REF)
    assert list(conditions) == list(asked_weights(request))
    extra = {f"c_{key}": f"=CASE WHEN {sql} THEN true ELSE false END"
             for key, sql in conditions.items()}
    rows = _rows(conn, cands.candidate_filter(request), viewer,
                 {**extra, "met_weight": "=" + met_sql}, {**params, **met_params})
    assert len(rows) > 5, "the request should find candidates of any size"
    asked = sum(asked_weights(request).values())
    for r in rows:
        candidate = _candidate(r)
        points, criteria = score(request, candidate, REF)
        met = {c.key: c.met for c in criteria}
        assert all(met[k] for k in HARD_KEYS), (r.id, criteria)
        for key in conditions:
            assert getattr(r, f"c_{key}") is met[key], (r.id, key, candidate, criteria)
        assert points_for(r.met_weight, asked) == points, (r.id, criteria)


@pytest.mark.parametrize("who", list(VIEWERS))
@pytest.mark.parametrize("which", range(len(REQUEST_IDS)), ids=REQUEST_IDS)
def test_hard_conditions_in_sql_are_the_domains(
        conn: Connection, edges: dict[str, Any], which: int, who: str) -> None:
    request = _requests(edges)[which]
    viewer, _ = VIEWERS[who]
    marketed = _rows(conn, ParcelFilter(marketing_status=("verfuegbar",),
                                        active_sites_only=True), viewer)
    hard = {r.id for r in marketed
            if all(c.met for c in criteria_for(request, _candidate(r), REF)
                   if c.key in HARD_KEYS)}
    large = {r.id for r in marketed
             if r.id in hard and reaches(float(r.net_area_ha), request.net_area_min_ha)}
    assert {r.id for r in _rows(conn, cands.candidate_filter(request), viewer)} == hard
    single = cands.candidate_filter(request, single=True)
    assert {r.id for r in _rows(conn, single, viewer)} == large
    assert large, "the request should find single parcels"


def test_the_edge_parcels_are_on_the_edges(conn: Connection, edges: dict[str, Any]) -> None:
    """The fixture's parcels meet (or just miss) the bounds of the requests above."""
    everything, timing = _requests(edges)[:2]
    rows = {r.id: _candidate(r) for r in _rows(conn, cands.candidate_filter(everything),
                                                 STAFF)}

    def met(request: MatchRequest, name: str, key: str) -> bool:
        return {c.key: c.met for c in criteria_for(request, rows[edges[name]], REF)}[key]

    assert met(everything, "just_enough", "net_area")
    assert met(everything, "exactly_enough", "net_area")  # area = minimum - tolerance
    assert not met(everything, "just_short", "net_area")
    assert met(everything, "at_max", "net_area")
    assert everything.net_area_max_ha is not None
    assert rows[edges["at_max"]].net_area_ha > everything.net_area_max_ha
    assert met(everything, "on_needed_by", "available_by")
    assert met(timing, "class_edge", "available_by")
    assert met(everything, "at_km", "junction")
    assert not met(everything, "no_distance", "junction")
    single = {r.id for r in _rows(conn, cands.candidate_filter(everything, single=True),
                                  STAFF)}
    assert edges["just_enough"] in single
    assert edges["exactly_enough"] in single
    assert edges["just_short"] not in single


@pytest.mark.parametrize("who", list(VIEWERS))
@pytest.mark.parametrize("which", range(len(REQUEST_IDS)), ids=REQUEST_IDS)
def test_answers_equal_the_python_ranking_of_every_candidate(
        conn: Connection, edges: dict[str, Any], which: int, who: str) -> None:
    request = _requests(edges)[which]
    viewer, principal = VIEWERS[who]
    everyone = [_candidate(r) for r in _rows(conn, cands.candidate_filter(request), viewer)]
    large = [c for c in everyone if reaches(c.net_area_ha, request.net_area_min_ha)]
    for limit in (1, 7, request.limit):
        expected = rank(request, large, REF)[:limit]
        out = service.find_matches(conn, request.model_copy(update={"limit": limit}),
                                   principal, REF)
        assert [(r.parcel_id, r.score, r.criteria) for r in out.results] == [
            (s.candidate.id, s.score, s.criteria) for s in expected]
        assert [r.parcel["id"] for r in out.results] == [r.parcel_id for r in out.results]
        assert out.combinations == ()


def test_combinations_equal_those_from_every_candidate(conn: Connection) -> None:
    """The SQL preselection of sites for combinations leaves the answer unchanged."""
    biggest = conn.execute(text("SELECT max(net_area_ha) FROM parcels")).scalar_one()
    for need in (biggest + 0.5, biggest * 1.5, biggest * 3):
        request = MatchRequest(net_area_min_ha=need, user_group="industrie_produktion",
                               restriction_tolerance="erhoeht", rail_siding_required=True)
        everyone = [_candidate(r) for r in _rows(conn, cands.candidate_filter(request),
                                                 PUBLIC_VIEWER)]
        expected = combos.best_combinations(conn, request, everyone, viewer=PUBLIC_VIEWER,
                                            reference=REF)
        out = service.find_matches(conn, request, PUBLIC, REF)
        assert out.results == ()
        assert [(c.parcel_ids, c.score, c.criteria) for c in out.combinations] == [
            (part, s.score, s.criteria) for s, part in expected]
        if need == biggest + 0.5:
            assert out.combinations, "the demo has adjacent parcels reaching this together"


@pytest.fixture
def statements(conn: Connection) -> Iterator[list[tuple[str, int]]]:
    """Every statement the test sends on ``conn`` with the number of rows it returned."""
    seen: list[tuple[str, int]] = []

    def record(_conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        seen.append((statement, cursor.rowcount))

    event.listen(conn, "after_cursor_execute", record)
    yield seen
    event.remove(conn, "after_cursor_execute", record)


def test_only_the_parcels_returned_are_read_and_scored(
        conn: Connection, statements: list[tuple[str, int]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    def counting_score(request: MatchRequest, candidate: Candidate,
                       reference: date) -> tuple[float, list[Any]]:
        calls.append(candidate.id)
        return score(request, candidate, reference)

    monkeypatch.setattr(cands, "score", counting_score)
    request = MatchRequest(net_area_min_ha=0.01, user_group="handwerk_gewerbe",
                           max_junction_km=5, preferred_districts=("14713", "15082"), limit=3)
    many = len(_rows(conn, cands.candidate_filter(request, single=True), PUBLIC_VIEWER))
    assert many > 100
    statements.clear()
    out = service.find_matches(conn, request, PUBLIC, REF)
    assert len(out.results) == 3
    assert len(calls) == 3  # reasons are written for the results returned only
    assert len(statements) == 3  # districts check, ranking, documents
    assert max(rows for _, rows in statements) <= 3
