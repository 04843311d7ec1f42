"""Turn joint cells into sites and parcels with nominal net areas (before calibration).

Every district gets exactly its Table 6 number of sites. A site belongs to one district
and one category; its parcels carry availability and restriction level. Net areas here
are nominal (ha); :mod:`.fitting` calibrates them afterwards.
"""

from __future__ import annotations

import math

import numpy as np

from app.domain.vocab import CATEGORY
from tools.demo_data import targets as T
from tools.demo_data.allocation import RESTRICTIONS, Cells
from tools.demo_data.model import Parcel, Site
from tools.demo_data.plan import (
    MAX_PARCELS_PER_SITE,
    MIN_SITE_NET_HA,
    NAMED_PROJECTS,
    SITE_PLAN,
    TYPICAL_PARCEL_HA,
)

#: Pieces smaller than this (ha) are merged into another piece of the same site.
MIN_PIECE_HA = 0.8
#: Nominal parcels are kept at or below this size so calibration can still enlarge them.
MAX_NOMINAL_PARCEL_HA = 55.0
#: Typical parcel size of the named large projects (ha).
NAMED_TYPICAL_HA = 42.0

Piece = tuple[str, str, float]  # (availability, restriction level, net ha)


def _site_sizes(total: float, count: int, rng: np.random.Generator) -> list[float]:
    """Split ``total`` ha into ``count`` site sizes of at least ``MIN_SITE_NET_HA`` (+5 %)."""
    floor = MIN_SITE_NET_HA * 1.06
    if total < floor * count:
        return [total / count] * count
    weights = rng.lognormal(0.0, 0.7, size=count)
    spare = total - floor * count
    return [floor + spare * w / weights.sum() for w in weights]


def _northwest_corner(sizes: list[float], cells: list[tuple[str, str, float]]
                      ) -> list[list[Piece]]:
    """Allocate cell areas to sites in order (transport north-west corner rule)."""
    pieces: list[list[Piece]] = [[] for _ in sizes]
    i, room = 0, sizes[0] if sizes else 0.0
    for a, r, ha in cells:
        left = ha
        while left > 1e-9 and i < len(sizes):
            take = min(left, room)
            if take > 1e-9:
                pieces[i].append((a, r, take))
            left -= take
            room -= take
            if room <= 1e-9:
                i += 1
                room = sizes[i] if i < len(sizes) else 0.0
        if left > 1e-9 and pieces:
            pieces[-1].append((a, r, left))
    return pieces


def _merge_small(pieces: list[Piece]) -> list[Piece]:
    """Merge pieces below ``MIN_PIECE_HA`` into the largest piece of the same site."""
    merged: dict[tuple[str, str], float] = {}
    for a, r, ha in pieces:
        merged[(a, r)] = merged.get((a, r), 0.0) + ha
    big = {k: v for k, v in merged.items() if v >= MIN_PIECE_HA}
    small = sum(v for k, v in merged.items() if k not in big)
    if not big:
        key = max(merged, key=lambda k: merged[k])
        return [(key[0], key[1], sum(merged.values()))]
    top = max(big, key=lambda k: big[k])
    big[top] += small
    order = sorted(big, key=lambda k: (T.AVAILABILITIES.index(k[0]), RESTRICTIONS.index(k[1])))
    return [(a, r, big[(a, r)]) for a, r in order]


def _split_area(area: float, typical: float, rng: np.random.Generator) -> list[float]:
    """Split a piece of ``area`` ha into parcel sizes around ``typical`` ha."""
    k = max(1, round(area / typical), math.ceil(area / MAX_NOMINAL_PARCEL_HA))
    k = min(k, max(1, int(area // MIN_PIECE_HA)))
    for _ in range(50):
        sizes = rng.dirichlet(np.full(k, 2.5)) * area if k > 1 else np.array([area])
        if sizes.min() >= MIN_PIECE_HA * 0.99 and sizes.max() <= MAX_NOMINAL_PARCEL_HA:
            return [float(s) for s in sizes]
    return [area / k] * k


def _parcels_of_site(pieces: list[Piece], typical: float, rng: np.random.Generator
                     ) -> list[tuple[str, str, float]]:
    """Parcels (availability, level, nominal ha) of one site, at most 15."""
    for scale in (1.0, 1.5, 2.2, 3.5, 6.0, 12.0):
        out = [(a, r, s) for a, r, ha in pieces for s in _split_area(ha, typical * scale, rng)]
        if len(out) <= MAX_PARCELS_PER_SITE:
            return out
    raise ValueError("site cannot be split into at most 15 parcels")


def build_skeleton(cells: Cells, rng: np.random.Generator) -> tuple[list[Site], list[Parcel]]:
    """Create all sites and parcels (nominal areas) from the generic cells and named projects."""
    sites: list[Site] = []
    parcels: list[Parcel] = []

    def add_site(d: str, c: str, pieces: list[Piece], named_key: str | None) -> None:
        named = next((p for p in NAMED_PROJECTS if p.key == named_key), None)
        site = Site(index=len(sites), district=d, category=c,
                    net_plan=sum(p[2] for p in pieces), named=named)
        typical = NAMED_TYPICAL_HA if named else (
            TYPICAL_PARCEL_HA[c] * float(rng.lognormal(0.0, 0.35)))
        for a, r, ha in _parcels_of_site(pieces, typical, rng):
            parcel = Parcel(index=len(parcels), site=site.index, district=d, category=c,
                            availability=a, restriction=r, nominal_ha=ha)
            parcels.append(parcel)
            site.parcels.append(parcel.index)
        sites.append(site)

    for d in T.DISTRICT_KEYS:
        for c in CATEGORY.codes:
            count = SITE_PLAN[d].get(c, 0)
            named = [p for p in NAMED_PROJECTS if (p.district, p.category) == (d, c)]
            for p in named:
                add_site(d, c, [(a, r, ha) for a, r, ha in p.pieces], p.key)
            generic = count - len(named)
            dc_cells = sorted(
                ((a, r, ha) for (dd, cc, a, r), ha in cells.items() if (dd, cc) == (d, c)),
                key=lambda x: (T.AVAILABILITIES.index(x[0]), RESTRICTIONS.index(x[1])))
            total = sum(x[2] for x in dc_cells)
            if generic <= 0:
                if total > 0.5:
                    raise ValueError(f"{d}/{c}: {total:.1f} ha but no generic site planned")
                continue
            sizes = _site_sizes(total, generic, rng)
            order = [int(i) for i in rng.permutation(generic)]
            allocated = _northwest_corner([sizes[i] for i in order], dc_cells)
            for pieces in allocated:
                add_site(d, c, _merge_small(pieces), None)
    return sites, parcels
