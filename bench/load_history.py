"""A past for the benchmark's synthetic parcels: about five history rows per parcel, 2021–2026.

    .venv/bin/python bench/load_history.py --db gefis_bench          # after load_parcels.py

``bench/load_parcels.py`` inserts the synthetic parcels with the history trigger off, so they
have no past and a request ``at`` a past day finds none of them. This script gives every
synthetic parcel (external id ``BENCH-…``) a history that ends in its current state:

1. a plan, in one SQL statement: per parcel an insert day (2021–2022) and ``--changes``
   change days (spread evenly over the rest of the window up to :data:`LAST_CHANGE_DAY`),
   and the parcel's state before each change, walked back from today's state. Each change
   touches one attribute: the availability advances (``langfristig`` → ``mittelfristig`` →
   …), the marketing status moves (``verfuegbar`` → ``reserviert`` → ``verkauft``, or a
   reservation lapses, or the parcel is withdrawn), the restriction is reassessed (level and
   causes), or the price rises. The draws are hashes of the parcel's external id and the
   seed (no ``random()``), so a seed always gives the same plan;
2. the parcels are set to their first state (history and write triggers off, ``created_at``
   the insert day) and their ``insert`` rows are written to ``parcel_history`` as the
   trigger would have written them;
3. the changes are applied day by day, in order, as ordinary set-based ``UPDATE``\\ s with the
   triggers on: ``gefis.now`` (migration 0007) is set to the day, so the history trigger
   records the change at that time, its diff and the row after it, as for any write;
4. the database comment records the plan's fingerprint, in the same transaction: a later run
   with the same values does nothing. Then ``VACUUM (FULL, ANALYZE) parcels`` (the updates
   left four dead versions of every row) and ``VACUUM (ANALYZE) parcel_history``.

Every step runs in one transaction: the history is there completely or not at all. Today's
state of a parcel is the one ``load_parcels.py`` generated, except ``created_at`` (the insert
day), ``availability_assessed_on`` (the day its class last changed, else the insert day),
``updated_at`` and ``version``. History is append-only: a plan of other values (another seed
or generator) cannot be applied on top, so the database is then rebuilt from scratch
(``load_parcels.py``), which takes minutes.

200,000 parcels, 4 changes each: 1,000,000 history rows (about 2.4 GB with indexes: every
row keeps the whole parcel as JSON, geometry included), written in about 25 minutes on 2
cores (the triggers' JSON diff and the non-HOT updates of every parcel index dominate).
"""

from __future__ import annotations

import argparse
import hashlib
import inspect
import json
import sys
import time
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, pool, text

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app.db.session import set_actor  # noqa: E402
from app.domain.clock import LOCAL_ZONE  # noqa: E402
from app.settings import Settings  # noqa: E402
from bench import load_parcels  # noqa: E402
from bench.synthetic_parcels import sql_literal  # noqa: E402

#: The actor of the history rows written here (``load_parcels.py`` writes the demo as
#: ``bench-loader``).
ACTOR = "bench-history"
REASON = "synthetische Historie für den Benchmark"
#: Synthetic parcels get their insert day in this window ...
FIRST_INSERT_DAY, LAST_INSERT_DAY = date(2021, 1, 4), date(2022, 12, 30)
#: ... and their changes after it, up to this day (fixed, so the plan never depends on the
#: day it is built; it must lie in the past).
LAST_CHANGE_DAY = date(2026, 9, 30)
#: Local time of day the history records for a day's changes.
CHANGE_TIME = clock_time(10, 0)
PLAN = "bench_history_plan"
DEFAULT_CHANGES = 4

#: Share of each kind of change (the attribute a change touches).
CHANGE_KINDS = {"availability": 0.30, "marketing": 0.25, "restriction": 0.20, "price": 0.25}
#: Causes drawn when a reassessment finds a restriction where today there is none.
NEW_CAUSES = ("altlasten", "kampfmittel", "verkehrserschliessung", "medienerschliessung",
              "hochwasser")


