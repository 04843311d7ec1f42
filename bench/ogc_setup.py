"""OGC items benchmark (``bench/ogc.py``): its knobs, cases and the contract check of an answer."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, quote, unquote, urljoin, urlsplit

import httpx

from app.settings import Settings

#: The checkout (the bench runs the service and its tools from here).
ROOT = Path(__file__).resolve().parent.parent

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

def env_int(name: str, default: int, minimum: int = 0) -> int:
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
            seconds=env_int("BENCH_SECONDS", ISSUE_SECONDS, 1),
            warmup=env_int("BENCH_WARMUP", 3),
            connections=env_int("BENCH_CONNECTIONS", 8, 1),
            threads=env_int("BENCH_THREADS", 2, 1),
            memory_seconds=env_int("BENCH_MEMORY_SECONDS", ISSUE_MEMORY_SECONDS),
            memory_warmup=env_int("BENCH_MEMORY_WARMUP", 10),
            only=frozenset(os.environ.get("BENCH_ONLY", "").split()),
            endpoint=endpoint,
            cases=Path(os.environ.get("BENCH_CASES", "") or BENCH_DIR / "ogc_cases.tsv"),
            seed=env_int("BENCH_SEED", 11, 1),
            changes=env_int("BENCH_CHANGES", 4, 1),
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
