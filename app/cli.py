"""Command line of GEFIS-MD: ``python -m app.cli <command>`` (or ``gefis <command>``).

Thin: parses arguments, calls a service, prints progress. Commands:

- ``migrate``: apply the database migrations (``alembic upgrade head``);
- ``load-demo [--if-empty]``: load the demo geodata (real boundaries, synthetic parcels);
- ``db-status``: print the database's PostGIS version and migration revision;
- ``api-key create|list|revoke``: manage the API keys (the plain key is printed only once).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import UTC, datetime

from alembic import command
from alembic.config import Config

from app.db.session import get_engine, write_transaction
from app.db.status import database_status, migration_head
from app.domain.errors import GefisError
from app.domain.roles import KEY_ROLES
from app.services.api_keys import ApiKeyInfo, create_api_key, list_api_keys, revoke_api_key
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


def _fail(error: GefisError) -> int:
    reasons = "; ".join(f"{p.field}: {p.reason}" for p in error.problems) or error.detail
    print(f"[gefis] Fehler: {reasons}", file=sys.stderr, flush=True)
    return 1


def cmd_api_key_create(args: argparse.Namespace) -> int:
    """Create an API key and print it once (only its hash is stored)."""
    try:
        with write_transaction(get_engine(), "cli", "API-Schlüssel angelegt") as conn:
            key_id, key = create_api_key(conn, args.name, args.role, args.district or (), "cli")
    except GefisError as error:
        return _fail(error)
    _say(f"API-Schlüssel {key_id} ({args.role}) für {args.name!r} angelegt:")
    print(key, flush=True)
    _say("WARNUNG: Der Schlüssel wird nur jetzt angezeigt und nicht gespeichert "
         "(nur sein Hash). Jetzt sicher übergeben; verloren heißt: widerrufen und neu anlegen.")
    return 0


def _stamp(moment: datetime | None) -> str:
    """A timestamp in UTC to the minute, or ``-``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%MZ") if moment else "-"


def _key_row(info: ApiKeyInfo) -> tuple[str, ...]:
    return (str(info.id), info.name, info.role, ",".join(info.districts) or "-",
            info.key_prefix, _stamp(info.created_at), _stamp(info.revoked_at))


def cmd_api_key_list(_: argparse.Namespace) -> int:
    """Print all API keys as a table (never the keys or their hashes)."""
    with get_engine().connect() as conn:
        keys = list_api_keys(conn)
    rows = [("id", "name", "role", "districts", "prefix", "created", "revoked")]
    rows += [_key_row(info) for info in keys]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
              .rstrip())
    return 0


def cmd_api_key_revoke(args: argparse.Namespace) -> int:
    """Revoke an API key; exit 1 when it does not exist or was already revoked."""
    with write_transaction(get_engine(), "cli", "API-Schlüssel widerrufen") as conn:
        revoked = revoke_api_key(conn, args.id)
    if not revoked:
        print(f"[gefis] Fehler: kein aktiver API-Schlüssel mit id {args.id}.",
              file=sys.stderr, flush=True)
        return 1
    _say(f"API-Schlüssel {args.id} widerrufen.")
    return 0


def _add_api_key_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    api_key = sub.add_parser("api-key", help="manage API keys")
    actions = api_key.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="create a key (printed once)")
    create.add_argument("--name", required=True, help="who or what the key is for")
    create.add_argument("--role", required=True, choices=[str(r) for r in KEY_ROLES])
    create.add_argument("--district", action="append", metavar="AGS",
                        help="5-digit district AGS an editor may write (repeatable)")
    create.set_defaults(func=cmd_api_key_create)
    actions.add_parser("list", help="list keys").set_defaults(func=cmd_api_key_list)
    revoke = actions.add_parser("revoke", help="revoke a key")
    revoke.add_argument("id", type=int, help="id of the key (see 'api-key list')")
    revoke.set_defaults(func=cmd_api_key_revoke)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with all sub-commands."""
    parser = argparse.ArgumentParser(prog="gefis", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)
    demo = sub.add_parser("load-demo", help="load the demo geodata (idempotent)")
    demo.add_argument("--if-empty", action="store_true", help="only when no data is stored yet")
    demo.set_defaults(func=cmd_load_demo)
    sub.add_parser("db-status", help="show database versions").set_defaults(func=cmd_db_status)
    _add_api_key_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point."""
    args = build_parser().parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
