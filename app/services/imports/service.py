"""Running an import: read, stage, validate every row, then write all of it or nothing.

One transaction does the work (:func:`run_import`): the file is staged (``COPY``), typed and
checked cell by cell, its shapes go through the set-based polygon intake, the plan decides
each row's action, and only a file without a single problem is written. A dry run, or a
rejected file, writes nothing but its report. The import's record (``imports``) is kept in
transactions of its own, so its progress can be polled while the import runs; its report
(rows and problems) is stored with the outcome.

Every parcel written records the import in its history (``SET LOCAL gefis.import_id``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError
from sqlalchemy import Connection, Engine, text

from app.db.queries import import_parcels, import_records
from app.db.queries.import_geometry import IntakeRules, intake
from app.db.queries.import_staging import (
    PROBLEMS,
    cell_problems,
    drop_staging,
    error_count,
    type_rows,
)
from app.db.session import write_transaction
from app.domain.crs import EPSG_PATTERN
from app.domain.errors import FieldProblem, GefisError, InvalidInput
from app.domain.import_columns import SPECS
from app.domain.roles import Principal, Role
from app.services.geometry_input import OUTSIDE_TOLERANCE
from app.services.imports.reader import ImportSource, open_source
from app.services.imports.staging import StagedFile, stage
from app.services.raster import fill_raster_columns
from app.settings import Settings

#: Problems returned with an outcome (all of them are in the stored report).
LISTED_PROBLEMS = 1000

#: Called with a stage (``read``, ``validated``, ``written``) and a row count.
ProgressFn = Callable[[str, int], None]


@dataclass(frozen=True)
class ImportOptions:
    """What the caller asked for (besides the file)."""

    kind: str = "parcels"
    dry_run: bool = False
    repair_geometry: bool = False
    #: the file lists every parcel of its districts: report the others as missing
    complete: bool = False
    withdraw_missing: bool = False
    crs_srid: int | None = None
    layer: str | None = None
    mapping: dict[str, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """The options as stored with the import."""
        return {"dry_run": self.dry_run, "repair_geometry": self.repair_geometry,
                "complete": self.complete, "withdraw_missing": self.withdraw_missing,
                "crs": f"EPSG:{self.crs_srid}" if self.crs_srid else None,
                "layer": self.layer, "mapping": self.mapping}


@dataclass
class ImportOutcome:
    """How an import ended: its id, status, counts per action and the first problems."""

    import_id: int
    status: str
    counts: dict[str, int]
    problems: list[dict[str, Any]]
    columns: dict[str, Any]


class ImportRejected(GefisError):
    """The file has problems: nothing was written (422; the report names every one)."""

    status = 422
    title = "Import abgelehnt"

    type_slug = "import-rejected"

    def __init__(self, outcome: ImportOutcome) -> None:
        super().__init__(
            f"Die Datei wurde nicht importiert: {outcome.counts.get('problems', 0)} "
            f"Problem(e) in {outcome.counts.get('rejected', 0)} Zeile(n); nichts wurde "
            "geändert.",
            problems=[FieldProblem(_row_field(p["row_no"], p["field"]), p["message"], p["code"])
                      for p in outcome.problems if p["severity"] == "error"])
        self.outcome = outcome


def _row_field(row: int | None, name: str | None) -> str | None:
    """``rows[3].net_area_ha``: the field of a row of the file (``None``: the whole file)."""
    if row is None:
        return name
    return f"rows[{row}]" + (f".{name}" if name else "")


def import_srid(text_value: str | None) -> int | None:
    """The EPSG code a ``crs`` option names (``EPSG:31468``, an OGC URI, ``CRS84``); any
    code pyproj knows. ``None`` when not given.

    >>> import_srid("EPSG:31468"), import_srid("http://www.opengis.net/def/crs/EPSG/0/25833")
    (31468, 25833)
    """
    if text_value is None or not text_value.strip():
        return None
    if text_value.strip().upper().endswith("CRS84"):
        return 4326
    match = EPSG_PATTERN.match(text_value.strip())
    if match is not None:
        try:
            CRS.from_epsg(int(match.group(1)))
            return int(match.group(1))
        except CRSError:
            pass
    raise InvalidInput.for_field("crs", f"unbekanntes Koordinatensystem „{text_value}“ "
                                 "(erwartet z. B. EPSG:25832)", "unknown_crs")


def crs_box(srid: int) -> tuple[float, float, float, float]:
    """The CRS's area of use, widened by a degree, in its own coordinates."""
    area = CRS.from_epsg(srid).area_of_use
    west, south, east, north = ((area.west, area.south, area.east, area.north)
                                if area else (-180.0, -90.0, 180.0, 90.0))
    box = (max(west - 1, -180), max(south - 1, -90), min(east + 1, 180), min(north + 1, 90))
    if srid == 4326:
        return box
    out = Transformer.from_crs(4326, srid, always_xy=True).transform_bounds(*box,
                                                                            densify_pts=21)
    return (out[0], out[1], out[2], out[3])


