"""The demo timeline: dated, synthetic changes from the survey date to :data:`END`.

The surveyed state (2020-12-31, calibrated to the study) is where the history starts. From
2021 on, quarter by quarter, :mod:`tools.demo_data.timeline_market` simulates sales
(linked to their parcels), reservations and releases, advancing availability classes,
lifted restrictions, area corrections, withdrawals and verification campaigns;
:mod:`tools.demo_data.timeline_sites` adds new sites with their parcels and
:mod:`tools.demo_data.timeline_enquiries` the settlement enquiries. The result is written
as ``timeline.json``: events in date order with stable ids (``DEMO-T-0001``…), each
naming parcels and sites by external id, and enquiries (``DEMO-A-0001``…). The loader
(``app/services/demo_timeline.py``) applies them through the service's write paths.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from shapely.geometry.base import BaseGeometry

from tools.demo_data.boundaries import Region
from tools.demo_data.checks import effective_net
from tools.demo_data.features import parcel_features, site_features
from tools.demo_data.infrastructure import Infrastructure
from tools.demo_data.model import Parcel, Site
from tools.demo_data.sales import Sale
from tools.demo_data.timeline_enquiries import generate_enquiries
from tools.demo_data.timeline_market import (
    BASE,
    END,
    REMOVABLE,
    Event,
    Lot,
    Market,
    annual_targets,
    quarter_target,
    quarters,
)
from tools.demo_data.timeline_sites import Added, add_sites

#: Planned counts of the rarer changes (demo assumption).
RESTRICTIONS_LIFTED = 22
AREAS_CORRECTED = 6
PARCELS_WITHDRAWN = 10
SITES_WITHDRAWN = 2
WITHDRAWABLE = ("pv_anlage", "nur_fnp_oder_regionalplan", "vorschauflaeche",
                "braunkohle_folgeflaeche")
CORE = ("leipzig_stadt", "halle", "anhalt_bitterfeld")
DESCRIPTION = ("SYNTHETISCHE DEMO-DATEN – Zeitreihe der Demo vom Erhebungsstand der "
               "Potenzialstudie (31.12.2020) bis zum Ende des letzten abgeschlossenen Quartals: "
               "frei erfundene Verkäufe, Reservierungen, Verfügbarkeits- und "
               "Beschränkungsänderungen, neue und zurückgezogene Flächen und Standorte, "
               "Prüfungen und Ansiedlungsanfragen; keine realen Vorgänge.")


@dataclass(frozen=True, slots=True)
class Timeline:
    """Events and enquiries in order, the new sites and parcels, counts and problems."""

    events: list[dict[str, object]]
    enquiries: list[dict[str, object]]
    added: Added
    take_up: dict[str, dict[str, float]]
    problems: list[str]

    @property
    def counts(self) -> dict[str, int]:
        kinds = Counter(str(e["kind"]) for e in self.events)
        return {"events": len(self.events), **dict(sorted(kinds.items())),
                "enquiries": len(self.enquiries), "new_sites": len(self.added.sites),
                "new_parcels": len(self.added.parcels)}

    def head(self, seed: int) -> dict[str, object]:
        """The document's members before the lists."""
        return {"name": "timeline", "synthetic": True, "description": DESCRIPTION,
                "generator": "scripts/make_demo_geodata.py (tools.demo_data.timeline)",
                "seed": seed, "base_date": BASE.isoformat(), "end": END.isoformat(),
                "crs": "EPSG:25832", "counts": self.counts, "take_up": self.take_up}


def _lot(p: Parcel, site: Site, last: date) -> Lot:
    a = p.attributes
    when = a["available_from"]
    causes = a["restriction_causes"]
    price = a["price_eur_m2"]
    assert isinstance(causes, list)
    return Lot(p.external_id, p.district, site.external_id, p.category, p.availability,
               None if when is None else date.fromisoformat(str(when)), p.restriction,
               [str(c) for c in causes], effective_net(p), list(p.user_groups),
               None if price is None else float(str(price)), last)


def _plans(market: Market, sites: list[Site], rng: np.random.Generator
           ) -> tuple[dict[str, tuple[date, str]], list[tuple[date, Site]]]:
    """Which lots lose a restriction, get a corrected area or are withdrawn, and when;
    which sites are withdrawn as a whole."""
    lots = list(market.lots.values())
    candidates = [s for s in sites if s.named is None and s.category in WITHDRAWABLE
                  and s.district not in CORE and len(s.parcels) <= 3]
    chosen = sorted(int(i) for i in rng.choice(len(candidates), SITES_WITHDRAWN, replace=False))
    site_plans = []
    for i in chosen:
        day = date(2023, 1, 1) + timedelta(days=int(rng.integers(0, 3 * 365)))
        site_plans.append((day, candidates[i]))
        for lot in lots:
            lot.held = lot.held or lot.site == candidates[i].external_id
    multi = {s.external_id for s in sites if len(s.parcels) >= 2}
    planned: dict[str, tuple[date, str]] = {}
    withdrawable = [lot for lot in lots if lot.category in WITHDRAWABLE and lot.site in multi
                    and not lot.held]
    for ext, day in market.plan("withdraw_parcel", withdrawable, PARCELS_WITHDRAWN,
                                date(2021, 3, 1)).items():
        planned[ext] = (day, "withdraw_parcel")
        market.lots[ext].held = True
    restricted = [lot for lot in lots if not lot.held and lot.ext not in planned
                  and any(c in REMOVABLE for c in lot.causes)]
    for ext, day in market.plan("restriction", restricted, RESTRICTIONS_LIFTED,
                                date(2021, 2, 1)).items():
        planned[ext] = (day, "restriction")
    free = [lot for lot in lots if not lot.held and lot.ext not in planned]
    for ext, day in market.plan("area", free, AREAS_CORRECTED, date(2021, 2, 1)).items():
        planned[ext] = (day, "area")
    return planned, site_plans


