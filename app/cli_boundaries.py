"""Command-line commands for boundaries: ``gefis import-boundaries FILE``.

Imports a new Gebietsstand of the region's districts and municipalities from an official
boundary file (BKG VG250 or alike: GeoPackage, or ZIP of Shapefiles; any EPSG CRS) as the
API's ``POST /api/v1/boundaries/imports`` does (:mod:`app.services.boundary_import`), in one
transaction, and prints the report in German. A file that cannot be used changes nothing
and ends the command with exit code 1 and the reason.
"""

from __future__ import annotations

import argparse
import json
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.exc import DBAPIError

from app.cli_output import fail, say
from app.db.session import get_engine, write_transaction
from app.domain.errors import BadRequest, GefisError
from app.services.boundary_import import BoundaryImportOptions, import_boundaries

#: Entries of a list printed in full; longer lists are cut (``--json`` prints everything).
LISTED = 20


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} ist kein Datum JJJJ-MM-TT") from None


def cmd_import_boundaries(args: argparse.Namespace) -> int:
    """Import a boundary file; prints the report (exit code 1 when the file is refused)."""
    path = Path(args.file)
    options = BoundaryImportOptions(
        file_name=path.name, dry_run=args.dry_run, source=args.source,
        valid_from=args.valid_from, districts_layer=args.districts_layer,
        municipalities_layer=args.municipalities_layer)
    try:
        if not path.is_file():
            raise BadRequest.for_field("FILE", f"keine Datei {path}", "no_file")
        with write_transaction(get_engine(), "cli", "Gebietsstand importiert") as conn:
            report = import_boundaries(conn, path, options)
    except (GefisError, DBAPIError) as error:
        return fail(error)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2), flush=True)
    else:
        for line in report_lines(report):
            say(line)
    return 0


def _names(entries: list[dict[str, Any]], describe: Any) -> list[str]:
    lines = [f"    {describe(e)}" for e in entries[:LISTED]]
    if len(entries) > LISTED:
        lines.append(f"    … und {len(entries) - LISTED} weitere")
    return lines


def report_lines(report: dict[str, Any]) -> list[str]:
    """The report of a boundary import as German lines."""
    file = report["file"]
    lines = [f"{file['name']} ({file['format']}), Gebietsstand ab "
             f"{date.fromisoformat(report['valid_from']):%d.%m.%Y}, Quelle: {report['source']}"]
    for level, label in (("districts", "Kreise"), ("municipalities", "Gemeinden")):
        counts = report[level]["counts"]
        lines.append(
            f"  {label}: {counts['unchanged']} unverändert, {counts['changed']} geändert, "
            f"{counts['inserted']} neu, {counts['merged']} zusammengelegt; "
            f"{counts['ignored_outside_region']} außerhalb der Region ignoriert, "
            f"{counts['skipped_not_land']} Wasser-/Küstenteile übersprungen")
        lines += _names(report[level]["changed"], lambda e: f"geändert: {e['ags']} {e['name']}")
        lines += _names(report[level]["inserted"], lambda e: f"neu: {e['ags']} {e['name']}")
        lines += _names(report[level]["merged"], lambda e: (
            f"zusammengelegt: {e['ags']} {e['name']} → {e['successor_ags']} "
            f"{e['successor_name']} ({e['share_of_area']:.1%} der Fläche)"))
    if report["repaired"]:
        lines.append("  mit ST_MakeValid repariert: " + ", ".join(report["repaired"]))
    parcels = report["parcels"]
    lines.append(f"  Flächen neu zugeordnet: {parcels['count']}")
    lines += _names(parcels["changes"],
                    lambda e: f"{e['from']} → {e['to']}: {e['count']} Flächen")
    lines.append(f"  Standorte neu zugeordnet: {len(report['sites'])}, Standorte mit "
                 f"geänderten Partnergemeinden: {len(report['site_partners'])}, "
                 f"Grundstücksverkäufe neu zugeordnet: {len(report['land_sales'])}")
    if report["dry_run"]:
        lines.append("Probelauf: nichts wurde geändert.")
    elif report["import_id"] is None:
        lines.append("Keine Änderungen: der Gebietsstand ist bereits gespeichert.")
    else:
        lines.append(f"Gebietsstand importiert (Grenzimport {report['import_id']}).")
    return lines


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the commands of this module on the ``gefis`` parser."""
    command = sub.add_parser(
        "import-boundaries", help="import district and municipality boundaries (VG250)")
    command.add_argument("file", metavar="FILE",
                         help="GeoPackage (.gpkg) or ZIP of Shapefiles (.zip), any EPSG CRS")
    command.add_argument("--dry-run", dest="dry_run", action="store_true",
                         help="check and report only; nothing is changed")
    command.add_argument("--source", metavar="TEXT",
                         help="source label stored with the boundaries")
    command.add_argument("--valid-from", dest="valid_from", metavar="YYYY-MM-DD", type=_date,
                         help="first day of the new Gebietsstand (default: the date the "
                              "source names as 'Gebietsstand DD.MM.YYYY', else today)")
    command.add_argument("--districts-layer", dest="districts_layer", metavar="NAME",
                         help="layer of the districts (default VG250_KRS)")
    command.add_argument("--municipalities-layer", dest="municipalities_layer",
                         metavar="NAME", help="layer of the municipalities (default VG250_GEM)")
    command.add_argument("--json", action="store_true", help="print the report as JSON")
    command.set_defaults(func=cmd_import_boundaries)