def start_import(engine: Engine, principal: Principal, file_name: str, file_bytes: int,
                 options: ImportOptions) -> int:
    """Record a new import (``queued``) in a transaction of its own; returns its id."""
    with engine.begin() as conn:
        return import_records.create_import(
            conn, kind=options.kind, dry_run=options.dry_run, file_name=file_name,
            file_bytes=file_bytes, actor=principal.actor, options=options.as_json())


def _districts(principal: Principal) -> frozenset[str] | None:
    return None if principal.role >= Role.ADMIN else principal.districts


def _validate_parcels(conn: Connection, staged: StagedFile, options: ImportOptions,
                      principal: Principal, settings: Settings
                      ) -> list[import_parcels.ParcelColumn]:
    spec = SPECS[options.kind]
    type_rows(conn, spec.columns, staged.srid)
    cell_problems(conn, staged.present)
    srid = staged.srid or 4326
    intake(conn, IntakeRules(
        srid=srid, crs_box=crs_box(srid), repair=options.repair_geometry,
        min_area_m2=settings.geometry_min_area_m2,
        max_vertices=settings.geometry_max_vertices, max_outside_share=OUTSIDE_TOLERANCE))
    columns = import_parcels.parcel_columns(conn, staged.present)
    import_parcels.plan(conn, columns, districts=_districts(principal))
    import_parcels.decide(conn, columns, f"SELECT row_no FROM {PROBLEMS} "
                                         "WHERE severity = 'error' AND row_no IS NOT NULL")
    return columns


def _rows_sql(missing_action: str) -> str:
    return f"""
        SELECT * FROM (
            SELECT t.row_no, t.t_external_id, pl.district_ags,
                   CASE WHEN pl.row_no IS NULL THEN 'rejected' ELSE pl.action END,
                   pl.parcel_id, CAST(NULL AS bigint), pl.changed_fields
              FROM import_typed t LEFT JOIN import_plan pl USING (row_no)
            UNION ALL
            SELECT NULL, m.external_id, m.district_ags, '{missing_action}', m.id,
                   CAST(NULL AS bigint), CAST(NULL AS text[])
              FROM unnest(CAST(:m_ids AS bigint[]), CAST(:m_keys AS text[]),
                          CAST(:m_districts AS text[])) AS m(id, external_id, district_ags)
        ) r ORDER BY 1 NULLS LAST, 2"""


def _counts(conn: Connection) -> dict[str, int]:
    counts = {r.action: r.n for r in conn.execute(text(
        "SELECT CASE WHEN pl.row_no IS NULL THEN 'rejected' ELSE pl.action END AS action, "
        "count(*) AS n FROM import_typed t LEFT JOIN import_plan pl USING (row_no) GROUP BY 1"))}
    problems = conn.execute(text(
        f"SELECT count(*) FILTER (WHERE severity = 'error') AS errors, "
        f"count(*) FILTER (WHERE severity = 'note') AS notes FROM {PROBLEMS}")).one()
    return {"created": 0, "updated": 0, "unchanged": 0, "rejected": 0, **counts,
            "problems": problems.errors, "notes": problems.notes}