def say(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def draw(seed: int, key: str, salt: str) -> str:
    """SQL of a uniform draw in [0, 1): a hash of ``seed`` and the SQL expressions ``key``
    and ``salt``.

    Independent of scan order and of ``random()``'s state, so a plan is reproducible row
    by row.
    """
    return (f"(('x' || substr(md5(concat_ws(':', {seed}, {key}, {salt})), 1, 8))"
            "::bit(32)::bigint / 4294967296.0)")


def plan_sql(seed: int, changes: int) -> str:
    """``SELECT`` of the plan: ``parcel_id, step, day`` and the state from that day on.

    Step 0 is the insert, step ``changes`` today's state; the state of step ``k - 1`` is
    the state of step ``k`` with change ``k`` undone.
    """
    kinds, acc = [], 0.0
    for kind, share in list(CHANGE_KINDS.items())[:-1]:
        acc += share
        kinds.append(f"WHEN k.r < {acc:.6f} THEN '{kind}'")
    drawn = f"CASE {' '.join(kinds)} ELSE '{list(CHANGE_KINDS)[-1]}' END"
    # A change that cannot have happened to the state (available land becoming available,
    # an unknown class or restriction becoming unknown) is a price change instead.
    kind_sql = """CASE
        WHEN k.drawn = 'marketing' AND s.marketing_status = 'verfuegbar' THEN 'price'
        WHEN k.drawn = 'availability' AND s.availability = 'unbekannt' THEN 'price'
        WHEN k.drawn = 'restriction' AND s.restriction_level = 'unbekannt' THEN 'price'
        ELSE k.drawn END"""
    causes = ", ".join(sql_literal(c) for c in NEW_CAUSES)
    cause = f"(ARRAY[{causes}])[1 + floor(d.c * {len(NEW_CAUSES)})::int]"
    key = "s.external_id"
    insert_days = (LAST_INSERT_DAY - FIRST_INSERT_DAY).days + 1
    return f"""
WITH RECURSIVE state AS (
    SELECT p.id AS parcel_id, p.external_id, {changes} AS step,
           DATE '{FIRST_INSERT_DAY}'
               + floor({draw(seed, 'p.external_id', "'insert'")} * {insert_days})::int AS day0,
           p.availability, p.available_from, p.marketing_status, p.restriction_level,
           p.restriction_causes, CAST(p.price_eur_m2 AS numeric) AS price_eur_m2
      FROM parcels p
     WHERE p.external_id LIKE 'BENCH-%'
    UNION ALL
    SELECT s.parcel_id, s.external_id, s.step - 1, s.day0,
           CASE WHEN d.kind = 'availability' THEN CASE s.availability
                    WHEN 'sofort' THEN 'kurzfristig' WHEN 'kurzfristig' THEN 'mittelfristig'
                    WHEN 'mittelfristig' THEN 'langfristig' ELSE 'unbekannt' END
                ELSE s.availability END,
           CASE WHEN d.kind = 'availability' THEN NULL ELSE s.available_from END,
           CASE WHEN d.kind = 'marketing' THEN CASE s.marketing_status
                    WHEN 'verkauft' THEN 'reserviert' WHEN 'reserviert' THEN 'verfuegbar'
                    ELSE 'verfuegbar' END
                ELSE s.marketing_status END,
           CASE WHEN d.kind = 'restriction' THEN CASE s.restriction_level
                    WHEN 'keine' THEN 'gering' WHEN 'gering' THEN 'erhoeht'
                    ELSE 'unbekannt' END
                ELSE s.restriction_level END,
           CASE WHEN d.kind <> 'restriction' THEN s.restriction_causes
                WHEN s.restriction_level = 'erhoeht' THEN CAST('{{}}' AS text[])
                WHEN cardinality(s.restriction_causes) > 0 THEN s.restriction_causes
                ELSE ARRAY[{cause}] END,
           CASE WHEN d.kind <> 'price' THEN s.price_eur_m2
                WHEN s.price_eur_m2 IS NULL OR s.price_eur_m2 < 1 THEN 14.50
                ELSE round(s.price_eur_m2 * 0.9, 2) END
      FROM state s
     CROSS JOIN LATERAL (SELECT {drawn} AS drawn, k.c FROM (
               SELECT {draw(seed, key, "'kind' || s.step")} AS r,
                      {draw(seed, key, "'cause' || s.step")} AS c) k) k
     CROSS JOIN LATERAL (SELECT {kind_sql} AS kind, k.c) d
     WHERE s.step > 0
)
SELECT parcel_id, step,
       CASE WHEN step = 0 THEN day0
            ELSE day0 + 1 + (step - 1) * span
                 + floor({draw(seed, 'external_id', "'day' || step")} * span)::int
       END AS day,
       availability, available_from, marketing_status, restriction_level, restriction_causes,
       price_eur_m2
  FROM state, LATERAL (SELECT (DATE '{LAST_CHANGE_DAY}' - day0) / {changes} AS span) w"""


_SET_FIRST_STATE = f"""
UPDATE parcels p
   SET availability = n.availability, available_from = n.available_from,
       marketing_status = n.marketing_status, restriction_level = n.restriction_level,
       restriction_causes = n.restriction_causes, price_eur_m2 = n.price_eur_m2,
       availability_assessed_on = n.day, version = 1,
       created_at = (n.day + CAST(:at_time AS time)) AT TIME ZONE :zone,
       updated_at = (n.day + CAST(:at_time AS time)) AT TIME ZONE :zone
  FROM {PLAN} n
 WHERE n.step = 0 AND p.id = n.parcel_id"""

# What the history trigger writes for an insert (migration 0007), stamped with the insert day.
_INSERT_ROWS = f"""
INSERT INTO parcel_history (parcel_id, operation, changed_at, actor, reason, changes, row_after)
SELECT p.id, 'insert', p.created_at, :actor, :reason, CAST('{{}}' AS jsonb), to_jsonb(p)
  FROM {PLAN} n JOIN parcels p ON p.id = n.parcel_id
 WHERE n.step = 0
 ORDER BY p.created_at, p.id"""

_APPLY_DAY = f"""
UPDATE parcels p
   SET availability = n.availability, available_from = n.available_from,
       marketing_status = n.marketing_status, restriction_level = n.restriction_level,
       restriction_causes = n.restriction_causes, price_eur_m2 = n.price_eur_m2
  FROM {PLAN} n
 WHERE n.day = :day AND n.step > 0 AND p.id = n.parcel_id"""


def fingerprint(seed: int, changes: int) -> dict[str, object]:
    """What decides whether the stored history is this plan's."""
    source = (plan_sql(seed, changes) + _SET_FIRST_STATE + _INSERT_ROWS + _APPLY_DAY
              + inspect.getsource(load_history) + str(CHANGE_TIME))
    return {"seed": seed, "changes": changes,
            "generator": hashlib.sha256(source.encode()).hexdigest()[:16]}


def stored_comment(conn: Connection) -> dict[str, object]:
    raw = conn.execute(text("SELECT shobj_description(oid, 'pg_database') FROM pg_database "
                            "WHERE datname = current_database()")).scalar_one()
    try:
        value = json.loads(raw or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def load_history(conn: Connection, seed: int, changes: int) -> int:
    """Write the plan's history (see the module docstring); returns the history rows added."""
    conn.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))
    conn.execute(text("SET LOCAL jit = off"))
    # The site check of marketed parcels would otherwise queue one event per changed row.
    conn.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))
    set_actor(conn, ACTOR, REASON)
    started = time.monotonic()
    conn.execute(text(f"CREATE TEMP TABLE {PLAN} ON COMMIT DROP AS {plan_sql(seed, changes)}"))
    conn.execute(text(f"CREATE INDEX ON {PLAN} (day, parcel_id)"))
    conn.execute(text(f"ANALYZE {PLAN}"))
    parcels = conn.execute(text(f"SELECT count(*) FROM {PLAN} WHERE step = 0")).scalar_one()
    say(f"  plan: {parcels} parcels, {changes} changes each "
        f"({time.monotonic() - started:.1f} s)")

    params = {"at_time": CHANGE_TIME.isoformat(), "zone": str(LOCAL_ZONE)}
    conn.execute(text("ALTER TABLE parcels DISABLE TRIGGER parcels_before_write, "
                      "DISABLE TRIGGER parcels_history"))
    conn.execute(text(_SET_FIRST_STATE), params)
    conn.execute(text("ALTER TABLE parcels ENABLE TRIGGER parcels_before_write, "
                      "ENABLE TRIGGER parcels_history"))
    added = conn.execute(text(_INSERT_ROWS), {"actor": ACTOR, "reason": REASON}).rowcount
    say(f"  first states and {added} insert rows ({time.monotonic() - started:.1f} s)")

    days = [d for (d,) in conn.execute(text(
        f"SELECT DISTINCT day FROM {PLAN} WHERE step > 0 ORDER BY day"))]
    clock = text("SELECT set_config('gefis.now', :at, true)")
    apply_day = text(_APPLY_DAY)
    applied, expected = 0, parcels * changes
    for number, day in enumerate(days, 1):
        at = datetime.combine(day, CHANGE_TIME, LOCAL_ZONE)
        conn.execute(clock, {"at": at.isoformat()})
        applied += conn.execute(apply_day, {"day": day}).rowcount
        if number % 250 == 0 or number == len(days):
            elapsed = time.monotonic() - started
            say(f"  {day}: {applied}/{expected} changes, {elapsed:.0f} s")
    conn.execute(text("SELECT set_config('gefis.now', '', true)"))
    added_updates = conn.execute(text(
        "SELECT count(*) FROM parcel_history WHERE operation = 'update' AND actor = :a"),
        {"a": ACTOR}).scalar_one()
    if applied != expected or added_updates != expected:
        raise SystemExit(f"applied {applied} changes and recorded {added_updates}, "
                         f"expected {expected}")
    return int(added + added_updates)


