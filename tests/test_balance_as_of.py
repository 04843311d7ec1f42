"""Sums as of a past day: ``parcels/summary`` and ``balance`` with ``at``, and the summary's
groupings on a small set of parcels (net = gross: serviced squares, EPSG:25832)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import Connection, text

from app.db.queries.parcels.source import HISTORY_TYPED_COLUMNS, PARCEL_COLUMNS, ParcelSource
from app.domain.clock import LOCAL_ZONE
from tests.conftest import Clock
from tests.resource_client import Client
from tests.shapes import insert_parcel, insert_site, square

X, Y = 731_000.0, 5_690_000.0
BEFORE = "2024-06-30"


@pytest.fixture
def parcels(conn: Connection, clock: Clock) -> dict[str, int]:
    """Three parcels stored on 2024-01-10: 4 ha sofort (logistik), 9 ha kurzfristig
    (logistik + industrie), 1 ha unbekannt with restriction unbekannt (handwerk)."""
    clock.set_db_now(datetime(2024, 1, 10, 12, tzinfo=LOCAL_ZONE))
    site = insert_site(conn, "14713000", name="Stichtag")
    return {
        "site": site,
        "a": insert_parcel(conn, site, square(X, Y, 200), user_groups=["logistik"]),
        "b": insert_parcel(conn, site, square(X + 400, Y, 300), availability="kurzfristig",
                           user_groups=["logistik", "industrie_produktion"]),
        "c": insert_parcel(conn, site, square(X + 800, Y, 100), availability="unbekannt",
                           restriction_level="unbekannt", user_groups=["handwerk_gewerbe"]),
    }


def _summary(client: Client, site: int, **params: Any) -> dict[str, Any]:
    response = client.get("/parcels/summary", site_id=site, **params)
    assert response.status_code == 200, response.text
    return dict(response.json())


def _cells(document: dict[str, Any], *keys: str) -> dict[tuple[Any, ...], tuple[int, float]]:
    return {tuple(g[k] for k in keys): (g["parcels"], pytest.approx(g["net_ha"]))
            for g in document["groups"]}


def test_summary_groups_count_and_sum(clients: dict[str, Client],
                                      parcels: dict[str, int]) -> None:
    analyst = clients["analyst"]
    by_class = _summary(analyst, parcels["site"], by="availability")
    assert _cells(by_class, "availability") == {
        ("sofort",): (1, 4.0), ("kurzfristig",): (1, 9.0), ("unbekannt",): (1, 1.0)}
    assert by_class["total"]["parcels"] == 3
    assert by_class["total"]["net_ha"] == pytest.approx(14.0)
    groups = _summary(analyst, parcels["site"], by="user_group")
    assert _cells(groups, "user_group") == {
        ("logistik",): (2, 13.0), ("industrie_produktion",): (1, 9.0),
        ("handwerk_gewerbe",): (1, 1.0)}
    assert any("overlap" in n for n in groups["notes"])
    sizes = _summary(analyst, parcels["site"], by="size_class,restriction_level")
    assert _cells(sizes, "size_class", "restriction_level") == {
        ("1_5", "keine"): (1, 4.0), ("5_10", "keine"): (1, 9.0), ("1_5", "unbekannt"): (1, 1.0)}
    # every restriction level is selectable, unbekannt included
    unknown = _summary(analyst, parcels["site"], restriction_level="unbekannt")
    assert unknown["total"]["parcels"] == 1 and unknown["groups"] == [{
        "parcels": 1, "net_ha": pytest.approx(1.0), "gross_ha": pytest.approx(1.0)}]
    csv_text = analyst.get("/parcels/summary", site_id=parcels["site"], by="availability",
                           f="csv").text
    assert csv_text.splitlines()[0] == "availability,parcels,net_ha,gross_ha"
    assert len(csv_text.splitlines()) == 4


def test_a_bad_grouping_is_named(clients: dict[str, Client]) -> None:
    response = clients["public"].get("/parcels/summary", by="district,gemeinde")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "by"


def _change_after(conn: Connection, clock: Clock, parcels: dict[str, int]) -> None:
    """On 2025-01-10: a advances nothing but is sold, b becomes sofort, c is withdrawn, and
    a new 16 ha parcel is added."""
    clock.set_db_now(datetime(2025, 1, 10, 12, tzinfo=LOCAL_ZONE))
    conn.execute(text("UPDATE parcels SET marketing_status = 'verkauft' WHERE id = :i"),
                 {"i": parcels["a"]})
    conn.execute(text("UPDATE parcels SET availability = 'sofort' WHERE id = :i"),
                 {"i": parcels["b"]})
    conn.execute(text("UPDATE parcels SET marketing_status = 'zurueckgezogen' WHERE id = :i"),
                 {"i": parcels["c"]})
    insert_parcel(conn, parcels["site"], square(X + 1200, Y, 400))


def test_the_past_is_unchanged_by_later_changes(clients: dict[str, Client], conn: Connection,
                                                clock: Clock, parcels: dict[str, int]) -> None:
    analyst, site = clients["analyst"], parcels["site"]

    def balance(at: str | None) -> dict[str, Any]:
        params = {"site_id": site, "scenario": "niedrig"} | ({"at": at} if at else {})
        response = analyst.get("/balance", **params)
        assert response.status_code == 200, response.text
        return dict(response.json())

    summary_before = _summary(analyst, site, by="availability,marketing_status", at=BEFORE)
    balance_before = balance(BEFORE)
    today_before = _summary(analyst, site, by="availability")
    _change_after(conn, clock, parcels)
    assert _summary(analyst, site, by="availability,marketing_status", at=BEFORE) \
        == summary_before
    assert balance(BEFORE) == balance_before
    assert balance_before["areas"][1]["ags"] == "14713"
    assert balance_before["areas"][1]["supply"]["net_ha"] == pytest.approx(14.0)
    # today the changes show: a sold, c withdrawn, b now sofort, the new parcel added
    today = _summary(analyst, site, by="availability")
    assert today != today_before
    assert _cells(today, "availability") == {("sofort",): (2, 25.0)}
    assert balance(None)["areas"][1]["supply"]["net_ha"] == pytest.approx(25.0)


def test_the_parcel_columns_of_the_past_are_the_tables(conn: Connection) -> None:
    """A past row is rebuilt column by column (``PARCEL_COLUMNS``): the list is the table's,
    and the columns the history keeps typed exist there."""
    columns = conn.execute(text(
        "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
        "WHERE attrelid = 'parcels'::regclass AND attnum > 0 AND NOT attisdropped "
        "ORDER BY attnum")).all()
    types = dict(PARCEL_COLUMNS)
    assert len(types) == len(PARCEL_COLUMNS), "a column named twice"
    assert dict(columns) == types
    typed = dict(conn.execute(text(
        "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
        "WHERE attrelid = 'parcel_history'::regclass AND attgenerated = 's'")).all())
    assert {c: types[c] for c in HISTORY_TYPED_COLUMNS} == typed


def test_a_past_row_is_its_history_row_as_jsonb_populate_record_reads_it(
        conn: Connection, clock: Clock, parcels: dict[str, int]) -> None:
    """Every column of every rebuilt row, geometry included, equals the definition: the
    ``row_after`` of the last history row at or before the time, read by
    ``jsonb_populate_record``, with today's ``public_fields``."""
    _change_after(conn, clock, parcels)
    conn.execute(text("UPDATE parcels SET public_fields = '{price_eur_m2}', price_eur_m2 = 12.5, "
                      "restriction_causes = '{altlasten}', restriction_level = 'gering' "
                      "WHERE id = :i"), {"i": parcels["b"]})
    expected_sql = """
        SELECT r.* FROM (
            SELECT DISTINCT ON (h.parcel_id) h.parcel_id, h.row_after FROM parcel_history h
             WHERE h.changed_at <= :src_at ORDER BY h.parcel_id, h.changed_at DESC, h.id DESC
        ) last JOIN parcels cur ON cur.id = last.parcel_id,
        LATERAL jsonb_populate_record(CAST(NULL AS parcels), last.row_after
            || jsonb_build_object('public_fields', cur.public_fields)) r
        WHERE r.site_id = :site ORDER BY r.id"""
    for day in ("2023-12-31", BEFORE, "2025-06-30"):
        at = datetime.fromisoformat(day).replace(hour=23, tzinfo=LOCAL_ZONE)
        source = ParcelSource.as_of(at)
        rebuilt = conn.execute(text(f"SELECT p.* FROM {source.from_sql} "
                                    "WHERE p.site_id = :site ORDER BY p.id"),
                               {"src_at": at, "site": parcels["site"]}).mappings().all()
        expected = conn.execute(text(expected_sql),
                                {"src_at": at, "site": parcels["site"]}).mappings().all()
        assert [dict(r) for r in rebuilt] == [dict(r) for r in expected]
        assert len(rebuilt) == {"2023-12-31": 0, BEFORE: 3, "2025-06-30": 4}[day]