def _run_parcels(conn: Connection, import_id: int, principal: Principal, source: ImportSource,
                 options: ImportOptions, settings: Settings, progress: ProgressFn
                 ) -> ImportOutcome:
    spec = SPECS[options.kind]
    staged = stage(conn, source, spec, options.mapping, settings.import_chunk_rows,
                   on_rows=lambda n: progress("read", n))
    columns = _validate_parcels(conn, staged, options, principal, settings)
    progress("validated", staged.rows)
    counts = _counts(conn)
    rejected = error_count(conn) > 0
    missing: list[Any] = []
    if not rejected and not options.dry_run:
        conn.execute(text("SELECT set_config('gefis.import_id', :id, true)"),
                     {"id": str(import_id)})
        import_parcels.derive(conn)
        fill_raster_columns(conn, import_parcels.PLAN, "row_no",
                            ids=import_parcels.reshaped_rows(conn))
        counts["sites_created"] = import_parcels.create_sites(conn)
        import_parcels.write(conn, columns)
    if not rejected and options.complete:
        missing = import_parcels.missing(conn, options.withdraw_missing and not options.dry_run)
        counts["withdrawn" if options.withdraw_missing else "missing"] = len(missing)
    action = "withdrawn" if options.withdraw_missing and not options.dry_run else "missing"
    import_records.save_problems(conn, import_id)
    import_records.save_rows(conn, import_id, _rows_sql(action), {
        "m_ids": [r.id for r in missing], "m_keys": [r.external_id for r in missing],
        "m_districts": [r.district_ags for r in missing]})
    status = "rejected" if rejected else "checked" if options.dry_run else "imported"
    written = 0 if rejected or options.dry_run else counts["created"] + counts["updated"]
    progress("written", written)
    import_records.update_import(
        conn, import_id, status=status, crs=f"EPSG:{staged.srid}" if staged.srid else None,
        rows_read=staged.rows, rows_validated=staged.rows, rows_written=written,
        counts=counts, columns=staged.columns_json(), finished_at=_now(conn))
    outcome = ImportOutcome(import_id, status, counts,
                            import_records.problems_json(conn, LISTED_PROBLEMS),
                            staged.columns_json())
    drop_staging(conn)
    return outcome


def _now(conn: Connection) -> Any:
    return conn.execute(text("SELECT clock_timestamp()")).scalar_one()


def run_import(engine: Engine, principal: Principal, path: Path, file_name: str,
               options: ImportOptions, settings: Settings, import_id: int,
               progress: ProgressFn | None = None) -> ImportOutcome:
    """Run the import ``import_id`` (see :func:`start_import`) of the file at ``path``.

    Raises :class:`ImportRejected` when the file has problems (its report is stored), any
    :class:`~app.domain.errors.GefisError` for a file that cannot be read at all (stored as
    the import's error), and re-raises unexpected errors after marking the import failed.
    """
    def report(stage_name: str, rows: int) -> None:
        column = {"read": "rows_read", "validated": "rows_validated",
                  "written": "rows_written"}[stage_name]
        import_records.update_import(engine, import_id, **{column: rows})
        if progress is not None:
            progress(stage_name, rows)

    import_records.update_import(engine, import_id, status="running", started_at=_clock())
    reason = f"Import {import_id}: {file_name}"
    try:
        source = open_source(path, file_name, layer=options.layer, crs_srid=options.crs_srid)
        # (the record is updated in its own transactions until the import's transaction
        # writes the outcome: progress reports must not wait for the import's row lock)
        import_records.update_import(engine, import_id, file_format=source.format,
                                     layer=source.layer, rows_total=source.total)
        with write_transaction(engine, principal.actor, reason) as conn:
            outcome = _run_parcels(conn, import_id, principal, source, options, settings,
                                   report)
    except GefisError as error:
        status = "rejected" if error.status < 500 else "failed"
        import_records.update_import(engine, import_id, status=status, error=_detail(error),
                                     finished_at=_clock())
        raise
    except Exception as error:
        import_records.update_import(engine, import_id, status="failed",
                                     error=f"{type(error).__name__}: {error}"[:2000],
                                     finished_at=_clock())
        raise
    if outcome.status == "rejected":
        raise ImportRejected(outcome)
    return outcome


def _detail(error: GefisError) -> str:
    reasons = "; ".join(f"{p.field}: {p.reason}" for p in error.problems)
    return reasons or error.detail


def _clock() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)
