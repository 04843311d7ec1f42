"""The web map (``/karte``): its page, the configuration it starts with, and the browser
packages it loads (MapLibre GL JS and Chart.js, installed from npm into ``web/``).

The page is one HTML document with German text; its script modules live in
``app/web/static/`` and talk only to the service's public API (``/api/v1``, the vector
tiles and the style), with the caller's API key when one is entered. Nothing here decides
what a caller may see: every request of the page goes through the API's own checks.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from app.domain.quarters import Quarter, quarters_between

#: The page and its own scripts and styles (package data).
WEB_DIR = Path(__file__).resolve().parent.parent / "web"
STATIC_DIR = WEB_DIR / "static"
#: The page's script modules (package data, fixed while the service runs), preloaded by it.
MODULES = tuple(sorted(p.name for p in STATIC_DIR.glob("*.js")))

#: Browser packages the page loads: URL folder under ``/karte/vendor/`` → folder inside
#: ``node_modules`` holding the package's distribution files.
VENDOR_PACKAGES = {"maplibre-gl": "maplibre-gl/dist", "chart.js": "chart.js/dist"}
#: The file of each package that must exist for the page to work.
VENDOR_ENTRY_FILES = ("maplibre-gl/dist/maplibre-gl.mjs", "maplibre-gl/dist/maplibre-gl.css",
                      "chart.js/dist/chart.umd.min.js")

SYNTHETIC_LABEL = ("Synthetische Demodaten: Standorte, Flächen, Verkäufe und Autobahnen sind "
                   "erfunden")

_ENV = Environment(loader=FileSystemLoader(WEB_DIR), autoescape=select_autoescape(["html"]),
                   trim_blocks=True, lstrip_blocks=True)


@dataclass(frozen=True)
class MapPageConfig:
    """What the page's scripts start with (embedded in the page as JSON).

    ``quarters`` are the quarter ends the time slider offers: from the quarter of the first
    recorded change (the survey) to the last completed one, oldest first; "today" comes
    after them in the page.
    """

    base_url: str
    today: date
    quarters: tuple[date, ...]
    synthetic: bool
    background_style_url: str | None
    #: the region's bounding box (west, south, east, north; CRS84): the map's first view
    region: tuple[float, float, float, float]

    def document(self) -> dict[str, Any]:
        """The configuration as JSON-ready values."""
        return {
            "apiBase": f"{self.base_url}/api/v1",
            "base": self.base_url,
            "styleUrl": f"{self.base_url}/styles/gefis",
            "backgroundStyleUrl": self.background_style_url,
            "today": self.today.isoformat(),
            "quarters": [q.isoformat() for q in self.quarters],
            "synthetic": self.synthetic,
            "regionBounds": [list(self.region[:2]), list(self.region[2:])],
        }


def slider_quarters(first_day: date | None, today: date) -> tuple[date, ...]:
    """Last days of the quarters from the one holding ``first_day`` to the last completed
    one before ``today`` (none without a history).

    >>> [d.isoformat() for d in slider_quarters(date(2020, 12, 31), date(2021, 8, 2))]
    ['2020-12-31', '2021-03-31', '2021-06-30']
    >>> slider_quarters(None, date(2021, 8, 2))
    ()
    """
    if first_day is None:
        return ()
    first, last = Quarter.containing(first_day), Quarter.last_completed(today)
    if last < first:
        return ()
    return tuple(q.last_day for q in quarters_between(first, last))


def missing_vendor_files(modules_dir: Path) -> list[str]:
    """The packages' entry files missing under ``modules_dir`` (empty: all there)."""
    return [name for name in VENDOR_ENTRY_FILES if not (modules_dir / name).is_file()]


def map_page_html(config: MapPageConfig) -> str:
    """The page, with ``config`` embedded as JSON (``<`` escaped, so no value can close
    the script element); every script module is preloaded (no import waterfall)."""
    embedded = json.dumps(config.document(), ensure_ascii=False).replace("<", "\\u003c")
    return _ENV.get_template("karte.html").render(config=embedded, base=config.base_url,
                                                  synthetic=config.synthetic,
                                                  synthetic_label=SYNTHETIC_LABEL,
                                                  modules=MODULES)
