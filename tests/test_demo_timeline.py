"""The demo is a timeline: the survey state (2020-12-31) plus dated changes up to today.

Checked from the database (the history, the live tables, land sales and enquiries), never
from the generator's files: the supply at the survey date reproduces the study, and the
supply today differs from it by exactly what the history records in between.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

import pytest
from sqlalchemy import Connection, text

from app.db.queries.freshness import overdue_by_district
from app.db.queries.parcels import LIVE, ParcelSource, parcel_sums
from app.domain.clock import LOCAL_ZONE
from app.domain.filters import MARKETED_STATUS, ParcelFilter
from app.domain.roles import STAFF

SURVEY_DAY = date(2020, 12, 31)
SURVEY = datetime.combine(SURVEY_DAY, time.max, LOCAL_ZONE)
AT_SURVEY = ParcelSource.as_of(SURVEY)
SUPPLY = ParcelFilter(marketing_status=MARKETED_STATUS, active_sites_only=True)
SUPPLY_TOLERANCE_HA = 1.0

#: Per history entry after the survey: how it moved the supply of its district, by cause.
#: A parcel counts while it is marketed (the database keeps no marketed parcel on a
#: withdrawn site; the last term checks that for sites withdrawn in between).
_CHANGES = """
WITH h AS (
    SELECT h.parcel_id, h.changed_at, h.row_after AS new,
           lag(h.row_after) OVER (PARTITION BY h.parcel_id ORDER BY h.changed_at, h.id) AS old
      FROM parcel_history h WHERE h.changed_at <= :now
), steps AS (
    SELECT new->>'district_ags' AS district,
           coalesce((old->>'marketing_status') IN ('verfuegbar', 'reserviert'), false) AS was_on,
           (new->>'marketing_status') IN ('verfuegbar', 'reserviert') AS is_on,
           new->>'marketing_status' AS status,
           coalesce((old->>'net_area_ha')::float8, 0) AS old_ha, (new->>'net_area_ha')::float8 AS new_ha,
           old IS NULL AS inserted
      FROM h WHERE changed_at > :survey
)
SELECT district, cause, sum(ha) AS ha, count(*) AS n FROM (
    SELECT district, CASE
             WHEN inserted THEN 'added'
             WHEN was_on AND status = 'verkauft' THEN 'sold'
             WHEN was_on AND status = 'zurueckgezogen' THEN 'withdrawn'
             WHEN NOT was_on AND is_on THEN 'marketed_again'
             WHEN was_on AND is_on AND new_ha <> old_ha THEN 'area_changed'
             ELSE 'no_change' END AS cause,
           (CASE WHEN is_on THEN new_ha ELSE 0 END) - (CASE WHEN was_on THEN old_ha ELSE 0 END) AS ha
      FROM steps
    UNION ALL
    SELECT p.district_ags, 'site_withdrawn', -p.net_area_ha
      FROM parcels p JOIN sites s ON s.id = p.site_id
     WHERE s.withdrawn_at > :survey AND p.marketing_status IN ('verfuegbar', 'reserviert')
) c GROUP BY 1, 2
"""


def _by_district(conn: Connection, source: ParcelSource) -> dict[str, float]:
    return {r["district_ags"]: float(r["net_ha"]) for r in parcel_sums(
        conn, SUPPLY, ("district_ags",), viewer=STAFF, reference=SURVEY_DAY, source=source)}


def test_supply_today_is_the_survey_plus_the_recorded_changes(conn: Connection) -> None:
    now = conn.execute(text("SELECT now()")).scalar_one()
    then, today = _by_district(conn, AT_SURVEY), _by_district(conn, LIVE)
    causes: dict[str, dict[str, float]] = {}
    for r in conn.execute(text(_CHANGES), {"survey": SURVEY, "now": now}):
        causes.setdefault(r.district, {})[r.cause] = float(r.ha)
    for ags in then.keys() | today.keys():
        recorded = sum(causes.get(ags, {}).values())
        assert today.get(ags, 0.0) - then.get(ags, 0.0) == pytest.approx(recorded, abs=1e-6), ags
    totals = {c: sum(d.get(c, 0.0) for d in causes.values()) for c in
              ("added", "sold", "withdrawn", "area_changed", "site_withdrawn", "no_change")}
    assert totals["sold"] < -500 and totals["added"] > 100 and totals["withdrawn"] < 0
    assert totals["area_changed"] < 0 and totals["site_withdrawn"] == 0 == totals["no_change"]
    # the sales term is the land sold: every sale after the survey is the sale of a parcel
    sold = conn.execute(text(
        "SELECT coalesce(sum(area_ha), 0) FROM land_sales WHERE sale_date > :d AND withdrawn_at IS NULL"),
        {"d": SURVEY_DAY}).scalar_one()
    assert -totals["sold"] == pytest.approx(float(sold), abs=1e-6)


def test_survey_state_reproduces_tables_6_and_7(conn: Connection, study: dict[str, Any]) -> None:
    keys = dict(conn.execute(text("SELECT ags, key FROM districts")).tuples().all())
    rows = parcel_sums(conn, SUPPLY, ("district_ags", "availability"), viewer=STAFF,
                       reference=SURVEY_DAY, source=AT_SURVEY)
    cells = {(r["district_ags"], r["availability"]): float(r["net_ha"]) for r in rows}
    table6, table7 = study["table6_supply_by_district"], study["table7_supply_by_availability"]
    for ags, key in keys.items():
        row = sum(v for (a, _), v in cells.items() if a == ags)
        assert row == pytest.approx(table6[key][1], abs=SUPPLY_TOLERANCE_HA), key
        for availability, expected in zip(table7["columns"], table7[key], strict=True):
            got = cells.get((ags, availability), 0.0)
            if expected is None:
                assert got == 0.0, (key, availability)
            else:
                assert got == pytest.approx(expected, abs=SUPPLY_TOLERANCE_HA), (key, availability)
    short = sum(v for (_, a), v in cells.items() if a in ("sofort", "kurzfristig"))
    figure = study["balance_findings"]["sofort_plus_kurzfristig_ha"]
    assert short == pytest.approx(figure, abs=SUPPLY_TOLERANCE_HA)
    # ... and it is not the state of today
    assert _by_district(conn, LIVE) != pytest.approx(_by_district(conn, AT_SURVEY), abs=1.0)


def test_every_surveyed_parcel_starts_at_the_survey_date(conn: Connection) -> None:
    first = conn.execute(text(
        "SELECT min(changed_at), max(changed_at), count(*) FROM (SELECT DISTINCT ON (parcel_id) changed_at "
        "FROM parcel_history ORDER BY parcel_id, changed_at, id) f WHERE changed_at <= :s"),
        {"s": SURVEY}).one()
    assert first[2] == 630
    assert first[0].astimezone(LOCAL_ZONE).date() == SURVEY_DAY == first[1].astimezone(LOCAL_ZONE).date()


def test_sales_after_the_survey_are_sales_of_parcels_on_their_day(conn: Connection) -> None:
    rows = conn.execute(text(
        "SELECT s.id, s.parcel_id, s.buyer_user_group, s.is_synthetic, EXISTS (SELECT 1 FROM parcel_history h "
        "  WHERE h.parcel_id = s.parcel_id AND h.changes->'marketing_status'->>'new' = 'verkauft' "
        "  AND (h.changed_at AT TIME ZONE 'Europe/Berlin')::date = s.sale_date) AS sold_that_day "
        "FROM land_sales s WHERE s.sale_date > :d"), {"d": SURVEY_DAY}).all()
    assert len(rows) > 100
    assert all(r.parcel_id is not None and r.sold_that_day and r.is_synthetic for r in rows)
    assert all(r.buyer_user_group is not None for r in rows)
    years = conn.execute(text(
        "SELECT extract(year FROM sale_date)::int, sum(area_ha) FROM land_sales WHERE sale_date > :d "
        "GROUP BY 1 ORDER BY 1"), {"d": SURVEY_DAY}).tuples().all()
    assert [y for y, _ in years][:6] == [2021, 2022, 2023, 2024, 2025, 2026]
    assert all(110 <= ha <= 170 for y, ha in years if y < 2026)  # near the region's pace
    core = conn.execute(text(
        "SELECT sum(area_ha) FILTER (WHERE district_ags IN ('14713', '15002', '15082')) / sum(area_ha) "
        "FROM land_sales WHERE sale_date > :d"), {"d": SURVEY_DAY}).scalar_one()
    assert core > 0.4  # the study's demand core: Leipzig, Halle, Anhalt-Bitterfeld


def test_sales_up_to_2020_have_no_buyer_group(conn: Connection) -> None:
    row = conn.execute(text(
        "SELECT count(*), count(buyer_user_group), count(*) FILTER (WHERE sale_date >= '2020-01-01') "
        "FROM land_sales WHERE is_synthetic AND sale_date <= :d"), {"d": SURVEY_DAY}).one()
    assert row[0] > 1000 and row[1] == 0 and row[2] > 50


def test_enquiries_since_2021_with_outcomes(conn: Connection) -> None:
    rows = conn.execute(text(
        "SELECT outcome, count(*), count(*) FILTER (WHERE district_ags IS NULL), min(received_on), "
        "min(required_net_area_ha_min) FROM enquiries WHERE created_by = 'demo-zeitreihe' GROUP BY 1")).all()
    outcomes = {r[0]: r[1] for r in rows}
    assert 200 <= sum(outcomes.values()) <= 400
    assert min(r[3] for r in rows) >= date(2021, 1, 1)
    assert outcomes.get("abgewandert", 0) + outcomes.get("kein_angebot", 0) > 30  # unmet demand
    assert sum(r[2] for r in rows) > 0 and min(r[4] for r in rows) > 0
    notes = conn.execute(text("SELECT count(*) FROM enquiries WHERE created_by = 'demo-zeitreihe' "
                              "AND outcome_note LIKE 'Synthetische Demo-Anfrage DEMO-A-%'")).scalar_one()
    assert notes == sum(outcomes.values())
    labelled = conn.execute(text("SELECT count(*) FILTER (WHERE is_synthetic), count(*) "
                                 "FROM enquiries WHERE created_by = 'demo-zeitreihe'")).one()
    assert labelled[0] == labelled[1] == notes


def test_some_districts_are_overdue_for_verification(conn: Connection) -> None:
    districts = overdue_by_district(conn, older_than_days=183, now=datetime.now(UTC))
    share = {d["district_ags"]: d["overdue_count"] / d["active_parcels"] for d in districts
             if d["active_parcels"]}
    overdue = {ags for ags, s in share.items() if s > 0.9}
    fresh = {ags for ags, s in share.items() if s < 0.5}
    assert 2 <= len(overdue) <= 5 and len(fresh) >= 4, share


def test_availability_is_assessed_on_the_day_the_class_changed(conn: Connection) -> None:
    rows = conn.execute(text(
        "SELECT p.id, p.availability_assessed_on, (SELECT max(h.changed_at) FROM parcel_history h "
        "  WHERE h.parcel_id = p.id AND (h.operation = 'insert' OR h.changes ? 'availability')) AS assessed "
        "FROM parcels p WHERE p.is_synthetic")).all()
    assert all(r.availability_assessed_on == r.assessed.astimezone(LOCAL_ZONE).date() for r in rows)
    changed = [r for r in rows if r.availability_assessed_on > SURVEY_DAY]
    assert len(changed) > 100
    unchanged = [r for r in rows if r.availability_assessed_on == SURVEY_DAY]
    assert len(unchanged) > 300


def test_new_sites_and_withdrawals_are_in_the_history(conn: Connection) -> None:
    new = conn.execute(text(
        "SELECT count(DISTINCT p.site_id), count(*), bool_and(p.is_synthetic AND s.is_synthetic) "
        "FROM parcels p JOIN sites s ON s.id = p.site_id JOIN parcel_history h ON h.parcel_id = p.id "
        "AND h.operation = 'insert' WHERE h.changed_at > :s"), {"s": SURVEY}).one()
    assert new[0] >= 5 and new[1] >= 15 and new[2]
    withdrawn = conn.execute(text(
        "SELECT count(*) FROM sites WHERE withdrawn_at > :s AND is_synthetic"), {"s": SURVEY}).scalar_one()
    assert withdrawn >= 1
    at_survey = parcel_sums(conn, ParcelFilter(), viewer=STAFF, reference=SURVEY_DAY,
                            source=AT_SURVEY)[0]
    assert at_survey["parcels"] == 630
