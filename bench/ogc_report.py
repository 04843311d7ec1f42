"""OGC items benchmark (``bench/ogc.py``): the Markdown report, with the issue's target checks."""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from datetime import datetime

from app.settings import Settings
from bench.ogc_measure import (
    SizeResult,
    WrkResult,
    libpq_url,
    mib,
    psql,
)
from bench.ogc_setup import (
    ISSUE_MEMORY_SECONDS,
    ISSUE_SECONDS,
    MEMORY_GROWTH_MAX,
    P99_FACTOR,
    PAGE_SIZE_SETTINGS,
    PLAIN_OPTIONS,
    ROOT,
    SCALE_SIZES,
    TARGET_SIZE,
    TIPG_COLLECTION,
    Knobs,
)
from bench.output import cpu_model, loadavg

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
