"""``GET /api/v1/reports/portfolio``: its figures against the balance and the summary, a
hand-built data set pinning the premium sites and the inter-municipal allocation, changes
between two days, and refused parameters.

Hand-built set (net = gross: serviced squares or rectangles, EPSG:25832, in Leipzig city and,
for the straddling parcel, across its straight boundary with a neighbour):

  site A (no partners)  a1 9 ha sofort, 24 h, junction 2 km, 1000 Mbit/s
                        a2 1 ha sofort, 24 h, junction 3 km, 250 Mbit/s
                        a3 4 ha kurzfristig, 24 h, junction 2 km, 1000 Mbit/s
  site B (no partners)  b1 9 ha sofort, 24 h, junction 1 km, 1000 Mbit/s, rail siding
                        b2 16 ha sofort, no 24 h, junction 1 km, 1000 Mbit/s
  site C (partners M1 60 %, M2 40 %)
                        c1 1 ha across the M1/M2 boundary (a straight boundary segment through
                           its centre: exactly half in each), junction 10 km
                        c2 4 ha inside M1, junction 10 km
Default criteria (≥ 10 ha of sofort, 24 h, ≤ 5 km, ≥ 100 Mbit/s): A qualifies with a1 + a2
= 10 ha; B only with 9 ha (b2 lacks 24 h); C is too far from the motorway.
Site C: 5 ha → by share M1 3.0, M2 2.0; by location M1 4.5, M2 0.5.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import Connection, event, text

from app.domain.clock import LOCAL_ZONE
from app.domain.premium import PremiumCriteria, parcel_qualifies, site_is_premium
from tests.conftest import Clock
from tests.resource_client import Client, problem_fields
from tests.shapes import insert_parcel, insert_site, square

X, Y = 731_000.0, 5_690_000.0
PATH = "/reports/portfolio"


def _portfolio(client: Client, **params: Any) -> dict[str, Any]:
    response = client.get(PATH, **params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    return dict(response.json())


def _summary(client: Client, **params: Any) -> dict[str, Any]:
    response = client.get("/parcels/summary", **params)
    assert response.status_code == 200, response.text
    return dict(response.json())


def _balance_areas(client: Client, **params: Any) -> dict[str, dict[str, Any]]:
    response = client.get("/balance", **params)
    assert response.status_code == 200, response.text
    return {a["ags"] or "region": a for a in response.json()["areas"]}


def _past_day(conn: Connection) -> str:
    """A day of the demo history with fewer parcels on the market than today."""
    first = conn.execute(text("SELECT min(changed_at) FROM parcel_history")).scalar_one()
    return (first.date().replace(day=1).replace(year=first.year + 2)).isoformat()


CASES = {
    "region": {},
    "district": {"district": "14713"},
    "filtered": {"category": "restflaeche_bestandsgebiet,erweiterungsflaeche",
                 "availability_horizon": "kurzfristig", "user_group": "logistik"},
    "municipality": {"municipality": "15084550"},
}


@pytest.mark.parametrize("case", [*CASES, "past"])
@pytest.mark.parametrize("role", ["public", "analyst"])
def test_totals_equal_the_balance_and_the_summary(clients: dict[str, Client], conn: Connection,
                                                  case: str, role: str) -> None:
    params = dict(CASES.get(case, {}))
    if case == "past":
        params["at"] = _past_day(conn)
    client = clients[role]
    report = _portfolio(client, **params)
    summary = _summary(client, by="district", **params)
    region = _balance_areas(client, **params)["region"]
    total = report["total"]
    assert total["parcels"] > 0
    assert total["parcels"] == summary["total"]["parcels"] == region["supply"]["parcels"]
    assert total["net_ha"] == pytest.approx(summary["total"]["net_ha"], abs=1e-3)
    assert total["net_ha"] == pytest.approx(region["supply"]["net_ha"], abs=1e-3)
    assert total["gross_ha"] == pytest.approx(summary["total"]["gross_ha"], abs=1e-3)
    # per district, side by side with the summary's groups and the balance's districts
    groups = {g["district"]: g for g in summary["groups"]}
    rows = {r["district_ags"]: r for r in report["districts"]["rows"]}
    for ags, group in groups.items():
        assert rows[ags]["parcels"] == group["parcels"]
        assert rows[ags]["net_ha"] == pytest.approx(group["net_ha"], abs=1e-3)
    assert sum(r["parcels"] for r in rows.values()) == total["parcels"]
    assert report["districts"]["total"]["net_ha"] == total["net_ha"]
    assert report["supply"]["total"]["net_ha"] == total["net_ha"]
    assert sum(r["parcels"] for r in report["supply"]["rows"]) == total["parcels"]
    assert sum(r["net_ha"] for r in report["supply"]["rows"]) == pytest.approx(
        total["net_ha"], abs=0.01)
    availability = report["availability"]["total"]
    assert sum(availability[c] for c in ("sofort", "kurzfristig", "mittelfristig",
                                         "langfristig", "unbekannt")) == pytest.approx(
        total["net_ha"], abs=0.01)
    # the balance side by side: the supply of each row is the balance's
    balance = _balance_areas(client, **params)
    for row in report["balance"]["rows"]:
        area = balance[row["area_ags"] or "region"]
        assert row["supply_net_ha"] == area["supply_scope_net_ha"]
        assert row["reach_years"] == area["scenarios"][row["scenario"]]["reach_years"]
    if case == "past":  # the history, not today's state
        assert report["at"] == params["at"]
        assert total["net_ha"] != pytest.approx(_portfolio(client)["total"]["net_ha"])
    assert report["public"] is (role == "public")


def test_the_scope_follows_district_and_municipality(clients: dict[str, Client]) -> None:
    region = _portfolio(clients["public"])
    assert region["scope"]["level"] == "region" and len(region["districts"]["rows"]) == 9
    assert {r["area_ags"] for r in region["balance"]["rows"]} >= {None, "14713", "15002"}
    district = _portfolio(clients["public"], district="14713")
    assert district["scope"] == {"level": "district", "label": "Leipzig, Stadt",
                                 "districts": ["14713"], "municipalities": []}
    assert [r["district_ags"] for r in district["districts"]["rows"]] == ["14713"]
    assert {r["area_ags"] for r in district["balance"]["rows"]} == {"14713"}
    town = _portfolio(clients["public"], municipality="15084550")
    assert town["scope"]["level"] == "municipality"
    assert town["scope"]["municipalities"][0]["name"] == "Weißenfels"
    assert [r["district_ags"] for r in town["districts"]["rows"]] == ["15084"]
    # the public sees the marketed supply only; staff may ask for sold land too
    sold = _portfolio(clients["analyst"], marketing_status="verkauft")
    assert sold["total"]["parcels"] == _summary(clients["analyst"], marketing_status="verkauft"
                                                )["total"]["parcels"]


def test_user_groups_overlap_and_say_so(clients: dict[str, Client]) -> None:
    report = _portfolio(clients["analyst"])
    rows = report["user_groups"]["rows"]
    assert report["user_groups"]["total"] is None
    assert sum(r["parcels"] for r in rows) > report["total"]["parcels"]
    summary = _summary(clients["analyst"], by="user_group")
    by_group = {g["user_group"]: g for g in summary["groups"]}
    for row in rows:
        assert row["parcels"] == by_group[row["user_group"]]["parcels"]
        assert row["net_ha"] == pytest.approx(by_group[row["user_group"]]["net_ha"], abs=1e-3)
    assert any("überschneiden" in n for n in report["notes"])


def test_premium_sites_follow_the_pure_rule_on_the_demo(clients: dict[str, Client],
                                                        conn: Connection) -> None:
    """The SQL's choice equals :func:`parcel_qualifies` applied parcel by parcel."""
    parcels = conn.execute(text(
        "SELECT p.site_id, p.net_area_ha, p.availability, p.operation_24h, "
        "p.distance_junction_km, p.rail_siding, p.broadband_mbps FROM parcels p "
        "JOIN sites s ON s.id = p.site_id WHERE s.withdrawn_at IS NULL "
        "AND p.marketing_status IN ('verfuegbar', 'reserviert')")).mappings().all()
    for criteria, params in (
            (PremiumCriteria(), {}),
            (PremiumCriteria(min_net_ha=5, availability="kurzfristig", operation_24h=False,
                             motorway_km=8, broadband_mbps=0),
             {"premium_min_net_ha": 5, "premium_availability": "kurzfristig",
              "premium_24h": "false", "premium_motorway_km": 8,
              "premium_broadband_mbps": 0})):
        qualifying: dict[int, float] = {}
        for p in parcels:
            if parcel_qualifies(criteria, p):
                qualifying[p["site_id"]] = qualifying.get(p["site_id"], 0) + p["net_area_ha"]
        expected = {s for s, ha in qualifying.items() if site_is_premium(criteria, ha)}
        report = _portfolio(clients["analyst"], **params)
        listed = {r["site_id"] for r in report["premium_sites"]["rows"]}
        assert listed == expected and listed
        assert report["total"]["premium_sites"] == len(expected)


