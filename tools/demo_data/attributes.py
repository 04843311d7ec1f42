"""Technical parcel attributes that follow from category, availability and user groups.

Servicing (Erschließung), the net/gross rule, planning status, zoning, availability date,
price and equipment. Net and gross areas are in ha; prices in EUR per m².
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from tools.demo_data.model import Parcel, Site
from tools.demo_data.targets import UNSERVICED_NET_SHARE

#: Base price (EUR/m², serviced land) per district.
BASE_PRICE: dict[str, float] = {
    "leipzig_stadt": 58.0, "halle": 40.0, "leipzig_lk": 26.0, "nordsachsen": 22.0,
    "saalekreis": 21.0, "anhalt_bitterfeld": 18.0, "burgenlandkreis": 13.0,
    "mansfeld_suedharz": 10.0, "altenburger_land": 12.0,
}
#: Servicing probabilities (erschlossen, teilerschlossen, unerschlossen) by
#: (category, availability); the first matching key wins, "*" matches any availability.
SERVICING_P: dict[tuple[str, str], tuple[float, float, float]] = {
    ("restflaeche_bestandsgebiet", "sofort"): (0.85, 0.15, 0.0),
    ("restflaeche_bestandsgebiet", "kurzfristig"): (0.5, 0.4, 0.1),
    ("restflaeche_bestandsgebiet", "*"): (0.2, 0.5, 0.3),
    ("erweiterungsflaeche", "sofort"): (0.6, 0.4, 0.0),
    ("erweiterungsflaeche", "*"): (0.0, 0.45, 0.55),
    ("geplanter_standort", "sofort"): (0.0, 1.0, 0.0),
    ("geplanter_standort", "kurzfristig"): (0.0, 0.6, 0.4),
    ("geplanter_standort", "*"): (0.0, 0.15, 0.85),
    ("nur_fnp_oder_regionalplan", "kurzfristig"): (0.0, 0.5, 0.5),
    ("nur_fnp_oder_regionalplan", "*"): (0.0, 0.05, 0.95),
    ("braunkohle_folgeflaeche", "*"): (0.0, 0.3, 0.7),
    ("innerstaedtische_brache", "*"): (0.5, 0.5, 0.0),
    ("pv_anlage", "*"): (0.35, 0.65, 0.0),
    ("vorschauflaeche", "*"): (0.0, 0.0, 1.0),
}
SERVICING_CODES = ("erschlossen", "teilerschlossen", "unerschlossen")
#: Planning status probabilities per category.
PLANNING_P: dict[str, dict[str, float]] = {
    "restflaeche_bestandsgebiet": {"bplan_rechtskraeftig": 0.95, "bplan_in_aufstellung": 0.05},
    "erweiterungsflaeche": {"bplan_rechtskraeftig": 0.4, "bplan_in_aufstellung": 0.4, "fnp": 0.2},
    "geplanter_standort": {"bplan_in_aufstellung": 0.75, "fnp": 0.25},
    "nur_fnp_oder_regionalplan": {"fnp": 0.7, "regionalplan": 0.3},
    "braunkohle_folgeflaeche": {"regionalplan": 0.5, "fnp": 0.3, "ohne": 0.2},
    "innerstaedtische_brache": {"bplan_rechtskraeftig": 0.4, "bplan_in_aufstellung": 0.2,
                                "ohne": 0.4},
    "pv_anlage": {"bplan_rechtskraeftig": 1.0},
    "vorschauflaeche": {"ohne": 1.0},
}
#: Window (years after the survey date 2020-12-31) in which land of a class becomes available.
AVAILABLE_FROM_YEARS: dict[str, tuple[float, float, float]] = {
    # (share with a date, earliest, latest)
    "sofort": (0.3, -6.0, -0.1), "kurzfristig": (0.7, 0.05, 2.0),
    "mittelfristig": (0.6, 2.05, 5.0), "langfristig": (0.4, 5.1, 12.0),
}
REFERENCE_DATE = date(2020, 12, 31)
#: Planning status of the named projects.
NAMED_PLANNING: dict[str, str] = {
    "star_park_ii": "bplan_in_aufstellung", "a9_weissenfels": "ohne",
    "sangerhausen": "regionalplan", "amsdorf": "bplan_rechtskraeftig",
}


def _pick(options: dict[str, float], rng: np.random.Generator) -> str:
    keys = list(options)
    p = np.array([options[k] for k in keys])
    return keys[int(rng.choice(len(keys), p=p / p.sum()))]


def assign_servicing(sites: list[Site], parcels: list[Parcel], rng: np.random.Generator) -> None:
    """Servicing per parcel; all parcels of a site with the same availability share it."""
    for site in sites:
        chosen: dict[str, str] = {}
        for i in site.parcels:
            p = parcels[i]
            if site.named is not None:
                p.servicing = site.named.servicing
                continue
            if p.availability not in chosen:
                key = (p.category, p.availability)
                probs = SERVICING_P.get(key) or SERVICING_P[(p.category, "*")]
                chosen[p.availability] = _pick(dict(zip(SERVICING_CODES, probs, strict=True)), rng)
            p.servicing = chosen[p.availability]


def set_areas(sites: list[Site], parcels: list[Parcel], net_ha: np.ndarray,
              rng: np.random.Generator) -> None:
    """Set calibrated net, the written net value (or None) and the gross area per parcel.

    Unserviced land mostly leaves net to the database rule (net = 0.75 x gross); serviced
    land either leaves it (net = gross) or gives a net slightly below gross. Named projects
    with a published gross size always use the rule.
    """
    for p, net in zip(parcels, net_ha, strict=True):
        named = sites[p.site].named
        derived = bool(rng.uniform() < (0.8 if p.servicing == "unerschlossen" else 0.5))
        if named is not None and named.gross_ha is not None:
            derived = True
        if derived:
            p.net_ha = float(net)
            p.net_given_ha = None
            share = UNSERVICED_NET_SHARE if p.servicing == "unerschlossen" else 1.0
            p.gross_ha = p.net_ha / share
        else:
            p.net_given_ha = round(float(net), 2)
            p.net_ha = p.net_given_ha
            share = (float(rng.uniform(0.70, 0.75)) if p.servicing == "unerschlossen"
                     else float(rng.uniform(0.90, 0.99)))
            p.gross_ha = p.net_ha / share


def mark_flood_tolerant(sites: list[Site], parcels: list[Parcel]) -> None:
    """A site may touch a floodplain only if each parcel already has a restriction."""
    for site in sites:
        site.flood_ok = all(parcels[i].restriction in ("gering", "erhoeht") for i in site.parcels)


def technical_attributes(sites: list[Site], parcels: list[Parcel],
                         rng: np.random.Generator) -> None:
    """Planning status, zoning, dates, price and equipment into ``parcel.attributes``."""
    for site in sites:
        named = site.named
        planning = _pick(PLANNING_P[site.category], rng)
        if named is not None:
            planning = NAMED_PLANNING[named.key]
        rail_site = bool(rng.uniform() < (0.45 if site.category in (
            "restflaeche_bestandsgebiet", "braunkohle_folgeflaeche", "geplanter_standort")
            and site.net_plan > 30 else 0.06))
        for i in site.parcels:
            p = parcels[i]
            _parcel_attributes(p, planning, rail_site, rng)


def _parcel_attributes(p: Parcel, planning: str, rail_site: bool,
                       rng: np.random.Generator) -> None:
    industrial = "industrie_produktion" in p.user_groups
    bplan = planning.startswith("bplan")
    if not bplan:
        zoning = "keine"
    elif p.category == "pv_anlage":
        zoning = "SO"
    elif p.category == "innerstaedtische_brache" and rng.uniform() < 0.35:
        zoning = "MI"
    elif industrial and (p.net_ha >= 5.0 or rng.uniform() < 0.3):
        zoning = "GI"
    else:
        zoning = "GE"
    share, lo, hi = AVAILABLE_FROM_YEARS.get(p.availability, (0.0, 0.0, 0.0))
    available_from = None
    if rng.uniform() < share:
        days = int(float(rng.uniform(lo, hi)) * 365.25)
        available_from = (REFERENCE_DATE + timedelta(days=days)).isoformat()
    factor = {"erschlossen": 1.0, "teilerschlossen": 0.7, "unerschlossen": 0.4}[p.servicing]
    price = None
    if p.servicing != "unerschlossen" or rng.uniform() < 0.35:
        base = BASE_PRICE[p.district] * factor * float(rng.lognormal(0.0, 0.18))
        price = round(max(4.0, base) * 2.0) / 2.0
    height = None
    if bplan and zoning != "keine":
        span = {"GI": (20.0, 40.0), "GE": (12.0, 22.0), "SO": (6.0, 12.0), "MI": (10.0, 16.0)}
        height = round(float(rng.uniform(*span[zoning])) * 2.0) / 2.0
    broadband = None
    if p.servicing == "erschlossen":
        broadband = int(rng.choice([100, 250, 500, 1000]))
    elif p.servicing == "teilerschlossen" and rng.uniform() < 0.6:
        broadband = int(rng.choice([16, 50, 100]))
    grid = None
    if industrial and p.net_ha >= 10.0:
        grid = round(float(rng.uniform(2.0, 40.0)), 1)
    elif rng.uniform() < 0.35:
        grid = round(float(rng.uniform(0.3, 4.0)), 1)
    logistic = "logistik" in p.user_groups
    p.attributes.update({
        "available_from": available_from,
        "planning_status": planning,
        "zoning": zoning,
        "price_eur_m2": price,
        "rail_siding": bool(rail_site and industrial and p.net_ha >= 8.0),
        "operation_24h": bool(zoning == "GI" or (logistic and zoning != "MI"
                                                 and rng.uniform() < 0.7)),
        "max_building_height_m": height,
        "broadband_mbps": broadband,
        "grid_capacity_mw": grid,
    })
