"""OGC API - Features items: the service beside its own SQL (pgbench, the floor) and tipg.

    bash bench/ogc.sh                              # 10,000, 200,000 and 1,000,000 parcels
    BENCH_SIZES="200000" bash bench/ogc.sh         # a subset

``bench/ogc.sh`` prepares the tools (the project's bootstrap, tipg's virtualenv) and runs this
driver, which reads its knobs from the environment (see ``bench/README.md``, "OGC items"). Per
size N:

1. **database**: ``BENCH_DB`` (``gefis_bench``) for 200,000 parcels through
   ``bench/load_history.py``, as ``bench/run.sh`` keeps it (reused while N, seed and plan are
   unchanged); ``gefis_bench_10k``, ``gefis_bench_1m`` (else ``gefis_bench_<N>``) through
   ``bench/load_parcels.py`` (no history: no items request reads it);
2. **service**: ``uvicorn app.main:app`` (:func:`bench.service.service`) with
   ``GEFIS_DB_POOL_SIZE`` = the connections and ``GEFIS_PAGE_SIZE_MAX`` >= 1000;
3. **URLs**: every case of ``BENCH_CASES`` (``bench/ogc_cases.tsv``) is requested once; a case
   with ``walk`` k follows k ``rel=next`` links first (page 50 of a walk from page 1: k = 49)
   and its last URL is the one measured. The answers are checked against the contract
   (status, media type, features returned, ``numberMatched``, absolute ``next``);
4. **SQL**: ``bench/capture_sql.py`` sends those URLs through the app in-process and records
   the literal SQL psycopg2 sent, with ``EXPLAIN (ANALYZE, BUFFERS)``;
5. **per case**: ``wrk`` (``BENCH_THREADS`` threads, ``BENCH_CONNECTIONS`` connections,
   ``BENCH_WARMUP`` s warm-up, ``BENCH_SECONDS`` s measured), then ``pgbench -n -c C -j T -T S``
   on the captured statements (the floor), with the service's session options (``PGOPTIONS``)
   and a per-transaction log for p99. A case with a ``plain:`` target also runs the same
   statements with the planner kept off b-tree index and sequential scans (a GiST bitmap scan
   plus a sort): the plan a naive ``ORDER BY id LIMIT n`` query with ``&&`` gets;
6. **memory**: the ``memory`` case runs once more for ``BENCH_MEMORY_SECONDS`` (60) s after
   its warm-up while the service's ``VmRSS`` (``/proc/<pid>/status``) is sampled every second;
7. **tipg** (``TIPG_VENV``, see ``bench/tipg_env.sh``): ``uvicorn tipg.main:app`` on the same
   database, publishing ``public.parcels``; each case's tipg URL (walked the same way) under
   the same wrk load. Any failure of tipg is reported as "n/a" with its reason.

The tables, the target checks, the 1,000,000 ÷ 10,000 ratios and the memory lines go to
stdout and ``bench/results/<date>-ogc.md``; the URLs, captured SQL and plans to
``…-ogc-sql.md``.

This module runs the sizes; ``bench/ogc_setup.py`` holds the knobs and cases,
``bench/ogc_measure.py`` the wrk, pgbench, process and database helpers, and
``bench/ogc_report.py`` the report and the target checks.
"""


from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import httpx

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app.settings import Settings  # noqa: E402
from bench.ogc_measure import (  # noqa: E402
    CaseResult,
    SizeResult,
    TipgUnavailable,
    db_name,
    ensure_database,
    explain,
    libpq_url,
    memory_run,
    plan_shape,
    psql,
    run_pgbench,
    run_wrk,
    tipg_server,
    uvicorn_pid,
)
from bench.ogc_report import (  # noqa: E402
    report,
    server_facts,
    sql_report,
)
from bench.ogc_setup import (  # noqa: E402
    BENCH_DIR,
    PAGE_SIZE_NEEDED,
    PAGE_SIZE_SETTINGS,
    PLAIN_OPTIONS,
    Case,
    Knobs,
    encode_path,
    env_int,
    path_of,
    read_cases,
    walk,
)
from bench.output import loadavg, output_path, say  # noqa: E402
from bench.service import service  # noqa: E402

# --- one size --------------------------------------------------------------------------------

def session_options(url: str) -> str:
    """The service's session options (app/db/session.py) for pgbench and psql."""
    settings = Settings(database_url=url)
    return (f"-c timezone=UTC -c statement_timeout={settings.db_statement_timeout_ms} "
            f"-c max_parallel_workers_per_gather={settings.db_parallel_workers}")


