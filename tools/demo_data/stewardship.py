"""Who owns, markets and maintains the synthetic parcels: owners, contacts, disclosure,
notes, verification dates, parcel names and restriction causes.

All names, e-mail addresses and phone numbers are made up (``example.org``, ``0000-``
numbers); verification dates are those of the survey, between 2020-03-01 and 2020-12-15
(UTC); later checks are events of the demo timeline (:mod:`tools.demo_data.timeline`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
from shapely.geometry.base import BaseGeometry
from shapely.prepared import prep

from app.domain.vocab import RESTRICTION_CAUSE
from tools.demo_data.boundaries import Region
from tools.demo_data.model import Parcel, Site
from tools.demo_data.naming import slug
from tools.demo_data.places import TOWNS

OWNER_P: dict[str, dict[str, float]] = {
    "restflaeche_bestandsgebiet": {"kommunal": 0.55, "privat": 0.35, "land": 0.05,
                                   "sonstige": 0.05},
    "erweiterungsflaeche": {"kommunal": 0.7, "privat": 0.3},
    "geplanter_standort": {"kommunal": 0.8, "sonstige": 0.2},
    "nur_fnp_oder_regionalplan": {"privat": 0.6, "kommunal": 0.3, "land": 0.1},
    "braunkohle_folgeflaeche": {"bergbau_sanierer": 1.0},
    "innerstaedtische_brache": {"privat": 0.5, "kommunal": 0.3, "sonstige": 0.2},
    "pv_anlage": {"privat": 1.0},
    "vorschauflaeche": {"privat": 0.7, "kommunal": 0.3},
}
CAUSES: dict[str, tuple[str, ...]] = {
    "restflaeche_bestandsgebiet": ("eigentuemer", "immissionsschutz", "breitband", "kampfmittel",
                                   "altlasten", "medienerschliessung"),
    "erweiterungsflaeche": ("medienerschliessung", "verkehrserschliessung", "naturschutz",
                            "eigentuemer", "kampfmittel"),
    "geplanter_standort": ("medienerschliessung", "verkehrserschliessung", "naturschutz",
                           "eigentuemer"),
    "nur_fnp_oder_regionalplan": ("medienerschliessung", "verkehrserschliessung", "naturschutz",
                                  "eigentuemer", "immissionsschutz"),
    "braunkohle_folgeflaeche": ("altlasten", "kampfmittel", "tiefenenttruemmerung",
                                "medienerschliessung", "verkehrserschliessung"),
    "innerstaedtische_brache": ("altlasten", "tiefenenttruemmerung", "denkmalschutz",
                                "immissionsschutz"),
    "pv_anlage": ("eigentuemer", "sonstige"),
    "vorschauflaeche": ("naturschutz", "medienerschliessung", "verkehrserschliessung"),
}
NOTES: tuple[str, ...] = (
    "Anfrage eines Logistikunternehmens liegt vor (synthetisch).",
    "Eigentümer prüft Verkaufsbereitschaft; Preisvorstellung über Bodenrichtwert (synthetisch).",
    "Baugrundgutachten beauftragt (synthetisch).",
    "Erschließungsplanung läuft, Fördermittelantrag gestellt (synthetisch).",
    "Teilfläche für Regenrückhaltung vorgesehen (synthetisch).",
    "Abstimmung mit Unterer Naturschutzbehörde offen (synthetisch).",
    "Interessent aus dem verarbeitenden Gewerbe, Reservierung im Gespräch (synthetisch).",
    "Zufahrt über Gemeindestraße muss ausgebaut werden (synthetisch).",
)
FIRST_NAMES = ("Anja", "Birgit", "Claudia", "Daniel", "Frank", "Heike", "Jens", "Katrin",
               "Lars", "Maik", "Nadine", "Peter", "Sabine", "Stefan", "Thomas", "Ulrike")
LAST_NAMES = ("Bauer", "Fischer", "Hartmann", "Koch", "Krause", "Lehmann", "Neumann",
              "Richter", "Schröder", "Schulze", "Vogel", "Wagner", "Weber", "Winkler", "Zimmermann")
PHONE_AREA: dict[str, str] = {
    "leipzig_stadt": "341", "leipzig_lk": "3433", "nordsachsen": "3421", "halle": "345",
    "anhalt_bitterfeld": "3496", "burgenlandkreis": "3445", "mansfeld_suedharz": "3464",
    "saalekreis": "3461", "altenburger_land": "3447",
}
STATE: dict[str, str] = {"14": "Freistaat Sachsen", "15": "Land Sachsen-Anhalt",
                         "16": "Freistaat Thüringen"}
PUBLIC_PATTERNS: tuple[tuple[str, ...], ...] = (
    ("contact_name", "contact_email"),
    ("price_eur_m2", "contact_name", "contact_email", "contact_phone"),
    ("price_eur_m2", "owner_type", "contact_name", "contact_email"),
    ("owner_type", "contact_email"),
    ("price_eur_m2", "owner_type", "contact_name", "contact_email", "contact_phone"),
    (),
)
#: Date of each district's survey visit for the study (parcels are spread around it).
CAMPAIGN: dict[str, str] = {
    "leipzig_stadt": "2020-09-15", "leipzig_lk": "2020-06-10", "nordsachsen": "2020-09-22",
    "halle": "2020-08-20", "anhalt_bitterfeld": "2020-05-12", "burgenlandkreis": "2020-07-01",
    "mansfeld_suedharz": "2020-04-20", "saalekreis": "2020-10-03", "altenburger_land": "2020-06-15",
}
VERIFIED_MIN = datetime(2020, 3, 1, tzinfo=UTC)
VERIFIED_MAX = datetime(2020, 12, 15, 17, 0, tzinfo=UTC)


def _pick(options: dict[str, float], rng: np.random.Generator) -> str:
    keys = list(options)
    p = np.array([options[k] for k in keys])
    return keys[int(rng.choice(len(keys), p=p / p.sum()))]


def _owner(site: Site, region: Region, rng: np.random.Generator) -> tuple[str, str | None]:
    muni = region.municipalities[site.municipality_ags]
    if site.attributes.get("partners"):
        return "sonstige", f"Zweckverband {site.attributes['name']} (synthetisch)"
    kind = _pick(OWNER_P[site.category], rng)
    if kind == "kommunal":
        prefix = "Stadt" if muni.name in TOWNS and TOWNS[muni.name][2] >= 2 else "Gemeinde"
        return kind, f"{prefix} {muni.name}"
    if kind == "land":
        return kind, STATE[muni.ags[:2]]
    if kind == "bergbau_sanierer":
        return kind, "Bergbausanierungsgesellschaft (synthetisch)"
    if kind == "sonstige":
        return kind, "Grundstücksgesellschaft (synthetisch)"
    return kind, "Privateigentümer (synthetisch)" if rng.uniform() < 0.6 else None


def _verified(site: Site, rng: np.random.Generator) -> datetime:
    """Day (07:00 UTC) on which the site's parcels were last checked."""
    base = datetime.fromisoformat(CAMPAIGN[site.district]).replace(tzinfo=UTC, hour=7)
    if rng.uniform() < 0.12:
        span = (VERIFIED_MAX - VERIFIED_MIN).days
        base = VERIFIED_MIN.replace(hour=7) + timedelta(days=int(rng.integers(0, span)))
    return base + timedelta(days=int(rng.integers(-25, 26)))


