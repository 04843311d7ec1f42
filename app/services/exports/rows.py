"""A layer's rows as a stream of Arrow record batches, read from PostgreSQL with ``COPY``.

PostgreSQL sends the rows as CSV (:func:`app.db.queries.exports.copy_csv`) from a thread of
its own into a pipe; on this side Arrow's streaming CSV reader parses them into typed
columns in blocks of :data:`BLOCK_BYTES`, and the hexadecimal WKB becomes binary WKB in one
call per block. Nothing holds more than a few blocks, whatever the size of the layer, and no
Python object is made per value.

CSV as PostgreSQL writes it: NULL is an empty unquoted field, an empty text ``""``;
booleans are ``t``/``f``; dates ISO 8601; timestamps ISO 8601 with the session's offset.

If anything fails on this side the statement is cancelled and the rest of the stream
drained, so the connection is left in a usable (if aborted) transaction; a failure of the
query (a timeout, a cancelled statement) is raised here after the last block, so a file is
never completed from a stream that ended early.
"""

from __future__ import annotations

import binascii
import contextlib
import os
import threading
from collections.abc import Callable, Generator, Iterator
from typing import IO

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
from sqlalchemy import Connection

from app.db.queries.cql2_base import QueryableType
from app.db.queries.exports import (
    GEOMETRY_COLUMN,
    ExportColumn,
    ExportQuery,
    cancel,
    copy_csv,
    copy_statement,
)

Q = QueryableType

#: Bytes of CSV parsed into one record batch (about 800 parcels). Larger blocks were no
#: faster and left the process larger: 4 MiB blocks grew it by 290 MiB over a million parcels,
#: 512 KiB blocks by 105 MiB (the CLI, 1,000,657 parcels; Arrow's allocator keeps what it
#: freed).
BLOCK_BYTES = 512 << 10

#: Buffer of the pipe's writing end (rows arrive one write call each).
PIPE_BUFFER = 1 << 20

#: Arrow type of each value type (arrays arrive joined into text).
ARROW_TYPES: dict[QueryableType, pa.DataType] = {
    Q.INTEGER: pa.int64(), Q.NUMBER: pa.float64(), Q.STRING: pa.string(),
    Q.BOOLEAN: pa.bool_(), Q.DATE: pa.date32(), Q.DATETIME: pa.timestamp("us", tz="UTC"),
    Q.STRINGS: pa.string(), Q.INTEGERS: pa.string(),
}


def arrow_field(column: ExportColumn) -> pa.Field:
    """The Arrow field of ``column``."""
    return pa.field(column.name, ARROW_TYPES[column.type])


def arrow_schema(columns: tuple[ExportColumn, ...]) -> pa.Schema:
    """The schema of the batches of :func:`record_batches`: the columns, then the geometry
    as WKB."""
    return pa.schema([*(arrow_field(c) for c in columns),
                      pa.field(GEOMETRY_COLUMN, pa.binary())])


