"""Imports that run after the request has been answered (202 Accepted).

One import runs at a time per service process (an import is one long transaction that
keeps a core busy; a second would only slow the first). The uploaded file lives in its own
folder under ``GEFIS_IMPORT_DIR`` until the import has ended, then the folder is removed;
the outcome and the report stay in the database. Progress is written to the import's
record as it goes, so any process can answer ``GET /api/v1/imports/{id}``.

An import whose process stopped (restart, crash) keeps ``queued``/``running`` with an old
heartbeat; the record reports it as ``stale`` after :data:`STALE_AFTER_S`.
"""

from __future__ import annotations

import logging
import shutil
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import Engine

from app.domain.errors import GefisError
from app.domain.roles import Principal
from app.services.imports.service import ImportOptions, run_import
from app.settings import Settings

log = logging.getLogger(__name__)

#: An import writes its heartbeat with every progress report (rows read, validated, written);
#: one silent for longer than this (seconds) is taken to have stopped.
STALE_AFTER_S = 600

_runner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gefis-import")


def upload_folder(settings: Settings, import_id: int) -> Path:
    """The folder that keeps the file of import ``import_id`` while it runs."""
    folder = settings.import_dir / str(import_id)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def run_in_background(engine: Engine, principal: Principal, path: Path, file_name: str,
                      options: ImportOptions, settings: Settings, import_id: int
                      ) -> Future[None]:
    """Queue the import; its file's folder is removed when it has ended."""
    def work() -> None:
        try:
            run_import(engine, principal, path, file_name, options, settings, import_id)
        except GefisError as error:  # recorded with the import (rejected or failed)
            log.info("import %s ended: %s", import_id, error.detail)
        except Exception:
            log.exception("import %s failed", import_id)
        finally:
            shutil.rmtree(path.parent, ignore_errors=True)

    return _runner.submit(work)
