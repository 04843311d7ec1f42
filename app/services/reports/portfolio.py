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
district or site; this module only arranges them. Each table of the document is
``{"rows": [...], "total": {...} | None}`` with the same keys the CSV, XLSX and HTML show
(:mod:`app.services.reports.portfolio_output`). Hectares are net unless named gross,
rounded to 3 decimals (10 m²), computed in EPSG:25832.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Connection

from app.db.queries.balance import district_names
from app.db.queries.changes import CHANGE_LABELS, parcel_changes
from app.db.queries.portfolio import (
    SupplyGroups,
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
from app.services.balance import SHORT_TERM, BalanceOptions, compute_balance

REGION_NAME = "Region (alle Kreise)"
NO_GROUP = "ohne Nutzergruppe"
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


def _r(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(float(value), digits)


def _label(vocabulary: vocab.Vocabulary, code: str | None) -> str | None:
    return None if code is None else vocabulary.label(code)


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


def _sum(rows: Iterable[dict[str, Any]], key: str) -> float:
    return float(sum(r[key] or 0 for r in rows))


def _totals(groups: SupplyGroups) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """Sites, parcels, net and gross ha per district and in total (a site counts once in
    each district it has parcels in, and once in the total)."""
    by: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"sites": 0, "parcels": 0, "net_ha": 0.0, "gross_ha": 0.0})
    for c in groups.cells:
        d = by[c["district_ags"]]
        d["parcels"] += c["parcels"]
        d["net_ha"] += c["net_ha"]
        d["gross_ha"] += c["gross_ha"]
    for site in groups.sites:
        by[site["district_ags"]]["sites"] += 1
    total = {"sites": len({site["site_id"] for site in groups.sites}),
             "parcels": sum(d["parcels"] for d in by.values()),
             "net_ha": _sum(groups.cells, "net_ha"), "gross_ha": _sum(groups.cells, "gross_ha")}
    return dict(by), total


