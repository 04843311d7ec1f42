"""The site profile (Standortprofil, exposé): one site with its parcels, as HTML and PDF.

:func:`load_site_profile` reads everything from the database (the site as
:func:`~app.db.queries.sites.fetch_site` shows it, the parcels through the select path with
the caller's viewer); :func:`site_profile_html` draws the map and fills the German template;
:func:`site_profile_pdf` prints that page with headless Chromium. Reading is kept apart from
rendering so a request returns its database connection before the slow part.

Areas are hectares, distances kilometres, prices EUR/m²; geometries EPSG:25832.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Connection

from app.db.queries.site_profile import SiteShapes, profile_parcels, site_shapes
from app.db.queries.sites import fetch_site
from app.domain import vocab
from app.domain.roles import Viewer
from app.services.render.html import png_data_uri, render_html
from app.services.render.maps import SiteMapParcel, site_map_png
from app.services.render.palette import AVAILABILITY_COLOURS
from app.services.render.pdf import html_to_pdf

#: German names of the fields an editor can release to the public (internal view only).
RELEASABLE_LABELS: dict[str, str] = {
    "price_eur_m2": "Preis", "noise_quota_db": "Lärmemissionskontingent",
    "owner_type": "Eigentümerart", "contact_name": "Ansprechpartner",
    "contact_email": "E-Mail", "contact_phone": "Telefon",
}

#: Vocabulary of each coded field shown with its German label (``<field>_label``).
_CODED: dict[str, vocab.Vocabulary] = {
    "category": vocab.CATEGORY, "marketing_status": vocab.MARKETING_STATUS,
    "availability": vocab.AVAILABILITY, "planning_status": vocab.PLANNING_STATUS,
    "zoning": vocab.ZONING, "servicing": vocab.SERVICING,
    "restriction_level": vocab.RESTRICTION_LEVEL, "owner_type": vocab.OWNER_TYPE,
}


@dataclass(frozen=True)
class Contact:
    """A marketing contact as released, and the numbers of the parcels it is named for."""

    name: str | None
    email: str | None
    phone: str | None
    parcels: tuple[str, ...]


@dataclass(frozen=True)
class SiteProfile:
    """What a profile shows: the site, its parcels (table order, numbered) and map shapes."""

    site: dict[str, Any]
    parcels: list[dict[str, Any]]
    shapes: SiteShapes
    internal: bool
    all_parcels: bool
    day: date
    summary: dict[str, Any] = field(default_factory=dict)
    contacts: tuple[Contact, ...] = ()

    @property
    def synthetic(self) -> bool:
        """Whether any of the data shown is synthetic demo data."""
        return bool(self.site.get("synthetic")) or any(p["synthetic"] for p in self.parcels)

    @property
    def display_name(self) -> str:
        """The marketing name when there is one, else the site's name."""
        return str(self.site.get("marketing_name") or self.site["name"])


def _natural(text: str | None) -> tuple[Any, ...]:
    """Sort key in which "Baufeld 10" follows "Baufeld 9"."""
    return tuple(int(part) if part.isdigit() else part.casefold()
                 for part in re.split(r"(\d+)", text or ""))


def _labelled(row: dict[str, Any]) -> dict[str, Any]:
    """A parcel row with German labels of its codes (``<field>_label``, ``None`` if absent)."""
    out = dict(row)
    for name, vocabulary in _CODED.items():
        code = row.get(name)
        out[f"{name}_label"] = vocabulary.label(code) if code is not None else None
    out["restriction_cause_labels"] = [vocab.RESTRICTION_CAUSE.label(c)
                                       for c in row.get("restriction_causes") or ()]
    out["user_group_labels"] = [vocab.USER_GROUP.label(c) for c in row.get("user_groups") or ()]
    out["released_labels"] = [RELEASABLE_LABELS.get(f, f) for f in row.get("public_fields") or ()]
    out["colour"] = AVAILABILITY_COLOURS.get(row["availability"], "#9e9e9e")
    return out


