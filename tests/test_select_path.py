"""The one select path: neutral filter, sources, sums, and the keyset pager in both directions.

Expectations are computed independently in Python from plain rows of ``parcels``.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Connection, text

from app.db.queries.keyset import Envelope
from app.db.queries.paging import Cursor
from app.db.queries.parcels import (
    LIVE,
    ParcelSource,
    count_parcels,
    parcel_page,
    parcel_sums,
    selection_sql,
)
from app.db.queries.snapshots import take_snapshot
from app.domain.errors import BadRequest
from app.domain.filters import MARKETED_STATUS, ParcelFilter, SortSpec
from app.domain.roles import PUBLIC_VIEWER, STAFF, Viewer

TODAY = date(2026, 11, 30)


def _rows(conn: Connection) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in conn.execute(text(
        "SELECT p.id, p.district_ags, p.user_groups, p.net_area_ha, p.gross_area_ha, "
        "p.marketing_status, p.price_eur_m2, p.public_fields, p.distance_junction_km, "
        "p.available_from, s.withdrawn_at IS NULL AS site_active "
        "FROM parcels p JOIN sites s ON s.id = p.site_id"))]


def test_an_empty_filter_selects_every_parcel(conn: Connection) -> None:
    conn.execute(text("UPDATE parcels SET marketing_status = 'reserviert' "
                      "WHERE id = (SELECT min(id) FROM parcels)"))
    rows = _rows(conn)
    assert count_parcels(conn, ParcelFilter(), viewer=STAFF, reference=TODAY,
                         exact_below=10**9) == (len(rows), False)
    available = ParcelFilter(marketing_status=("verfuegbar",))
    expected = sum(1 for r in rows if r["marketing_status"] == "verfuegbar")
    assert 0 < expected < len(rows)
    assert count_parcels(conn, available, viewer=STAFF, reference=TODAY,
                         exact_below=10**9) == (expected, False)


def test_sums_by_district_equal_an_independent_aggregation(conn: Connection) -> None:
    expected: dict[str, list[float]] = {}
    for r in _rows(conn):
        if r["marketing_status"] in MARKETED_STATUS:
            e = expected.setdefault(r["district_ags"], [0, 0.0, 0.0])
            e[0] += 1
            e[1] += r["net_area_ha"]
            e[2] += r["gross_area_ha"]
    sums = parcel_sums(conn, ParcelFilter(marketing_status=MARKETED_STATUS), ["district_ags"],
                       viewer=STAFF, reference=TODAY)
    assert [s["district_ags"] for s in sums] == sorted(expected)
    for s in sums:
        n, net, gross = expected[s["district_ags"]]
        assert s["parcels"] == n
        assert s["net_ha"] == pytest.approx(net, rel=1e-12)
        assert s["gross_ha"] == pytest.approx(gross, rel=1e-12)


def test_sums_by_user_group_overlap_and_count_each_parcel_once_per_group(
        conn: Connection) -> None:
    rows = _rows(conn)
    per_group = Counter(g for r in rows for g in r["user_groups"])
    sums = parcel_sums(conn, ParcelFilter(), ["user_groups"], viewer=STAFF, reference=TODAY)
    assert {s["user_groups"]: s["parcels"] for s in sums} == dict(per_group)
    assert sum(s["parcels"] for s in sums) > len(rows)


def test_the_public_sums_only_marketed_parcels_of_active_sites(conn: Connection) -> None:
    visible = [r for r in _rows(conn)
               if r["marketing_status"] in MARKETED_STATUS and r["site_active"]]
    (total,) = parcel_sums(conn, ParcelFilter(), viewer=PUBLIC_VIEWER, reference=TODAY)
    assert total["parcels"] == len(visible)


def test_history_source_shows_the_state_before_a_change(conn: Connection) -> None:
    parcel_id = conn.execute(text(
        "SELECT id FROM parcels WHERE marketing_status = 'verfuegbar' ORDER BY id LIMIT 1")
    ).scalar_one()
    before = conn.execute(text("SELECT clock_timestamp()")).scalar_one()
    conn.execute(text("SELECT set_config('gefis.now', CAST(clock_timestamp() + "
                      "interval '1 second' AS text), true)"))
    conn.execute(text("UPDATE parcels SET marketing_status = 'reserviert' WHERE id = :id"),
                 {"id": parcel_id})
    after = conn.execute(text("SELECT clock_timestamp() + interval '2 seconds'")).scalar_one()
    only = ParcelFilter(ids=(parcel_id,))
    then = parcel_sums(conn, only, ["marketing_status"], viewer=STAFF, reference=TODAY,
                       source=ParcelSource.as_of(before))
    now = parcel_sums(conn, only, ["marketing_status"], viewer=STAFF, reference=TODAY,
                      source=ParcelSource.as_of(after))
    assert [s["marketing_status"] for s in then] == ["verfuegbar"]
    assert [s["marketing_status"] for s in now] == ["reserviert"]


def test_snapshot_source_sums_like_the_live_table_it_was_taken_from(conn: Connection) -> None:
    """The demo's history ends on 2026-09-30: the quarter's snapshot is today's table."""
    take_snapshot(conn, date(2026, 9, 30))
    live = parcel_sums(conn, ParcelFilter(user_group=("logistik",)), ["availability"],
                       viewer=STAFF, reference=TODAY, source=LIVE)
    stored = parcel_sums(conn, ParcelFilter(user_group=("logistik",)), ["availability"],
                         viewer=STAFF, reference=TODAY,
                         source=ParcelSource.snapshot(date(2026, 9, 30)))
    assert [(s["availability"], s["parcels"]) for s in live] == \
        [(s["availability"], s["parcels"]) for s in stored]
    for a, b in zip(live, stored, strict=True):
        assert a["net_ha"] == pytest.approx(b["net_ha"], rel=1e-12)


