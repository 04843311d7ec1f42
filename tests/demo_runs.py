"""A run of the demo-data generator in the background, for ``test_demo_determinism``.

A whole-suite run starts it when the session starts (at low priority), so its ~8 s of CPU
overlap with the other tests; a run of the determinism tests alone starts it on demand. Its
hash seed is random (set explicitly, whatever the caller's environment says), so an output
that depends on set or dict order differs from the committed files, which another run made.

With pytest-xdist the controller starts the one run and tells each worker its directory
(:func:`adopt`): whichever worker runs the determinism test waits for it there. So that a
process other than the starter can wait, the run writes its output to ``<dir>.log`` and,
when it has ended, its exit code to ``<dir>.rc``.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "make_demo_geodata.py"
#: Longest wait for the run to end, seconds.
TIMEOUT_S = 600

#: Output directory of this session's run (``None``: not started nor adopted).
_run: Path | None = None
#: Whether this process started the run (and so removes it at the end).
_owned = False
_process: subprocess.Popen[bytes] | None = None


def start() -> Path:
    """Start the generator run (once per session) into a directory of its own; that
    directory."""
    global _run, _owned, _process
    if _run is None:
        out = Path(tempfile.mkdtemp(prefix="gefis_demo_run_"))
        environment = {**os.environ, "PYTHONHASHSEED": str(secrets.randbelow(2**32 - 1) + 1)}
        # "$0" is the interpreter, "$1" the script, "$2" the output directory
        _process = subprocess.Popen(
            ["sh", "-c", 'nice -n 10 "$0" "$1" --out "$2" >"$2.log" 2>&1; echo $? >"$2.rc.part"'
             ' && mv "$2.rc.part" "$2.rc"', sys.executable, str(SCRIPT), str(out)],
            cwd=ROOT, env=environment, stdin=subprocess.DEVNULL, start_new_session=True)
        _run, _owned = out, True
    return _run


def adopt(directory: str) -> None:
    """Wait for the run another process (xdist's controller) started into ``directory``."""
    global _run, _owned
    _run, _owned = Path(directory), False


def results() -> list[tuple[Path, int, str]]:
    """Wait for the run: output directory, exit code and the last of the output."""
    out = start()
    done = out.with_name(out.name + ".rc")
    deadline = time.monotonic() + TIMEOUT_S
    while not done.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"the demo generator run into {out} did not end in {TIMEOUT_S} s")
        time.sleep(0.2)
    output = out.with_name(out.name + ".log").read_text(errors="replace")
    return [(out, int(done.read_text().strip()), output[-4000:])]


def cleanup() -> None:
    """Remove the run's directory and files (only in the process that started it)."""
    global _run, _owned, _process
    if _process is not None and _process.poll() is None:
        os.killpg(_process.pid, 9)  # an interrupted session: the run is not wanted
        _process.wait()
    _process = None
    if _run is not None and _owned:
        shutil.rmtree(_run, ignore_errors=True)
        for suffix in (".log", ".rc", ".rc.part"):
            _run.with_name(_run.name + suffix).unlink(missing_ok=True)
    _run, _owned = None, False