# --- the hand-built data set --------------------------------------------------------------

def _straight_boundary(conn: Connection) -> dict[str, Any]:
    """The longest straight segment of Leipzig city's boundary with a neighbour: its
    midpoint, the two municipalities, and a point well inside Leipzig."""
    row = conn.execute(text("""
        WITH pairs AS (
          SELECT a.ags AS m1, b.ags AS m2, ST_LineMerge(ST_CollectionExtract(ST_Intersection(
                 ST_Boundary(a.geom_25832), ST_Boundary(b.geom_25832)), 2)) AS line
            FROM municipalities a JOIN municipalities b ON b.ags <> a.ags
             AND ST_Touches(a.geom_25832, b.geom_25832) WHERE a.ags = '14713000'),
        segments AS (SELECT m1, m2, (ST_DumpSegments(line)).geom AS s FROM pairs)
        SELECT m1, m2, ST_Length(s) AS length, ST_X(ST_LineInterpolatePoint(s, 0.5)) AS x,
               ST_Y(ST_LineInterpolatePoint(s, 0.5)) AS y
          FROM segments ORDER BY ST_Length(s) DESC LIMIT 1""")).mappings().one()
    assert row["length"] > 600  # the 100 m square meets this segment only
    return dict(row)


@pytest.fixture
def built(conn: Connection) -> dict[str, Any]:
    edge = _straight_boundary(conn)
    a = insert_site(conn, "14713000", name="Handgebaut A")
    b = insert_site(conn, "14713000", name="Handgebaut B")
    c = insert_site(conn, edge["m1"], name="Handgebaut C (interkommunal)")
    fast = {"operation_24h": True, "broadband_mbps": 1000}
    ids = {
        "a1": insert_parcel(conn, a, square(X, Y, 300), **fast),
        "a2": insert_parcel(conn, a, square(X + 400, Y, 100), operation_24h=True,
                            broadband_mbps=250),
        "a3": insert_parcel(conn, a, square(X + 600, Y, 200), availability="kurzfristig", **fast),
        "b1": insert_parcel(conn, b, square(X, Y + 600, 300), rail_siding=True, **fast),
        "b2": insert_parcel(conn, b, square(X + 400, Y + 600, 400), broadband_mbps=1000),
        "c1": insert_parcel(conn, c, square(edge["x"] - 50, edge["y"] - 50, 100), **fast),
    }
    inside = conn.execute(text(
        "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(ST_Buffer(geom_25832, -800)) "
        "AS p FROM municipalities WHERE ags = :m) q"), {"m": edge["m1"]}).one()
    ids["c2"] = insert_parcel(conn, c, square(inside[0], inside[1], 200), **fast)
    for name, km in (("a1", 2), ("a2", 3), ("a3", 2), ("b1", 1), ("b2", 1), ("c1", 10),
                     ("c2", 10)):
        conn.execute(text("UPDATE parcels SET distance_junction_km = :km WHERE id = :id"),
                     {"km": km, "id": ids[name]})
    conn.execute(text("INSERT INTO site_partners (site_id, municipality_ags, share_pct) "
                      "VALUES (:c, :m1, 60), (:c, :m2, 40)"), {"c": c, **edge})
    conn.execute(text("SET CONSTRAINTS site_partners_sum_100 IMMEDIATE"))
    assert conn.execute(text("SELECT municipality_ags FROM parcels WHERE id = :id"),
                        {"id": ids["c2"]}).scalar_one() == edge["m1"]
    return {"sites": {"a": a, "b": b, "c": c}, "parcels": ids, **edge}