def vacuum(url: str) -> None:
    """The updates left dead row versions behind: rewrite parcels, map the history."""
    engine = create_engine(url, poolclass=pool.NullPool, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("VACUUM (FULL, ANALYZE) parcels"))
        conn.execute(text("VACUUM (ANALYZE) parcel_history"))
        conn.execute(text("ANALYZE"))
    engine.dispose()


def ensure_history(url: str, seed: int, changes: int) -> bool:
    """Give the synthetic parcels of database ``url`` their history unless they have it.

    Returns whether it was written now. Raises ``LookupError`` when the database holds the
    history of another plan (it must be rebuilt).
    """
    wanted = fingerprint(seed, changes)
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.begin() as conn:
            stored = stored_comment(conn)
            if stored.get("history") == wanted:
                say(f"history present ({changes} changes per parcel, seed {seed})")
                return False
            if stored.get("history") is not None or conn.execute(text(
                    "SELECT EXISTS (SELECT FROM parcel_history WHERE actor = :a)"),
                    {"a": ACTOR}).scalar_one():
                raise LookupError("the database holds the history of another plan")
            if date.today() <= LAST_CHANGE_DAY + timedelta(days=1):
                raise SystemExit(f"the plan's last change day {LAST_CHANGE_DAY} is not past")
            say(f"writing the history: {changes} changes per synthetic parcel, seed {seed}")
            started = time.monotonic()
            rows = load_history(conn, seed, changes)
            seconds = time.monotonic() - started
            say(f"history written: {rows} rows in {seconds:.0f} s")
            stored["history"] = wanted
            stored["history_rows"] = rows
            stored["history_s"] = round(seconds, 1)
            name = conn.execute(text("SELECT current_database()")).scalar_one()
            conn.execute(text(f"COMMENT ON DATABASE {load_parcels._ident(name)} IS "
                              + sql_literal(json.dumps(stored))))
    finally:
        engine.dispose()
    started = time.monotonic()
    vacuum(url)
    say(f"VACUUM FULL parcels, VACUUM parcel_history: {time.monotonic() - started:.0f} s")
    return True


