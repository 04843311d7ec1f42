"""The reports' speed: the quarterly monitoring report end to end, and the portfolio report
through HTTP.

    bash bench/reports.sh                     # the data and the service first, then this script
    .venv/bin/python bench/reports.py --database-url URL [--runs 10] [--scratch]

1. **Quarterly report** (``scripts/quarterly_report.py``, a child process with
   ``DATABASE_URL`` of the benchmark database, as cron or the scheduler runs it): wall time
   from the start of the process to its exit, and the time of each step, taken from the
   script's plain log lines (stderr is no terminal, so it prints a line when a step begins;
   each line is timed here as it arrives). Two quarters, one after the other:

   - **cold**: neither the quarter nor its previous quarter is stored, so the previous state is
     rebuilt from the history (the first run of the monitoring);
   - **steady state**: the next quarter, whose previous quarter (the cold one) is now
     stored, as when the scheduler runs every quarter.

   Snapshots are immutable, so each run uses up two quarters: the latest pair whose quarters
   (and the cold one's previous quarter) are not stored yet, within the history's time span;
   the output says which. ``--quarters COLD STEADY`` chooses them (STEADY must follow COLD).
   ``--scratch`` runs everything on a throwaway copy of the database instead (``CREATE
   DATABASE … TEMPLATE``, dropped afterwards; no other session may be connected to the
   benchmark database while it is copied), so the same quarters can be measured again.
2. **Portfolio report** (``GET /api/v1/reports/portfolio``, the region, anonymous) through
   HTTP: the service is started for it (``uvicorn app.main:app`` on a free port of
   127.0.0.1, as ``make run`` starts it, ``DATABASE_URL`` the benchmark database; other
   ``GEFIS_*`` settings of the environment apply) and stopped afterwards. ``--runs``
   sequential requests per case after one warm-up, timed until the whole body is read
   (median, max): JSON today, at the end of the latest stored quarter (from its snapshot)
   and at a day that is no quarter end (rebuilt from the history); HTML and PDF today once
   each, for information.

The table goes to stdout and ``bench/results/<date>-reports.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, create_engine, pool, text

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app.domain.clock import today  # noqa: E402
from app.domain.quarters import Quarter  # noqa: E402
from app.services.reports.quarterly_job import STEPS  # noqa: E402
from bench.output import cpu_model, loadavg, output_path, say  # noqa: E402
from bench.service import service  # noqa: E402

QUARTERLY_TARGET_S = 60.0
PORTFOLIO_TARGET_S = 2.0
#: A past day that is never a quarter end, so it is always rebuilt from the history.
DEFAULT_PAST_DAY = "2024-05-15"
PORTFOLIO = "/api/v1/reports/portfolio"
LOG_PREFIX = "[gefis-quarterly] "


# --- the quarterly report ------------------------------------------------------------------

@dataclass
class QuarterlyRun:
    """One run of the script: what it was, how long it took, per step."""

    kind: str
    quarter: Quarter
    previous_stored: bool
    wall_s: float = 0.0
    steps: list[tuple[str, float]] = field(default_factory=list)
    exit_code: int = 0
    changes: dict[str, Any] = field(default_factory=dict)
    changed_parcels: int = 0
    files: dict[str, int] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)


def stored_quarters(engine: Engine) -> set[date]:
    with engine.connect() as conn:
        return set(conn.execute(text("SELECT quarter_end FROM monitoring_quarters")).scalars())


def history_span(engine: Engine) -> tuple[Any, Any, int]:
    with engine.connect() as conn:
        first, last, rows = conn.execute(text(
            "SELECT min(changed_at), max(changed_at), count(*) FROM parcel_history")).one()
    return first, last, rows


def choose_quarters(stored: set[date], first_change: date, last_change: date
                    ) -> tuple[Quarter, Quarter]:
    """The latest (cold, steady) pair of consecutive completed quarters within the history:
    neither they nor the cold one's previous quarter stored, the previous quarter not before
    the history's first quarter (so the cold quarter has changes to report)."""
    steady = Quarter.last_completed(today())
    while steady.first_day > last_change:  # the history ends earlier: quarters without changes
        steady = steady.previous
    while True:
        cold = steady.previous
        if cold.previous.last_day < first_change:
            raise SystemExit("no two consecutive quarters are left unstored within the history "
                             "(snapshots are immutable): use --scratch or rebuild the database")
        if not {steady.last_day, cold.last_day, cold.previous.last_day} & stored:
            return cold, steady
        steady = steady.previous


