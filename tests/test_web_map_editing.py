"""Editing on the web map (``/karte``) in Chromium: an editor changes a parcel's attributes
in the card's form (a merge patch with ``If-Match``), meets the 412 dialog when someone saved
the parcel meanwhile and applies the change again, confirms the data ("Geprüft") and
reserves; editors of other districts, analysts and the public see no edit buttons.

The served app commits: every test writes only to a parcel it created (in a site of its
own), and ``committed_rows_removed`` deletes them after the module. Screenshots:
``test-artifacts/karte/editing_*.png``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from itertools import count
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page

from tests.map_page import WAIT_MS, MapPage, axe_violations

pytestmark = pytest.mark.slow

OpenMap = Callable[..., MapPage]

_SQUARES = count()


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _square() -> dict[str, Any]:
    """A small square (about 70 m × 55 m) in the south-west of Leipzig, a new one each call."""
    x = 12.300 + 0.002 * next(_SQUARES)
    return {"type": "Polygon", "coordinates": [[
        [x, 51.300], [x + 0.001, 51.300], [x + 0.001, 51.3005], [x, 51.3005], [x, 51.300]]]}


@pytest.fixture(scope="module")
def site_id(map_server: str, api_keys: dict[str, str], committed_rows_removed: None) -> int:
    """A site of the test's own in Leipzig (14713), created by the Leipzig editor."""
    response = httpx.post(f"{map_server}/api/v1/sites", headers=_auth(api_keys["editor"]),
                          json={"name": "Testgebiet Kartenbearbeitung",
                                "municipality_ags": "14713000"}, timeout=30)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


@pytest.fixture
def parcel(map_server: str, api_keys: dict[str, str], site_id: int) -> dict[str, Any]:
    """A fresh marketed parcel in Leipzig, created through the API by the Leipzig editor."""
    body = {"site_id": site_id, "name": "Testfläche Bearbeitung", "geometry": _square(),
            "category": "erweiterungsflaeche", "user_groups": ["handwerk_gewerbe"],
            "servicing": "erschlossen", "availability": "mittelfristig",
            "planning_status": "bplan_rechtskraeftig", "zoning": "GE"}
    response = httpx.post(f"{map_server}/api/v1/parcels", headers=_auth(api_keys["editor"]),
                          json=body, timeout=30)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    assert created["district_ags"] == "14713" and created["marketing_status"] == "verfuegbar"
    return created


def _current(base: str, parcel_id: int, key: str) -> tuple[dict[str, Any], str]:
    """The parcel as stored now and its ETag."""
    response = httpx.get(f"{base}/api/v1/parcels/{parcel_id}", headers=_auth(key), timeout=30)
    assert response.status_code == 200, response.text
    return response.json(), response.headers["ETag"]


def _open_card(open_map: OpenMap, parcel_id: int, key: str | None) -> MapPage:
    """The map with the card of ``parcel_id`` drawn (its hooks have run by then)."""
    page = open_map(f"parcel={parcel_id}", key=key)
    page.page.wait_for_selector(f"#card[data-parcel-id='{parcel_id}'] #card-title", timeout=WAIT_MS)
    return page


def _wait_title(page: Page, title: str) -> None:
    page.wait_for_function("t => document.getElementById('card-title')?.textContent === t",
                           arg=title, timeout=WAIT_MS)


