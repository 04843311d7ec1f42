"""Self-checks of the generated demo data: calibration report and geometric rules.

Effective net area (ha) is recomputed from the written (rounded) geometry exactly as the
database does: the given net area, else gross x 0.75 for unserviced land, else gross.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from shapely import STRtree

from app.domain import vocab
from tools.demo_data import targets as T
from tools.demo_data.boundaries import BOUNDARY_MARGIN_M, Region
from tools.demo_data.figures import Figure, top_district_limits
from tools.demo_data.model import Parcel, Site
from tools.demo_data.plan import MAX_PARCEL_HA, MAX_PARCELS_PER_SITE, MIN_PARCEL_HA
from tools.demo_data.sales import Sale


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of the calibration report."""

    key: str
    source: str
    target: float
    achieved: float
    tolerance: float
    required: bool
    upper_bound: bool = False  # target is a maximum, not a value to hit

    @property
    def difference(self) -> float:
        return self.achieved - self.target

    @property
    def met(self) -> bool:
        if self.upper_bound:
            return self.achieved <= self.target + self.tolerance
        return abs(self.difference) <= self.tolerance + 1e-9

    def as_json(self) -> dict[str, object]:
        return {"key": self.key, "source": self.source, "target": self.target,
                "achieved": round(self.achieved, 4), "difference": round(self.difference, 4),
                "tolerance": self.tolerance, "required": self.required,
                "kind": "maximum" if self.upper_bound else "value", "met": self.met}


def effective_net(p: Parcel) -> float:
    """Net area (ha) the database derives for ``p`` from its written values."""
    if p.net_given_ha is not None:
        return p.net_given_ha
    assert p.geometry is not None
    return p.geometry.area / 1e4 * (T.UNSERVICED_NET_SHARE if p.servicing == "unerschlossen"
                                    else 1.0)


def calibration_entries(sites: Sequence[Site], parcels: Sequence[Parcel],
                        figures: Sequence[Figure], sales: Sequence[Sale]) -> list[Entry]:
    """Target vs achieved for every calibrated figure."""
    net = [effective_net(p) for p in parcels]
    out = [Entry(f.key, f.source, f.target, f.achieved(parcels, net),
                 f.tolerance if f.target else 1e-9, f.required) for f in figures]
    for d in T.DISTRICT_KEYS:
        out.append(Entry(f"table6.sites.{d}", "Tabelle 6", float(T.TABLE6_SUPPLY[d][0]),
                         float(sum(1 for s in sites if s.district == d)), 0.0, True))
    out.append(Entry("table6.sites.irmd", "Tabelle 6", float(T.TABLE6_TOTAL[0]),
                     float(len(sites)), 0.0, True))
    out.append(Entry("category.vorschauflaeche.burgenlandkreis.sites", "Flächenkategorien",
                     float(T.VORSCHAU_BURGENLANDKREIS[0]),
                     float(sum(1 for s in sites if s.district == "burgenlandkreis"
                               and s.category == "vorschauflaeche")), 0.0, True))
    for key, sel, limit in top_district_limits():
        achieved = sum(a for p, a in zip(parcels, net, strict=True) if sel(p))
        out.append(Entry(key, "Gebietseignung (Rangfolge)", limit, achieved, 0.0, False,
                         upper_bound=True))
    for s in sites:
        if s.named is None:
            continue
        site_net = sum(net[i] for i in s.parcels)
        if s.named.gross_ha is not None:
            gross = sum(parcels[i].geometry.area / 1e4 for i in s.parcels)  # type: ignore[union-attr]
            out.append(Entry(f"named.{s.named.key}.gross_ha", "Studie (Projekte)",
                             s.named.gross_ha, gross, 1.0, True))
        out.append(Entry(f"named.{s.named.key}.net_ha", "Studie (Projekte)", s.named.net_ha,
                         site_net, 1.0, True))
    old = [s for s in sales if s.sale_date.year <= 2019]
    for d in T.DISTRICT_KEYS:
        n, area = T.TABLE5_SALES[d]
        mine = [s for s in old if s.district == d]
        out.append(Entry(f"table5.sales.{d}", "Tabelle 5", float(n), float(len(mine)), 0.0, True))
        out.append(Entry(f"table5.area_ha.{d}", "Tabelle 5", area,
                         round(sum(s.area_ha for s in mine), 4), 0.1, True))
    out.append(Entry("table5.sales.irmd", "Tabelle 5", float(T.TABLE5_TOTAL[0]),
                     float(len(old)), 0.0, True))
    out.append(Entry("table5.area_ha.irmd", "Tabelle 5", T.TABLE5_TOTAL[1],
                     round(sum(s.area_ha for s in old), 4), 0.1, True))
    return out


