"""Two runs of the demo-data generator in the background, for ``test_demo_determinism``.

A whole-suite run starts them when the session starts (at low priority), so their ~16 s of
CPU overlap with the other tests; a run of the determinism tests alone starts them on demand.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "make_demo_geodata.py"

_runs: list[tuple[Path, subprocess.Popen[str]]] = []


def start() -> None:
    """Start both generator runs (once per session), each into a directory of its own."""
    if _runs:
        return
    for i in (1, 2):
        out = Path(tempfile.mkdtemp(prefix=f"gefis_demo_run_{i}_"))
        process = subprocess.Popen(
            ["nice", "-n", "10", sys.executable, str(SCRIPT), "--out", str(out)], cwd=ROOT,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        _runs.append((out, process))


def results() -> list[tuple[Path, int, str]]:
    """Wait for both runs: output directory, exit code and the last of the output."""
    start()
    out = []
    for directory, process in _runs:
        output, _ = process.communicate(timeout=600)
        out.append((directory, process.returncode, output[-4000:]))
    return out


def cleanup() -> None:
    """Remove the runs' directories."""
    for directory, process in _runs:
        if process.poll() is None:
            process.kill()
        shutil.rmtree(directory, ignore_errors=True)
    _runs.clear()
