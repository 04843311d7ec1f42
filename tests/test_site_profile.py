"""The site profile (Standortprofil): ``GET /api/v1/sites/{site_id}/profile`` as HTML and PDF.

Each test changes one demo site inside its rolled-back transaction (``profiled``): a price
and an owner that are not released, a released contact, a sold parcel. The page is opened
in headless Chromium (the map must have drawn pixels), the PDF's text is read with pypdf.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser
from pypdf import PdfReader
from sqlalchemy import Connection, text

from app.domain import vocab
from app.domain.clock import today
from app.domain.roles import PUBLIC_VIEWER, STAFF
from app.services.render.html import number_de
from app.services.reports.site_profile import load_site_profile
from tests.browser import BrokenImage, browser, distinct_colours, drawn_pixels  # noqa: F401
from tests.resource_client import Client, problem_fields

SECRET_PRICE = 83.17      # EUR/m², not released to the public
SECRET_OWNER = "Geheim Grundbesitz GmbH"
RELEASED_CONTACT = "Erika Mustermann"
SOLD_NAME = "Baufeld Verkauft-Test"


@dataclass(frozen=True)
class Profiled:
    """The demo site under test and its parcels (marketed ones by id; the sold one)."""

    site_id: int
    site_name: str
    marketed: list[dict[str, Any]]
    sold_id: int


@pytest.fixture
def profiled(conn: Connection) -> Profiled:
    site_id, site_name = conn.execute(text(
        "SELECT s.id, s.name FROM sites s JOIN parcels p ON p.site_id = s.id "
        "WHERE s.withdrawn_at IS NULL AND s.is_synthetic AND p.marketing_status = 'verfuegbar' "
        "GROUP BY s.id HAVING count(*) >= 3 ORDER BY s.id LIMIT 1")).one()
    ids = conn.execute(text("SELECT id FROM parcels WHERE site_id = :s ORDER BY id"),
                       {"s": site_id}).scalars().all()
    first, sold = ids[0], ids[-1]
    conn.execute(text("UPDATE parcels SET public_fields = '{}' WHERE site_id = :s"), {"s": site_id})
    conn.execute(text(
        "UPDATE parcels SET price_eur_m2 = :price, owner_name = :owner, contact_name = :contact, "
        "public_fields = '{contact_name}' WHERE id = :id"),
        {"price": SECRET_PRICE, "owner": SECRET_OWNER, "contact": RELEASED_CONTACT, "id": first})
    conn.execute(text("UPDATE parcels SET marketing_status = 'verkauft', name = :name "
                      "WHERE id = :id"), {"name": SOLD_NAME, "id": sold})
    marketed = conn.execute(text(
        "SELECT id, name, net_area_ha, availability FROM parcels WHERE site_id = :s "
        "AND marketing_status IN ('verfuegbar', 'reserviert') ORDER BY id"),
        {"s": site_id}).mappings().all()
    return Profiled(site_id, site_name, [dict(r) for r in marketed], sold)


def _html(client: Client, site_id: int, **params: Any) -> str:
    response = client.get(f"/sites/{site_id}/profile", **params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    return response.text


def test_public_edition_withholds_what_is_not_released(clients: dict[str, Client],
                                                        profiled: Profiled) -> None:
    page = _html(clients["public"], profiled.site_id)
    assert profiled.site_name in page
    assert number_de(SECRET_PRICE, 2) not in page and SECRET_OWNER not in page
    assert "auf Anfrage" in page and RELEASED_CONTACT in page
    assert 'data-edition="public"' in page and "Interne Fassung" not in page
    assert "Synthetische Demodaten" in page and "synthetisch" in page


def test_staff_edition_shows_every_field(clients: dict[str, Client], profiled: Profiled) -> None:
    page = _html(clients["analyst"], profiled.site_id)
    assert f"{number_de(SECRET_PRICE, 2)} €/m²" in page and SECRET_OWNER in page
    assert 'data-edition="internal"' in page
    # staff can produce the public edition to hand it out: the same as the public's
    handout = _html(clients["analyst"], profiled.site_id, public_edition="true")
    assert number_de(SECRET_PRICE, 2) not in handout and SECRET_OWNER not in handout
    assert 'data-edition="public"' in handout


def test_withheld_fields_never_leave_the_database(conn: Connection, profiled: Profiled) -> None:
    common = {"include_withdrawn": False, "all_parcels": False, "day": today()}
    public = load_site_profile(conn, profiled.site_id, viewer=PUBLIC_VIEWER, **common)
    staff = load_site_profile(conn, profiled.site_id, viewer=STAFF, **common)
    assert public is not None and staff is not None
    first = profiled.marketed[0]["id"]
    seen = {p["id"]: p for p in public.parcels}
    assert seen[first]["price_eur_m2"] is None and seen[first]["owner_name"] is None
    assert seen[first]["contact_name"] == RELEASED_CONTACT
    assert all(p["public_fields"] is None and p["internal_notes"] is None for p in public.parcels)
    staff_first = next(p for p in staff.parcels if p["id"] == first)
    assert float(staff_first["price_eur_m2"]) == SECRET_PRICE
    assert staff_first["owner_name"] == SECRET_OWNER


def test_only_marketed_parcels_unless_staff_ask_for_all(clients: dict[str, Client],
                                                        profiled: Profiled) -> None:
    for role in ("public", "analyst"):
        page = _html(clients[role], profiled.site_id)
        assert SOLD_NAME not in page, role
        assert 'data-parcels="marketed"' in page
        assert page.count('<tr data-parcel="') == len(profiled.marketed)
    everything = _html(clients["analyst"], profiled.site_id, all_parcels="true")
    assert SOLD_NAME in everything and 'data-parcels="all"' in everything
    assert everything.count('<tr data-parcel="') == len(profiled.marketed) + 1
    problem_fields(clients["public"].get(f"/sites/{profiled.site_id}/profile",
                                         all_parcels="true"), 401)


def test_withdrawn_site_is_404_for_the_public(conn: Connection, clients: dict[str, Client],
                                              profiled: Profiled) -> None:
    conn.execute(text("UPDATE parcels SET marketing_status = 'zurueckgezogen' "
                      "WHERE site_id = :s AND marketing_status IN ('verfuegbar', 'reserviert')"),
                 {"s": profiled.site_id})
    conn.execute(text("UPDATE sites SET withdrawn_at = now() WHERE id = :s"),
                 {"s": profiled.site_id})
    problem_fields(clients["public"].get(f"/sites/{profiled.site_id}/profile"), 404)
    assert clients["public"].get(f"/sites/{profiled.site_id}").status_code == 404
    page = _html(clients["analyst"], profiled.site_id)
    assert "zurückgezogen" in page and "keine Flächen in Vermarktung" in page


def test_unknown_site_and_unacceptable_formats(clients: dict[str, Client]) -> None:
    public = clients["public"]
    problem_fields(public.get("/sites/987654321/profile"), 404)
    response = public.http.get(public.base + "/sites/1/profile",
                               headers={"Accept": "application/json"})
    assert problem_fields(response, 406) == ["Accept"]
    response = public.http.get(public.base + "/sites/987654321/profile", params={"f": "pdf"})
    assert problem_fields(response, 404) == []  # the site is checked before any printing
    problem_fields(public.get("/sites/1/profile", f="docx"), 422)


def _pdf_text(pdf: bytes) -> tuple[PdfReader, str]:
    reader = PdfReader(io.BytesIO(pdf))
    return reader, " ".join(" ".join(p.extract_text().split()) for p in reader.pages)


def test_pdf_holds_the_key_figures_and_the_map(clients: dict[str, Client],
                                               profiled: Profiled) -> None:
    public = clients["public"]
    response = public.http.get(public.base + f"/sites/{profiled.site_id}/profile",
                               headers={"Accept": "text/csv;q=0.9, application/pdf"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert (response.headers["content-disposition"]
            == f'inline; filename="standortprofil_{profiled.site_id}.pdf"')
    reader, content = _pdf_text(response.content)
    first = reader.pages[0]
    assert abs(float(first.mediabox.width) - 595.3) < 2 and abs(float(first.mediabox.height) - 841.9) < 2
    assert len(first.images) >= 1 and len(first.images[0].data) > 10_000  # the map
    parcel = profiled.marketed[0]
    assert profiled.site_name in content
    assert number_de(parcel["net_area_ha"], 2) in content
    assert vocab.AVAILABILITY.label(parcel["availability"]) in content
    assert "synthetisch" in content and "Standortprofil" in content
    assert number_de(SECRET_PRICE, 2) not in content and SECRET_OWNER not in content
    assert RELEASED_CONTACT in content


@pytest.fixture
def without_chromium(api: FastAPI) -> Iterator[None]:
    """The app configured with a Chromium that does not exist."""
    settings = api.state.settings
    api.state.settings = settings.model_copy(update={"chromium_path": "/nonexistent/chromium"})
    try:
        yield
    finally:
        api.state.settings = settings


def test_pdf_without_chromium_is_a_503_problem(http: httpx.Client, profiled: Profiled,
                                              without_chromium: None) -> None:
    url = f"/api/v1/sites/{profiled.site_id}/profile"
    response = http.get(url, params={"f": "pdf"})
    problem_fields(response, 503)
    assert response.json()["type"].endswith("/pdf-unavailable")
    assert "chromium" in response.json()["detail"]
    assert http.get(url).status_code == 200  # HTML needs no Chromium


def test_the_page_shows_the_map_in_a_real_browser(browser: Browser,  # noqa: F811
                                                  clients: dict[str, Client],
                                                  profiled: Profiled) -> None:
    html = _html(clients["public"], profiled.site_id)
    page = browser.new_page(viewport={"width": 1000, "height": 1400})
    try:
        page.set_content(html, wait_until="load")
        screenshot = page.screenshot(full_page=True)
        assert len(screenshot) > 20_000
        box = page.locator("figure.map img").bounding_box()
        assert box is not None and box["width"] > 600 and box["height"] > 350
        drawn = drawn_pixels(page, "figure.map img")
        assert drawn > 0.15 * box["width"] * box["height"], drawn
        assert distinct_colours(page, "figure.map img") > 20
        assert page.locator("table.overview tbody tr[data-parcel]").count() == len(profiled.marketed)
        assert page.locator("table.overview .swatch").count() == len(profiled.marketed)
    finally:
        page.close()


def test_the_pixel_check_fails_on_broken_and_blank_images(browser: Browser) -> None:  # noqa: F811
    page = browser.new_page()
    white = ("data:image/svg+xml;utf8,<svg xmlns='http://www.w3.org/2000/svg' width='200' "
             "height='100'><rect width='200' height='100' fill='white'/></svg>")
    try:
        page.set_content(f'<img id="broken" src="data:image/png;base64,AAAA" width="200" '
                         f'height="100"><img id="blank" src="{white}">', wait_until="load")
        with pytest.raises(BrokenImage):
            drawn_pixels(page, "#broken")
        assert drawn_pixels(page, "#blank") == 0
    finally:
        page.close()


def test_openapi_documents_both_media_types(api: FastAPI) -> None:
    operation = api.openapi()["paths"]["/api/v1/sites/{site_id}/profile"]["get"]
    assert set(operation["responses"]["200"]["content"]) == {"text/html", "application/pdf"}
    assert {"404", "406", "503"} <= set(operation["responses"])
    names = {p["name"] for p in operation["parameters"]}
    assert {"f", "all_parcels", "public_edition"} <= names
