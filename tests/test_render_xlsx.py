"""Tables for people (``app.services.render.tables``): the workbook (openpyxl reads it back),
CSV and the HTML macro, on a small table with a column of every kind."""

from __future__ import annotations

import io
from datetime import datetime

import pytest
from openpyxl import load_workbook

from app.services.render.html import environment
from app.services.render.tables import Column, Table, find_table, table_csv
from app.services.render.xlsx import FIXED_TIME, NUMBER_FORMATS, workbook_bytes

COLUMNS = (
    Column("name", "Name"), Column("count", "Anzahl", "int"), Column("area", "Fläche (ha)", "ha"),
    Column("share", "Anteil", "pct"), Column("day", "Stichtag", "date"),
    Column("price", "Preis", "eur"), Column("reach", "Reichweite (Jahre)", "years"),
    Column("km", "Autobahn (km)", "km"), Column("flag", "Gleis"), Column("codes", "Codes"))
ROWS = [
    {"name": "Leipzig", "count": 1234, "area": 1234.56, "share": 33.0, "day": "2024-12-31",
     "price": 12.5, "reach": 6.94, "km": 4.25, "flag": True, "codes": ["a", "b"]},
    {"name": "Halle", "count": 2, "area": None, "share": 67.0, "day": None, "price": None,
     "reach": None, "km": None, "flag": False, "codes": []},
]
TOTAL = {"name": "Summe", "count": 1236, "area": 1234.56, "share": 100.0}


def _table(**changes: object) -> Table:
    spec: dict[str, object] = {"key": "demo", "sheet": "Demo-Tabelle", "title": "Eine Tabelle",
                               "columns": COLUMNS, "rows": ROWS, "total": TOTAL,
                               "note": "Eine Anmerkung."}
    spec.update(changes)
    return Table(**spec)  # type: ignore[arg-type]


def test_the_workbook_reads_back_with_formats_and_totals() -> None:
    data = workbook_bytes([_table()], title="Testbericht",
                          meta=[("Stichtag", "31.12.2024"), ("Filter", "keine")],
                          notes=["Alle Flächen netto."])
    assert data == workbook_bytes([_table()], title="Testbericht",
                                  meta=[("Stichtag", "31.12.2024"), ("Filter", "keine")],
                                  notes=["Alle Flächen netto."])  # same bytes
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["Übersicht", "Demo-Tabelle"]
    assert book.properties.created == FIXED_TIME == book.properties.modified
    assert book.properties.creator == "GEFIS-MD"
    cover = list(book["Übersicht"].iter_rows(values_only=True))
    assert cover[0][0] == "Testbericht" and book["Übersicht"]["A1"].font.bold
    assert ("Stichtag", "31.12.2024") in cover and ("Demo-Tabelle", "Eine Tabelle") in cover
    assert (None, "Alle Flächen netto.") in cover
    sheet = book["Demo-Tabelle"]
    assert [c.value for c in sheet[1]] == [c.header for c in COLUMNS]
    assert all(c.font.bold for c in sheet[1])
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:J3"
    first = {c.key: cell for c, cell in zip(COLUMNS, sheet[2], strict=True)}
    assert first["count"].value == 1234 and first["count"].number_format == "#,##0"
    assert first["area"].value == 1234.56 and first["area"].number_format == "#,##0.0"
    assert first["share"].number_format == '0.0" %"'
    assert first["day"].value == datetime(2024, 12, 31)
    assert first["day"].number_format == "DD.MM.YYYY"
    assert first["price"].number_format == NUMBER_FORMATS["eur"] == '#,##0.00" €"'
    assert first["reach"].number_format == "0.0" == first["km"].number_format
    assert first["name"].number_format == "General"
    assert (first["flag"].value, first["codes"].value) == ("ja", "a, b")
    second = [c.value for c in sheet[3]]
    assert second == ["Halle", 2, None, 67.0, None, None, None, None, "nein", None]
    total = sheet[4]
    assert [c.value for c in total][:4] == ["Summe", 1236, 1234.56, 100.0]
    assert all(c.font.bold for c in total) and total[0].border.top.style == "medium"
    assert sheet["A6"].value == "Eine Anmerkung." and sheet["A5"].value is None
    assert sheet.column_dimensions["A"].width >= 8
    assert sheet.column_dimensions["C"].width >= len("1,234.56")


def test_a_table_without_total_or_rows() -> None:
    book = load_workbook(io.BytesIO(workbook_bytes(
        [_table(total=None, note=None), _table(key="leer", sheet="Leer", rows=[], total=None, note=None)],
        title="T")))
    assert book["Demo-Tabelle"].max_row == 3
    assert book["Leer"].max_row == 2 and book["Leer"]["A2"].value == "Keine Einträge."
    assert book["Leer"].freeze_panes == "A2"


def test_tables_refuse_what_excel_cannot_hold() -> None:
    with pytest.raises(ValueError, match="31 characters"):
        _table(sheet="Ein viel zu langer Name für ein Tabellenblatt")
    with pytest.raises(ValueError, match="31 characters"):
        _table(sheet="Kreise/Gemeinden")
    with pytest.raises(ValueError, match="twice"):
        _table(columns=(Column("a", "A"), Column("a", "B")))
    with pytest.raises(KeyError, match="known: demo"):
        find_table([_table()], "other")


def test_csv_has_the_keys_and_plain_values() -> None:
    lines = table_csv(_table()).splitlines()
    assert lines == [
        "name,count,area,share,day,price,reach,km,flag,codes",
        'Leipzig,1234,1234.56,33.0,2024-12-31,12.5,6.94,4.25,true,"a, b"',
        "Halle,2,,67.0,,,,,false,"]
    assert table_csv(_table(), with_total=True).splitlines()[-1] == \
        "Summe,1236,1234.56,100.0,,,,,,"


def _html(table: Table, **kwargs: object) -> str:
    template = environment().from_string(
        '{% from "_tables.html.j2" import report_table %}{{ report_table(t, **kw) }}')
    return template.render(t=table, kw=kwargs)


def test_the_html_macro_writes_german_numbers_by_kind() -> None:
    html = _html(_table())
    assert "<h3>Eine Tabelle</h3>" in html and 'data-table="demo"' in html
    for text in ("1.234", "1.234,6", "33,0 %", "31.12.2024", "12,50 €", "6,9", "4,2", "ja",
                 "nein", "a, b", "Eine Anmerkung."):
        assert f">{text}<" in html or text in html, text
    assert '<th class="n">Fläche (ha)</th>' in html and "<th>Name</th>" in html
    assert '<tr class="total">' in html and ">1.236<" in html
    assert html.count(">–<") >= 5  # missing values
    assert "wide" in html  # ten columns: the smaller type
    short = _html(_table(), limit=1, heading=False)
    assert "Halle" not in short and "1 weitere Zeilen" in short and "<h3>" not in short
    assert "Keine Einträge." in _html(_table(rows=[], total=None))