def _built_report(client: Client, built: dict[str, Any], **params: Any) -> dict[str, Any]:
    return _portfolio(client, site_id=",".join(str(s) for s in built["sites"].values()),
                      **params)


def _premium(report: dict[str, Any]) -> list[tuple[str, int, float]]:
    return [(r["site_name"], r["qualifying_parcels"], r["qualifying_net_ha"])
            for r in report["premium_sites"]["rows"]]


def test_premium_sites_of_the_hand_built_set(clients: dict[str, Client],
                                             built: dict[str, Any]) -> None:
    public = clients["public"]
    report = _built_report(public, built)
    assert report["total"]["net_ha"] == pytest.approx(44.0, abs=1e-3)
    [a] = report["premium_sites"]["rows"]
    assert a == a | {
        "site_id": built["sites"]["a"], "site_name": "Handgebaut A", "district_ags": "14713",
        "site_parcels": 3, "site_net_ha": 14.0, "qualifying_parcels": 2,
        "qualifying_net_ha": 10.0, "largest_parcel_net_ha": 9.0, "best_availability": "sofort",
        "nearest_junction_km": 2.0, "broadband_mbps": 1000, "rail_siding": False,
        "operation_24h": True, "inter_municipal": False}
    assert report["premium_sites"]["total"]["qualifying_net_ha"] == 10.0
    assert report["districts"]["total"]["premium_sites"] == 1
    assert report["premium_criteria"]["min_net_ha"] == 10.0
    # each criterion moves the selection as computed by hand
    assert _premium(_built_report(public, built, premium_min_net_ha=9)) == [
        ("Handgebaut A", 2, 10.0), ("Handgebaut B", 1, 9.0)]
    assert _premium(_built_report(public, built, premium_24h="false")) == [
        ("Handgebaut B", 2, 25.0), ("Handgebaut A", 2, 10.0)]
    assert _premium(_built_report(public, built, premium_availability="kurzfristig")) == [
        ("Handgebaut A", 3, 14.0)]
    assert _premium(_built_report(public, built, premium_motorway_km=1.5,
                                  premium_min_net_ha=0)) == [("Handgebaut B", 1, 9.0)]
    assert _premium(_built_report(public, built, premium_rail_siding="true",
                                  premium_min_net_ha=5)) == [("Handgebaut B", 1, 9.0)]
    # ties in area go by site id
    assert _premium(_built_report(public, built, premium_broadband_mbps=500,
                                  premium_min_net_ha=0, premium_motorway_km=20)) == [
        ("Handgebaut A", 1, 9.0), ("Handgebaut B", 1, 9.0),
        ("Handgebaut C (interkommunal)", 2, 5.0)]


