"""Assign user groups (Nutzergruppen) to parcels, following :data:`.plan.GROUP_PLAN`.

Per district and horizon (short term = sofort/kurzfristig, later) and per group, parcels
are ranked by a plausibility score and taken until the planned area is covered. Scores
favour large parcels for industry, parcels near motorway junctions for logistics, and
small inner-city or existing-estate parcels for knowledge-based firms and services.
A random per-site affinity keeps parcels of the same estate alike. Areas are nominal net
ha; :mod:`.fitting` later closes the remaining gaps to the study's figures.
"""

from __future__ import annotations

import math

import numpy as np

from app.domain.vocab import USER_GROUP
from tools.demo_data import targets as T
from tools.demo_data.model import Parcel, Site
from tools.demo_data.plan import GROUP_PLAN, HANDWERK_AFFINITY

CATEGORY_BONUS: dict[str, dict[str, float]] = {
    "industrie_produktion": {"restflaeche_bestandsgebiet": 0.5, "erweiterungsflaeche": 0.6,
                             "geplanter_standort": 0.8, "nur_fnp_oder_regionalplan": 0.8,
                             "braunkohle_folgeflaeche": 1.5, "innerstaedtische_brache": -1.5,
                             "pv_anlage": 0.3, "vorschauflaeche": 1.0},
    "logistik": {"restflaeche_bestandsgebiet": 0.3, "erweiterungsflaeche": 0.3,
                 "geplanter_standort": 0.6, "nur_fnp_oder_regionalplan": 0.4,
                 "braunkohle_folgeflaeche": -0.5, "innerstaedtische_brache": -2.0,
                 "pv_anlage": 0.0, "vorschauflaeche": 0.5},
    "wissen_technologie": {"restflaeche_bestandsgebiet": 0.3, "erweiterungsflaeche": 0.2,
                           "geplanter_standort": 0.8, "nur_fnp_oder_regionalplan": 0.0,
                           "braunkohle_folgeflaeche": -1.0, "innerstaedtische_brache": 1.5,
                           "pv_anlage": -0.5, "vorschauflaeche": -0.5},
    "dienstleistung": {"restflaeche_bestandsgebiet": 0.6, "erweiterungsflaeche": 0.4,
                       "geplanter_standort": 0.3, "nur_fnp_oder_regionalplan": 0.0,
                       "braunkohle_folgeflaeche": -1.5, "innerstaedtische_brache": 1.5,
                       "pv_anlage": -0.5, "vorschauflaeche": -1.0},
}
CITIES = ("leipzig_stadt", "halle")


def _score(group: str, parcel: Parcel, site: Site, affinity: float) -> float:
    size = math.log(max(parcel.nominal_ha, 0.5))
    bonus = CATEGORY_BONUS[group][parcel.category] + affinity
    assert site.anchor is not None
    if group == "industrie_produktion":
        return size + bonus
    if group == "logistik":
        return 0.8 * size - 0.35 * site.anchor.junction_km + bonus
    city = 1.0 if parcel.district in CITIES else 0.0
    if group == "wissen_technologie":
        return -0.3 * size + city + bonus
    return -0.5 * size + 0.5 * city + bonus


def _take(candidates: list[tuple[float, Parcel]], target: float, group: str) -> None:
    covered = 0.0
    for _, p in sorted(candidates, key=lambda sp: (-sp[0], sp[1].index)):
        if covered >= target:
            break
        if abs(covered + p.nominal_ha - target) < abs(covered - target):
            p.user_groups.append(group)
            covered += p.nominal_ha


def _handwerk_targets(parcels: list[Parcel]) -> dict[tuple[str, bool], float]:
    weights: dict[tuple[str, bool], float] = {}
    for p in parcels:
        key = (p.district, p.short_term)
        weights[key] = weights.get(key, 0.0) + p.nominal_ha * HANDWERK_AFFINITY[p.category]
    total = sum(weights.values())
    return {k: T.USER_GROUP_TOTALS["handwerk_gewerbe"] * w / total for k, w in weights.items()}


def assign_user_groups(sites: list[Site], parcels: list[Parcel],
                       rng: np.random.Generator) -> None:
    """Fill ``parcel.user_groups`` (vocabulary order) for all parcels."""
    groups = [*GROUP_PLAN, "handwerk_gewerbe"]
    affinity = {(s.index, g): float(rng.normal(0.0, 0.8)) for s in sites for g in groups}
    jitter = {p.index: float(rng.uniform(-0.3, 0.3)) for p in parcels}
    for p in parcels:
        named = sites[p.site].named
        if named is not None:
            p.user_groups = list(named.user_groups)
    for g, plan in GROUP_PLAN.items():
        for d in T.DISTRICT_KEYS:
            for short_term, planned in ((True, plan[d][0]), (False, plan[d][1])):
                in_slice = [p for p in parcels if p.district == d and p.short_term == short_term]
                preset = sum(p.nominal_ha for p in in_slice if g in p.user_groups)
                cands = [(_score(g, p, sites[p.site], affinity[(p.site, g)]) + jitter[p.index], p)
                         for p in in_slice if g not in p.user_groups]
                _take(cands, planned - preset, g)
    hw = _handwerk_targets(parcels)
    for (d, short_term), planned in sorted(hw.items()):
        in_slice = [p for p in parcels if p.district == d and p.short_term == short_term]
        for p in in_slice:
            if not p.user_groups:
                p.user_groups.append("handwerk_gewerbe")
        covered = sum(p.nominal_ha for p in in_slice if "handwerk_gewerbe" in p.user_groups)
        cands = [(-0.5 * math.log(max(p.nominal_ha, 0.5)) + HANDWERK_AFFINITY[p.category]
                  + affinity[(p.site, "handwerk_gewerbe")] + jitter[p.index], p)
                 for p in in_slice if "handwerk_gewerbe" not in p.user_groups]
        _take(cands, planned - covered, "handwerk_gewerbe")
    order = USER_GROUP.codes
    for p in parcels:
        p.user_groups = sorted(set(p.user_groups), key=order.index)