def unhex(values: pa.Array) -> pa.Array:
    """Hexadecimal text → the bytes it spells, for a whole column at once (NULLs stay).

    >>> unhex(pa.array(["0102", None, "ff"])).to_pylist()
    [b'\\x01\\x02', None, b'\\xff']
    """
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    validity, offsets_buffer, data = values.buffers()
    offsets = np.frombuffer(offsets_buffer, dtype=np.int32, count=len(values) + 1,
                            offset=values.offset * 4)
    start, end = int(offsets[0]), int(offsets[-1])
    raw = binascii.unhexlify(memoryview(data)[start:end]) if data is not None else b""
    halves = ((offsets - start) // 2).astype(np.int32)
    if validity is not None and values.offset:
        validity = pa.array(values.is_valid()).buffers()[1]
    return pa.Array.from_buffers(pa.binary(), len(values),
                                 [validity, pa.py_buffer(halves), pa.py_buffer(raw)],
                                 null_count=values.null_count)


def _reader(source: IO[bytes], columns: tuple[ExportColumn, ...]) -> pa_csv.CSVStreamingReader:
    names = [c.name for c in columns] + [GEOMETRY_COLUMN]
    types = {c.name: ARROW_TYPES[c.type] for c in columns} | {GEOMETRY_COLUMN: pa.string()}
    return pa_csv.open_csv(
        source,
        read_options=pa_csv.ReadOptions(column_names=names, block_size=BLOCK_BYTES),
        parse_options=pa_csv.ParseOptions(newlines_in_values=True),
        convert_options=pa_csv.ConvertOptions(
            column_types=types, true_values=["t"], false_values=["f"], null_values=[""],
            strings_can_be_null=True, quoted_strings_can_be_null=False))


class _Producer(threading.Thread):
    """Runs the ``COPY`` into the pipe's writing end; keeps its error for the reader."""

    def __init__(self, conn: Connection, statement: str, sink: IO[bytes]) -> None:
        super().__init__(name="gefis-export-copy", daemon=True)
        self.conn, self.statement, self.sink = conn, statement, sink
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            copy_csv(self.conn, self.statement, self.sink)
        except BaseException as exc:  # handed to the reading thread
            self.error = exc
        finally:
            with contextlib.suppress(OSError):  # the reader is gone already
                self.sink.close()


def _batches(source: IO[bytes], columns: tuple[ExportColumn, ...], schema: pa.Schema,
             progress: Callable[[int], None] | None) -> Iterator[pa.RecordBatch]:
    try:
        reader = _reader(source, columns)
    except pa.ArrowInvalid as exc:
        if "Empty CSV file" in str(exc):  # no rows at all
            return
        raise
    for batch in reader:
        values = [*batch.columns[:-1], unhex(batch.column(len(batch.columns) - 1))]
        out = pa.RecordBatch.from_arrays(values, schema=schema)
        if progress is not None:
            progress(out.num_rows)
        yield out


def record_batches(conn: Connection, query: ExportQuery, srid: int,
                   progress: Callable[[int], None] | None = None
                   ) -> Generator[pa.RecordBatch, None, None]:
    """The rows of ``query`` with the geometry in ``srid``, as record batches of
    :func:`arrow_schema`; ``progress`` is called with the rows of each batch.

    Close the iterator when stopping early: that cancels the statement.
    """
    schema = arrow_schema(query.columns)
    statement = copy_statement(conn, query, srid)
    read_end, write_end = os.pipe()
    source = os.fdopen(read_end, "rb")
    producer = _Producer(conn, statement, os.fdopen(write_end, "wb", buffering=PIPE_BUFFER))
    producer.start()

    def stop() -> None:
        if source.closed:
            return
        if producer.is_alive():
            cancel(conn)
        while source.read(PIPE_BUFFER):  # let the producer finish writing
            pass
        source.close()
        producer.join()

    try:
        yield from _batches(source, query.columns, schema, progress)
    except Exception as exc:
        stop()
        if producer.error is not None:  # the stream broke off: say why
            raise producer.error from exc
        raise
    finally:
        stop()
    if producer.error is not None:
        raise producer.error


class RowStream:
    """:func:`record_batches` that keeps the error which ended it: GDAL, reading the batches
    through Arrow's C stream, reports any such error as its own ``RuntimeError``."""

    def __init__(self, conn: Connection, query: ExportQuery, srid: int,
                 progress: Callable[[int], None] | None = None) -> None:
        self._batches = record_batches(conn, query, srid, progress)
        self.error: BaseException | None = None

    def __iter__(self) -> RowStream:
        return self

    def __next__(self) -> pa.RecordBatch:
        try:
            return next(self._batches)
        except StopIteration:
            raise
        except BaseException as exc:
            self.error = exc
            raise

    def close(self) -> None:
        """Stop reading (cancels the statement if it still runs)."""
        self._batches.close()
