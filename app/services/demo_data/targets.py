"""Published figures of the IRMD Potenzialstudie (survey state December 2020).

These constants are copied from ``shared/domain/reference_figures.json`` so that the demo
generator never reads files outside the repository at run time. All areas are NET
hectares (Nettofläche) unless a name says gross; all figures are the study's own
roundings, so rows and columns of Tables 6 and 7 differ from their totals by up to 1 ha.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True)
class District:
    """A Kreis of the IRMD: study key, 5-digit AGS and official name."""

    key: str
    ags: str
    name: str
    seat: str


DISTRICTS: Final[tuple[District, ...]] = (
    District("leipzig_stadt", "14713", "Leipzig, Stadt", "Leipzig"),
    District("leipzig_lk", "14729", "Landkreis Leipzig", "Borna"),
    District("nordsachsen", "14730", "Nordsachsen", "Torgau"),
    District("halle", "15002", "Halle (Saale), Stadt", "Halle (Saale)"),
    District("anhalt_bitterfeld", "15082", "Anhalt-Bitterfeld", "Köthen (Anhalt)"),
    District("burgenlandkreis", "15084", "Burgenlandkreis", "Naumburg (Saale)"),
    District("mansfeld_suedharz", "15087", "Mansfeld-Südharz", "Sangerhausen"),
    District("saalekreis", "15088", "Saalekreis", "Merseburg"),
    District("altenburger_land", "16077", "Altenburger Land", "Altenburg"),
)

DISTRICT_KEYS: Final[tuple[str, ...]] = tuple(d.key for d in DISTRICTS)
AGS_BY_KEY: Final[dict[str, str]] = {d.key: d.ags for d in DISTRICTS}
KEY_BY_AGS: Final[dict[str, str]] = {d.ags: d.key for d in DISTRICTS}

AVAILABILITIES: Final[tuple[str, ...]] = (
    "sofort", "kurzfristig", "mittelfristig", "langfristig", "unbekannt",
)
#: Availability classes the study sums as "sofort oder kurzfristig" (now or within 2 years).
SHORT_TERM: Final[tuple[str, ...]] = ("sofort", "kurzfristig")

#: Table 5: land sales 2010-2019 per district: (number of sales, total area in ha).
TABLE5_SALES: Final[dict[str, tuple[int, float]]] = {
    "leipzig_stadt": (176, 208.3),
    "leipzig_lk": (272, 149.7),
    "nordsachsen": (115, 142.4),
    "halle": (44, 160.0),
    "anhalt_bitterfeld": (92, 151.9),
    "burgenlandkreis": (71, 60.8),
    "mansfeld_suedharz": (36, 21.5),
    "saalekreis": (120, 138.1),
    "altenburger_land": (47, 47.4),
}
TABLE5_TOTAL: Final[tuple[int, float]] = (973, 1080.2)

#: Table 6: surveyed sites and net potential area (ha) per district.
TABLE6_SUPPLY: Final[dict[str, tuple[int, float]]] = {
    "leipzig_stadt": (12, 338.0),
    "leipzig_lk": (8, 232.0),
    "nordsachsen": (28, 712.0),
    "halle": (10, 79.0),
    "anhalt_bitterfeld": (23, 726.0),
    "burgenlandkreis": (21, 853.0),
    "mansfeld_suedharz": (14, 202.0),
    "saalekreis": (23, 598.0),
    "altenburger_land": (7, 129.0),
}
TABLE6_TOTAL: Final[tuple[int, float]] = (146, 3870.0)

#: Table 7: net ha per district and availability class (order of ``AVAILABILITIES``);
#: ``None`` means the study printed "-" (no area in that cell).
TABLE7_AVAILABILITY: Final[dict[str, tuple[float | None, ...]]] = {
    "leipzig_stadt": (64.0, 38.0, 138.0, 84.0, 15.0),
    "leipzig_lk": (113.0, None, 62.0, None, 57.0),
    "nordsachsen": (177.0, 23.0, 59.0, 194.0, 258.0),
    "halle": (16.0, None, None, 14.0, 49.0),
    "anhalt_bitterfeld": (252.0, 445.0, None, 29.0, None),
    "burgenlandkreis": (115.0, 36.0, 85.0, 442.0, 174.0),
    "mansfeld_suedharz": (30.0, 13.0, None, 141.0, 19.0),
    "saalekreis": (211.0, 53.0, 5.0, 215.0, 114.0),
    "altenburger_land": (68.0, None, 62.0, None, None),
}
TABLE7_TOTALS: Final[dict[str, float]] = {
    "sofort": 1046.0, "kurzfristig": 608.0, "mittelfristig": 412.0,
    "langfristig": 1118.0, "unbekannt": 686.0,
}
#: Balance finding: land available now or within two years (ha).
SHORT_TERM_TOTAL: Final[float] = 1654.0

#: Region totals per Flächenkategorie (ha).
CATEGORY_TOTALS: Final[dict[str, float]] = {
    "restflaeche_bestandsgebiet": 1398.0,
    "erweiterungsflaeche": 152.0,
    "geplanter_standort": 307.0,
    "nur_fnp_oder_regionalplan": 1085.0,
    "braunkohle_folgeflaeche": 225.0,
    "innerstaedtische_brache": 61.0,
    "pv_anlage": 303.0,
    "vorschauflaeche": 339.0,
}
#: Districts to which a category is confined by the study.
CATEGORY_DISTRICTS: Final[dict[str, tuple[str, ...]]] = {
    "braunkohle_folgeflaeche": ("burgenlandkreis",),
    "innerstaedtische_brache": ("halle", "leipzig_stadt"),
}
#: Vorschauflächen in the Burgenlandkreis: (sites, ha).
VORSCHAU_BURGENLANDKREIS: Final[tuple[int, float]] = (4, 279.0)

#: Region totals per restriction level (ha); they sum to 3,871 (rounding).
RESTRICTION_TOTALS: Final[dict[str, float]] = {
    "keine": 1475.0, "gering": 1328.0, "erhoeht": 564.0, "unbekannt": 504.0,
}
#: Unrestricted land (level ``keine``) by availability group, with named district figures:
#: key -> (availability classes, district key or None for the region, ha).
UNRESTRICTED_FIGURES: Final[dict[str, tuple[tuple[str, ...], str | None, float]]] = {
    "sofort_oder_kurzfristig": (SHORT_TERM, None, 749.0),
    "sofort_oder_kurzfristig.anhalt_bitterfeld": (SHORT_TERM, "anhalt_bitterfeld", 257.0),
    "sofort_oder_kurzfristig.nordsachsen": (SHORT_TERM, "nordsachsen", 174.0),
    "mittelfristig": (("mittelfristig",), None, 177.0),
    "langfristig": (("langfristig",), None, 460.0),
    "langfristig.burgenlandkreis": (("langfristig",), "burgenlandkreis", 299.0),
    "unbekannt": (("unbekannt",), None, 89.0),
}

#: Suitability per user group (ha; a parcel counts once for each of its groups).
USER_GROUP_TOTALS: Final[dict[str, float]] = {
    "industrie_produktion": 2793.0,
    "handwerk_gewerbe": 1637.0,
    "logistik": 1256.0,
    "wissen_technologie": 233.0,
    "dienstleistung": 335.0,
}
#: Optional user-group sub-figures: key -> (group, district or None, short-term only?, ha).
USER_GROUP_SUBFIGURES: Final[dict[str, tuple[str, str | None, bool, float]]] = {
    "industrie_produktion.sofort_oder_kurzfristig": ("industrie_produktion", None, True, 1247.0),
    "industrie_produktion.burgenlandkreis": (
        "industrie_produktion", "burgenlandkreis", False, 774.0),
    "industrie_produktion.anhalt_bitterfeld": (
        "industrie_produktion", "anhalt_bitterfeld", False, 662.0),
    "industrie_produktion.sk.anhalt_bitterfeld": (
        "industrie_produktion", "anhalt_bitterfeld", True, 645.0),
    "industrie_produktion.sk.saalekreis": ("industrie_produktion", "saalekreis", True, 127.0),
    "industrie_produktion.sk.burgenlandkreis": (
        "industrie_produktion", "burgenlandkreis", True, 115.0),
    "industrie_produktion.sk.leipzig_lk": ("industrie_produktion", "leipzig_lk", True, 107.0),
    "logistik.anhalt_bitterfeld": ("logistik", "anhalt_bitterfeld", False, 382.0),
    "logistik.saalekreis": ("logistik", "saalekreis", False, 277.0),
    "logistik.sk.anhalt_bitterfeld": ("logistik", "anhalt_bitterfeld", True, 382.0),
    "logistik.sk.saalekreis": ("logistik", "saalekreis", True, 173.0),
    "logistik.sk.leipzig_lk": ("logistik", "leipzig_lk", True, 82.0),
    "logistik.sk.nordsachsen": ("logistik", "nordsachsen", True, 30.0),
    "wissen_technologie.sk.leipzig_stadt": ("wissen_technologie", "leipzig_stadt", True, 36.0),
    "wissen_technologie.sk.leipzig_lk": ("wissen_technologie", "leipzig_lk", True, 32.0),
    "dienstleistung.sk.leipzig_stadt": ("dienstleistung", "leipzig_stadt", True, 75.0),
    "dienstleistung.sk.leipzig_lk": ("dienstleistung", "leipzig_lk", True, 78.0),
    "dienstleistung.sk.saalekreis": ("dienstleistung", "saalekreis", True, 77.0),
}
#: "Top districts" statements: group -> the two districts with the largest area.
USER_GROUP_TOP_DISTRICTS: Final[dict[str, tuple[str, str]]] = {
    "industrie_produktion": ("burgenlandkreis", "anhalt_bitterfeld"),
    "logistik": ("anhalt_bitterfeld", "saalekreis"),
}

#: Orientierungsrahmen 2038 (net ha): component -> (low scenario, high scenario).
FRAMEWORK_COMPONENTS: Final[dict[str, tuple[float, float]]] = {
    "kmu_regular_demand": (1095.0, 1290.0),
    "large_settlements": (850.0, 950.0),
    "coal_exit_job_compensation": (200.0, 200.0),
    "joker_very_large_settlements": (400.0, 400.0),
}
FRAMEWORK_NET_TO_GROSS: Final[float] = 1.3
#: Study rule: net area of unserviced land = gross area minus 25 %.
UNSERVICED_NET_SHARE: Final[float] = 0.75
