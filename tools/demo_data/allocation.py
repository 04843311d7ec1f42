"""Split the study's marginal tables into joint cells (district x category x availability
x restriction) of net hectares, guided by the demo plan in :mod:`.plan`.

Pure functions on numbers; no geometry, no randomness. The cells are only a starting
point: :mod:`.fitting` later adjusts parcel areas so that every published figure is met.
"""

from __future__ import annotations

import math

import numpy as np

from tools.demo_data import targets as T
from tools.demo_data.plan import (
    AVAILABILITY_COST,
    CATEGORY_PLAN,
    NAMED_PROJECTS,
    RESTRICTION_COST,
)

RESTRICTIONS: tuple[str, ...] = ("keine", "gering", "erhoeht", "unbekannt")

#: (district, category, availability, restriction) -> net ha.
Cells = dict[tuple[str, str, str, str], float]


def ipf(seed: np.ndarray, rows: np.ndarray, cols: np.ndarray, iterations: int = 400) -> np.ndarray:
    """Iterative proportional fitting of ``seed`` to row and column totals.

    Column totals are first scaled to the sum of the row totals. Zeros in ``seed`` stay
    zero; if the zero pattern makes the totals unreachable the result is the closest
    IPF approximation (rows are met exactly after the final row step is skipped in favour
    of columns, so callers must tolerate small row errors).
    """
    m = seed.astype(float).copy()
    col_target = cols * (rows.sum() / cols.sum()) if cols.sum() > 0 else cols
    for _ in range(iterations):
        rs = m.sum(axis=1)
        m *= np.divide(rows, rs, out=np.zeros_like(rows, dtype=float), where=rs > 0)[:, None]
        cs = m.sum(axis=0)
        m *= np.divide(col_target, cs, out=np.zeros_like(col_target, dtype=float),
                       where=cs > 0)[None, :]
    return m


def named_pieces() -> list[tuple[str, str, str, str, float]]:
    """All pieces of the named projects as (district, category, availability, level, ha)."""
    return [(p.district, p.category, a, r, ha) for p in NAMED_PROJECTS for a, r, ha in p.pieces]


def split_availability() -> dict[tuple[str, str, str], float]:
    """Net ha per (district, category, availability) for the generic (unnamed) sites."""
    named = named_pieces()
    out: dict[tuple[str, str, str], float] = {}
    for d in T.DISTRICT_KEYS:
        cats = list(CATEGORY_PLAN[d])
        rows = np.array([CATEGORY_PLAN[d][c] - sum(n[4] for n in named if n[:2] == (d, c))
                         for c in cats])
        cols = np.array([(T.TABLE7_AVAILABILITY[d][i] or 0.0)
                         - sum(n[4] for n in named if n[0] == d and n[2] == a)
                         for i, a in enumerate(T.AVAILABILITIES)])
        cols = np.clip(cols, 0.0, None)
        seed = np.zeros((len(cats), len(T.AVAILABILITIES)))
        for i, c in enumerate(cats):
            for j, a in enumerate(T.AVAILABILITIES):
                cost = AVAILABILITY_COST[c].get(a)
                if cost is not None and cols[j] > 0:
                    seed[i, j] = math.exp(-0.8 * cost)
        m = ipf(seed, rows, cols)
        for i, c in enumerate(cats):
            for j, a in enumerate(T.AVAILABILITIES):
                if m[i, j] > 1e-9:
                    out[(d, c, a)] = float(m[i, j])
    return out


