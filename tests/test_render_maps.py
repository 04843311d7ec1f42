"""Maps (matplotlib PNG) and PDF printing (headless Chromium), with small exact inputs.

Maps are checked by their pixels: a class colour of the palette covers the interior of each
area drawn in it, so counting exact colours tells which classes were drawn and how much.
"""

from __future__ import annotations

import base64
import io
import stat
import threading
import time
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader
from shapely.geometry import Polygon, box

from app.domain.errors import PdfUnavailable
from app.services.render.classes import class_breaks, class_colours, class_of
from app.services.render.maps import (
    NO_DATA_COLOUR,
    MapArea,
    SiteMapParcel,
    choropleth_png,
    site_map_png,
)
from app.services.render.palette import AVAILABILITY_COLOURS, DIVERGING, SEQUENTIAL
from app.services.render.pdf import MAX_CONCURRENT, html_to_pdf

#: Two 10 km squares side by side in EPSG:25832 (near Leipzig).
WEST = box(300_000, 5_690_000, 310_000, 5_700_000)
EAST = box(312_000, 5_690_000, 322_000, 5_700_000)


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    value = hex_colour.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def _colour_counts(png: bytes) -> dict[tuple[int, int, int], int]:
    image = Image.open(io.BytesIO(png)).convert("RGB")
    return {colour: n for n, colour in image.getcolors(maxcolors=image.width * image.height)}


def test_two_squares_get_the_two_end_colours_of_the_scale() -> None:
    png = choropleth_png([MapArea(WEST.wkb, 1.0, "West"), MapArea(EAST.wkb, 2.0, "Ost")],
                         title="Test", legend_title="Nettofläche", unit="ha")
    assert png.startswith(b"\x89PNG")
    counts = _colour_counts(png)
    low, high = class_colours(2, False)
    assert (low, high) == (SEQUENTIAL[0], SEQUENTIAL[-1])
    assert counts.get(_rgb(low), 0) > 20_000 and counts.get(_rgb(high), 0) > 20_000
    # equal squares: equal areas of colour (labels cover a little of each)
    assert abs(counts[_rgb(low)] - counts[_rgb(high)]) < 0.1 * counts[_rgb(low)]


def test_diverging_colours_tell_the_sign_and_missing_values_are_grey() -> None:
    south = box(300_000, 5_678_000, 310_000, 5_688_000)
    png = choropleth_png([MapArea(WEST.wkb, -5.0, "West"), MapArea(EAST.wkb, 5.0, "Ost"),
                          MapArea(south.wkb, None, "Süd")],
                         title="Bilanz", legend_title="Bilanz", unit="ha", diverging=True)
    counts = _colour_counts(png)
    assert counts.get(_rgb(DIVERGING[0]), 0) > 20_000   # −5 in −6 bis unter −4
    assert counts.get(_rgb(DIVERGING[-1]), 0) > 20_000  # +5 in 4 bis 6
    assert counts.get(_rgb(NO_DATA_COLOUR), 0) > 5_000  # hatched, so partly covered
    assert counts.get(_rgb(DIVERGING[2]), 0) < 500      # an empty class: legend swatch only


def test_holes_stay_empty() -> None:
    """A square with a hole of a quarter of its area fills 3/4 of the plain square's pixels."""
    hole = box(302_500, 5_692_500, 307_500, 5_697_500)
    ring = Polygon(WEST.exterior.coords, [hole.exterior.coords])
    colour = _rgb(class_colours(1, False)[0])
    plain = _colour_counts(choropleth_png([MapArea(WEST.wkb, 3.0, "")], title="A",
                                          legend_title="x", unit="ha"))[colour]
    holed = _colour_counts(choropleth_png([MapArea(ring.wkb, 3.0, "")], title="A",
                                          legend_title="x", unit="ha"))[colour]
    assert 0.72 < holed / plain < 0.78, holed / plain


def test_maps_are_deterministic_and_carry_no_software_stamp() -> None:
    areas = [MapArea(WEST.wkb, 1.5, "West"), MapArea(EAST.wkb, None, "Ost")]
    first = choropleth_png(areas, title="T", legend_title="L", unit="ha")
    assert first == choropleth_png(areas, title="T", legend_title="L", unit="ha")
    assert b"matplotlib" not in first.lower() and b"Software" not in first
    assert Image.open(io.BytesIO(first)).size[0] == round(7.1 * 150)
    assert len(choropleth_png(areas, title="T", legend_title="L", unit="ha", dpi=75)) < len(first)


