"""Orchestrate the deterministic generation of the GEFIS-MD demo data set.

Steps: joint cells from the study's tables -> sites and parcels -> anchors -> user groups
-> area calibration -> servicing and net/gross -> placement in the real municipalities ->
names and stewardship -> land sales -> the timeline after the survey date -> framework,
rasters, self-checks, files. Every step
draws from its own seeded generator, so the output is byte-identical on every run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely

from tools.demo_data import attributes as attrs
from tools.demo_data import targets as T
from tools.demo_data.allocation import generic_cells
from tools.demo_data.anchors import choose_anchors
from tools.demo_data.boundaries import load_region
from tools.demo_data.checks import Entry, calibration_entries, geometry_problems
from tools.demo_data.features import (
    infrastructure_features,
    parcel_features,
    sale_features,
    site_features,
)
from tools.demo_data.figures import study_figures
from tools.demo_data.fitting import fit_areas
from tools.demo_data.floodplains import floodplains, river_lines
from tools.demo_data.framework import framework_document
from tools.demo_data.groups import assign_user_groups
from tools.demo_data.infrastructure import build_infrastructure
from tools.demo_data.naming import name_sites
from tools.demo_data.placement import place_sites
from tools.demo_data.rasters import write_rasters
from tools.demo_data.sales import generate_sales
from tools.demo_data.skeleton import build_skeleton
from tools.demo_data.stewardship import steward
from tools.demo_data.timeline import build_timeline
from tools.demo_data.writer import (
    round_geometry,
    write_feature_collection,
    write_json,
    write_listing,
)

SEED = 20201231
STUDY = ("Potenzialstudie Industrie- und Gewerbeflächen der Innovationsregion "
         "Mitteldeutschland (IRMD, 2020/21)")
DESCRIPTIONS = {
    "sites": f"SYNTHETISCHE DEMO-DATEN – Standorte: frei erfunden und an die veröffentlichten "
             f"Eckwerte der {STUDY} kalibriert; keine realen Gewerbegebiete (die vier in der "
             f"Studie genannten Projekte sind nur nachgebildet).",
    "parcels": f"SYNTHETISCHE DEMO-DATEN – Flächen: frei erfunden und an die veröffentlichten "
               f"Eckwerte der {STUDY} kalibriert (Tabellen 6 und 7, Flächenkategorien, "
               f"Verwertungsbeschränkungen, Nutzergruppen); keine realen Grundstücke.",
    "land_sales": f"SYNTHETISCHE DEMO-DATEN – Grundstücksverkäufe: frei erfunden; 2010–2019 je "
                  f"Kreis an Anzahl und Fläche der Tabelle 5 der {STUDY} kalibriert, 2020 "
                  f"frei fortgeschrieben, ohne Nutzergruppe des Käufers (die Studie nennt "
                  f"keine); Verkäufe ab 2021 stehen in der Zeitreihe (timeline.json); "
                  f"keine realen Kauffälle.",
    "infrastructure": f"SYNTHETISCHE DEMO-DATEN – Verkehrsinfrastruktur für die Demo zur {STUDY}: "
                      f"Autobahnen und Anschlussstellen sind schematisch (handdigitalisierte "
                      f"Näherung, Lage bis etwa 2 km ungenau; keine offene Autobahngeometrie "
                      f"verfügbar); keine amtlichen Daten.",
}


@dataclass(frozen=True, slots=True)
class Result:
    """What a generation run produced: report lines, rule violations, counts."""

    entries: list[Entry]
    problems: list[str]
    counts: dict[str, int]
    raster_stats: dict[str, float]
    take_up: dict[str, dict[str, float]]

    @property
    def ok(self) -> bool:
        """True if every required figure is met and no rule is broken."""
        return not self.problems and all(e.met for e in self.entries if e.required)


def _rng(stage: int) -> np.random.Generator:
    return np.random.default_rng([SEED, stage])


def generate(out_dir: Path, boundaries_dir: Path) -> Result:
    """Generate all demo files into ``out_dir`` and return the self-check result."""
    region = load_region(boundaries_dir)
    infra = build_infrastructure(region)
    flood = floodplains(_rng(1))
    sites, parcels = build_skeleton(generic_cells(), _rng(2))
    choose_anchors(sites, region, infra, _rng(3))
    assign_user_groups(sites, parcels, _rng(4))
    figures = study_figures()
    net = fit_areas(sites, parcels, figures)
    attrs.assign_servicing(sites, parcels, _rng(5))
    attrs.set_areas(sites, parcels, net, _rng(6))
    attrs.mark_flood_tolerant(sites, parcels)
    attrs.technical_attributes(sites, parcels, _rng(7))
    place_sites(sites, parcels, region, infra, flood, _rng(8))
    for s in sites:
        assert s.outline is not None
        s.outline = round_geometry(s.outline)  # type: ignore[assignment]
        s.external_id = f"DEMO-S-{s.index + 1:03d}"
    for p in parcels:
        assert p.geometry is not None
        p.geometry = round_geometry(p.geometry)  # type: ignore[assignment]
        p.external_id = f"DEMO-P-{p.index + 1:04d}"
    name_sites(sites, parcels, region, infra, _rng(9))
    steward(sites, parcels, region, flood, _rng(10))
    avoid = shapely.union_all([s.outline for s in sites]).buffer(30.0)
    sales = generate_sales(region, infra, avoid, _rng(11))
    for sale in sales:
        sale.point = round_geometry(sale.point)  # type: ignore[assignment]
    timeline = build_timeline(sites, parcels, region, infra, flood, sales,
                              (_rng(13), _rng(14), _rng(15)))

    layers = {
        "sites": site_features(sites),
        "parcels": parcel_features(sites, parcels),
        "land_sales": sale_features(sales),
        "infrastructure": infrastructure_features(infra),
    }
    for name, features in layers.items():
        write_feature_collection(out_dir / f"{name}.geojson", name, DESCRIPTIONS[name], features)
    write_listing(out_dir / "timeline.json", timeline.head(SEED),
                  {"events": timeline.events, "enquiries": timeline.enquiries})
    write_json(out_dir / "demand_framework_2038.json", framework_document())
    stats = write_rasters(out_dir / "rasters", region, list(river_lines().values()), flood,
                          _rng(12))

    entries = calibration_entries(sites, parcels, figures, sales)
    problems = geometry_problems(sites + timeline.added.sites,
                                 parcels + timeline.added.parcels, region, sales)
    problems += timeline.problems
    old = {s.municipality_ags for s in sales if s.sale_date.year <= 2019}
    counts = {"sites": len(sites), "parcels": len(parcels), "sales": len(sales),
              "sales_2010_2019": sum(1 for s in sales if s.sale_date.year <= 2019),
              "municipalities": len(region.municipalities),
              "municipalities_without_sale_2010_2019": len(region.municipalities) - len(old),
              "infrastructure": len(infra.features()),
              **{f"timeline_{k}": v for k, v in timeline.counts.items()}}
    result = Result(entries, problems, counts, stats, timeline.take_up)
    write_json(out_dir / "calibration_report.json", _report(result))
    return result


def _report(result: Result) -> dict[str, object]:
    return {
        "generator": "scripts/make_demo_geodata.py (tools.demo_data)",
        "seed": SEED,
        "synthetic": True,
        "about": ("Calibration of the synthetic demo data against the published figures of "
                  "the IRMD Potenzialstudie (2020/21). Net hectares are the effective net "
                  "areas the database derives (given net, else 0.75 x gross for unserviced "
                  "parcels, else gross). Required figures must lie within the tolerance."),
        "ok": result.ok,
        "counts": result.counts,
        "raster_stats": {k: round(v, 4) for k, v in result.raster_stats.items()},
        "problems": result.problems,
        "timeline_take_up": result.take_up,
        "figures": [e.as_json() for e in result.entries],
        "district_keys": {d.key: d.ags for d in T.DISTRICTS},
    }