def database_facts(pg_url: str, load_started: float, load_s: float) -> list[str]:
    stored = psql(pg_url, "SELECT shobj_description(oid, 'pg_database') FROM pg_database "
                          "WHERE datname = current_database()")
    try:
        info = json.loads(stored or "{}")
    except ValueError:
        info = {}
    when = "built in this run" if info.get("built_at_epoch", 0) >= load_started else "reused"
    history = (f", history {info['history_rows']:,} rows" if info.get("history_rows") else
               ", no history")
    counts = psql(pg_url, "SELECT count(*) FILTER (WHERE external_id LIKE 'BENCH-%'), "
                          "count(*), count(*) FILTER (WHERE marketing_status = 'verfuegbar') "
                          "FROM parcels")
    synthetic, total, available = (int(v) for v in counts.split("|"))
    correlation = psql(pg_url, "SELECT round(correlation::numeric, 3) FROM pg_stats WHERE "
                               "schemaname = 'public' AND tablename = 'parcels' AND "
                               "attname = 'id'") or "?"
    return [
        f"database: {when} (built {info.get('built_at', '?')}{history}; load step "
        f"{load_s:.0f} s); {synthetic:,} synthetic + {total - synthetic:,} demo parcels, "
        f"{available:,} of them `verfuegbar`",
        f"heap order: pg_stats correlation of parcels.id = {correlation} (1: the heap is in id "
        "order; near 0: a primary-key walk reads scattered pages)",
    ]


def bbox_fact(pg_url: str, case: Case, endpoint: str) -> str | None:
    """How many parcels the case's bbox (CRS84) holds."""
    path = case.path(endpoint) or ""
    box = dict(parse_qsl(urlsplit(encode_path(path)).query)).get("bbox")
    if not box or "bbox-crs" in path:
        return None
    minx, miny, maxx, maxy = (float(v) for v in box.split(","))
    counts = psql(pg_url, f"SELECT count(*), count(*) FILTER (WHERE marketing_status = "
                          f"'verfuegbar') FROM parcels WHERE geom_25832 && ST_Transform("
                          f"ST_MakeEnvelope({minx}, {miny}, {maxx}, {maxy}, 4326), 25832)")
    inside, available = (int(v) for v in counts.split("|"))
    return f"{case.name}: the box {box} holds {inside:,} parcels ({available:,} `verfuegbar`)"


