"""Synthetic settlement enquiries (Ansiedlungsanfragen) from 2021 on, for unmet demand.

About 40 a year: who asks (user group), for how much land (net ha, minimum and often a
maximum), where (a district, or the region as a whole), by when, with which requirements,
and what came of it. Large enquiries (industry and logistics, 20 ha and more) more often
find no suitable offer or settle outside the region; recent ones are mostly still open.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import TypeVar

import numpy as np

from tools.demo_data.targets import AGS_BY_KEY

K = TypeVar("K")

PER_YEAR = (36, 50)
GROUP_P = {"logistik": 0.30, "industrie_produktion": 0.25, "handwerk_gewerbe": 0.20,
           "wissen_technologie": 0.13, "dienstleistung": 0.12}
#: District asked about (``None``: the region as a whole, e.g. via the regional agency).
DISTRICT_P: dict[str | None, float] = {
    None: 0.25, "leipzig_stadt": 0.17, "halle": 0.09, "anhalt_bitterfeld": 0.13,
    "saalekreis": 0.09, "leipzig_lk": 0.08, "nordsachsen": 0.08, "burgenlandkreis": 0.05,
    "altenburger_land": 0.03, "mansfeld_suedharz": 0.03,
}
#: Median of the minimum area (ha) per user group.
MEDIAN_HA = {"logistik": 6.0, "industrie_produktion": 5.0, "handwerk_gewerbe": 0.8,
             "wissen_technologie": 1.2, "dienstleistung": 0.7}
LARGE_HA = 20.0
OUTCOME_SETTLED = {"angesiedelt": 0.32, "abgewandert": 0.16, "kein_angebot": 0.16,
                   "zurueckgezogen": 0.16, "angebot_unterbreitet": 0.12, "offen": 0.08}
OUTCOME_LARGE = {"angesiedelt": 0.15, "abgewandert": 0.30, "kein_angebot": 0.33,
                 "zurueckgezogen": 0.12, "angebot_unterbreitet": 0.06, "offen": 0.04}
OUTCOME_RECENT = {"offen": 0.5, "angebot_unterbreitet": 0.38, "zurueckgezogen": 0.12}


def _pick(options: dict[K, float], rng: np.random.Generator) -> K:
    keys = list(options)
    p = np.array([options[k] for k in keys])
    return keys[int(rng.choice(len(keys), p=p / p.sum()))]


def _area(group: str, rng: np.random.Generator) -> tuple[float, float | None]:
    low = float(np.clip(rng.lognormal(math.log(MEDIAN_HA[group]), 0.9), 0.2, 120.0))
    low = round(low, 1) if low >= 1.0 else round(low, 2)
    high = None
    if rng.uniform() < 0.6:
        high = round(low * float(rng.uniform(1.2, 3.0)), 1)
    return low, high


def generate_enquiries(end: date, rng: np.random.Generator) -> list[dict[str, object]]:
    """Enquiries received 2021-01-01 to ``end``, numbered ``DEMO-A-0001``… in date order."""
    rows: list[tuple[date, dict[str, object]]] = []
    for year in range(2021, end.year + 1):
        last = min(date(year, 12, 31), end)
        count = int(rng.integers(*PER_YEAR)) * ((last - date(year, 1, 1)).days + 1) // 365
        for _ in range(count):
            received = date(year, 1, 1) + timedelta(
                days=int(rng.integers(0, (last - date(year, 1, 1)).days + 1)))
            group = _pick(GROUP_P, rng)
            district = _pick(DISTRICT_P, rng)
            low, high = _area(group, rng)
            needed = (received + timedelta(days=int(rng.integers(120, 1100)))
                      if rng.uniform() < 0.55 else None)
            requirements: dict[str, object] = {}
            if group == "industrie_produktion" and rng.uniform() < 0.15:
                requirements["rail_siding"] = True
            if group in ("logistik", "industrie_produktion") and rng.uniform() < 0.45:
                requirements["operation_24h"] = True
            if (end - received).days < 180:
                outcome = _pick(OUTCOME_RECENT, rng)
            else:
                large = low >= LARGE_HA and group in ("logistik", "industrie_produktion")
                outcome = _pick(OUTCOME_LARGE if large else OUTCOME_SETTLED, rng)
            rows.append((received, {
                "received_on": received.isoformat(),
                "district_ags": None if district is None else AGS_BY_KEY[district],
                "required_net_area_ha_min": low, "required_net_area_ha_max": high,
                "user_group": group,
                "needed_by": None if needed is None else needed.isoformat(),
                "requirements": requirements, "outcome": outcome,
            }))
    rows.sort(key=lambda r: r[0])  # stable: same-day enquiries keep their drawing order
    return [{"id": f"DEMO-A-{i:04d}", **row} for i, (_, row) in enumerate(rows, start=1)]
