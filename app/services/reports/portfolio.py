"""The inter-municipal portfolio report: its figures, assembled as one JSON document.

For the parcels of a filter (the registry's vocabulary, so ``district`` and ``municipality``
set the scope) as they were at the end of a day: sites and parcels per district; net ha by
category × availability × restriction level, and by user group (overlapping); the premium
sites (:mod:`app.domain.premium`); the balance and reach per district
(:func:`app.services.balance.compute_balance` with the same filter and day); the
inter-municipal sites allocated to their partners by shares and by where their parcels lie;
and, with a second day ``since``, what changed in between
(:func:`app.db.queries.changes.parcel_changes`).

Sums come from a handful of set-based statements (:mod:`app.db.queries.portfolio`), none per
district or site; this module reads them and :mod:`app.services.reports.portfolio_tables`
arranges them into the document's tables (``{"rows": [...], "total": {...} | None}``, the
keys the CSV, XLSX and HTML show). Hectares are net unless named gross, rounded to 3
decimals (10 m²), computed in EPSG:25832.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Connection

from app.db.queries.balance import district_names
from app.db.queries.changes import CHANGE_LABELS, parcel_changes
from app.db.queries.portfolio import (
    any_synthetic_site,
    district_shapes,
    inter_municipal,
    municipality_names,
    premium_sites,
    supply_groups,
)
from app.db.queries.snapshots import source_for_day
from app.domain import vocab
from app.domain.clock import today
from app.domain.filters import ParcelFilter
from app.domain.premium import PremiumCriteria
from app.domain.roles import Viewer
from app.services.balance import BalanceOptions, compute_balance
from app.services.reports.portfolio_tables import (
    balance_table,
    district_tables,
    label_or_none,
    partner_tables,
    premium_table,
    rounded,
    supply_table,
    user_group_table,
    with_site_totals,
)

REGION_NAME = "Region (alle Kreise)"
#: Keys of the changes' districts that are hectares (rounded like every area).
_CHANGE_HA = ("added_net_ha", "sold_net_ha", "reserved_net_ha", "withdrawn_net_ha",
              "net_ha_before", "net_ha_after", "net_ha_delta")


@dataclass(frozen=True)
class PortfolioOptions:
    """What the caller chose: the balance's options (their ``day`` is the report's), the
    premium criteria and the day changes are counted from (``None``: no changes)."""

    balance: BalanceOptions
    premium: PremiumCriteria = field(default_factory=PremiumCriteria)
    since: date | None = None

    @property
    def day(self) -> date:
        """The report's day (the state at its end)."""
        return self.balance.day


def _scope(conn: Connection, f: ParcelFilter, names: dict[str, str]) -> dict[str, Any]:
    """The report's area: the region, districts, or municipalities (from the filter)."""
    municipalities = municipality_names(conn, list(f.municipality)) if f.municipality else {}
    if f.district:
        districts = [d for d in names if d in f.district]
    elif municipalities:
        districts = [d for d in names if d in {m[1] for m in municipalities.values()}]
    else:
        districts = list(names)
    if municipalities:
        level, label = "municipality", ", ".join(m[0] for m in municipalities.values())
    elif f.district:
        level, label = "district", ", ".join(names[d] for d in districts)
    else:
        level, label = "region", REGION_NAME
    return {"level": level, "label": label, "districts": districts,
            "municipalities": [{"ags": a, "name": m[0], "district_ags": m[1]}
                               for a, m in municipalities.items()]}


