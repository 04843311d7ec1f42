"""Place every site's parcels as rectangles inside the real municipalities (EPSG:25832).

A site is one block (or two blocks for inter-municipal named projects, one per partner
municipality). Blocks are searched on a spiral around the site's anchor until the block
outline lies inside the municipality shrunk by 30 m (parcels keep >= 25 m from the
boundary), keeps 50 m from other sites, and avoids motorways, the airport, terminals,
lakes and, unless all its parcels carry a restriction, the schematic floodplains.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely import affinity
from shapely.geometry import MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.ops import nearest_points
from shapely.prepared import PreparedGeometry, prep

from tools.demo_data.boundaries import Municipality, Region, to_utm
from tools.demo_data.infrastructure import Infrastructure
from tools.demo_data.layout import Block, layout_block
from tools.demo_data.model import Parcel, Site
from tools.demo_data.places import LAKES

SITE_GAP_M = 50.0
MAX_SEARCH_RADIUS_M = 12_000.0

#: Share of the site outline that is on offer, per category (uniform range).
OCCUPANCY: dict[str, tuple[float, float]] = {
    "restflaeche_bestandsgebiet": (0.3, 0.65), "erweiterungsflaeche": (0.78, 0.95),
    "innerstaedtische_brache": (0.7, 0.9),
}
DEFAULT_OCCUPANCY = (0.88, 0.98)


@dataclass(slots=True)
class _Context:
    region: Region
    forbidden: PreparedGeometry
    flood: PreparedGeometry
    placed: list[tuple[tuple[float, float, float, float], BaseGeometry]] = field(
        default_factory=list)

    def fits(self, outline: Polygon, muni: Municipality, flood_ok: bool) -> bool:
        minx, miny, maxx, maxy = outline.bounds
        ib = muni.inset.bounds
        if minx < ib[0] or miny < ib[1] or maxx > ib[2] or maxy > ib[3]:
            return False
        if not muni.inset_prepared.contains(outline) or self.forbidden.intersects(outline):
            return False
        if not flood_ok and self.flood.intersects(outline):
            return False
        for (ax, ay, bx, by), other in self.placed:
            if (ax - SITE_GAP_M < maxx and minx < bx + SITE_GAP_M
                    and ay - SITE_GAP_M < maxy and miny < by + SITE_GAP_M
                    and outline.distance(other) < SITE_GAP_M):
                return False
        return True


def _forbidden(infra: Infrastructure) -> BaseGeometry:
    parts = [g.buffer(80.0) for g in infra.motorways.values()]
    parts.append(infra.airport.buffer(2_500.0))
    parts += [p.buffer(400.0) for _, p in infra.terminals]
    parts += [to_utm(lon, lat).buffer(r) for _, lon, lat, r in LAKES]
    return shapely.union_all(parts)


def _fillers(category: str, gross_m2: float, rng: np.random.Generator) -> list[float]:
    lo, hi = OCCUPANCY.get(category, DEFAULT_OCCUPANCY)
    total = gross_m2 * (1.0 / float(rng.uniform(lo, hi)) - 1.0)
    n = max(1, round(total / 50_000.0))
    return [float(s) for s in rng.dirichlet(np.full(n, 3.0)) * total]


def _make_block(category: str, gross_m2: list[float], rng: np.random.Generator) -> Block:
    fillers = _fillers(category, sum(gross_m2), rng)
    road = float(rng.uniform(9.0, 14.0))
    aspect = float(rng.uniform(1.0, 1.8))
    margin = float(rng.uniform(6.0, 15.0))
    for attempt in range(8):
        try:
            return layout_block(gross_m2, fillers, road, aspect, margin)
        except ValueError:
            road += 3.0
            aspect = 1.0 + 0.1 * attempt
    raise ValueError("no layout found for block")


def _search(block: Block, muni: Municipality, start: Point, angle: float, ctx: _Context,
            flood_ok: bool) -> Block | None:
    ib = muni.inset.bounds
    reach = max(math.hypot(x - start.x, y - start.y)
                for x in (ib[0], ib[2]) for y in (ib[1], ib[3]))
    for turn in (0.0, 90.0, 45.0):
        rotated = block.placed(angle + turn, 0.0, 0.0)
        outline = rotated.outline
        ob = outline.bounds
        if ob[2] - ob[0] > ib[2] - ib[0] or ob[3] - ob[1] > ib[3] - ib[1]:
            continue
        size = math.sqrt(outline.area)
        step = min(600.0, max(150.0, size / 4.0))
        rings = int(min(MAX_SEARCH_RADIUS_M, reach) / step) + 1
        for k in range(rings):
            r = k * step
            n_dir = 1 if k == 0 else max(6, int(2.0 * math.pi * r / step))
            for j in range(n_dir):
                phi = 2.0 * math.pi * j / n_dir + 0.37 * k
                dx, dy = start.x + r * math.cos(phi), start.y + r * math.sin(phi)
                # Most candidates leave the municipality's bounding box; reject them before
                # building the translated geometry (same test as in fits(): translating
                # shifts every bound exactly by dx or dy).
                if (ob[0] + dx < ib[0] or ob[1] + dy < ib[1]
                        or ob[2] + dx > ib[2] or ob[3] + dy > ib[3]):
                    continue
                cand = affinity.translate(outline, dx, dy)
                if ctx.fits(cand, muni, flood_ok):
                    return rotated.placed(0.0, dx, dy)
    return None


def _blocks_of(site: Site, parcels: list[Parcel]) -> list[list[int]]:
    """Parcel indices per block: one block, or two for a named two-municipality site."""
    if site.named is None or len(site.named.blocks) < 2 or len(site.parcels) < 2:
        return [list(site.parcels)]
    groups: list[list[int]] = [[], []]
    sums = [0.0, 0.0]
    for i in sorted(site.parcels, key=lambda i: (-parcels[i].gross_ha, i)):
        k = 0 if sums[0] <= sums[1] * 1.2 else 1
        groups[k].append(i)
        sums[k] += parcels[i].gross_ha
    return groups


def _place_site(site: Site, parcels: list[Parcel], ctx: _Context, rng: np.random.Generator
                ) -> None:
    region = ctx.region
    assert site.anchor is not None
    angle = float(rng.uniform(-35.0, 35.0))
    outlines: list[Polygon] = []
    block_groups = _blocks_of(site, parcels)
    if site.named is not None:
        munis = [region.municipalities[a] for a in site.named.blocks[: len(block_groups)]]
    else:
        m = region.municipalities[site.anchor.town_ags]
        munis = [m]
    start = site.anchor.point
    if len(munis) == 2:
        shared = munis[0].geom.boundary.intersection(munis[1].geom.boundary)
        start = nearest_points(shared, start)[0]
    for group, muni in zip(block_groups, munis, strict=True):
        block = _make_block(site.category, [parcels[i].gross_ha * 1e4 for i in group], rng)
        candidates = [muni]
        if site.named is None:
            others = [m for m in region.of_district(site.district) if m.ags != muni.ags]
            candidates += sorted(others, key=lambda m: (m.geom.distance(start), m.ags))
        placed = None
        for cand_muni in candidates:
            origin = start if cand_muni is muni else cand_muni.inset.representative_point()
            placed = _search(block, cand_muni, origin, angle, ctx, site.flood_ok)
            if placed is not None:
                muni = cand_muni
                break
        if placed is None:
            raise RuntimeError(f"no place found for site {site.index} ({site.district})")
        ctx.placed.append((placed.outline.bounds, placed.outline))
        outlines.append(placed.outline)
        for i, geom in zip(group, placed.parcels, strict=True):
            parcels[i].geometry = geom
            parcels[i].municipality_ags = muni.ags
        if not site.municipality_ags:
            site.municipality_ags = muni.ags
    site.outline = MultiPolygon(outlines)


def place_sites(sites: list[Site], parcels: list[Parcel], region: Region,
                infra: Infrastructure, flood: BaseGeometry, rng: np.random.Generator,
                occupied: Sequence[BaseGeometry] = (), avoid: BaseGeometry | None = None
                ) -> None:
    """Set geometries and municipalities of all sites and parcels (gross areas must be set).

    ``occupied``: outlines of sites placed earlier (kept 50 m away); ``avoid``: more land
    the blocks must not touch (e.g. the points of earlier land sales).
    """
    forbidden = _forbidden(infra)
    if avoid is not None:
        forbidden = shapely.union_all([forbidden, avoid])
    ctx = _Context(region, prep(forbidden), prep(flood), [(g.bounds, g) for g in occupied])
    order = sorted(sites, key=lambda s: (s.named is None, -sum(parcels[i].gross_ha
                                                               for i in s.parcels), s.index))
    for site in order:
        _place_site(site, parcels, ctx, rng)