def run_size(n: int, cases: list[Case], knobs: Knobs, work: Path) -> SizeResult:
    result = SizeResult(n, db_name(n, knobs))
    load_started = time.time()
    url = ensure_database(n, knobs)
    pg_url = libpq_url(url)
    result.facts += database_facts(pg_url, load_started, time.time() - load_started)
    for case in cases:
        if case.target("plain") is not None and (fact := bbox_fact(pg_url, case, knobs.endpoint)):
            result.facts.append(fact)
    options = session_options(url)
    folder = work / str(n)
    folder.mkdir(parents=True, exist_ok=True)
    results = [CaseResult(case) for case in cases]
    result.cases = results

    os.environ["GEFIS_DB_POOL_SIZE"] = str(knobs.connections)
    for name in PAGE_SIZE_SETTINGS:  # raise a lower page size max to the cases' largest limit
        if env_int(name, PAGE_SIZE_NEEDED, 1) < PAGE_SIZE_NEEDED:
            os.environ[name] = str(PAGE_SIZE_NEEDED)
    os.environ.pop("GEFIS_PUBLIC_BASE_URL", None)  # links from the request: the bench's URL
    with service(url, folder / "service.log") as base:
        pid = uvicorn_pid("app.main:app", urlsplit(base).port or 0)
        # 1. URLs: walk to the page measured, check the answers against the contract.
        with httpx.Client(timeout=60) as client:
            for r in results:
                path = r.case.path(knobs.endpoint)
                if path is None:
                    r.problem = f"no {knobs.endpoint} path"
                    continue
                try:
                    r.url, r.answer = walk(client, base + encode_path(path), r.case.walk)
                except (RuntimeError, httpx.HTTPError) as exc:
                    r.problem = f"walk: {exc}"
                    continue
                if r.answer.status != 200:
                    r.problem = r.answer.describe()
                say(f"{n:,} {r.case.name}: {r.answer.describe()}")
        live = [r for r in results if not r.problem]
        # 2. the SQL of each URL (the app in-process, its engine's listeners).
        sql_dir = folder / "sql"
        resolved = folder / "cases.tsv"
        resolved.write_text("".join(f"{r.case.name}\tGET\t{path_of(r.url)}\n" for r in live),
                            encoding="utf-8")
        if live:
            say(f"{n:,}: capturing the SQL of {len(live)} case(s) (app in-process)")
            subprocess.run([sys.executable, str(BENCH_DIR / "capture_sql.py"),
                            "--database-url", url, "--cases", str(resolved), "--out",
                            str(sql_dir), "--base-url", base, "--explain"], cwd=ROOT)
            manifest = {}
            if (sql_dir / "manifest.tsv").exists():
                for line in (sql_dir / "manifest.tsv").read_text(encoding="utf-8").splitlines():
                    row = line.split("\t")
                    manifest[row[0]] = row
            for r in live:
                row = manifest.get(r.case.name)
                if row is None or not row[3].startswith("2") or row[6] == "0":
                    r.problem = "SQL capture: " + (f"HTTP {row[3]}, {row[6]} statements"
                                                   if row else "no capture")
                    continue
                r.statements = int(row[6])
                explained = sql_dir / f"{r.case.name}.explain.txt"
                r.plan = plan_shape(explained.read_text(encoding="utf-8")) \
                    if explained.exists() else "?"
        # 3. per case: the service (wrk), the floor (pgbench), the plain floor.
        for r in results:
            if r.problem:
                result.notes.append(f"{r.case.name}: not measured ({r.problem})")
                continue
            name = r.case.name
            script = sql_dir / f"{name}.sql"
            say(f"{n:,} {name}: wrk {knobs.seconds} s")
            try:
                r.service = run_wrk(r.url, knobs.seconds, knobs, folder / f"{name}.wrk.out")
            except (RuntimeError, subprocess.CalledProcessError) as exc:
                r.problem = f"wrk: {str(exc).splitlines()[0]}"
                result.notes.append(f"{name}: not measured ({r.problem})")
                continue
            say(f"{n:,} {name}: pgbench {knobs.seconds} s (floor)")
            try:
                r.floor = run_pgbench(script, pg_url, knobs, options, folder / "pglog", name)
            except RuntimeError as exc:
                result.notes.append(f"{name}: floor: {exc}")
            if r.case.target("plain") is not None:
                plain_options = f"{options} {PLAIN_OPTIONS}"
                try:
                    plain_plan = explain(pg_url, script, plain_options)
                except subprocess.CalledProcessError as exc:
                    plain_plan = f"EXPLAIN failed: {exc.stderr}"
                r.plain_plan = plan_shape(plain_plan)
                (sql_dir / f"{name}.plain.explain.txt").write_text(plain_plan, encoding="utf-8")
                say(f"{n:,} {name}: pgbench {knobs.seconds} s (plain floor)")
                try:
                    r.plain = run_pgbench(script, pg_url, knobs, plain_options,
                                          folder / "pglog", name + "-plain")
                except RuntimeError as exc:
                    result.notes.append(f"{name}: plain floor: {exc}")
            if r.service.non2xx:
                result.notes.append(f"{name}: {r.service.non2xx} service answers not 2xx")
            if r.service.errors:
                result.notes.append(f"{name}: wrk socket errors: {r.service.errors}")
            if r.floor is not None and r.floor.failed:
                result.notes.append(f"{name}: pgbench: {r.floor.failed} failed transactions")
        # 4. memory: a long run of the memory case, the service's RSS sampled.
        memory_case = next((r for r in results if r.case.target("memory") is not None
                            and not r.problem), None)
        if knobs.memory_seconds <= 0:
            result.memory_note = "skipped (BENCH_MEMORY_SECONDS=0)"
        elif memory_case is None:
            result.memory_note = "no measured case marked `memory`"
        elif pid is None:
            result.memory_note = "the service's process was not found"
        else:
            say(f"{n:,} {memory_case.case.name}: wrk {knobs.memory_seconds} s, RSS sampled")
            try:
                result.memory = memory_run(memory_case.url, pid, memory_case.case.name, knobs,
                                           folder / "memory.wrk.out")
            except (OSError, RuntimeError, subprocess.CalledProcessError) as exc:
                result.memory_note = f"failed: {str(exc).splitlines()[0]}"
    result.sql = sql_sections(results, sql_dir)
    # 5. tipg on the same database, under the same load.
    measure_tipg(result, knobs, pg_url, folder)
    return result


