"""OGC items benchmark (``bench/ogc.py``): wrk and pgbench runs, server processes and memory,
the benchmark databases and their plans."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.ogc_setup import (
    BENCH_DIR,
    ROOT,
    TARGET_SIZE,
    TIPG_COLLECTION,
    Answer,
    Case,
    Knobs,
)
from bench.output import say
from bench.service import stop

# --- wrk and pgbench -------------------------------------------------------------------------

@dataclass(frozen=True)
class WrkResult:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    non2xx: int
    errors: str


_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([0-9.]+)(us|ms|s|m)", text.strip())
    if not match:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match.group(1)) * _UNIT_MS[match.group(2)]


def parse_wrk(out: str) -> WrkResult:
    """``wrk --latency`` output → requests/s, p50, p99, requests, non-2xx, socket errors."""
    def find(pattern: str) -> str | None:
        match = re.search(pattern, out, re.MULTILINE)
        return match.group(1) if match else None

    rps = find(r"^Requests/sec:\s+([0-9.]+)")
    if rps is None:
        raise RuntimeError("no Requests/sec in wrk's output:\n" + out[-1000:])
    p50, p99 = find(r"^\s+50%\s+(\S+)"), find(r"^\s+99%\s+(\S+)")
    return WrkResult(
        rps=float(rps), p50_ms=_ms(p50) if p50 else float("nan"),
        p99_ms=_ms(p99) if p99 else float("nan"),
        requests=int(find(r"^\s+(\d+) requests in") or 0),
        non2xx=int(find(r"Non-2xx or 3xx responses:\s+(\d+)") or 0),
        errors=find(r"^\s+Socket errors:\s+(.*)$") or "")


def wrk_command(url: str, seconds: int, knobs: Knobs) -> list[str]:
    return ["wrk", "-t", str(knobs.threads), "-c", str(knobs.connections), "-d", f"{seconds}s",
            "--timeout", "30s", "--latency", url]


def run_wrk(url: str, seconds: int, knobs: Knobs, out: Path | None = None) -> WrkResult:
    """Warm-up (``BENCH_WARMUP`` s, not counted), then ``seconds`` of wrk on ``url``."""
    if knobs.warmup > 0:
        subprocess.run(wrk_command(url, knobs.warmup, knobs), check=True,
                       stdout=subprocess.DEVNULL)
    done = subprocess.run(wrk_command(url, seconds, knobs), check=True, capture_output=True,
                          text=True)
    if out is not None:
        out.write_text(done.stdout, encoding="utf-8")
    return parse_wrk(done.stdout)


@dataclass(frozen=True)
class PgbenchResult:
    tps: float
    p50_ms: float
    p99_ms: float
    transactions: int
    failed: int


def percentile(sorted_values: list[float], share: float) -> float:
    """Nearest rank, as bench/run.sh computes it."""
    if not sorted_values:
        return float("nan")
    rank = min(max(int(len(sorted_values) * share + 0.5), 1), len(sorted_values))
    return sorted_values[rank - 1]


def run_pgbench(script: Path, url: str, knobs: Knobs, options: str, folder: Path,
                name: str, extra_args: list[str] | None = None) -> PgbenchResult:
    """``pgbench -n`` on ``script`` (and ``extra_args``, e.g. more ``-f`` scripts) for
    BENCH_SECONDS with a per-transaction log."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob(f"{name}.*"):
        old.unlink()
    env = {**os.environ, "PGOPTIONS": options}
    done = subprocess.run(
        ["pgbench", "-n", "-c", str(knobs.connections), "-j", str(knobs.threads),
         "-T", str(knobs.seconds), "-f", str(script), *(extra_args or []), "-l",
         f"--log-prefix={name}", url],
        cwd=folder, env=env, capture_output=True, text=True)
    out = done.stdout + done.stderr
    (folder / f"{name}.out").write_text(out, encoding="utf-8")
    tps = re.search(r"^tps = ([0-9.]+)", out, re.MULTILINE)
    if done.returncode != 0 or tps is None:
        raise RuntimeError(f"pgbench failed ({done.returncode}):\n{out[-1500:]}")
    failed = re.search(r"^number of failed transactions: (\d+)", out, re.MULTILINE)
    latencies: list[float] = []
    for log in folder.glob(f"{name}.[0-9]*"):
        for line in log.read_text(encoding="utf-8").splitlines():
            fields = line.split()
            if len(fields) >= 3 and fields[2].isdigit():
                latencies.append(int(fields[2]) / 1000.0)
    latencies.sort()
    return PgbenchResult(float(tps.group(1)), percentile(latencies, 0.50),
                         percentile(latencies, 0.99), len(latencies),
                         int(failed.group(1)) if failed else 0)