def test_an_editor_changes_attributes_in_the_form(
        open_map: OpenMap, map_server: str, api_keys: dict[str, str],
        parcel: dict[str, Any]) -> None:
    pid = parcel["id"]
    _, etag = _current(map_server, pid, api_keys["editor"])
    page = _open_card(open_map, pid, api_keys["editor"])
    p = page.page
    for button in ("Bearbeiten", "Geprüft", "Reservieren", "Als verkauft melden"):
        assert p.get_by_role("button", name=button, exact=True).is_visible(), button
    page.shot("editing_01_card_buttons")

    p.click("#action-edit")
    p.wait_for_selector("#edit-dialog[open] #edit-form")
    assert p.evaluate("document.getElementById('edit-dialog').contains(document.activeElement)")
    assert p.input_value("#edit-name") == "Testfläche Bearbeitung"
    assert p.input_value("#edit-availability") == "mittelfristig"
    assert axe_violations(p, "#edit-dialog") == []

    # the service's field errors (422) appear at the field; nothing is saved
    p.fill("#edit-contact_email", "keine-mail")
    with p.expect_response(lambda r: r.request.method == "PATCH") as refused:
        p.click("#edit-form-submit")
    assert refused.value.status == 422
    p.wait_for_selector("#edit-contact_email[aria-invalid='true']")
    assert "E-Mail" in p.inner_text("#edit-contact_email-error")
    assert "prüfen" in p.inner_text("#edit-form-error")
    page.shot("editing_02_field_error")

    p.fill("#edit-contact_email", "")
    p.fill("#edit-name", "Testfläche geändert")
    p.select_option("#edit-availability", "sofort")
    p.fill("#edit-reason", "Prüfung vor Ort – Ergebnis")
    with p.expect_request(lambda r: r.method == "PATCH") as sent:
        p.click("#edit-form-submit")
    request = sent.value
    assert request.headers["if-match"] == etag
    assert request.headers["content-type"] == "application/merge-patch+json"
    # only the changed fields: the e-mail typed and removed again is not sent
    assert json.loads(request.post_data or "") == {"name": "Testfläche geändert",
                                                    "availability": "sofort"}
    _wait_title(p, "Testfläche geändert")
    p.wait_for_selector("#edit-dialog", state="hidden")
    assert p.inner_text("#card .badge") == "sofort"
    assert "Gespeichert" in p.inner_text("#status")

    stored, _ = _current(map_server, pid, api_keys["editor"])
    assert (stored["name"], stored["availability"]) == ("Testfläche geändert", "sofort")
    assert stored["contact_email"] is None
    history = httpx.get(f"{map_server}/api/v1/parcels/{pid}/history",
                        headers=_auth(api_keys["editor"]), timeout=30).json()["entries"]
    assert history[-1]["reason"] == "Prüfung vor Ort – Ergebnis"
    assert set(history[-1]["changes"]) == {"name", "availability"}
    page.shot("editing_03_saved")


