"""Lay out the parcels of one estate block as rectangles (local metres, origin-centred).

A squarified treemap tiles a rectangle with one tile per parcel (plus "filler" tiles for
land that is not on offer: plots already sold and built on, green and retention areas).
Each parcel is the rectangle of exactly its gross area shrunk symmetrically inside its
tile, so neighbouring parcels are separated by roads of about twice the shrink distance.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from shapely import affinity
from shapely.geometry import Polygon, box

Rect = tuple[float, float, float, float]  # x, y, width, height


@dataclass(frozen=True, slots=True)
class Block:
    """Parcel rectangles (in input order) and the block outline, centred on (0, 0)."""

    parcels: list[Polygon]
    outline: Polygon

    def placed(self, angle_deg: float, dx: float, dy: float) -> Block:
        """The block rotated by ``angle_deg`` about the origin and moved by (dx, dy)."""
        def move(g: Polygon) -> Polygon:
            rotated = affinity.rotate(g, angle_deg, origin=(0.0, 0.0))
            return affinity.translate(rotated, dx, dy)

        return Block([move(p) for p in self.parcels], move(self.outline))


def _worst(row: Sequence[float], side: float) -> float:
    s = sum(row)
    return max(max(side * side * r / (s * s), s * s / (side * side * r)) for r in row)


def squarify(areas: Sequence[float], rect: Rect) -> list[Rect]:
    """Tile ``rect`` with rectangles of the given areas (descending order expected).

    The areas must sum to the rectangle's area. Returns one rectangle per area, in order.
    """
    out: list[Rect] = []
    x, y, w, h = rect
    i = 0
    while i < len(areas):
        side = min(w, h)
        row = [areas[i]]
        i += 1
        while i < len(areas) and _worst([*row, areas[i]], side) <= _worst(row, side):
            row.append(areas[i])
            i += 1
        s = sum(row)
        if w >= h:  # column on the left
            col_w = s / h
            yy = y
            for a in row:
                out.append((x, yy, col_w, a / col_w))
                yy += a / col_w
            x, w = x + col_w, w - col_w
        else:  # row at the bottom
            row_h = s / w
            xx = x
            for a in row:
                out.append((xx, y, a / row_h, row_h))
                xx += a / row_h
            y, h = y + row_h, h - row_h
    return out


def _shrink(tile: Rect, area: float) -> Polygon:
    """Rectangle of exactly ``area`` m² centred in ``tile``."""
    x, y, w, h = tile
    disc = (w + h) ** 2 - 4.0 * (w * h - area)
    d = ((w + h) - math.sqrt(max(disc, 0.0))) / 4.0
    if d < 2.0 or w - 2 * d < 15.0 or h - 2 * d < 15.0:
        raise ValueError("tile too tight for its parcel")
    return box(x + d, y + d, x + w - d, y + h - d)


def layout_block(gross_m2: Sequence[float], filler_m2: Sequence[float], road_m: float,
                 aspect: float, margin_m: float) -> Block:
    """Parcels of the given gross areas (m²) and filler tiles in one rectangular block.

    ``road_m`` is about half the width of the roads between parcels, ``aspect`` the
    block's width/height ratio and ``margin_m`` the strip between parcels and the outline.
    """
    tiles = [(math.sqrt(a) + 2.0 * road_m) ** 2 for a in gross_m2]
    fill = [(math.sqrt(a) + 2.0 * road_m) ** 2 for a in filler_m2]
    items = sorted([(t, i) for i, t in enumerate(tiles)]
                   + [(t, -1 - j) for j, t in enumerate(fill)], key=lambda ti: (-ti[0], ti[1]))
    total = sum(t for t, _ in items)
    width = math.sqrt(total * aspect)
    height = total / width
    rects = squarify([t for t, _ in items], (-width / 2.0, -height / 2.0, width, height))
    parcels: list[Polygon | None] = [None] * len(gross_m2)
    for (_, idx), rect in zip(items, rects, strict=True):
        if idx >= 0:
            parcels[idx] = _shrink(rect, gross_m2[idx])
    outline = box(-width / 2.0 - margin_m, -height / 2.0 - margin_m,
                  width / 2.0 + margin_m, height / 2.0 + margin_m)
    return Block([p for p in parcels if p is not None], outline)
