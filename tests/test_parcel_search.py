"""``GET /api/v1/parcels`` over HTTP (in-process): every filter and combinations, checked
against counts computed independently here in Python from a plain dump of the table; cursor
paging over the whole set; visibility of rows and fields by role; output formats and CRS.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
import shapely
from pyproj import Transformer
from sqlalchemy import Connection, Engine, text

from app.domain.availability import latest_available_date
from app.domain.clock import today
from app.main import create_app
from app.settings import Settings
from tests.resource_client import Client
from tests.server import in_process, on_connection

Row = dict[str, Any]
Predicate = Callable[[Row], bool]

TODAY = today()
HORIZON = ("sofort", "kurzfristig", "mittelfristig", "langfristig")
RANK = ("keine", "gering", "erhoeht")


@pytest.fixture(scope="module")
def rows(engine: Engine, demo_loaded: dict[str, int]) -> list[Row]:
    """Every parcel with the attributes the filters look at (plain SELECT, no builder)."""
    with engine.connect() as conn:
        result = conn.execute(text(
            "SELECT p.id, p.district_ags, p.municipality_ags, p.site_id, p.availability, "
            "p.available_from, p.restriction_level, p.restriction_causes, p.user_groups, "
            "p.net_area_ha, p.category, p.planning_status, p.zoning, p.servicing, "
            "p.marketing_status, p.rail_siding, p.operation_24h, p.distance_junction_km, "
            "p.distance_airport_km, p.price_eur_m2, p.name, s.name AS site_name, "
            "s.marketing_name, p.external_id, s.withdrawn_at IS NOT NULL AS site_withdrawn, "
            "ST_XMin(ST_Transform(p.geom_25832, 4326)) AS lon_min, "
            "ST_XMax(ST_Transform(p.geom_25832, 4326)) AS lon_max, "
            "ST_YMin(ST_Transform(p.geom_25832, 4326)) AS lat_min, "
            "ST_YMax(ST_Transform(p.geom_25832, 4326)) AS lat_max, "
            "ST_AsBinary(p.geom_25832) AS wkb_25832 "
            "FROM parcels p JOIN sites s ON s.id = p.site_id"))
        return [dict(r._mapping) for r in result]


def _all_ids(client: Client, params: dict[str, Any]) -> list[int]:
    """Follow ``next`` links to the end; return ids in the order served.

    Fails (instead of looping) as soon as a page repeats a parcel already served.
    """
    ids: list[int] = []
    response = client.get("/parcels", **params, limit=97)
    while True:
        assert response.status_code == 200, response.text
        body = response.json()
        page = [item["id"] for item in body["items"]]
        assert not set(page) & set(ids), "a page repeats parcels: paging would not end"
        ids += page
        url = next((link["href"] for link in body["links"] if link["rel"] == "next"), None)
        if url is None:
            return ids
        response = client.http.get(url, headers=client.headers)


def _available_by(r: Row, by: date) -> bool:
    if r["available_from"] is not None:
        return bool(r["available_from"] <= by)
    latest = latest_available_date(r["availability"], TODAY)
    return latest is not None and latest <= by


def _active(r: Row) -> bool:
    """Parcels of withdrawn sites are left out unless asked for."""
    return not r["site_withdrawn"]


def _marketed(r: Row) -> bool:
    return bool(r["marketing_status"] == "verfuegbar") and _active(r)


# (query parameters, the same selection written independently as a Python predicate)
CASES: list[tuple[dict[str, Any], Predicate]] = [
    ({}, _marketed),
    ({"district": "15084"}, lambda r: _marketed(r) and r["district_ags"] == "15084"),
    ({"district": "14713,15002"}, lambda r: _marketed(r) and r["district_ags"] in ("14713", "15002")),
    ({"municipality": "14713000"}, lambda r: _marketed(r) and r["municipality_ags"] == "14713000"),
    ({"availability": "sofort"}, lambda r: _marketed(r) and r["availability"] == "sofort"),
    ({"availability_horizon": "kurzfristig"},
     lambda r: _marketed(r) and r["availability"] in HORIZON[:2]),
    ({"available_by": "2030-06-30"}, lambda r: _marketed(r) and _available_by(r, date(2030, 6, 30))),
    ({"restriction_max": "gering"}, lambda r: _marketed(r) and r["restriction_level"] in RANK[:2]),
    ({"exclude_causes": "altlasten,hochwasser"},
     lambda r: _marketed(r) and not {"altlasten", "hochwasser"} & set(r["restriction_causes"])),
    ({"user_group": "logistik"}, lambda r: _marketed(r) and "logistik" in r["user_groups"]),
    ({"net_area_min_ha": 10, "net_area_max_ha": 40},
     lambda r: _marketed(r) and 10 <= r["net_area_ha"] <= 40),
    ({"category": "restflaeche_bestandsgebiet"},
     lambda r: _marketed(r) and r["category"] == "restflaeche_bestandsgebiet"),
    ({"planning_status": "bplan_rechtskraeftig"},
     lambda r: _marketed(r) and r["planning_status"] == "bplan_rechtskraeftig"),
    ({"zoning": "GI"}, lambda r: _marketed(r) and r["zoning"] == "GI"),
    ({"servicing": "erschlossen"}, lambda r: _marketed(r) and r["servicing"] == "erschlossen"),
    ({"marketing_status": "verfuegbar,reserviert,verkauft,zurueckgezogen"}, _active),
    ({"rail_siding": "true"}, lambda r: _marketed(r) and r["rail_siding"]),
    ({"operation_24h": "false"}, lambda r: _marketed(r) and not r["operation_24h"]),
    ({"max_junction_km": 5}, lambda r: _marketed(r) and r["distance_junction_km"] is not None
     and r["distance_junction_km"] <= 5),
    ({"max_airport_km": 25}, lambda r: _marketed(r) and r["distance_airport_km"] is not None
     and r["distance_airport_km"] <= 25),
    ({"max_price_eur_m2": 30}, lambda r: _marketed(r) and r["price_eur_m2"] is not None
     and r["price_eur_m2"] <= 30),
    ({"q": "park"}, lambda r: _marketed(r) and any(
        "park" in (v or "").lower() for v in (r["name"], r["site_name"], r["marketing_name"], r["external_id"]))),
    ({"bbox": "12.0,51.2,12.6,51.5"}, lambda r: _marketed(r) and r["lon_max"] >= 12.0
     and r["lon_min"] <= 12.6 and r["lat_max"] >= 51.2 and r["lat_min"] <= 51.5),
    # combinations
    ({"user_group": "logistik", "availability_horizon": "kurzfristig", "restriction_max": "gering",
      "net_area_min_ha": 5},
     lambda r: _marketed(r) and "logistik" in r["user_groups"] and r["availability"] in HORIZON[:2]
     and r["restriction_level"] in RANK[:2] and r["net_area_ha"] >= 5),
    ({"district": "15082,15088", "user_group": "industrie_produktion", "exclude_causes": "eigentuemer",
      "max_junction_km": 10},
     lambda r: _marketed(r) and r["district_ags"] in ("15082", "15088")
     and "industrie_produktion" in r["user_groups"] and "eigentuemer" not in r["restriction_causes"]
     and r["distance_junction_km"] is not None and r["distance_junction_km"] <= 10),
]


@pytest.mark.parametrize(("params", "predicate"), CASES, ids=[str(c[0]) for c in CASES])
def test_filter_matches_independent_selection(clients: dict[str, Client], rows: list[Row],
                                              params: dict[str, Any], predicate: Predicate) -> None:
    analyst = clients["analyst"]
    expected = sorted(r["id"] for r in rows if predicate(r))
    # One page of up to 1000 with the count (paging itself is checked below).
    first = analyst.get("/parcels", **params, count="true", limit=1000)
    assert first.status_code == 200, first.text
    assert first.json()["numberMatched"] == len(expected)
    served = [item["id"] for item in first.json()["items"]]
    assert len(expected) < 1000 and not any(link["rel"] == "next" for link in first.json()["links"])
    assert served == expected  # default order is by id


def test_bbox_crs_selects_exactly_the_parcels_meeting_the_box(clients: dict[str, Client],
                                                             rows: list[Row]) -> None:
    """A box in EPSG:25832 (``bbox-crs``) selects exactly the marketed parcels whose shape
    meets it (computed here with Shapely from the stored geometry), and everything the
    lon/lat box it was drawn around selects."""
    to_utm = Transformer.from_crs(4326, 25832, always_xy=True)
    # A lon/lat box and the UTM box around it (densified edges: at 12° E the box is rotated
    # in zone 32): every parcel in the first is in the second.
    minx, miny, maxx, maxy = to_utm.transform_bounds(12.2, 51.25, 12.5, 51.45, densify_pts=21)
    analyst = clients["analyst"]
    lonlat = set(_all_ids(analyst, {"bbox": "12.2,51.25,12.5,51.45"}))
    utm = set(_all_ids(analyst, {"bbox": f"{minx},{miny},{maxx},{maxy}", "bbox-crs": "EPSG:25832"}))
    window = shapely.box(minx, miny, maxx, maxy)
    expected = {r["id"] for r in rows
                if _marketed(r) and shapely.intersects(shapely.from_wkb(bytes(r["wkb_25832"])), window)}
    assert lonlat and lonlat <= utm
    assert utm == expected
    assert len(expected) < len([r for r in rows if _marketed(r)])  # the box does select


@pytest.mark.parametrize("sort", ["-net_area_ha", "price_eur_m2", "-distance_junction_km", "available_from"])
def test_cursor_paging_covers_everything_once_in_order(clients: dict[str, Client], rows: list[Row],
                                                       sort: str) -> None:
    params = {"sort": sort, "marketing_status": "verfuegbar,reserviert,verkauft,zurueckgezogen"}
    served = _all_ids(clients["analyst"], params)
    assert len(served) == len(set(served)) == len([r for r in rows if _active(r)])
    field = sort.lstrip("-")
    by_id = {r["id"]: r for r in rows}
    values = [by_id[i][field] for i in served]
    present = [v for v in values if v is not None]
    assert values[: len(present)] == present, "NULLs must come last"
    assert present == sorted(present, reverse=sort.startswith("-"))


def test_bad_cursor_is_refused_not_restarted(clients: dict[str, Client]) -> None:
    public = clients["public"]
    response = public.get("/parcels", cursor="bm9wZQ")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "cursor"
    first = public.get("/parcels", limit=1, sort="net_area_ha").json()
    token = next(link["href"] for link in first["links"] if link["rel"] == "next").split("cursor=")[1]
    other_sort = public.get("/parcels", cursor=token, sort="price_eur_m2")
    assert other_sort.status_code == 400


def test_limit_is_clamped_not_refused(settings: Settings, conn: Connection,
                                      api_keys: dict[str, str]) -> None:
    """``limit`` above ``page_size_max`` serves a full page of ``page_size_max`` items and a
    ``next`` link. (A service whose largest page is 20, so that the clamp shows on the 630
    demo parcels; the default 1000 is larger than the whole table.)"""
    small = create_app(settings.model_copy(update={"page_size_max": 20, "page_size_default": 10}))
    with on_connection(small, conn), in_process(small) as http:
        analyst = Client(http, api_keys["analyst"])
        response = analyst.get("/parcels", limit=100000, count="true")
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["numberMatched"] > 20
        assert body["numberReturned"] == len(body["items"]) == 20
        assert any(link["rel"] == "next" for link in body["links"])


@pytest.mark.parametrize(("params", "field"), [
    ({"user_group": "raumfahrt"}, "user_group"),
    ({"availability_horizon": "unbekannt"}, "availability_horizon"),
    ({"restriction_max": "extrem"}, "restriction_max"),
    ({"district": "1471"}, "district"),
    ({"net_area_min_ha": 10, "net_area_max_ha": 2}, None),
    ({"bbox": "12,51,13"}, "bbox"),
    ({"bbox": "13,51,12,52"}, "bbox"),
    ({"crs": "EPSG:9999"}, "crs"),
    ({"sort": "name"}, "sort.field"),
])
def test_bad_search_parameters_are_problems_naming_the_field(clients: dict[str, Client],
                                                             params: dict[str, Any],
                                                             field: str | None) -> None:
    response = clients["public"].get("/parcels", **params)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    if field:
        assert response.json()["errors"][0]["field"] == field


def test_public_sees_only_marketed_parcels_and_released_fields(clients: dict[str, Client],
                                                               rows: list[Row], conn: Connection) -> None:
    everything = {"marketing_status": "verfuegbar,reserviert,verkauft,zurueckgezogen"}
    public = _all_ids(clients["public"], everything)
    assert set(public) == {r["id"] for r in rows
                           if r["marketing_status"] in ("verfuegbar", "reserviert") and _active(r)}
    page = clients["public"].get("/parcels", limit=1000).json()["items"]
    released = dict(conn.execute(text("SELECT id, public_fields FROM parcels")).tuples().all())
    for item in page:
        assert "owner_name" not in item and "internal_notes" not in item and "public_fields" not in item
        for field in ("price_eur_m2", "owner_type", "contact_name", "contact_email", "contact_phone"):
            assert (field in item) == (field in released[item["id"]]), (item["id"], field)
    internal = clients["analyst"].get("/parcels", limit=5).json()["items"]
    assert all("owner_name" in item and "public_fields" in item for item in internal)


def test_geojson_output_in_lon_lat_and_in_25832(clients: dict[str, Client]) -> None:
    public = clients["public"]
    fc = public.get("/parcels", f="geojson", limit=20)
    assert fc.headers["content-type"] == "application/geo+json"
    body = fc.json()
    assert body["type"] == "FeatureCollection" and "crs" not in body
    for feature in body["features"]:
        assert feature["type"] == "Feature" and feature["id"] == feature["properties"]["id"]
        lon, lat = feature["geometry"]["coordinates"][0][0][0]
        assert 10.5 < lon < 13.5 and 50.8 < lat < 52.2
    utm = public.http.get(public.base + "/parcels", params={"limit": 20, "crs": "EPSG:25832"},
                          headers={"Accept": "application/geo+json"})
    assert utm.headers["content-crs"] == "<http://www.opengis.net/def/crs/EPSG/0/25832>"
    x, y = utm.json()["features"][0]["geometry"]["coordinates"][0][0][0]
    assert 600_000 < x < 800_000 and 5_600_000 < y < 5_800_000
