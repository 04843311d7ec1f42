"""The study's figures as selectors over parcels, shared by calibration and report.

A :class:`Figure` sums the effective net area (ha) of the parcels it selects; required
figures must be met within their tolerance (±1 ha), optional ones are reported.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from tools.demo_data import targets as T


class ParcelFacts(Protocol):
    """What a figure needs to know about a parcel."""

    district: str
    category: str
    availability: str
    restriction: str
    user_groups: list[str]


Selector = Callable[[ParcelFacts], bool]


@dataclass(frozen=True, slots=True)
class Figure:
    """A published net-area figure: key, what it counts, target (ha), tolerance (ha)."""

    key: str
    source: str
    target: float
    selector: Selector
    required: bool = True
    tolerance: float = 1.0

    def achieved(self, parcels: Iterable[ParcelFacts], areas: Sequence[float]) -> float:
        """Sum of ``areas`` over the selected parcels (ha)."""
        return float(sum(a for p, a in zip(parcels, areas, strict=True) if self.selector(p)))


def _district(d: str) -> Selector:
    return lambda p: p.district == d


def _cell(d: str, a: str) -> Selector:
    return lambda p: p.district == d and p.availability == a


def _keine(avails: tuple[str, ...], d: str | None) -> Selector:
    return lambda p: (p.restriction == "keine" and p.availability in avails
                      and (d is None or p.district == d))


def _group(g: str, d: str | None, short_term: bool) -> Selector:
    return lambda p: (g in p.user_groups and (d is None or p.district == d)
                      and (not short_term or p.availability in T.SHORT_TERM))


def study_figures() -> list[Figure]:
    """All calibrated net-area figures, required ones first."""
    figs: list[Figure] = []
    for d in T.DISTRICT_KEYS:
        figs.append(Figure(f"table6.net_ha.{d}", "Tabelle 6", T.TABLE6_SUPPLY[d][1], _district(d)))
    figs.append(Figure("table6.net_ha.irmd", "Tabelle 6", T.TABLE6_TOTAL[1], lambda p: True))
    for d in T.DISTRICT_KEYS:
        for a, v in zip(T.AVAILABILITIES, T.TABLE7_AVAILABILITY[d], strict=True):
            figs.append(Figure(f"table7.{d}.{a}", "Tabelle 7", v or 0.0, _cell(d, a),
                               tolerance=1.0 if v is not None else 1e-9))
    for a in T.AVAILABILITIES:
        figs.append(Figure(f"table7.irmd.{a}", "Tabelle 7", T.TABLE7_TOTALS[a],
                           lambda p, a=a: p.availability == a))
    figs.append(Figure("availability.sofort_oder_kurzfristig", "Abgleich", T.SHORT_TERM_TOTAL,
                       lambda p: p.availability in T.SHORT_TERM))
    for c, v in T.CATEGORY_TOTALS.items():
        figs.append(Figure(f"category.{c}", "Flächenkategorien", v,
                           lambda p, c=c: p.category == c))
    figs.append(Figure("category.vorschauflaeche.burgenlandkreis", "Flächenkategorien",
                       T.VORSCHAU_BURGENLANDKREIS[1],
                       lambda p: p.category == "vorschauflaeche"
                       and p.district == "burgenlandkreis"))
    for r, v in T.RESTRICTION_TOTALS.items():
        figs.append(Figure(f"restriction.{r}", "Verwertungsbeschränkungen", v,
                           lambda p, r=r: p.restriction == r))
    for key, (avails, d, v) in T.UNRESTRICTED_FIGURES.items():
        figs.append(Figure(f"restriction.keine.{key}", "Verwertungsbeschränkungen", v,
                           _keine(avails, d)))
    for g, v in T.USER_GROUP_TOTALS.items():
        figs.append(Figure(f"user_group.{g}", "Gebietseignung", v, _group(g, None, False)))
    for key, (g, d, sk, v) in T.USER_GROUP_SUBFIGURES.items():
        figs.append(Figure(f"user_group.{key}", "Gebietseignung", v, _group(g, d, sk),
                           required=False))
    return figs


def top_district_limits() -> list[tuple[str, Selector, float]]:
    """Upper bounds that keep the study's two "top districts" per group on top.

    Returns (key, selector, max ha) for every other district: its area must stay below
    the smaller of the two named figures.
    """
    out: list[tuple[str, Selector, float]] = []
    for g, tops in T.USER_GROUP_TOP_DISTRICTS.items():
        limit = min(T.USER_GROUP_SUBFIGURES[f"{g}.{d}"][3] for d in tops) - 10.0
        for d in T.DISTRICT_KEYS:
            if d not in tops:
                out.append((f"user_group.{g}.{d}.below_top", _group(g, d, False), limit))
    return out
