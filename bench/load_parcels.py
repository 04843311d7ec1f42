"""The benchmark database: its own database on the cluster, demo data plus N synthetic parcels.

    .venv/bin/python bench/load_parcels.py --n 200000        # prints the bench DATABASE_URL

Steps (each idempotent):

1. the database ``--db`` (default ``gefis_bench``) on the server of ``DATABASE_URL`` (the
   project-local cluster by default) is created and migrated (``alembic upgrade head``);
2. the demo data is loaded (:func:`app.services.demo_loader.load_demo`: boundaries,
   infrastructure, sites, 630 demo parcels, sales, the demand framework);
3. N synthetic parcels (``is_synthetic``, external ids ``BENCH-0000001`` …) are generated
   in SQL, in one ordered ``SELECT`` into a temporary table, then inserted in batches of
   20,000 (progress on stderr). Each is a seeded (``setseed``, ``ST_GeneratePoints(…,
   seed)``) rotated rectangle around a random point of a site, points drawn in proportion to
   the sites' areas, clipped to the site: every parcel lies inside an existing site and thus
   in the region. Attributes are drawn from the vocabularies of :mod:`app.domain.vocab` with
   the weights below (roughly the demo's mix), areas log-normal around 4 ha like the demo's;
4. ``VACUUM ANALYZE``, then the database comment records N, the seed and a fingerprint of
   the generator: a later run with the same values reuses the database as it is (only the
   migrations are brought up to date); any other value drops and rebuilds it.

The parcels' triggers stay on, so district, municipality and the motorway/airport distances
are derived by the database exactly as for parcels written through the API, except the
history trigger ``parcels_history``: it is disabled during the bulk insert (``--history``
keeps it). That is acceptable for this benchmark database only; its 200,000 history rows of
``row_after`` JSON would be written by the API but are read by no benchmarked request.
"""

from __future__ import annotations

import argparse
import hashlib
import inspect
import json
import math
import sys
import time
from pathlib import Path

from alembic import command
from sqlalchemy import Connection, Engine, create_engine, make_url, pool, text

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app.cli import alembic_config  # noqa: E402
from app.db.session import set_actor, write_transaction  # noqa: E402
from app.services.demo_loader import load_demo  # noqa: E402
from app.settings import Settings  # noqa: E402
from bench.synthetic_parcels import (  # noqa: E402
    BATCH,
    COLUMNS,
    STAGING,
    generator_sql,
    sql_literal,
)

DEFAULT_DB = "gefis_bench"
DEFAULT_SEED = 11
ACTOR = "bench-loader"


def say(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def fingerprint(n: int, seed: int) -> dict[str, object]:
    """What decides whether an existing bench database can be reused."""
    source = generator_sql() + inspect.getsource(load_synthetic_parcels)
    return {"n": n, "seed": seed,
            "generator": hashlib.sha256(source.encode()).hexdigest()[:16]}


def database_url(server_url: str, name: str) -> str:
    """``server_url`` with its database replaced by ``name`` (psycopg2 driver)."""
    url = make_url(Settings(database_url=server_url).database_url).set(database=name)
    return url.render_as_string(hide_password=False)


def admin_engine(server_url: str) -> Engine:
    return create_engine(database_url(server_url, "postgres"), poolclass=pool.NullPool,
                         isolation_level="AUTOCOMMIT")


def stored_fingerprint(admin: Engine, name: str) -> dict[str, object] | None:
    """The comment of database ``name`` as JSON, ``{}`` without one, None if it is missing."""
    with admin.connect() as conn:
        row = conn.execute(text(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = :n"),
            {"n": name}).first()
    if row is None:
        return None
    try:
        stored: dict[str, object] = json.loads(row[0] or "{}")
    except ValueError:
        return {}
    return stored


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def recreate_database(admin: Engine, name: str) -> None:
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {_ident(name)} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {_ident(name)}"))


def load_synthetic_parcels(conn: Connection, n: int, seed: int, keep_history: bool) -> None:
    """Insert ``n`` synthetic parcels (see the module docstring), reporting progress.

    The rows are drawn into a temporary table in one ordered statement (so a seed always
    gives the same rows), then inserted in batches through the parcels' triggers.
    """
    conn.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))  # one ordered scan
    conn.execute(text("SET LOCAL jit = off"))  # row estimates are far off: JIT took 10 s
    set_actor(conn, ACTOR, "synthetische Benchmark-Flächen")
    # setseed wants [-1, 1]; ST_GeneratePoints a positive integer seed.
    conn.execute(text("SELECT setseed(:s)"), {"s": math.fmod(seed * 0.000123457, 1.0)})
    conn.execute(text(f"CREATE TEMP TABLE {STAGING} ON COMMIT DROP AS {generator_sql()}"),
                 {"n": n, "seed": seed})
    if not keep_history:
        conn.execute(text("ALTER TABLE parcels DISABLE TRIGGER parcels_history"))
    columns = ", ".join(COLUMNS)
    insert = text(f"INSERT INTO parcels ({columns}) SELECT {columns} FROM {STAGING} "
                  "WHERE i > :low AND i <= :high ORDER BY i")
    started, inserted = time.monotonic(), 0
    for low in range(0, n, BATCH):
        inserted += conn.execute(insert, {"low": low, "high": low + BATCH}).rowcount
        elapsed = time.monotonic() - started
        say(f"  {inserted}/{n} parcels, {inserted / max(elapsed, 1e-9):.0f}/s, "
            f"about {(n - inserted) * elapsed / max(inserted, 1):.0f} s to go")
    # The deferred commit-time checks (parcels_site_active) run now: a table with pending
    # trigger events cannot be altered.
    conn.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))
    if not keep_history:
        conn.execute(text("ALTER TABLE parcels ENABLE TRIGGER parcels_history"))
    if inserted != n:
        raise SystemExit(f"generated {inserted} parcels instead of {n}")