def summarise(parcels: list[dict[str, Any]]) -> dict[str, Any]:
    """Key figures of the parcels shown (pure): count, net and gross ha, net ha available
    now, nearest motorway junction and airport (km), rail siding, 24 h operation, best
    broadband (Mbit/s), price range (EUR/m²) and the last verification.

    >>> s = summarise([
    ...     {"net_area_ha": 2.5, "gross_area_ha": 3.0, "availability": "sofort",
    ...      "distance_junction_km": 4.2, "distance_airport_km": None, "rail_siding": False,
    ...      "operation_24h": True, "broadband_mbps": 100, "price_eur_m2": None,
    ...      "last_verified_at": date(2024, 5, 1)},
    ...     {"net_area_ha": 1.0, "gross_area_ha": 1.0, "availability": "langfristig",
    ...      "distance_junction_km": 3.9, "distance_airport_km": 20.0, "rail_siding": True,
    ...      "operation_24h": False, "broadband_mbps": None, "price_eur_m2": 40,
    ...      "last_verified_at": None}])
    >>> s["net_ha"], s["net_ha_now"], s["junction_km"], s["rail_siding"], s["prices"]
    (3.5, 2.5, 3.9, 1, (40.0, 40.0))
    """
    def values(name: str) -> list[Any]:
        return [p[name] for p in parcels if p.get(name) is not None]

    prices = [float(v) for v in values("price_eur_m2")]
    return {
        "parcels": len(parcels),
        "net_ha": sum(float(p["net_area_ha"]) for p in parcels),
        "gross_ha": sum(float(p["gross_area_ha"]) for p in parcels),
        "net_ha_now": sum(float(p["net_area_ha"]) for p in parcels
                          if p["availability"] == "sofort"),
        "junction_km": min(values("distance_junction_km"), default=None),
        "airport_km": min(values("distance_airport_km"), default=None),
        "rail_siding": sum(1 for p in parcels if p.get("rail_siding")),
        "operation_24h": sum(1 for p in parcels if p.get("operation_24h")),
        "broadband_mbps": max(values("broadband_mbps"), default=None),
        "prices": (min(prices), max(prices)) if prices else None,
        "last_verified_at": max(values("last_verified_at"), default=None),
    }


def contacts_of(parcels: list[dict[str, Any]]) -> tuple[Contact, ...]:
    """The distinct contacts named for the parcels (as released), in table order."""
    found: dict[tuple[str | None, str | None, str | None], list[str]] = {}
    for p in parcels:
        key = (p.get("contact_name"), p.get("contact_email"), p.get("contact_phone"))
        if any(key):
            found.setdefault(key, []).append(p["nr"])
    return tuple(Contact(*key, parcels=tuple(nrs)) for key, nrs in found.items())


def load_site_profile(conn: Connection, site_id: int, *, viewer: Viewer,
                      include_withdrawn: bool, all_parcels: bool, day: date) -> SiteProfile | None:
    """The profile of ``site_id`` as ``viewer`` may see it, or ``None`` when the site does
    not exist (or is withdrawn and ``include_withdrawn`` is false).

    Parcels: the marketed ones (``verfuegbar``, ``reserviert``), or with ``all_parcels``
    every parcel of the site the viewer may see (staff: sold and withdrawn ones too).
    """
    found = fetch_site(conn, site_id, include_withdrawn=include_withdrawn, srid=25832)
    shapes = site_shapes(conn, site_id)
    if found is None or shapes is None:
        return None
    site = json.loads(found[0])
    site.pop("geometry", None)
    rows = profile_parcels(conn, site_id, viewer, marketed_only=not all_parcels)
    rows.sort(key=lambda r: (_natural(r["name"] or r["external_id"]), r["id"]))
    parcels = [_labelled({**row, "nr": str(i)}) for i, row in enumerate(rows, start=1)]
    return SiteProfile(site=site, parcels=parcels, shapes=shapes, internal=viewer.internal,
                       all_parcels=all_parcels, day=day, summary=summarise(parcels),
                       contacts=contacts_of(parcels))


def site_map(profile: SiteProfile, dpi: int = 150) -> bytes:
    """The profile's map (PNG): parcels by availability, numbered as in the table."""
    note = "Standort und Flächen: synthetische Demodaten" if profile.synthetic else None
    return site_map_png(
        [SiteMapParcel(p["geom"], p["availability"], p["nr"]) for p in profile.parcels],
        title=f"{profile.display_name}: Flächen nach Verfügbarkeit",
        site_outline_wkb=profile.shapes.outline_wkb, district_wkb=profile.shapes.district_wkb,
        district_name=profile.shapes.district_name, region_wkbs=profile.shapes.region_wkbs,
        note=note, dpi=dpi)


def site_profile_html(profile: SiteProfile) -> str:
    """The profile as a German HTML page that stands alone (the map as a ``data:`` URI),
    printable on A4."""
    return render_html(
        "site_profile.html.j2", title=f"Standortprofil {profile.display_name}",
        synthetic=profile.synthetic, generated_at=profile.day, profile=profile,
        site=profile.site, parcels=profile.parcels, summary=profile.summary,
        contacts=profile.contacts, map_uri=png_data_uri(site_map(profile)))


def site_profile_pdf(profile: SiteProfile, *, chromium_path: str | None = None) -> bytes:
    """The profile as a PDF (A4), printed by headless Chromium from the HTML page."""
    return html_to_pdf(site_profile_html(profile), chromium_path=chromium_path)
