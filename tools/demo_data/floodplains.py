"""Schematic floodplains (Überschwemmungsgebiete) along the region's main rivers.

Each river course of :data:`.places.RIVERS` is buffered segment by segment with a half
width that varies smoothly (±35 %) around the river's nominal value. Output in
EPSG:25832; not a flood-hazard map, only a plausible synthetic layer.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from shapely.geometry import LineString
from shapely.geometry.base import BaseGeometry
from shapely.ops import substring

from tools.demo_data.boundaries import project
from tools.demo_data.places import RIVERS

SEGMENT_M = 1_500.0


def river_lines() -> dict[str, LineString]:
    """River courses in EPSG:25832."""
    out: dict[str, LineString] = {}
    for name, (_, coords) in RIVERS.items():
        line = project(LineString(coords))
        assert isinstance(line, LineString)
        out[name] = line
    return out


def floodplains(rng: np.random.Generator) -> BaseGeometry:
    """Union of all schematic floodplain polygons (EPSG:25832)."""
    parts = []
    for name, line in river_lines().items():
        half_width = RIVERS[name][0]
        phase = float(rng.uniform(0.0, 2.0 * math.pi))
        wavelength = float(rng.uniform(6_000.0, 14_000.0))
        n = max(2, math.ceil(line.length / SEGMENT_M))
        for i in range(n):
            seg = substring(line, i * line.length / n, (i + 1) * line.length / n)
            mid = (i + 0.5) * line.length / n
            factor = 1.0 + 0.35 * math.sin(2.0 * math.pi * mid / wavelength + phase)
            parts.append(seg.buffer(half_width * factor, quad_segs=4))
    return shapely.union_all(parts).simplify(20.0)
