"""An import's stored report as CSV text: one line per problem, a row without problems once
(the columns of :data:`REPORT_COLUMNS`), for the API's ``report.csv`` and ``gefis import
--report``."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from sqlalchemy import Connection

from app.db.queries.import_records import report_lines

REPORT_COLUMNS = ("row", "external_id", "district_ags", "action", "parcel_id",
                  "land_sale_id", "changed_fields", "field", "code", "message", "severity")


def report_csv(conn: Connection, import_id: int, lines_per_chunk: int = 1000
               ) -> Iterator[str]:
    """The report of import ``import_id`` as CSV text, header first, in chunks."""
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, REPORT_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for i, line in enumerate(report_lines(conn, import_id), start=1):
        writer.writerow(line)
        if i % lines_per_chunk == 0:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()