def _district_tables(groups: SupplyGroups, districts: list[str], names: dict[str, str],
                     premium: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``districts`` (sites, parcels, ha, short-term, unrestricted, premium) and
    ``availability`` (net ha per availability class), one row per district of the scope."""
    sums, t = _totals(groups)
    by_class: dict[tuple[str, str], float] = defaultdict(float)
    unrestricted: dict[str, float] = defaultdict(float)
    for c in groups.cells:
        by_class[(c["district_ags"], c["availability"])] += c["net_ha"]
        if c["restriction_level"] == "keine":
            unrestricted[c["district_ags"]] += c["net_ha"]
    premium_by: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for p in premium:
        premium_by[p["district_ags"]].append(p)
    rows, classes = [], []
    for d in [*districts, *sorted(set(sums) - set(districts))]:
        g = sums.get(d, {"sites": 0, "parcels": 0, "net_ha": 0.0, "gross_ha": 0.0})
        rows.append({
            "district_ags": d, "district_name": names.get(d, d),
            "sites": g["sites"], "parcels": g["parcels"],
            "net_ha": _r(g["net_ha"]), "gross_ha": _r(g["gross_ha"]),
            "short_term_net_ha": _r(sum(by_class[(d, a)] for a in SHORT_TERM)),
            "unrestricted_net_ha": _r(unrestricted[d]),
            "premium_sites": len(premium_by[d]),
            "premium_net_ha": _r(_sum(premium_by[d], "qualifying_net_ha"))})
        classes.append({"district_ags": d, "district_name": names.get(d, d),
                        **{a: _r(by_class[(d, a)]) for a in vocab.AVAILABILITY.codes},
                        "net_ha": _r(g["net_ha"])})
    total = {"district_ags": None, "district_name": "Summe", "sites": t["sites"],
             "parcels": t["parcels"], "net_ha": _r(t["net_ha"]), "gross_ha": _r(t["gross_ha"]),
             "short_term_net_ha": _r(sum(v for (_, a), v in by_class.items() if a in SHORT_TERM)),
             "unrestricted_net_ha": _r(sum(unrestricted.values())),
             "premium_sites": len(premium), "premium_net_ha": _r(_sum(premium,
                                                                      "qualifying_net_ha"))}
    class_total = {"district_ags": None, "district_name": "Summe",
                   **{a: _r(sum(v for (_, c), v in by_class.items() if c == a))
                      for a in vocab.AVAILABILITY.codes}, "net_ha": _r(t["net_ha"])}
    return {"rows": rows, "total": total}, {"rows": classes, "total": class_total}


def _supply_table(groups: SupplyGroups) -> dict[str, Any]:
    """Category × availability × restriction level (each parcel once), vocabulary order."""
    cube: dict[tuple[str, str, str], list[float]] = defaultdict(lambda: [0, 0.0, 0.0])
    for c in groups.cells:
        cell = cube[(c["category"], c["availability"], c["restriction_level"])]
        cell[0] += c["parcels"]
        cell[1] += c["net_ha"]
        cell[2] += c["gross_ha"]
    order = {v.name: {code: i for i, code in enumerate(v.codes)}
             for v in (vocab.CATEGORY, vocab.AVAILABILITY, vocab.RESTRICTION_LEVEL)}
    keys = sorted(cube, key=lambda k: (order["category"][k[0]], order["availability"][k[1]],
                                       order["restriction_level"][k[2]]))
    rows = [{"category": k[0], "category_label": vocab.CATEGORY.label(k[0]),
             "availability": k[1], "availability_label": vocab.AVAILABILITY.label(k[1]),
             "restriction_level": k[2],
             "restriction_label": vocab.RESTRICTION_LEVEL.label(k[2]),
             "parcels": int(cube[k][0]), "net_ha": _r(cube[k][1]), "gross_ha": _r(cube[k][2])}
            for k in keys]
    _, t = _totals(groups)
    return {"rows": rows, "total": {"category_label": "Summe", "parcels": t["parcels"],
                                    "net_ha": _r(t["net_ha"]), "gross_ha": _r(t["gross_ha"])}}


def _user_group_table(groups: SupplyGroups) -> dict[str, Any]:
    """Net ha per user group and availability class; a parcel counts for each group it
    suits (the rows overlap: no total), parcels without a group in their own row."""
    sums: dict[str | None, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    counts: dict[str | None, int] = defaultdict(int)
    for c in groups.user_groups:
        for group in c["user_groups"] or [None]:
            sums[group][c["availability"]] += c["net_ha"]
            counts[group] += c["parcels"]
    rows = []
    for group in [*vocab.USER_GROUP.codes, None]:
        if group is None and group not in sums:
            continue
        rows.append({"user_group": group,
                     "user_group_label": NO_GROUP if group is None
                     else vocab.USER_GROUP.label(group),
                     "parcels": counts[group],
                     **{a: _r(sums[group][a]) for a in vocab.AVAILABILITY.codes},
                     "net_ha": _r(sum(sums[group].values()))})
    return {"rows": rows, "total": None}


def _with_site_totals(premium: list[dict[str, Any]], groups: SupplyGroups
                      ) -> list[dict[str, Any]]:
    """The premium sites with the parcels and net ha of all their selected parcels."""
    sites: dict[int, list[float]] = defaultdict(lambda: [0, 0.0])
    for site in groups.sites:
        sites[site["site_id"]][0] += site["parcels"]
        sites[site["site_id"]][1] += site["net_ha"]
    return [{**p, "site_parcels": int(sites[p["site_id"]][0]),
             "site_net_ha": sites[p["site_id"]][1]} for p in premium]


def _premium_table(premium: list[dict[str, Any]]) -> dict[str, Any]:
    rows = [{**p, "site_net_ha": _r(p["site_net_ha"]),
             "qualifying_net_ha": _r(p["qualifying_net_ha"]),
             "largest_parcel_net_ha": _r(p["largest_parcel_net_ha"]),
             "nearest_junction_km": _r(p["nearest_junction_km"], 1),
             "best_availability_label": _label(vocab.AVAILABILITY, p["best_availability"])}
            for p in premium]
    total = {"site_name": f"Summe ({len(rows)} Standorte)",
             "site_parcels": sum(p["site_parcels"] for p in premium),
             "site_net_ha": _r(_sum(premium, "site_net_ha")),
             "qualifying_parcels": sum(p["qualifying_parcels"] for p in premium),
             "qualifying_net_ha": _r(_sum(premium, "qualifying_net_ha"))}
    return {"rows": rows, "total": total}


def _balance_table(document: dict[str, Any], scope: dict[str, Any]) -> dict[str, Any]:
    """Supply, remaining demand, balance and reach per area and scenario: the region (for
    the whole region only) and the scope's districts, side by side."""
    labels = {s["key"]: s["label"] for s in document["scenarios"]}
    wanted = set(scope["districts"])
    rows = []
    for area in document["areas"]:
        if area["level"] == "region" and scope["level"] != "region":
            continue
        if area["level"] == "district" and area["ags"] not in wanted:
            continue
        for key, s in area["scenarios"].items():
            rows.append({
                "area_ags": area["ags"], "area_name": area["name"], "scenario": key,
                "scenario_label": labels[key], "supply_net_ha": area["supply_scope_net_ha"],
                **{k: s[k] for k in ("demand_remaining_net_ha", "annual_demand_net_ha",
                                     "balance_net_ha", "short_term_balance_net_ha",
                                     "reach_years", "first_shortfall_year", "shortfall")}})
    return {"rows": rows, "total": None}


def _partner_tables(rows: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Per site and municipality, and per municipality: net ha by partner share and by
    location of the parcels."""
    sites = [{**r, "site_net_ha": _r(r["site_net_ha"]),
              "net_ha_by_share": _r(r["net_ha_by_share"]),
              "net_ha_by_location": _r(r["net_ha_by_location"]),
              "share_pct": _r(r["share_pct"], 2)} for r in rows]
    site_ha = {r["site_id"]: r["site_net_ha"] for r in rows}
    by_m: dict[str, dict[str, Any]] = {}
    for r in rows:
        m = by_m.setdefault(r["municipality_ags"], {
            "municipality_ags": r["municipality_ags"],
            "municipality_name": r["municipality_name"], "district_ags": r["district_ags"],
            "district_name": r["district_name"], "sites": 0, "net_ha_by_share": 0.0,
            "net_ha_by_location": 0.0})
        m["sites"] += 1
        m["net_ha_by_share"] += r["net_ha_by_share"]
        m["net_ha_by_location"] += r["net_ha_by_location"]
    municipalities = [{**m, "net_ha_by_share": _r(m["net_ha_by_share"]),
                       "net_ha_by_location": _r(m["net_ha_by_location"]),
                       "difference_net_ha": _r(m["net_ha_by_share"] - m["net_ha_by_location"])}
                      for _, m in sorted(by_m.items())]
    by_share, by_location = _sum(rows, "net_ha_by_share"), _sum(rows, "net_ha_by_location")
    site_total = {"site_name": f"Summe ({len(site_ha)} Standorte)",
                  "site_net_ha": _r(sum(site_ha.values())), "net_ha_by_share": _r(by_share),
                  "net_ha_by_location": _r(by_location)}
    municipality_total = {"municipality_name": "Summe", "sites": len(site_ha),
                          "net_ha_by_share": _r(by_share), "net_ha_by_location": _r(by_location),
                          "difference_net_ha": _r(by_share - by_location)}
    return ({"rows": sites, "total": site_total},
            {"rows": municipalities, "total": municipality_total})


def _changes(conn: Connection, f: ParcelFilter, viewer: Viewer, options: PortfolioOptions,
             scope: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """Changes per district and per parcel from the end of ``since`` to the report's day."""
    if options.since is None:
        return None
    now = today()
    changes = parcel_changes(conn, f, viewer=viewer,
                             before=source_for_day(conn, options.since, now),
                             after=source_for_day(conn, options.day, now), reference=options.day)

    def rounded(d: dict[str, Any]) -> dict[str, Any]:
        return {**d, **{k: _r(d[k]) for k in _CHANGE_HA}}

    wanted = set(scope["districts"])
    districts = [rounded(d) for d in changes.districts
                 if d["district_ags"] in wanted or d["net_ha_before"] or d["net_ha_after"]]
    parcels = [{**p, "net_ha_before": _r(p.get("net_ha_before")),
                "net_ha_after": _r(p.get("net_ha_after")),
                "changes_label": ", ".join(CHANGE_LABELS.get(c, c) for c in p["changes"]),
                **{f"{k}_{when}_label": _label(v, p.get(f"{k}_{when}"))
                   for k, v in (("marketing_status", vocab.MARKETING_STATUS),
                                ("availability", vocab.AVAILABILITY))
                   for when in ("before", "after")}}
               for p in changes.parcels]
    total = {**rounded(changes.total), "district_name": "Summe"}
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
    premium = _with_site_totals(premium_sites(conn, f, options.premium, viewer=viewer,
                                              reference=day, source=source), groups)
    partners = inter_municipal(conn, f, viewer=viewer, reference=day, source=source)
    balance = compute_balance(conn, f, viewer, options.balance)
    districts, availability = _district_tables(groups, scope["districts"], names, premium)
    partner_sites, partner_municipalities = _partner_tables(partners)
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
        "supply": _supply_table(groups),
        "user_groups": _user_group_table(groups),
        "premium_criteria": {**options.premium.as_dict(),
                             "description": options.premium.describe()},
        "premium_sites": _premium_table(premium),
        "framework": balance["framework"],
        "supply_scope": balance["supply_scope"],
        "scenarios": [{"key": s["key"], "label": s["label"], "kind": s["kind"]}
                      for s in balance["scenarios"]],
        "balance": _balance_table(balance, scope),
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
