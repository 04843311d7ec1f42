"""PDF from HTML, printed by headless Chromium (Debian package ``chromium``).

Chromium renders the same HTML the browser shows (CSS grid, web fonts, ``@page`` with A4
and margins, ``break-inside``), so the PDF and the HTML page never drift apart, and no second
layout engine has to be kept in step with the templates. Each call starts one Chromium
process on a throwaway profile in a temporary directory, prints ``file://…/page.html`` with
``--print-to-pdf`` and removes everything again. The page must stand alone (images as
``data:`` URIs): host names do not resolve inside the printer, so nothing is fetched.

At most :data:`MAX_CONCURRENT` Chromium processes run at once per service process; further
calls wait for a slot within their timeout. A missing, failing or hanging Chromium raises
:class:`~app.domain.errors.PdfUnavailable` (503 in the API).
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from app.domain.errors import PdfUnavailable
from app.settings import get_settings

log = logging.getLogger(__name__)

#: Chromium processes printing at once (each takes ~150 MB and a core for about a second).
MAX_CONCURRENT = 2
_SLOTS = threading.BoundedSemaphore(MAX_CONCURRENT)

#: Flags of a one-shot, offline, profile-less print (checked with Chromium 120 to 156).
CHROMIUM_FLAGS: tuple[str, ...] = (
    "--headless",
    "--no-sandbox",  # the service runs in containers without user namespaces
    "--disable-gpu",
    "--disable-dev-shm-usage",  # Docker's /dev/shm is 64 MB
    "--no-pdf-header-footer",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-quic",
    "--host-resolver-rules=MAP * ~NOTFOUND",  # a page that stands alone needs no network
)


def chromium_command(executable: str, workdir: Path) -> list[str]:
    """The command line that prints ``workdir/page.html`` to ``workdir/out.pdf``."""
    return [executable, *CHROMIUM_FLAGS, f"--user-data-dir={workdir / 'profile'}",
            f"--print-to-pdf={workdir / 'out.pdf'}", (workdir / "page.html").as_uri()]


def find_chromium(chromium_path: str | None = None) -> str | None:
    """The Chromium executable of ``chromium_path`` (default: the ``chromium_path``
    setting; a name is looked up on ``PATH``), or ``None`` when there is none."""
    return shutil.which(chromium_path or get_settings().chromium_path)


def html_to_pdf(html: str, *, timeout_s: float = 60.0,
                chromium_path: str | None = None) -> bytes:
    """Print ``html`` (a page that stands alone) to PDF with headless Chromium.

    Paper size and margins come from the page's CSS ``@page`` (A4 in ``base.html.j2``).
    ``timeout_s`` bounds the wait for a free slot and the printing together.
    """
    configured = chromium_path or get_settings().chromium_path
    executable = find_chromium(configured)
    if executable is None:
        raise PdfUnavailable(
            f"PDF output needs headless Chromium, and '{configured}' was not found. Install "
            "the Debian package 'chromium' or set GEFIS_CHROMIUM_PATH; HTML works without it.")
    deadline = time.monotonic() + timeout_s
    if not _SLOTS.acquire(timeout=max(timeout_s, 0)):
        raise PdfUnavailable("All PDF printers are busy. Retry shortly.",
                             headers={"Retry-After": "5"})
    try:
        with tempfile.TemporaryDirectory(prefix="gefis-pdf-") as tmp:
            workdir = Path(tmp)
            (workdir / "page.html").write_text(html, encoding="utf-8")
            _run(chromium_command(executable, workdir), workdir, deadline - time.monotonic())
            pdf = workdir / "out.pdf"
            data = pdf.read_bytes() if pdf.is_file() else b""
    finally:
        _SLOTS.release()
    if not data.startswith(b"%PDF-"):
        raise PdfUnavailable("Chromium finished without writing a PDF.")
    return data


def _run(command: list[str], workdir: Path, timeout_s: float) -> None:
    """Run Chromium in a process group of its own, killed as a whole on timeout."""
    env = {**os.environ, "HOME": str(workdir), "XDG_CONFIG_HOME": str(workdir / "config"),
           "XDG_CACHE_HOME": str(workdir / "cache")}
    try:
        process = subprocess.Popen(command, cwd=workdir, env=env, stdin=subprocess.DEVNULL,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                   start_new_session=True)
    except OSError as exc:
        raise PdfUnavailable(f"Chromium could not be started: {exc.strerror}.") from exc
    try:
        _, stderr = process.communicate(timeout=max(timeout_s, 0.01))
    except subprocess.TimeoutExpired:
        # The leader is not reaped yet, so its process group id still belongs to it.
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise PdfUnavailable("Printing the PDF took too long and was stopped.",
                             headers={"Retry-After": "30"}) from None
    if process.returncode != 0:
        tail = stderr.decode("utf-8", "replace").strip().splitlines()[-5:]
        log.error("chromium exited with %s: %s", process.returncode, " | ".join(tail))
        raise PdfUnavailable(f"Chromium failed to print the PDF (exit status "
                             f"{process.returncode}).")
