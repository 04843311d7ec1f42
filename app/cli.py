"""Command line of GEFIS-MD: ``python -m app.cli <command>`` (or ``gefis <command>``).

Thin: parses arguments, calls a service, prints progress. Commands:

- ``migrate``: apply the database migrations (``alembic upgrade head``);
- ``load-demo [--if-empty]``: load the demo geodata (real boundaries, synthetic parcels);
- ``db-status``: print the database's PostGIS version and migration revision;
- ``api-key create|list|revoke``: manage the API keys (the plain key is printed only once);
- ``framework list|show|create|withdraw|set-default``: manage the demand frameworks
  (Orientierungsrahmen; a stored version never changes, a new one is created);
- ``export <layer[,layer…]> --format gpkg --out FILE``: layers as a GIS file, as the API's
  ``/api/v1/exports`` writes them, with a progress bar (``--staff``: as staff sees them).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.exc import DBAPIError
from tqdm import tqdm

from app import cli_boundaries, cli_imports, cli_raster
from app.cli_output import fail, say
from app.db.queries.frameworks import get_framework_record, list_framework_records
from app.db.session import get_engine, write_transaction
from app.db.status import database_status, migration_head
from app.domain.clock import today
from app.domain.cql2_input import parse_filter
from app.domain.crs import parse_ogc_crs
from app.domain.errors import BadRequest, GefisError
from app.domain.framework_input import parse_framework_document
from app.domain.ogc_params import parse_bbox
from app.domain.roles import KEY_ROLES, PUBLIC_VIEWER, STAFF
from app.services import frameworks as framework_service
from app.services.api_keys import ApiKeyInfo, create_api_key, list_api_keys, revoke_api_key
from app.services.demo_loader import database_is_empty, load_demo
from app.services.exports.formats import FORMATS, parse_export_name
from app.services.exports.options import FILTER_OPTIONS, parcel_filter_from_options
from app.services.exports.service import (
    DEFAULT_CRS,
    ExportRequest,
    export_crs,
    prepare_export,
    write_export,
)
from app.settings import PROJECT_ROOT, get_settings


def alembic_config(database_url: str | None = None) -> Config:
    """Alembic configuration of this project, optionally for another database URL."""
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    if database_url:
        config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def cmd_migrate(_: argparse.Namespace) -> int:
    """Apply all migrations up to the head."""
    say(f"Migrationen anwenden (Ziel: {migration_head()}) …")
    command.upgrade(alembic_config(get_settings().database_url), "head")
    say("Datenbankschema ist aktuell.")
    return 0


def cmd_load_demo(args: argparse.Namespace) -> int:
    """Load the demo data (idempotent); with ``--if-empty`` only into an empty database."""
    engine = get_engine()
    with write_transaction(engine, "demo-loader", "Demo-Daten geladen (synthetisch)") as conn:
        if args.if_empty and not database_is_empty(conn):
            say("Datenbank enthält bereits Daten: Demo-Daten werden nicht geladen.")
            return 0
        report = load_demo(conn, get_settings().geodata_dir, progress=say)
    for table, n in report.written.items():
        say(f"  {table}: {n} Zeilen geschrieben")
    if report.repaired_boundaries:
        say("  mit ST_MakeValid repariert: " + ", ".join(report.repaired_boundaries))
    say("Demo-Daten geladen. Standorte, Flächen, Verkäufe und Autobahnen sind SYNTHETISCH.")
    return 0


def cmd_db_status(_: argparse.Namespace) -> int:
    """Print PostGIS version and migration state; exit 1 when not at head."""
    with get_engine().connect() as conn:
        status = database_status(conn)
    print(f"PostgreSQL {status.postgres_version}, PostGIS {status.postgis_version}")
    print(f"migration: {status.revision} (head {migration_head()})")
    return 0 if status.up_to_date else 1


def cmd_api_key_create(args: argparse.Namespace) -> int:
    """Create an API key and print it once (only its hash is stored)."""
    try:
        with write_transaction(get_engine(), "cli", "API-Schlüssel angelegt") as conn:
            key_id, key = create_api_key(conn, args.name, args.role, args.district or (), "cli")
    except GefisError as error:
        return fail(error)
    say(f"API-Schlüssel {key_id} ({args.role}) für {args.name!r} angelegt:")
    print(key, flush=True)
    say("WARNUNG: Der Schlüssel wird nur jetzt angezeigt und nicht gespeichert "
         "(nur sein Hash). Jetzt sicher übergeben; verloren heißt: widerrufen und neu anlegen.")
    return 0


def _stamp(moment: datetime | None) -> str:
    """A timestamp in UTC to the minute, or ``-``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%MZ") if moment else "-"


def _print_table(rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
              .rstrip())


def _key_row(info: ApiKeyInfo) -> tuple[str, ...]:
    return (str(info.id), info.name, info.role, ",".join(info.districts) or "-",
            info.key_prefix, _stamp(info.created_at), _stamp(info.revoked_at))


