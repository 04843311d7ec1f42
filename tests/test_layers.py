"""``GET /layers/{name}.geojson`` over HTTP (in-process, on the test's transaction): every
layer for the public and an analyst checked against the rules of RFC 7946 and against the
rows counted here with plain SQL; withheld fields; ETag, 304 and what changes the tag;
gzip; the parcel filter; unknown parameters and layers; streaming in batches from a
server-side cursor.
"""

from __future__ import annotations

import asyncio
import gzip
import json
from collections.abc import Generator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import Connection, text
from starlette.requests import ClientDisconnect

from app.api import layers as layers_api
from app.domain.clock import today
from app.domain.roles import PUBLIC_VIEWER, STAFF
from app.services import layers as layers_service
from app.services.layers import LAYERS, feature_chunks, prepare_layer
from app.settings import Settings
from tests.rfc7946 import rfc7946_problems
from tests.server import run_in_own_loop

ROLES = ("public", "analyst")
MARKETED = "p.marketing_status IN ('verfuegbar', 'reserviert') AND s.withdrawn_at IS NULL"

#: Per layer: the SQL of the ids every caller sees, and the condition the public adds.
EXPECTED: dict[str, tuple[str, str | None]] = {
    "parcels": ("SELECT p.id FROM parcels p JOIN sites s ON s.id = p.site_id", MARKETED),
    "sites": ("SELECT s.id FROM sites s", "s.withdrawn_at IS NULL"),
    "districts": ("SELECT d.ags FROM districts d", None),
    "municipalities": ("SELECT m.ags FROM municipalities m", None),
    "district_balance": ("SELECT d.ags FROM districts d", None),
    "infrastructure": ("SELECT i.id FROM infrastructure i", None),
}


# --- the checker itself ----------------------------------------------------------------


def _collection(geometry: dict[str, Any], **members: Any) -> Any:
    text_ = json.dumps({"type": "FeatureCollection", **members, "features": [
        {"type": "Feature", "id": 1, "geometry": geometry, "properties": {}}]})
    return json.loads(text_, parse_float=Decimal)


SQUARE = [[12.0, 51.0], [12.1, 51.0], [12.1, 51.1], [12.0, 51.1], [12.0, 51.0]]
HOLE = [[12.02, 51.02], [12.02, 51.03], [12.03, 51.03], [12.03, 51.02], [12.02, 51.02]]


def test_checker_accepts_a_good_polygon_with_a_hole() -> None:
    assert rfc7946_problems(_collection({"type": "Polygon", "coordinates": [SQUARE, HOLE]})) \
        == []


@pytest.mark.parametrize(("geometry", "members", "expected"), [
    ({"type": "Polygon", "coordinates": [SQUARE[::-1]]}, {}, "exterior ring clockwise"),
    ({"type": "MultiPolygon", "coordinates": [[SQUARE, HOLE[::-1]]]}, {},
     "hole counter-clockwise"),
    ({"type": "Point", "coordinates": [51.3, 12.4]}, {}, "axes swapped"),
    ({"type": "Point", "coordinates": [12.4, 91.0]}, {}, "outside lon/lat ranges"),
    ({"type": "Point", "coordinates": [12.1234567, 51.3]}, {}, "more than 6 decimals"),
    ({"type": "Point", "coordinates": [12.4, 51.3]}, {"crs": {"type": "name"}}, "crs member"),
    ({"type": "Polygon", "coordinates": [[*SQUARE[:-1], [12.0, 51.05]]]}, {}, "not closed"),
])
def test_checker_finds_each_breach(geometry: dict[str, Any], members: dict[str, Any],
                                   expected: str) -> None:
    problems = rfc7946_problems(_collection(geometry, **members))
    assert any(expected in p for p in problems), problems


def test_checker_wants_an_id() -> None:
    document = _collection({"type": "Point", "coordinates": [12.4, 51.3]})
    del document["features"][0]["id"]
    assert rfc7946_problems(document) == ["feature None: no id"]


# --- the service over HTTP ------------------------------------------------------------------


