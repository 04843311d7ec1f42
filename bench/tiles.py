"""Vector tiles: the service beside its own ST_AsMVT SQL (pgbench, the floor), the naive
tile SQL (every parcel, no aggregation, no cap) and tipg's tiles, on the 200,000-parcel
database; distinct tiles per zoom 10-14, no cache anywhere. Run by ``bench/tiles.sh``.

Per zoom: up to ``BENCH_TILES`` (100) distinct tiles holding parcels, taken from the parcels'
centroids around Leipzig and Halle; wrk cycles through them (a Lua script), pgbench draws one
script per tile (``-f`` each: the exact statement the service sends, literals inlined).
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.dialects import postgresql

from app.domain.roles import PUBLIC_VIEWER
from app.domain.tms import WEB_MERCATOR_QUAD, Tile, lon_lat_to_mercator
from app.services.ogc.items import ItemsRequest
from app.services.ogc.registry import PARCELS
from app.services.tiles import TileRequest, tile_statement
from app.settings import Settings
from bench.ogc_measure import (
    PgbenchResult,
    WrkResult,
    ensure_database,
    libpq_url,
    parse_wrk,
    run_pgbench,
    tipg_server,
    wrk_command,
)
from bench.ogc_setup import TARGET_SIZE, TIPG_COLLECTION, Knobs
from bench.output import say
from bench.service import service

ZOOMS = tuple(int(z) for z in os.environ.get("BENCH_ZOOMS", "10 11 12 13 14").split())
#: Leipzig and Halle (lon, lat): the tiles are drawn from the parcels within 25 km.
CENTRES = ((12.3731, 51.3397), (11.9688, 51.4969))
SESSION_OPTIONS = "-c jit=off -c max_parallel_workers_per_gather=0"


@dataclass
class ZoomResult:
    zoom: int
    tiles: int
    service: WrkResult | None = None
    floor: PgbenchResult | None = None
    naive: PgbenchResult | None = None
    tipg: WrkResult | None = None
    service_kb: float = 0.0
    naive_kb: float = 0.0
    tipg_kb: float = 0.0


def tiles_of(url: str, zoom: int, limit: int) -> list[Tile]:
    """Distinct tiles of ``zoom`` holding parcels near the two cities (deterministic)."""
    engine = create_engine(url)
    with engine.connect() as conn:
        points = conn.execute(text(
            "SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Transform(ST_Centroid(geom_25832), 4326) "
            "AS c FROM parcels ORDER BY id) x")).all()
    engine.dispose()
    found: dict[Tile, int] = {}
    for lon, lat in points:
        if min((lon - x) ** 2 + ((lat - y) * 1.6) ** 2 for x, y in CENTRES) > 0.35 ** 2:
            continue
        row, col = WEB_MERCATOR_QUAD.tile_of(*lon_lat_to_mercator(lon, lat), zoom)
        found[Tile(zoom, row, col)] = found.get(Tile(zoom, row, col), 0) + 1
    ranked = sorted(found, key=lambda t: (-found[t], t.y, t.x))
    return ranked[:limit]


def statement(tile: Tile, settings: Settings) -> str:
    """The public parcel tile's SQL with its values inlined (as psycopg2 sends it)."""
    found = tile_statement(PARCELS, TileRequest(tile, ItemsRequest(limit=1), None),
                           PUBLIC_VIEWER, settings)
    assert found is not None, tile
    sql, params = found
    compiled = text(sql).bindparams(**params).compile(
        dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
    return str(compiled) + ";\n"


def pgbench_tiles(url: str, tiles: list[Tile], settings: Settings, knobs: Knobs,
                  folder: Path, name: str) -> PgbenchResult:
    scripts = folder / name
    scripts.mkdir(parents=True, exist_ok=True)
    files = []
    for tile in tiles:
        path = scripts / f"{tile.z}-{tile.y}-{tile.x}.sql"
        path.write_text(statement(tile, settings), encoding="utf-8")
        files.append(path)
    first, *rest = files
    extra = [arg for path in rest for arg in ("-f", str(path))]
    return run_pgbench(first, libpq_url(url), replace(knobs), SESSION_OPTIONS, folder, name,
                       extra_args=extra)


def wrk_paths(base: str, paths: list[str], knobs: Knobs, folder: Path, name: str) -> WrkResult:
    """wrk cycling through ``paths`` (each thread from its own start)."""
    script = folder / f"{name}.lua"
    listed = ",\n".join(f'  "{p}"' for p in paths)
    script.write_text(
        "local paths = {\n" + listed + "\n}\nlocal i = math.random(#paths)\n"
        "request = function()\n  i = i % #paths + 1\n"
        '  return wrk.format("GET", paths[i], {["Accept-Encoding"] = "identity"})\nend\n',
        encoding="utf-8")
    command = [*wrk_command(base + paths[0], knobs.seconds, knobs), "-s", str(script)]
    if knobs.warmup > 0:
        warm = [*wrk_command(base + paths[0], knobs.warmup, knobs), "-s", str(script)]
        subprocess.run(warm, check=True, stdout=subprocess.DEVNULL)
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    (folder / f"{name}.wrk").write_text(done.stdout, encoding="utf-8")
    return parse_wrk(done.stdout)


def mean_kb(base: str, paths: list[str]) -> float:
    sizes = [len(httpx.get(base + p, headers={"Accept-Encoding": "identity"},
                           timeout=120).content) for p in paths]
    return statistics.fmean(sizes) / 1024


def naive_kb(url: str, tiles: list[Tile], settings: Settings) -> float:
    engine = create_engine(url)
    with engine.connect() as conn:
        sizes = [len(conn.execute(text(statement(t, settings))).scalar_one() or b"")
                 for t in tiles]
    engine.dispose()
    return statistics.fmean(sizes) / 1024


def main() -> int:
    knobs = Knobs.from_env()
    per_zoom = int(os.environ.get("BENCH_TILES", "100"))
    url = ensure_database(TARGET_SIZE, knobs)
    settings = Settings(database_url=url)
    naive = settings.model_copy(update={"tile_parcel_aggregate_below_zoom": 0,
                                        "tile_feature_cap": 10**9})
    # pgbench scripts and logs, wrk's Lua and output, the servers' logs: kept with BENCH_KEEP=1
    folder = Path(tempfile.mkdtemp(prefix="gefis-bench-tiles-"))
    chosen = {z: tiles_of(url, z, per_zoom) for z in ZOOMS}
    results = {z: ZoomResult(z, len(chosen[z])) for z in ZOOMS}
    # per zoom the three cases back to back (the service idles while pgbench runs), so that a
    # drift of the shared machine between cases stays small
    with service(url, folder / "service.log") as base:
        for z in ZOOMS:
            say(f"z{z}: {len(chosen[z])} tiles: floor, naive floor, service")
            results[z].floor = pgbench_tiles(url, chosen[z], settings, knobs, folder,
                                              f"floor-z{z}")
            results[z].naive = pgbench_tiles(url, chosen[z], naive, knobs, folder,
                                              f"naive-z{z}")
            results[z].naive_kb = naive_kb(url, chosen[z], naive)
            paths = [f"/collections/parcels/tiles/WebMercatorQuad/{t.z}/{t.y}/{t.x}"
                     for t in chosen[z]]
            results[z].service = wrk_paths(base, paths, knobs, folder, f"service-z{z}")
            results[z].service_kb = mean_kb(base, paths)
    if knobs.tipg_venv is not None:
        with tipg_server(knobs.tipg_venv, libpq_url(url), knobs, folder) as base:
            for z in ZOOMS:
                paths = [f"/collections/{TIPG_COLLECTION}/tiles/WebMercatorQuad/{t.z}/{t.x}/"
                         f"{t.y}" for t in chosen[z]]
                say(f"z{z}: tipg")
                results[z].tipg = wrk_paths(base, paths, knobs, folder, f"tipg-z{z}")
                results[z].tipg_kb = mean_kb(base, paths)
    if knobs.keep:
        say(f"work folder kept: {folder}")
    else:
        shutil.rmtree(folder, ignore_errors=True)
    report = render(results, knobs, os.environ.get("GEFIS_WORKERS", "1"))
    knobs.results_dir.mkdir(parents=True, exist_ok=True)
    out = knobs.results_dir / f"{date.today().isoformat()}-tiles.md"
    out.write_text(report, encoding="utf-8")
    print(report)
    say(f"written {out}")
    return 0


def _rate(value: float | None) -> str:
    return "–" if value is None else f"{value:,.1f}"


def render(results: dict[int, ZoomResult], knobs: Knobs, workers: str) -> str:
    lines = [
        f"# Vector tiles, {TARGET_SIZE:,} parcels ({date.today().isoformat()})", "",
        f"wrk/pgbench: {knobs.connections} connections, {knobs.seconds} s per case after "
        f"{knobs.warmup} s warm-up; service processes: {workers}; distinct tiles per zoom, "
        "public caller, no cache. Floor: the service's own ST_AsMVT statement through "
        "pgbench; naive: every parcel of the tile with all tile fields (no aggregation, "
        "no cap); tipg: its tiles of the same table (all columns, no role rules).", "",
        "| zoom | tiles | service tiles/s | floor tiles/s | service ÷ floor | naive tiles/s | "
        "service ÷ naive | tipg tiles/s | service p99 ms | floor p99 ms | naive p99 ms | "
        "service KB | naive KB | tipg KB |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results.values():
        svc = r.service.rps if r.service else None
        floor = r.floor.tps if r.floor else None
        naive = r.naive.tps if r.naive else None
        lines.append(
            f"| {r.zoom} | {r.tiles} | {_rate(svc)} | {_rate(floor)} | "
            f"{'–' if not (svc and floor) else f'{svc / floor:.0%}'} | {_rate(naive)} | "
            f"{'–' if not (svc and naive) else f'{svc / naive:.1f}×'} | "
            f"{_rate(r.tipg.rps if r.tipg else None)} | "
            f"{_rate(r.service.p99_ms if r.service else None)} | "
            f"{_rate(r.floor.p99_ms if r.floor else None)} | "
            f"{_rate(r.naive.p99_ms if r.naive else None)} | {r.service_kb:,.1f} | "
            f"{r.naive_kb:,.1f} | {r.tipg_kb:,.1f} |")
    lines += ["", "Targets: z10 ≥ 5× the naive floor's tiles/s; z12–z14 ≥ 90 % of the floor; "
              "p99 ≤ 2× the floor's p99.", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
