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
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import parse_qsl, quote, unquote, urljoin, urlsplit

import httpx

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app.settings import Settings  # noqa: E402
from bench.output import cpu_model, loadavg, output_path, say  # noqa: E402
from bench.service import service, stop  # noqa: E402

BENCH_DIR = ROOT / "bench"
#: The size the issue's floor, plain, p99 and memory targets are stated for.
TARGET_SIZE = 200_000
#: The two sizes of the scale target (rate at the larger ÷ rate at the smaller).
SCALE_SIZES = (10_000, 1_000_000)
ISSUE_SECONDS = 15
ISSUE_MEMORY_SECONDS = 60
P99_FACTOR = 2.0
MEMORY_GROWTH_MAX = 0.10
#: Planner settings of the "plain" floor: no b-tree walk, no sequential scan.
PLAIN_OPTIONS = "-c enable_indexscan=off -c enable_indexonlyscan=off -c enable_seqscan=off"
TIPG_COLLECTION = "public.parcels"
#: The largest limit of the cases, and the settings that clamp it (/api/v1 and OGC items).
PAGE_SIZE_NEEDED = 1000
PAGE_SIZE_SETTINGS = ("GEFIS_PAGE_SIZE_MAX", "GEFIS_OGC_PAGE_SIZE_MAX")
ENDPOINTS = ("ogc", "legacy")
TARGET_KINDS = ("floor", "plain", "scale", "memory")


# --- knobs -------------------------------------------------------------------------------

def _env_int(name: str, default: int, minimum: int = 0) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < minimum:
        raise SystemExit(f"{name}: a whole number >= {minimum}, not {raw!r}")
    return int(raw)


@dataclass(frozen=True)
class Knobs:
    """The run's settings (environment variables of bench/ogc.sh)."""

    sizes: tuple[int, ...]
    seconds: int
    warmup: int
    connections: int
    threads: int
    memory_seconds: int
    memory_warmup: int
    only: frozenset[str]
    endpoint: str
    cases: Path
    seed: int
    changes: int
    db: str
    results_dir: Path
    keep: bool
    server_url: str
    tipg_venv: Path | None
    tipg_reason: str

    @classmethod
    def from_env(cls) -> Knobs:
        sizes_text = os.environ.get("BENCH_SIZES", "").replace(",", " ").split()
        if not all(s.isdigit() and int(s) > 0 for s in sizes_text):
            raise SystemExit(f"BENCH_SIZES: positive whole numbers, not {sizes_text}")
        sizes = tuple(dict.fromkeys(int(s) for s in sizes_text)) or (10_000, 200_000, 1_000_000)
        endpoint = os.environ.get("BENCH_ENDPOINT", "ogc").strip() or "ogc"
        if endpoint not in ENDPOINTS:
            raise SystemExit(f"BENCH_ENDPOINT: one of {', '.join(ENDPOINTS)}")
        tipg_text = os.environ.get("TIPG_VENV", "").strip()
        tipg_reason = os.environ.get("BENCH_TIPG_REASON", "").strip()
        if os.environ.get("BENCH_TIPG", "1").strip() == "0":
            tipg_text, tipg_reason = "", "skipped (BENCH_TIPG=0)"
        elif not tipg_text and not tipg_reason:
            tipg_reason = "no tipg virtualenv (TIPG_VENV unset; bench/ogc.sh makes one)"
        server_url = os.environ.get("DATABASE_URL", "").strip() or Settings().database_url
        return cls(
            sizes=sizes,
            seconds=_env_int("BENCH_SECONDS", ISSUE_SECONDS, 1),
            warmup=_env_int("BENCH_WARMUP", 3),
            connections=_env_int("BENCH_CONNECTIONS", 8, 1),
            threads=_env_int("BENCH_THREADS", 2, 1),
            memory_seconds=_env_int("BENCH_MEMORY_SECONDS", ISSUE_MEMORY_SECONDS),
            memory_warmup=_env_int("BENCH_MEMORY_WARMUP", 10),
            only=frozenset(os.environ.get("BENCH_ONLY", "").split()),
            endpoint=endpoint,
            cases=Path(os.environ.get("BENCH_CASES", "") or BENCH_DIR / "ogc_cases.tsv"),
            seed=_env_int("BENCH_SEED", 11, 1),
            changes=_env_int("BENCH_CHANGES", 4, 1),
            db=os.environ.get("BENCH_DB", "").strip() or "gefis_bench",
            results_dir=Path(os.environ.get("BENCH_RESULTS_DIR", "") or BENCH_DIR / "results"),
            keep=os.environ.get("BENCH_KEEP", "0") == "1",
            server_url=server_url,
            tipg_venv=Path(tipg_text) if tipg_text else None,
            tipg_reason=tipg_reason,
        )