def run_quarterly(database_url: str, run: QuarterlyRun, output_dir: Path) -> None:
    """Run ``scripts/quarterly_report.py`` for ``run.quarter``; time it and its steps."""
    env = {**os.environ, "DATABASE_URL": database_url, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, str(ROOT / "scripts" / "quarterly_report.py"),
               "--quarter", run.quarter.label, "--output-dir", str(output_dir)]
    say(f"quarterly report {run.quarter.label} ({run.kind})")
    started = time.perf_counter()
    marks: list[tuple[str, float]] = [("Start (Python, Importe)", started)]
    with subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True, encoding="utf-8") as child:
        assert child.stderr is not None
        for line in child.stderr:
            now = time.perf_counter()
            line = line.rstrip("\n")
            run.log.append(line)
            print(f"    {now - started:7.2f} s  {line}", file=sys.stderr, flush=True)
            if not line.startswith(LOG_PREFIX):
                continue
            message = line[len(LOG_PREFIX):].split(" ", 1)[-1]  # without the time stamp
            if message in STEPS:
                marks.append((message, now))
        run.exit_code = child.wait()
    ended = time.perf_counter()
    run.wall_s = ended - started
    bounds = [m[1] for m in marks[1:]] + [ended]
    run.steps = [(name, end - begin) for (name, begin), end in zip(marks, bounds, strict=True)]
    if run.exit_code != 0:
        raise SystemExit(f"quarterly report {run.quarter.label} exited {run.exit_code}:\n"
                         + "\n".join(run.log[-10:]))
    folder = output_dir / run.quarter.folder
    document = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    run.changes = document["changes"]["total"]
    run.changed_parcels = len(document["changes"]["parcels"])
    run.files = {p.name: p.stat().st_size for p in sorted(folder.iterdir())}


# --- the portfolio report ------------------------------------------------------------------

@dataclass
class HttpCase:
    name: str
    path: str
    runs: int
    target_s: float | None
    seconds: list[float] = field(default_factory=list)
    size: int = 0
    media_type: str = ""


def measure_http(client: httpx.Client, case: HttpCase, warmup: int) -> None:
    say(f"{case.name}: GET {case.path} ({warmup} warm-up, {case.runs} timed)")
    for _ in range(warmup):
        client.get(case.path)
    for _ in range(case.runs):
        started = time.perf_counter()
        response = client.get(case.path)  # the whole body is read
        case.seconds.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise SystemExit(f"{case.name}: HTTP {response.status_code}: {response.text[:500]}")
        case.size = len(response.content)
        case.media_type = response.headers.get("content-type", "").split(";")[0]


# --- the scratch copy ----------------------------------------------------------------------

def scratch_copy(database_url: str) -> tuple[str, Engine, str]:
    """A copy of the benchmark database (``<name>_reports``) for the quarterly runs."""
    admin = create_engine(database_url, poolclass=pool.NullPool, isolation_level="AUTOCOMMIT")
    name = admin.url.database
    copy = f"{name}_reports"
    say(f"copying database {name} to {copy} (CREATE DATABASE … TEMPLATE)")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{copy}"'))
        conn.execute(text(f'CREATE DATABASE "{copy}" TEMPLATE "{name}"'))
    return admin.url.set(database=copy).render_as_string(hide_password=False), admin, copy


# --- the report ----------------------------------------------------------------------------

def fmt_s(value: float) -> str:
    return f"{value:,.1f} s" if value >= 10 else f"{value:,.2f} s"


def environment(engine: Engine, load: str) -> list[str]:
    with engine.connect() as conn:
        def one(sql: str) -> Any:
            return conn.execute(text(sql)).scalar_one()
        parcels = one("SELECT count(*) FROM parcels")
        revision = one("SELECT max(version_num) FROM alembic_version")
        server = (f"PostgreSQL {one('SHOW server_version')}, PostGIS "
                  + str(one("SELECT extversion FROM pg_extension WHERE extname = 'postgis'")))
        settings = ", ".join(f"{n} = {one(f'SHOW {n}')}" for n in (
            "jit", "shared_buffers", "work_mem"))
        history_mb = one("SELECT pg_total_relation_size('parcel_history') / 1048576")
    first, last, rows = history_span(engine)
    cpu = cpu_model()
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip() or "?"
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "app",
                            "scripts", "migrations"], capture_output=True, text=True).stdout
    return [
        f"- database `{engine.url.database}` (revision {revision}): {parcels:,} parcels, "
        f"{rows:,} history rows from {first:%Y-%m-%d} to {last:%Y-%m-%d} "
        f"({history_mb:,} MB with indexes)",
        f"- {server}; {settings}; the service's sessions: its own settings "
        "(app/db/session.py, no parallel workers by default)",
        f"- machine: {os.cpu_count()} cores ({cpu}), shared with other work; load average "
        f"before / after: {load} / {loadavg()}",
        f"- commit {commit}" + (" (app/, scripts/ or migrations/ with uncommitted changes)"
                                if dirty.strip() else ""),
    ]


