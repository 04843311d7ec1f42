"""What every command of the command line prints: progress lines and failures (German)."""

from __future__ import annotations

import sys

from sqlalchemy.exc import DBAPIError

from app.db.errors import translate_db_error
from app.domain.errors import GefisError


def say(message: str) -> None:
    print(f"[gefis] {message}", flush=True)


def fail(error: GefisError | DBAPIError) -> int:
    """Print why a command failed (a database error as the API would word it); exit code 1.
    A database error the service cannot explain is raised on."""
    if isinstance(error, DBAPIError):
        translated = translate_db_error(error)
        if translated is None:
            raise error
        error = translated
    reasons = "; ".join(f"{p.field}: {p.reason}" for p in error.problems) or error.detail
    print(f"[gefis] Fehler: {reasons}", file=sys.stderr, flush=True)
    return 1
