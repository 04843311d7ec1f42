"""Published figures of the IRMD Potenzialstudie (survey state December 2020).

The figures are read from ``geodata/study/reference_figures.json``, their only home in the
repository (the tests read the same file). This module gives them the names and shapes
the generator works with. All areas are NET hectares (Nettofläche) unless a name says
gross; all figures are the study's own roundings, so rows and columns of Tables 6 and 7
differ from their totals by up to 1 ha.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

#: The study's figures (JSON); documented in ``geodata/study/README.md``.
REFERENCE_FIGURES: Final[Path] = (
    Path(__file__).resolve().parents[2] / "geodata" / "study" / "reference_figures.json"
)


def load_reference_figures(path: Path = REFERENCE_FIGURES) -> dict[str, Any]:
    """The parsed reference figures document."""
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def de_number(value: float) -> str:
    """A figure written the German way: ``2545`` -> ``2.545``, ``1.3`` -> ``1,3``."""
    text = f"{int(value):,}" if float(value).is_integer() else f"{value:,}"
    return text.translate(str.maketrans(",.", ".,"))


def _rows(section: dict[str, Any]) -> dict[str, Any]:
    """Entries of a section without its ``_about`` note."""
    return {k: v for k, v in section.items() if not k.startswith("_")}


_DATA: Final[dict[str, Any]] = load_reference_figures()


@dataclass(frozen=True, slots=True)
class District:
    """A Kreis of the IRMD: study key, 5-digit AGS and official name."""

    key: str
    ags: str
    name: str
    seat: str


DISTRICTS: Final[tuple[District, ...]] = tuple(
    District(d["key"], d["ags"], d["name"], d["seat"]) for d in _DATA["districts"]
)

DISTRICT_KEYS: Final[tuple[str, ...]] = tuple(d.key for d in DISTRICTS)
AGS_BY_KEY: Final[dict[str, str]] = {d.key: d.ags for d in DISTRICTS}
KEY_BY_AGS: Final[dict[str, str]] = {d.ags: d.key for d in DISTRICTS}

#: Smallest site the study surveyed (ha).
MIN_SURVEYED_SITE_HA: Final[float] = float(_DATA["min_surveyed_site_ha"])

_TABLE5: Final[dict[str, Any]] = _DATA["table5_land_sales_2010_2019"]
#: Table 5: land sales 2010-2019 per district: (number of sales, total area in ha).
TABLE5_SALES: Final[dict[str, tuple[int, float]]] = {
    d: (int(_TABLE5[d][0]), float(_TABLE5[d][1])) for d in DISTRICT_KEYS
}
TABLE5_TOTAL: Final[tuple[int, float]] = (int(_TABLE5["irmd"][0]), float(_TABLE5["irmd"][1]))
#: Share of the municipalities without any sale 2010-2019.
SHARE_WITHOUT_SALES: Final[float] = float(_TABLE5["share_of_municipalities_without_sale"])

_TABLE6: Final[dict[str, Any]] = _DATA["table6_supply_by_district"]
#: Table 6: surveyed sites and net potential area (ha) per district.
TABLE6_SUPPLY: Final[dict[str, tuple[int, float]]] = {
    d: (int(_TABLE6[d][0]), float(_TABLE6[d][1])) for d in DISTRICT_KEYS
}
TABLE6_TOTAL: Final[tuple[int, float]] = (int(_TABLE6["irmd"][0]), float(_TABLE6["irmd"][1]))

_TABLE7: Final[dict[str, Any]] = _DATA["table7_supply_by_availability"]
AVAILABILITIES: Final[tuple[str, ...]] = tuple(_TABLE7["columns"])
#: Availability classes the study sums as "sofort oder kurzfristig" (now or within 2 years).
SHORT_TERM: Final[tuple[str, ...]] = ("sofort", "kurzfristig")
#: The study's name of the short-term group in its figures.
SHORT_TERM_KEY: Final[str] = "sofort_oder_kurzfristig"

#: Table 7: net ha per district and availability class (order of ``AVAILABILITIES``);
#: ``None`` means the study printed "-" (no area in that cell).
TABLE7_AVAILABILITY: Final[dict[str, tuple[float | None, ...]]] = {
    d: tuple(None if v is None else float(v) for v in _TABLE7[d]) for d in DISTRICT_KEYS
}
TABLE7_TOTALS: Final[dict[str, float]] = {
    a: float(v) for a, v in zip(AVAILABILITIES, _TABLE7["irmd"], strict=True)
}
#: Balance finding: land available now or within two years (ha).
SHORT_TERM_TOTAL: Final[float] = float(_DATA["balance_findings"]["sofort_plus_kurzfristig_ha"])

_CATEGORIES: Final[dict[str, Any]] = _rows(_DATA["supply_by_site_category_ha"])
#: Region totals per Flächenkategorie (ha).
CATEGORY_TOTALS: Final[dict[str, float]] = {
    c: float(v["ha"] if isinstance(v, dict) else v) for c, v in _CATEGORIES.items()
}
#: Districts to which a category is confined by the study.
CATEGORY_DISTRICTS: Final[dict[str, tuple[str, ...]]] = {
    c: tuple(v["districts"]) for c, v in _CATEGORIES.items()
    if isinstance(v, dict) and "districts" in v
}
#: Vorschauflächen in the Burgenlandkreis: (sites, ha).
VORSCHAU_BURGENLANDKREIS: Final[tuple[int, float]] = (
    int(_CATEGORIES["vorschauflaeche"]["burgenlandkreis"]["sites"]),
    float(_CATEGORIES["vorschauflaeche"]["burgenlandkreis"]["ha"]),
)

_RESTRICTIONS: Final[dict[str, Any]] = _rows(_DATA["supply_by_restriction_ha"])
#: Region totals per restriction level (ha); they sum to 3,871 (rounding).
RESTRICTION_TOTALS: Final[dict[str, float]] = {
    r: float(v) for r, v in _RESTRICTIONS.items() if not isinstance(v, dict)
}


def _availability_group(key: str) -> tuple[str, ...]:
    return SHORT_TERM if key == SHORT_TERM_KEY else (key,)


def _unrestricted(section: dict[str, Any]
                  ) -> dict[str, tuple[tuple[str, ...], str | None, float]]:
    out: dict[str, tuple[tuple[str, ...], str | None, float]] = {}
    for key, value in section.items():
        if key.endswith("_top_districts"):
            group = key.removesuffix("_top_districts")
            for d, ha in value.items():
                out[f"{group}.{d}"] = (_availability_group(group), d, float(ha))
        else:
            out[key] = (_availability_group(key), None, float(value))
    return out


#: Unrestricted land (level ``keine``) by availability group, with named district figures:
#: key -> (availability classes, district key or None for the region, ha).
UNRESTRICTED_FIGURES: Final[dict[str, tuple[tuple[str, ...], str | None, float]]] = (
    _unrestricted(_RESTRICTIONS["unrestricted_by_availability"])
)

_GROUPS: Final[dict[str, Any]] = _rows(_DATA["supply_by_user_group_ha"])
#: Suitability per user group (ha; a parcel counts once for each of its groups).
USER_GROUP_TOTALS: Final[dict[str, float]] = {g: float(v["total"]) for g, v in _GROUPS.items()}


def _group_subfigures(groups: dict[str, Any]
                      ) -> dict[str, tuple[str, str | None, bool, float]]:
    out: dict[str, tuple[str, str | None, bool, float]] = {}
    for g, v in groups.items():
        if SHORT_TERM_KEY in v:
            out[f"{g}.{SHORT_TERM_KEY}"] = (g, None, True, float(v[SHORT_TERM_KEY]))
        for d, ha in v.get("top_districts", {}).items():
            out[f"{g}.{d}"] = (g, d, False, float(ha))
        for d, ha in v.get(f"{SHORT_TERM_KEY}_districts", {}).items():
            out[f"{g}.sk.{d}"] = (g, d, True, float(ha))
    return out


#: Optional user-group sub-figures: key -> (group, district or None, short-term only?, ha).
USER_GROUP_SUBFIGURES: Final[dict[str, tuple[str, str | None, bool, float]]] = (
    _group_subfigures(_GROUPS)
)
#: "Top districts" statements: group -> the two districts with the largest area.
USER_GROUP_TOP_DISTRICTS: Final[dict[str, tuple[str, ...]]] = {
    g: tuple(v["top_districts"]) for g, v in _GROUPS.items() if "top_districts" in v
}

_FRAMEWORK: Final[dict[str, Any]] = _DATA["orientation_framework_2038"]
FRAMEWORK_BASE_DATE: Final[str] = str(_FRAMEWORK["base_date"])
FRAMEWORK_HORIZON_YEAR: Final[int] = int(_FRAMEWORK["horizon_year"])
#: The years the framework's demand covers, first and last (2020 through 2038: 19 years).
FRAMEWORK_PERIOD: Final[tuple[int, int]] = (int(_FRAMEWORK["period_first_year"]),
                                            int(_FRAMEWORK["period_last_year"]))
#: Orientierungsrahmen 2038 (net ha): component -> (low scenario, high scenario).
FRAMEWORK_COMPONENTS: Final[dict[str, tuple[float, float]]] = {
    k: (float(v["range"][0]), float(v["range"][1]))
    for k, v in _FRAMEWORK["components_net_ha"].items()
}
#: Framework totals (net ha, net ha per year, gross ha): (low scenario, high scenario).
FRAMEWORK_TOTAL_NET: Final[tuple[float, float]] = (
    float(_FRAMEWORK["total_net_ha"][0]), float(_FRAMEWORK["total_net_ha"][1]))
FRAMEWORK_PER_YEAR_NET: Final[tuple[float, float]] = (
    float(_FRAMEWORK["per_year_net_ha"][0]), float(_FRAMEWORK["per_year_net_ha"][1]))
FRAMEWORK_TOTAL_GROSS: Final[tuple[float, float]] = (
    float(_FRAMEWORK["total_gross_ha"][0]), float(_FRAMEWORK["total_gross_ha"][1]))
FRAMEWORK_NET_TO_GROSS: Final[float] = float(_FRAMEWORK["gross_factor_used_by_study"])
#: Study rule: net area of unserviced land = gross area minus 25 %.
UNSERVICED_NET_SHARE: Final[float] = float(_FRAMEWORK["net_share_of_gross"])

#: Sizes the study gives for its named projects (ha, as published): key -> ha.
NAMED_PROJECT_HA: Final[dict[str, float]] = {
    p["key"]: float(p["ha"]) for p in _DATA["named_projects"] if "ha" in p
}
