"""Command line of GEFIS-MD: ``python -m app.cli <command>`` (or ``gefis <command>``).

Thin: parses arguments, calls a service, prints progress. Commands:

- ``migrate``: apply the database migrations (``alembic upgrade head``);
- ``load-demo [--if-empty]``: load the demo geodata (real boundaries, synthetic parcels);
- ``db-status``: print the database's PostGIS version and migration revision.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from alembic import command
from alembic.config import Config

from app.db.session import get_engine, write_transaction
from app.db.status import database_status, migration_head
from app.services.demo_loader import database_is_empty, load_demo
from app.settings import PROJECT_ROOT, get_settings


def _say(message: str) -> None:
    print(f"[gefis] {message}", flush=True)


def alembic_config(database_url: str | None = None) -> Config:
    """Alembic configuration of this project, optionally for another database URL."""
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    if database_url:
        config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def cmd_migrate(_: argparse.Namespace) -> int:
    """Apply all migrations up to the head."""
    _say(f"Migrationen anwenden (Ziel: {migration_head()}) …")
    command.upgrade(alembic_config(get_settings().database_url), "head")
    _say("Datenbankschema ist aktuell.")
    return 0


def cmd_load_demo(args: argparse.Namespace) -> int:
    """Load the demo data (idempotent); with ``--if-empty`` only into an empty database."""
    engine = get_engine()
    with write_transaction(engine, "demo-loader", "Demo-Daten geladen (synthetisch)") as conn:
        if args.if_empty and not database_is_empty(conn):
            _say("Datenbank enthält bereits Daten: Demo-Daten werden nicht geladen.")
            return 0
        report = load_demo(conn, get_settings().geodata_dir, progress=_say)
    for table, n in report.written.items():
        _say(f"  {table}: {n} Zeilen geschrieben")
    if report.repaired_boundaries:
        _say("  mit ST_MakeValid repariert: " + ", ".join(report.repaired_boundaries))
    _say("Demo-Daten geladen. Standorte, Flächen, Verkäufe und Autobahnen sind SYNTHETISCH.")
    return 0


def cmd_db_status(_: argparse.Namespace) -> int:
    """Print PostGIS version and migration state; exit 1 when not at head."""
    with get_engine().connect() as conn:
        status = database_status(conn)
    print(f"PostgreSQL {status.postgres_version}, PostGIS {status.postgis_version}")
    print(f"migration: {status.revision} (head {migration_head()})")
    return 0 if status.up_to_date else 1


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with all sub-commands."""
    parser = argparse.ArgumentParser(prog="gefis", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)
    demo = sub.add_parser("load-demo", help="load the demo geodata (idempotent)")
    demo.add_argument("--if-empty", action="store_true", help="only when no data is stored yet")
    demo.set_defaults(func=cmd_load_demo)
    sub.add_parser("db-status", help="show database versions").set_defaults(func=cmd_db_status)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point."""
    args = build_parser().parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
