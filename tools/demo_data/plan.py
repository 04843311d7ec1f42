"""Demo assumptions that shape the synthetic supply beyond the study's published tables.

The study publishes only marginal totals (per district, per availability class, per
category, per restriction level, per user group). To build parcels, the generator needs a
joint plan; everything in this module is an *assumption* of the demo (documented in
``geodata/demo/README.md``), chosen to be plausible and consistent with the published
figures. Areas are net hectares.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from tools.demo_data import targets as T

#: Planned net ha per district and Flächenkategorie (sums to 3,869 = Table 6 rows).
CATEGORY_PLAN: Final[dict[str, dict[str, float]]] = {
    "leipzig_stadt": {"restflaeche_bestandsgebiet": 72, "erweiterungsflaeche": 6,
                      "geplanter_standort": 28, "nur_fnp_oder_regionalplan": 179,
                      "innerstaedtische_brache": 41, "pv_anlage": 12},
    "leipzig_lk": {"restflaeche_bestandsgebiet": 103, "erweiterungsflaeche": 10,
                   "nur_fnp_oder_regionalplan": 99, "vorschauflaeche": 20},
    "nordsachsen": {"restflaeche_bestandsgebiet": 181, "erweiterungsflaeche": 18,
                    "nur_fnp_oder_regionalplan": 369, "pv_anlage": 119, "vorschauflaeche": 25},
    "halle": {"restflaeche_bestandsgebiet": 16, "nur_fnp_oder_regionalplan": 37,
              "innerstaedtische_brache": 20, "pv_anlage": 6},
    "anhalt_bitterfeld": {"restflaeche_bestandsgebiet": 585, "erweiterungsflaeche": 55,
                          "geplanter_standort": 57, "pv_anlage": 29},
    "burgenlandkreis": {"restflaeche_bestandsgebiet": 122, "erweiterungsflaeche": 29,
                        "nur_fnp_oder_regionalplan": 130, "braunkohle_folgeflaeche": 225,
                        "pv_anlage": 68, "vorschauflaeche": 279},
    "mansfeld_suedharz": {"restflaeche_bestandsgebiet": 21, "geplanter_standort": 22,
                          "nur_fnp_oder_regionalplan": 129, "pv_anlage": 30},
    "saalekreis": {"restflaeche_bestandsgebiet": 235, "erweiterungsflaeche": 29,
                   "geplanter_standort": 200, "nur_fnp_oder_regionalplan": 80,
                   "pv_anlage": 39, "vorschauflaeche": 15},
    "altenburger_land": {"restflaeche_bestandsgebiet": 63, "erweiterungsflaeche": 5,
                         "nur_fnp_oder_regionalplan": 61},
}

#: Number of sites per district and category (sums to Table 6 site counts, 146).
SITE_PLAN: Final[dict[str, dict[str, int]]] = {
    "leipzig_stadt": {"restflaeche_bestandsgebiet": 3, "erweiterungsflaeche": 1,
                      "geplanter_standort": 1, "nur_fnp_oder_regionalplan": 4,
                      "innerstaedtische_brache": 2, "pv_anlage": 1},
    "leipzig_lk": {"restflaeche_bestandsgebiet": 3, "erweiterungsflaeche": 1,
                   "nur_fnp_oder_regionalplan": 3, "vorschauflaeche": 1},
    "nordsachsen": {"restflaeche_bestandsgebiet": 11, "erweiterungsflaeche": 2,
                    "nur_fnp_oder_regionalplan": 9, "pv_anlage": 5, "vorschauflaeche": 1},
    "halle": {"restflaeche_bestandsgebiet": 2, "nur_fnp_oder_regionalplan": 4,
              "innerstaedtische_brache": 3, "pv_anlage": 1},
    "anhalt_bitterfeld": {"restflaeche_bestandsgebiet": 16, "erweiterungsflaeche": 3,
                          "geplanter_standort": 2, "pv_anlage": 2},
    "burgenlandkreis": {"restflaeche_bestandsgebiet": 6, "erweiterungsflaeche": 2,
                        "nur_fnp_oder_regionalplan": 4, "braunkohle_folgeflaeche": 3,
                        "pv_anlage": 2, "vorschauflaeche": 4},
    "mansfeld_suedharz": {"restflaeche_bestandsgebiet": 4, "geplanter_standort": 1,
                          "nur_fnp_oder_regionalplan": 4, "pv_anlage": 5},
    "saalekreis": {"restflaeche_bestandsgebiet": 12, "erweiterungsflaeche": 2,
                   "geplanter_standort": 1, "nur_fnp_oder_regionalplan": 4, "pv_anlage": 3,
                   "vorschauflaeche": 1},
    "altenburger_land": {"restflaeche_bestandsgebiet": 3, "erweiterungsflaeche": 1,
                         "nur_fnp_oder_regionalplan": 3},
}

#: Smallest net area of a surveyed site (the study surveyed sites of 5 ha and more).
MIN_SITE_NET_HA: Final[float] = T.MIN_SURVEYED_SITE_HA

#: Plausibility cost of an availability class per category (lower = more typical; a
#: missing class is not allowed for the category).
AVAILABILITY_COST: Final[dict[str, dict[str, float]]] = {
    "restflaeche_bestandsgebiet": {"sofort": 0, "kurzfristig": 1, "mittelfristig": 4,
                                   "langfristig": 9, "unbekannt": 7},
    "erweiterungsflaeche": {"sofort": 2, "kurzfristig": 0, "mittelfristig": 1,
                            "langfristig": 4, "unbekannt": 5},
    "geplanter_standort": {"kurzfristig": 2, "mittelfristig": 0, "langfristig": 0,
                           "unbekannt": 2},
    "nur_fnp_oder_regionalplan": {"kurzfristig": 9, "mittelfristig": 2, "langfristig": 0,
                                  "unbekannt": 0},
    "braunkohle_folgeflaeche": {"mittelfristig": 4, "langfristig": 0, "unbekannt": 1},
    "innerstaedtische_brache": {"sofort": 1, "kurzfristig": 1, "mittelfristig": 1,
                                "langfristig": 2, "unbekannt": 1},
    "pv_anlage": {"mittelfristig": 5, "langfristig": 0, "unbekannt": 2},
    "vorschauflaeche": {"langfristig": 0, "unbekannt": 0},
}

#: Plausibility cost of a restriction level per category.
RESTRICTION_COST: Final[dict[str, dict[str, float]]] = {
    "restflaeche_bestandsgebiet": {"keine": 0, "gering": 1, "erhoeht": 3, "unbekannt": 4},
    "erweiterungsflaeche": {"keine": 0, "gering": 1, "erhoeht": 3, "unbekannt": 3},
    "geplanter_standort": {"keine": 1, "gering": 0, "erhoeht": 2, "unbekannt": 2},
    "nur_fnp_oder_regionalplan": {"keine": 2, "gering": 0, "erhoeht": 1, "unbekannt": 1},
    "braunkohle_folgeflaeche": {"keine": 3, "gering": 1, "erhoeht": 0, "unbekannt": 2},
    "innerstaedtische_brache": {"keine": 4, "gering": 1, "erhoeht": 0, "unbekannt": 2},
    "pv_anlage": {"keine": 2, "gering": 0, "erhoeht": 2, "unbekannt": 1},
    "vorschauflaeche": {"keine": 1, "gering": 2, "erhoeht": 3, "unbekannt": 0},
}

#: Planned suitability per user group, district and horizon (short term = sofort or
#: kurzfristig, later = the rest): group -> district -> (short-term ha, later ha).
#: Study sub-figures are reproduced; the rest of each total is spread by assumption.
#: Handwerk & Gewerbe is not listed: it fills the remaining parcels.
GROUP_PLAN: Final[dict[str, dict[str, tuple[float, float]]]] = {
    "industrie_produktion": {
        "leipzig_stadt": (45, 100), "leipzig_lk": (107, 50), "nordsachsen": (140, 330),
        "halle": (3, 10), "anhalt_bitterfeld": (645, 17), "burgenlandkreis": (115, 659),
        "mansfeld_suedharz": (10, 120), "saalekreis": (127, 230), "altenburger_land": (55, 30),
    },
    "logistik": {
        "leipzig_stadt": (20, 60), "leipzig_lk": (82, 20), "nordsachsen": (30, 100),
        "halle": (5, 5), "anhalt_bitterfeld": (382, 0), "burgenlandkreis": (20, 230),
        "mansfeld_suedharz": (5, 10), "saalekreis": (173, 104), "altenburger_land": (10, 0),
    },
    "wissen_technologie": {
        "leipzig_stadt": (36, 50), "leipzig_lk": (32, 10), "nordsachsen": (5, 5),
        "halle": (5, 25), "anhalt_bitterfeld": (5, 5), "burgenlandkreis": (5, 35),
        "mansfeld_suedharz": (0, 0), "saalekreis": (5, 10), "altenburger_land": (0, 0),
    },
    "dienstleistung": {
        "leipzig_stadt": (75, 35), "leipzig_lk": (78, 5), "nordsachsen": (10, 5),
        "halle": (5, 15), "anhalt_bitterfeld": (5, 5), "burgenlandkreis": (5, 5),
        "mansfeld_suedharz": (3, 2), "saalekreis": (77, 0), "altenburger_land": (5, 0),
    },
}

#: Affinity of each category to Handwerk & Gewerbe (share of area that suits it).
HANDWERK_AFFINITY: Final[dict[str, float]] = {
    "restflaeche_bestandsgebiet": 0.65, "erweiterungsflaeche": 0.55,
    "geplanter_standort": 0.35, "nur_fnp_oder_regionalplan": 0.3,
    "braunkohle_folgeflaeche": 0.1, "innerstaedtische_brache": 0.7, "pv_anlage": 0.45,
    "vorschauflaeche": 0.15,
}

#: Typical net parcel size (ha) per category, used to split sites into parcels.
TYPICAL_PARCEL_HA: Final[dict[str, float]] = {
    "restflaeche_bestandsgebiet": 4.5, "erweiterungsflaeche": 6.0, "geplanter_standort": 14.0,
    "nur_fnp_oder_regionalplan": 14.0, "braunkohle_folgeflaeche": 24.0,
    "innerstaedtische_brache": 2.5, "pv_anlage": 8.0, "vorschauflaeche": 22.0,
}
MAX_PARCEL_HA: Final[float] = 80.0
MIN_PARCEL_HA: Final[float] = 0.5
MAX_PARCELS_PER_SITE: Final[int] = 15


@dataclass(frozen=True, slots=True)
class NamedProject:
    """A project the study names, realised as a site of the demo.

    ``pieces`` are (availability, restriction level, net ha). ``gross_ha`` is set when the
    study's size is read as gross site area (unserviced: net = 0.75 x gross).
    ``blocks`` are the municipalities (8-digit AGS) holding the site's parcels; a site with
    two blocks straddles their common boundary. ``anchor`` is (lon, lat) in WGS 84.
    """

    key: str
    name: str
    marketing_name: str | None
    district: str
    category: str
    pieces: tuple[tuple[str, str, float], ...]
    servicing: str
    net_ha: float
    gross_ha: float | None
    blocks: tuple[str, ...]
    partners: tuple[tuple[str, float], ...]
    anchor: tuple[float, float]
    user_groups: tuple[str, ...]  # groups every parcel of the site has (others may be added)
    description: str


#: Sizes the study gives: Star Park II as net area; A 9 and Sangerhausen read as gross
#: site area of unserviced land (net = 0.75 x gross, the study's rule).
_STAR_PARK_NET: Final[float] = T.NAMED_PROJECT_HA["star_park_ii"]
_A9_GROSS: Final[float] = T.NAMED_PROJECT_HA["a9_weissenfels"]
_A9_NET: Final[float] = T.UNSERVICED_NET_SHARE * _A9_GROSS
_SANGERHAUSEN_GROSS: Final[float] = T.NAMED_PROJECT_HA["sangerhausen"]
_SANGERHAUSEN_NET: Final[float] = T.UNSERVICED_NET_SHARE * _SANGERHAUSEN_GROSS

NAMED_PROJECTS: Final[tuple[NamedProject, ...]] = (
    NamedProject(
        "star_park_ii", "Star Park II", "Star Park II – Interkommunaler Industriepark",
        "saalekreis", "geplanter_standort",
        (("langfristig", "gering", 0.75 * _STAR_PARK_NET),
         ("unbekannt", "unbekannt", 0.25 * _STAR_PARK_NET)),
        "unerschlossen", _STAR_PARK_NET, None, ("15088195", "15088150"),
        (("15002000", 34.0), ("15088195", 33.0), ("15088150", 33.0)),
        (12.10, 51.47), ("industrie_produktion",),
        "Geplanter nachhaltiger interkommunaler Industriepark der Stadt Halle (Saale) und "
        "von Saalekreis-Gemeinden an der A 14 (synthetische Nachbildung des in der Studie "
        f"genannten Projekts, rund {T.de_number(_STAR_PARK_NET)} ha netto).",
    ),
    NamedProject(
        "a9_weissenfels", "Interkommunales Gewerbegebiet A 9 bei Weißenfels", None,
        "burgenlandkreis", "vorschauflaeche", (("langfristig", "keine", _A9_NET),),
        "unerschlossen", _A9_NET, _A9_GROSS, ("15084550", "15084315"),
        (("15084550", 50.0), ("15084315", 30.0), ("15084490", 20.0)),
        (12.03, 51.215), ("industrie_produktion",),
        "Interkommunales Gewerbegebiet an der A 9 bei Weißenfels, Projekt im Rahmen des "
        f"Strukturwandels (synthetische Nachbildung, rund {T.de_number(_A9_GROSS)} ha brutto, "
        f"{T.de_number(_A9_NET)} ha netto).",
    ),
    NamedProject(
        "sangerhausen", "Industriegroßfläche Sangerhausen", None,
        "mansfeld_suedharz", "nur_fnp_oder_regionalplan",
        (("langfristig", "gering", _SANGERHAUSEN_NET),), "unerschlossen", _SANGERHAUSEN_NET,
        _SANGERHAUSEN_GROSS,
        ("15087370",), (), (11.33, 51.452), ("industrie_produktion",),
        "Ausweisung einer Industriegroßfläche an der A 38 bei Sangerhausen (synthetische "
        f"Nachbildung, rund {T.de_number(_SANGERHAUSEN_GROSS)} ha brutto).",
    ),
    NamedProject(
        "amsdorf", "Industriestandort Amsdorf", None,
        "mansfeld_suedharz", "geplanter_standort",
        (("sofort", "erhoeht", 9.0), ("kurzfristig", "erhoeht", 13.0)),
        "teilerschlossen", 22.0, None, ("15087386",), (), (11.725, 51.462),
        ("industrie_produktion", "handwerk_gewerbe"),
        "Ehemaliger Braunkohlestandort, Erschließung und Weiterentwicklung für regenerative "
        "Energiegewinnung und Recyclingwirtschaft (synthetische Nachbildung).",
    ),
)