def test_inter_municipal_allocation_by_share_and_by_location(clients: dict[str, Client],
                                                             built: dict[str, Any]) -> None:
    report = _built_report(clients["public"], built)
    m1, m2 = built["m1"], built["m2"]
    rows = {(r["site_id"], r["municipality_ags"]): r for r in report["partner_sites"]["rows"]}
    c = built["sites"]["c"]
    assert set(rows) == {(c, m1), (c, m2)}
    assert (rows[(c, m1)]["share_pct"], rows[(c, m1)]["net_ha_by_share"],
            rows[(c, m1)]["net_ha_by_location"]) == (60.0, 3.0, 4.5)
    assert (rows[(c, m2)]["share_pct"], rows[(c, m2)]["net_ha_by_share"],
            rows[(c, m2)]["net_ha_by_location"]) == (40.0, 2.0, 0.5)
    assert rows[(c, m1)]["site_net_ha"] == 5.0
    total = report["partner_sites"]["total"]
    assert (total["net_ha_by_share"], total["net_ha_by_location"]) == (5.0, 5.0)
    municipalities = {r["municipality_ags"]: r for r in report["partner_municipalities"]["rows"]}
    assert municipalities[m1]["difference_net_ha"] == -1.5
    assert municipalities[m2]["difference_net_ha"] == 1.5
    assert report["partner_municipalities"]["total"]["sites"] == 1


