"""The service as the benchmarks start it: ``uvicorn app.main:app`` on a free local port, as
``make run`` starts it, against a chosen database."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from bench.output import say

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def service(database_url: str, log: Path) -> Iterator[str]:
    """``uvicorn app.main:app`` on a free port against ``database_url``; yields its URL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "DATABASE_URL": database_url}
    workers = os.environ.get("GEFIS_WORKERS", "1").strip() or "1"
    say(f"service on {base} ({workers} process{'es' if workers != '1' else ''})")
    with log.open("ab") as out:
        child = subprocess.Popen([sys.executable, "-m", "uvicorn", "app.main:app", "--host",
                                  "127.0.0.1", "--port", str(port),
                                  *(["--workers", workers] if workers != "1" else [])],
                                 cwd=ROOT, env=env,
                                 stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if child.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the service did not become healthy:\n"
                                 + log.read_text(encoding="utf-8", errors="replace")[-2000:])
            time.sleep(0.5)
        yield base
    finally:
        stop(child)


def stop(child: subprocess.Popen[bytes]) -> None:
    """End a server process: SIGTERM, then SIGKILL after 30 s."""
    child.terminate()
    try:
        child.wait(timeout=30)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
