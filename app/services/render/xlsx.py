"""Workbooks (XLSX, openpyxl): a first sheet describing the report, then a sheet per table.

Each table sheet has its German headers in a bold, frozen first row with an autofilter,
number formats by column kind (see :mod:`app.services.render.tables`; Excel shows them with
the reader's separators, ``1.234,5`` in a German Excel), column widths fitted to the
contents, the totals row in bold, and the table's note below it.

Deterministic: the workbook's properties (creator, created, modified) are fixed and the ZIP
entries carry a fixed time stamp, so the same tables give the same bytes.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from datetime import date, datetime

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from app.services.render.tables import Column, Table, cell_value

#: Excel number format of each column kind.
NUMBER_FORMATS: dict[str, str] = {
    "text": "General",
    "int": "#,##0",
    "ha": "#,##0.0",
    "pct": '0.0" %"',
    "date": "DD.MM.YYYY",
    "eur": '#,##0.00" €"',
    "years": "0.0",
    "km": "0.0",
}

#: Fixed properties (a workbook made from the same tables is the same file).
CREATOR = "GEFIS-MD"
FIXED_TIME = datetime(2000, 1, 1)
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)

_HEADER_FILL = PatternFill("solid", start_color="FFEEF2F6", end_color="FFEEF2F6")
_BOLD = Font(bold=True)
_TITLE = Font(bold=True, size=14)
_MUTED = Font(italic=True, color="FF5B6672")
_TOTAL_BORDER = Border(top=Side(style="medium"))
_WRAP = Alignment(wrap_text=True, vertical="top")
#: Widest column (characters); longer texts wrap.
_MAX_WIDTH = 60


def workbook_bytes(tables: Sequence[Table], *, title: str,
                   meta: Sequence[tuple[str, str]] = (), notes: Sequence[str] = ()) -> bytes:
    """The workbook of ``tables`` as XLSX bytes.

    The first sheet (``Übersicht``) holds ``title``, the ``meta`` lines (label, value: date,
    filters, …), the list of sheets and the ``notes``; then one sheet per table.
    """
    wb = Workbook()
    cover = wb.active
    assert cover is not None
    cover.title = "Übersicht"
    _cover(cover, tables, title=title, meta=meta, notes=notes)
    for table in tables:
        _sheet(wb.create_sheet(table.sheet), table)
    wb.properties.creator = CREATOR
    wb.properties.lastModifiedBy = CREATOR
    wb.properties.title = title
    wb.properties.created = FIXED_TIME
    wb.properties.modified = FIXED_TIME
    return _fixed_zip(wb)


def _cover(ws: Worksheet, tables: Sequence[Table], *, title: str,
           meta: Sequence[tuple[str, str]], notes: Sequence[str]) -> None:
    ws.append([title])
    ws["A1"].font = _TITLE
    ws.append([])
    for label, value in meta:
        ws.append([label, value])
        ws.cell(ws.max_row, 1).font = _BOLD
    ws.append([])
    ws.append(["Tabellenblätter"])
    ws.cell(ws.max_row, 1).font = _BOLD
    for table in tables:
        ws.append([table.sheet, table.title])
    if notes:
        ws.append([])
        ws.append(["Hinweise"])
        ws.cell(ws.max_row, 1).font = _BOLD
        for note in notes:
            ws.append([None, note])
            ws.cell(ws.max_row, 2).alignment = _WRAP
    ws.column_dimensions["A"].width = 28
    ws.column_dimensions["B"].width = 100


def _written(value: object) -> object:
    """A cell value as openpyxl writes it (booleans in German)."""
    if isinstance(value, bool):
        return "ja" if value else "nein"
    return value


def _sheet(ws: Worksheet, table: Table) -> None:
    columns = table.columns
    ws.append([c.header for c in columns])
    for cell in ws[1]:
        cell.font = _BOLD
        cell.fill = _HEADER_FILL
        cell.alignment = _WRAP
    widths = [min(max(len(c.header) * 0.8, 8), _MAX_WIDTH) for c in columns]
    # Row numbers are counted here: openpyxl's ``max_row`` scans every cell (quadratic).
    r = 1
    for row in table.rows:
        r += 1
        _append(ws, r, columns, row, widths)
    if not table.rows:
        r += 1
        ws.append(["Keine Einträge."])
        ws.cell(r, 1).font = _MUTED
    if table.total is not None:
        r += 1
        _append(ws, r, columns, table.total, widths)
        for cell in ws[r]:
            cell.font = _BOLD
            cell.border = _TOTAL_BORDER
    ws.freeze_panes = "A2"
    if table.rows:
        ws.auto_filter.ref = (f"A1:{get_column_letter(len(columns))}"
                              f"{len(table.rows) + 1}")
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = round(width + 2, 1)
    if table.note:
        ws.append([])
        ws.append([table.note])
        ws.cell(ws.max_row, 1).font = _MUTED


def _append(ws: Worksheet, r: int, columns: Sequence[Column], row: dict[str, object],
            widths: list[float]) -> None:
    """Append ``row`` as row ``r`` (the next one), formatted, widening ``widths``."""
    values = [_written(cell_value(c, row)) for c in columns]
    ws.append(values)
    for i, (column, value) in enumerate(zip(columns, values, strict=True)):
        cell = ws.cell(r, i + 1)
        if isinstance(value, int | float | date) and not isinstance(value, bool):
            cell.number_format = NUMBER_FORMATS[column.kind if column.numeric
                                                or column.kind == "date" else "text"]
        shown = _shown_length(column, value)
        widths[i] = min(max(widths[i], shown), _MAX_WIDTH)
        if shown > _MAX_WIDTH:
            cell.alignment = _WRAP


def _shown_length(column: Column, value: object) -> float:
    if value is None:
        return 0
    if column.kind == "date":
        return 10
    if isinstance(value, int | float):
        return len(f"{value:,.2f}") + 1
    return len(str(value))


def _fixed_zip(wb: Workbook) -> bytes:
    """The workbook as ZIP bytes, every entry with the same fixed time stamp."""
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(wb, archive).save()
    out = io.BytesIO()
    with (zipfile.ZipFile(raw) as source,
          zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target):
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=_ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = info.external_attr
            target.writestr(entry, source.read(info.filename))
    return out.getvalue()
