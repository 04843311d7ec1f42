"""Investor matching: scoring (pure), combinations, the service on a hand-built site, HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import Connection, Engine, text

from app.db.session import set_actor
from app.domain.clock import today
from app.domain.errors import Forbidden, InvalidInput, Unauthorized
from app.domain.match_combination import combine
from app.domain.matching import Candidate, MatchRequest, rank, score
from app.domain.parcel_combination import adjacency_groups, pick_combination
from app.domain.roles import PUBLIC, STAFF, Principal, Role
from app.services.match_combinations import adjacent_pairs
from app.services.matching import find_matches
from tests.conftest import Clock
from tests.resource_client import Client
from tests.shapes import LEIPZIG_X, LEIPZIG_Y, insert_parcel, insert_site

REF = date(2026, 1, 15)
LEIPZIG = "14713"
ANALYST = Principal(Role.ANALYST, 901, "t-analyst")
EDITOR = Principal(Role.EDITOR, 902, "t-editor", frozenset({LEIPZIG}))


def cand(pid: int = 1, **over: Any) -> Candidate:
    """A logistics parcel in Leipzig meeting everything a full request below asks for."""
    values: dict[str, Any] = {
        "id": pid, "site_id": 1, "district_ags": LEIPZIG, "net_area_ha": 12.0,
        "availability": "sofort", "available_from": None, "restriction_level": "keine",
        "rail_siding": True, "operation_24h": True, "distance_junction_km": 3.0,
        "user_groups": ("logistik",), "district_name": "Leipzig, Stadt",
    }
    values.update(over)
    return Candidate(**values)


FULL = MatchRequest(
    net_area_min_ha=10, net_area_max_ha=15, user_group="logistik",
    needed_by=date(2026, 6, 30), max_junction_km=5, rail_siding_required=True,
    operation_24h_required=True, preferred_districts=(LEIPZIG,),
)


def _by_key(criteria: Any) -> dict[str, Any]:
    return {c.key: c for c in criteria}


# --- scoring (pure) ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("over", "expected", "missed"),
    [
        ({}, 100.0, set()),
        # 100 − 15 (junction) − 10 (rail)
        ({"distance_junction_km": 7.3, "rail_siding": False}, 75.0, {"junction", "rail_siding"}),
        ({"net_area_ha": 20.0}, 70.0, {"net_area"}),  # above the maximum
        ({"availability": "kurzfristig"}, 75.0, {"available_by"}),  # latest 15.01.2028
        ({"available_from": date(2026, 5, 1), "availability": "mittelfristig"}, 100.0, set()),
        ({"district_ags": "14729", "district_name": "Landkreis Leipzig"}, 90.0, {"district"}),
        ({"distance_junction_km": None, "operation_24h": False}, 75.0,
         {"junction", "operation_24h"}),
    ],
)
def test_score_is_the_share_of_weight_met(over: dict[str, Any], expected: float,
                                          missed: set[str]) -> None:
    points, criteria = score(FULL, cand(**over), REF)
    assert points == expected
    assert {c.key for c in criteria if not c.met} == missed
    assert [c.key for c in criteria] == [
        "user_group", "restriction", "net_area", "available_by", "junction", "rail_siding",
        "operation_24h", "district"]
    assert sum(c.weight for c in criteria) == 100


def test_only_asked_criteria_count() -> None:
    request = MatchRequest(net_area_min_ha=10, user_group="logistik", max_junction_km=5)
    points, criteria = score(request, cand(distance_junction_km=7.3), REF)
    assert points == 66.7  # 30 of 45 (area 30 + junction 15)
    assert [c.key for c in criteria] == ["user_group", "restriction", "net_area", "junction"]
    below, _ = score(request, cand(net_area_ha=9.99, distance_junction_km=7.3), REF)
    assert below == 0.0


def test_reasons_are_german_and_name_the_values() -> None:
    _, criteria = score(FULL, cand(net_area_ha=12.4, distance_junction_km=7.3,
                                   availability="kurzfristig", district_ags="14729",
                                   district_name="Landkreis Leipzig"), REF)
    reasons = {k: c.reason for k, c in _by_key(criteria).items()}
    assert reasons["net_area"] == "Nettofläche 12,4 ha liegt im gewünschten Rahmen von 10 bis 15 ha"
    assert reasons["junction"] == "Autobahnanschluss 7,3 km entfernt – mehr als die gewünschten 5 km"
    assert reasons["available_by"] == (
        "Verfügbarkeit kurzfristig (≤ 2 Jahre), sicher erst ab 15.01.2028 – "
        "später als benötigt (30.06.2026)")
    assert reasons["district"] == (
        "liegt in Landkreis Leipzig (14729) – nicht unter den bevorzugten Kreisen (14713)")
    assert reasons["user_group"] == "geeignet für Logistik"
    _, small = score(FULL, cand(net_area_ha=8.0), REF)
    assert _by_key(small)["net_area"].reason == (
        "Nettofläche 8 ha – weniger als der Bedarf von mindestens 10 ha")


@pytest.mark.parametrize(
    ("over", "tolerance", "key"),
    [({"user_groups": ("handwerk_gewerbe",)}, "gering", "user_group"),
     ({"restriction_level": "erhoeht"}, "gering", "restriction"),
     ({"restriction_level": "unbekannt"}, "erhoeht", "restriction")],
)
def test_failed_hard_condition_scores_zero(over: dict[str, Any], tolerance: str,
                                           key: str) -> None:
    request = FULL.model_copy(update={"restriction_tolerance": tolerance})
    points, criteria = score(request, cand(**over), REF)
    assert points == 0.0
    assert not _by_key(criteria)[key].met
    assert _by_key(criteria)[key].weight == 0


def test_ranking_ties_prefer_larger_area_then_smaller_id() -> None:
    request = MatchRequest(net_area_min_ha=5, user_group="logistik")
    ranked = rank(request, [cand(3, net_area_ha=6.0), cand(2, net_area_ha=8.0),
                            cand(1, net_area_ha=6.0)], REF)
    assert [s.candidate.id for s in ranked] == [2, 1, 3]
    assert {s.score for s in ranked} == {100.0}


def test_combination_is_scored_by_its_worst_part() -> None:
    parts = [cand(1, net_area_ha=4.0), cand(2, net_area_ha=4.0, rail_siding=False,
                                            distance_junction_km=6.0)]
    unit = combine(parts, REF, (LEIPZIG,))
    points, criteria = score(FULL.model_copy(update={"net_area_min_ha": 8}), unit, REF)
    assert points == 75.0  # junction (15) and rail (10) missed by part 2
    by_key = _by_key(criteria)
    assert by_key["net_area"].reason == (
        "Nettofläche zusammen 8 ha liegt im gewünschten Rahmen von 8 bis 15 ha")
    assert by_key["rail_siding"].reason == "ungünstigste Teilfläche: kein Gleisanschluss – gefordert"
    assert by_key["junction"].reason.startswith("ungünstigste Teilfläche: Autobahnanschluss 6 km")


def test_combination_outside_a_preferred_district_misses_it() -> None:
    parts = [cand(1), cand(2, district_ags="14729", district_name="Landkreis Leipzig")]
    unit = combine(parts, REF, (LEIPZIG,))
    assert unit.district_ags == "14729"
    assert unit.available_from == REF  # both "sofort"
    with pytest.raises(ValueError, match="one site"):
        combine([cand(1), cand(2, site_id=2)], REF)


@pytest.mark.parametrize(
    ("areas", "edges", "need", "expected"),
    [
        ({1: 4.0, 2: 3.0, 3: 5.0}, [(1, 2), (2, 3)], 7.0, (1, 2)),
        ({1: 4.0, 2: 3.0, 3: 5.0}, [(1, 2), (2, 3)], 8.0, (2, 3)),
        ({1: 4.0, 2: 3.0, 3: 5.0}, [(1, 2), (2, 3)], 9.0, (1, 2, 3)),  # 1 + 3 not adjacent
        ({1: 2.0, 2: 2.0, 3: 4.0}, [(1, 2), (2, 3), (1, 3)], 4.0, (3,)),  # fewer parcels
        ({1: 2.0, 2: 2.0}, [], 3.0, None),
        ({1: 2.0, 2: 2.0}, [(1, 2)], 5.0, None),
    ],
)
def test_pick_combination_least_surplus(areas: dict[int, float], edges: list[tuple[int, int]],
                                        need: float, expected: tuple[int, ...] | None) -> None:
    assert pick_combination(areas, edges, need) == expected


def test_pick_combination_greedy_on_large_groups() -> None:
    # A path of 20 parcels: 10 ha in the middle, 1 ha elsewhere.
    areas = dict.fromkeys(range(1, 21), 1.0)
    areas[10] = 10.0
    path = [(i, i + 1) for i in range(1, 20)]
    chosen = pick_combination(areas, path, 12.5)
    assert chosen is not None
    assert sum(areas[i] for i in chosen) == 13.0
    assert 10 in chosen
    assert adjacency_groups(chosen, path) == [chosen]  # connected
    assert pick_combination(areas, path, 40.0) is None


def test_adjacency_groups() -> None:
    assert adjacency_groups([4, 3, 2, 1], [(1, 3), (2, 4)]) == [(1, 3), (2, 4)]


def test_request_validation() -> None:
    with pytest.raises(ValidationError) as info:
        MatchRequest(net_area_min_ha=5, user_group="brauerei")
    assert info.value.errors()[0]["loc"] == ("user_group",)
    with pytest.raises(ValidationError) as info:
        MatchRequest(net_area_min_ha=5, net_area_max_ha=4, user_group="logistik")
    assert info.value.errors()[0]["loc"] == ("net_area_max_ha",)
    for bad in ({"net_area_min_ha": 0}, {"preferred_districts": ["1471"]}, {"limit": 51},
                {"restriction_tolerance": "unbekannt"}, {"colour": "rot"}):
        with pytest.raises(ValidationError):
            MatchRequest(**{"net_area_min_ha": 5, "user_group": "logistik", **bad})
    ok = MatchRequest(net_area_min_ha=5, user_group="logistik",
                      preferred_districts=["14713", "14729", "14713"])
    assert ok.preferred_districts == ("14713", "14729")


# --- the service on a hand-built site ---------------------------------------------------


def rect(x: float, y: float, w: float, h: float) -> str:
    """EWKT of an axis-aligned rectangle (lower-left x, y; width, height in m), EPSG:25832."""
    return (f"SRID=25832;MULTIPOLYGON((({x} {y},{x + w} {y},{x + w} {y + h},"
            f"{x} {y + h},{x} {y})))")


@pytest.fixture(scope="module")
def reserved(engine: Engine, demo_loaded: dict[str, int]) -> Iterator[Connection]:
    """A transaction, rolled back after the module, in which no demo parcel is available
    (all are reserved: rewriting 600 parcels and their history once, not once a test)."""
    with engine.connect() as connection:
        transaction = connection.begin()
        set_actor(connection, "pytest")
        connection.execute(text("UPDATE parcels SET marketing_status = 'reserviert' "
                                "WHERE marketing_status = 'verfuegbar'"))
        try:
            yield connection
        finally:
            transaction.rollback()


@pytest.fixture
def only_ours(reserved: Connection) -> Iterator[Connection]:
    """The :func:`reserved` transaction inside a savepoint that is rolled back after the test:
    the test's parcels are the only available ones, and no test sees another's."""
    savepoint = reserved.begin_nested()
    try:
        yield reserved
    finally:
        if savepoint.is_active:
            savepoint.rollback()


def _parcel(conn: Connection, site: int, geom: str, junction_km: float | None = None,
            **extra: Any) -> int:
    extra.setdefault("user_groups", ["logistik"])
    pid = insert_parcel(conn, site, geom, **extra)
    if junction_km is not None:  # the trigger derives it from the geometry; pin it
        conn.execute(text("UPDATE parcels SET distance_junction_km = :km WHERE id = :id"),
                     {"km": junction_km, "id": pid})
    return pid


@pytest.fixture
def singles(only_ours: Connection) -> dict[str, int]:
    """Parcels 1 km apart south-west of Leipzig Markt, with known sizes and attributes."""
    conn = only_ours
    site = insert_site(conn, name="Matching-Testgebiet")
    x, y = round(LEIPZIG_X) - 4000, round(LEIPZIG_Y) - 2500

    def at(i: int, side: float) -> str:
        return rect(x + 1000 * i, y, side, side)

    return {
        "full": _parcel(conn, site, at(0, 300), 2.0, rail_siding=True, operation_24h=True,
                        owner_name="Geheim GmbH"),                       # 9 ha
        "far": _parcel(conn, site, at(1, 300), 7.3, rail_siding=True,
                       restriction_level="gering"),                      # 9 ha
        "norail": _parcel(conn, site, at(2, 400), 2.0),                  # 16 ha
        "small": _parcel(conn, site, at(3, 200), 1.0, rail_siding=True),  # 4 ha
        "restricted": _parcel(conn, site, at(4, 300), 2.0, rail_siding=True,
                              restriction_level="erhoeht"),
        "unknown": _parcel(conn, site, at(5, 300), 2.0, rail_siding=True,
                           restriction_level="unbekannt"),
        "other_group": _parcel(conn, site, at(6, 300), 2.0, rail_siding=True,
                               user_groups=["handwerk_gewerbe"]),
        "reserved": _parcel(conn, site, at(7, 300), 2.0, rail_siding=True,
                            marketing_status="reserviert"),
    }


SINGLES_REQUEST = MatchRequest(net_area_min_ha=5, user_group="logistik", max_junction_km=5,
                               rail_siding_required=True, preferred_districts=(LEIPZIG,))


def test_ranking_on_known_parcels(only_ours: Connection, singles: dict[str, int]) -> None:
    out = find_matches(only_ours, SINGLES_REQUEST, ANALYST, today())
    # asked: area 30, junction 15, rail 10, district 10 = 65
    assert [(r.parcel_id, r.score) for r in out.results] == [
        (singles["full"], 100.0), (singles["norail"], 84.6), (singles["far"], 76.9)]
    assert out.combinations == ()
    far = _by_key(out.results[2].criteria)
    assert not far["junction"].met
    assert far["junction"].reason == "Autobahnanschluss 7,3 km entfernt – mehr als die gewünschten 5 km"
    assert far["district"].reason == "liegt in Leipzig, Stadt (14713), einem bevorzugten Kreis"
    assert out.results[0].parcel["id"] == singles["full"]
    assert out.results[0].parcel["owner_name"] == "Geheim GmbH"  # analysts see internals
    assert out.enquiry_id is None
    limited = find_matches(only_ours, SINGLES_REQUEST.model_copy(update={"limit": 2}),
                           ANALYST, today())
    assert [r.parcel_id for r in limited.results] == [singles["full"], singles["norail"]]


def test_public_sees_only_published_fields(only_ours: Connection,
                                           singles: dict[str, int]) -> None:
    out = find_matches(only_ours, SINGLES_REQUEST, PUBLIC, today())
    assert out.results[0].parcel_id == singles["full"]
    assert "owner_name" not in out.results[0].parcel
    assert out.results[0].parcel["net_area_ha"] == pytest.approx(9.0, abs=1e-6)


@pytest.mark.parametrize(
    ("tolerance", "expected"),
    [("keine", {"full", "norail"}), ("gering", {"full", "norail", "far"}),
     ("erhoeht", {"full", "norail", "far", "restricted"})],  # "unbekannt" never
)
def test_restriction_tolerance(only_ours: Connection, singles: dict[str, int], tolerance: str,
                               expected: set[str]) -> None:
    request = SINGLES_REQUEST.model_copy(update={"restriction_tolerance": tolerance})
    out = find_matches(only_ours, request, ANALYST, today())
    assert {r.parcel_id for r in out.results} == {singles[k] for k in expected}


@pytest.fixture
def adjacent(only_ours: Connection) -> dict[str, int]:
    """A site whose parcels are each too small; A|B|C share edges, H lies 20 m and D 50 m
    from A; E (another site) touches C.

    ::

        D   A B C E         D: 2 ha, A: 4 ha, B: 4 ha, C: 2.25 ha, H: 2 ha
            H               E: 3.75 ha on another site
    """
    conn = only_ours
    site = insert_site(conn, name="Kombi-Testgebiet")
    other = insert_site(conn, name="Nachbargebiet")
    x, y = round(LEIPZIG_X) + 2500, round(LEIPZIG_Y) - 3000
    return {
        "site": site,
        "A": _parcel(conn, site, rect(x, y, 200, 200), 2.0, rail_siding=True),
        "B": _parcel(conn, site, rect(x + 200, y, 200, 200), 2.0, rail_siding=True),
        "C": _parcel(conn, site, rect(x + 400, y, 150, 150), 2.0, rail_siding=True),
        "D": _parcel(conn, site, rect(x - 150, y, 100, 200), 2.0, rail_siding=True),
        "H": _parcel(conn, site, rect(x, y - 145, 160, 125), 2.0, rail_siding=False),
        "E": _parcel(conn, other, rect(x + 550, y, 187.5, 200), 2.0, rail_siding=True),
    }


def test_adjacency_is_within_30_m_on_one_site(only_ours: Connection,
                                              adjacent: dict[str, int]) -> None:
    request = MatchRequest(net_area_min_ha=6, user_group="logistik")
    pairs = adjacent_pairs(only_ours, request, [adjacent["site"]], viewer=STAFF,
                           reference=today())
    a = adjacent
    assert set(pairs) == {tuple(sorted(p)) for p in [(a["A"], a["B"]), (a["B"], a["C"]),
                                                     (a["A"], a["H"])]}


def test_combination_offered_when_no_single_parcel_is_large_enough(
        only_ours: Connection, adjacent: dict[str, int]) -> None:
    request = MatchRequest(net_area_min_ha=6, user_group="logistik", rail_siding_required=True)
    out = find_matches(only_ours, request, PUBLIC, today())
    assert out.results == ()
    assert len(out.combinations) == 1
    combo = out.combinations[0]
    # A + H = 6 ha exactly (A + D would too, but D is 50 m away; B + C = 6.25 ha).
    assert combo.parcel_ids == tuple(sorted((adjacent["A"], adjacent["H"])))
    assert combo.site_id == adjacent["site"]
    assert combo.net_area_ha == pytest.approx(6.0, abs=1e-6)
    assert combo.score == 75.0  # area 30 of 40; H has no rail siding
    assert _by_key(combo.criteria)["rail_siding"].reason == (
        "ungünstigste Teilfläche: kein Gleisanschluss – gefordert")
    assert [p["id"] for p in combo.parcels] == list(combo.parcel_ids)
    # With one single parcel large enough, no combination is offered.
    smaller = find_matches(only_ours, request.model_copy(update={"net_area_min_ha": 4}),
                           PUBLIC, today())
    assert smaller.results and smaller.combinations == ()


def _enquiries(conn: Connection) -> int:
    return int(conn.execute(text("SELECT count(*) FROM enquiries")).scalar_one())


def test_saving_an_enquiry(only_ours: Connection, singles: dict[str, int]) -> None:
    request = SINGLES_REQUEST.model_copy(update={"save_enquiry": True,
                                                 "needed_by": date(2027, 1, 1)})
    out = find_matches(only_ours, request, EDITOR, today())
    assert out.results and out.enquiry_id is not None
    row = only_ours.execute(text("SELECT * FROM enquiries WHERE id = :id"),
                            {"id": out.enquiry_id}).one()
    assert (row.received_on, row.district_ags, row.required_net_area_ha_min,
            row.required_net_area_ha_max, row.user_group, row.needed_by, row.outcome,
            row.created_by) == (today(), LEIPZIG, 5.0, None, "logistik",
                                date(2027, 1, 1), "offen", EDITOR.actor)
    assert row.requirements == request.model_dump(mode="json")
    unmet = request.model_copy(update={"net_area_min_ha": 10_000.0})
    none = find_matches(only_ours, unmet, EDITOR, today())
    assert none.results == () and none.combinations == ()
    outcome = only_ours.execute(text("SELECT outcome FROM enquiries WHERE id = :id"),
                                {"id": none.enquiry_id}).scalar_one()
    assert outcome == "kein_angebot"


@pytest.mark.parametrize(("principal", "error"), [(PUBLIC, Unauthorized), (ANALYST, Forbidden)])
def test_saving_needs_a_writer(conn: Connection, principal: Principal,
                               error: type[Exception]) -> None:
    before = _enquiries(conn)
    request = MatchRequest(net_area_min_ha=1, user_group="logistik", save_enquiry=True)
    with pytest.raises(error):
        find_matches(conn, request, principal, today())
    assert _enquiries(conn) == before


def test_unknown_preferred_district_is_named(conn: Connection) -> None:
    request = MatchRequest(net_area_min_ha=1, user_group="logistik",
                           preferred_districts=(LEIPZIG, "99999"))
    with pytest.raises(InvalidInput) as info:
        find_matches(conn, request, PUBLIC, today())
    assert info.value.problems[0].field == "preferred_districts"
    assert "99999" in info.value.detail


def test_parcels_of_withdrawn_sites_are_not_offered(only_ours: Connection,
                                                    singles: dict[str, int]) -> None:
    site = only_ours.execute(text("SELECT site_id FROM parcels WHERE id = :id"),
                             {"id": singles["full"]}).scalar_one()
    only_ours.execute(text("UPDATE sites SET withdrawn_at = now() WHERE id = :id"), {"id": site})
    out = find_matches(only_ours, SINGLES_REQUEST, ANALYST, today())
    assert out.results == ()

# --- HTTP ---------------------------------------------------------------------------


def test_http_contract(clients: dict[str, Client]) -> None:
    body = {"net_area_min_ha": 0.01, "user_group": "logistik", "max_junction_km": 50}
    response = clients["public"].post("/matches", body)
    assert response.status_code == 200, response.text
    data = response.json()
    assert set(data) == {"request", "reference_date", "results", "combinations", "enquiry_id"}
    assert data["request"]["user_group"] == "logistik"
    assert data["request"]["restriction_tolerance"] == "gering"
    assert date.fromisoformat(data["reference_date"]) == today()
    assert data["enquiry_id"] is None and data["combinations"] == []
    assert data["results"], "the demo has available logistics parcels"
    scores = [r["score"] for r in data["results"]]
    assert scores == sorted(scores, reverse=True)
    first = data["results"][0]
    assert set(first) == {"parcel_id", "score", "criteria", "parcel"}
    assert first["parcel"]["id"] == first["parcel_id"]
    assert "owner_name" not in first["parcel"]  # the public sees published fields only
    assert {c["key"] for c in first["criteria"]} == {
        "user_group", "restriction", "net_area", "junction"}
    assert all(set(c) == {"key", "met", "weight", "reason"} for c in first["criteria"])


def test_http_reference_date_is_the_services_today(clients: dict[str, Client],
                                                   clock: Clock) -> None:
    clock.set_today(date(2026, 1, 15))
    body = {"net_area_min_ha": 0.01, "user_group": "logistik"}
    response = clients["public"].post("/matches", body)
    assert response.json()["reference_date"] == "2026-01-15"


def test_http_unknown_user_group_is_a_problem(clients: dict[str, Client]) -> None:
    response = clients["public"].post("/matches", {"net_area_min_ha": 5, "user_group": "brauerei"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in response.json()["errors"]] == ["user_group"]


def test_http_saving_without_a_key_is_401(clients: dict[str, Client]) -> None:
    response = clients["public"].post("/matches", {
        "net_area_min_ha": 5, "user_group": "logistik", "save_enquiry": True})
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"].startswith("Bearer")


def _saved_enquiry(conn: Connection, enquiry_id: int) -> Any:
    return conn.execute(text("SELECT district_ags, requirements FROM enquiries WHERE id = :id"),
                        {"id": enquiry_id}).one()


def test_http_saved_enquiry_belongs_to_the_editors_district(clients: dict[str, Client],
                                                            conn: Connection) -> None:
    body = {"net_area_min_ha": 5, "user_group": "logistik", "save_enquiry": True,
            "preferred_districts": ["15088"]}
    response = clients["editor"].post("/matches", body)
    assert response.status_code == 200, response.text
    row = _saved_enquiry(conn, response.json()["enquiry_id"])
    assert row.district_ags == LEIPZIG  # the Leipzig editor's, not the investor's preference
    assert row.requirements["preferred_districts"] == ["15088"]
    # An admin (no district of its own) saves a regional enquiry.
    response = clients["admin"].post("/matches", body)
    assert response.status_code == 200, response.text
    row = _saved_enquiry(conn, response.json()["enquiry_id"])
    assert row.district_ags is None
    assert row.requirements["preferred_districts"] == ["15088"]
