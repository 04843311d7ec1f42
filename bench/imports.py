"""Import benchmark: the validated parcel import against ``ogr2ogr -f PostgreSQL`` of the same
file, in the same run (see bench/imports.sh).

1. The file: ``--parcels`` synthetic parcels of the benchmark database (``gefis_bench``, made
   by bench/load_parcels.py) written by ogr2ogr as a GeoPackage with the import template's
   columns (new ``external_id``s, so every row is created).
2. A base database with the migrations and the demo (boundaries, sites, motorways, rasters'
   settings as configured), built once; each run copies it (``CREATE DATABASE … TEMPLATE``).
3. Per run, on a fresh copy: ``ogr2ogr -f PostgreSQL`` of the file into a new table (the
   floor: reads and writes, validates nothing), then ``gefis import`` of the same file as a
   separate process (read in chunks, every row validated, parcels and their history written,
   raster statistics, report stored), its wall time and peak memory (``/usr/bin/time``);
   then a dry run of the same file on another copy (validation only).

Prints a Markdown table and writes it to bench/results/<date>-imports.md.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
BASE_DB = "gefis_bench_import_base"
RUN_DB = "gefis_bench_import"

_EXPORT_SQL = """
SELECT 'BENCH-IMP-' || p.id AS external_id, s.name AS site_name, p.category, p.availability,
       p.available_from, p.restriction_level,
       array_to_string(p.restriction_causes, ';') AS restriction_causes,
       array_to_string(p.user_groups, ';') AS user_groups, p.planning_status, p.zoning,
       p.servicing, p.marketing_status, p.net_area_ha_given AS net_area_ha, p.price_eur_m2,
       p.rail_siding, p.operation_24h, p.geom_25832
  FROM parcels p JOIN sites s ON s.id = p.site_id
 WHERE p.marketing_status IN ('verfuegbar', 'reserviert')
 ORDER BY p.id LIMIT {n}"""


def _url(server: str, database: str) -> str:
    return make_url(server).set(database=database).render_as_string(hide_password=False)


def _pg(url: str) -> str:
    u = make_url(url)
    return (f"PG:host={u.host or 'localhost'} port={u.port or 5432} user={u.username} "
            f"dbname={u.database}" + (f" password={u.password}" if u.password else ""))


def _admin(server: str, statement: str) -> None:
    engine = create_engine(_url(server, "postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(statement))
    engine.dispose()


def _exists(server: str, database: str) -> bool:
    engine = create_engine(_url(server, "postgres"))
    with engine.connect() as conn:
        found = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :d"),
                             {"d": database}).first() is not None
    engine.dispose()
    return found


def _env(url: str) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": url}


def build_base(server: str) -> None:
    """Migrations and the demo in ``BASE_DB`` (once)."""
    if _exists(server, BASE_DB):
        subprocess.run([sys.executable, "-m", "app.cli", "migrate"], cwd=ROOT,
                       env=_env(_url(server, BASE_DB)), check=True, capture_output=True)
        return
    _admin(server, f'CREATE DATABASE "{BASE_DB}"')
    engine = create_engine(_url(server, BASE_DB), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
    engine.dispose()
    for command in (["migrate"], ["load-demo"]):
        subprocess.run([sys.executable, "-m", "app.cli", *command], cwd=ROOT,
                       env=_env(_url(server, BASE_DB)), check=True, capture_output=True)


def fresh_copy(server: str) -> str:
    _admin(server, f'DROP DATABASE IF EXISTS "{RUN_DB}"')
    _admin(server, f'CREATE DATABASE "{RUN_DB}" TEMPLATE "{BASE_DB}"')
    return _url(server, RUN_DB)


def timed(command: list[str], env: dict[str, str] | None = None) -> tuple[float, int, str]:
    """Wall seconds, peak resident memory (KiB) and output of ``command``."""
    started = time.perf_counter()
    done = subprocess.run(["/usr/bin/time", "-f", "%M", *command], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{command[0]} failed:\n{done.stdout}\n{done.stderr}")
    peak = int(done.stderr.strip().splitlines()[-1])
    return seconds, peak, done.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="server URL (any database)")
    parser.add_argument("--source-db", default="gefis_bench")
    parser.add_argument("--parcels", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--results-dir", default=str(ROOT / "bench" / "results"))
    args = parser.parse_args()
    server = args.database_url
    work = Path(tempfile.mkdtemp(prefix="gefis-bench-import-"))
    source = work / "flaechen.gpkg"
    subprocess.run(["ogr2ogr", "-f", "GPKG", str(source), _pg(_url(server, args.source_db)),
                    "-sql", _EXPORT_SQL.format(n=args.parcels), "-nln", "parcels"],
                   check=True, capture_output=True)
    print(f"[bench] {source.stat().st_size / 1e6:.1f} MB, {args.parcels} parcels", file=sys.stderr)
    build_base(server)
    floors, imports, dries, peaks = [], [], [], []
    for run in range(args.runs):
        url = fresh_copy(server)
        floor, _, _ = timed(["ogr2ogr", "-f", "PostgreSQL", _pg(url), str(source),
                             "-nln", "import_floor"])
        seconds, peak, out = timed([sys.executable, "-m", "app.cli", "import", str(source)],
                                   _env(url))
        created = re.search(r"(\d+) neu", out)
        url = fresh_copy(server)
        dry, _, _ = timed([sys.executable, "-m", "app.cli", "import", str(source),
                           "--dry-run"], _env(url))
        floors.append(floor)
        imports.append(seconds)
        dries.append(dry)
        peaks.append(peak)
        print(f"[bench] run {run + 1}: ogr2ogr {floor:.1f} s, import {seconds:.1f} s "
              f"({created.group(1) if created else '?'} created, {peak / 1024:.0f} MiB), "
              f"dry run {dry:.1f} s", file=sys.stderr)
    _admin(server, f'DROP DATABASE IF EXISTS "{RUN_DB}"')
    floor, seconds, dry = (statistics.median(v) for v in (floors, imports, dries))
    table = "\n".join([
        f"## Import of {args.parcels:,} parcels from a GeoPackage ({date.today()})", "",
        "| | median s | × ogr2ogr |", "|---|---:|---:|",
        f"| `ogr2ogr -f PostgreSQL` (floor, validates nothing) | {floor:.1f} | 1.00 |",
        f"| `gefis import` (validated, written, history, report) | {seconds:.1f} | "
        f"{seconds / floor:.2f} |",
        f"| `gefis import --dry-run` (validated only) | {dry:.1f} | {dry / floor:.2f} |", "",
        f"Peak memory of `gefis import`: {max(peaks) / 1024:.0f} MiB "
        f"(file {source.stat().st_size / 1e6:.0f} MB); runs: {args.runs}.", ""])
    print(table)
    results = Path(args.results_dir)
    results.mkdir(parents=True, exist_ok=True)
    (results / f"{date.today()}-imports.md").write_text(table, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