def test_changes_since_a_day(clients: dict[str, Client], conn: Connection,
                             clock: Clock) -> None:
    """Stored 2024-01-10: a 4 ha sofort, b 9 ha kurzfristig. On 2025-01-10 a is sold, b
    becomes sofort and c (16 ha) is added."""
    clock.set_db_now(datetime(2024, 1, 10, 12, tzinfo=LOCAL_ZONE))
    site = insert_site(conn, "14713000", name="Veränderungen")
    a = insert_parcel(conn, site, square(X, Y, 200))
    b = insert_parcel(conn, site, square(X + 400, Y, 300), availability="kurzfristig")
    clock.set_db_now(datetime(2025, 1, 10, 12, tzinfo=LOCAL_ZONE))
    conn.execute(text("UPDATE parcels SET marketing_status = 'verkauft' WHERE id = :i"),
                 {"i": a})
    conn.execute(text("UPDATE parcels SET availability = 'sofort' WHERE id = :i"), {"i": b})
    c = insert_parcel(conn, site, square(X + 800, Y, 400))
    analyst = clients["analyst"]
    before = _portfolio(analyst, site_id=site, at="2024-06-30")
    assert before["total"]["net_ha"] == pytest.approx(13.0) and before["changes"] is None
    report = _portfolio(analyst, site_id=site, since="2024-06-30")
    assert report["total"]["net_ha"] == pytest.approx(25.0)
    leipzig = next(r for r in report["changes"]["rows"] if r["district_ags"] == "14713")
    assert leipzig == leipzig | {
        "added": 1, "added_net_ha": 16.0, "sold": 1, "sold_net_ha": 4.0, "withdrawn": 0,
        "availability_moved": 1, "net_ha_before": 13.0, "net_ha_after": 25.0,
        "net_ha_delta": 12.0}
    assert report["changes"]["total"]["net_ha_delta"] == 12.0
    changed = {p["id"]: p["changes"] for p in report["changed_parcels"]["rows"]}
    assert changed == {a: ["sold"], b: ["availability_moved"], c: ["added"]}
    # nothing changed between two days after the changes
    quiet = _portfolio(analyst, site_id=site, since="2025-06-30")
    assert quiet["changes"]["total"]["net_ha_delta"] == 0
    assert quiet["changed_parcels"]["rows"] == []


@pytest.mark.parametrize(("params", "status", "field"), [
    ({"since": "2999-01-01"}, 400, "since"),
    ({"at": "2024-01-01", "since": "2024-06-30"}, 400, "since"),
    ({"since": "30.06.2024"}, 422, "since"),
    ({"at": "2999-01-01"}, 400, "at"),
    ({"table": "districts"}, 400, "table"),
    ({"table": "changes", "f": "csv"}, 400, "since"),
    ({"table": "nope", "f": "csv"}, 422, "table"),
    ({"f": "docx"}, 422, "f"),
    ({"premium_min_net_ha": "-1"}, 422, "premium_min_net_ha"),
    ({"premium_motorway_km": "0"}, 422, "premium_motorway_km"),
    ({"premium_availability": "bald"}, 422, "premium_availability"),
    ({"premium_broadband": "100"}, 400, "premium_broadband"),
    ({"scenario": "mittel"}, 422, "scenario"),
    ({"district": "1471"}, 422, "district"),
])
def test_bad_parameters_are_named(clients: dict[str, Client], params: dict[str, str],
                                  status: int, field: str) -> None:
    response = clients["public"].get(PATH, **params)
    assert field in problem_fields(response, status)


def test_accept_chooses_the_format(clients: dict[str, Client]) -> None:
    http, base = clients["public"].http, clients["public"].base
    assert http.get(base + PATH, headers={"Accept": "text/csv"}).text.startswith(
        "district_ags,district_name,sites")
    response = http.get(base + PATH, headers={"Accept": "image/png"})
    assert "Accept" in problem_fields(response, 406)


def test_a_handful_of_statements_whatever_the_districts(clients: dict[str, Client],
                                                        conn: Connection) -> None:
    """Set-based: the same few statements for the region as for one district (none per
    district or site)."""
    sent: list[str] = []

    def record(*args: Any) -> None:
        sent.append(args[2])

    def reads(**params: Any) -> int:
        sent.clear()
        event.listen(conn, "before_cursor_execute", record)
        try:
            _portfolio(clients["public"], **params)
        finally:
            event.remove(conn, "before_cursor_execute", record)
        return len([s for s in sent if s.lstrip().upper().startswith(("SELECT", "WITH"))])

    region = reads()
    assert region <= 12, sent  # names, sums, premium, partners (2), balance (5), synthetic
    assert reads(district="14713") == region
