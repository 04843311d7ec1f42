"""Server time of the balance and the parcel summary, today and as of a past quarter.

    bash bench/balance.sh                     # the data first, then this script
    .venv/bin/python bench/balance.py --database-url URL [--runs 30] [--at 2024-06-30]

The app is built in-process (:func:`app.main.create_app` with the service's settings on the
benchmark database, the same engine, pool and session options as under uvicorn) and each
case is requested through Starlette's ``TestClient``, one request at a time: a few warm-up
requests, then ``--runs`` timed ones. Measured per request:

- **server time**: from the moment the ASGI app is called until it hands over the last byte
  of the response body (routing, dependencies, the handler in its worker thread, the
  queries, JSON): what the service spends on a request, without a network or a client;
- **database time**: the sum of the statements' round trips (``before_cursor_execute`` to
  ``after_cursor_execute`` on the app's engine), part of the server time.

Then one more request per case is captured (:mod:`bench.capture_sql`) and every statement
that produces the answer is run once more under ``EXPLAIN (ANALYZE, BUFFERS)`` on a
connection of the app's engine. The table (median and p95 per case, against its target)
goes to stdout and ``bench/results/<date>-balance.md``, the statements and their plans to
``…-balance-sql.md``. The response body's SHA-256 is listed, so two runs (before and after a
change of the SQL) can be checked for identical answers.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import os
import statistics
import sys
import time
import warnings
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, text

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

with warnings.catch_warnings():  # Starlette's advice to move to httpx2 is not ours to act on
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from app.main import create_app  # noqa: E402
from app.settings import Settings  # noqa: E402
from bench.capture_sql import Recorder, attach, explain, is_page_statement  # noqa: E402
from bench.output import cpu_model, loadavg, output_path  # noqa: E402

DEFAULT_AT = "2024-06-30"


@dataclass(frozen=True)
class Case:
    """One request and the server time it should stay below (median), if any."""

    name: str
    path: str
    target_ms: float | None


def cases(at: str) -> list[Case]:
    summary = "/api/v1/parcels/summary?by=district,availability"
    return [
        Case("balance_today", "/api/v1/balance", 50),
        Case("balance_at", f"/api/v1/balance?at={at}", 500),
        Case("summary_today", summary, 50),
        Case("summary_at", f"{summary}&at={at}", None),
    ]


class ServerClock:
    """ASGI wrapper: the server time of the last HTTP request, in milliseconds."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.last_ms = math.nan

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()

        async def timed_send(message: Any) -> None:
            if message["type"] == "http.response.body" and not message.get("more_body"):
                self.last_ms = (time.perf_counter() - started) * 1000
            await send(message)

        await self.app(scope, receive, timed_send)


class DatabaseClock:
    """Sum of the statement round trips on an engine since the last :meth:`reset`."""

    def __init__(self, engine: Engine) -> None:
        self.total_ms = 0.0
        self.statements = 0
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def reset(self) -> None:
        self.total_ms, self.statements = 0.0, 0

    def _before(self, conn: Any, *_: Any) -> None:
        conn.info["bench_started"] = time.perf_counter()

    def _after(self, conn: Any, *_: Any) -> None:
        started = conn.info.pop("bench_started", None)
        if started is not None:
            self.total_ms += (time.perf_counter() - started) * 1000
            self.statements += 1