def cmd_api_key_list(_: argparse.Namespace) -> int:
    """Print all API keys as a table (never the keys or their hashes)."""
    with get_engine().connect() as conn:
        keys = list_api_keys(conn)
    rows = [("id", "name", "role", "districts", "prefix", "created", "revoked")]
    rows += [_key_row(info) for info in keys]
    _print_table(rows)
    return 0


def cmd_api_key_revoke(args: argparse.Namespace) -> int:
    """Revoke an API key; exit 1 when it does not exist or was already revoked."""
    with write_transaction(get_engine(), "cli", "API-Schlüssel widerrufen") as conn:
        revoked = revoke_api_key(conn, args.id)
    if not revoked:
        print(f"[gefis] Fehler: kein aktiver API-Schlüssel mit id {args.id}.",
              file=sys.stderr, flush=True)
        return 1
    say(f"API-Schlüssel {args.id} widerrufen.")
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


def _ha(value: float) -> str:
    """Hectares in German notation: ``2.545,00 ha``."""
    return f"{value:,.2f}".replace(",", " ").replace(".", ",").replace(" ", ".") + " ha"


def cmd_framework_list(args: argparse.Namespace) -> int:
    """Print the demand frameworks (newest first) with their net ha per scenario."""
    with get_engine().connect() as conn:
        records = list_framework_records(conn, include_withdrawn=not args.active)
    rows = [("id", "name", "version", "period", "factor", "net ha (total/year)", "default",
             "withdrawn")]
    for record in records:
        f = record.framework
        figures = ", ".join(f"{s['key']} {_ha(s['total_net_ha'])}/{_ha(s['annual_net_ha'])}"
                            for s in framework_service.scenario_figures(f))
        rows.append((str(f.id), f.name, str(f.version),
                     f"{f.period.first_year}-{f.period.last_year}", f"{f.gross_factor:.2f}",
                     figures, "ja" if f.is_default else "-", _stamp(f.withdrawn_at)))
    _print_table(rows)
    return 0


def cmd_framework_show(args: argparse.Namespace) -> int:
    """Print one framework (as text, or as the API's JSON document with ``--json``)."""
    try:
        with get_engine().connect() as conn:
            record = get_framework_record(conn, args.id)
    except GefisError as error:
        return fail(error)
    if args.json:
        print(json.dumps(framework_service.framework_document(record), ensure_ascii=False,
                         indent=2))
        return 0
    f = record.framework
    state = ("Standard" if f.is_default else
             f"zurückgezogen {_stamp(f.withdrawn_at)}" if f.withdrawn_at else "verfügbar")
    print(f"Orientierungsrahmen {f.id}: {f.name}, Version {f.version} ({state})")
    print(f"  Stichtag {f.base_date.isoformat()}, Zeitraum {f.period.first_year}–"
          f"{f.period.last_year} ({f.period.years} Jahre), Brutto-Faktor {f.gross_factor:.2f}")
    for s in framework_service.scenario_figures(f):
        print(f"  {s['label']} ({s['key']}): netto {_ha(s['total_net_ha'])} "
              f"({_ha(s['annual_net_ha'])} pro Jahr), brutto {_ha(s['total_gross_ha'])}")
    for c in f.components:
        kind = "verortet" if c.located else "regional"
        values = ", ".join(f"{key} {_ha(c.net_ha(key))}" for key in f.scenario_keys())
        print(f"    {c.label} [{c.key}, {kind}]: {values}")
    return 0


def _write_framework(reason: str, action: str, args: argparse.Namespace) -> int:
    """Run one framework write in a transaction; report a refusal as the API would."""
    try:
        with write_transaction(get_engine(), "cli", reason) as conn:
            if action == "create":
                try:
                    document = json.loads(Path(args.file).read_text(encoding="utf-8"))
                except (OSError, ValueError) as exc:
                    raise BadRequest.for_field("--file", f"{args.file}: {exc}",
                                               "unreadable") from exc
                framework_id = framework_service.create_framework(
                    conn, parse_framework_document(document))
                if args.default:
                    framework_service.set_default_framework(conn, framework_id)
            else:
                framework_id = args.id
                if action == "withdraw":
                    framework_service.withdraw_framework(conn, framework_id)
                else:
                    framework_service.set_default_framework(conn, framework_id)
            f = get_framework_record(conn, framework_id).framework
    except (GefisError, DBAPIError) as error:
        return fail(error)
    done = {"create": "angelegt", "withdraw": "zurückgezogen",
            "set-default": "ist jetzt der Standard"}[action]
    say(f"Orientierungsrahmen {f.id} ({f.name}, Version {f.version}) {done}.")
    if action == "create" and f.is_default:
        say("Er ist jetzt der Standard für die Bilanz.")
    return 0


def cmd_framework_create(args: argparse.Namespace) -> int:
    """Store a framework document (JSON file) as a new version."""
    return _write_framework("Orientierungsrahmen angelegt", "create", args)


