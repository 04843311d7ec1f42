"""Charts (``app.services.render.charts``): valid, deterministic PNGs sized for A4, drawn in
the colours asked for, with German tick labels."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from app.services.render.charts import SERIES_COLOURS, _formatter, bar_chart, line_chart

DISTRICTS = ["Leipzig, Stadt", "Halle (Saale), Stadt", "Anhalt-Bitterfeld", "Saalekreis"]


def _image(png: bytes) -> Image.Image:
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    return Image.open(io.BytesIO(png)).convert("RGB")


def _has_colour(image: Image.Image, hex_colour: str, at_least: int = 200) -> bool:
    rgb = tuple(int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    colours = {c: n for n, c in image.getcolors(maxcolors=1 << 22) or []}
    return colours.get(rgb, 0) >= at_least


def test_stacked_bars_are_deterministic_and_use_the_colours() -> None:
    series = {"sofort": [120.0, 80.0, 40.5, 0.0], "kurzfristig": [10.0, 0.0, 60.0, 25.0]}
    colours = {"sofort": "#1a7f37", "kurzfristig": "#fdae6b"}
    png = bar_chart("Angebot je Kreis", DISTRICTS, series, unit="ha netto", stacked=True,
                    horizontal=True, colours=colours)
    assert png == bar_chart("Angebot je Kreis", DISTRICTS, series, unit="ha netto",
                            stacked=True, horizontal=True, colours=colours)
    image = _image(png)
    assert image.width == round(7.1 * 150)  # 18 cm at 150 dpi
    assert _has_colour(image, "#1a7f37") and _has_colour(image, "#fdae6b")
    bigger = _image(bar_chart("Angebot", DISTRICTS * 5, {"a": [1.0] * 20}, unit="ha",
                              horizontal=True))
    assert bigger.height > image.height  # one row per category


def test_grouped_and_negative_bars() -> None:
    image = _image(bar_chart("Bilanz", DISTRICTS, {"niedrig": [-50.0, 20.0, 5.0, -1.0],
                                                   "hoch": [-80.0, 10.0, -5.0, -9.0]},
                             unit="ha netto", dpi=100))
    assert image.width == 710
    assert _has_colour(image, SERIES_COLOURS[0]) and _has_colour(image, SERIES_COLOURS[1])
    single = _image(bar_chart("Eine Reihe", ["a", "b"], {"x": [1.0, 2.0]}, unit="Jahre"))
    assert _has_colour(single, SERIES_COLOURS[0])


def test_line_chart_with_gaps() -> None:
    png = line_chart("Angebot und Bedarf", ["2024Q1", "2024Q2", "2024Q3", "2024Q4"],
                     {"Angebot": [1000.0, None, 1200.0, 1150.0],
                      "Bedarf": [900.0, 950.0, 1000.0, 1050.0]}, unit="ha netto")
    image = _image(png)
    assert _has_colour(image, SERIES_COLOURS[0], 50) and _has_colour(image, SERIES_COLOURS[1], 50)
    assert png == line_chart("Angebot und Bedarf", ["2024Q1", "2024Q2", "2024Q3", "2024Q4"],
                             {"Angebot": [1000.0, None, 1200.0, 1150.0],
                              "Bedarf": [900.0, 950.0, 1000.0, 1050.0]}, unit="ha netto")


def test_empty_charts_say_so_and_bad_series_are_refused() -> None:
    assert _image(bar_chart("Leer", [], {}, unit="ha")).width > 0
    assert _image(line_chart("Leer", [], {}, unit="ha")).width > 0
    with pytest.raises(ValueError, match="2 values for 3 categories"):
        bar_chart("x", ["a", "b", "c"], {"s": [1.0, 2.0]}, unit="ha")
    with pytest.raises(ValueError, match="1 values for 2 labels"):
        line_chart("x", ["a", "b"], {"s": [1.0]}, unit="ha")


def test_tick_labels_are_german() -> None:
    assert _formatter([0.0, 2500.0])(1500.0, 0) == "1.500"
    assert _formatter([0.0, 2.0])(0.5, 0) == "0,5"
    assert _formatter([-30.0, 5.0])(-20.0, 0) == "-20"
