"""Reading an import file into the staging table: columns matched, rows copied in chunks.

The file's rows travel as Arrow record batches (pyogrio) and reach PostgreSQL by ``COPY`` as
CSV written by Arrow (in C), one chunk at a time, so memory holds one chunk, never the
file. Geometries travel as hex WKB; CSV and XLSX cells as text.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
from sqlalchemy import Connection

from app.db.queries.import_staging import copy_rows, create_staging, file_problem
from app.domain.import_columns import (
    ColumnMatch,
    ImportColumn,
    ImportSpec,
    match_columns,
    unknown_targets,
)
from app.services.imports.reader import ImportSource, record_batches

#: Called with the number of rows read so far.
RowsFn = Callable[[int], None]


@dataclass(frozen=True)
class StagedFile:
    """What was staged: the columns understood, the rows read, and the file's CRS."""

    kind: str
    match: ColumnMatch
    present: tuple[ImportColumn, ...]
    rows: int
    srid: int | None

    def columns_json(self) -> dict[str, object]:
        """For the import record: file column → field, geometry columns, ignored ones."""
        return {"fields": self.match.fields, "geometry": self.match.geometry,
                "ignored": list(self.match.ignored)}


def _text(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Any Arrow column as text (lists joined by ``;``, as a file writes them)."""
    kind = values.type
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        return pc.binary_join(pc.cast(values, pa.list_(pa.string())), ";")
    if pa.types.is_binary(kind) or pa.types.is_large_binary(kind):
        return pa.nulls(len(values), pa.string())
    return pc.cast(values, pa.string())


def _hex(values: pa.Array) -> pa.Array:
    return pa.array([None if v is None else v.hex() for v in values.to_pylist()], pa.string())


def _file_problems(conn: Connection, source: ImportSource, match: ColumnMatch,
                   spec: ImportSpec, mapping: Mapping[str, str]) -> None:
    for target in unknown_targets(mapping, spec):
        file_problem(conn, "mapping", "unknown_field",
                     f"Zuordnung auf „{target}“: kein Feld des Imports")
    for column, target in match.duplicates:
        file_problem(conn, target, "duplicate_column",
                     f"Spalte „{column}“ meint wie eine andere Spalte das Feld {target}")
    if spec.key not in match.fields.values():
        file_problem(conn, spec.key, "missing_column",
                     f"Spalte {spec.key} fehlt (oder ein Alias wie "
                     f"{', '.join(spec.by_name[spec.key].aliases[:3])})")
    if not source.has_geometry and "wkt" not in match.geometry and not (
            "lon" in match.geometry and "lat" in match.geometry):
        file_problem(conn, "geometry", "missing_column",
                     "keine Geometrie: eine Spalte WKT oder die Spalten lon und lat fehlen")


def stage(conn: Connection, source: ImportSource, spec: ImportSpec,
          mapping: Mapping[str, str], chunk_rows: int, on_rows: RowsFn | None = None
          ) -> StagedFile:
    """Create ``import_staging`` and fill it with the rows of ``source``."""
    explicit = {**source.mapping, **mapping}
    match = match_columns(source.columns, spec, explicit)
    present = tuple(c for c in spec.columns if c.name in match.fields.values())
    names = create_staging(conn, spec.columns)
    _file_problems(conn, source, match, spec, mapping)
    srid = source.srid
    if srid is None and not source.has_geometry and "wkt" not in match.geometry:
        srid = 4326  # lon/lat columns without a declared CRS
    by_field = {target: column for column, target in match.fields.items()}
    copied = ["row_no", "geom_hex", *(role for role in ("wkt", "lon", "lat")
                                      if role in match.geometry),
              *(f"r_{c.name}" for c in present)]
    assert set(copied) <= set(names)
    rows = 0
    with record_batches(source, chunk_rows) as (geometry, batches):
        for batch in batches:
            n = batch.num_rows
            arrays = [pa.array(range(rows + 1, rows + n + 1), pa.int32()),
                      _hex(batch.column(geometry)) if geometry in batch.schema.names
                      else pa.nulls(n, pa.string())]
            arrays += [_text(batch.column(match.geometry[role]))
                       for role in ("wkt", "lon", "lat") if role in match.geometry]
            arrays += [_text(batch.column(by_field[c.name])) for c in present]
            sink = io.BytesIO()
            pa_csv.write_csv(pa.Table.from_arrays(arrays, names=copied), sink,
                             pa_csv.WriteOptions(include_header=False))
            sink.seek(0)
            copy_rows(conn, copied, sink)
            rows += n
            if on_rows is not None:
                on_rows(rows)
    return StagedFile(spec.kind, match, present, rows, srid)
