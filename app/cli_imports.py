"""``gefis import FILE``: the API's file import from the command line, with a progress bar.

Runs as the operator (``cli:<user>`` in the history) with an administrator's rights, or, with
``--district``, limited to those districts as an editor's key would be. The report (one
line per row and problem) can be written as CSV with ``--report``; it is also kept with the
import (``GET /api/v1/imports/{id}``).
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from sqlalchemy.exc import DBAPIError
from tqdm import tqdm

from app.cli_output import fail, say
from app.db.session import get_engine
from app.domain.errors import GefisError, InvalidInput
from app.domain.roles import Principal, Role
from app.services.imports.crs import import_srid
from app.services.imports.report import report_csv
from app.services.imports.service import (
    ImportOptions,
    ImportOutcome,
    ImportRejected,
    run_import,
    start_import,
)
from app.settings import get_settings

_WHAT = {"parcels": "Flächen", "land_sales": "Grundstücksverkäufe"}


def _principal(districts: list[str] | None) -> Principal:
    name = f"cli:{getpass.getuser()}"
    if districts:
        return Principal(Role.EDITOR, None, name, frozenset(districts))
    return Principal(Role.ADMIN, None, name)


def _mapping(pairs: list[str] | None) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for pair in pairs or []:
        column, sep, field = pair.partition("=")
        if not sep or not column or not field:
            raise InvalidInput.for_field("--map", f"„{pair}“: erwartet SPALTE=FELD", "invalid")
        mapping[column] = field
    return mapping


def _write_report(path: Path, import_id: int) -> None:
    with get_engine().connect() as conn, path.open("w", encoding="utf-8", newline="") as fh:
        fh.writelines(report_csv(conn, import_id))


def _summary(outcome: ImportOutcome, kind: str) -> str:
    c = outcome.counts
    parts = [f"{c.get(k, 0)} {label}" for k, label in (
        ("created", "neu"), ("updated", "geändert"), ("unchanged", "unverändert"),
        ("rejected", "abgelehnt"), ("missing", "fehlen in der Datei"),
        ("withdrawn", "zurückgezogen"), ("sales_linked", "mit Fläche verknüpft"))
        if k in c]
    return f"{_WHAT[kind]}: " + ", ".join(parts)


def cmd_import(args: argparse.Namespace) -> int:
    """Import a file; exit code 1 when it is rejected (the report says why)."""
    path = Path(args.file)
    if not path.is_file():
        return fail(InvalidInput.for_field("FILE", f"keine Datei {path}", "not_found"))
    settings = get_settings()
    engine = get_engine()
    try:
        options = ImportOptions(
            kind=args.kind, dry_run=args.dry_run, repair_geometry=args.repair_geometry,
            complete=args.complete, withdraw_missing=args.withdraw_missing,
            crs_srid=import_srid(args.crs), layer=args.layer, mapping=_mapping(args.map))
        principal = _principal(args.district)
        import_id = start_import(engine, principal, path.name, path.stat().st_size, options)
        with tqdm(unit=" Zeilen", file=sys.stderr, desc="lesen", disable=None) as bar:
            def progress(stage: str, rows: int) -> None:
                bar.set_description({"read": "lesen", "validated": "geprüft",
                                     "written": "geschrieben"}[stage])
                bar.update(rows - bar.n)

            outcome = run_import(engine, principal, path, path.name, options, settings,
                                 import_id, progress=progress)
    except ImportRejected as rejected:
        if args.report:
            _write_report(Path(args.report), rejected.outcome.import_id)
        for problem in rejected.outcome.problems[:20]:
            if problem["severity"] == "error":
                where = f"Zeile {problem['row_no']}" if problem["row_no"] else "Datei"
                print(f"[gefis]   {where}, {problem['field']}: {problem['message']}",
                      file=sys.stderr)
        say(f"Import {rejected.outcome.import_id} abgelehnt: "
            + _summary(rejected.outcome, args.kind) + "; nichts wurde geändert.")
        return 1
    except (GefisError, DBAPIError) as error:
        return fail(error)
    if args.report:
        _write_report(Path(args.report), outcome.import_id)
    verb = "geprüft (Probelauf, nichts geschrieben)" if args.dry_run else "importiert"
    say(f"Import {outcome.import_id} {verb}: " + _summary(outcome, args.kind))
    return 0


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``gefis import``."""
    command = sub.add_parser("import", help="import parcels or land sales from a GIS file")
    command.add_argument("file", help=".gpkg, .zip (Shapefile), .geojson, .fgb, .csv, .xlsx")
    command.add_argument("--kind", choices=list(_WHAT), default="parcels")
    command.add_argument("--dry-run", action="store_true", help="check only, write nothing")
    command.add_argument("--repair-geometry", action="store_true",
                         help="repair invalid polygons (reported) instead of rejecting")
    command.add_argument("--complete", action="store_true",
                         help="the file lists every marketed parcel of its districts")
    command.add_argument("--withdraw-missing", action="store_true",
                         help="with --complete: withdraw parcels the file does not list")
    command.add_argument("--crs", help="CRS of a file that declares none, e.g. EPSG:25832")
    command.add_argument("--layer", help="layer of a multi-layer file")
    command.add_argument("--map", action="append", metavar="SPALTE=FELD",
                         help="column mapping (repeatable)")
    command.add_argument("--district", action="append", metavar="AGS",
                         help="write only in these districts (as an editor; repeatable)")
    command.add_argument("--report", metavar="FILE.csv", help="write the report as CSV")
    command.set_defaults(func=cmd_import)
