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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, text

from app.db.queries import import_records
from app.db.queries.import_staging import (
    drop_staging,
    error_count,
)
from app.db.session import write_transaction
from app.domain.errors import FieldProblem, GefisError
from app.domain.import_columns import SPECS
from app.domain.roles import Principal
from app.services.imports.kinds import KindRequest, action_counts, import_kind
from app.services.imports.reader import ImportSource, open_source
from app.services.imports.staging import stage
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


def start_import(engine: Engine, principal: Principal, file_name: str, file_bytes: int,
                 options: ImportOptions) -> int:
    """Record a new import (``queued``) in a transaction of its own; returns its id."""
    with engine.begin() as conn:
        return import_records.create_import(
            conn, kind=options.kind, dry_run=options.dry_run, file_name=file_name,
            file_bytes=file_bytes, actor=principal.actor, options=options.as_json())


def _run(conn: Connection, import_id: int, principal: Principal, source: ImportSource,
         options: ImportOptions, settings: Settings, progress: ProgressFn) -> ImportOutcome:
    kind = import_kind(options.kind)
    request = KindRequest(options.repair_geometry, options.complete, options.withdraw_missing,
                          options.dry_run)
    staged = stage(conn, source, SPECS[options.kind], options.mapping,
                   settings.import_chunk_rows, on_rows=lambda n: progress("read", n))
    kind.validate(conn, staged, request, principal, settings)
    progress("validated", staged.rows)
    counts = action_counts(conn, kind.plan_table)
    rejected = error_count(conn) > 0
    if not rejected and not options.dry_run:
        conn.execute(text("SELECT set_config('gefis.import_id', :id, true)"),
                     {"id": str(import_id)})
        kind.write(conn, import_id, staged, counts)
    report = kind.report(conn, request, rejected, counts)
    import_records.save_problems(conn, import_id)
    import_records.save_rows(conn, import_id, report.sql, report.params)
    status = "rejected" if rejected else "checked" if options.dry_run else "imported"
    written = 0 if rejected or options.dry_run else counts["created"] + counts["updated"]
    progress("written", written)
    import_records.update_import(
        conn, import_id, status=status, crs=f"EPSG:{staged.srid}" if staged.srid else None,
        rows_read=staged.rows, rows_validated=staged.rows, rows_written=written,
        counts=counts, columns=staged.columns_json(), finished_at=_clock())
    outcome = ImportOutcome(import_id, status, counts,
                            import_records.problems_json(conn, LISTED_PROBLEMS),
                            staged.columns_json())
    drop_staging(conn)
    return outcome


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
            outcome = _run(conn, import_id, principal, source, options, settings, report)
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


def _clock() -> datetime:
    return datetime.now(UTC)
