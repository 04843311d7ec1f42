"""Controlled vocabularies of GEFIS-MD: the one source of codes and German labels.

Codes are German domain terms as ASCII slugs (``sofort``, ``erhoeht``); labels are the
German wording shown to people. The database enforces the codes with CHECK constraints
whose migrations carry a frozen copy of them: changing a vocabulary here needs a new
migration (``tests/test_vocab_constraints.py`` fails until both agree). The API publishes
them at ``/api/v1/vocabularies``, and importers, reports and the query builder read them here.

Examples
--------
>>> AVAILABILITY.label("kurzfristig")
'kurzfristig (≤ 2 Jahre)'
>>> availability_up_to("kurzfristig")
('sofort', 'kurzfristig')
>>> "erhoeht" in RESTRICTION_LEVEL
True
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Term:
    """One code of a vocabulary with its German label."""

    code: str
    label: str
    description: str | None = None


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """A named, ordered set of terms.

    ``ordered`` says whether the order of ``terms`` carries meaning (for example the
    availability classes run from *now* to *later*); otherwise it is display order only.
    """

    name: str
    title: str
    terms: tuple[Term, ...]
    ordered: bool = False

    @property
    def codes(self) -> tuple[str, ...]:
        """All codes, in vocabulary order."""
        return tuple(t.code for t in self.terms)

    def label(self, code: str) -> str:
        """German label of ``code``; raises ``KeyError`` for an unknown code."""
        for term in self.terms:
            if term.code == code:
                return term.label
        raise KeyError(f"{code!r} is not a code of vocabulary {self.name!r}")

    def __contains__(self, code: object) -> bool:
        return code in self.codes

    def __iter__(self) -> Iterator[Term]:
        return iter(self.terms)


def _vocab(name: str, title: str, *terms: tuple[str, str] | tuple[str, str, str],
           ordered: bool = False) -> Vocabulary:
    return Vocabulary(name, title, tuple(Term(*t) for t in terms), ordered)


AVAILABILITY = _vocab(
    "availability", "Zeitliche Verfügbarkeit",
    ("sofort", "sofort", "jetzt verfügbar"),
    ("kurzfristig", "kurzfristig (≤ 2 Jahre)", "verfügbar innerhalb von zwei Jahren"),
    ("mittelfristig", "mittelfristig (2–5 Jahre)", "verfügbar in zwei bis fünf Jahren"),
    ("langfristig", "langfristig (> 5 Jahre)", "verfügbar in mehr als fünf Jahren"),
    ("unbekannt", "unbekannt", "Verfügbarkeit noch nicht abschätzbar"),
    ordered=True,
)

#: Availability classes with a horizon, from earliest to latest (``unbekannt`` has none).
AVAILABILITY_HORIZON: tuple[str, ...] = ("sofort", "kurzfristig", "mittelfristig", "langfristig")

RESTRICTION_LEVEL = _vocab(
    "restriction_level", "Verwertungsbeschränkung",
    ("keine", "keine"),
    ("gering", "gering"),
    ("erhoeht", "erhöht"),
    ("unbekannt", "unbekannt"),
    ordered=True,
)

#: Restriction levels that have a rank, from none to the most severe.
RESTRICTION_RANK: tuple[str, ...] = ("keine", "gering", "erhoeht")

RESTRICTION_CAUSE = _vocab(
    "restriction_cause", "Ursache der Verwertungsbeschränkung",
    ("altlasten", "Altlasten"),
    ("kampfmittel", "Kampfmittelbelastung"),
    ("verkehrserschliessung", "unzureichende Verkehrserschließung"),
    ("medienerschliessung", "unzureichende Medienerschließung"),
    ("breitband", "fehlende Breitbandanbindung"),
    ("hochwasser", "Hochwassergefahr"),
    ("naturschutz", "Naturschutz"),
    ("immissionsschutz", "Immissionsschutz"),
    ("eigentuemer", "Eigentümer (Verkaufsbereitschaft, Preisvorstellung)"),
    ("denkmalschutz", "Denkmalschutz"),
    ("tiefenenttruemmerung", "Tiefenenttrümmerung erforderlich"),
    ("sonstige", "sonstige"),
)

USER_GROUP = _vocab(
    "user_group", "Nutzergruppe",
    ("industrie_produktion", "Industrie & Produktion"),
    ("handwerk_gewerbe", "Handwerk & Gewerbe"),
    ("logistik", "Logistik"),
    ("wissen_technologie", "wissens- und technologieorientiertes Gewerbe"),
    ("dienstleistung", "Dienstleistungen"),
)

CATEGORY = _vocab(
    "category", "Flächenkategorie",
    ("restflaeche_bestandsgebiet", "Restfläche in Bestandsgebiet"),
    ("erweiterungsflaeche", "Erweiterungsfläche"),
    ("geplanter_standort", "geplanter Standort"),
    ("nur_fnp_oder_regionalplan", "nur im FNP oder Regionalplan"),
    ("braunkohle_folgeflaeche", "Braunkohle-Folgefläche"),
    ("innerstaedtische_brache", "innerstädtische Brache"),
    ("pv_anlage", "Fläche unter PV-Anlage"),
    ("vorschauflaeche", "Vorschaufläche"),
)

PLANNING_STATUS = _vocab(
    "planning_status", "Planungsrecht",
    ("bplan_rechtskraeftig", "B-Plan rechtskräftig"),
    ("bplan_in_aufstellung", "B-Plan in Aufstellung"),
    ("fnp", "nur Flächennutzungsplan"),
    ("regionalplan", "nur Regionalplan"),
    ("ohne", "ohne Planungsrecht"),
)

ZONING = _vocab(
    "zoning", "Gebietsart (BauNVO)",
    ("GE", "Gewerbegebiet (GE)"),
    ("GI", "Industriegebiet (GI)"),
    ("SO", "Sondergebiet (SO)"),
    ("MI", "Mischgebiet (MI)"),
    ("keine", "keine Festsetzung"),
)

SERVICING = _vocab(
    "servicing", "Erschließung",
    ("erschlossen", "erschlossen"),
    ("teilerschlossen", "teilerschlossen"),
    ("unerschlossen", "unerschlossen"),
)

MARKETING_STATUS = _vocab(
    "marketing_status", "Vermarktungsstand",
    ("verfuegbar", "verfügbar"),
    ("reserviert", "reserviert"),
    ("verkauft", "verkauft"),
    ("zurueckgezogen", "zurückgezogen"),
)

OWNER_TYPE = _vocab(
    "owner_type", "Eigentümer",
    ("kommunal", "kommunal"),
    ("land", "Land"),
    ("privat", "privat"),
    ("bergbau_sanierer", "Bergbausanierer"),
    ("sonstige", "sonstige"),
)

BUYER_ORIGIN = _vocab(
    "buyer_origin", "Herkunft des Käufers",
    ("regional", "regional"),
    ("national", "national"),
    ("international", "international"),
)

DISTRICT_KIND = _vocab(
    "district_kind", "Kreistyp",
    ("kreisfreie_stadt", "kreisfreie Stadt"),
    ("landkreis", "Landkreis"),
)

INFRASTRUCTURE_KIND = _vocab(
    "infrastructure_kind", "Infrastruktur",
    ("autobahn", "Autobahn"),
    ("anschlussstelle", "Autobahn-Anschlussstelle"),
    ("flughafen", "Flughafen"),
    ("kv_terminal", "Terminal des kombinierten Verkehrs / Güterverkehrszentrum"),
)

ENQUIRY_OUTCOME = _vocab(
    "enquiry_outcome", "Ergebnis der Ansiedlungsanfrage",
    ("offen", "offen"),
    ("angebot_unterbreitet", "Angebot unterbreitet"),
    ("angesiedelt", "in der Region angesiedelt"),
    ("abgewandert", "außerhalb der Region angesiedelt"),
    ("kein_angebot", "kein passendes Angebot"),
    ("zurueckgezogen", "vom Investor zurückgezogen"),
)

VOCABULARIES: dict[str, Vocabulary] = {
    v.name: v
    for v in (
        AVAILABILITY, RESTRICTION_LEVEL, RESTRICTION_CAUSE, USER_GROUP, CATEGORY,
        PLANNING_STATUS, ZONING, SERVICING, MARKETING_STATUS, OWNER_TYPE, BUYER_ORIGIN,
        DISTRICT_KIND, INFRASTRUCTURE_KIND, ENQUIRY_OUTCOME,
    )
}


def check_codes(field: str, value: str | list[str] | tuple[str, ...] | None,
                vocabulary: Vocabulary) -> None:
    """Raise ``ValueError`` naming ``field`` when a code (or any code of a list) is unknown.

    >>> check_codes("zoning", "GE", ZONING)
    >>> check_codes("zoning", ["GE", "XX"], ZONING)
    Traceback (most recent call last):
    ...
    ValueError: unknown zoning code(s) XX for zoning; known: GE, GI, SO, MI, keine
    """
    if value is None:
        return
    values = [value] if isinstance(value, str) else list(value)
    unknown = [c for c in values if c not in vocabulary]
    if unknown:
        raise ValueError(
            f"unknown {vocabulary.name} code(s) {', '.join(unknown)} for {field}; "
            f"known: {', '.join(vocabulary.codes)}"
        )


def enum_schema(vocabulary: Vocabulary, codes: tuple[str, ...] | None = None) -> dict[str, Any]:
    """JSON Schema of one code of ``vocabulary`` (or of its subset ``codes``), for OpenAPI.

    >>> enum_schema(BUYER_ORIGIN)
    {'type': 'string', 'enum': ['regional', 'national', 'international']}
    """
    allowed = vocabulary.codes if codes is None else codes
    unknown = [c for c in allowed if c not in vocabulary]
    if unknown:
        raise KeyError(f"{', '.join(unknown)} not in vocabulary {vocabulary.name!r}")
    return {"type": "string", "enum": list(allowed)}


def availability_up_to(horizon: str) -> tuple[str, ...]:
    """Availability classes available no later than ``horizon``.

    ``unbekannt`` has no horizon: asking for it returns only itself.

    >>> availability_up_to("sofort")
    ('sofort',)
    >>> availability_up_to("unbekannt")
    ('unbekannt',)
    """
    if horizon == "unbekannt":
        return ("unbekannt",)
    if horizon not in AVAILABILITY_HORIZON:
        raise KeyError(f"{horizon!r} is not an availability class")
    return AVAILABILITY_HORIZON[: AVAILABILITY_HORIZON.index(horizon) + 1]


def restriction_up_to(level: str) -> tuple[str, ...]:
    """Restriction levels no more severe than ``level`` (``unbekannt`` only matches itself).

    >>> restriction_up_to("gering")
    ('keine', 'gering')
    """
    if level == "unbekannt":
        return ("unbekannt",)
    if level not in RESTRICTION_RANK:
        raise KeyError(f"{level!r} is not a restriction level")
    return RESTRICTION_RANK[: RESTRICTION_RANK.index(level) + 1]