def revision(url: str) -> str | None:
    """The database's alembic revision."""
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT max(version_num) FROM alembic_version")).scalar()
    finally:
        engine.dispose()


def analyse(url: str, vacuum: bool = False) -> None:
    """Fresh planner statistics (and, with ``vacuum``, visibility maps)."""
    engine = create_engine(url, poolclass=pool.NullPool, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("VACUUM (ANALYZE)" if vacuum else "ANALYZE"))
    engine.dispose()


def build(server_url: str, name: str, n: int, seed: int, keep_history: bool) -> str:
    """Make sure database ``name`` holds the demo and exactly ``n`` synthetic parcels."""
    url = database_url(server_url, name)
    admin = admin_engine(server_url)
    wanted = fingerprint(n, seed)
    stored = stored_fingerprint(admin, name)
    if stored is not None and {k: stored.get(k) for k in wanted} == wanted:
        say(f"reusing database {name} ({n} synthetic parcels, seed {seed})")
        before = revision(url)
        command.upgrade(alembic_config(url), "head")
        if revision(url) != before:
            # New indexes (expressions too) want fresh statistics, a rewritten table a new
            # visibility map (index-only scans read the heap until it is set).
            say(f"migrated {before} → {revision(url)}; VACUUM ANALYZE")
            analyse(url, vacuum=True)
        admin.dispose()
        return url

    say(f"creating database {name}" + (" (its parameters changed)" if stored is not None else ""))
    recreate_database(admin, name)
    timings: dict[str, float] = {}
    started = time.monotonic()
    command.upgrade(alembic_config(url), "head")
    settings = Settings(database_url=url)
    engine = create_engine(settings.database_url, poolclass=pool.NullPool)
    with write_transaction(engine, ACTOR, "Demo-Daten für den Benchmark") as conn:
        load_demo(conn, settings.geodata_dir, progress=lambda m: say("  demo: " + m))
    timings["migrate_demo_s"] = time.monotonic() - started
    say(f"migrated and demo loaded in {timings['migrate_demo_s']:.1f} s")

    started = time.monotonic()
    with engine.begin() as conn:
        load_synthetic_parcels(conn, n, seed, keep_history)
    timings["synthetic_s"] = time.monotonic() - started
    say(f"inserted {n} synthetic parcels in {timings['synthetic_s']:.1f} s "
        f"({n / max(timings['synthetic_s'], 1e-9):.0f}/s)")
    engine.dispose()

    started = time.monotonic()
    analyse(url, vacuum=True)
    timings["vacuum_analyze_s"] = time.monotonic() - started
    say(f"VACUUM ANALYZE in {timings['vacuum_analyze_s']:.1f} s")

    stored_value = json.dumps({
        **wanted, "history_trigger_during_load": keep_history,
        **{k: round(v, 1) for k, v in timings.items()},
        "built_at": time.strftime("%Y-%m-%d %H:%M %Z"), "built_at_epoch": int(time.time()),
    })
    with admin.connect() as conn:
        conn.execute(text(f"COMMENT ON DATABASE {_ident(name)} IS " + sql_literal(stored_value)))
    admin.dispose()
    return url


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200_000, help="synthetic parcels (default 200000)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed (positive)")
    parser.add_argument("--db", default=DEFAULT_DB, help=f"database name (default {DEFAULT_DB})")
    parser.add_argument("--server-url", default=None,
                        help="any database URL of the server (default: DATABASE_URL or the "
                        "project-local cluster)")
    parser.add_argument("--history", action="store_true",
                        help="keep the history trigger on during the bulk insert (slower)")
    args = parser.parse_args(argv)
    if args.n < 0 or args.seed < 1:
        parser.error("--n must be >= 0 and --seed >= 1")
    server_url = args.server_url or Settings().database_url
    print(build(server_url, args.db, args.n, args.seed, args.history), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