def quarterly_table(runs: list[QuarterlyRun]) -> list[str]:
    names = ["Start (Python, Importe)", *STEPS]
    header = "| step | " + " | ".join(
        f"{r.kind}: {r.quarter.label}" for r in runs) + " |"
    lines = [header, "|---|" + "---:|" * len(runs)]
    for name in names:
        lines.append(f"| {name} | " + " | ".join(
            fmt_s(dict(r.steps).get(name, 0.0)) for r in runs) + " |")
    lines.append("| **total (wall time of the process)** | " + " | ".join(
        f"**{fmt_s(r.wall_s)}** {'✓' if r.wall_s < QUARTERLY_TARGET_S else '✗'}"
        for r in runs) + " |")
    lines.append("| previous quarter from | " + " | ".join(
        "its snapshot" if r.previous_stored else "the history" for r in runs) + " |")
    lines.append("| changes vs. previous quarter (parcels) | " + " | ".join(
        f"{r.changed_parcels:,}" for r in runs) + " |")
    lines.append("| report.json / .xlsx / .pdf | " + " | ".join(
        " / ".join(f"{r.files.get(f, 0) / 1024:,.0f} KiB"
                   for f in ("report.json", "report.xlsx", "report.pdf")) for r in runs) + " |")
    return lines


def http_table(cases: list[HttpCase]) -> list[str]:
    lines = ["| case | request | runs | median | max | answer | target |",
             "|---|---|---:|---:|---:|---:|---|"]
    for c in cases:
        median = statistics.median(c.seconds)
        target = "–" if c.target_s is None else (
            f"< {c.target_s:.0f} s {'✓' if median < c.target_s else '✗'}")
        lines.append(f"| {c.name} | `GET {c.path}` | {len(c.seconds)} | {fmt_s(median)} "
                     f"| {fmt_s(max(c.seconds))} | {c.size / 1024:,.0f} KiB {c.media_type} "
                     f"| {target} |")
    return lines


def quarterly_phase(url: str, args: argparse.Namespace, parser: argparse.ArgumentParser,
                    span: tuple[date, date]) -> list[QuarterlyRun]:
    """The cold and the steady-state run on database ``url``."""
    engine = create_engine(url, poolclass=pool.NullPool)
    stored = stored_quarters(engine)
    engine.dispose()
    if args.quarters:
        cold, steady = (Quarter.parse(x) for x in args.quarters)
        if cold.next != steady:
            parser.error("--quarters: STEADY must be the quarter after COLD")
        taken = {cold.previous.last_day, cold.last_day, steady.last_day} & stored
        if taken:
            parser.error("--quarters: stored already: "
                         + ", ".join(sorted(d.isoformat() for d in taken)))
    else:
        cold, steady = choose_quarters(stored, *span)
    say(f"stored quarters before: {', '.join(sorted(d.isoformat() for d in stored)) or 'none'}")
    say(f"cold: {cold.label} (previous {cold.previous.label} not stored), steady state: "
        f"{steady.label} (previous {cold.label}, stored by the cold run)")
    runs = []
    output = Path(tempfile.mkdtemp(prefix="gefis-bench-reports."))
    try:
        for kind, quarter, previous_stored in (("cold", cold, False),
                                               ("steady state", steady, True)):
            run = QuarterlyRun(kind, quarter, previous_stored)
            run_quarterly(url, run, output)
            runs.append(run)
    finally:
        shutil.rmtree(output, ignore_errors=True)
    return runs