# --- cases -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Case:
    """One line of the cases file."""

    name: str
    walk: int
    targets: tuple[tuple[str, float], ...]
    paths: tuple[tuple[str, str], ...]  # ("ogc" | "tipg" | "legacy", path)

    def target(self, kind: str) -> float | None:
        return next((value for k, value in self.targets if k == kind), None)

    def path(self, kind: str) -> str | None:
        return next((p for k, p in self.paths if k == kind), None)


def read_cases(path: Path) -> list[Case]:
    """``name walk targets ogc tipg legacy`` by tabs; ``#`` starts a comment line."""
    cases: list[Case] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = [p.strip() for p in line.split("\t")]
        where = f"{path}:{number}"
        if len(parts) != 6:
            raise SystemExit(f"{where}: expected name, walk, targets, ogc, tipg, legacy by tabs")
        name, walk, targets_text = parts[:3]
        if not walk.isdigit():
            raise SystemExit(f"{where}: walk must be a whole number")
        targets: list[tuple[str, float]] = []
        for item in targets_text.split(","):
            item = item.strip()
            if item in ("", "-"):
                continue
            kind, _, value = item.partition(":")
            if kind not in TARGET_KINDS:
                raise SystemExit(f"{where}: unknown target {kind!r} ({', '.join(TARGET_KINDS)})")
            try:
                targets.append((kind, float(value) if value else 1.0))
            except ValueError:
                raise SystemExit(f"{where}: target {item!r} needs a number") from None
        paths = tuple((kind, p) for kind, p in zip(("ogc", "tipg", "legacy"), parts[3:],
                                                   strict=True) if p != "-")
        cases.append(Case(name, int(walk), tuple(targets), paths))
    if len({c.name for c in cases}) != len(cases):
        raise SystemExit(f"{path}: case names must be unique")
    return cases


def encode_path(path: str) -> str:
    """``path`` with its query values percent-encoded (already encoded ones stay as they are).

    >>> encode_path("/items?filter=a = 'b'&bbox=1,2,3,4")
    '/items?filter=a%20%3D%20%27b%27&bbox=1,2,3,4'
    """
    base, _, query = path.partition("?")
    if not query:
        return path
    pairs = []
    for pair in query.split("&"):
        key, sep, value = pair.partition("=")
        pairs.append(quote(unquote(key), safe="-_.~") + sep + quote(unquote(value), safe=",:-_.~"))
    return base + "?" + "&".join(pairs)


def path_of(url: str) -> str:
    """The path and query of an absolute URL."""
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


# --- answers and walks ---------------------------------------------------------------------

@dataclass(frozen=True)
class Answer:
    """One response, as far as the contract goes."""

    url: str
    status: int
    media_type: str
    size: int
    features: int | None
    number_matched: bool
    next_href: str | None
    error: str = ""

    @property
    def limit(self) -> int | None:
        value = dict(parse_qsl(urlsplit(self.url).query)).get("limit")
        return int(value) if value and value.isdigit() else None

    def describe(self) -> str:
        if self.status != 200:
            return f"HTTP {self.status} {self.error}".strip()
        parts = [f"HTTP 200 {self.media_type or '(no media type)'}",
                 f"{self.features if self.features is not None else '?'} features",
                 f"{self.size / 1024:,.0f} KiB",
                 "numberMatched" if self.number_matched else "no numberMatched"]
        if self.next_href is None:
            parts.append("no next link")
        elif not self.next_href.startswith(("http://", "https://")):
            parts.append(f"relative next link {self.next_href!r}")
        return ", ".join(parts)


def fetch(client: httpx.Client, url: str) -> Answer:
    """GET ``url`` and read what the contract says about a page of features."""
    response = client.get(url)
    media = response.headers.get("content-type", "").split(";")[0].strip()
    features: int | None = None
    matched, next_href, error = False, None, ""
    try:
        doc = response.json()
    except ValueError:
        doc = None
        error = response.text[:200].replace("\n", " ")
    if isinstance(doc, dict):
        items = doc.get("features", doc.get("items"))
        features = len(items) if isinstance(items, list) else None
        matched = "numberMatched" in doc
        links = doc.get("links") if isinstance(doc.get("links"), list) else []
        next_href = next((str(link.get("href")) for link in links
                          if isinstance(link, dict) and link.get("rel") == "next"), None)
        if response.status_code != 200:
            error = str(doc.get("detail") or doc.get("title") or doc.get("description") or "")
    return Answer(url, response.status_code, media, len(response.content), features, matched,
                  next_href, error[:200])