# --- processes -----------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def uvicorn_pid(app: str, port: int) -> int | None:
    """The process serving ``app`` on ``port`` (found by its command line)."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            args = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if app.encode() in args and b"--port" in args:
            i = args.index(b"--port")
            if i + 1 < len(args) and args[i + 1] == str(port).encode():
                return int(proc.name)
    return None


def rss_kib(pid: int) -> int:
    """``VmRSS`` of process ``pid`` in KiB."""
    with open(f"/proc/{pid}/status", encoding="utf-8") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


@dataclass(frozen=True)
class Memory:
    case: str
    seconds: int
    start_kib: int
    max_kib: int
    end_kib: int
    samples: int
    rps: float

    @property
    def end_growth(self) -> float:
        return (self.end_kib - self.start_kib) / self.start_kib

    @property
    def max_growth(self) -> float:
        return (self.max_kib - self.start_kib) / self.start_kib

    def describe(self) -> str:
        return (f"memory ({self.case}, {self.seconds} s of wrk, {self.rps:,.1f} req/s): service "
                f"RSS {mib(self.start_kib)} after the warm-up, max {mib(self.max_kib)}, end "
                f"{mib(self.end_kib)} ({self.samples} samples, 1 s apart): "
                f"{self.end_growth:+.1%} at the end, {self.max_growth:+.1%} at the most")


def mib(kib: int) -> str:
    return f"{kib / 1024:,.1f} MiB"


def memory_run(url: str, pid: int, case: str, knobs: Knobs, out: Path) -> Memory:
    """wrk on ``url`` for BENCH_MEMORY_SECONDS after BENCH_MEMORY_WARMUP seconds of it (the
    pool's connections, the worker threads and the allocator's arenas are in use by then),
    VmRSS every second."""
    if knobs.memory_warmup > 0:
        subprocess.run(wrk_command(url, knobs.memory_warmup, knobs), check=True,
                       stdout=subprocess.DEVNULL)
    samples = [rss_kib(pid)]
    with out.open("w", encoding="utf-8") as wrk_out:
        child = subprocess.Popen(wrk_command(url, knobs.memory_seconds, knobs), stdout=wrk_out)
        next_at = time.monotonic() + 1.0
        while child.poll() is None:
            time.sleep(max(0.0, next_at - time.monotonic()))
            next_at += 1.0
            samples.append(rss_kib(pid))
        if child.returncode != 0:
            raise RuntimeError(f"wrk exited with {child.returncode}")
    samples.append(rss_kib(pid))
    result = parse_wrk(out.read_text(encoding="utf-8"))
    return Memory(case, knobs.memory_seconds, samples[0], max(samples), samples[-1],
                  len(samples), result.rps)


class TipgUnavailable(RuntimeError):
    """tipg could not be started or does not publish the table."""


@contextmanager
def tipg_server(venv: Path, database_url: str, knobs: Knobs, work: Path) -> Iterator[str]:
    """``uvicorn tipg.main:app`` on a free port, publishing ``public.parcels``; its URL."""
    python = venv / "bin" / "python"
    if not python.exists():
        raise TipgUnavailable(f"no {python}")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GEFIS_", "TIPG_", "DB_", "POSTGRES_"))}
    env.update({
        "DATABASE_URL": database_url,
        "TIPG_DB_SCHEMAS": '["public"]',
        "TIPG_DB_TABLES": json.dumps([TIPG_COLLECTION]),
        "TIPG_DB_SPATIAL_EXTENT": "false",  # startup only: no extent scan of the table
        "TIPG_DB_DATETIME_EXTENT": "false",
        "TIPG_CATALOG_TTL": "86400",  # no catalog refresh in the middle of a measurement
        "DB_MIN_CONN_SIZE": str(knobs.connections),
        "DB_MAX_CONN_SIZE": str(knobs.connections),
    })
    log = work / "tipg.log"
    say(f"tipg on {base}")
    with log.open("ab") as out:  # cwd: a folder without an .env file for tipg to read
        child = subprocess.Popen([str(python), "-m", "uvicorn", "tipg.main:app", "--host",
                                  "127.0.0.1", "--port", str(port)], cwd=work, env=env,
                                 stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        reason = "no answer"
        while True:
            try:
                response = httpx.get(f"{base}/collections/{TIPG_COLLECTION}", timeout=10)
                if response.status_code == 200:
                    break
                reason = f"/collections/{TIPG_COLLECTION}: HTTP {response.status_code}"
            except httpx.HTTPError as exc:
                reason = type(exc).__name__
            if child.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()
                last = tail[-1] if tail else ""
                raise TipgUnavailable(f"tipg did not publish {TIPG_COLLECTION} ({reason}; "
                                      f"log: {last[:200]})")
            time.sleep(0.5)
        yield base
    finally:
        stop(child)


# --- databases -----------------------------------------------------------------------------

def db_name(n: int, knobs: Knobs) -> str:
    if n == TARGET_SIZE:
        return knobs.db
    return {10_000: "gefis_bench_10k", 1_000_000: "gefis_bench_1m"}.get(n, f"gefis_bench_{n}")


def ensure_database(n: int, knobs: Knobs) -> str:
    """The size's database (built or reused by the project's loaders); its SQLAlchemy URL."""
    name = db_name(n, knobs)
    common = ["--n", str(n), "--seed", str(knobs.seed), "--db", name,
              "--server-url", knobs.server_url]
    if name == knobs.db:  # the database of bench/run.sh: keep it as run.sh does (history too)
        command = [sys.executable, str(BENCH_DIR / "load_history.py"), *common,
                   "--changes", str(knobs.changes)]
    else:
        command = [sys.executable, str(BENCH_DIR / "load_parcels.py"), *common]
    say(f"database {name}: {n:,} synthetic parcels (seed {knobs.seed})")
    done = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    return done.stdout.strip().splitlines()[-1]


def libpq_url(url: str) -> str:
    """``postgresql+psycopg2://…`` → ``postgresql://…`` (libpq, asyncpg)."""
    return "postgresql:" + url.split(":", 1)[1]