def cmd_framework_withdraw(args: argparse.Namespace) -> int:
    """Withdraw a framework (it stays readable)."""
    return _write_framework("Orientierungsrahmen zurückgezogen", "withdraw", args)


def cmd_framework_set_default(args: argparse.Namespace) -> int:
    """Make a framework the default the balance uses."""
    return _write_framework("Standard-Orientierungsrahmen gesetzt", "set-default", args)


def _add_framework_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    framework = sub.add_parser("framework", help="manage demand frameworks")
    actions = framework.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="list frameworks, newest first")
    listing.add_argument("--active", action="store_true", help="leave withdrawn ones out")
    listing.set_defaults(func=cmd_framework_list)
    show = actions.add_parser("show", help="show one framework")
    show.add_argument("id", type=int, help="id of the framework (see 'framework list')")
    show.add_argument("--json", action="store_true", help="print the API's JSON document")
    show.set_defaults(func=cmd_framework_show)
    create = actions.add_parser("create", help="store a framework document as a new version")
    create.add_argument("--file", required=True, metavar="F.json",
                        help="framework document (shape of demand_framework_2038.json)")
    create.add_argument("--default", action="store_true", help="also make it the default")
    create.set_defaults(func=cmd_framework_create)
    for name, func, text_ in (("withdraw", cmd_framework_withdraw, "withdraw a framework"),
                              ("set-default", cmd_framework_set_default,
                               "make a framework the default")):
        action = actions.add_parser(name, help=text_)
        action.add_argument("id", type=int, help="id of the framework (see 'framework list')")
        action.set_defaults(func=func)


def _export_request(args: argparse.Namespace) -> ExportRequest:
    layers, fmt = parse_export_name(f"{args.layers}.{args.format}")
    parcel_filter = parcel_filter_from_options(
        {o.param: getattr(args, o.param) for o in FILTER_OPTIONS})
    return ExportRequest(
        layers, fmt, export_crs(args.crs), parcel_filter=parcel_filter,
        bbox=None if args.bbox is None else parse_bbox(args.bbox),
        bbox_crs=None if args.bbox_crs is None else parse_ogc_crs(args.bbox_crs,
                                                                 field="bbox-crs"),
        filter=parse_filter(args.filter, args.filter_lang))


def cmd_export(args: argparse.Namespace) -> int:
    """Write layers as a GIS file (``--out``), with a progress bar on a terminal."""
    out = Path(args.out).resolve()
    try:
        if not out.parent.is_dir():
            raise BadRequest.for_field("--out", f"no folder {out.parent}", "no_folder")
        request = _export_request(args)
        with get_engine().connect() as conn:
            conn.exec_driver_sql("SET TRANSACTION READ ONLY")
            prepared = prepare_export(conn, request, STAFF if args.staff else PUBLIC_VIEWER,
                                      get_settings(), today())
            folder = Path(tempfile.mkdtemp(prefix=".gefis-export-", dir=out.parent))
            try:
                with tqdm(total=prepared.total, unit=" Objekte", file=sys.stderr,
                          desc=", ".join(request.layers), disable=None) as bar:
                    path = write_export(conn, prepared, folder, progress=bar.update)
                os.replace(path, out)
            finally:
                shutil.rmtree(folder, ignore_errors=True)
    except (GefisError, DBAPIError) as error:
        return fail(error)
    say(f"{prepared.total} Objekte ({', '.join(request.layers)}) als {request.format.title} "
         f"in EPSG:{request.crs.srid} nach {out} geschrieben.")
    return 0


def _add_export_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    export = sub.add_parser("export", help="write layers as a GIS file (GeoPackage, …)")
    export.add_argument("layers", help="parcels, sites, districts, land_sales (staff); "
                                       "several comma-separated in one GeoPackage")
    export.add_argument("--format", required=True, choices=list(FORMATS))
    export.add_argument("--out", required=True, metavar="FILE", help="file to write")
    export.add_argument("--crs", default=DEFAULT_CRS, help="EPSG:n or OGC URI (default "
                                                           f"{DEFAULT_CRS})")
    export.add_argument("--staff", action="store_true",
                        help="as staff sees them (every parcel and field, land sales); "
                             "default: as the public")
    export.add_argument("--bbox", help="minx,miny,maxx,maxy in --bbox-crs (default CRS84)")
    export.add_argument("--bbox-crs", dest="bbox_crs")
    export.add_argument("--filter", help="CQL2 filter (one layer only)")
    export.add_argument("--filter-lang", dest="filter_lang", help="cql2-text (default) or "
                                                                  "cql2-json")
    for option in FILTER_OPTIONS:
        export.add_argument(option.flag, dest=option.param, help=option.help,
                            action="append" if option.repeated else "store")
    export.set_defaults(func=cmd_export)


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
    _add_framework_commands(sub)
    _add_export_command(sub)
    cli_imports.add_commands(sub)
    cli_boundaries.add_commands(sub)
    cli_raster.add_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point."""
    args = build_parser().parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