def portfolio_phase(url: str, runs: int, past: date) -> list[HttpCase]:
    """The portfolio cases through a service started on database ``url``."""
    engine = create_engine(url, poolclass=pool.NullPool)
    stored = sorted(stored_quarters(engine))
    engine.dispose()
    cases = [HttpCase("JSON, today", PORTFOLIO, runs, PORTFOLIO_TARGET_S)]
    if stored:
        end = stored[-1].isoformat()
        cases.append(HttpCase(f"JSON, at {end} (stored quarter)", f"{PORTFOLIO}?at={end}",
                              runs, None))
    cases += [HttpCase(f"JSON, at {past.isoformat()} (from the history)",
                       f"{PORTFOLIO}?at={past.isoformat()}", runs, None),
              HttpCase("HTML, today", f"{PORTFOLIO}?f=html", 1, None),
              HttpCase("PDF, today", f"{PORTFOLIO}?f=pdf", 1, None)]
    log = Path(tempfile.mkstemp(prefix="gefis-bench-service.", suffix=".log")[1])
    try:
        with service(url, log) as base, httpx.Client(base_url=base, timeout=600) as client:
            for case in cases:
                measure_http(client, case, warmup=1)
    finally:
        log.unlink(missing_ok=True)
    return cases


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="the benchmark database")
    parser.add_argument("--runs", type=int, default=10, help="timed requests per JSON case")
    parser.add_argument("--past-day", default=DEFAULT_PAST_DAY,
                        help=f"a past day that is no quarter end (default {DEFAULT_PAST_DAY})")
    parser.add_argument("--quarters", nargs=2, metavar=("COLD", "STEADY"),
                        help="the two quarters (default: the latest unstored pair)")
    parser.add_argument("--scratch", action="store_true",
                        help="run everything on a throwaway copy of the database (dropped "
                             "afterwards), so no quarter of it gets stored")
    parser.add_argument("--skip-quarterly", action="store_true")
    parser.add_argument("--skip-portfolio", action="store_true")
    parser.add_argument("--results-dir", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args(argv)
    past = date.fromisoformat(args.past_day)
    if Quarter.containing(past).last_day == past:
        parser.error("--past-day must not be a quarter end (it would be read from a snapshot "
                     "once that quarter is stored)")
    if args.runs < 1:
        parser.error("--runs must be >= 1")

    load_before = loadavg()
    started = time.strftime("%Y-%m-%d %H:%M")
    url, admin, copy = args.database_url, None, None
    if args.scratch:
        url, admin, copy = scratch_copy(args.database_url)
    try:
        engine = create_engine(url, poolclass=pool.NullPool)
        first, last, rows = history_span(engine)
        engine.dispose()
        say(f"history: {rows:,} rows from {first:%Y-%m-%d} to {last:%Y-%m-%d}")
        runs = [] if args.skip_quarterly else quarterly_phase(
            url, args, parser, (first.date(), last.date()))
        cases = [] if args.skip_portfolio else portfolio_phase(url, args.runs, past)
        engine = create_engine(args.database_url, poolclass=pool.NullPool)
        env_lines = environment(engine, load_before)
        engine.dispose()
    finally:
        if admin is not None:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{copy}"'))
            admin.dispose()

    report = [f"# Reports: quarterly and portfolio ({started})", "", *env_lines]
    if args.scratch:
        report.append(f"- run on a throwaway copy of the database (`{copy}`, dropped "
                      "afterwards): no quarter of the benchmark database was stored")
    if runs:
        report += ["", "## Quarterly report: `python scripts/quarterly_report.py --quarter Q "
                   "--output-dir <tmp>`", "",
                   f"Target: < {QUARTERLY_TARGET_S:.0f} s. Quarters used (stored by this run: "
                   f"snapshots are immutable): {runs[0].quarter.label} (cold: "
                   f"{runs[0].quarter.previous.label} was not stored, its state rebuilt from "
                   f"the history), then {runs[1].quarter.label} (steady state: the previous "
                   "quarter read from its snapshot). A step runs from its log line to the next "
                   "one (the last to the process's exit).", "",
                   *quarterly_table(runs)]
    if cases:
        report += ["", "## Portfolio report of the region: one uvicorn process, anonymous "
                   "requests one at a time", "",
                   f"Target: JSON today < {PORTFOLIO_TARGET_S:.0f} s (median). One warm-up "
                   "request per case; time until the whole body is read (httpx).", "",
                   *http_table(cases)]
    print("\n".join(report))
    args.results_dir.mkdir(parents=True, exist_ok=True)
    out = output_path(args.results_dir, "reports")
    out.write_text("\n".join(report) + "\n", encoding="utf-8")
    say(f"written: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