def _causes(p: Parcel, flood: bool, rng: np.random.Generator) -> list[str]:
    if p.restriction not in ("gering", "erhoeht"):
        return []
    pool = tuple(c for c in CAUSES[p.category] if not (
        (c == "medienerschliessung" and p.servicing == "erschlossen")
        or (c == "breitband" and (p.attributes.get("broadband_mbps") or 0) >= 100)))
    n = 1 if p.restriction == "gering" and rng.uniform() < 0.7 else min(len(pool), 2 + int(
        p.restriction == "erhoeht" and rng.uniform() < 0.4))
    chosen = {pool[int(i)] for i in rng.choice(len(pool), size=n, replace=False)}
    if (p.category == "geplanter_standort" and p.restriction == "erhoeht"
            and p.servicing != "unerschlossen"):
        chosen.add("altlasten")
    if flood:
        chosen.add("hochwasser")
    return [c for c in RESTRICTION_CAUSE.codes if c in chosen]


def steward(sites: list[Site], parcels: list[Parcel], region: Region, flood: BaseGeometry,
            rng: np.random.Generator) -> None:
    """Owner, contact, disclosure, notes, verification, names and causes per parcel."""
    flood_prepared = prep(flood)
    for site in sites:
        owner_type, owner_name = _owner(site, region, rng)
        first = FIRST_NAMES[int(rng.integers(len(FIRST_NAMES)))]
        last = LAST_NAMES[int(rng.integers(len(LAST_NAMES)))]
        email = f"{slug(first)}.{slug(last)}@example.org"
        phone = (f"+49 {PHONE_AREA[site.district]} 0000-{int(rng.integers(100, 1000))}"
                 if rng.uniform() < 0.85 else None)
        pattern = PUBLIC_PATTERNS[int(rng.choice(len(PUBLIC_PATTERNS),
                                                 p=[0.3, 0.2, 0.2, 0.1, 0.15, 0.05]))]
        verified = _verified(site, rng)
        letters = site.category in ("nur_fnp_oder_regionalplan", "vorschauflaeche",
                                    "braunkohle_folgeflaeche", "pv_anlage")
        for k, i in enumerate(site.parcels):
            p = parcels[i]
            assert p.geometry is not None
            name = f"Teilfläche {chr(ord('A') + k)}" if letters else f"Baufeld {k + 1}"
            stamp = verified + timedelta(minutes=int(rng.integers(0, 10 * 60)))
            stamp = min(max(stamp, VERIFIED_MIN), VERIFIED_MAX).replace(second=0, microsecond=0)
            note = NOTES[int(rng.integers(len(NOTES)))] if rng.uniform() < 0.3 else None
            p.attributes.update({
                "name": name,
                "restriction_causes": _causes(p, flood_prepared.intersects(p.geometry), rng),
                "owner_type": owner_type,
                "owner_name": owner_name,
                "contact_name": f"{first} {last}",
                "contact_email": email,
                "contact_phone": phone,
                "public_fields": list(pattern),
                "internal_notes": note,
                "last_verified_at": stamp.strftime("%Y-%m-%dT%H:%M:%SZ"),
            })
