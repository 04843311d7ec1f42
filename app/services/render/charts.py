"""Charts as PNG (matplotlib, Agg backend): bars and lines with German labels and numbers.

Sized for an A4 page (18 cm wide at 150 dpi by default), with a title, the unit on the value
axis, German number formatting (``1.234,5``), a legend when there is more than one series.
Deterministic: no time stamp or software tag in the file, so the same data gives the same
bytes (with the same matplotlib and fonts). Figures are made without pyplot (no global
state); a lock keeps two threads from drawing at once, as matplotlib is not thread-safe.
"""

from __future__ import annotations

import io
import math
import threading
from collections.abc import Mapping, Sequence

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from app.services.render.html import number_de

#: Colours of series without one of their own: Okabe–Ito, safe for colour-blind readers.
SERIES_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00",
                  "#F0E442", "#000000")
#: Width of a chart on an A4 page, inches (about 18 cm).
WIDTH_IN = 7.1
FONT_SIZE = 8.5
_LOCK = threading.Lock()
_INK = "#1d2733"
_GRID = "#c9d1d9"


def _formatter(values: Sequence[float]) -> FuncFormatter:
    """Tick labels the German way, with a decimal only where the ticks need one."""
    top = max((abs(v) for v in values if v is not None and math.isfinite(v)), default=0.0)
    digits = 0 if top >= 10 else 1
    return FuncFormatter(lambda x, _pos: number_de(x, digits))


def _png(fig: Figure, dpi: int) -> bytes:
    out = io.BytesIO()
    FigureCanvasAgg(fig)
    fig.savefig(out, format="png", dpi=dpi, metadata={"Software": None})
    return out.getvalue()


def _style(ax: Axes, title: str) -> None:
    ax.set_title(title, loc="left", fontsize=FONT_SIZE + 2.5, fontweight="bold", color=_INK,
                 pad=10)
    ax.tick_params(labelsize=FONT_SIZE, colors=_INK)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _legend(fig: Figure, ax: Axes, count: int) -> None:
    """The legend below the plot, outside it (constrained layout makes room)."""
    if count > 1:
        handles, labels = ax.get_legend_handles_labels()
        longest = max(len(label) for label in labels)
        per_row = max(1, min(count, 5, int(100 / (longest + 6))))  # fits the width
        fig.legend(handles, labels, fontsize=FONT_SIZE, frameon=False,
                   loc="outside lower center", ncols=per_row)


def _no_data(ax: Axes) -> None:
    ax.text(0.5, 0.5, "keine Daten", transform=ax.transAxes, ha="center", va="center",
            fontsize=FONT_SIZE + 2, color="#5b6672")