@pytest.fixture
def web(http: httpx.Client) -> httpx.Client:
    """The service on the test's transaction."""
    return http


def _get(web: httpx.Client, api_keys: dict[str, str], role: str, path: str,
         params: Any = None, **headers: str) -> httpx.Response:
    if role != "public":
        headers["Authorization"] = f"Bearer {api_keys[role]}"
    return web.get(path, params=params, headers=headers)


def _document(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return json.loads(response.content, parse_float=Decimal)


def _expected_ids(conn: Connection, layer: str, role: str, extra: str | None = None) -> list[Any]:
    sql, public_condition = EXPECTED[layer]
    conditions = [c for c in (None if role == "analyst" else public_condition, extra) if c]
    if conditions:
        sql += " WHERE " + " AND ".join(conditions)
    return sorted(conn.execute(text(sql)).scalars())


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("layer", list(LAYERS))
def test_layer_is_rfc7946_with_every_visible_row(web: httpx.Client, conn: Connection,
                                                 api_keys: dict[str, str], layer: str,
                                                 role: str) -> None:
    response = _get(web, api_keys, role, f"/layers/{layer}.geojson")
    document = _document(response)
    assert response.headers["content-type"].startswith("application/geo+json")
    assert response.headers["content-disposition"] == f'inline; filename="{layer}.geojson"'
    assert rfc7946_problems(document) == []
    ids = [f["id"] for f in document["features"]]
    assert ids == _expected_ids(conn, layer, role)  # each once, in id order
    assert document["name"] == layer


def test_public_sees_fewer_parcels_and_sites_than_staff(conn: Connection) -> None:
    for layer in ("parcels", "sites"):  # else the role tests above could not tell roles apart
        assert len(_expected_ids(conn, layer, "public")) < len(_expected_ids(conn, layer,
                                                                              "analyst"))


def test_public_parcels_carry_no_withheld_field(web: httpx.Client, conn: Connection,
                                                api_keys: dict[str, str]) -> None:
    public = _document(_get(web, api_keys, "public", "/layers/parcels.geojson"))["features"]
    staff = _document(_get(web, api_keys, "analyst", "/layers/parcels.geojson"))["features"]
    released = dict(conn.execute(text("SELECT id, public_fields FROM parcels")).all())
    disclosable = {"price_eur_m2", "noise_quota_db", "owner_type", "contact_name",
                   "contact_email", "contact_phone"}
    for feature in public:
        keys = set(feature["properties"])
        assert not keys & {"owner_name", "internal_notes", "public_fields"}, feature["id"]
        assert keys & disclosable <= set(released[feature["id"]]), feature["id"]
    assert any(set(f["properties"]) & disclosable for f in public)  # some are released
    assert all({"owner_name", "internal_notes"} <= set(f["properties"]) for f in staff)


def test_sites_hide_withdrawal_from_the_public(web: httpx.Client,
                                               api_keys: dict[str, str]) -> None:
    public = _document(_get(web, api_keys, "public", "/layers/sites.geojson"))["features"]
    staff = _document(_get(web, api_keys, "analyst", "/layers/sites.geojson"))["features"]
    assert all("withdrawn_at" not in f["properties"] for f in public)
    assert any(f["properties"]["withdrawn_at"] is not None for f in staff)


def test_districts_without_and_with_the_balance(web: httpx.Client,
                                                api_keys: dict[str, str]) -> None:
    plain = _document(_get(web, api_keys, "public", "/layers/districts.geojson"))["features"]
    balance = _document(_get(web, api_keys, "public",
                             "/layers/district_balance.geojson"))["features"]
    assert set(plain[0]["properties"]) == {"ags", "name", "kind", "state", "area_km2",
                                           "active_parcels", "active_net_area_ha"}
    figures = [k for k in balance[0]["properties"] if k.startswith("balance_net_ha_")]
    assert figures, balance[0]["properties"]
    assert all(isinstance(f["properties"][figures[0]], Decimal | int) for f in balance)
    assert all(f["properties"]["supply_net_ha"] is not None for f in balance)


def test_rings_are_right_handed_whatever_the_storage(web: httpx.Client, conn: Connection,
                                                     api_keys: dict[str, str]) -> None:
    """A parcel stored with a hole and both rings the wrong way round comes out CCW/CW."""
    parcel = conn.execute(text(
        f"SELECT p.id FROM parcels p JOIN sites s ON s.id = p.site_id WHERE {MARKETED} "
        "ORDER BY ST_Area(p.geom_25832) DESC LIMIT 1")).scalar_one()
    conn.execute(text(
        "UPDATE parcels SET geom_25832 = ST_Multi(ST_ForcePolygonCW(ST_Difference(geom_25832, "
        "ST_Buffer(ST_PointOnSurface(geom_25832), 4)))) WHERE id = :id"), {"id": parcel})
    stored_cw, holes = conn.execute(text(
        "SELECT ST_IsPolygonCW(geom_25832), ST_NumInteriorRings(ST_GeometryN(geom_25832, 1)) "
        "FROM parcels WHERE id = :id"), {"id": parcel}).one()
    assert stored_cw and holes == 1
    document = _document(_get(web, api_keys, "public", "/layers/parcels.geojson"))
    feature = next(f for f in document["features"] if f["id"] == parcel)
    assert len(feature["geometry"]["coordinates"][0]) == 2  # exterior and hole
    assert rfc7946_problems({**document, "features": [feature]}) == []


# --- caching -------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("layer", list(LAYERS))
def test_unchanged_layer_answers_304(web: httpx.Client, api_keys: dict[str, str], layer: str,
                                     role: str) -> None:
    first = _get(web, api_keys, role, f"/layers/{layer}.geojson")
    etag = first.headers["etag"]
    assert etag.startswith(f'"layer-{layer}-') and etag.endswith('"')
    scope = "public" if role == "public" else "private"
    assert first.headers["cache-control"] == f"{scope}, max-age=60"
    assert first.headers["vary"] == "Accept-Encoding, Authorization"
    again = _get(web, api_keys, role, f"/layers/{layer}.geojson",
                 **{"If-None-Match": f'"other", W/{etag}'})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    assert again.headers["cache-control"] == first.headers["cache-control"]
    stale = _get(web, api_keys, role, f"/layers/{layer}.geojson",
                 **{"If-None-Match": '"layer-old"'})
    assert stale.status_code == 200 and stale.content == first.content


def _etag(web: httpx.Client, api_keys: dict[str, str], role: str, layer: str,
          params: Any = None) -> str:
    response = _get(web, api_keys, role, f"/layers/{layer}.geojson", params)
    assert response.status_code == 200, response.text
    return response.headers["etag"]


def test_etag_follows_visible_changes_only(web: httpx.Client, conn: Connection,
                                           api_keys: dict[str, str]) -> None:
    before = {role: _etag(web, api_keys, role, "parcels") for role in ROLES}
    hidden = conn.execute(text(
        "SELECT id FROM parcels WHERE marketing_status = 'verkauft' LIMIT 1")).scalar_one()
    conn.execute(text("UPDATE parcels SET name = 'x' WHERE id = :id"), {"id": hidden})
    after_hidden = {role: _etag(web, api_keys, role, "parcels") for role in ROLES}
    assert after_hidden["public"] == before["public"]  # nothing the public sees changed
    assert after_hidden["analyst"] != before["analyst"]
    shown = _expected_ids(conn, "parcels", "public")[0]
    conn.execute(text("UPDATE parcels SET name = 'x' WHERE id = :id"), {"id": shown})
    after_shown = {role: _etag(web, api_keys, role, "parcels") for role in ROLES}
    assert after_shown["public"] != before["public"]
    assert after_shown["analyst"] != after_hidden["analyst"]


def test_sites_tag_follows_their_parcel_sums(web: httpx.Client, conn: Connection,
                                             api_keys: dict[str, str]) -> None:
    """A site's row is unchanged when one of its parcels is sold, but its active sum is."""
    before = _etag(web, api_keys, "public", "sites")
    districts = _etag(web, api_keys, "public", "districts")
    shown = _expected_ids(conn, "parcels", "public")[0]
    conn.execute(text("UPDATE parcels SET marketing_status = 'verkauft' WHERE id = :id"),
                 {"id": shown})
    assert _etag(web, api_keys, "public", "sites") != before
    assert _etag(web, api_keys, "public", "districts") != districts


def test_balance_tag_depends_on_the_day(web: httpx.Client, api_keys: dict[str, str],
                                       clock: Any) -> None:
    balance = _etag(web, api_keys, "public", "district_balance")
    sites = _etag(web, api_keys, "public", "sites")
    clock.set_today(today().replace(day=1) if today().day != 1 else today().replace(day=2))
    assert _etag(web, api_keys, "public", "district_balance") != balance
    assert _etag(web, api_keys, "public", "sites") == sites


def test_etag_depends_on_filter_role_and_precision(web: httpx.Client, conn: Connection,
                                                   api_keys: dict[str, str],
                                                   settings: Settings) -> None:
    everything = _etag(web, api_keys, "public", "parcels")
    assert _etag(web, api_keys, "public", "parcels", {"district": "14713"}) != everything
    assert _etag(web, api_keys, "analyst", "infrastructure") == \
        _etag(web, api_keys, "analyst", "infrastructure")
    assert _etag(web, api_keys, "analyst", "infrastructure") != \
        _etag(web, api_keys, "public", "infrastructure")
    coarse = settings.model_copy(update={"layer_decimals": 3})
    assert prepare_layer(conn, "sites", PUBLIC_VIEWER, coarse, day=today()).etag != \
        prepare_layer(conn, "sites", PUBLIC_VIEWER, settings, day=today()).etag


# --- compression, parameters, errors ---------------------------------------------------------


@pytest.mark.parametrize("layer", ["parcels", "municipalities"])
def test_gzip_when_accepted(web: httpx.Client, api_keys: dict[str, str], layer: str) -> None:
    plain = _get(web, api_keys, "public", f"/layers/{layer}.geojson",
                 **{"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert plain.content.startswith(b'{"type": "FeatureCollection"')
    packed = _get(web, api_keys, "public", f"/layers/{layer}.geojson",
                  **{"Accept-Encoding": "br;q=0.5, gzip"})
    assert packed.headers["content-encoding"] == "gzip"
    raw = b"".join(packed.stream)  # the bytes as sent (httpx decodes .content)
    assert raw[:2] == b"\x1f\x8b"
    assert len(raw) < len(plain.content) / 3
    assert gzip.decompress(raw) == plain.content == packed.content
    assert packed.headers["etag"] != plain.headers["etag"]  # two representations
    refused = _get(web, api_keys, "public", f"/layers/{layer}.geojson",
                   **{"Accept-Encoding": "gzip;q=0, *"})
    assert "content-encoding" not in refused.headers


@pytest.mark.parametrize("role", ROLES)
def test_filter_narrows_the_parcels(web: httpx.Client, conn: Connection,
                                    api_keys: dict[str, str], role: str) -> None:
    document = _document(_get(web, api_keys, role, "/layers/parcels.geojson",
                              {"district": "14713"}))
    ids = [f["id"] for f in document["features"]]
    expected = _expected_ids(conn, "parcels", role, "p.district_ags = '14713'")
    assert ids == expected
    assert 0 < len(ids) < len(_expected_ids(conn, "parcels", role))
    both = _document(_get(web, api_keys, role, "/layers/parcels.geojson",
                          [("district", "14713"), ("marketing_status", "reserviert,verkauft")]))
    assert [f["id"] for f in both["features"]] == _expected_ids(
        conn, "parcels", role,
        "p.district_ags = '14713' AND p.marketing_status IN ('reserviert', 'verkauft')")


@pytest.mark.parametrize(("path", "params"), [
    ("/layers/parcels.geojson", {"districts": "14713"}),
    ("/layers/sites.geojson", {"district": "14713"}),
    ("/layers/district_balance.geojson", {"f": "json"}),
])
def test_unknown_parameters_are_refused(web: httpx.Client, api_keys: dict[str, str],
                                        path: str, params: dict[str, str]) -> None:
    response = _get(web, api_keys, "public", path, params)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in response.json()["errors"]] == list(params)


def test_bad_filter_value_is_refused(web: httpx.Client, api_keys: dict[str, str]) -> None:
    response = _get(web, api_keys, "public", "/layers/parcels.geojson", {"district": "147"})
    assert response.status_code == 422, response.text


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", ["land_sales.geojson", "nothing.geojson", "parcels_x.geojson",
                                  "sites", "sites.json"])
