"""``scripts/scheduler.sh``: one check runs the report of the last completed quarter once it
is missing, and leaves a written quarter alone."""

from __future__ import annotations

import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from app.domain.quarters import Quarter

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "scheduler.sh"


def _check(report_dir: Path, calls: Path) -> subprocess.CompletedProcess[str]:
    fake = calls.with_suffix(".sh")  # the report command: records its arguments
    fake.write_text(f'#!/bin/sh\necho "$*" >> {calls}\n')
    fake.chmod(0o755)
    return subprocess.run(["bash", str(SCRIPT)], env={
        **os.environ, "TZ": "UTC", "GEFIS_REPORT_DIR": str(report_dir),
        "GEFIS_REPORT_CMD": str(fake), "GEFIS_SCHEDULER_ONCE": "1"},
        capture_output=True, text=True, timeout=30, check=False)


def test_one_check_reports_the_last_completed_quarter_once(tmp_path: Path) -> None:
    calls = tmp_path / "calls.txt"
    quarter = Quarter.last_completed(datetime.now(UTC).date())
    run = _check(tmp_path / "reports", calls)
    assert run.returncode == 0, run.stderr
    assert calls.read_text().split() == ["--quarter", quarter.label, "--output-dir",
                                         str(tmp_path / "reports")]
    # once written, the quarter is not run again
    (tmp_path / "reports" / quarter.folder).mkdir()
    (tmp_path / "reports" / quarter.folder / "report.json").write_text("{}")
    assert _check(tmp_path / "reports", calls).returncode == 0
    assert len(calls.read_text().splitlines()) == 1