def p95(values: list[float]) -> float:
    """Nearest-rank 95th percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


@dataclass
class Result:
    case: Case
    server_ms: list[float]
    db_ms: list[float]
    statements: int
    size: int
    digest: str
    explain_ms: float
    plans: str
    sql: list[str]


def measure(client: TestClient, clock: ServerClock, db: DatabaseClock, recorder: Recorder,
            engine: Engine, case: Case, runs: int, warmup: int) -> Result:
    digests = set()
    size = 0
    for _ in range(warmup):
        client.get(case.path)
    server, database = [], []
    statements = 0
    for _ in range(runs):
        db.reset()
        response = client.get(case.path)
        if response.status_code != 200:
            raise SystemExit(f"{case.name}: HTTP {response.status_code}: {response.text[:500]}")
        server.append(clock.last_ms)
        database.append(db.total_ms)
        statements = db.statements
        size = len(response.content)
        digests.add(hashlib.sha256(response.content).hexdigest()[:12])
    if len(digests) != 1:
        raise SystemExit(f"{case.name}: the answer changed between runs")
    recorder.events, recorder.active = [], True
    client.get(case.path)
    recorder.active = False
    sql = [s for kind, s in recorder.events if kind == "sql" and is_page_statement(s)]
    plans = explain(engine, sql)
    explain_ms = sum(float(line.split(":")[1].split()[0]) for line in plans.splitlines()
                     if line.startswith("Execution Time:"))
    return Result(case, server, database, statements, size, digests.pop(), explain_ms, plans,
                  sql)


def environment(engine: Engine, runs: int, warmup: int, load_before: str) -> list[str]:
    with engine.connect() as conn:
        def one(sql: str) -> Any:
            return conn.execute(text(sql)).scalar_one()
        counts = conn.execute(text(
            "SELECT (SELECT count(*) FROM parcels), (SELECT count(*) FROM parcel_history)")).one()
        revision = one("SELECT max(version_num) FROM alembic_version")
        settings = ", ".join(f"{name} = {one(f'SHOW {name}')}" for name in (
            "max_parallel_workers_per_gather", "jit", "shared_buffers", "work_mem"))
        server = f"PostgreSQL {one('SHOW server_version')}, PostGIS " + str(one(
            "SELECT extversion FROM pg_extension WHERE extname = 'postgis'"))
        database = one("SELECT current_database()")
        history_mb = one("SELECT pg_total_relation_size('parcel_history') / 1048576")
    cpu = cpu_model()
    return [
        f"- database `{database}` (revision {revision}): {counts[0]:,} parcels, "
        f"{counts[1]:,} history rows ({history_mb:,} MB with indexes)",
        f"- {server}; service sessions: {settings}",
        f"- machine: {os.cpu_count()} cores ({cpu}); load average before / after: "
        f"{load_before} / {loadavg()}",
        f"- app in-process (`create_app`, the service's settings), anonymous requests one at a "
        f"time: {warmup} warm-up, then {runs} timed per case",
    ]


def table(results: list[Result]) -> list[str]:
    lines = ["| case | request | target | server median | server p95 | database median "
             "| EXPLAIN ANALYZE | statements | answer | SHA-256 |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in results:
        median = statistics.median(r.server_ms)
        target = "–" if r.case.target_ms is None else f"< {r.case.target_ms:.0f} ms"
        met = "" if r.case.target_ms is None else (" ✓" if median < r.case.target_ms
                                                    else " ✗")
        lines.append(
            f"| {r.case.name} | `GET {r.case.path}` | {target} | {median:.1f} ms{met} "
            f"| {p95(r.server_ms):.1f} ms | {statistics.median(r.db_ms):.1f} ms "
            f"| {r.explain_ms:.1f} ms | {r.statements} | {r.size / 1024:.0f} KiB "
            f"| `{r.digest}` |")
    return lines


def sql_report(results: list[Result]) -> list[str]:
    out = [f"# SQL of bench/balance.py ({time.strftime('%Y-%m-%d %H:%M')})", ""]
    for r in results:
        out += [f"## {r.case.name}: GET {r.case.path}", ""]
        for number, sql in enumerate(r.sql, 1):
            out += [f"Statement {number}:", "", "```sql", sql.strip(), "```", ""]
        out += ["```", r.plans.strip(), "```", ""]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="the benchmark database")
    parser.add_argument("--runs", type=int, default=30, help="timed requests per case")
    parser.add_argument("--warmup", type=int, default=3, help="untimed requests per case")
    parser.add_argument("--at", default=DEFAULT_AT, help=f"the past day (default {DEFAULT_AT})")
    parser.add_argument("--only", nargs="*", default=None, help="case names")
    parser.add_argument("--results-dir", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args(argv)
    date.fromisoformat(args.at)
    if args.runs < 1 or args.warmup < 0:
        parser.error("--runs must be >= 1 and --warmup >= 0")
    selected = [c for c in cases(args.at) if not args.only or c.name in args.only]

    load_before = loadavg()
    app = create_app(Settings(database_url=args.database_url))
    clock = ServerClock(app)
    recorder = Recorder()
    results = []
    with TestClient(clock, raise_server_exceptions=True) as client:
        engine: Engine = app.state.engine
        db = DatabaseClock(engine)
        attach(engine, recorder)
        for case in selected:
            print(f"[bench] {case.name}: GET {case.path}", file=sys.stderr, flush=True)
            results.append(measure(client, clock, db, recorder, engine, case, args.runs,
                                   args.warmup))
        env = environment(engine, args.runs, args.warmup, load_before)
    report = [f"# Balance and summary: server time ({time.strftime('%Y-%m-%d %H:%M')})", "",
              *env, "", *table(results), "",
              "server: from the app's call to the last body byte; database: the statements' "
              "round trips within it; EXPLAIN ANALYZE: the statements once more, execution "
              "time only; p95: nearest rank."]
    print("\n".join(report))
    args.results_dir.mkdir(parents=True, exist_ok=True)
    out = output_path(args.results_dir, "balance")
    out.write_text("\n".join(report) + "\n", encoding="utf-8")
    out.with_name(out.stem + "-sql.md").write_text("\n".join(sql_report(results)) + "\n",
                                                   encoding="utf-8")
    print(f"[bench] written: {out} and {out.stem}-sql.md", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
