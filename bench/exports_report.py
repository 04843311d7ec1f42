"""The report of the exports benchmark (``bench/exports.py``): Markdown lines."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any, Protocol

import pyogrio
from sqlalchemy import Engine, text

from bench.output import cpu_model

ROOT = Path(__file__).resolve().parent.parent

LABELS = {
    "service": "service: `GET /api/v1/exports/parcels.gpkg` (staff, HTTP, whole body read)",
    "cli": "CLI: `python -m app.cli export parcels --format gpkg --staff` (process wall time)",
    "floor": "floor: `ogr2ogr -f GPKG … PG:… -sql <the export's SELECT>`",
}


class CaseLike(Protocol):
    name: str
    seconds: list[float]
    checks: list[str]
    peak_mib: float | None
    start_mib: float | None

    @property
    def median(self) -> float: ...


def _s(value: float) -> str:
    return f"{value:.2f}"


def _environment(engine: Engine, load: str) -> list[str]:
    with engine.connect() as conn:
        server = conn.execute(text("SHOW server_version")).scalar_one()
        postgis = conn.execute(text(
            "SELECT extversion FROM pg_extension WHERE extname = 'postgis'")).scalar_one()
        work_mem = conn.execute(text("SHOW work_mem")).scalar_one()
    ogr = subprocess.run(["ogr2ogr", "--version"], capture_output=True, text=True).stdout
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip() or "?"
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "app"],
                           capture_output=True, text=True).stdout.strip()
    return [
        f"- database `{engine.url.database}`: PostgreSQL {server}, PostGIS {postgis}, "
        f"work_mem {work_mem}; the service's sessions with its own settings "
        "(app/db/session.py: no parallel workers, jit off)",
        f"- writers: the service and the CLI with pyogrio {pyogrio.__version__} "
        f"(GDAL {pyogrio.__gdal_version_string__}); the floor with Debian's "
        f"{ogr.strip().split(',')[0]}",
        f"- machine: {os.cpu_count()} cores ({cpu_model()}), shared with other work; load "
        f"average before / after: {load}",
        f"- commit {commit}" + (" (app/ with uncommitted changes)" if dirty else ""),
    ]


def report(cases: dict[str, CaseLike], parts: dict[str, Any],
           plain: tuple[float, str] | None, *, engine: Engine, expected: int, sql: str,
           load: str, target: float, elapsed_s: float) -> list[str]:
    """The Markdown report."""
    floor = cases["floor"].median
    lines = [f"# Benchmark: exports, every parcel as GeoPackage ({expected:,} parcels)", "",
             *_environment(engine, load), f"- run time: {elapsed_s:.0f} s", "",
             "| case | runs (s) | median (s) | ÷ floor | peak memory |",
             "|---|---|---:|---:|---:|"]
    for name, case in cases.items():
        peak = f"{case.peak_mib:,.0f} MiB" if case.peak_mib else "?"
        if name == "service":
            before = f"{case.start_mib:,.0f} MiB" if case.start_mib else "?"
            peak += f" (service process, VmHWM; {before} before the first export)"
        lines.append(f"| {LABELS[name]} | {', '.join(_s(s) for s in case.seconds)} | "
                     f"{_s(case.median)} | {case.median / floor:.2f} | {peak} |")
    ratio = cases["service"].median / floor
    verdict = "met" if ratio <= target else "MISSED"
    lines += ["", f"- target: service ≤ {target} × floor: **{ratio:.2f} × — {verdict}**",
              f"- files: {cases['service'].checks[-1]} (service); "
              f"{cases['floor'].checks[-1]} (floor); every run checked"]
    if plain is not None:
        lines.append(f"- for information, `ogr2ogr` of the plain table (`parcels`, every "
                     f"column, `-forceNullable`): {_s(plain[0])} s ({plain[1]})")
    lines += ["", "Where the service's time goes (in-process, each part alone, once):", "",
              "| part | s |", "|---|---:|",
              f"| `COPY` alone: PostgreSQL formats the rows as CSV ({parts['csv_mib']:,.0f} "
              f"MiB), received and dropped | {_s(parts['copy_s'])} |",
              f"| `COPY` parsed into {parts['batches']} Arrow batches "
              f"({parts['arrow_mib']:,.0f} MiB), nothing written | {_s(parts['arrow_s'])} |",
              f"| GDAL alone: those batches from memory into a GeoPackage | "
              f"{_s(parts['gdal_s'])} |",
              f"| prepare (layers, count) | {_s(parts['prepare_s'])} |",
              f"| whole export in-process (prepare, `COPY` and GDAL overlapping) | "
              f"{_s(parts['inprocess_s'])} |",
              "", "<details><summary>The floor's statement</summary>", "", "```sql", sql,
              "```", "", "</details>"]
    return lines