def _keine_slices() -> list[tuple[tuple[str, ...], tuple[str, ...], float]]:
    """Targets of unrestricted land as (availabilities, districts, ha) slices."""
    all_d = T.DISTRICT_KEYS
    f = T.UNRESTRICTED_FIGURES
    sk_named = ("anhalt_bitterfeld", "nordsachsen")
    sk_other = tuple(d for d in all_d if d not in sk_named)
    lang_other = tuple(d for d in all_d if d != "burgenlandkreis")
    return [
        (T.SHORT_TERM, ("anhalt_bitterfeld",), f["sofort_oder_kurzfristig.anhalt_bitterfeld"][2]),
        (T.SHORT_TERM, ("nordsachsen",), f["sofort_oder_kurzfristig.nordsachsen"][2]),
        (T.SHORT_TERM, sk_other, f["sofort_oder_kurzfristig"][2]
         - f["sofort_oder_kurzfristig.anhalt_bitterfeld"][2]
         - f["sofort_oder_kurzfristig.nordsachsen"][2]),
        (("mittelfristig",), all_d, f["mittelfristig"][2]),
        (("langfristig",), ("burgenlandkreis",), f["langfristig.burgenlandkreis"][2]),
        (("langfristig",), lang_other, f["langfristig"][2] - f["langfristig.burgenlandkreis"][2]),
        (("unbekannt",), all_d, f["unbekannt"][2]),
    ]


def _share_for_target(areas: np.ndarray, affinity: np.ndarray, target: float) -> np.ndarray:
    """Shares s_i = min(1, k * affinity_i) with sum(s_i * area_i) = target (bisection on k)."""
    if target <= 0 or areas.sum() <= 0:
        return np.zeros_like(areas)
    if target >= areas.sum():
        return np.ones_like(areas)
    lo, hi = 0.0, 1.0
    while (np.minimum(1.0, hi * affinity) * areas).sum() < target:
        hi *= 2.0
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        if (np.minimum(1.0, mid * affinity) * areas).sum() < target:
            lo = mid
        else:
            hi = mid
    return np.minimum(1.0, hi * affinity)


def split_restrictions(avail_cells: dict[tuple[str, str, str], float]) -> Cells:
    """Split (district, category, availability) cells by restriction level.

    Unrestricted land follows the study's slices (Anhalt-Bitterfeld 257 ha short-term,
    ...), spread by category affinity; the rest is fitted to the level totals by IPF.
    """
    named = named_pieces()
    keys = sorted(avail_cells, key=lambda k: (T.DISTRICT_KEYS.index(k[0]), k[1],
                                              T.AVAILABILITIES.index(k[2])))
    areas = np.array([avail_cells[k] for k in keys])
    keine = np.zeros(len(keys))
    for avails, districts, target in _keine_slices():
        named_keine = sum(n[4] for n in named
                          if n[3] == "keine" and n[2] in avails and n[0] in districts)
        idx = [i for i, k in enumerate(keys) if k[2] in avails and k[0] in districts]
        if not idx:
            continue
        aff = np.array([math.exp(-0.8 * RESTRICTION_COST[keys[i][1]]["keine"]) for i in idx])
        share = _share_for_target(areas[idx], aff, target - named_keine)
        keine[idx] = share * areas[idx]
    rest = areas - keine
    levels = RESTRICTIONS[1:]
    cols = np.array([T.RESTRICTION_TOTALS[r] - sum(n[4] for n in named if n[3] == r)
                     for r in levels])
    seed = np.zeros((len(keys), len(levels)))
    for i, (_, c, a) in enumerate(keys):
        for j, r in enumerate(levels):
            w = math.exp(-0.8 * RESTRICTION_COST[c][r])
            if r == "unbekannt":
                w *= {"unbekannt": 3.0, "sofort": 0.3}.get(a, 1.0)
            seed[i, j] = w
    m = ipf(seed, rest, cols)
    out: Cells = {}
    for i, (d, c, a) in enumerate(keys):
        if keine[i] > 1e-9:
            out[(d, c, a, "keine")] = float(keine[i])
        for j, r in enumerate(levels):
            if m[i, j] > 1e-9:
                out[(d, c, a, r)] = float(m[i, j])
    return out


def generic_cells() -> Cells:
    """Joint cells for the generic sites (named projects excluded), net ha."""
    return split_restrictions(split_availability())
