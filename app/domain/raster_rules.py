"""Rules that turn a parcel's raster statistics into *suggested* restriction causes.

The raster analysis (:mod:`app.services.raster`) measures per parcel the mean and the
maximum slope (percent) and the share of its area in the flood-hazard zone (a fraction
0..1). Rules compare one of these statistics with a threshold and, when it holds, suggest a
restriction cause of :data:`app.domain.vocab.RESTRICTION_CAUSE`. Suggestions are stored in
``suggested_restriction_causes`` (staff only) beside the editor's ``restriction_causes``
and never change them: an editor decides.

Built-in rules (:data:`DEFAULT_RULES`):

- ``flood_hazard_share > 0.10`` → ``hochwasser``: more than a tenth of the parcel lies in
  the hazard zone, too much to plan around at the edge of the plot;
- ``slope_mean_pct > 5`` → ``sonstige``: above about 5 % mean slope the large level floor
  plates of halls and yards need terracing and earthworks, a cost a buyer must know of. The
  vocabulary has no cause "topography"; ``sonstige`` is the honest code for it.

Both are a starting point, not a norm: ``GEFIS_RASTER_RULES_FILE`` names a TOML file that
replaces them, one ``[[rule]]`` table per rule::

    [[rule]]
    statistic = "flood_hazard_share"   # slope_mean_pct, slope_max_pct, flood_hazard_share
    operator = ">"                     # >, >=, <, <=
    threshold = 0.10                   # unit of the statistic: % or a fraction 0..1
    cause = "hochwasser"               # a code of the restriction-cause vocabulary

Pure Python: parsing and evaluation, no I/O (the service reads the file).

>>> stats = RasterStats(slope_mean_pct=6.2, slope_max_pct=14.0, flood_hazard_share=0.25)
>>> suggest_causes(stats, DEFAULT_RULES)
('hochwasser', 'sonstige')
>>> suggest_causes(RasterStats(1.0, 2.0, None), DEFAULT_RULES)
()
"""

from __future__ import annotations

import math
import operator
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from typing import Any

from app.domain.vocab import RESTRICTION_CAUSE

#: The statistics a rule may name, with their unit.
STATISTICS: dict[str, str] = {
    "slope_mean_pct": "%",
    "slope_max_pct": "%",
    "flood_hazard_share": "Anteil 0..1",
}

#: Comparison operators a rule may use.
OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le,
}

_RULE_KEYS = ("statistic", "operator", "threshold", "cause")


class RasterRulesError(ValueError):
    """A rule (or the rules file) cannot be used; the message says which one and why
    (German, for the operator who wrote the file)."""


@dataclass(frozen=True, slots=True)
class RasterStats:
    """Raster statistics of one parcel (``None``: no raster configured, or the parcel lies
    outside the raster or only on its nodata pixels).

    ``slope_mean_pct`` is the coverage-weighted mean slope in percent, ``slope_max_pct``
    the largest slope of any pixel the parcel touches (percent), ``flood_hazard_share`` the
    share of the parcel's area in the flood-hazard zone (0..1).
    """

    slope_mean_pct: float | None = None
    slope_max_pct: float | None = None
    flood_hazard_share: float | None = None

    def value(self, statistic: str) -> float | None:
        """The statistic named ``statistic`` (one of :data:`STATISTICS`)."""
        result: float | None = getattr(self, statistic)
        return result


@dataclass(frozen=True, slots=True)
class RasterRule:
    """``statistic operator threshold`` → suggest ``cause``.

    >>> rule = RasterRule("flood_hazard_share", ">", 0.1, "hochwasser")
    >>> rule.applies(RasterStats(flood_hazard_share=0.1)), str(rule)
    (False, 'flood_hazard_share > 0.1 → hochwasser')
    >>> RasterRule("slope_max_pct", ">=", 15, "dammbruch")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    app.domain.raster_rules.RasterRulesError: unbekannte Ursache 'dammbruch'; bekannt: ...
    """

    statistic: str
    operator: str
    threshold: float
    cause: str

    def __post_init__(self) -> None:
        if self.statistic not in STATISTICS:
            raise RasterRulesError(f"unbekannte Kennzahl {self.statistic!r}; bekannt: "
                                   f"{', '.join(STATISTICS)}")
        if self.operator not in OPERATORS:
            raise RasterRulesError(f"unbekannter Vergleich {self.operator!r}; bekannt: "
                                   f"{', '.join(OPERATORS)}")
        if (isinstance(self.threshold, bool) or not isinstance(self.threshold, int | float)
                or not math.isfinite(self.threshold)):
            raise RasterRulesError(f"Schwellenwert {self.threshold!r} ist keine endliche Zahl")
        if self.cause not in RESTRICTION_CAUSE:
            raise RasterRulesError(f"unbekannte Ursache {self.cause!r}; bekannt: "
                                   f"{', '.join(RESTRICTION_CAUSE.codes)}")
        if self.statistic == "flood_hazard_share" and not 0 <= self.threshold <= 1:
            raise RasterRulesError(
                f"Schwellenwert {self.threshold} für flood_hazard_share liegt nicht in 0..1 "
                "(ein Anteil, z. B. 0.10 für 10 %)")

    def applies(self, stats: RasterStats) -> bool:
        """Whether the rule holds for ``stats`` (never for a missing statistic)."""
        value = stats.value(self.statistic)
        return value is not None and OPERATORS[self.operator](value, self.threshold)

    def __str__(self) -> str:
        return f"{self.statistic} {self.operator} {self.threshold:g} → {self.cause}"