def bar_chart(title: str, categories: Sequence[str], series: Mapping[str, Sequence[float]], *,
              unit: str, stacked: bool = False, horizontal: bool = False,
              colours: Mapping[str, str] | None = None, dpi: int = 150) -> bytes:
    """A bar chart as PNG bytes: one group of bars per category, one bar per series
    (side by side, or ``stacked``); ``horizontal`` for long category names.

    ``series`` maps a German series name (the legend) to one value per category; ``unit``
    labels the value axis (e.g. ``"ha netto"``); ``colours`` maps series names to colours
    (others take :data:`SERIES_COLOURS` in turn). A single series is labelled with its values.
    """
    names = list(series)
    for name in names:
        if len(series[name]) != len(categories):
            raise ValueError(f"series {name!r} has {len(series[name])} values for "
                             f"{len(categories)} categories")
    n = len(categories)
    height = max(3.2, 0.32 * n * (1 if stacked else max(1, len(names) * 0.6)) + 1.6) \
        if horizontal else 3.9
    with _LOCK:
        fig = Figure(figsize=(WIDTH_IN, height), layout="constrained")
        ax = fig.add_subplot()
        _style(ax, title)
        values = [float(v) for name in names for v in series[name]]
        if n == 0 or not names:
            _no_data(ax)
            return _png(fig, dpi)
        slot = 0.8 if stacked else 0.8 / len(names)
        base = [0.0] * n
        low = [0.0] * n
        palette = dict(colours or {})
        spare = iter(c for c in SERIES_COLOURS if c not in palette.values())
        for i, name in enumerate(names):
            colour = palette.get(name) or next(spare, "#777777")
            data = [float(v) for v in series[name]]
            if stacked:  # positive values stack upwards, negative ones downwards
                offsets = [b if v >= 0 else lo for v, b, lo in zip(data, base, low, strict=True)]
                positions = list(range(n))
            else:
                offsets = [0.0] * n
                positions = [k - 0.4 + slot * (i + 0.5) for k in range(n)]
            draw = ax.barh if horizontal else ax.bar
            bars = draw(positions, data, slot, offsets, label=name, color=colour,
                        edgecolor="white", linewidth=0.5)
            if stacked:
                base = [b + max(v, 0) for v, b in zip(data, base, strict=True)]
                low = [lo + min(v, 0) for v, lo in zip(data, low, strict=True)]
            if len(names) == 1 and n <= 20:
                ax.bar_label(bars, labels=[number_de(v) for v in data], padding=2,
                             fontsize=FONT_SIZE - 0.5, color=_INK)
        ticks = list(range(n))
        value_axis = ax.xaxis if horizontal else ax.yaxis
        value_axis.set_major_formatter(_formatter([*values, *base, *low]))
        value_axis.set_major_locator(MaxNLocator(nbins=6))
        if horizontal:
            ax.set_yticks(ticks, list(categories))
            ax.invert_yaxis()  # the first category on top, as in a table
            ax.set_xlabel(unit, fontsize=FONT_SIZE, color=_INK)
            ax.grid(axis="x", color=_GRID, linewidth=0.6)
            ax.axvline(0, color=_INK, linewidth=0.8)
        else:
            ax.set_xticks(ticks, list(categories), rotation=30 if n > 5 else 0,
                          ha="right" if n > 5 else "center")
            ax.set_ylabel(unit, fontsize=FONT_SIZE, color=_INK)
            ax.grid(axis="y", color=_GRID, linewidth=0.6)
            ax.axhline(0, color=_INK, linewidth=0.8)
        ax.set_axisbelow(True)
        if len(names) == 1 and horizontal:
            ax.margins(x=0.08)
        elif len(names) == 1:
            ax.margins(y=0.1)
        _legend(fig, ax, len(names))
        return _png(fig, dpi)


def line_chart(title: str, x_labels: Sequence[str],
               series: Mapping[str, Sequence[float | None]], *, unit: str,
               dpi: int = 150) -> bytes:
    """A line chart as PNG bytes: one line per series over ``x_labels`` (e.g. quarters);
    ``None`` leaves a gap. ``unit`` labels the value axis."""
    names = list(series)
    for name in names:
        if len(series[name]) != len(x_labels):
            raise ValueError(f"series {name!r} has {len(series[name])} values for "
                             f"{len(x_labels)} labels")
    with _LOCK:
        fig = Figure(figsize=(WIDTH_IN, 3.6), layout="constrained")
        ax = fig.add_subplot()
        _style(ax, title)
        if not x_labels or not names:
            _no_data(ax)
            return _png(fig, dpi)
        positions = list(range(len(x_labels)))
        values: list[float] = []
        for i, name in enumerate(names):
            data = [math.nan if v is None else float(v) for v in series[name]]
            values += [v for v in data if not math.isnan(v)]
            ax.plot(positions, data, label=name, color=SERIES_COLOURS[i % len(SERIES_COLOURS)],
                    linewidth=1.8, marker="o", markersize=3.5)
        step = max(1, math.ceil(len(x_labels) / 12))  # at most about twelve labels
        ax.set_xticks(positions[::step], list(x_labels)[::step],
                      rotation=30 if len(x_labels) > 6 else 0,
                      ha="right" if len(x_labels) > 6 else "center")
        ax.yaxis.set_major_formatter(_formatter(values))
        ax.yaxis.set_major_locator(MaxNLocator(nbins=6))
        ax.set_ylabel(unit, fontsize=FONT_SIZE, color=_INK)
        ax.grid(axis="y", color=_GRID, linewidth=0.6)
        if values and min(values) < 0 < max(values):
            ax.axhline(0, color=_INK, linewidth=0.8)
        _legend(fig, ax, len(names))
        return _png(fig, dpi)
