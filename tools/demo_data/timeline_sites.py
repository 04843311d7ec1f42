"""Sites and parcels that come onto the market after the survey (demo timeline).

They go through the same steps as the surveyed ones (anchor, servicing, net and gross,
equipment, placement inside the real municipalities, names, stewardship), placed at least
50 m from every surveyed site and 30 m from every sale point. All of them are synthetic.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from tools.demo_data import attributes as attrs
from tools.demo_data.anchors import choose_anchor
from tools.demo_data.boundaries import Region
from tools.demo_data.infrastructure import Infrastructure
from tools.demo_data.model import Parcel, Site
from tools.demo_data.naming import name_sites
from tools.demo_data.placement import place_sites
from tools.demo_data.stewardship import steward
from tools.demo_data.writer import round_geometry


@dataclass(frozen=True, slots=True)
class NewSite:
    """A site of the timeline: where, what, how large, when it is entered."""

    district: str
    category: str
    net_ha: float
    parcels: int
    quarter: tuple[int, int]  # (year, quarter) in which it is entered
    availability: str


#: The new sites (demo assumption): mostly in the study's demand core (Leipzig, Halle and
#: Anhalt-Bitterfeld around Bitterfeld-Wolfen), about 200 ha net in all.
NEW_SITES: tuple[NewSite, ...] = (
    NewSite("leipzig_stadt", "erweiterungsflaeche", 24.0, 4, (2022, 2), "kurzfristig"),
    NewSite("halle", "innerstaedtische_brache", 9.0, 3, (2022, 3), "sofort"),
    NewSite("anhalt_bitterfeld", "erweiterungsflaeche", 38.0, 5, (2023, 1), "kurzfristig"),
    NewSite("nordsachsen", "geplanter_standort", 32.0, 3, (2023, 2), "mittelfristig"),
    NewSite("saalekreis", "erweiterungsflaeche", 18.0, 3, (2024, 1), "sofort"),
    NewSite("leipzig_stadt", "innerstaedtische_brache", 11.0, 3, (2024, 4), "sofort"),
    NewSite("anhalt_bitterfeld", "geplanter_standort", 28.0, 3, (2025, 2), "kurzfristig"),
    NewSite("halle", "erweiterungsflaeche", 16.0, 3, (2025, 4), "kurzfristig"),
)
#: User groups a new parcel may suit, by category (one to three are drawn).
GROUPS: dict[str, tuple[str, ...]] = {
    "erweiterungsflaeche": ("industrie_produktion", "logistik", "handwerk_gewerbe"),
    "geplanter_standort": ("industrie_produktion", "logistik"),
    "innerstaedtische_brache": ("handwerk_gewerbe", "dienstleistung", "wissen_technologie"),
}
#: Restriction levels of new parcels (cleaned-up land mostly; brownfields carry a little).
RESTRICTION_P: dict[str, dict[str, float]] = {
    "innerstaedtische_brache": {"gering": 0.7, "keine": 0.3},
    "*": {"keine": 0.7, "gering": 0.3},
}
#: Years until a class of new land is available (earliest, latest).
AVAILABLE_IN_YEARS: dict[str, tuple[float, float]] = {
    "kurzfristig": (0.4, 1.8), "mittelfristig": (2.1, 4.0),
}


@dataclass(slots=True)
class Added:
    """New sites and parcels (indices continue the surveyed ones) and their entry days."""

    sites: list[Site]
    parcels: list[Parcel]
    entered: dict[int, date]  # site index -> day entered


def quarter_day(year: int, quarter: int, rng: np.random.Generator) -> date:
    """A day drawn uniformly from a calendar quarter."""
    start = date(year, 3 * quarter - 2, 1)
    end = date(year + (quarter == 4), 1 if quarter == 4 else 3 * quarter + 1, 1)
    return start + timedelta(days=int(rng.integers(0, (end - start).days)))


def _pick(options: dict[str, float], rng: np.random.Generator) -> str:
    keys = list(options)
    p = np.array([options[k] for k in keys])
    return keys[int(rng.choice(len(keys), p=p / p.sum()))]


def _skeleton(spec: NewSite, site_index: int, first_parcel: int, rng: np.random.Generator
              ) -> tuple[Site, list[Parcel]]:
    site = Site(site_index, spec.district, spec.category, spec.net_ha)
    shares = rng.dirichlet(np.full(spec.parcels, 4.0))
    parcels = []
    for k, share in enumerate(shares):
        groups = GROUPS[spec.category]
        n = int(rng.integers(1, len(groups) + 1))
        chosen = sorted(int(i) for i in rng.choice(len(groups), size=n, replace=False))
        restriction = _pick(RESTRICTION_P.get(spec.category, RESTRICTION_P["*"]), rng)
        p = Parcel(first_parcel + k, site_index, spec.district, spec.category,
                   spec.availability, restriction, max(0.8, float(share) * spec.net_ha))
        p.user_groups = [groups[i] for i in chosen]
        parcels.append(p)
        site.parcels.append(p.index)
    return site, parcels


def add_sites(sites: list[Site], parcels: list[Parcel], region: Region, infra: Infrastructure,
              flood: BaseGeometry, sale_points: list[BaseGeometry], rng: np.random.Generator
              ) -> Added:
    """Build :data:`NEW_SITES` with their parcels, placed clear of everything surveyed."""
    all_sites, all_parcels = list(sites), list(parcels)
    new_sites: list[Site] = []
    new_parcels: list[Parcel] = []
    entered: dict[int, date] = {}
    for spec in NEW_SITES:
        site, site_parcels = _skeleton(spec, len(all_sites), len(all_parcels), rng)
        site.anchor = choose_anchor(site, region, infra, rng)
        entered[site.index] = quarter_day(*spec.quarter, rng)
        all_sites.append(site)
        all_parcels += site_parcels
        new_sites.append(site)
        new_parcels += site_parcels
    attrs.assign_servicing(new_sites, all_parcels, rng)
    attrs.set_areas(all_sites, new_parcels,
                    np.array([round(p.nominal_ha, 4) for p in new_parcels]), rng)
    attrs.mark_flood_tolerant(new_sites, all_parcels)
    attrs.technical_attributes(new_sites, all_parcels, rng)
    avoid = shapely.union_all([p.buffer(30.0) for p in sale_points])
    place_sites(new_sites, all_parcels, region, infra, flood, rng,
                occupied=[s.outline for s in sites if s.outline is not None], avoid=avoid)
    for s in new_sites:
        assert s.outline is not None
        s.outline = round_geometry(s.outline)  # type: ignore[assignment]
        s.external_id = f"DEMO-S-{s.index + 1:03d}"
    for p in new_parcels:
        assert p.geometry is not None
        p.geometry = round_geometry(p.geometry)  # type: ignore[assignment]
        p.external_id = f"DEMO-P-{p.index + 1:04d}"
    name_sites(new_sites, all_parcels, region, infra, rng)
    taken = {str(s.attributes["name"]) for s in sites}
    for s in new_sites:
        name = str(s.attributes["name"])
        if name in taken:
            s.attributes["name"] = f"{name} (neu)"
        taken.add(str(s.attributes["name"]))
    steward(new_sites, all_parcels, region, flood, rng)
    for p in new_parcels:
        day = entered[p.site]
        window = AVAILABLE_IN_YEARS.get(p.availability)
        p.attributes["available_from"] = None if window is None else (
            day + timedelta(days=int(float(rng.uniform(*window)) * 365.25))).isoformat()
        p.attributes["last_verified_at"] = None  # checked when entered (the loader's clock)
    return Added(new_sites, new_parcels, entered)
