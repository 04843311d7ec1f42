"""Measurements of the exports benchmark (``bench/exports.py``): child processes with their
peak memory, the files' checks, the floor's statement, and where the service's time goes."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyogrio
from sqlalchemy import Engine, text

from app.db.queries.exports import ExportQuery, copy_csv, copy_statement
from app.domain.clock import today
from app.domain.roles import STAFF
from app.services.exports.formats import FORMATS
from app.services.exports.rows import record_batches
from app.services.exports.service import ExportRequest, prepare_export, write_export
from app.services.exports.writers import notes, write_gpkg
from app.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SRID = 25832


def run_child(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Run ``command`` (cwd: the checkout); its wall time (s) and peak memory (MiB)."""
    started = time.perf_counter()
    child = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env},
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert child.stderr is not None
    err = child.stderr.read()
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"{command[0]} failed ({child.returncode}): "
                         f"{err.decode(errors='replace')[-1500:]}")
    return seconds, usage.ru_maxrss / 1024


def check_file(path: Path, layer: str, expected: int) -> str:
    """One line about the written file; exit when it is not what was asked for."""
    info = pyogrio.read_info(path, layer=layer)
    found = f"{info['features']:,} features, {info['crs']}, {path.stat().st_size / 2**20:,.0f} MiB"
    if info["features"] != expected or info["crs"] != f"EPSG:{SRID}":
        raise SystemExit(f"{path.name}: {found}; expected {expected:,} in EPSG:{SRID}")
    return found


def floor_sql(query: ExportQuery) -> str:
    """The export's statement for ``ogr2ogr``: same columns, conditions and order, the
    geometry as a geometry column (GDAL reads it in binary)."""
    if query.params:
        raise SystemExit("the floor needs a statement without bound values")
    values = [f'{c.value_sql} AS "{c.name}"' for c in query.columns]
    values.append(f"ST_Force2D({query.geometry_sql}) AS geometry")
    return (f"SELECT {', '.join(values)} FROM {query.from_sql} WHERE {query.where_sql()} "
            f"ORDER BY {query.id_sql}")


def service_pid() -> int | None:
    """The uvicorn child of this process (started by ``bench.service.service``)."""
    me = os.getpid()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if int(fields[1]) == me and b"uvicorn" in command:
            return int(entry.name)
    return None


def memory_mib(pid: int, key: str = "VmHWM") -> float | None:
    """``VmHWM`` (peak resident memory) or ``VmRSS`` of a running process, MiB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{key}:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


class _Discard:
    """A file that forgets what is written to it (counts the bytes)."""

    def __init__(self) -> None:
        self.bytes = 0

    def write(self, data: bytes) -> int:
        self.bytes += len(data)
        return len(data)


def breakdown(engine: Engine, settings: Settings, folder: Path) -> dict[str, Any]:
    """The parts of an export, each alone, in-process (seconds)."""
    parts: dict[str, Any] = {}
    request = ExportRequest(("parcels",), FORMATS["gpkg"])
    with engine.connect() as conn:
        prepared = prepare_export(conn, request, STAFF, settings, today())
        query = prepared.layers[0].query
        sink = _Discard()
        started = time.perf_counter()
        copy_csv(conn, copy_statement(conn, query, SRID), sink)  # type: ignore[arg-type]
        parts["copy_s"] = time.perf_counter() - started
        parts["csv_mib"] = sink.bytes / 2**20
        started = time.perf_counter()
        batches: list[pa.RecordBatch] = list(record_batches(conn, query, SRID))
        parts["arrow_s"] = time.perf_counter() - started
        parts["batches"] = len(batches)
        parts["arrow_mib"] = sum(b.nbytes for b in batches) / 2**20
    path = folder / "memory.gpkg"
    started = time.perf_counter()
    write_gpkg(path, prepared.layers[0], iter(batches), SRID,
               notes(prepared.layers, SRID, prepared.day))
    parts["gdal_s"] = time.perf_counter() - started
    path.unlink()
    del batches
    with engine.connect() as conn:
        conn.execute(text("SET TRANSACTION READ ONLY"))
        started = time.perf_counter()
        prepared = prepare_export(conn, request, STAFF, settings, today())
        parts["prepare_s"] = time.perf_counter() - started
        sub = folder / "inprocess"
        sub.mkdir()
        path = write_export(conn, prepared, sub)
        parts["inprocess_s"] = time.perf_counter() - started
        path.unlink()
    return parts
