"""Legend classes of a choropleth (pure): class edges from the values, the class of a value,
its colour from the palette and its German legend label."""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable, Sequence

from app.services.render.html import number_de
from app.services.render.palette import DIVERGING, SEQUENTIAL


def nice_ceil(x: float) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10ⁿ that is ≥ ``x`` (``x`` > 0).

    >>> nice_ceil(3.2), nice_ceil(0.07), nice_ceil(2.5), nice_ceil(120)
    (5.0, 0.1, 2.5, 200.0)
    """
    exponent = math.floor(math.log10(x))
    for step in (1.0, 2.0, 2.5, 5.0, 10.0):
        candidate = step * 10.0 ** exponent
        if candidate >= x * (1 - 1e-12):
            return float(f"{candidate:.12g}")
    raise AssertionError(x)


def class_breaks(values: Iterable[float], *, classes: int = 5,
                 diverging: bool = False) -> tuple[list[float], int]:
    """Class edges for ``values`` and the decimals their labels need.

    Sequential: quantile cuts rounded to a step of 10ⁿ (about a tenth of a class's width),
    between the smallest and the largest value; fewer classes when values are few or
    cuts coincide. Diverging: six classes of equal, nicely rounded width, symmetric around 0
    (0 is always an edge, so the colour tells the sign).

    >>> class_breaks([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], classes=5)
    ([1.0, 2.8, 4.6, 6.4, 8.2, 10.0], 1)
    >>> class_breaks([-40, 10, 75], diverging=True)
    ([-75.0, -50.0, -25.0, 0.0, 25.0, 50.0, 75.0], 0)
    >>> class_breaks([3.0, 3.0])
    ([3.0, 3.0], 1)
    """
    data = sorted(float(v) for v in values)
    if not data:
        return [], 0
    low, high = data[0], data[-1]
    if diverging:
        step = nice_ceil(max(abs(low), abs(high), 1e-9) / 3)
        return [float(f"{i * step:.12g}") for i in range(-3, 4)], _decimals(step)
    distinct = sorted(set(data))
    if len(distinct) == 1:
        return [low, high], _decimals(abs(low) / 10 if low else 1.0)
    k = min(classes, len(distinct))
    step = 10.0 ** math.floor(math.log10((high - low) / k / 10))
    cuts: list[float] = []
    for i in range(1, k):
        position = i * (len(data) - 1) / k
        below = data[math.floor(position)]
        above = data[math.ceil(position)]
        exact = below + (above - below) * (position - math.floor(position))
        cut = float(f"{round(exact / step) * step:.12g}")
        if low < cut < high and (not cuts or cut > cuts[-1]):
            cuts.append(cut)
    return [low, *cuts, high], _decimals(step)


def _decimals(step: float) -> int:
    return max(0, min(3, -math.floor(math.log10(step)))) if step > 0 else 1


def class_of(value: float, edges: Sequence[float]) -> int:
    """Index of the class of ``value``: ``edges[i] ≤ value < edges[i+1]``; the last class
    includes its upper edge, values outside fall into the nearest class.

    >>> class_of(2.8, [1, 2.8, 4.6]), class_of(4.6, [1, 2.8, 4.6]), class_of(0, [1, 2.8, 4.6])
    (1, 1, 0)
    """
    return min(bisect_right(edges[1:-1], value), max(len(edges) - 2, 0))


def class_colours(count: int, diverging: bool) -> list[str]:
    """``count`` colours spread over the sequential (or diverging) palette.

    >>> class_colours(3, False) == [SEQUENTIAL[0], SEQUENTIAL[2], SEQUENTIAL[5]]
    True
    """
    palette = DIVERGING if diverging else SEQUENTIAL
    if count <= 1:
        return [palette[len(palette) // 2]][:count]
    last = len(palette) - 1
    return [palette[round(i * last / (count - 1))] for i in range(count)]


def class_labels(edges: Sequence[float], decimals: int, unit: str) -> list[str]:
    """German legend entries: ``a bis unter b``, the last ``a bis b``, with the unit.

    >>> class_labels([-2.5, 0, 2.5], 1, "ha")
    ['−2,5 bis unter 0,0 ha', '0,0 bis 2,5 ha']
    """
    suffix = f" {unit}" if unit else ""
    labels = []
    for i in range(len(edges) - 1):
        lo, hi = (number_de(v, decimals).replace("-", "\u2212") for v in edges[i:i + 2])
        joiner = "bis" if i == len(edges) - 2 else "bis unter"
        labels.append(f"{lo} {joiner} {hi}{suffix}" if lo != hi else f"{lo}{suffix}")
    return labels
