"""Browser tests: Playwright driving Debian's headless Chromium, and a check for drawn pixels.

A test module imports the fixture (``from tests.browser import browser  # noqa: F401``) and
opens a page that stands alone with ``page.set_content(html)``; :func:`drawn_pixels` then
tells whether a chart or map really drew something: it screenshots the element's box and
counts the pixels that are not background (near-white). An ``<img>`` that failed to load
counts as broken (:class:`BrokenImage`), not as blank.
"""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator

import pytest
from PIL import Image
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

#: Arguments for a headless Chromium in a container (no sandbox, software GL).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--use-angle=swiftshader",
                 "--enable-unsafe-swiftshader", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]

#: A pixel counts as background when all its channels are at least this bright.
NEAR_WHITE = 245


def chromium_executable() -> str | None:
    """Debian's Chromium (``/usr/bin/chromium``), or one named ``chromium`` on ``PATH``."""
    return shutil.which("chromium") or shutil.which("/usr/bin/chromium")


class _SharedBrowser:
    """One Playwright driver and one Chromium for the whole run.

    Every test module that imports :func:`browser` gets a fixture definition of its own,
    but the Playwright sync API cannot run twice at once in a thread: the definitions share
    this one browser, closed when the last of them is torn down.
    """

    def __init__(self) -> None:
        self.playwright: Playwright | None = None
        self.browser: Browser | None = None
        self.users = 0

    def acquire(self) -> Browser:
        if self.browser is None:
            executable = chromium_executable()
            if executable is None:
                pytest.fail("Debian's chromium is required for the browser tests "
                            "(apt-get install chromium; `make test` installs it)")
            self.playwright = sync_playwright().start()
            self.browser = self.playwright.chromium.launch(executable_path=executable,
                                                           args=CHROMIUM_ARGS)
        self.users += 1
        return self.browser

    def release(self) -> None:
        self.users -= 1
        if self.users == 0 and self.browser is not None and self.playwright is not None:
            self.browser.close()
            self.playwright.stop()
            self.browser = self.playwright = None


_SHARED = _SharedBrowser()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """A headless Chromium for the whole test session (closed at its end)."""
    launched = _SHARED.acquire()
    try:
        yield launched
    finally:
        _SHARED.release()


@pytest.fixture(scope="session")
def profiled_context(browser: Browser,
                     tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserContext]:
    """A second Chromium with a profile on disk, for pages loaded again and again (the web
    map): unlike the contexts of :func:`browser`, which keep nothing, its code cache keeps
    the compiled scripts between pages."""
    del browser  # the shared Playwright driver is started
    assert _SHARED.playwright is not None
    context = _SHARED.playwright.chromium.launch_persistent_context(
        tmp_path_factory.mktemp("chromium-profile"), executable_path=chromium_executable(),
        args=CHROMIUM_ARGS)
    yield context
    context.close()


class BrokenImage(AssertionError):
    """An ``<img>`` that did not load (missing, undecodable or empty source)."""


def drawn_pixels(page: Page, selector: str) -> int:
    """How many pixels of the first element matching ``selector`` are not near-white.

    For an ``<img>`` (or an element containing exactly the images to check) every image
    inside must have loaded with a natural width > 0, else :class:`BrokenImage` is raised.
    """
    element = page.locator(selector).first
    element.wait_for(state="visible")
    images = element.evaluate(
        """el => (el.tagName === 'IMG' ? [el] : Array.from(el.querySelectorAll('img')))
                 .map(img => ({src: (img.currentSrc || img.src).slice(0, 40),
                               complete: img.complete, width: img.naturalWidth}))""")
    broken = [img for img in images if not img["complete"] or img["width"] <= 0]
    if broken:
        raise BrokenImage(f"{selector}: image(s) not loaded: {broken}")
    shot = Image.open(io.BytesIO(element.screenshot())).convert("RGB")
    return sum(count for count, (r, g, b) in shot.getcolors(maxcolors=shot.width * shot.height)
               if min(r, g, b) < NEAR_WHITE)


def distinct_colours(page: Page, selector: str) -> int:
    """How many distinct colours the element's screenshot has (a blank box has one)."""
    shot = Image.open(io.BytesIO(page.locator(selector).first.screenshot())).convert("RGB")
    return len(shot.getcolors(maxcolors=shot.width * shot.height))
