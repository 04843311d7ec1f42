"""What the benchmark scripts share about their output: the machine's load and where a run's
table goes."""

from __future__ import annotations

import platform
import sys
from datetime import date
from pathlib import Path


def say(message: str) -> None:
    """A progress line on stderr (stdout carries the results)."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def loadavg() -> str:
    """The 1, 5 and 15 minute load averages (``?`` where /proc is missing)."""
    try:
        with open("/proc/loadavg", encoding="utf-8") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


def cpu_model() -> str:
    """The processor's model name from /proc/cpuinfo (else what ``platform`` knows)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            return next(line.split(":", 1)[1].strip() for line in info
                        if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or platform.machine() or "?"


def output_path(folder: Path, name: str) -> Path:
    """``<folder>/<today>-<name>.md``, or ``…-<name>-2.md``, ``-3`` … when taken already."""
    stamp = date.today().isoformat()
    path, i = folder / f"{stamp}-{name}.md", 2
    while path.exists():
        path, i = folder / f"{stamp}-{name}-{i}.md", i + 1
    return path