def test_unknown_layer_is_404(web: httpx.Client, api_keys: dict[str, str], role: str,
                              name: str) -> None:
    response = _get(web, api_keys, role, f"/layers/{name}")
    assert response.status_code == 404, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


# --- streaming -----------------------------------------------------------------------------


def _open_cursors(conn: Connection) -> int:
    return int(conn.execute(text("SELECT count(*) FROM pg_cursors")).scalar_one())


def test_features_stream_from_a_server_side_cursor_in_batches(conn: Connection,
                                                               settings: Settings) -> None:
    prepared = prepare_layer(conn, "parcels", STAFF, settings, day=today())
    total = len(_expected_ids(conn, "parcels", "analyst"))
    assert total > 3 * 100
    before = _open_cursors(conn)
    chunks = feature_chunks(conn, prepared, batch_rows=100)
    received = [next(chunks), next(chunks)]  # head and the first batch
    assert _open_cursors(conn) == before + 1  # the rest is still on the server
    received += list(chunks)
    assert _open_cursors(conn) == before
    assert len(received) == 2 + -(-total // 100)  # head, one chunk per batch, tail
    document = json.loads(b"".join(received), parse_float=Decimal)
    assert len(document["features"]) == total and rfc7946_problems(document) == []
    stopped = feature_chunks(conn, prepared, batch_rows=100)
    next(stopped), next(stopped)
    stopped.close()
    assert _open_cursors(conn) == before


def test_http_layer_larger_than_a_batch_arrives_whole(web: httpx.Client, conn: Connection,
                                                      api_keys: dict[str, str],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(layers_service, "FETCH_ROWS", 64)
    for encoding in ("identity", "gzip"):
        response = _get(web, api_keys, "analyst", "/layers/parcels.geojson",
                        **{"Accept-Encoding": encoding})
        document = _document(response)
        assert [f["id"] for f in document["features"]] == _expected_ids(conn, "parcels",
                                                                        "analyst")
        assert rfc7946_problems(document) == []
    assert _open_cursors(conn) == 0


def test_precision_follows_the_setting(conn: Connection, settings: Settings) -> None:
    coarse = settings.model_copy(update={"layer_decimals": 3})
    prepared = prepare_layer(conn, "municipalities", PUBLIC_VIEWER, coarse, day=today())
    document = json.loads(b"".join(feature_chunks(conn, prepared)), parse_float=Decimal)
    assert rfc7946_problems(document, decimals=3) == []
    assert rfc7946_problems(document, decimals=2) != []  # some use all three


def test_stream_is_closed_when_the_client_goes_away() -> None:
    """The response closes its generator (and so the cursor) when sending fails mid-way."""
    state = {"closed": False}

    def chunks() -> Generator[bytes, None, None]:
        try:
            yield b"{"
            yield b"}"
        finally:
            state["closed"] = True

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            raise OSError("connection reset")

    async def receive() -> dict[str, Any]:
        await asyncio.sleep(3600)
        return {}

    response = layers_api.ClosingStreamingResponse(chunks(), media_type="application/json")
    scope = {"type": "http", "asgi": {"spec_version": "2.4"}}
    with pytest.raises(ClientDisconnect):
        run_in_own_loop(response(scope, receive, send))  # type: ignore[arg-type]
    assert state["closed"]