def measure_tipg(result: SizeResult, knobs: Knobs, pg_url: str, folder: Path) -> None:
    todo = [r for r in result.cases if r.case.path("tipg") is not None]
    for r in result.cases:
        if r.case.path("tipg") is None:
            r.tipg_note = "n/a (no tipg URL)"
    if not todo:
        return
    if knobs.tipg_venv is None:
        for r in todo:
            r.tipg_note = f"n/a ({knobs.tipg_reason})"
        return
    try:
        probe = subprocess.run(
            [str(knobs.tipg_venv / "bin" / "python"), "-c",
             "from importlib.metadata import version; import tipg.main; print(version('tipg'))"],
            capture_output=True, text=True)
        if probe.returncode != 0:
            raise TipgUnavailable(f"tipg is not importable in {knobs.tipg_venv}")
        result.tipg_version = probe.stdout.strip()
        with tipg_server(knobs.tipg_venv, pg_url, knobs, folder) as base, \
                httpx.Client(timeout=120) as client:
            for r in todo:
                try:
                    r.tipg_url, r.tipg_answer = walk(
                        client, base + encode_path(r.case.path("tipg") or ""), r.case.walk)
                    if r.tipg_answer.status != 200:
                        raise RuntimeError(r.tipg_answer.describe())
                    say(f"{result.n:,} {r.case.name} (tipg): {r.tipg_answer.describe()}")
                    say(f"{result.n:,} {r.case.name} (tipg): wrk {knobs.seconds} s")
                    r.tipg = run_wrk(r.tipg_url, knobs.seconds, knobs,
                                     folder / f"{r.case.name}.tipg.wrk.out")
                    if r.tipg.non2xx:
                        r.tipg_note = f"{r.tipg.non2xx} answers not 2xx"
                except (RuntimeError, httpx.HTTPError, subprocess.CalledProcessError) as exc:
                    r.tipg_note = f"n/a ({str(exc).splitlines()[0][:160]})"
    except (TipgUnavailable, OSError, subprocess.CalledProcessError, httpx.HTTPError) as exc:
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        for r in todo:
            if r.tipg is None:
                r.tipg_note = f"n/a ({reason})"


def sql_sections(results: list[CaseResult], sql_dir: Path) -> list[str]:
    out: list[str] = []
    for r in results:
        out.append(f"### {r.case.name}\n\nGET {r.url or '(not resolved)'}"
                   + (f"\n\nnot measured: {r.problem}" if r.problem else ""))
        for title, file, lang in (("captured (one request)", f"{r.case.name}.request.sql", "sql"),
                                  ("EXPLAIN (ANALYZE, BUFFERS), the service's session",
                                   f"{r.case.name}.explain.txt", ""),
                                  ("EXPLAIN (ANALYZE, BUFFERS), plain floor (" + PLAIN_OPTIONS
                                   + ")", f"{r.case.name}.plain.explain.txt", "")):
            path = sql_dir / file
            if path.exists():
                out.append(f"{title}:\n\n```{lang}\n{path.read_text(encoding='utf-8').rstrip()}"
                           "\n```")
    return out


def main(argv: list[str] | None = None) -> int:
    if argv and argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    knobs = Knobs.from_env()
    for tool in ("wrk", "pgbench", "psql"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is missing (bash bench/ogc.sh installs it)")
    cases = [c for c in read_cases(knobs.cases) if not knobs.only or c.name in knobs.only]
    if not cases:
        raise SystemExit(f"no case of {knobs.cases} selected (BENCH_ONLY={' '.join(knobs.only)})")
    started, load_before = time.time(), loadavg()
    server = server_facts(knobs)
    work = Path(tempfile.mkdtemp(prefix="gefis-ogc-bench."))
    results: dict[int, SizeResult] = {}
    try:
        for n in knobs.sizes:
            try:
                results[n] = run_size(n, cases, knobs, work)
            except (RuntimeError, OSError, SystemExit, subprocess.CalledProcessError) as exc:
                # SystemExit: bench/service.py's way of saying the service did not start.
                text = [line for line in str(exc).strip().splitlines() if line.strip()]
                reason = " … ".join(dict.fromkeys([text[0], text[-1]]))[:400] if text \
                    else type(exc).__name__
                say(f"{n:,} parcels: failed: {reason}")
                results[n] = SizeResult(n, db_name(n, knobs), notes=[f"failed: {reason}"])
    finally:
        if knobs.keep:
            say(f"work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    text = report(results, knobs, started, load_before, server)
    knobs.results_dir.mkdir(parents=True, exist_ok=True)
    out = output_path(knobs.results_dir, "ogc")
    out.write_text(text, encoding="utf-8")
    sql_out = out.with_name(out.stem + "-sql.md")
    sql_out.write_text(sql_report(results), encoding="utf-8")
    print(text, end="")
    say(f"written: {out} and {sql_out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
