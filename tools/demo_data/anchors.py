"""Choose where each synthetic site should be placed (its anchor point, EPSG:25832).

Existing estates lie at town edges or motorway junctions; planned and large estates more
often near junctions; inner-city brownfields in Leipzig and Halle (Saale); former lignite
land near the Profen/Hohenmölsen/Zeitz area; solar-park land in the open countryside.
"""

from __future__ import annotations

import math

import numpy as np
from shapely.geometry import Point

from tools.demo_data.boundaries import Region, to_utm
from tools.demo_data.infrastructure import Infrastructure
from tools.demo_data.model import Anchor, Site
from tools.demo_data.places import LIGNITE_TOWNS, TOWNS

#: Probability that a site of a category is anchored at a motorway junction.
JUNCTION_SHARE: dict[str, float] = {
    "restflaeche_bestandsgebiet": 0.35, "erweiterungsflaeche": 0.35,
    "geplanter_standort": 0.6, "nur_fnp_oder_regionalplan": 0.45,
    "braunkohle_folgeflaeche": 0.0, "innerstaedtische_brache": 0.0, "pv_anlage": 0.1,
    "vorschauflaeche": 0.5,
}
#: Offset range (km) of the anchor from the town centre, per category.
TOWN_OFFSET_KM: dict[str, tuple[float, float]] = {
    "restflaeche_bestandsgebiet": (0.8, 3.5), "erweiterungsflaeche": (1.0, 4.0),
    "geplanter_standort": (1.5, 5.0), "nur_fnp_oder_regionalplan": (1.5, 6.0),
    "braunkohle_folgeflaeche": (1.5, 5.0), "innerstaedtische_brache": (1.0, 4.5),
    "pv_anlage": (2.0, 7.0), "vorschauflaeche": (2.0, 6.0),
}
#: Offsets are scaled up around the two large cities (estates lie at their periphery).
CITY_SCALE: dict[str, float] = {"Leipzig": 2.5, "Halle (Saale)": 1.6}
#: Share of generic sites anchored at a random village (municipality without a town entry).
VILLAGE_SHARE = 0.18


def _offset(point: Point, km: tuple[float, float], rng: np.random.Generator) -> Point:
    r = float(rng.uniform(*km)) * 1000.0
    angle = float(rng.uniform(0.0, 2.0 * math.pi))
    return Point(point.x + r * math.cos(angle), point.y + r * math.sin(angle))


def _towns_of(region: Region, district: str) -> list[tuple[str, Point, int]]:
    out = []
    for m in region.of_district(district):
        if m.name in TOWNS:
            lon, lat, weight = TOWNS[m.name]
            out.append((m.ags, to_utm(lon, lat), weight))
    return out


def _village(region: Region, district: str, rng: np.random.Generator) -> tuple[str, Point]:
    munis = [m for m in region.of_district(district) if m.name not in TOWNS]
    if not munis:
        munis = region.of_district(district)
    weights = np.array([math.sqrt(m.geom.area) for m in munis])
    m = munis[int(rng.choice(len(munis), p=weights / weights.sum()))]
    return m.ags, m.geom.representative_point()


def choose_anchor(site: Site, region: Region, infra: Infrastructure,
                  rng: np.random.Generator) -> Anchor:
    """Anchor of one site; deterministic for a given generator state."""
    d, c = site.district, site.category
    if site.named is not None:
        p = to_utm(*site.named.anchor)
        return Anchor(p, "named", site.named.blocks[0], infra.junction_distance_m(p) / 1000)
    towns = _towns_of(region, d)
    if c == "braunkohle_folgeflaeche":
        towns = [t for t in towns if region.municipalities[t[0]].name in LIGNITE_TOWNS]
    junctions = [j for j in infra.junctions if j.district == d]
    u = float(rng.uniform())
    if junctions and u < JUNCTION_SHARE[c]:
        j = junctions[int(rng.integers(len(junctions)))]
        p = _offset(j.point, (0.6, 3.0), rng)
        m = region.locate(p) or region.locate(j.point)
        ags = m.ags if m is not None and m.district == d else towns[0][0]
        kind = "junction"
    elif c not in ("innerstaedtische_brache", "braunkohle_folgeflaeche") and (
            u > 1.0 - VILLAGE_SHARE or not towns):
        ags, centre = _village(region, d, rng)
        p = _offset(centre, (0.0, 1.5), rng)
        kind = "village"
    else:
        weights = np.array([float(t[2]) for t in towns])
        ags, centre, _ = towns[int(rng.choice(len(towns), p=weights / weights.sum()))]
        lo, hi = TOWN_OFFSET_KM[c]
        scale = 1.0 if c == "innerstaedtische_brache" else CITY_SCALE.get(
            region.municipalities[ags].name, 1.0)
        p = _offset(centre, (lo * scale, hi * scale), rng)
        kind = "city" if c == "innerstaedtische_brache" else "town"
    return Anchor(p, kind, ags, infra.junction_distance_m(p) / 1000.0)


def choose_anchors(sites: list[Site], region: Region, infra: Infrastructure,
                   rng: np.random.Generator) -> None:
    """Set ``site.anchor`` for all sites, in site order."""
    for site in sites:
        site.anchor = choose_anchor(site, region, infra, rng)
