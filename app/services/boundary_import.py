"""Boundary import: a new Gebietsstand of the region's districts and municipalities.

Reads an official boundary file (:mod:`app.services.boundary_files`: GeoPackage or zipped
Shapefiles, any EPSG CRS), takes every polygon through the one intake
(:func:`~app.services.geometry_input.intake_polygons`: to EPSG:25832, repaired if invalid,
not located), and matches features to the stored rows by AGS. The region is the stored
districts: features of other districts are ignored (and counted).

- **Districts**: every stored district must be in the file; a changed geometry replaces
  the stored one. Names and the other attributes (from the study) are kept.
- **Municipalities**: new AGS are inserted; a changed name or geometry replaces the stored
  one. A stored municipality missing from the file whose area lies at least
  :data:`MERGE_MIN_SHARE` within one new municipality is **merged** into it: sites, site
  partners (shares of one site added up) and land sales pointing at it are re-pointed to the
  successor, the merger is recorded in ``municipality_mergers`` and the row is deleted.
  A missing municipality without such a successor rejects the file.
- **Parcels** touching an old or new geometry of a written municipality are located again
  by their geometry (``gefis_locate_municipality``: the largest share of area), so their
  municipality and district follow the new boundaries. A parcel that would lie outside
  the region rejects the file (409): nothing is written, the parcels are named.

Every replaced or deleted boundary state is kept in ``boundary_versions`` (migration 0019)
with its validity; parcel changes land in ``parcel_history`` with the reason
"Gebietsstand DD.MM.YYYY: Gemeinde <old AGS> → <new AGS>". An import that changed
something is recorded in ``boundary_imports`` with its report.

All or nothing: the import runs in a savepoint of the caller's transaction, rolled back on
any problem, and always for a dry run (which answers with the same report).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from app.db.queries import boundaries as sql
from app.db.queries.parcels.relocate import move_parcels, relocations, repoint_municipality
from app.domain.clock import today
from app.domain.errors import Conflict, FieldProblem, InvalidInput, NotFound
from app.services.boundaries import BOUNDARY_LIMITS, gebietsstand
from app.services.boundary_files import BoundaryLayer, Level, open_boundary_file
from app.services.geometry_input import intake_polygons

#: A missing municipality merges into the new one holding at least this share of its area
#: (VG250 is generalised to 1:250,000; editions differ slightly along the boundaries).
MERGE_MIN_SHARE = 0.95
#: Vertices closer than this (metres, EPSG:25832) count as unchanged (CRS round trips).
SAME_VERTEX_TOLERANCE_M = 0.01
#: Parcels listed by id in a refusal's detail (all are in the problem).
LISTED_PARCELS = 20
#: Statement time limit of an import (ms): locating every parcel near a changed boundary
#: again takes longer than a request's statements may (``GEFIS_DB_STATEMENT_TIMEOUT_MS``).
IMPORT_STATEMENT_TIMEOUT_MS = 600_000


@dataclass(frozen=True)
class BoundaryImportOptions:
    """How to import a file: its name (for the report and the default source label),
    whether to only try (``dry_run``), the source label and the first day of the new
    Gebietsstand (``valid_from``; default: the date the label names as "Gebietsstand
    DD.MM.YYYY", else today), and layer names other than VG250's."""

    file_name: str
    dry_run: bool = False
    source: str | None = None
    valid_from: date | None = None
    districts_layer: str | None = None
    municipalities_layer: str | None = None

    def dated(self) -> tuple[str, date]:
        """The source label and the first day of the new state."""
        valid_from = self.valid_from or (gebietsstand(self.source) if self.source else None) \
            or today()
        source = (self.source or "").strip() or \
            f"{self.file_name}, Gebietsstand {valid_from:%d.%m.%Y}"
        return source, valid_from


@dataclass
class _Plan:
    """What the comparison found, per level: AGS by status, and the rows for the report."""

    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    mergers: list[dict[str, Any]] = field(default_factory=list)

    def ags(self, level: str, status: str) -> list[str]:
        return [r["ags"] for r in self.rows[level] if r["status"] == status]

    @property
    def changes(self) -> bool:
        return any(r["status"] != "unchanged" for rows in self.rows.values() for r in rows)


def import_boundaries(conn: Connection, path: Path,
                      options: BoundaryImportOptions) -> dict[str, Any]:
    """Import the boundary file at ``path`` on ``conn`` (the caller commits); the report.

    Raises :class:`~app.domain.errors.InvalidInput` (422) for a file that cannot be used,
    :class:`~app.services.boundary_files.UnsupportedFileType` (415) for one that is no
    GeoPackage or ZIP, :class:`~app.domain.errors.Conflict` (409) when parcels would leave
    the region. Nothing is changed then, nor by a dry run.
    """
    source, valid_from = options.dated()
    _check_valid_from(conn, valid_from)
    boundary_file = open_boundary_file(path)
    region = list(conn.execute(sql.REGION).scalars())
    layers = {
        "districts": boundary_file.read("districts", options.districts_layer, region),
        "municipalities": boundary_file.read("municipalities", options.municipalities_layer,
                                             region),
    }
    savepoint = conn.begin_nested()
    try:
        previous_timeout = conn.execute(sql.CURRENT_TIMEOUT).scalar_one()
        conn.execute(sql.SET_TIMEOUT, {"value": str(IMPORT_STATEMENT_TIMEOUT_MS)})
        report = _run(conn, layers, source, valid_from, options)
        report["file"] = {"name": options.file_name, "format": boundary_file.format,
                          "layers": {level: {"name": layer.name, "crs": f"EPSG:{layer.srid}",
                                             "features": layer.total}
                                     for level, layer in layers.items()}}
        conn.execute(sql.DROP_NEW)
        if report["import_id"] is not None:
            conn.execute(sql.INSERT_IMPORT, {
                "id": report["import_id"], "source": source, "valid_from": valid_from,
                "file_name": options.file_name, "report": json.dumps(report)})
        conn.execute(sql.SET_TIMEOUT, {"value": previous_timeout})
    except BaseException:
        savepoint.rollback()
        raise
    if options.dry_run:
        savepoint.rollback()
        report["import_id"] = None
    else:
        savepoint.commit()
    return report


def _check_valid_from(conn: Connection, valid_from: date) -> None:
    current: date | None = conn.execute(sql.CURRENT_VALID_FROM).scalar_one()
    if current is not None and valid_from < current:
        raise InvalidInput.for_field(
            "valid_from", f"{valid_from:%d.%m.%Y} liegt vor dem gespeicherten Gebietsstand "
            f"{current:%d.%m.%Y}", "before_current")


def _run(conn: Connection, layers: dict[Level, BoundaryLayer], source: str,
         valid_from: date, options: BoundaryImportOptions) -> dict[str, Any]:
    repaired = _load_features(conn, layers)
    plan = _plan(conn, layers)
    report: dict[str, Any] = {
        "dry_run": options.dry_run, "import_id": None, "changed": plan.changes,
        "source": source, "valid_from": valid_from.isoformat(), "repaired": repaired,
        "districts": _level_report(plan, "districts", layers["districts"]),
        "municipalities": _level_report(plan, "municipalities", layers["municipalities"]),
        "parcels": {"count": 0, "changes": []}, "sites": [], "site_partners": [],
        "land_sales": [],
    }
    if plan.changes:
        import_id = _write(conn, plan, source, valid_from, report)
        report["import_id"] = import_id
    return report


def _load_features(conn: Connection, layers: dict[Level, BoundaryLayer]) -> list[str]:
    """The file's features of the region into the temporary table; the repaired AGS."""
    conn.execute(sql.DROP_NEW)
    conn.execute(sql.CREATE_NEW)
    repaired: list[str] = []
    for level, layer in layers.items():
        if not layer.features:
            raise InvalidInput.for_field(
                f"{layer.name}.AGS", f"Ebene {layer.name} enthält keine Objekte der Region "
                f"({layer.outside_region} außerhalb, {layer.not_land} ohne GF 4)", "empty")
        _check_srid(conn, layer)
        polygons = _intake(conn, layer)
        conn.execute(sql.INSERT_NEW, [
            {"level": level, "ags": f.ags, "name": f.name, "ewkt": p.ewkt}
            for f, p in zip(layer.features, polygons, strict=True)])
        repaired += [f.ags for f, p in zip(layer.features, polygons, strict=True)
                     if p.repaired]
    conn.execute(sql.MERGE_PARTS)
    return sorted(set(repaired))


def _check_srid(conn: Connection, layer: BoundaryLayer) -> None:
    if not conn.execute(sql.KNOWN_SRID, {"srid": layer.srid}).scalar_one():
        raise InvalidInput.for_field(
            f"{layer.name}.crs", f"EPSG:{layer.srid} ist PostGIS unbekannt", "crs")


def _intake(conn: Connection, layer: BoundaryLayer) -> list[Any]:
    """``intake_polygons`` for a layer; refusals name the feature by its place in the file."""
    try:
        return intake_polygons(conn, [f.geometry for f in layer.features], layer.srid,
                               repair=True, limits=BOUNDARY_LIMITS, locate=False,
                               source=layer.name, field=layer.name)
    except InvalidInput as refused:
        problems = [_in_file(layer, p) for p in refused.problems]
        listed = "; ".join(f"{p.field}: {p.reason}" for p in problems[:10])
        raise InvalidInput(f"Ebene {layer.name}: {len(problems)} Geometrien abgelehnt: "
                           f"{listed}", problems=problems) from None


def _in_file(layer: BoundaryLayer, problem: FieldProblem) -> FieldProblem:
    """A refusal of the ``i``-th feature given to the intake, named by its place in the
    layer instead (the intake saw only the region's features)."""
    name = problem.field or ""
    head, _, rest = name.partition("]")
    number = head.rpartition("[")[2]
    if not number.isdigit():
        return problem
    index = layer.features[int(number)].index
    return FieldProblem(f"{layer.name}[{index}]{rest}", problem.reason, problem.code)


def _plan(conn: Connection, layers: dict[Level, BoundaryLayer]) -> _Plan:
    """Compare the file with the stored rows; refuse missing districts and municipalities
    missing without a successor."""
    plan = _Plan()
    for level in ("districts", "municipalities"):
        plan.rows[level] = [dict(r._mapping) for r in conn.execute(
            sql.COMPARE[level], {"tolerance": SAME_VERTEX_TOLERANCE_M})]
    missing = plan.ags("districts", "missing")
    if missing:
        raise InvalidInput.for_field(
            f"{layers['districts'].name}.AGS",
            f"Kreise der Region fehlen in der Datei: {', '.join(missing)}", "missing_district")
    missing = plan.ags("municipalities", "missing")
    successors = [dict(r._mapping) for r in conn.execute(sql.SUCCESSORS, {"missing": missing})]
    unmatched = [s for s in successors if s["share"] < MERGE_MIN_SHARE]
    if unmatched:
        problems = [FieldProblem(
            f"{layers['municipalities'].name}.AGS",
            f"Gemeinde {s['ags']} ({s['name']}) fehlt in der Datei und liegt nicht zu "
            f"mindestens {MERGE_MIN_SHARE:.0%} in einer neuen Gemeinde (höchstens "
            f"{s['share']:.1%}" + (f" in {s['successor_ags']})" if s["successor_ags"] else ")"),
            "unmatched_municipality") for s in unmatched]
        raise InvalidInput(
            "Gespeicherte Gemeinden fehlen in der Datei, ohne in einer neuen Gemeinde "
            "aufzugehen: " + ", ".join(s["ags"] for s in unmatched), problems=problems)
    plan.mergers = successors
    return plan


def _level_report(plan: _Plan, level: str, layer: BoundaryLayer) -> dict[str, Any]:
    rows = plan.rows[level]

    def listed(status: str) -> list[dict[str, Any]]:
        return [{"ags": r["ags"], "name": r["new_name"] or r["old_name"],
                 **({"area_km2_before": round(r["old_km2"], 4)} if r["old_km2"] else {}),
                 **({"area_km2_after": round(r["new_km2"], 4)} if r["new_km2"] else {})}
                for r in rows if r["status"] == status]

    merged = [{"ags": m["ags"], "name": m["name"], "successor_ags": m["successor_ags"],
               "successor_name": m["successor_name"], "share_of_area": round(m["share"], 4)}
              for m in plan.mergers] if level == "municipalities" else []
    inserted, changed = listed("inserted"), listed("changed")
    unchanged = sum(r["status"] == "unchanged" for r in rows)
    return {
        "counts": {"inserted": len(inserted), "changed": len(changed), "unchanged": unchanged,
                   "merged": len(merged), "ignored_outside_region": layer.outside_region,
                   "skipped_not_land": layer.not_land},
        "inserted": inserted, "changed": changed, "merged": merged,
    }


@contextmanager
def _reason(conn: Connection, reason: str) -> Iterator[None]:
    """``gefis.reason`` for the block (the history records it), then the previous one."""
    previous = conn.execute(sql.CURRENT_REASON).scalar_one()
    conn.execute(sql.SET_REASON, {"reason": reason})
    try:
        yield
    finally:
        conn.execute(sql.SET_REASON, {"reason": previous})


def _write(conn: Connection, plan: _Plan, source: str, valid_from: date,
           report: dict[str, Any]) -> int:
    """Write the new state; fills the report's parcels, sites, partners and land sales."""
    conn.execute(sql.LOCK)
    import_id: int = conn.execute(sql.RESERVE_IMPORT_ID).scalar_one()
    conn.execute(sql.SET_CONTEXT, {"valid_from": valid_from.isoformat(),
                                   "import_id": str(import_id)})
    written = {"source": source}
    inserted = plan.ags("municipalities", "inserted")
    changed = plan.ags("municipalities", "changed")
    conn.execute(sql.INSERT_MUNICIPALITIES, {**written, "ags": inserted})
    conn.execute(sql.UPDATE_MUNICIPALITIES, {**written, "ags": changed})
    conn.execute(sql.UPDATE_DISTRICTS, {**written, "ags": plan.ags("districts", "changed")})
    label = f"Gebietsstand {valid_from:%d.%m.%Y}"
    moves: dict[int, list[str]] = {}
    for merger in plan.mergers:
        pair = {"old_ags": merger["ags"], "new_ags": merger["successor_ags"]}
        conn.execute(sql.INSERT_MERGER, {**pair, "old_name": merger["name"],
                                         "valid_from": valid_from, "share": merger["share"],
                                         "import_id": import_id})
        with _reason(conn, f"{label}: Gemeinde {pair['old_ags']} → {pair['new_ags']} "
                           "(Zusammenschluss)"):
            for key, statement in (("sites", sql.REPOINT_SITES),
                                   ("land_sales", sql.REPOINT_LAND_SALES)):
                report[key] += [{"id": i, "from": pair["old_ags"], "to": pair["new_ags"]}
                                for i in conn.execute(statement, pair).scalars()]
            for parcel_id in repoint_municipality(conn, pair["old_ags"], pair["new_ags"]):
                moves[parcel_id] = [pair["old_ags"], pair["new_ags"]]
    if plan.mergers:
        report["site_partners"] = list(conn.execute(sql.REPOINT_PARTNERS, {
            "old": [m["ags"] for m in plan.mergers],
            "new": [m["successor_ags"] for m in plan.mergers]}).scalars())
        conn.execute(sql.DELETE_MUNICIPALITIES, {"ags": [m["ags"] for m in plan.mergers]})
    _relocate_parcels(conn, import_id, inserted + changed, label, moves)
    by_pair: dict[tuple[str, str], list[int]] = {}
    for parcel_id, (first, *_, last) in sorted(moves.items()):
        if first != last:
            by_pair.setdefault((first, last), []).append(parcel_id)
    report["parcels"] = {
        "count": sum(len(ids) for ids in by_pair.values()),
        "changes": [{"from": a, "to": b, "count": len(ids), "ids": ids}
                    for (a, b), ids in sorted(by_pair.items())]}
    conn.execute(sql.SET_CONTEXT, {"valid_from": "", "import_id": ""})
    return import_id


def _relocate_parcels(conn: Connection, import_id: int, written: list[str], label: str,
                      moves: dict[int, list[str]]) -> None:
    """Locate the parcels near written boundaries again; 409 if any would leave the region."""
    rows = relocations(conn, sql.TOUCHED, {"import_id": import_id, "written": written})
    outside = [r.id for r in rows if r.new_ags is None]
    if outside:
        listed = ", ".join(map(str, outside[:LISTED_PARCELS]))
        more = f" und {len(outside) - LISTED_PARCELS} weitere" if len(outside) > LISTED_PARCELS \
            else ""
        reason = (f"{len(outside)} Flächen lägen nach dem neuen Gebietsstand außerhalb der "
                  f"Region (Flächen-IDs {listed}{more}); Datei abgelehnt")
        raise Conflict(reason, problems=[FieldProblem("file", reason, "parcels_outside")])
    by_pair: dict[tuple[str, str], list[int]] = {}
    for row in rows:
        by_pair.setdefault((row.old_ags, row.new_ags), []).append(row.id)
    for (old, new), ids in sorted(by_pair.items()):
        with _reason(conn, f"{label}: Gemeinde {old} → {new}"):
            move_parcels(conn, ids, new)
        for parcel_id in ids:
            moves.setdefault(parcel_id, [old]).append(new)


def list_boundary_imports(conn: Connection) -> list[dict[str, Any]]:
    """Every recorded import, newest first, with the counts of its report."""
    return [{**r._mapping, "imported_at": r.imported_at.isoformat(),
             "valid_from": r.valid_from.isoformat()}
            for r in conn.execute(sql.LIST_IMPORTS)]


def get_boundary_import(conn: Connection, import_id: int) -> dict[str, Any]:
    """One recorded import with its report; 404 when there is none."""
    row = conn.execute(sql.GET_IMPORT, {"id": import_id}).one_or_none()
    if row is None:
        raise NotFound.for_field("import_id", f"keinen Grenzimport {import_id}", "not_found")
    return {**row._mapping, "imported_at": row.imported_at.isoformat(),
            "valid_from": row.valid_from.isoformat()}
