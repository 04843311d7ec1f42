"""First render of the web map in a headless browser (issue 17: under 2 s for the region
with the demo data).

A database of its own (``BENCH_MAP_DB``, default ``gefis_bench_map``: migrated, demo data
loaded when empty), the service as ``make run`` starts it (``bench/service.py``), Debian's
Chromium through Playwright with the flags of ``tests/browser.py`` (software WebGL). Each run
opens ``/karte`` in a fresh browser context (cold: nothing cached) and then reloads it in the
same context (warm: scripts from the browser's cache, revalidated by ETag). Times are from
the start of navigation (``performance.now()`` in the page):

- *page ready*: the page has started (vocabularies, districts, list and map style loaded);
- *first render*: the map has loaded and drawn every tile of the region view, with parcel
  features rendered (``queryRenderedFeatures`` on the parcel layers is non-empty);
- *transferred*: bytes over the wire (``transferSize`` of the navigation and every resource).

Prints a Markdown table (median, min, max) and writes it to ``bench/results/<date>-map-render.md``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from dataclasses import dataclass

from playwright.sync_api import BrowserContext, sync_playwright
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench.output import cpu_model, loadavg, output_path, say
from bench.service import ROOT, service
from tests.browser import CHROMIUM_ARGS, chromium_executable

RESULTS = ROOT / "bench" / "results"
TARGET_S = 2.0

#: Resolves (with performance.now()) once the region is drawn: every tile loaded, parcels
#: rendered.
_RENDERED = """() => {
  const m = window.gefis && window.gefis.map;
  if (!m || !m.loaded() || !m.areTilesLoaded()) return false;
  if (document.body.dataset.ready !== 'true') return false;
  return m.queryRenderedFeatures({layers: ['parcels-fill', 'sites-small']}).length > 0
    && performance.now();
}"""
_TRANSFERRED = """() => performance.getEntriesByType('navigation')
  .concat(performance.getEntriesByType('resource'))
  .reduce((sum, e) => sum + (e.transferSize || 0), 0)"""


@dataclass
class Run:
    ready_s: float
    rendered_s: float
    transferred_kb: float
    features: int


def prepare_database(database_url: str, name: str) -> str:
    """``name`` on the server of ``database_url``, migrated, with the demo data."""
    url = make_url(database_url).set(database=name)
    admin = create_engine(make_url(database_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                            {"n": name}).scalar():
            say(f"creating database {name}")
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    plain = url.render_as_string(hide_password=False)
    env = {**os.environ, "DATABASE_URL": plain}
    for command in (["migrate"], ["load-demo", "--if-empty"]):
        subprocess.run([sys.executable, "-m", "app.cli", *command], cwd=ROOT, env=env,
                       check=True, stdout=subprocess.DEVNULL)
    return plain


def measure(context: BrowserContext, url: str, *, reload: bool) -> Run:
    page = context.pages[0] if reload and context.pages else context.new_page()
    if reload:
        page.reload()
    else:
        page.goto(url)
    rendered = page.wait_for_function(_RENDERED, timeout=60_000, polling="raf").json_value()
    ready = page.evaluate("performance.getEntriesByName('gefis-ready')[0].startTime")
    features = page.evaluate(
        "window.gefis.map.queryRenderedFeatures({layers: ['parcels-fill', 'sites-small']}).length")
    return Run(ready_s=ready / 1000, rendered_s=float(rendered) / 1000,
               transferred_kb=page.evaluate(_TRANSFERRED) / 1024, features=features)


def summary(label: str, runs: list[Run]) -> list[str]:
    def cell(values: list[float], unit: str, digits: int = 2) -> str:
        return (f"{statistics.median(values):.{digits}f} {unit} "
                f"({min(values):.{digits}f}–{max(values):.{digits}f})")
    return [f"| {label} | {len(runs)} | {cell([r.ready_s for r in runs], 's')} | "
            f"{cell([r.rendered_s for r in runs], 's')} | "
            f"{cell([r.transferred_kb for r in runs], 'KiB', 0)} | {runs[0].features} |"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="runs of each kind (default 7)")
    args = parser.parse_args(argv)
    database = prepare_database(os.environ["DATABASE_URL"],
                                os.environ.get("BENCH_MAP_DB", "gefis_bench_map"))
    executable = chromium_executable()
    if executable is None:
        raise SystemExit("Debian's chromium is needed (apt-get install chromium)")
    log = RESULTS / "map-render-service.log"
    RESULTS.mkdir(parents=True, exist_ok=True)
    cold: list[Run] = []
    warm: list[Run] = []
    load = loadavg()
    with service(database, log) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        url = f"{base}/karte"
        measure(browser.new_context(viewport={"width": 1400, "height": 860}), url,
                reload=False)  # warm-up: the service's first requests, Chromium's shader cache
        for i in range(args.runs):
            context = browser.new_context(viewport={"width": 1400, "height": 860})
            cold.append(measure(context, url, reload=False))
            warm.append(measure(context, url, reload=True))
            say(f"run {i + 1}: cold {cold[-1].rendered_s:.2f} s, warm {warm[-1].rendered_s:.2f} s")
            context.close()
        browser.close()
    lines = [
        f"# Web map, first render of the region ({len(cold)} runs)", "",
        f"Machine: {cpu_model()}, {os.cpu_count()} cores; load before: {load}; "
        f"Chromium {executable}, software WebGL (SwiftShader); viewport 1400 × 860.", "",
        "| cache | runs | page ready (median, min–max) | first render | transferred | "
        "features drawn |",
        "|---|---:|---:|---:|---:|---:|",
        *summary("cold", cold), *summary("warm", warm), "",
        f"Target: first render under {TARGET_S:.0f} s. "
        f"Median cold: {statistics.median(r.rendered_s for r in cold):.2f} s.",
    ]
    report = "\n".join(lines)
    print(report)
    path = output_path(RESULTS, "map-render")
    path.write_text(report + "\n", encoding="utf-8")
    say(f"written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
