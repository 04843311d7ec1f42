"""The database refuses what the domain forbids, and names the field (via the translator)."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from app.db.errors import translate_db_error
from app.domain.errors import Conflict, InvalidInput
from tests.shapes import (
    BALTIC_X,
    BALTIC_Y,
    LEIPZIG_X,
    LEIPZIG_Y,
    bowtie,
    insert_parcel,
    insert_site,
    square,
)

HECTARE_SIDE_M = 100.0  # a 100 m × 100 m square is exactly 1 ha


def _refused(conn: Connection, action) -> InvalidInput | Conflict:  # type: ignore[no-untyped-def]
    """Run ``action`` in a savepoint; assert the database refuses it; return the translation."""
    savepoint = conn.begin_nested()
    with pytest.raises(DBAPIError) as info:
        action()
        conn.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))
    savepoint.rollback()
    translated = translate_db_error(info.value)
    assert isinstance(translated, InvalidInput | Conflict), info.value
    return translated


def _field(problem: InvalidInput | Conflict) -> str | None:
    return problem.problems[0].field


def test_valid_parcel_is_accepted_and_derived(conn: Connection) -> None:
    site = insert_site(conn)
    pid = insert_parcel(conn, site, square(LEIPZIG_X, LEIPZIG_Y, HECTARE_SIDE_M))
    row = conn.execute(text(
        "SELECT district_ags, municipality_ags, gross_area_ha, net_area_ha, version "
        "FROM parcels WHERE id = :id"), {"id": pid}).one()
    assert row.district_ags == "14713"
    assert row.municipality_ags == "14713000"
    assert row.gross_area_ha == pytest.approx(1.0, abs=1e-9)
    assert row.net_area_ha == pytest.approx(1.0, abs=1e-9)  # serviced: net = gross
    assert row.version == 1


@pytest.mark.parametrize(
    ("servicing", "given", "expected_net"),
    [("unerschlossen", None, 3.0), ("erschlossen", None, 4.0),
     ("teilerschlossen", None, 4.0), ("unerschlossen", 2.5, 2.5)],
)
def test_net_area_rule(conn: Connection, servicing: str, given: float | None,
                       expected_net: float) -> None:
    site = insert_site(conn)
    pid = insert_parcel(conn, site, square(LEIPZIG_X, LEIPZIG_Y, 200.0),  # 4 ha
                        servicing=servicing, net_area_ha_given=given)
    net = conn.execute(text("SELECT net_area_ha FROM parcels WHERE id = :id"), {"id": pid}).scalar()
    assert net == pytest.approx(expected_net, abs=1e-9)


@pytest.mark.parametrize(
    ("column", "value"),
    [("availability", "bald"), ("restriction_level", "hoch"), ("category", "acker"),
     ("zoning", "GX"), ("servicing", "teilweise"), ("marketing_status", "weg"),
     ("owner_type", "kirche"), ("planning_status", "bplan")],
)
def test_unknown_vocabulary_code_is_rejected(conn: Connection, column: str, value: str) -> None:
    site = insert_site(conn)
    problem = _refused(conn, lambda: insert_parcel(
        conn, site, square(LEIPZIG_X, LEIPZIG_Y, 50.0), **{column: value}))
    assert _field(problem) == column


@pytest.mark.parametrize(
    ("column", "value"),
    [("user_groups", ["logistik", "raumfahrt"]), ("restriction_causes", ["altlasten", "geister"])],
)
def test_unknown_code_in_array_is_rejected(conn: Connection, column: str, value: list[str]) -> None:
    site = insert_site(conn)
    extra = {column: value, "restriction_level": "gering"}
    problem = _refused(conn, lambda: insert_parcel(
        conn, site, square(LEIPZIG_X, LEIPZIG_Y, 50.0), **extra))
    assert _field(problem) == column


def test_empty_user_groups_rejected(conn: Connection) -> None:
    site = insert_site(conn)
    problem = _refused(conn, lambda: insert_parcel(
        conn, site, square(LEIPZIG_X, LEIPZIG_Y, 50.0), user_groups=[]))
    assert _field(problem) == "user_groups"


def test_net_area_above_gross_is_rejected(conn: Connection) -> None:
    site = insert_site(conn)
    problem = _refused(conn, lambda: insert_parcel(
        conn, site, square(LEIPZIG_X, LEIPZIG_Y, HECTARE_SIDE_M), net_area_ha_given=1.01))
    assert _field(problem) == "net_area_ha"


def test_net_area_equal_to_gross_is_accepted(conn: Connection) -> None:
    site = insert_site(conn)
    insert_parcel(conn, site, square(LEIPZIG_X, LEIPZIG_Y, HECTARE_SIDE_M), net_area_ha_given=1.0)


def test_invalid_geometry_is_rejected(conn: Connection) -> None:
    site = insert_site(conn)
    problem = _refused(conn, lambda: insert_parcel(conn, site, bowtie(LEIPZIG_X, LEIPZIG_Y, 100.0)))
    assert _field(problem) == "geom_25832"
    assert "Self-intersection" in problem.problems[0].reason


def test_geometry_outside_region_is_rejected(conn: Connection) -> None:
    site = insert_site(conn)
    problem = _refused(conn, lambda: insert_parcel(conn, site, square(BALTIC_X, BALTIC_Y, 100.0)))
    assert _field(problem) == "geom_25832"
    assert problem.problems[0].code == "ck_parcels__geom_25832__in_region"


def test_wrong_srid_is_rejected(conn: Connection) -> None:
    site = insert_site(conn)
    wgs84 = "SRID=4326;MULTIPOLYGON(((12.37 51.34,12.38 51.34,12.38 51.35,12.37 51.34)))"
    savepoint = conn.begin_nested()
    with pytest.raises(DBAPIError, match="SRID"):
        insert_parcel(conn, site, wgs84)
    savepoint.rollback()


def test_restriction_causes_need_a_restriction(conn: Connection) -> None:
    site = insert_site(conn)
    problem = _refused(conn, lambda: insert_parcel(
        conn, site, square(LEIPZIG_X, LEIPZIG_Y, 50.0),
        restriction_level="keine", restriction_causes=["altlasten"]))
    assert _field(problem) == "restriction_causes"


@pytest.mark.parametrize(("shares", "accepted"), [
    ((50.0, 50.0), True), ((60.0, 30.0), False), ((70.0, 40.0), False), ((100.0,), True),
])
def test_partner_shares_must_sum_to_100(conn: Connection, shares: tuple[float, ...],
                                        accepted: bool) -> None:
    site = insert_site(conn)
    partners = ["14713000", "14729010", "14729030"]

    def add_partners() -> None:
        for ags, share in zip(partners, shares, strict=False):
            conn.execute(text("INSERT INTO site_partners VALUES (:s, :m, :p)"),
                         {"s": site, "m": ags, "p": share})

    if accepted:
        add_partners()
        conn.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))
    else:
        problem = _refused(conn, add_partners)
        assert _field(problem) == "share_pct"


def test_municipality_must_belong_to_district(conn: Connection) -> None:
    problem = _refused(conn, lambda: conn.execute(text(
        "INSERT INTO land_sales (sale_date, district_ags, municipality_ags, area_ha) "
        "VALUES ('2020-01-01', '14713', '15002000', 1)")))
    assert _field(problem) == "municipality_ags"


def test_unknown_district_reference_is_rejected(conn: Connection) -> None:
    problem = _refused(conn, lambda: conn.execute(text(
        "INSERT INTO land_sales (sale_date, district_ags, area_ha) VALUES ('2020-01-01', '99999', 1)")))
    assert _field(problem) == "district_ags"


def test_enquiry_area_range_ordered(conn: Connection) -> None:
    problem = _refused(conn, lambda: conn.execute(text(
        "INSERT INTO enquiries (required_net_area_ha_min, required_net_area_ha_max, user_group) "
        "VALUES (10, 5, 'logistik')")))
    assert _field(problem) == "required_net_area_ha_max"


def _new_framework(conn: Connection) -> int:
    """A framework with one scenario and one located component, stored in this transaction
    (the only one that may add parts to it)."""
    fid: int = conn.execute(text(
        "INSERT INTO demand_frameworks (name, base_date, period_first_year, period_last_year) "
        "VALUES ('Prüfrahmen', '2020-12-31', 2020, 2038) RETURNING id")).scalar_one()
    conn.execute(text("INSERT INTO demand_scenarios (framework_id, key, label) "
                      "VALUES (:f, 'niedrig', 'niedrig')"), {"f": fid})
    conn.execute(text("INSERT INTO demand_components (framework_id, key, label, located) "
                      "VALUES (:f, 'kmu_regular_demand', 'KMU', true)"), {"f": fid})
    return fid


def test_located_demand_component_needs_district(conn: Connection) -> None:
    fid = _new_framework(conn)
    problem = _refused(conn, lambda: conn.execute(text(
        "INSERT INTO demand_component_values VALUES (:f, 'kmu_regular_demand', 'niedrig', NULL, 5)"),
        {"f": fid}))
    assert _field(problem) == "district_ags"


def test_a_stored_framework_gets_no_new_parts(conn: Connection) -> None:
    fid = conn.execute(text("SELECT id FROM demand_frameworks WHERE is_default")).scalar_one()
    problem = _refused(conn, lambda: conn.execute(text(
        "INSERT INTO demand_component_values VALUES "
        "(:f, 'kmu_regular_demand', 'niedrig', '14713', 5)"), {"f": fid}))
    assert "immutable" in problem.detail


def test_parcels_are_never_deleted(conn: Connection) -> None:
    site = insert_site(conn)
    pid = insert_parcel(conn, site, square(LEIPZIG_X, LEIPZIG_Y, 50.0))
    problem = _refused(conn, lambda: conn.execute(text("DELETE FROM parcels WHERE id = :id"), {"id": pid}))
    assert "zurueckgezogen" in problem.detail


def test_quarter_end_must_end_a_quarter(conn: Connection) -> None:
    problem = _refused(conn, lambda: conn.execute(text(
        "INSERT INTO monitoring_quarters (quarter_end, state_at, parcels) "
        "VALUES ('2026-05-31', now(), 0)")))
    assert _field(problem) == "quarter_end"