def _enter(market: Market, added: Added, all_sites: list[Site], start: date, end: date) -> None:
    for site in added.sites:
        day = added.entered[site.index]
        if not start <= day <= end:
            continue
        mine = [p for p in added.parcels if p.site == site.index]
        market.emit(day, "new_site", {"site": site_features([site])[0],
                                      "parcels": parcel_features(all_sites, mine)})
        for p in mine:
            market.add(_lot(p, site, day), site.district)


def _numbered(events: list[Event]) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    per_day: Counter[date] = Counter()
    for i, e in enumerate(sorted(events, key=lambda e: (e.day, e.seq)), start=1):
        k = per_day[e.day]
        per_day[e.day] += 1
        at = f"{e.day.isoformat()}T{8 + k // 60:02d}:{k % 60:02d}:00Z"
        out.append({"id": f"DEMO-T-{i:04d}", "at": at, "kind": e.kind, **e.data})
    return out


def _take_up(market: Market) -> dict[str, dict[str, float]]:
    out = {}
    for year, rows in sorted(market.sold.items()):
        core = sum(net for d, net in rows if d in CORE)
        total = sum(net for _, net in rows)
        out[str(year)] = {"sales": len(rows), "net_ha": round(total, 2),
                          "core_share": round(core / total, 3) if total else 0.0}
    return out


def build_timeline(sites: list[Site], parcels: list[Parcel], region: Region,
                   infra: Infrastructure, flood: BaseGeometry, sales: list[Sale],
                   rngs: tuple[np.random.Generator, np.random.Generator, np.random.Generator]
                   ) -> Timeline:
    """Simulate the timeline from the surveyed ``sites`` and ``parcels`` (left unchanged)."""
    added = add_sites(sites, parcels, region, infra, flood, [s.point for s in sales], rngs[0])
    all_sites = sites + added.sites
    market = Market(rngs[1])
    for p in parcels:
        market.add(_lot(p, sites[p.site], BASE), p.district)
    planned, site_plans = _plans(market, sites, rngs[1])
    targets = annual_targets(rngs[1])
    for start, end in quarters():
        _enter(market, added, all_sites, start, end)
        market.verify(start, end)
        market.advance(start, end)
        market.change(planned, start, end)
        for day, site in site_plans:
            if start <= day <= end:
                site_lots = [lot for lot in market.lots.values() if lot.site == site.external_id]
                market.withdraw_site(site.external_id, site_lots, day)
        market.hold_open(start, end)
        market.sell(start, end, quarter_target(market, targets, start))
    events = _numbered(market.events)
    enquiries = generate_enquiries(END, rngs[2])
    return Timeline(events, enquiries, added, _take_up(market),
                    replay_problems(events, parcels, sites))


def replay_problems(events: list[dict[str, object]], parcels: list[Parcel],
                    sites: list[Site]) -> list[str]:
    """Replay the events on marketing states: every step must be one the service allows."""
    status = {p.external_id: "verfuegbar" for p in parcels}
    active = {s.external_id for s in sites}
    problems: list[str] = []
    marketed = ("verfuegbar", "reserviert")
    allowed = {"sale": marketed, "reservation": ("verfuegbar",), "release": ("reserviert",),
               "withdraw_parcel": marketed, "availability": marketed, "restriction": marketed,
               "area": marketed}
    after = {"sale": "verkauft", "reservation": "reserviert", "release": "verfuegbar",
             "withdraw_parcel": "zurueckgezogen"}
    last_at = ""
    for e in events:
        kind, ident = str(e["kind"]), str(e["id"])
        if str(e["at"]) <= last_at or str(e["at"]) > f"{END.isoformat()}T23:59:59Z":
            problems.append(f"{ident}: out of order or after the end")
        last_at = str(e["at"])
        if kind == "new_site":
            site, lots = e["site"], e["parcels"]
            assert isinstance(site, dict) and isinstance(lots, list)
            active.add(str(site["id"]))
            status.update({str(f["id"]): "verfuegbar" for f in lots})
        elif kind in ("verification", "withdraw_site"):
            exts = e["parcels"]
            assert isinstance(exts, list)
            bad = [x for x in exts if status.get(str(x)) not in marketed]
            if bad or str(e["site"]) not in active:
                problems.append(f"{ident}: {kind} of unmarketed parcels {bad}")
            if kind == "withdraw_site":
                status.update({str(x): "zurueckgezogen" for x in exts})
                active.discard(str(e["site"]))
        else:
            ext = str(e["parcel"])
            if status.get(ext) not in allowed[kind]:
                problems.append(f"{ident}: {kind} of {ext} while {status.get(ext)}")
            status[ext] = after.get(kind, status.get(ext, ""))
    return problems
