"""The portfolio report's tables, arranged from its sums (pure, no I/O).

Each table is ``{"rows": [...], "total": {...} | None}`` with the keys the CSV, XLSX and
HTML show (:mod:`app.services.reports.portfolio_output`); the sums come from
:mod:`app.db.queries.portfolio`, the balance from :func:`app.services.balance.compute_balance`.
Hectares are net unless named gross, rounded to 3 decimals (10 m²).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from app.db.queries.portfolio import SupplyGroups
from app.domain import vocab
from app.services.balance import SHORT_TERM

NO_GROUP = "ohne Nutzergruppe"


def rounded(value: float | None, digits: int = 3) -> float | None:
    """``value`` rounded (hectares to 3 decimals, 10 m², by default); ``None`` stays."""
    return None if value is None else round(float(value), digits)


def label_or_none(vocabulary: vocab.Vocabulary, code: str | None) -> str | None:
    """The German label of ``code``; ``None`` stays."""
    return None if code is None else vocabulary.label(code)


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


def district_tables(groups: SupplyGroups, districts: list[str], names: dict[str, str],
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
            "net_ha": rounded(g["net_ha"]), "gross_ha": rounded(g["gross_ha"]),
            "short_term_net_ha": rounded(sum(by_class[(d, a)] for a in SHORT_TERM)),
            "unrestricted_net_ha": rounded(unrestricted[d]),
            "premium_sites": len(premium_by[d]),
            "premium_net_ha": rounded(_sum(premium_by[d], "qualifying_net_ha"))})
        classes.append({"district_ags": d, "district_name": names.get(d, d),
                        **{a: rounded(by_class[(d, a)]) for a in vocab.AVAILABILITY.codes},
                        "net_ha": rounded(g["net_ha"])})
    total = {"district_ags": None, "district_name": "Summe", "sites": t["sites"],
             "parcels": t["parcels"], "net_ha": rounded(t["net_ha"]),
             "gross_ha": rounded(t["gross_ha"]),
             "short_term_net_ha": rounded(sum(v for (_, a), v in by_class.items()
                                              if a in SHORT_TERM)),
             "unrestricted_net_ha": rounded(sum(unrestricted.values())),
             "premium_sites": len(premium), "premium_net_ha": rounded(_sum(premium,
                                                                      "qualifying_net_ha"))}
    class_total = {"district_ags": None, "district_name": "Summe",
                   **{a: rounded(sum(v for (_, c), v in by_class.items() if c == a))
                      for a in vocab.AVAILABILITY.codes}, "net_ha": rounded(t["net_ha"])}
    return {"rows": rows, "total": total}, {"rows": classes, "total": class_total}


def supply_table(groups: SupplyGroups) -> dict[str, Any]:
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
             "parcels": int(cube[k][0]), "net_ha": rounded(cube[k][1]),
             "gross_ha": rounded(cube[k][2])}
            for k in keys]
    return {"rows": rows, "total": {
        "category_label": "Summe", "parcels": sum(c["parcels"] for c in groups.cells),
        "net_ha": rounded(_sum(groups.cells, "net_ha")),
        "gross_ha": rounded(_sum(groups.cells, "gross_ha"))}}


def user_group_table(groups: SupplyGroups) -> dict[str, Any]:
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
                     **{a: rounded(sums[group][a]) for a in vocab.AVAILABILITY.codes},
                     "net_ha": rounded(sum(sums[group].values()))})
    return {"rows": rows, "total": None}


def with_site_totals(premium: list[dict[str, Any]], groups: SupplyGroups
                      ) -> list[dict[str, Any]]:
    """The premium sites with the parcels and net ha of all their selected parcels."""
    sites: dict[int, list[float]] = defaultdict(lambda: [0, 0.0])
    for site in groups.sites:
        sites[site["site_id"]][0] += site["parcels"]
        sites[site["site_id"]][1] += site["net_ha"]
    return [{**p, "site_parcels": int(sites[p["site_id"]][0]),
             "site_net_ha": sites[p["site_id"]][1]} for p in premium]


def premium_table(premium: list[dict[str, Any]]) -> dict[str, Any]:
    rows = [{**p, "site_net_ha": rounded(p["site_net_ha"]),
             "qualifying_net_ha": rounded(p["qualifying_net_ha"]),
             "largest_parcel_net_ha": rounded(p["largest_parcel_net_ha"]),
             "nearest_junction_km": rounded(p["nearest_junction_km"], 1),
             "best_availability_label": label_or_none(vocab.AVAILABILITY, p["best_availability"])}
            for p in premium]
    total = {"site_name": f"Summe ({len(rows)} Standorte)",
             "site_parcels": sum(p["site_parcels"] for p in premium),
             "site_net_ha": rounded(_sum(premium, "site_net_ha")),
             "qualifying_parcels": sum(p["qualifying_parcels"] for p in premium),
             "qualifying_net_ha": rounded(_sum(premium, "qualifying_net_ha"))}
    return {"rows": rows, "total": total}


def balance_table(document: dict[str, Any], scope: dict[str, Any]) -> dict[str, Any]:
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


def partner_tables(rows: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Per site and municipality, and per municipality: net ha by partner share and by
    location of the parcels."""
    sites = [{**r, "site_net_ha": rounded(r["site_net_ha"]),
              "net_ha_by_share": rounded(r["net_ha_by_share"]),
              "net_ha_by_location": rounded(r["net_ha_by_location"]),
              "share_pct": rounded(r["share_pct"], 2)} for r in rows]
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
    municipalities = [{**m, "net_ha_by_share": rounded(m["net_ha_by_share"]),
                       "net_ha_by_location": rounded(m["net_ha_by_location"]),
                       "difference_net_ha": rounded(m["net_ha_by_share"] - m["net_ha_by_location"])}
                      for _, m in sorted(by_m.items())]
    by_share, by_location = _sum(rows, "net_ha_by_share"), _sum(rows, "net_ha_by_location")
    site_total = {"site_name": f"Summe ({len(site_ha)} Standorte)",
                  "site_net_ha": rounded(sum(site_ha.values())),
                  "net_ha_by_share": rounded(by_share),
                  "net_ha_by_location": rounded(by_location)}
    municipality_total = {"municipality_name": "Summe", "sites": len(site_ha),
                          "net_ha_by_share": rounded(by_share),
                          "net_ha_by_location": rounded(by_location),
                          "difference_net_ha": rounded(by_share - by_location)}
    return ({"rows": sites, "total": site_total},
            {"rows": municipalities, "total": municipality_total})
