"""The market after the survey, quarter by quarter (demo timeline simulation).

Starting from the surveyed state (2020-12-31), every quarter up to :data:`END`: new sites
are entered, district campaigns verify parcels, availability classes advance as their
dates come, restrictions fall away, a few areas are corrected or withdrawn, and parcels
are reserved, released and sold. Take-up follows an annual target near the framework's
134-149 ha a year, weighted towards the study's demand core (Leipzig, Halle, Anhalt-
Bitterfeld). Every event of a parcel lies strictly after its previous one, so the events
can be replayed in date order through the service's write paths.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from tools.demo_data.attributes import BASE_PRICE
from tools.demo_data.sales import ORIGIN_LARGE, ORIGIN_SMALL

BASE = date(2020, 12, 31)
END = date(2026, 9, 30)
YEAR = 365.25

#: Share of the take-up each district attracts while it has land to sell (demo assumption).
SALE_WEIGHT: dict[str, float] = {
    "leipzig_stadt": 0.20, "halle": 0.08, "anhalt_bitterfeld": 0.26, "saalekreis": 0.12,
    "leipzig_lk": 0.10, "nordsachsen": 0.11, "burgenlandkreis": 0.06,
    "altenburger_land": 0.04, "mansfeld_suedharz": 0.03,
}
ANNUAL_TAKE_UP_HA = (125.0, 150.0)
#: Last verification campaign per district (sites spread around it). Some districts are
#: overdue on purpose: Anhalt-Bitterfeld checked last in November 2025, and three districts
#: have not checked their parcels since the survey (``None``).
CAMPAIGN: dict[str, date | None] = {
    "leipzig_stadt": date(2026, 8, 20), "leipzig_lk": date(2026, 6, 10),
    "nordsachsen": date(2026, 8, 25), "halle": date(2026, 7, 20),
    "anhalt_bitterfeld": date(2025, 11, 12), "burgenlandkreis": None,
    "mansfeld_suedharz": None, "saalekreis": date(2026, 9, 3), "altenburger_land": None,
}
REMOVABLE: dict[str, str] = {
    "altlasten": "Altlasten saniert", "kampfmittel": "Kampfmittelfreiheit bestätigt",
    "tiefenenttruemmerung": "Tiefenenttrümmerung abgeschlossen",
    "medienerschliessung": "Medienerschließung hergestellt",
    "verkehrserschliessung": "Verkehrserschließung fertiggestellt",
    "breitband": "Breitbandanschluss verlegt",
}
WITHDRAW_NOTES = ("Eigentümer nicht mehr verkaufsbereit",
                  "Fläche für Eigenbedarf des Eigentümers vorgesehen",
                  "Planungsabsicht aufgegeben (Flächennutzungsplan geändert)")
GROUP_WEIGHT = {"logistik": 1.4, "industrie_produktion": 1.2, "handwerk_gewerbe": 1.0,
                "dienstleistung": 0.8, "wissen_technologie": 0.8}


@dataclass(slots=True)
class Lot:
    """A parcel as the simulation sees it."""

    ext: str
    district: str
    site: str
    category: str
    availability: str
    available_from: date | None
    restriction: str
    causes: list[str]
    net: float
    groups: list[str]
    price: float | None
    last: date
    status: str = "verfuegbar"
    schedule: list[tuple[date, str]] = field(default_factory=list)
    held: bool = False  # set aside for a withdrawal: never reserved or sold


@dataclass(slots=True)
class Event:
    """One dated change; ``seq`` keeps the order of emission within a day."""

    day: date
    seq: int
    kind: str
    data: dict[str, object]


def _years(d: date, years: float) -> date:
    return d + timedelta(days=round(years * YEAR))


def _pick(options: dict[str, float], rng: np.random.Generator) -> str:
    keys = list(options)
    p = np.array([options[k] for k in keys])
    return keys[int(rng.choice(len(keys), p=p / p.sum()))]


def _schedule(lot: Lot, start: date, rng: np.random.Generator) -> list[tuple[date, str]]:
    """When the lot's availability class advances (dates may lie beyond the end)."""
    a, when = lot.availability, lot.available_from
    if a == "kurzfristig":
        if when is None and rng.uniform() < 0.65:
            return []  # no date: the class is not reassessed before the end
        due = when or _years(start, float(rng.uniform(0.8, 2.5)))
        if rng.uniform() < 0.45:  # delayed (servicing, permits), many beyond the end
            due = _years(due, float(rng.uniform(1.5, 5.0)))
        return [(due, "sofort")]
    if a == "mittelfristig":
        if when is not None:
            return [(_years(when, -float(rng.uniform(1.5, 2.0))), "kurzfristig"), (when, "sofort")]
        return [(_years(start, float(rng.uniform(2.0, 4.5))), "kurzfristig")
                ] if rng.uniform() < 0.5 else []
    if a == "langfristig" and when is not None and rng.uniform() < 0.35:
        return [(_years(when, -float(rng.uniform(4.5, 5.0))), "mittelfristig")]
    if a == "unbekannt" and rng.uniform() < 0.05:
        return [(_years(start, float(rng.uniform(0.5, 5.0))),
                 _pick({"langfristig": 0.5, "mittelfristig": 0.35, "kurzfristig": 0.15}, rng))]
    return []


