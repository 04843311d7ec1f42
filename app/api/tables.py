"""Tabular answers (summary, balance): JSON by default, CSV on request (HTTP only).

CSV is RFC 4180: UTF-8, comma-separated, a header row with the JSON member names, decimal
points, empty cells for missing values; ``f=csv`` or ``Accept: text/csv`` asks for it.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from enum import StrEnum
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.responses import Response

from .negotiation import chosen_format
from .responses import JSON_MEDIA_TYPE

CSV_MEDIA_TYPE = "text/csv"


class TableFormat(StrEnum):
    """Representations of a table."""

    JSON = "json"
    CSV = "csv"


_MEDIA_TYPES = {TableFormat.JSON: JSON_MEDIA_TYPE, TableFormat.CSV: CSV_MEDIA_TYPE}


def table_format(
    request: Request,
    format_: Annotated[TableFormat | None, Query(
        alias="f", description="json or csv (else negotiated from Accept)")] = None,
) -> TableFormat:
    """``f`` first, then the ``Accept`` header (406 when it accepts neither)."""
    return chosen_format(request, format_, _MEDIA_TYPES, TableFormat.JSON)


TableFormatDep = Annotated[TableFormat, Depends(table_format)]


def csv_text(rows: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """CSV with a header row of ``columns``; ``None`` becomes an empty cell.

    >>> csv_text([{"a": 1, "b": None}, {"a": 2.5, "b": "x,y"}], ["a", "b"])
    'a,b\\r\\n1,\\r\\n2.5,"x,y"\\r\\n'
    """
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else row.get(c) for c in columns])
    return out.getvalue()


def csv_response(rows: Iterable[Mapping[str, Any]], columns: Sequence[str],
                 filename: str) -> Response:
    """A CSV download named ``filename``."""
    return Response(content=csv_text(rows, columns), media_type=f"{CSV_MEDIA_TYPE}; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _plain(value: Any) -> Any:
    """JSON for what :mod:`json` cannot write: pydantic models, dates (ISO), others as text."""
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def json_response(document: Mapping[str, Any]) -> Response:
    """A JSON document (dates as ISO text)."""
    return Response(content=json.dumps(document, ensure_ascii=False, default=_plain),
                    media_type=JSON_MEDIA_TYPE)
