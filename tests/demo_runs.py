"""A run of the demo-data generator in the background, for ``test_demo_determinism``.

A whole-suite run starts it when the session starts (at low priority), so its ~8 s of CPU
overlap with the other tests; a run of the determinism tests alone starts it on demand. Its
hash seed is random (set explicitly, whatever the caller's environment says), so an output
that depends on set or dict order differs from the committed files, which another run made.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "make_demo_geodata.py"

_runs: list[tuple[Path, subprocess.Popen[str]]] = []


def start() -> None:
    """Start the generator run (once per session) into a directory of its own."""
    if _runs:
        return
    out = Path(tempfile.mkdtemp(prefix="gefis_demo_run_"))
    environment = {**os.environ, "PYTHONHASHSEED": str(secrets.randbelow(2**32 - 1) + 1)}
    process = subprocess.Popen(
        ["nice", "-n", "10", sys.executable, str(SCRIPT), "--out", str(out)], cwd=ROOT,
        env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    _runs.append((out, process))


def results() -> list[tuple[Path, int, str]]:
    """Wait for the run: output directory, exit code and the last of the output."""
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
