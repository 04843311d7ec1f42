"""The portfolio report's other formats: CSV (one table), XLSX (opened with openpyxl; totals
equal the JSON), HTML (charts and district maps as valid PNG ``data:`` URIs; drawn pixels in
a real browser) and PDF (pypdf: the region's net ha in German, an image)."""

from __future__ import annotations

import base64
import csv
import io
import re
from typing import Any

import pytest
from openpyxl import load_workbook
from PIL import Image
from playwright.sync_api import Browser
from pypdf import PdfReader

from app.services.render.html import number_de
from app.services.reports.portfolio_output import TABLE_KEYS, TABLE_SPECS
from tests.browser import browser, drawn_pixels  # noqa: F401
from tests.resource_client import Client

pytestmark = pytest.mark.slow  # PDFs printed and pages drawn by Chromium

PATH = "/reports/portfolio"
SINCE = "2024-01-01"


def _get(client: Client, **params: Any) -> Any:
    response = client.get(PATH, **params)
    assert response.status_code == 200, response.text
    return response


def test_csv_answers_each_named_table(clients: dict[str, Client]) -> None:
    public = clients["public"]
    document = _get(public, since=SINCE).json()
    for key in TABLE_KEYS:
        response = _get(public, f="csv", table=key, since=SINCE)
        assert response.headers["content-type"].startswith("text/csv")
        assert f"_{key}.csv" in response.headers["content-disposition"]
        rows = list(csv.DictReader(io.StringIO(response.text)))
        _, _, columns, _ = TABLE_SPECS[key]
        assert list(rows[0]) == [c.key for c in columns] if rows else True
        assert len(rows) == len(document[key]["rows"]), key
    districts = list(csv.DictReader(io.StringIO(_get(public, f="csv").text)))
    assert [r["district_ags"] for r in districts] == [
        r["district_ags"] for r in document["districts"]["rows"]]
    assert sum(float(r["net_ha"]) for r in districts) == pytest.approx(
        document["total"]["net_ha"], abs=0.01)


def test_xlsx_has_a_sheet_per_table_and_the_json_totals(clients: dict[str, Client]) -> None:
    client = clients["analyst"]
    document = _get(client, since=SINCE).json()
    response = _get(client, f="xlsx", since=SINCE)
    assert response.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert response.content == _get(client, f="xlsx", since=SINCE).content  # deterministic
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["Übersicht", *(TABLE_SPECS[k][0] for k in TABLE_KEYS)]
    cover = book["Übersicht"]
    assert cover["A1"].value == document["title"]
    cover_text = {row[0]: row[1] for row in cover.iter_rows(values_only=True) if row[0]}
    assert cover_text["Stichtag"] and cover_text["Veränderungen seit"] == "01.01.2024"
    for key in TABLE_KEYS:
        sheet_name, _, columns, _ = TABLE_SPECS[key]
        sheet = book[sheet_name]
        assert sheet.freeze_panes == "A2"
        assert [c.value for c in sheet[1]] == [c.header for c in columns]
        assert all(c.font.bold for c in sheet[1])
        rows, total = document[key]["rows"], document[key]["total"]
        for j, column in enumerate(columns):
            if column.kind == "ha" and rows:
                assert sheet.cell(2, j + 1).number_format == "#,##0.0"
        if total is None:
            continue
        last = sheet[len(rows) + 2]
        assert all(c.font.bold for c in last if c.value is not None)
        for column, cell in zip(columns, last, strict=True):
            expected = total.get(column.key)
            assert cell.value == expected, (key, column.key)
    districts = book[TABLE_SPECS["districts"][0]]
    net_column = [c.key for c in TABLE_SPECS["districts"][2]].index("net_ha") + 1
    assert districts.cell(len(document["districts"]["rows"]) + 2, net_column).value == \
        document["total"]["net_ha"]


def _png_images(html: str) -> dict[str, Image.Image]:
    images = {}
    for key, data in re.findall(
            r'data-image="([a-z_]+)">\s*<img src="data:image/png;base64,([^"]+)"', html):
        raw = base64.b64decode(data)
        assert raw.startswith(b"\x89PNG\r\n\x1a\n")
        image = Image.open(io.BytesIO(raw))
        image.verify()
        images[key] = Image.open(io.BytesIO(raw)).convert("RGB")
    return images


def test_html_is_german_with_charts_and_maps(clients: dict[str, Client]) -> None:
    response = _get(clients["public"], f="html", since=SINCE)
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    document = _get(clients["public"], since=SINCE).json()
    assert '<html lang="de">' in html and "Gewerbeflächen-Portfolio" in html
    assert f"{number_de(document['total']['net_ha'])} ha" in html
    assert 'data-synthetic="true"' in html  # the demo data is shown
    images = _png_images(html)
    assert set(images) == {"availability", "categories", "reach", "changes", "map_supply",
                           "map_balance"}
    for key, image in images.items():
        assert image.width >= 900, key
        assert len(image.getcolors(maxcolors=1 << 20) or []) > 20, key  # not blank
    for key in ("districts", "supply", "premium_sites", "balance", "partner_sites"):
        assert f'data-table="{key}"' in html
    # a browser asks for HTML and gets it
    page = clients["public"].http.get(clients["public"].base + PATH, headers={
        "Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert page.headers["content-type"].startswith("text/html")


def test_pdf_holds_the_key_figures_and_the_map(clients: dict[str, Client]) -> None:
    document = _get(clients["public"]).json()
    response = _get(clients["public"], f="pdf")
    assert response.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    text = " ".join(page.extract_text() for page in reader.pages)
    assert f"{number_de(document['total']['net_ha'])} ha" in text
    assert "Premiumstandorte" in text and "Bilanz und Reichweite" in text
    assert sum(len(page.images) for page in reader.pages) >= 5


def test_charts_and_maps_draw_in_a_browser(clients: dict[str, Client],
                                           browser: Browser) -> None:  # noqa: F811
    html = _get(clients["public"], f="html", since=SINCE).text
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    try:
        page.set_content(html, wait_until="load")
        for selector in ("#map_supply", "#map_balance", "#availability", "#categories",
                         "#reach", "#changes"):
            assert drawn_pixels(page, selector) > 5_000, selector
    finally:
        page.close()