ENVELOPE = Envelope("items", "self", "next?cursor=", "prev?cursor=", "application/json")


def _page(conn: Connection, sort: SortSpec, viewer: Viewer, cursor: Cursor | None,
          limit: int = 97) -> dict[str, Any]:
    document = parcel_page(conn, ParcelFilter(), sort, viewer=viewer, reference=TODAY,
                           srid=4326, as_feature=False, limit=limit, cursor=cursor,
                           envelope=ENVELOPE)
    page: dict[str, Any] = json.loads(document)
    return page


def _link(page: dict[str, Any], rel: str, sort: SortSpec) -> Cursor | None:
    hrefs = [link["href"] for link in page["links"] if link["rel"] == rel]
    return Cursor.decode(hrefs[0].split("cursor=")[1], str(sort)) if hrefs else None


def _expected(rows: list[dict[str, Any]], sort: SortSpec, viewer: Viewer) -> list[int]:
    def value(r: dict[str, Any]) -> Any:
        v = r[sort.field]
        if sort.field == "price_eur_m2" and not viewer.internal \
                and "price_eur_m2" not in r["public_fields"]:
            return None
        return v

    present = sorted((r for r in rows if value(r) is not None),
                     key=lambda r: (value(r), r["id"]), reverse=sort.descending)
    absent = sorted((r for r in rows if value(r) is None), key=lambda r: r["id"],
                    reverse=sort.descending)
    return [r["id"] for r in present + absent]


@pytest.mark.parametrize("sort_text", ["id", "-id", "net_area_ha", "-distance_junction_km",
                                       "price_eur_m2", "-price_eur_m2", "available_from"])
@pytest.mark.parametrize("viewer", [STAFF, PUBLIC_VIEWER], ids=["staff", "public"])
def test_pages_forward_and_back_cover_every_row_once_in_order(
        conn: Connection, sort_text: str, viewer: Viewer) -> None:
    sort = SortSpec.parse(sort_text)
    rows = [r for r in _rows(conn) if viewer.internal
            or (r["marketing_status"] in MARKETED_STATUS and r["site_active"])]
    expected = _expected(rows, sort, viewer)

    pages, cursor = [], None
    while True:
        page = _page(conn, sort, viewer, cursor)
        pages.append([item["id"] for item in page["items"]])
        assert (_link(page, "prev", sort) is None) == (cursor is None)
        cursor = _link(page, "next", sort)
        if cursor is None:
            break
    assert [i for p in pages for i in p] == expected
    assert len(pages) > 2

    back, cursor = [], _link(page, "prev", sort)
    while cursor is not None:
        page = _page(conn, sort, viewer, cursor)
        back.insert(0, [item["id"] for item in page["items"]])
        assert _link(page, "next", sort) is not None
        cursor = _link(page, "prev", sort)
    assert back == pages[:-1]