def test_a_change_saved_meanwhile_opens_the_conflict_dialog(
        open_map: OpenMap, map_server: str, api_keys: dict[str, str],
        parcel: dict[str, Any]) -> None:
    pid = parcel["id"]
    page = _open_card(open_map, pid, api_keys["editor"])
    p = page.page
    p.click("#action-edit")
    p.wait_for_selector("#edit-dialog[open] #edit-form")
    p.fill("#edit-name", "Meine Bezeichnung")

    # a colleague saves the parcel behind the page's back
    _, etag = _current(map_server, pid, api_keys["editor"])
    behind = httpx.patch(f"{map_server}/api/v1/parcels/{pid}",
                         headers={**_auth(api_keys["editor"]), "If-Match": etag,
                                  "Content-Type": "application/merge-patch+json"},
                         content=json.dumps({"name": "Fremde Bezeichnung",
                                             "contact_name": "Frau Andere"}), timeout=30)
    assert behind.status_code == 200, behind.text
    new_etag = behind.headers["ETag"]
    assert new_etag != etag

    with p.expect_response(lambda r: r.request.method == "PATCH") as refused:
        p.click("#edit-form-submit")
    assert refused.value.status == 412
    dialog = p.wait_for_selector("#conflict-dialog[open]")
    assert dialog is not None
    assert p.evaluate("document.getElementById('conflict-dialog').contains(document.activeElement)")
    assert p.evaluate("""() => {
      const d = document.getElementById('conflict-dialog');
      return document.getElementById(d.getAttribute('aria-labelledby')).textContent;
    }""") == "Die Fläche wurde inzwischen geändert"

    def row(field: str) -> dict[str, str]:
        cells: dict[str, str] = p.eval_on_selector(
            f"#conflict-dialog tr[data-field='{field}']",
            "tr => Object.fromEntries([...tr.cells].map((c, i) => [c.dataset.column || 'label', c.textContent]))")
        return cells

    name = row("name")
    assert name["label"].startswith("Bezeichnung")
    assert (name["before"], name["current"], name["mine"]) == (
        "Testfläche Bearbeitung", "Fremde Bezeichnung", "Meine Bezeichnung")
    contact = row("contact_name")
    assert (contact["before"], contact["current"], contact["mine"]) == ("(leer)", "Frau Andere", "–")
    assert axe_violations(p, "#conflict-dialog") == []
    page.shot("editing_04_conflict")

    # Escape closes the dialog and leaves the form as it was; saving again meets the conflict again
    p.keyboard.press("Escape")
    p.wait_for_selector("#conflict-dialog", state="hidden")
    assert p.is_visible("#edit-dialog") and p.input_value("#edit-name") == "Meine Bezeichnung"
    p.click("#edit-form-submit")
    p.wait_for_selector("#conflict-dialog[open]")

    with p.expect_request(lambda r: r.method == "PATCH") as sent:
        p.click("#conflict-apply")
    assert sent.value.headers["if-match"] == new_etag
    assert json.loads(sent.value.post_data or "") == {"name": "Meine Bezeichnung"}
    _wait_title(p, "Meine Bezeichnung")
    assert p.is_hidden("#conflict-dialog") and p.is_hidden("#edit-dialog")
    stored, _ = _current(map_server, pid, api_keys["editor"])
    # the user's change on top of the colleague's: both kept
    assert (stored["name"], stored["contact_name"]) == ("Meine Bezeichnung", "Frau Andere")
    page.shot("editing_05_applied")


def _moment(value: str) -> datetime:
    return datetime.fromisoformat(value)


def test_verified_and_reserved_with_one_click(
        open_map: OpenMap, map_server: str, api_keys: dict[str, str],
        parcel: dict[str, Any]) -> None:
    pid = parcel["id"]
    before, etag = _current(map_server, pid, api_keys["editor"])
    page = _open_card(open_map, pid, api_keys["editor"])
    p = page.page
    p.wait_for_selector("#action-verify")
    with p.expect_response(lambda r: r.url.endswith(f"/parcels/{pid}/verify")) as answer:
        p.click("#action-verify")
    assert answer.value.status == 200
    assert answer.value.request.headers["if-match"] == etag
    p.wait_for_function("document.getElementById('status').textContent.includes('geprüft')")
    verified, etag = _current(map_server, pid, api_keys["editor"])
    assert _moment(verified["last_verified_at"]) > _moment(before["last_verified_at"])

    # the card was reloaded with the new ETag: reserving sends that one
    p.wait_for_function(f"document.getElementById('card-actions').dataset.etag === {json.dumps(etag)}")
    with p.expect_request(lambda r: r.method == "PATCH") as sent:
        p.click("#action-reserve")
    assert sent.value.headers["if-match"] == etag
    assert json.loads(sent.value.post_data or "") == {"marketing_status": "reserviert"}
    p.wait_for_selector("#action-reserve:text-is('Reservierung aufheben')", timeout=WAIT_MS)
    stored, _ = _current(map_server, pid, api_keys["editor"])
    assert stored["marketing_status"] == "reserviert"
    page.shot("editing_06_reserved")


@pytest.mark.parametrize("role", ["editor_halle", "analyst", None])
def test_others_see_no_edit_buttons(open_map: OpenMap, api_keys: dict[str, str],
                                    parcel: dict[str, Any], role: str | None) -> None:
    page = _open_card(open_map, parcel["id"], api_keys[role] if role else None)
    assert page.page.eval_on_selector("#card-actions", "box => box.children.length") == 0
    assert page.page.locator("#card button", has_text="Bearbeiten").count() == 0
    page.shot(f"editing_07_no_buttons_{role or 'public'}")
