"""Names, descriptions, web addresses and partners of the synthetic sites (German).

Names follow common German estate naming ("Gewerbegebiet Delitzsch Nord") with real town
names; no company names. Everything is marked as synthetic.
"""

from __future__ import annotations

import math
import unicodedata

import numpy as np

from app.domain.vocab import CATEGORY
from tools.demo_data.boundaries import Region, to_utm
from tools.demo_data.infrastructure import Infrastructure
from tools.demo_data.model import Parcel, Site
from tools.demo_data.places import TOWNS

DIRECTIONS = ("Ost", "Nordost", "Nord", "Nordwest", "West", "Südwest", "Süd", "Südost")
TEMPLATES: dict[str, tuple[str, ...]] = {
    "restflaeche_bestandsgebiet": ("Gewerbegebiet {town} {dir}", "Industriegebiet {town} {dir}",
                                   "Gewerbepark {town} {dir}",
                                   "Gewerbe- und Industriegebiet {town} {dir}"),
    "erweiterungsflaeche": ("Erweiterung Gewerbegebiet {town} {dir}",
                            "Gewerbegebiet {town} {dir} II"),
    "geplanter_standort": ("Gewerbegebiet {town} {dir} (in Planung)",
                           "Industriepark {town} {dir}"),
    "nur_fnp_oder_regionalplan": ("Gewerbliche Baufläche {town} {dir}",
                                  "Potenzialfläche Gewerbe {town} {dir}"),
    "braunkohle_folgeflaeche": ("Bergbaufolgefläche {town} {dir}",
                                "Industriestandort {town} {dir} (ehemaliger Tagebau)"),
    "innerstaedtische_brache": ("Gewerbebrache {town} {dir}",
                                "Brachfläche am Güterbahnhof {town} {dir}",
                                "Ehemaliges Werksgelände {town} {dir}"),
    "pv_anlage": ("Gewerbefläche am Solarpark {town} {dir}",),
    "vorschauflaeche": ("Vorschaufläche {town} {dir}",),
}
JUNCTION_TEMPLATES = ("Gewerbegebiet An der {ref} {town}", "Autobahn-Gewerbepark {town} ({ref})")


def slug(text: str) -> str:
    """ASCII slug of a German text ("Weißenfels Süd" -> "weissenfels-sued")."""
    text = (text.replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").replace("ß", "ss")
            .replace("Ä", "Ae").replace("Ö", "Oe").replace("Ü", "Ue"))
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    out = "".join(ch.lower() if ch.isalnum() else "-" for ch in text)
    return "-".join(part for part in out.split("-") if part)


def _direction(site: Site, region: Region) -> str:
    assert site.outline is not None
    muni = region.municipalities[site.municipality_ags]
    town = TOWNS.get(muni.name)
    centre = to_utm(town[0], town[1]) if town else muni.geom.representative_point()
    c = site.outline.centroid
    dx, dy = c.x - centre.x, c.y - centre.y
    if math.hypot(dx, dy) < 800.0:
        return "Mitte"
    sector = round(math.atan2(dy, dx) / (math.pi / 4.0)) % 8
    return DIRECTIONS[sector]


def _town(name: str) -> str:
    return name.replace(" (Saale)", "").replace(" (Anhalt)", "").replace(" (Unstrut)", "")


def _nearest_junction(site: Site, infra: Infrastructure) -> tuple[str, str, float]:
    assert site.outline is not None
    j = min(infra.junctions, key=lambda j: (site.outline.distance(j.point), j.name))
    return j.name, j.ref, site.outline.distance(j.point) / 1000.0


def name_sites(sites: list[Site], parcels: list[Parcel], region: Region,
               infra: Infrastructure, rng: np.random.Generator) -> None:
    """Name, marketing name, description, web URL and partners of every site."""
    used: set[str] = set()
    for site in sites:
        muni = region.municipalities[site.municipality_ags]
        town = _town(muni.name)
        junction, ref, km = _nearest_junction(site, infra)
        if site.named is not None:
            name = site.named.name
        elif site.anchor is not None and site.anchor.kind == "junction" and km < 3.0 and (
                site.category in ("restflaeche_bestandsgebiet", "geplanter_standort")):
            template = JUNCTION_TEMPLATES[int(rng.integers(len(JUNCTION_TEMPLATES)))]
            name = template.format(ref=ref.split(";")[0], town=town)
        else:
            options = TEMPLATES[site.category]
            template = options[int(rng.integers(len(options)))]
            name = template.format(town=town, dir=_direction(site, region))
            name = name.replace(" Mitte", "-Mitte")
        base, k = name, 2
        while name in used:
            name = f"{base} {['II', 'III', 'IV', 'V', 'VI'][k - 2]}"
            k += 1
        used.add(name)
        site_parcels = [parcels[i] for i in site.parcels]
        net = sum(p.net_ha for p in site_parcels)
        groups = {g for p in site_parcels for g in p.user_groups}
        marketing = None
        if site.named is not None:
            marketing = site.named.marketing_name
        elif site.category in ("restflaeche_bestandsgebiet", "erweiterungsflaeche",
                               "geplanter_standort") and rng.uniform() < 0.3:
            if "logistik" in groups and km < 5.0:
                marketing = f"Logistikpark {town}"
            elif "wissen_technologie" in groups:
                marketing = f"Technologiepark {town}"
            else:
                marketing = f"Business Park {town}"
            if marketing in used:
                marketing = f"{marketing} {_direction(site, region)}"
            used.add(marketing)
        label = CATEGORY.label(site.category)
        n = len(site_parcels)
        net_de = f"{net:.1f}".replace(".", ",")
        text = (f"Synthetischer Demo-Standort ({label}) in {muni.name} mit {n} "
                f"{'Fläche' if n == 1 else 'Flächen'} und zusammen {net_de} ha Nettofläche. "
                f"Nächste Autobahnanbindung: {junction} ({ref}), rund {max(km, 1.0):.0f} km.")
        if site.named is not None:
            text = (f"{site.named.description} Synthetischer Demo-Standort mit {n} Flächen und "
                    f"zusammen {net_de} ha Nettofläche.")
        url = f"https://example.org/gewerbeflaechen/{slug(name)}" if rng.uniform() < 0.35 else None
        if site.named is not None:
            url = f"https://example.org/projekte/{slug(name)}"
        site.attributes.update({"name": name, "marketing_name": marketing, "description": text,
                                "web_url": url, "partners": _partners(site, region, rng)})


def _partners(site: Site, region: Region, rng: np.random.Generator) -> list[dict[str, object]]:
    if site.named is not None:
        return [{"municipality_ags": a, "share_pct": s} for a, s in site.named.partners]
    if site.category not in ("geplanter_standort", "nur_fnp_oder_regionalplan",
                             "vorschauflaeche") or site.net_plan < 35.0 or rng.uniform() > 0.45:
        return []
    lead = region.municipalities[site.municipality_ags]
    neighbours = [m for m in region.of_district(site.district)
                  if m.ags != lead.ags and m.geom.distance(lead.geom) < 1.0]
    if not neighbours:
        return []
    assert site.outline is not None
    other = min(neighbours, key=lambda m: (m.geom.distance(site.outline), m.ags))
    share = float(rng.choice([50.0, 60.0, 70.0]))
    return [{"municipality_ags": lead.ags, "share_pct": share},
            {"municipality_ags": other.ags, "share_pct": round(100.0 - share, 1)}]
