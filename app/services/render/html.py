"""HTML pages from Jinja2 templates, in German, printable on A4.

Every page extends ``base.html.j2``: a title block, the content, a footer with the data
sources (the BKG attribution of the boundaries) and, when ``synthetic`` is true, a visible
label that the parcels, sites and sales shown are synthetic demo data. Numbers are written
the German way (``1.234,5``); images are embedded as ``data:`` URIs or, for files written to
a folder, referenced by name.
"""

from __future__ import annotations

import base64
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATES = Path(__file__).parent / "templates"

#: The attribution the BKG licence asks for wherever the boundaries are shown.
BOUNDARY_ATTRIBUTION = ("© GeoBasis-DE / BKG 2017 (Daten verändert); Verwaltungsgrenzen VG250, "
                        "Gebietsstand 01.01.2016")
BKG_URL = "https://www.bkg.bund.de"
SYNTHETIC_LABEL = ("Synthetische Demodaten: Standorte, Flächen und Verkäufe sind erfunden "
                   "(kalibriert auf die Studie); nur die Verwaltungsgrenzen sind echt.")

_MONTHS = ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August",
           "September", "Oktober", "November", "Dezember")


def number_de(value: float | int | None, digits: int = 1) -> str:
    """A number with German separators; ``None`` as an en dash.

    >>> number_de(1234.56)
    '1.234,6'
    >>> number_de(-0.04, 1)
    '0,0'
    >>> number_de(12, 0), number_de(None)
    ('12', '–')
    """
    if value is None:
        return "–"
    rounded = round(float(value), digits)
    if rounded == 0:
        rounded = 0.0  # no "-0,0"
    text = f"{rounded:,.{digits}f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def percent_de(share: float | None, digits: int = 0) -> str:
    """A share (0–1) as German percent text.

    >>> percent_de(0.256)
    '26 %'
    """
    return "–" if share is None else f"{number_de(share * 100, digits)} %"


def date_de(value: date | datetime | str | None, long: bool = False) -> str:
    """A date the German way: ``31.12.2020`` or, long, ``31. Dezember 2020``.

    >>> date_de(date(2020, 12, 31)), date_de("2024-09-30", long=True)
    ('31.12.2020', '30. September 2024')
    """
    if value is None:
        return "–"
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    if isinstance(value, datetime):
        value = value.date()
    if long:
        return f"{value.day}. {_MONTHS[value.month - 1]} {value.year}"
    return f"{value.day:02d}.{value.month:02d}.{value.year}"


def yes_no(value: bool | None) -> str:
    """``ja``, ``nein`` or an en dash (unknown or withheld)."""
    return "–" if value is None else ("ja" if value else "nein")


def png_data_uri(png: bytes) -> str:
    """An image as a ``data:`` URI, for a page that must stand alone (HTTP answers, PDF)."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


@cache
def environment() -> Environment:
    """The Jinja2 environment: autoescaping, undefined names are errors, German filters."""
    env = Environment(loader=FileSystemLoader(TEMPLATES),
                      autoescape=select_autoescape(("html", "j2")),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(ha=number_de, num=number_de, pct=percent_de, date_de=date_de,
                       yes_no=yes_no)
    env.globals.update(BOUNDARY_ATTRIBUTION=BOUNDARY_ATTRIBUTION, BKG_URL=BKG_URL,
                       SYNTHETIC_LABEL=SYNTHETIC_LABEL)
    return env


def render_html(template: str, **context: Any) -> str:
    """Render ``template`` (a file in ``templates/``) with ``context``.

    ``base.html.j2`` expects ``title`` and ``synthetic`` (bool); ``generated_at`` is shown in
    the footer when given.
    """
    return environment().get_template(template).render(**context)