def walk(client: httpx.Client, url: str, steps: int) -> tuple[str, Answer]:
    """Follow ``steps`` ``rel=next`` links from ``url``; the last URL and its answer."""
    answer = fetch(client, url)
    for step in range(steps):
        if answer.status != 200 or answer.next_href is None:
            raise RuntimeError(f"page {step + 1} of the walk: {answer.describe()}")
        url = urljoin(url, answer.next_href)
        answer = fetch(client, url)
    return url, answer


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
                name: str) -> PgbenchResult:
    """``pgbench -n`` on ``script`` for BENCH_SECONDS with a per-transaction log."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob(f"{name}.*"):
        old.unlink()
    env = {**os.environ, "PGOPTIONS": options}
    done = subprocess.run(
        ["pgbench", "-n", "-c", str(knobs.connections), "-j", str(knobs.threads),
         "-T", str(knobs.seconds), "-f", str(script), "-l", f"--log-prefix={name}", url],
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


# --- one size --------------------------------------------------------------------------------

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
        if _env_int(name, PAGE_SIZE_NEEDED, 1) < PAGE_SIZE_NEEDED:
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


# --- report --------------------------------------------------------------------------------

def fmt(value: float | None, digits: int = 1) -> str:
    if value is None or value != value:  # None or NaN
        return "–"
    return f"{value:,.{digits}f}"


def pct(numerator: float | None, denominator: float | None) -> str:
    if not numerator or not denominator:
        return "–"
    return f"{100 * numerator / denominator:.0f}"


def wrk_cells(w: WrkResult) -> str:
    """``req/s | p99`` of a wrk run; a run in which no request finished says so."""
    if w.requests == 0:
        return "0 | none finished: raise BENCH_SECONDS"
    return f"{fmt(w.rps)} | {fmt(w.p99_ms)}"


def size_table(result: SizeResult) -> list[str]:
    lines = ["| case | answer | SQL statements | service req/s | service p99 ms | floor tps "
             "| floor p99 ms | ratio % | tipg req/s | tipg p99 ms |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in result.cases:
        answer = "–"
        if r.answer is not None and r.answer.status == 200:
            answer = f"{r.answer.features} features, {r.answer.size / 1024:,.0f} KiB"
        if r.tipg is not None:
            tipg = wrk_cells(r.tipg)
            if r.tipg_note:
                tipg += f" ({r.tipg_note})"
        else:
            tipg = f"{r.tipg_note or 'n/a'} | –"
        if r.service is None:
            lines.append(f"| {r.case.name} | {answer} | – | not measured | – | – | – | – "
                         f"| {tipg} |")
            continue
        floor = r.floor
        lines.append(
            f"| {r.case.name} | {answer} | {r.statements} | {wrk_cells(r.service)} "
            f"| {fmt(floor.tps if floor else None)} "
            f"| {fmt(floor.p99_ms if floor else None)} "
            f"| {pct(r.service.rps, floor.tps if floor else None)} | {tipg} |")
        if r.plain is not None:
            lines.append(
                f"| {r.case.name}, plain floor | GiST bitmap + sort | {r.statements} | "
                f"| | {fmt(r.plain.tps)} | {fmt(r.plain.p99_ms)} "
                f"| {pct(r.service.rps, r.plain.tps)} | | |")
    return lines


@dataclass(frozen=True)
class Check:
    target: str
    measured: str
    ok: bool | None  # None: not measurable in this run


def checks(results: dict[int, SizeResult]) -> list[Check]:
    out: list[Check] = []
    at = results.get(TARGET_SIZE)
    at_n = f" at {TARGET_SIZE:,}"
    if at is None:
        out.append(Check(f"floor, plain and p99 targets at {TARGET_SIZE:,} parcels",
                         f"{TARGET_SIZE:,} not in BENCH_SIZES", None))
    else:
        for r in at.cases:
            if (share := r.case.target("floor")) is not None:
                ok = None
                measured = "not measured"
                if r.service and r.floor:
                    ratio = r.service.rps / r.floor.tps
                    ok, measured = ratio >= share, (f"{ratio:.0%} ({fmt(r.service.rps)} req/s ÷ "
                                                    f"{fmt(r.floor.tps)} tps)")
                out.append(Check(f"{r.case.name} ≥ {share:.0%} of the floor{at_n}", measured, ok))
            if (factor := r.case.target("plain")) is not None:
                ok, measured = None, "not measured"
                if r.service and r.plain:
                    ratio = r.service.rps / r.plain.tps
                    ok, measured = ratio >= factor, (
                        f"{ratio:.2f}× ({fmt(r.service.rps)} req/s ÷ {fmt(r.plain.tps)} tps; "
                        "plans above)")
                out.append(Check(f"{r.case.name} ≥ {factor:g}× the plain floor{at_n}",
                                 measured, ok))
        for r in at.cases:
            if r.service and r.floor:
                if r.service.requests == 0:
                    out.append(Check(f"{r.case.name} p99 ≤ {P99_FACTOR:g}× the floor's p99{at_n}",
                                     "no request finished", False))
                    continue
                ratio = r.service.p99_ms / r.floor.p99_ms if r.floor.p99_ms else float("inf")
                out.append(Check(f"{r.case.name} p99 ≤ {P99_FACTOR:g}× the floor's p99{at_n}",
                                 f"{ratio:.2f}× ({fmt(r.service.p99_ms)} ms vs "
                                 f"{fmt(r.floor.p99_ms)} ms)", ratio <= P99_FACTOR))
    small, large = (results.get(s) for s in SCALE_SIZES)
    scaled = [r.case for r in (small or large or SizeResult(0, "")).cases
              if r.case.target("scale") is not None]
    for case in scaled:
        label = (f"{case.name}: rate at {SCALE_SIZES[1]:,} ≥ "
                 f"{case.target('scale'):.0%} of the rate at {SCALE_SIZES[0]:,}")
        if small is None or large is None:
            out.append(Check(label, "needs both sizes in BENCH_SIZES", None))
            continue
        a = next((r.service for r in small.cases if r.case.name == case.name), None)
        b = next((r.service for r in large.cases if r.case.name == case.name), None)
        if a is None or b is None:
            out.append(Check(label, "not measured", None))
            continue
        ratio = b.rps / a.rps
        out.append(Check(label, f"{ratio:.0%} ({fmt(b.rps)} ÷ {fmt(a.rps)} req/s)",
                         ratio >= (case.target("scale") or 0)))
    for n, result in results.items():
        label = f"memory flat within {MEMORY_GROWTH_MAX:.0%} at {n:,} parcels"
        if result.memory is None:
            out.append(Check(label, result.memory_note or "not measured", None))
            continue
        growth = max(result.memory.max_growth, result.memory.end_growth)
        out.append(Check(label, f"{growth:+.1%} ({mib(result.memory.start_kib)} → max "
                                f"{mib(result.memory.max_kib)}, end {mib(result.memory.end_kib)}"
                                f", {result.memory.seconds} s)", growth <= MEMORY_GROWTH_MAX))
    return out


def page_sizes() -> str:
    """The page size maxima the service ran with (settings it lacks are left out)."""
    settings = Settings()
    values = [f"{name}={getattr(settings, name.removeprefix('GEFIS_').lower())}"
              for name in PAGE_SIZE_SETTINGS
              if hasattr(settings, name.removeprefix("GEFIS_").lower())]
    return ", ".join(values)


def git_commit() -> str:
    try:
        commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                                check=True, capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "app",
                                "migrations"], capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + (" (app/ or migrations/ with uncommitted changes)" if dirty else "")


def report(results: dict[int, SizeResult], knobs: Knobs, started: float, load_before: str,
           server: dict[str, str]) -> str:
    lines = [f"# Benchmark: OGC API - Features items ({datetime.now():%Y-%m-%d %H:%M})", ""]
    short = []
    if knobs.seconds < ISSUE_SECONDS:
        short.append(f"BENCH_SECONDS={knobs.seconds} < {ISSUE_SECONDS}")
    if 0 < knobs.memory_seconds < ISSUE_MEMORY_SECONDS:
        short.append(f"BENCH_MEMORY_SECONDS={knobs.memory_seconds} < {ISSUE_MEMORY_SECONDS}")
    if knobs.endpoint != "ogc":
        short.append(f"endpoint {knobs.endpoint} (`/api/v1/parcels`), not the OGC items")
    if short:
        lines += [f"**Dry run** ({'; '.join(short)}): the plumbing, not the targets.", ""]
    tipg = next((r.tipg_version for r in results.values() if r.tipg_version), "")
    lines += [
        f"- sizes: {', '.join(f'{n:,}' for n in results)} synthetic parcels (seed {knobs.seed});"
        f" endpoint: {knobs.endpoint}",
        f"- machine: {os.cpu_count()} cores ({cpu_model()}); load average before/after: "
        f"{load_before} / {loadavg()} (other processes share the cores)",
        f"- PostgreSQL {server.get('version', '?')}, PostGIS {server.get('postgis', '?')}; "
        f"jit = {server.get('jit', '?')}, shared_buffers = {server.get('shared_buffers', '?')},"
        f" work_mem = {server.get('work_mem', '?')}",
        f"- service: one uvicorn process (`uvicorn app.main:app`), GEFIS_DB_POOL_SIZE="
        f"{knobs.connections}, {page_sizes()}, commit {git_commit()}",
        f"- wrk -t{knobs.threads} -c{knobs.connections} -d{knobs.seconds}s after "
        f"{knobs.warmup} s warm-up; pgbench -n -c{knobs.connections} -j{knobs.threads} "
        f"-T{knobs.seconds} on the captured statements, right after, same database and "
        "session options as the service",
        "- tipg: " + (f"{tipg}, `uvicorn tipg.main:app` (one process), {TIPG_COLLECTION}, "
                      f"pool {knobs.connections}, same database, same wrk load"
                      if tipg else knobs.tipg_reason or "n/a"),
        f"- run time: {time.time() - started:.0f} s",
    ]
    for n, result in results.items():
        lines += ["", f"## {n:,} parcels (`{result.db}`)", ""]
        lines += [f"- {fact}" for fact in result.facts]
        lines += ["", *size_table(result), ""] if result.cases else [""]
        if result.memory is not None:
            lines.append(f"- {result.memory.describe()}")
        elif result.memory_note:
            lines.append(f"- memory: {result.memory_note}")
        for r in result.cases:
            if r.plan and r.case.target("plain") is not None:
                lines.append(f"- {r.case.name} plans: service SQL `{r.plan}`; plain floor "
                             f"`{r.plain_plan or '?'}`")
        for r in result.cases:
            if r.answer is not None:
                lines.append(f"- {r.case.name}: {r.answer.describe()}"
                             + (f" (page {r.case.walk + 1} of a walk)" if r.case.walk else ""))
                if (r.answer.limit and r.answer.features is not None
                        and r.answer.features < r.answer.limit):
                    lines.append(f"  - fewer features than limit={r.answer.limit}: clamped, or "
                                 "the data ran out")
        lines += [f"- {note}" for note in result.notes]
    lines += ["", "## Targets", "", "| target | measured | |", "|---|---|---|"]
    for check in checks(results):
        mark = {True: "pass", False: "**fail**", None: "n/a"}[check.ok]
        lines.append(f"| {check.target} | {check.measured} | {mark} |")
    lines += [
        "", "ratio % = service req/s ÷ floor tps (plain floor rows: ÷ plain floor tps). The floor",
        "is pgbench on the statements the service sent for that very URL (bench/capture_sql.py),",
        "one transaction per request, with the service's session options; the plain floor the",
        f"same statements with `{PLAIN_OPTIONS}`",
        "(a GiST bitmap scan plus a sort). tipg answers the same question its own way (offset",
        "paging, a count on every page, every parcel whatever its status).",
    ]
    return "\n".join(lines) + "\n"


def sql_report(results: dict[int, SizeResult]) -> str:
    lines = [f"# SQL of the OGC items benchmark ({datetime.now():%Y-%m-%d %H:%M})", ""]
    for n, result in results.items():
        lines += [f"## {n:,} parcels (`{result.db}`)", "", *"\n\n".join(result.sql).split("\n"),
                  ""]
    return "\n".join(lines) + "\n"


def server_facts(knobs: Knobs) -> dict[str, str]:
    url = libpq_url(Settings(database_url=knobs.server_url).database_url)
    try:
        row = psql(url, "SELECT current_setting('server_version'), (SELECT extversion FROM "
                        "pg_extension WHERE extname = 'postgis'), current_setting('jit'), "
                        "current_setting('shared_buffers'), current_setting('work_mem')")
    except subprocess.CalledProcessError:
        return {}
    keys = ("version", "postgis", "jit", "shared_buffers", "work_mem")
    return dict(zip(keys, row.split("|"), strict=False))


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