def test_class_breaks_edge_cases() -> None:
    assert class_breaks([]) == ([], 0)
    edges, _ = class_breaks([5.0, 5.0, 5.0])
    assert edges == [5.0, 5.0]
    values = [0.2, 0.4, 100.0]
    edges, _ = class_breaks(values, classes=5)
    assert edges[0] == 0.2 and edges[-1] == 100.0 and len(edges) <= 4  # three values at most
    assert edges == sorted(edges) and len(set(edges)) == len(edges)
    assert class_of(100.0, edges) == len(edges) - 2 and class_of(0.2, edges) == 0
    edges, _ = class_breaks([3.0, 9.0], diverging=True)  # all positive: still around 0
    assert edges[3] == 0.0 and edges[0] == -edges[-1] and edges[-1] >= 9.0


def test_site_map_colours_parcels_by_availability() -> None:
    outline = box(310_000, 5_690_000, 311_000, 5_690_600)
    parcels = [SiteMapParcel(box(310_050, 5_690_050, 310_450, 5_690_550).wkb, "sofort", "1"),
               SiteMapParcel(box(310_550, 5_690_050, 310_950, 5_690_550).wkb, "langfristig", "2")]
    district = box(290_000, 5_670_000, 330_000, 5_710_000)
    png = site_map_png(parcels, title="Teststandort", site_outline_wkb=outline.wkb,
                       district_wkb=district.wkb, district_name="Testkreis",
                       region_wkbs=[district.wkb, box(330_000, 5_670_000, 360_000, 5_710_000).wkb],
                       note="synthetisch")
    counts = _colour_counts(png)
    assert counts.get(_rgb(AVAILABILITY_COLOURS["sofort"]), 0) > 10_000
    assert counts.get(_rgb(AVAILABILITY_COLOURS["langfristig"]), 0) > 10_000
    assert counts.get(_rgb(AVAILABILITY_COLOURS["mittelfristig"]), 0) == 0  # none, no legend
    assert Image.open(io.BytesIO(png)).size == (round(7.1 * 150), round(4.75 * 150))


# --- PDF -----------------------------------------------------------------------------------

PAGE = """<!DOCTYPE html><html lang="de"><head><meta charset="utf-8"><title>Probe</title>
<style>@page {{ size: A4; margin: 15mm; }} html {{ font-family: "DejaVu Sans"; }}</style></head>
<body><h1>Größe 1.234,5 ha</h1><img src="{src}" width="400"></body></html>"""


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def test_pdf_is_a4_with_text_and_image() -> None:
    png = choropleth_png([MapArea(WEST.wkb, 1.0, "West")], title="T", legend_title="L", unit="ha")
    pdf = html_to_pdf(PAGE.format(src=_data_uri(png)))
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    page = reader.pages[0]
    assert abs(float(page.mediabox.width) - 595.3) < 2
    assert abs(float(page.mediabox.height) - 841.9) < 2
    assert "Größe 1.234,5 ha" in page.extract_text()
    assert len(page.images) == 1


def _fake_chromium(tmp_path: Path, body: str) -> str:
    script = tmp_path / "fake-chromium"
    script.write_text("#!/bin/sh\n" + body + "\n", encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(script)


def test_missing_or_failing_chromium_raises_pdf_unavailable(tmp_path: Path) -> None:
    with pytest.raises(PdfUnavailable, match="not found"):
        html_to_pdf("<p>x</p>", chromium_path=str(tmp_path / "no-such-chromium"))
    with pytest.raises(PdfUnavailable, match="exit status 3"):
        html_to_pdf("<p>x</p>", chromium_path=_fake_chromium(tmp_path, "exit 3"))
    with pytest.raises(PdfUnavailable, match="without writing a PDF"):
        html_to_pdf("<p>x</p>", chromium_path=_fake_chromium(tmp_path, "exit 0"))
    assert PdfUnavailable.status == 503


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ")[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


def test_a_hanging_chromium_is_killed_with_its_children(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    fake = _fake_chromium(tmp_path, f"sleep 60 & echo $! > {pid_file}\nwait")
    started = time.monotonic()
    with pytest.raises(PdfUnavailable, match="too long"):
        html_to_pdf("<p>x</p>", chromium_path=fake, timeout_s=1.0)
    assert time.monotonic() - started < 5
    child = int(pid_file.read_text())
    for _ in range(50):
        if not _alive(child):
            break
        time.sleep(0.05)
    assert not _alive(child), "the hanging child process was left running"


def test_at_most_two_chromium_processes_print_at_once(tmp_path: Path) -> None:
    log = tmp_path / "log"
    fake = _fake_chromium(tmp_path, f"echo start >> {log}; sleep 0.6; echo end >> {log}; exit 1")
    errors: list[Exception] = []

    def call() -> None:
        try:
            html_to_pdf("<p>x</p>", chromium_path=fake, timeout_s=20)
        except PdfUnavailable as exc:
            errors.append(exc)

    threads = [threading.Thread(target=call) for _ in range(MAX_CONCURRENT + 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(errors) == MAX_CONCURRENT + 2
    running = peak = 0
    for line in log.read_text().split():
        running += 1 if line == "start" else -1
        peak = max(peak, running)
    assert peak == MAX_CONCURRENT