def psql(url: str, sql: str, options: str = "") -> str:
    env = {**os.environ, "PGOPTIONS": options} if options else None
    done = subprocess.run(["psql", "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", url,
                           "-c", sql], check=True, capture_output=True, text=True, env=env)
    return done.stdout.strip()


def statements(script: Path) -> list[str]:
    """The statements of a capture_sql.py pgbench script (each ends with ``;`` + newline)."""
    text = script.read_text(encoding="utf-8")
    return [s.strip() for s in text.split(";\n") if s.strip()]


def explain(url: str, script: Path, options: str) -> str:
    """``EXPLAIN (ANALYZE, BUFFERS)`` of each statement of ``script`` under ``options``."""
    parts = []
    for number, sql in enumerate(statements(script), 1):
        if sql[:7].upper() == "EXPLAIN":
            parts.append(f"-- statement {number}: an EXPLAIN itself, not analysed")
            continue
        plan = psql(url, "EXPLAIN (ANALYZE, BUFFERS) " + sql, options)
        parts.append(f"-- statement {number}\n{plan}")
    return "\n\n".join(parts) + "\n"


_SCAN = re.compile(r"((?:Parallel )?(?:Bitmap Heap Scan|Bitmap Index Scan|Index Only Scan|"
                   r"Index Scan|Seq Scan)(?: Backward)?(?: using \S+)? on \S+)")


def plan_shape(plan: str) -> str:
    """Per analysed statement: how it finds parcels (its scans of ``parcels`` and their
    indexes), its sorts and its execution time, e.g. ``#2 Bitmap Heap Scan on parcels / Bitmap
    Index Scan on ix_parcels__geom_25832, 0 sorts, 2.5 ms; #3 Index Scan using parcels_pkey on
    parcels, 2 sorts, 84.3 ms``. Statements that are EXPLAINs themselves are left out."""
    parts: list[str] = []
    number, scans, sorts, took = "", [], 0, ""

    def flush() -> None:
        if number and took:
            parts.append(f"#{number} {' / '.join(scans[:4]) or 'no scan of parcels'}, "
                         f"{sorts} sort{'s' if sorts != 1 else ''}, {took}")

    for line in plan.splitlines():
        if line.startswith("-- statement"):
            flush()
            number, scans, sorts, took = line.split()[2].rstrip(":"), [], 0, ""
        elif "(cost=" in line:
            node = line.split("(cost=")[0].strip().removeprefix("->").strip()
            if node in ("Sort", "Incremental Sort"):
                sorts += 1
            match = _SCAN.match(node)
            if match and "parcels" in match.group(1) and match.group(1) not in scans:
                scans.append(match.group(1))
        elif line.startswith("Execution Time:"):
            took = line.split(":", 1)[1].strip()
    flush()
    return "; ".join(parts) or "?"


# --- results -------------------------------------------------------------------------------

@dataclass
class CaseResult:
    case: Case
    url: str = ""
    answer: Answer | None = None
    statements: int = 0
    service: WrkResult | None = None
    floor: PgbenchResult | None = None
    plain: PgbenchResult | None = None
    plan: str = ""
    plain_plan: str = ""
    tipg_url: str = ""
    tipg_answer: Answer | None = None
    tipg: WrkResult | None = None
    tipg_note: str = ""
    problem: str = ""


@dataclass
class SizeResult:
    n: int
    db: str
    cases: list[CaseResult] = field(default_factory=list)
    memory: Memory | None = None
    memory_note: str = ""
    notes: list[str] = field(default_factory=list)
    facts: list[str] = field(default_factory=list)
    sql: list[str] = field(default_factory=list)
    tipg_version: str = ""