def _changes(conn: Connection, f: ParcelFilter, viewer: Viewer, options: PortfolioOptions,
             scope: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """Changes per district and per parcel from the end of ``since`` to the report's day."""
    if options.since is None:
        return None
    now = today()
    changes = parcel_changes(conn, f, viewer=viewer,
                             before=source_for_day(conn, options.since, now),
                             after=source_for_day(conn, options.day, now), reference=options.day)

    def with_ha_rounded(d: dict[str, Any]) -> dict[str, Any]:
        return {**d, **{k: rounded(d[k]) for k in _CHANGE_HA}}

    wanted = set(scope["districts"])
    districts = [with_ha_rounded(d) for d in changes.districts
                 if d["district_ags"] in wanted or d["net_ha_before"] or d["net_ha_after"]]
    parcels = [{**p, "net_ha_before": rounded(p.get("net_ha_before")),
                "net_ha_after": rounded(p.get("net_ha_after")),
                "changes_label": ", ".join(CHANGE_LABELS.get(c, c) for c in p["changes"]),
                **{f"{k}_{when}_label": label_or_none(v, p.get(f"{k}_{when}"))
                   for k, v in (("marketing_status", vocab.MARKETING_STATUS),
                                ("availability", vocab.AVAILABILITY))
                   for when in ("before", "after")}}
               for p in changes.parcels]
    total = {**with_ha_rounded(changes.total), "district_name": "Summe"}
    return {"rows": districts, "total": total}, {"rows": parcels, "total": None}


def build_portfolio(conn: Connection, f: ParcelFilter, viewer: Viewer,
                    options: PortfolioOptions) -> dict[str, Any]:
    """The portfolio report of the parcels of ``f`` that ``viewer`` may see, at the end of
    ``options.day`` (see the module docstring)."""
    day = options.day
    names = district_names(conn)
    scope = _scope(conn, f, names)
    source = source_for_day(conn, day, today())  # as the balance and the summary read it
    groups = supply_groups(conn, f, viewer=viewer, reference=day, source=source)
    premium = with_site_totals(premium_sites(conn, f, options.premium, viewer=viewer,
                                              reference=day, source=source), groups)
    partners = inter_municipal(conn, f, viewer=viewer, reference=day, source=source)
    balance = compute_balance(conn, f, viewer, options.balance)
    districts, availability = district_tables(groups, scope["districts"], names, premium)
    partner_sites, partner_municipalities = partner_tables(partners)
    changes = _changes(conn, f, viewer, options, scope)
    return {
        "title": f"Gewerbeflächen-Portfolio: {scope['label']}",
        "at": day.isoformat(),
        "since": options.since.isoformat() if options.since else None,
        "scope": scope,
        "filters": f.active(),
        "public": not viewer.internal,
        "synthetic": any_synthetic_site(conn, sorted({s["site_id"] for s in groups.sites})),
        "total": {k: districts["total"][k] for k in (
            "sites", "parcels", "net_ha", "gross_ha", "short_term_net_ha",
            "unrestricted_net_ha", "premium_sites", "premium_net_ha")},
        "districts": districts,
        "availability": availability,
        "supply": supply_table(groups),
        "user_groups": user_group_table(groups),
        "premium_criteria": {**options.premium.as_dict(),
                             "description": options.premium.describe()},
        "premium_sites": premium_table(premium),
        "framework": balance["framework"],
        "supply_scope": balance["supply_scope"],
        "scenarios": [{"key": s["key"], "label": s["label"], "kind": s["kind"]}
                      for s in balance["scenarios"]],
        "balance": balance_table(balance, scope),
        "partner_sites": partner_sites,
        "partner_municipalities": partner_municipalities,
        "changes": changes[0] if changes else None,
        "changed_parcels": changes[1] if changes else None,
        "notes": notes(scope, options, viewer),
    }


@dataclass(frozen=True)
class PortfolioReport:
    """The report's document and, for the maps, the districts' boundaries (AGS, name, WKB
    in EPSG:25832; empty when no map is drawn)."""

    document: dict[str, Any]
    shapes: list[tuple[str, str, bytes]]


def load_portfolio(conn: Connection, f: ParcelFilter, viewer: Viewer,
                   options: PortfolioOptions, *, with_maps: bool = False) -> PortfolioReport:
    """Everything the report needs from the database, so the connection can be returned
    before charts, maps and the PDF are drawn."""
    document = build_portfolio(conn, f, viewer, options)
    return PortfolioReport(document, district_shapes(conn) if with_maps else [])


def notes(scope: dict[str, Any], options: PortfolioOptions, viewer: Viewer) -> list[str]:
    """The report's notes, in German."""
    out = [
        "Alle Flächen in Hektar netto, sofern nicht brutto genannt; Flächen aus den "
        "Geometrien in ETRS89 / UTM 32N (EPSG:25832).",
        "Ohne Filter zum Vermarktungsstand zählen die verfügbaren und reservierten Flächen "
        "aktiver Standorte (das Angebot am Markt), wie in Bilanz und Flächensummen.",
        "Standorte werden je Kreis gezählt, in dem sie Flächen haben; in der Summe zählt "
        "jeder Standort einmal.",
        "Nutzergruppen: Eine Fläche zählt für jede Nutzergruppe, für die sie geeignet ist; "
        "die Zeilen überschneiden sich und ergeben keine Summe.",
        "Premiumstandorte: " + "; ".join(options.premium.describe()) + ".",
        "Interkommunale Standorte: nach den heutigen Anteilen der Partnergemeinden (nicht "
        "historisiert) und nach der Lage der Flächen (Flächenanteil je Gemeinde).",
        "Bilanz: Angebot der Auswahl gegen den Restbedarf des Orientierungsrahmens ab dem "
        "Stichtag; Reichweite = Angebot ÷ jährlicher Bedarf.",
    ]
    if scope["level"] != "region":
        out.append("Der Bedarf ist je Kreis festgelegt: Bei einer Auswahl von Gemeinden oder "
                   "mit Filtern steht das ausgewählte Angebot dem Bedarf des ganzen Kreises "
                   "gegenüber.")
    if options.since is not None:
        out.append("Veränderungen: Stand am Ende des Vergleichstags gegen den Stand am Ende "
                   "des Stichtags; eine Fläche zählt, wenn sie zu einem der beiden Tage zur "
                   "Auswahl gehört.")
    if not viewer.internal:
        out.append("Öffentliche Ansicht: nur vermarktete Flächen aktiver Standorte und die "
                   "veröffentlichten Angaben"
                   + ("; eine Fläche, die den Markt verlassen hat (verkauft, zurückgezogen), "
                      "zählt bei den Veränderungen als „vom Markt“." if options.since else "."))
    return out