#: The built-in rules (see the module's documentation for why these thresholds).
DEFAULT_RULES: tuple[RasterRule, ...] = (
    RasterRule("flood_hazard_share", ">", 0.10, "hochwasser"),
    RasterRule("slope_mean_pct", ">", 5.0, "sonstige"),
)


def suggest_causes(stats: RasterStats, rules: Sequence[RasterRule]) -> tuple[str, ...]:
    """The causes of every rule that holds for ``stats``, once each, in vocabulary order.

    >>> rules = (RasterRule("slope_max_pct", ">=", 15, "sonstige"),
    ...          RasterRule("slope_mean_pct", ">", 5, "sonstige"),
    ...          RasterRule("flood_hazard_share", ">", 0, "hochwasser"))
    >>> suggest_causes(RasterStats(8.0, 20.0, flood_hazard_share=0.01), rules)
    ('hochwasser', 'sonstige')
    >>> suggest_causes(RasterStats(), rules)
    ()
    """
    hits = {rule.cause for rule in rules if rule.applies(stats)}
    return tuple(code for code in RESTRICTION_CAUSE.codes if code in hits)


def _rule(entry: Any, where: str) -> RasterRule:
    if not isinstance(entry, dict):
        raise RasterRulesError(f"{where}: eine Regel ist eine Tabelle [[rule]]")
    unknown = sorted(set(entry) - set(_RULE_KEYS))
    missing = [key for key in _RULE_KEYS if key not in entry]
    if unknown:
        raise RasterRulesError(f"{where}: unbekannte Angabe(n) {', '.join(unknown)}; "
                               f"erwartet: {', '.join(_RULE_KEYS)}")
    if missing:
        raise RasterRulesError(f"{where}: es fehlt {', '.join(missing)}")
    try:
        return RasterRule(**{key: entry[key] for key in _RULE_KEYS})
    except RasterRulesError as exc:
        raise RasterRulesError(f"{where}: {exc}") from None


def parse_rules(document: str, source: str = "Regeldatei") -> tuple[RasterRule, ...]:
    """The rules of a TOML document (``[[rule]]`` tables); :class:`RasterRulesError`
    naming ``source``, the rule's number and the key that is wrong.

    >>> parse_rules('[[rule]]\\nstatistic = "slope_max_pct"\\noperator = ">"\\n'
    ...             'threshold = 15\\ncause = "sonstige"\\n')
    (RasterRule(statistic='slope_max_pct', operator='>', threshold=15, cause='sonstige'),)
    >>> parse_rules('[[rule]]\\nstatistic = "hangneigung"\\noperator = ">"\\n'
    ...             'threshold = 15\\ncause = "sonstige"\\n', "regeln.toml")
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    app.domain.raster_rules.RasterRulesError: regeln.toml, Regel 1: unbekannte Kennzahl ...
    >>> parse_rules("", "leer.toml")
    ()
    """
    try:
        data = tomllib.loads(document)
    except tomllib.TOMLDecodeError as exc:
        raise RasterRulesError(f"{source}: kein gültiges TOML ({exc})") from None
    unknown = sorted(set(data) - {"rule"})
    if unknown:
        raise RasterRulesError(f"{source}: unbekannte Angabe(n) {', '.join(unknown)}; "
                               "Regeln stehen in [[rule]]-Tabellen")
    entries = data.get("rule", [])
    if not isinstance(entries, list):
        raise RasterRulesError(f"{source}: 'rule' muss eine Liste von [[rule]]-Tabellen sein")
    return tuple(_rule(entry, f"{source}, Regel {n}") for n, entry in enumerate(entries, 1))


#: Names of the statistics in :class:`RasterStats` order (also the column names).
STAT_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(RasterStats))