def rebuild(server_url: str, name: str, n: int, seed: int) -> str:
    """Drop database ``name`` and build its parcels again (``load_parcels.py``)."""
    admin: Engine = load_parcels.admin_engine(server_url)
    load_parcels.recreate_database(admin, name)
    admin.dispose()
    return load_parcels.build(server_url, name, n, seed, keep_history=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200_000,
                        help="synthetic parcels (default 200000), as for load_parcels.py")
    parser.add_argument("--seed", type=int, default=load_parcels.DEFAULT_SEED,
                        help="random seed (positive), as for load_parcels.py")
    parser.add_argument("--changes", type=int, default=DEFAULT_CHANGES,
                        help=f"changes per parcel (default {DEFAULT_CHANGES})")
    parser.add_argument("--db", default=load_parcels.DEFAULT_DB,
                        help=f"database name (default {load_parcels.DEFAULT_DB})")
    parser.add_argument("--server-url", default=None,
                        help="any database URL of the server (default: DATABASE_URL or the "
                        "project-local cluster)")
    args = parser.parse_args(argv)
    if args.n < 0 or args.seed < 1 or args.changes < 1:
        parser.error("--n must be >= 0, --seed and --changes >= 1")
    server_url = args.server_url or Settings().database_url
    # The parcels first (reused while N and the seed are unchanged), then their past.
    url = load_parcels.build(server_url, args.db, args.n, args.seed, keep_history=False)
    try:
        ensure_history(url, args.seed, args.changes)
    except LookupError as exc:
        say(f"{exc}: rebuilding database {args.db}")
        url = rebuild(server_url, args.db, args.n, args.seed)
        ensure_history(url, args.seed, args.changes)
    print(url, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
