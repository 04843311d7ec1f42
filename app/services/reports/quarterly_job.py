"""One run of the quarterly monitoring report: snapshot, figures, files.

1. The quarter's snapshot is stored in its own transaction (unless stored: a re-run changes
   nothing in the database).
2. The figures are read in one ``REPEATABLE READ`` transaction, so they agree with each
   other even while the registry is being edited.
3. The folder is written atomically (:func:`~app.services.reports.quarterly_output.write_report`).

Any failure raises before the folder is replaced: the previous output stays as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from app.db.queries.portfolio import district_shapes
from app.db.session import build_engine, set_actor
from app.domain.clock import today
from app.domain.quarters import Quarter
from app.services.reports.quarterly import QuarterlyOptions, quarterly_document, store_snapshot
from app.services.reports.quarterly_output import write_report
from app.settings import Settings

#: Steps a run reports through ``progress`` (for a progress bar).
STEPS = ("Momentaufnahme", "Veränderungen zum Vorquartal", "Bilanz und Reichweite",
         "Flächenumsatz", "Zeitreihe seit dem Basisdatum", "Anfragen und Prüfrückstand",
         "Diagramme und Karte", "Arbeitsmappe", "HTML und PDF")


@dataclass(frozen=True)
class RunResult:
    """Where the report went and whether this run stored the snapshot."""

    folder: Path
    snapshot_created: bool
    parcels: int


def run_quarterly(settings: Settings, quarter: Quarter, output_dir: Path, *,
                  framework_id: int | None = None,
                  progress: Callable[[str], None] = lambda _: None) -> RunResult:
    """Store the snapshot of ``quarter`` and write its report under ``output_dir``."""
    options = QuarterlyOptions(quarter, settings.potential_categories,
                               settings.freshness_days, framework_id)
    engine = build_engine(settings)
    try:
        progress(STEPS[0])
        with engine.begin() as conn:
            set_actor(conn, options.actor, f"Quartalsbericht {quarter.label}")
            stored, created = store_snapshot(conn, options)
        with engine.connect() as conn:
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                document = quarterly_document(conn, options, progress)
                shapes = district_shapes(conn)
    finally:
        engine.dispose()
    folder = write_report(document, shapes, output_dir, generated_at=today(),
                          progress=progress, chromium_path=settings.chromium_path)
    return RunResult(folder, created, stored.parcels)