def test_a_cursor_of_another_sort_is_refused(conn: Connection) -> None:
    page = _page(conn, SortSpec.parse("net_area_ha"), STAFF, None)
    token = next(link["href"] for link in page["links"] if link["rel"] == "next")
    with pytest.raises(BadRequest):
        Cursor.decode(token.split("cursor=")[1], "-net_area_ha")


def test_count_is_an_estimate_above_the_threshold_and_says_so(conn: Connection) -> None:
    exact = count_parcels(conn, ParcelFilter(), viewer=STAFF, reference=TODAY,
                          exact_below=10**9)
    estimate = count_parcels(conn, ParcelFilter(), viewer=STAFF, reference=TODAY,
                             exact_below=0)
    assert exact[1] is False and estimate[1] is True
    assert estimate[0] > 0


def test_sums_by_two_list_fields_count_every_combination(conn: Connection) -> None:
    rows = conn.execute(text("SELECT user_groups, restriction_causes FROM parcels")).all()
    expected: Counter[tuple[str, str | None]] = Counter()
    for groups, causes in rows:
        for g in groups:
            for c in causes or [None]:
                expected[(g, c)] += 1
    sums = parcel_sums(conn, ParcelFilter(), ["user_groups", "restriction_causes"],
                       viewer=STAFF, reference=TODAY)
    assert {(s["user_groups"], s["restriction_causes"]): s["parcels"] for s in sums} == \
        dict(expected)


@pytest.mark.parametrize(("sort_text", "value", "branch"), [
    ("updated_at", 1.5, 0), ("available_from", 12, 0), ("price_eur_m2", "abc", 0),
    ("broadband_mbps", 2.5, 0), ("available_from", "2024-02-30", 0), ("net_area_ha", None, 0),
    ("price_eur_m2", 3, 1),
])
def test_a_cursor_whose_value_does_not_fit_the_sort_is_a_400(
        conn: Connection, sort_text: str, value: Any, branch: int) -> None:
    with pytest.raises(BadRequest):
        _page(conn, SortSpec.parse(sort_text), PUBLIC_VIEWER,
              Cursor(sort_text, value, 5, branch))


def test_an_empty_page_after_a_cursor_still_links_back(conn: Connection) -> None:
    sort = SortSpec.parse("id")
    page = _page(conn, sort, STAFF, Cursor("id", None, 10**12))
    assert page["items"] == []
    back = _link(page, "prev", sort)
    assert back is not None
    previous = _page(conn, sort, STAFF, back)
    assert previous["items"], "the way back leads to the last rows"


def test_a_field_withdrawn_from_publication_stays_hidden_in_the_past(conn: Connection) -> None:
    parcel_id = conn.execute(text(
        "SELECT id FROM parcels WHERE marketing_status = 'verfuegbar' ORDER BY id LIMIT 1")
    ).scalar_one()
    conn.execute(text("SELECT set_config('gefis.now', CAST(clock_timestamp() - "
                      "interval '1 hour' AS text), true)"))
    conn.execute(text("UPDATE parcels SET price_eur_m2 = 75.5, public_fields = "
                      "array_append(array_remove(public_fields, 'price_eur_m2'), "
                      "'price_eur_m2') WHERE id = :id"), {"id": parcel_id})
    released_then = conn.execute(text("SELECT clock_timestamp() - interval '30 minutes'"))\
        .scalar_one()
    conn.execute(text("SELECT set_config('gefis.now', CAST(clock_timestamp() AS text), true)"))
    conn.execute(text("UPDATE parcels SET public_fields = array_remove(public_fields, "
                      "'price_eur_m2') WHERE id = :id"), {"id": parcel_id})
    sql, params = selection_sql(ParcelFilter(ids=(parcel_id,)), PUBLIC_VIEWER,
                                {"price": "price_eur_m2"},
                                source=ParcelSource.as_of(released_then))
    assert conn.execute(text(sql), params).scalar_one() is None
    staff_sql, staff_params = selection_sql(ParcelFilter(ids=(parcel_id,)), STAFF,
                                            {"price": "price_eur_m2"},
                                            source=ParcelSource.as_of(released_then))
    assert float(conn.execute(text(staff_sql), staff_params).scalar_one()) == 75.5
