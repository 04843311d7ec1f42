"""A table as people read it: German headers and a kind per column, shared by CSV, XLSX and HTML.

Reports describe each of their tables once as a :class:`Table` (rows as the JSON answer has
them, plus the columns to show and their kinds); :func:`table_csv`, the workbook writer
(:mod:`app.services.render.xlsx`) and the HTML macro (``templates/_tables.html.j2``) all
read that one description, so the three formats cannot disagree.

Kinds and how they are written (German in HTML; Excel localises the separators itself):

========  =======================================  ==============  ================
kind      value                                    HTML            Excel format
========  =======================================  ==============  ================
text      anything (codes, names, years)           as it is        General
int       a whole number                           ``1.234``       ``#,##0``
ha        hectares                                 ``1.234,5``     ``#,##0.0``
pct       a percentage (0–100, not a share)        ``33,0 %``      ``0.0" %"``
date      a date (``date`` or ISO text)            ``31.12.2024``  ``DD.MM.YYYY``
eur       euros                                    ``12,50 €``     ``#,##0.00" €"``
years     a span in years (reach)                  ``6,9``         ``0.0``
km        a distance in kilometres                 ``4,2``         ``0.0``
========  =======================================  ==============  ================
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from app.api.tables import csv_text

Kind = Literal["text", "int", "ha", "pct", "date", "eur", "years", "km"]

#: Kinds whose values are numbers (right-aligned, summed in total rows).
NUMERIC_KINDS: frozenset[str] = frozenset({"int", "ha", "pct", "eur", "years", "km"})

#: Decimal places of each numeric kind, in HTML and in Excel alike.
DIGITS: Mapping[str, int] = {"int": 0, "ha": 1, "pct": 1, "eur": 2, "years": 1, "km": 1}


@dataclass(frozen=True)
class Column:
    """One column: the row key, its German header, and the kind of its values."""

    key: str
    header: str
    kind: Kind = "text"

    @property
    def numeric(self) -> bool:
        """Whether the values are numbers (right-aligned)."""
        return self.kind in NUMERIC_KINDS


@dataclass(frozen=True)
class Table:
    """A table of a report.

    ``key`` is its API name (``?table=`` of CSV answers), ``sheet`` its German sheet name
    (at most 31 characters, an Excel limit), ``title`` its German heading. ``total`` is the
    totals row (keys as the rows'; ``None``: the table has none, e.g. overlapping groups),
    ``note`` a German remark shown under it.
    """

    key: str
    sheet: str
    title: str
    columns: tuple[Column, ...]
    rows: list[dict[str, Any]]
    total: dict[str, Any] | None = None
    note: str | None = None

    def __post_init__(self) -> None:
        if len(self.sheet) > 31 or any(c in self.sheet for c in "[]:*?/\\"):
            raise ValueError(f"sheet name {self.sheet!r}: at most 31 characters, none of []:*?/\\")
        keys = [c.key for c in self.columns]
        if len(set(keys)) != len(keys):
            raise ValueError(f"table {self.key!r} names a column twice")


def cell_value(column: Column, row: Mapping[str, Any]) -> Any:
    """The value of ``column`` in ``row`` as written to a file: dates as ``date``, numbers as
    numbers, lists as comma-separated text, missing values as ``None``.

    >>> cell_value(Column("d", "Datum", "date"), {"d": "2024-09-30"})
    datetime.date(2024, 9, 30)
    >>> cell_value(Column("c", "Codes"), {"c": ["a", "b"]})
    'a, b'
    """
    value = row.get(column.key)
    if value is None:
        return None
    if column.kind == "date" and isinstance(value, str):
        return date.fromisoformat(value[:10])
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return value


def table_csv(table: Table, *, with_total: bool = False) -> str:
    """CSV of ``table`` (RFC 4180, see :mod:`app.api.tables`): a header row of the column
    keys (the JSON member names), decimal points, ISO dates; the totals row only on request
    (machine readers would count it twice).

    >>> t = Table("t", "T", "T", (Column("a", "A"), Column("n", "N", "ha")),
    ...           [{"a": "x", "n": 1.5}], total={"a": "Summe", "n": 1.5})
    >>> table_csv(t)
    'a,n\\r\\nx,1.5\\r\\n'
    """
    rows = [*table.rows, *([table.total] if with_total and table.total else [])]
    keys = [c.key for c in table.columns]
    plain = [{c.key: _csv_value(cell_value(c, row)) for c in table.columns} for row in rows]
    return csv_text(plain, keys)


def _csv_value(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def find_table(tables: Sequence[Table], key: str) -> Table:
    """The table named ``key``; ``KeyError`` naming the known ones otherwise."""
    for table in tables:
        if table.key == key:
            return table
    raise KeyError(f"no table {key!r}; known: {', '.join(t.key for t in tables)}")