def geometry_problems(sites: Sequence[Site], parcels: Sequence[Parcel], region: Region,
                      sales: Sequence[Sale]) -> list[str]:
    """Every broken geometric or attribute rule, as readable messages (empty = all good)."""
    problems: list[str] = []
    shrunk = {a: m.geom.buffer(-(BOUNDARY_MARGIN_M - 0.01))
              for a, m in region.municipalities.items()}
    for p in parcels:
        g = p.geometry
        tag = p.external_id
        if g is None or g.is_empty or not g.is_valid:
            problems.append(f"{tag}: invalid or empty geometry")
            continue
        m = region.municipalities.get(p.municipality_ags)
        if m is None or m.district != p.district:
            problems.append(f"{tag}: municipality {p.municipality_ags} not in its district")
        elif not shrunk[m.ags].contains(g):
            problems.append(f"{tag}: not inside {m.name} with {BOUNDARY_MARGIN_M} m margin")
        site = sites[p.site]
        if site.outline is None or not site.outline.contains(g):
            problems.append(f"{tag}: outside its site outline")
        net = effective_net(p)
        if not MIN_PARCEL_HA - 1e-6 <= net <= MAX_PARCEL_HA + 1e-6:
            problems.append(f"{tag}: net {net:.2f} ha outside [0.5, 80]")
        if net > g.area / 1e4 * (1 + 1e-9):
            problems.append(f"{tag}: net above gross")
        problems += _vocab_problems(p)
    for p in parcels:
        allowed = T.CATEGORY_DISTRICTS.get(p.category)
        if allowed is not None and p.district not in allowed:
            problems.append(f"{p.external_id}: {p.category} not allowed in {p.district}")
    problems += _overlaps([p.geometry for p in parcels], [p.external_id for p in parcels],
                          "parcels")
    problems += _overlaps([s.outline for s in sites], [s.external_id for s in sites], "sites")
    for s in sites:
        if s.outline is None or not s.outline.is_valid:
            problems.append(f"{s.external_id}: invalid outline")
            continue
        if not 1 <= len(s.parcels) <= MAX_PARCELS_PER_SITE:
            problems.append(f"{s.external_id}: {len(s.parcels)} parcels")
        partners = s.attributes.get("partners") or []
        assert isinstance(partners, list)
        if partners and round(sum(float(x["share_pct"]) for x in partners), 6) != 100.0:
            problems.append(f"{s.external_id}: partner shares do not sum to 100")
        lead = region.municipalities[s.municipality_ags]
        if not partners and not lead.geom.contains(s.outline):
            problems.append(f"{s.external_id}: outline leaves {lead.name} without partners")
    for sale in sales:
        m = region.municipalities[sale.municipality_ags]
        if m.district != sale.district or not m.geom.contains(sale.point):
            problems.append(f"{sale.external_id}: point not in municipality {m.ags}")
    return problems


def _vocab_problems(p: Parcel) -> list[str]:
    a = p.attributes
    checks = [
        (vocab.CATEGORY, p.category), (vocab.AVAILABILITY, p.availability),
        (vocab.RESTRICTION_LEVEL, p.restriction), (vocab.SERVICING, p.servicing),
        (vocab.PLANNING_STATUS, a["planning_status"]), (vocab.ZONING, a["zoning"]),
        (vocab.OWNER_TYPE, a["owner_type"]),
    ]
    out = [f"{p.external_id}: {v} not in {voc.name}" for voc, v in checks if v not in voc]
    causes = a["restriction_causes"]
    assert isinstance(causes, list)
    out += [f"{p.external_id}: cause {c}" for c in causes if c not in vocab.RESTRICTION_CAUSE]
    out += [f"{p.external_id}: group {g}" for g in p.user_groups if g not in vocab.USER_GROUP]
    if not p.user_groups:
        out.append(f"{p.external_id}: no user group")
    if p.restriction in ("gering", "erhoeht") and not causes:
        out.append(f"{p.external_id}: restricted without cause")
    if p.restriction == "keine" and causes:
        out.append(f"{p.external_id}: causes without restriction")
    return out


def _overlaps(geoms: Sequence[object], names: Sequence[str], what: str) -> list[str]:
    tree = STRtree(list(geoms))
    out = []
    for i, g in enumerate(geoms):
        for j in tree.query(g, predicate="intersects"):
            j = int(j)
            if j > i and g.intersection(geoms[j]).area > 0.0:  # type: ignore[attr-defined]
                out.append(f"{what} {names[i]} and {names[j]} overlap")
    return out