class Market:
    """The simulation: lots, events emitted so far, and the sales per year."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.lots: dict[str, Lot] = {}
        self.events: list[Event] = []
        self.sold: dict[int, list[tuple[str, float]]] = {}
        self.site_check: dict[str, date] = {}

    def emit(self, day: date, kind: str, data: dict[str, object]) -> None:
        self.events.append(Event(day, len(self.events), kind, data))

    def add(self, lot: Lot, site_district: str) -> None:
        """Register a parcel (surveyed, or entered by the timeline on ``lot.last``).

        Districts that do not maintain their data (no campaign) do not reassess classes.
        """
        schedule = _schedule(lot, lot.last, self.rng)
        lot.schedule = schedule if CAMPAIGN[site_district] is not None else []
        self.lots[lot.ext] = lot
        if lot.site not in self.site_check:
            self.site_check[lot.site] = self._check_day(site_district, lot.last)

    def _check_day(self, district: str, entered: date) -> date:
        """The site's last check: its district's campaign, now and then another day."""
        rng = self.rng
        u = float(rng.uniform())
        campaign = CAMPAIGN[district]
        shift = timedelta(days=int(rng.integers(-25, 26)))
        if u < 0.05 or campaign is None:
            return date.max  # not checked since the survey
        day = campaign + shift
        if u < 0.15:
            first = date(2025, 3, 1)
            day = first + timedelta(days=int(rng.integers(0, (END - first).days)))
        return min(max(day, entered + timedelta(days=1)), END)

    def _window(self, lot: Lot, start: date, end: date) -> date | None:
        """A day in [start, end] strictly after the lot's last event, or None."""
        first = max(start, lot.last + timedelta(days=1))
        if first > end:
            return None
        return first + timedelta(days=int(self.rng.integers(0, (end - first).days + 1)))

    def marketed(self) -> list[Lot]:
        return [lot for lot in self.lots.values() if lot.status in ("verfuegbar", "reserviert")]

    def verify(self, start: date, end: date) -> None:
        by_site: dict[str, list[Lot]] = {}
        for lot in self.marketed():
            day = self.site_check[lot.site]
            if start <= day <= end and lot.last < day:
                by_site.setdefault(lot.site, []).append(lot)
        for site, lots in by_site.items():
            day = self.site_check[site]
            self.emit(day, "verification", {"site": site, "parcels": [lot.ext for lot in lots]})
            for lot in lots:
                lot.last = day

    def advance(self, start: date, end: date) -> None:
        for lot in self.marketed():
            if not lot.schedule or lot.schedule[0][0] > end:
                continue
            due, new = lot.schedule[0]
            day = self._window(lot, max(start, due), end)
            if day is None:
                continue
            lot.schedule.pop(0)
            if new == lot.availability:
                continue
            lot.availability, lot.last = new, day
            self.emit(day, "availability", {"parcel": lot.ext, "availability": new})

    def plan(self, kind: str, lots: list[Lot], count: int, low: date) -> dict[str, date]:
        """``count`` of ``lots`` (drawn without replacement) with a day each, for ``kind``."""
        if not lots:
            return {}
        idx = self.rng.choice(len(lots), size=min(count, len(lots)), replace=False)
        span = (END - low).days
        return {lots[int(i)].ext: low + timedelta(days=int(self.rng.integers(0, span)))
                for i in sorted(int(i) for i in idx)}

    def change(self, planned: dict[str, tuple[date, str]], start: date, end: date) -> None:
        """Planned restriction removals, area corrections and withdrawals due this quarter."""
        for ext, (due, kind) in planned.items():
            lot = self.lots[ext]
            if not start <= due <= end or lot.status not in ("verfuegbar", "reserviert"):
                continue
            day = self._window(lot, due, end)
            if day is None or (kind == "withdraw_parcel" and lot.status != "verfuegbar"):
                continue
            lot.last = day
            if kind == "restriction":
                self._lift(lot, day)
            elif kind == "area":
                lot.net = max(0.5, round(lot.net * float(self.rng.uniform(0.86, 0.97)), 2))
                self.emit(day, "area", {"parcel": ext, "net_area_ha": lot.net,
                                        "note": "Nettofläche nach Vermessung berichtigt"})
            else:
                lot.status = "zurueckgezogen"
                note = WITHDRAW_NOTES[int(self.rng.integers(len(WITHDRAW_NOTES)))]
                self.emit(day, "withdraw_parcel", {"parcel": ext, "note": note})

    def _lift(self, lot: Lot, day: date) -> None:
        cause = next(c for c in REMOVABLE if c in lot.causes)
        lot.causes = [c for c in lot.causes if c != cause]
        if not lot.causes:
            lot.restriction = "keine"
        elif lot.restriction == "erhoeht" and self.rng.uniform() < 0.5:
            lot.restriction = "gering"
        self.emit(day, "restriction", {"parcel": lot.ext, "restriction_level": lot.restriction,
                                       "restriction_causes": list(lot.causes),
                                       "note": REMOVABLE[cause]})

    def withdraw_site(self, site: str, lots: list[Lot], day: date) -> None:
        day = max([day] + [lot.last + timedelta(days=1) for lot in lots])
        open_lots = [lot for lot in lots if lot.status in ("verfuegbar", "reserviert")]
        for lot in open_lots:
            lot.status, lot.last = "zurueckgezogen", day
        self.emit(day, "withdraw_site", {"site": site, "parcels": [lot.ext for lot in open_lots],
                                         "note": "Standort wird nicht weiter vermarktet"})

    def hold_open(self, start: date, end: date) -> None:
        """A reservation that is released later (or still open at the end)."""
        pool = [lot for lot in self._for_sale(end) if lot.availability == "sofort"]
        for _ in range(int(self.rng.poisson(0.7))):
            if not pool:
                return
            lot = pool.pop(int(self.rng.integers(len(pool))))
            day = self._window(lot, start, end)
            if day is None:
                continue
            self.emit(day, "reservation", {"parcel": lot.ext})
            back = day + timedelta(days=int(self.rng.integers(60, 241)))
            lot.status, lot.last = "reserviert", day
            if back <= END:
                self.emit(back, "release", {"parcel": lot.ext})
                lot.status, lot.last = "verfuegbar", back

    def _for_sale(self, end: date) -> list[Lot]:
        return [lot for lot in self.lots.values()
                if lot.status == "verfuegbar" and not lot.held and lot.last < end
                and lot.availability in ("sofort", "kurzfristig")]

    def sell(self, start: date, end: date, target: float) -> None:
        """Sell parcels dated in [start, end] until about ``target`` ha are sold."""
        rng, sold = self.rng, 0.0
        pool = self._for_sale(end)
        while sold < target and pool:
            districts = sorted({lot.district for lot in pool})
            w = np.array([SALE_WEIGHT[d] for d in districts])
            district = districts[int(rng.choice(len(districts), p=w / w.sum()))]
            mine = [lot for lot in pool if lot.district == district]
            lw = np.array([(1.0 if lot.availability == "sofort" else 0.6) * lot.net ** 0.75
                           / (1.0 + (lot.net / 30.0) ** 2) for lot in mine])
            lot = mine[int(rng.choice(len(mine), p=lw / lw.sum()))]
            pool.remove(lot)
            day = self._window(lot, start, end)
            if day is None:
                continue
            if rng.uniform() < 0.2 and (day - lot.last).days > 31:
                back = int(rng.integers(30, min(200, (day - lot.last).days)))
                self.emit(day - timedelta(days=back), "reservation", {"parcel": lot.ext})
            self.emit(day, "sale", self._sale(lot, day))
            lot.status, lot.last = "verkauft", day
            self.sold.setdefault(day.year, []).append((lot.district, lot.net))
            sold += lot.net

    def _sale(self, lot: Lot, day: date) -> dict[str, object]:
        rng = self.rng
        group = _pick({g: GROUP_WEIGHT[g] * (1.5 if g == "logistik" and lot.net >= 5 else 1.0)
                       for g in lot.groups}, rng)
        origin = _pick(ORIGIN_SMALL if lot.net < 3.0 else ORIGIN_LARGE, rng)
        base = lot.price if lot.price is not None else BASE_PRICE[lot.district] * 0.6
        price = base * float(rng.uniform(0.9, 1.2)) * (1.0 + 0.05 * (day.year - 2021))
        return {"parcel": lot.ext, "sale_date": day.isoformat(), "buyer_user_group": group,
                "buyer_origin": origin, "price_eur_m2": round(min(150.0, max(5.0, price)), 2)}


def quarters() -> list[tuple[date, date]]:
    """(first day, last day) of every quarter from 2021 Q1 to :data:`END`."""
    out = []
    for year in range(BASE.year + 1, END.year + 1):
        for q in range(4):
            start = date(year, 3 * q + 1, 1)
            end = date(year + (q == 3), 1 if q == 3 else 3 * q + 4, 1) - timedelta(days=1)
            if end <= END:
                out.append((start, end))
    return out


def annual_targets(rng: np.random.Generator) -> dict[int, float]:
    """Take-up target (ha) per year; the last, partial year pro rata."""
    targets = {}
    for year in range(BASE.year + 1, END.year + 1):
        share = 1.0 if year < END.year else END.month / 12.0
        targets[year] = float(rng.uniform(*ANNUAL_TAKE_UP_HA)) * share
    return targets


def quarter_target(market: Market, targets: dict[int, float], start: date) -> float:
    """What is left of the year's target, spread over the year's remaining quarters."""
    year = start.year
    left = sum(1 for s, _ in quarters() if s.year == year and s >= start)
    done = sum(net for _, net in market.sold.get(year, []))
    return max(0.0, (targets[year] - done) / max(left, 1)) * float(market.rng.uniform(0.8, 1.2))
