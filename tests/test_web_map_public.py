"""What the public's browser receives from the web map: no withheld value, anywhere.

A public tab opens the map, zooms to single parcels, searches, and opens the card of a
parcel whose price, contact, owner and notes are withheld. Every response the page gets
(the page itself, scripts, JSON, and the vector tiles decoded) is searched for the values
the database holds for those fields, and every parcel in a JSON answer or tile is checked
for keys the parcel does not release. Screenshots: ``test-artifacts/karte/``.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterator
from typing import Any

import mapbox_vector_tile
import pytest
from playwright.sync_api import Response
from sqlalchemy import Engine, text

from app.domain.parcel_fields import DISCLOSABLE_FIELDS, FIELDS, Visibility
from tests.map_page import MapPage

pytestmark = pytest.mark.slow

INTERNAL_FIELDS = tuple(f.name for f in FIELDS.values() if f.visibility is Visibility.INTERNAL)
#: Withheld text values shorter than this are too common to search for as text.
MIN_TEXT_LENGTH = 6


def _withheld(engine: Engine) -> tuple[dict[int, set[str]], set[str]]:
    """Per parcel the fields the public may not see, and the text values (long enough to be
    searched for, not codes) no parcel releases."""
    columns = {name: FIELDS[name].sql.removeprefix("p.") for name in
               (*DISCLOSABLE_FIELDS, *INTERNAL_FIELDS) if FIELDS[name].sql.startswith("p.")}
    select = ", ".join(f"CAST({c} AS text) AS {n}" for n, c in columns.items())
    with engine.connect() as conn:
        rows = conn.execute(text(f"SELECT id, public_fields, {select} FROM parcels p")).mappings().all()
    texts = [n for n in columns if FIELDS[n].vocabulary is None and n != "public_fields"]
    withheld: dict[int, set[str]] = {}
    hidden_values: set[str] = set()
    released_values: set[str] = set()  # the synthetic names recur: one parcel may release
    for row in rows:                    # a name another withholds
        hidden = {n for n in columns if n in INTERNAL_FIELDS or n not in row["public_fields"]}
        withheld[row["id"]] = hidden
        for name in texts:
            if row[name] is not None and len(row[name]) >= MIN_TEXT_LENGTH:
                (hidden_values if name in hidden else released_values).add(row[name])
    return withheld, hidden_values - released_values


def _target(engine: Engine) -> int:
    """A marketed parcel whose price, contact e-mail, owner and notes are all withheld."""
    with engine.connect() as conn:
        return int(conn.execute(text(
            "SELECT id FROM parcels WHERE marketing_status = 'verfuegbar' "
            "AND price_eur_m2 IS NOT NULL AND NOT 'price_eur_m2' = ANY(public_fields) "
            "AND contact_email IS NOT NULL AND NOT 'contact_email' = ANY(public_fields) "
            "AND owner_name IS NOT NULL AND internal_notes IS NOT NULL "
            "ORDER BY id LIMIT 1")).scalar_one())


class Recorder:
    """Every response of a page: URL, content type, body (gzip already undone)."""

    def __init__(self) -> None:
        self.responses: list[tuple[str, str, bytes]] = []

    def __call__(self, response: Response) -> None:
        try:
            body = response.body()
        except Exception:  # redirects and aborted requests have no body
            return
        if body[:2] == b"\x1f\x8b":
            body = gzip.decompress(body)
        self.responses.append((response.url, response.headers.get("content-type", ""), body))


def _parcels_in_json(document: Any) -> Iterator[dict[str, Any]]:
    """Every object that is a parcel (has ``id`` and ``net_area_ha``) or a parcel Feature."""
    if isinstance(document, dict):
        if "net_area_ha" in document and "id" in document and "availability" in document:
            yield document
        if document.get("type") == "Feature" and isinstance(document.get("properties"), dict):
            yield {"id": document.get("id"), **document["properties"]}
        for value in document.values():
            yield from _parcels_in_json(value)
    elif isinstance(document, list):
        for value in document:
            yield from _parcels_in_json(value)


def test_the_public_sees_no_withheld_field_in_the_page_or_its_requests(
        open_map: Callable[..., MapPage], engine: Engine) -> None:
    withheld, secret_values = _withheld(engine)
    target = _target(engine)
    recorder = Recorder()
    page = open_map()
    page.page.on("response", recorder)
    page.page.reload()
    page.page.wait_for_function("document.body.dataset.ready === 'true'")
    page.settle()
    page.page.fill("#filter-q", "Leipzig")
    page.page.wait_for_function("location.hash.includes('q=Leipzig')")
    page.settle()
    page.set_fragment(f"parcel={target}")
    page.page.wait_for_function(f"document.getElementById('card').dataset.parcelId == {target}")
    page.page.wait_for_function("window.gefis.map.getZoom() >= 13")
    page.settle()
    assert page.rendered_parcel_ids(), "the card's parcel should be drawn as a single parcel"
    page.shot("09_public_card_withheld")

    # the card shows none of the withheld fields
    for field in ("price_eur_m2", "contact_email", "owner_name", "internal_notes"):
        assert page.page.locator(f"#card [data-field={field}]").count() == 0, field

    texts = [page.page.content()]
    checked_parcels = tiles = 0
    for url, content_type, body in recorder.responses:
        if "vnd.mapbox-vector-tile" in content_type:
            tiles += 1
            for layer in mapbox_vector_tile.decode(body).values():
                for feature in layer["features"]:
                    props = feature["properties"]
                    texts.append(json.dumps(props, ensure_ascii=False))
                    if not props.get("aggregated") and feature["id"] in withheld:
                        checked_parcels += 1
                        assert not withheld[feature["id"]] & set(props), (url, feature["id"])
        elif "json" in content_type:
            document = json.loads(body)
            texts.append(body.decode())
            for parcel in _parcels_in_json(document):
                if parcel.get("id") in withheld:
                    checked_parcels += 1
                    assert not withheld[parcel["id"]] & set(parcel), (url, parcel["id"])
        elif content_type.startswith(("text/", "application/javascript")):
            texts.append(body.decode(errors="replace"))
    assert tiles > 0 and checked_parcels > 50
    everything = "\n".join(texts)
    leaked = sorted(v for v in secret_values if v in everything)
    assert not leaked, leaked[:5]
