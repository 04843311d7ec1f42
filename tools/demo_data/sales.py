"""Synthetic land sales (Grundstücksverkäufe) calibrated to Table 5 of the study.

2010-2019: per district exactly the published number of sales and total area (ha, to
0.0001). Most plots are below 1 ha; a few large plots lie within 5 km of the A 9 or A 14
where the district has them. About 45 % of the municipalities get no sale. 2020: an
uncalibrated continuation (100-125 ha) up to the survey date. None of these sales names
the buyer's user group (the study's source had none); sales from 2021 on are sales of
parcels in the demo timeline (:mod:`tools.demo_data.timeline`). Points in EPSG:25832;
prices in EUR per m².
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry
from shapely.prepared import PreparedGeometry, prep

from tools.demo_data import targets as T
from tools.demo_data.attributes import BASE_PRICE
from tools.demo_data.boundaries import Municipality, Region, to_utm
from tools.demo_data.infrastructure import Infrastructure
from tools.demo_data.places import TOWNS

SHARE_WITHOUT_SALES = T.SHARE_WITHOUT_SALES
LARGE_PLOT_HA = 3.0
SMALL_GROUPS_CITY = {"handwerk_gewerbe": 0.35, "dienstleistung": 0.25,
                     "industrie_produktion": 0.15, "wissen_technologie": 0.15, "logistik": 0.10}
SMALL_GROUPS_RURAL = {"handwerk_gewerbe": 0.5, "industrie_produktion": 0.25,
                      "dienstleistung": 0.1, "logistik": 0.1, "wissen_technologie": 0.05}
LARGE_GROUPS = {"logistik": 0.65, "industrie_produktion": 0.35}
ORIGIN_SMALL = {"regional": 0.8, "national": 0.17, "international": 0.03}
ORIGIN_LARGE = {"regional": 0.2, "national": 0.5, "international": 0.3}


@dataclass(slots=True)
class Sale:
    """One synthetic land sale."""

    sale_date: date
    district: str
    municipality_ags: str
    area_ha: float
    price_eur_m2: float
    buyer_user_group: str | None
    buyer_origin: str
    point: Point
    external_id: str = ""


def _pick(options: dict[str, float], rng: np.random.Generator) -> str:
    keys = list(options)
    p = np.array([options[k] for k in keys])
    return keys[int(rng.choice(len(keys), p=p / p.sum()))]


def plot_sizes(n: int, total: float, rng: np.random.Generator) -> list[float]:
    """``n`` plot sizes (ha, 4 decimals) summing exactly to ``total``; mostly below 1 ha."""
    guess = total - 0.45 * n
    k = min(n // 4, max(0, round(guess / 11.0))) if guess > 4.0 else 0
    small = np.clip(rng.lognormal(math.log(0.35), 0.8, n - k), 0.05, 2.5)
    large = np.clip(rng.lognormal(math.log(9.0), 0.55, k), LARGE_PLOT_HA, 45.0)
    if k > 0:
        small_total = min(float(small.sum()), total - 6.0 * k)
        small *= small_total / small.sum()
        large *= (total - small_total) / large.sum()
    else:
        small *= total / small.sum()
    sizes = [round(float(v), 4) for v in np.concatenate([large, small])]
    rest = round(total - sum(sizes), 4)
    sizes[0] = round(sizes[0] + rest, 4)
    return sizes


def _with_sales(region: Region, infra: Infrastructure, district: str,
                rng: np.random.Generator) -> list[Municipality]:
    munis = region.of_district(district)
    if len(munis) == 1:
        return munis
    corridor = infra.near_motorway(("A 9", "A 14"), 5_000.0)
    w = np.array([(TOWNS[m.name][2] if m.name in TOWNS else 0.5)
                  * (2.0 if m.geom.intersects(corridor) else 1.0) for m in munis])
    k = max(1, round(len(munis) * (1.0 - SHARE_WITHOUT_SALES)))
    idx = sorted(int(i) for i in rng.choice(len(munis), size=k, replace=False, p=w / w.sum()))
    return [munis[i] for i in idx]


def _point_in(area: BaseGeometry, prepared: PreparedGeometry, avoid: PreparedGeometry,
              centre: Point | None, spread_m: float, rng: np.random.Generator) -> Point:
    minx, miny, maxx, maxy = area.bounds
    for attempt in range(2000):
        if centre is not None and attempt < 1000:
            p = Point(centre.x + float(rng.normal(0.0, spread_m)),
                      centre.y + float(rng.normal(0.0, spread_m)))
        else:
            p = Point(float(rng.uniform(minx, maxx)), float(rng.uniform(miny, maxy)))
        if prepared.contains(p) and not avoid.intersects(p):
            return p
    raise RuntimeError("no point found for a sale")


@dataclass(slots=True)
class _Zones:
    """Motorway corridors (5 km) and a cache of municipality parts within them."""

    a9_a14: BaseGeometry
    any_motorway: BaseGeometry
    avoid: PreparedGeometry
    cache: dict[tuple[str, bool], tuple[BaseGeometry, PreparedGeometry]]

    def part(self, m: Municipality, main: bool) -> tuple[BaseGeometry, PreparedGeometry]:
        key = (m.ags, main)
        if key not in self.cache:
            area = m.inset.intersection(self.a9_a14 if main else self.any_motorway)
            self.cache[key] = (area, prep(area))
        return self.cache[key]


def _period_sales(district: str, n: int, total: float, years: tuple[int, ...],
                  munis: list[Municipality], zones: _Zones, cover: bool,
                  rng: np.random.Generator) -> list[Sale]:
    """Sales of one district and period; ``cover`` gives every municipality one sale."""
    main = [m for m in munis if zones.part(m, True)[0].area > 1e6]
    near = main or [m for m in munis if zones.part(m, False)[0].area > 1e6]
    avoid = zones.avoid
    year_w = np.array([1.0 + 0.06 * (y - 2010) for y in years])
    city = district in ("leipzig_stadt", "halle")
    out: list[Sale] = []
    sizes = plot_sizes(n, total, rng)
    uncovered = list(munis) if cover else []
    for size in sizes:
        large = size >= LARGE_PLOT_HA
        if large and near:
            m = near[int(rng.integers(len(near)))]
            area, area_p = zones.part(m, bool(main))
            point = _point_in(area, area_p, avoid, None, 0.0, rng)
        else:
            if uncovered and not large:
                m = uncovered.pop(0)
            else:
                m = munis[int(rng.choice(len(munis), p=_town_weights(munis)))]
            town = TOWNS.get(m.name)
            centre = to_utm(town[0], town[1]) if town else m.geom.representative_point()
            spread = {"Leipzig": 4_500.0, "Halle (Saale)": 3_000.0}.get(m.name, 1_800.0)
            point = _point_in(m.inset, m.inset_prepared, avoid, centre, spread, rng)
        year = int(years[int(rng.choice(len(years), p=year_w / year_w.sum()))])
        day = date(year, 1, 1) + timedelta(days=int(rng.integers(0, 365)))
        price = BASE_PRICE[district] * float(rng.lognormal(0.0, 0.35))
        price *= (0.8 + 0.03 * (year - 2010)) * (0.75 if large else 1.0)
        groups = LARGE_GROUPS if large else (SMALL_GROUPS_CITY if city else SMALL_GROUPS_RURAL)
        out.append(Sale(day, district, m.ags, size, round(min(120.0, max(5.0, price)), 2),
                        _pick(groups, rng), _pick(ORIGIN_LARGE if large else ORIGIN_SMALL, rng),
                        point))
    return out


def _town_weights(munis: list[Municipality]) -> np.ndarray:
    w = np.array([float(TOWNS[m.name][2]) if m.name in TOWNS else 0.5 for m in munis])
    return w / w.sum()


def generate_sales(region: Region, infra: Infrastructure, avoid: BaseGeometry,
                   rng: np.random.Generator) -> list[Sale]:
    """All synthetic sales 2010-2019 (calibrated) and 2020, sorted and numbered.

    A buyer group is drawn (the large plots' locations follow it) but not kept: the study's
    sales do not record it.
    """
    zones = _Zones(infra.near_motorway(("A 9", "A 14"), 5_000.0),
                   infra.near_motorway(tuple(infra.motorways), 5_000.0), prep(avoid), {})
    sales: list[Sale] = []
    with_sales = {d: _with_sales(region, infra, d, rng) for d in T.DISTRICT_KEYS}
    for d in T.DISTRICT_KEYS:
        n, total = T.TABLE5_SALES[d]
        sales += _period_sales(d, n, total, tuple(range(2010, 2020)), with_sales[d], zones,
                               True, rng)
    area_share = np.array([T.TABLE5_SALES[d][1] for d in T.DISTRICT_KEYS])
    count_share = np.array([float(T.TABLE5_SALES[d][0]) for d in T.DISTRICT_KEYS])
    for year in (2020,):
        total = float(rng.uniform(100.0, 125.0))
        count = int(rng.integers(85, 111))
        areas = rng.dirichlet(area_share / area_share.sum() * 60.0) * total
        counts = np.maximum(2, np.round(rng.dirichlet(count_share / count_share.sum() * 60.0)
                                        * count)).astype(int)
        for d, a, c in zip(T.DISTRICT_KEYS, areas, counts, strict=True):
            sales += _period_sales(d, int(c), round(float(a), 4), (year,), with_sales[d],
                                   zones, False, rng)
    sales.sort(key=lambda s: (s.sale_date, T.DISTRICT_KEYS.index(s.district), -s.area_ha,
                              s.point.x))
    for i, s in enumerate(sales, start=1):
        s.external_id = f"DEMO-V-{i:05d}"
        s.buyer_user_group = None
    return sales
