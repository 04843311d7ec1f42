"""Investor matching (Investorensuche), pure: an enquiry, candidate parcels, scores, reasons.

Hard conditions and scored criteria
-----------------------------------
Hard conditions decide whether a parcel is offered at all. The first three are applied in
SQL (via :class:`~app.domain.filters.ParcelFilter`, plus: the site is not withdrawn) and
reported with weight 0; a candidate failing one scores 0 here:

- marketing status ``verfuegbar`` (reserved or sold land is not offered);
- suitable for the requested user group (``user_group``);
- restriction level within the tolerance (``restriction``); ``unbekannt`` is never within
  a tolerance, because nobody has checked it;
- for a single parcel (not a combination), also applied in SQL: net area at least the
  minimum. A parcel that is too small cannot host the investor however well it scores
  otherwise (a weighted sum alone would rank a small, well-connected parcel above a large
  enough one); such parcels are offered only as parts of a combination of adjacent parcels.

Scored criteria, each met or missed, with these weights (only the criteria the request
asks for count; the area criterion always counts):

============== ====== ===========================================================
key            weight met when
============== ====== ===========================================================
net_area       30     net area ≥ minimum and (if given) ≤ maximum, ha
available_by   25     ``available_from`` (else the latest date of its class) ≤ needed_by
junction       15     distance to the nearest motorway junction ≤ max_junction_km, km
rail_siding    10     has a rail siding (if required)
operation_24h  10     24-hour operation allowed (if required)
district       10     lies in one of the preferred districts (if any are given)
============== ====== ===========================================================

``score = 100 × (weight met) / (weight asked for)``, rounded to 0.1; a candidate failing a
hard condition scores 0. Ranking: score descending, then larger net area, then smaller id.
The weight asked for depends on the request alone (:func:`asked_weights`), so the service
ranks in SQL by the weight met, with one condition per criterion mirroring the functions
here; reasons are written here, only for the parcels returned.

A combination of adjacent parcels is scored as one unit (:func:`combine`): its area is the
sum; every other attribute takes its worst case over the parts (latest availability, longest
distance, rail siding and 24-hour operation only if every part has them, a part outside the
preferred districts if there is one), so a combination never promises more than its weakest
part delivers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationInfo, field_validator

from app.domain import vocab
from app.domain.availability import latest_available_date
from app.domain.input_types import AreaHa, IsoDate, Range, UserGroupCode
from app.domain.parcel_combination import reaches

#: Weight of each scored criterion (they sum to 100 when all are asked for).
WEIGHTS: dict[str, int] = {
    "net_area": 30, "available_by": 25, "junction": 15,
    "rail_siding": 10, "operation_24h": 10, "district": 10,
}

#: Keys of the hard conditions (reported with weight 0).
HARD_KEYS: tuple[str, ...] = ("user_group", "restriction")

#: Prefix of the reasons of a combination's worst-case criteria.
WORST_PART = "ungünstigste Teilfläche: "

RestrictionTolerance = Literal["keine", "gering", "erhoeht"]


class MatchRequest(BaseModel):
    """An investor's enquiry: what the land must offer. Areas in net ha, distances in km.

    Areas have the bounds of an enquiry's (the request may be saved as one).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    net_area_min_ha: AreaHa = Field(description="Net area needed at least, ha")
    net_area_max_ha: AreaHa | None = Field(None, description="Net area at most, ha")
    user_group: UserGroupCode = Field(
        description="User group code (vocabulary `user_group`)")
    needed_by: IsoDate | None = Field(None, description="Land must be available by this date")
    max_junction_km: Annotated[float, Range(0, 1000)] | None = Field(
        None, description="Max distance to a motorway junction, km")
    rail_siding_required: StrictBool = False
    operation_24h_required: StrictBool = False
    restriction_tolerance: RestrictionTolerance = Field(
        "gering", description="Most severe restriction level accepted (unbekannt never is)")
    preferred_districts: tuple[Annotated[str, Field(pattern=r"^[0-9]{5}$")], ...] = Field(
        (), max_length=20, description="Preferred districts, 5-digit AGS")
    limit: Annotated[int, Range(1, 50)] = Field(
        10, description="Number of single parcels returned")
    save_enquiry: StrictBool = Field(
        False, description="Store the request as an enquiry (editor or admin key needed)")

    @field_validator("user_group")
    @classmethod
    def _known_user_group(cls, v: str) -> str:
        if v not in vocab.USER_GROUP:
            raise ValueError(
                f"unknown user_group code {v!r}; known: {', '.join(vocab.USER_GROUP.codes)}")
        return v

    @field_validator("preferred_districts")
    @classmethod
    def _districts(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(v))

    @field_validator("net_area_max_ha")
    @classmethod
    def _max_not_below_min(cls, v: float | None, info: ValidationInfo) -> float | None:
        low = info.data.get("net_area_min_ha")
        if v is not None and low is not None and v < low:
            raise ValueError("net_area_max_ha must not be below net_area_min_ha")
        return v


@dataclass(frozen=True, slots=True)
class Candidate:
    """The attributes of a parcel (or a combination, ``parts`` > 1) that scoring needs.

    ``net_area_ha`` in ha, ``distance_junction_km`` in km (``None``: unknown).
    """

    id: int
    site_id: int
    district_ags: str
    net_area_ha: float
    availability: str
    available_from: date | None
    restriction_level: str
    rail_siding: bool
    operation_24h: bool
    distance_junction_km: float | None
    user_groups: tuple[str, ...]
    district_name: str | None = None
    parts: int = 1


@dataclass(frozen=True, slots=True)
class Criterion:
    """One criterion of the request, met or missed, with a German reason naming the values."""

    key: str
    met: bool
    weight: int
    reason: str


@dataclass(frozen=True, slots=True)
class Scored:
    """A candidate with its score (0–100) and criteria."""

    candidate: Candidate
    score: float
    criteria: tuple[Criterion, ...]

    @property
    def rank_key(self) -> tuple[float, float, int]:
        """Sort key: score descending, larger net area, smaller id."""
        return (-self.score, -self.candidate.net_area_ha, self.candidate.id)


def de_number(value: float, decimals: int = 2) -> str:
    """``value`` in German notation, at most ``decimals`` places, without trailing zeros.

    >>> de_number(12.4), de_number(10.0), de_number(6.25), de_number(7.349, 1)
    ('12,4', '10', '6,25', '7,3')
    """
    text = f"{value:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(".", ",")


def de_date(day: date) -> str:
    """``day`` as ``TT.MM.JJJJ``.

    >>> de_date(date(2027, 3, 1))
    '01.03.2027'
    """
    return day.strftime("%d.%m.%Y")


def available_on(candidate: Candidate, reference: date) -> date | None:
    """Date by which the land is available: ``available_from``, else its class's latest date.

    ``None`` for classes without an upper bound (``langfristig``, ``unbekannt``) and no date.
    """
    if candidate.available_from is not None:
        return candidate.available_from
    return latest_available_date(candidate.availability, reference)


def _user_group(request: MatchRequest, c: Candidate) -> Criterion:
    label = vocab.USER_GROUP.label(request.user_group)
    met = request.user_group in c.user_groups
    reason = f"geeignet für {label}" if met else f"nicht für {label} geeignet"
    return Criterion("user_group", met, 0, reason)


def _restriction(request: MatchRequest, c: Candidate) -> Criterion:
    level = vocab.RESTRICTION_LEVEL.label(c.restriction_level)
    tolerance = vocab.RESTRICTION_LEVEL.label(request.restriction_tolerance)
    met = c.restriction_level in vocab.restriction_up_to(request.restriction_tolerance)
    if met:
        reason = f"Verwertungsbeschränkung {level} – im tolerierten Rahmen (höchstens {tolerance})"
    elif c.restriction_level == "unbekannt":
        reason = f"Verwertungsbeschränkung unbekannt – nicht als höchstens {tolerance} gesichert"
    else:
        reason = f"Verwertungsbeschränkung {level} – mehr als toleriert (höchstens {tolerance})"
    return Criterion("restriction", met, 0, reason)


def _net_area(request: MatchRequest, c: Candidate) -> Criterion:
    word = "Nettofläche zusammen" if c.parts > 1 else "Nettofläche"
    area, low, high = c.net_area_ha, request.net_area_min_ha, request.net_area_max_ha
    has = f"{word} {de_number(area)} ha"
    if not reaches(area, low):
        return Criterion("net_area", False, WEIGHTS["net_area"],
                         f"{has} – weniger als der Bedarf von mindestens {de_number(low)} ha")
    if high is not None and not reaches(high, area):
        return Criterion("net_area", False, WEIGHTS["net_area"],
                         f"{has} – mehr als die gewünschten höchstens {de_number(high)} ha")
    if high is None:
        reason = f"{has} erfüllt den Bedarf von mindestens {de_number(low)} ha"
    else:
        reason = f"{has} liegt im gewünschten Rahmen von {de_number(low)} bis {de_number(high)} ha"
    return Criterion("net_area", True, WEIGHTS["net_area"], reason)


def _available_by(needed_by: date, c: Candidate, reference: date) -> Criterion:
    weight = WEIGHTS["available_by"]
    when = available_on(c, reference)
    label = vocab.AVAILABILITY.label(c.availability)
    needed = de_date(needed_by)
    if when is None:
        return Criterion("available_by", False, weight,
                         f"Verfügbarkeit {label} – nicht sicher bis {needed} verfügbar")
    in_time, on = when <= needed_by, de_date(when)
    verdict = f"rechtzeitig zum {needed}" if in_time else f"später als benötigt ({needed})"
    if in_time and when <= reference:
        since = "bereits verfügbar"
    elif c.available_from is not None:
        since = f"verfügbar ab {on}" if in_time else f"verfügbar erst ab {on}"
    else:
        since = (f"Verfügbarkeit {label}, spätestens ab {on}" if in_time
                 else f"Verfügbarkeit {label}, sicher erst ab {on}")
    return Criterion("available_by", in_time, weight, f"{since} – {verdict}")


def _junction(max_km: float, c: Candidate) -> Criterion:
    weight, wanted = WEIGHTS["junction"], de_number(max_km, 1)
    km = c.distance_junction_km
    if km is None:
        return Criterion("junction", False, weight,
                         "Entfernung zum Autobahnanschluss unbekannt – "
                         f"gewünscht höchstens {wanted} km")
    if km <= max_km:
        return Criterion("junction", True, weight,
                         f"Autobahnanschluss {de_number(km, 1)} km entfernt – "
                         f"innerhalb der gewünschten {wanted} km")
    return Criterion("junction", False, weight,
                     f"Autobahnanschluss {de_number(km, 1)} km entfernt – "
                     f"mehr als die gewünschten {wanted} km")


def _district(preferred: Sequence[str], c: Candidate) -> Criterion:
    where = f"{c.district_name} ({c.district_ags})" if c.district_name else c.district_ags
    if c.district_ags in preferred:
        return Criterion("district", True, WEIGHTS["district"],
                         f"liegt in {where}, einem bevorzugten Kreis")
    return Criterion("district", False, WEIGHTS["district"],
                     f"liegt in {where} – nicht unter den bevorzugten Kreisen "
                     f"({', '.join(preferred)})")


def asked_weights(request: MatchRequest) -> dict[str, int]:
    """The scored criteria ``request`` asks for, in report order, with their weights.

    The area criterion always counts, the others only when asked for. Their sum is the
    denominator of the score, so it depends on the request alone, never on a candidate.

    >>> asked_weights(MatchRequest(net_area_min_ha=10, user_group="logistik", max_junction_km=5))
    {'net_area': 30, 'junction': 15}
    """
    asked = {
        "net_area": True,
        "available_by": request.needed_by is not None,
        "junction": request.max_junction_km is not None,
        "rail_siding": request.rail_siding_required,
        "operation_24h": request.operation_24h_required,
        "district": bool(request.preferred_districts),
    }
    return {key: WEIGHTS[key] for key, wanted in asked.items() if wanted}


def _scored_criterion(
    key: str, request: MatchRequest, c: Candidate, reference: date
) -> Criterion:
    """The scored criterion ``key`` (one of :func:`asked_weights`) evaluated for ``c``."""
    if key == "net_area":
        return _net_area(request, c)
    if key == "available_by" and request.needed_by is not None:
        return _available_by(request.needed_by, c, reference)
    if key == "junction" and request.max_junction_km is not None:
        return _junction(request.max_junction_km, c)
    if key == "rail_siding":
        return Criterion("rail_siding", c.rail_siding, WEIGHTS["rail_siding"],
                         "Gleisanschluss vorhanden" if c.rail_siding
                         else "kein Gleisanschluss – gefordert")
    if key == "operation_24h":
        return Criterion("operation_24h", c.operation_24h, WEIGHTS["operation_24h"],
                         "24-Stunden-Betrieb zulässig" if c.operation_24h
                         else "24-Stunden-Betrieb nicht zulässig – gefordert")
    if key == "district":
        return _district(request.preferred_districts, c)
    raise ValueError(f"criterion {key!r} is not asked for by the request")


def criteria_for(request: MatchRequest, c: Candidate, reference: date) -> list[Criterion]:
    """Every criterion the request asks for, evaluated for ``c`` (hard conditions first)."""
    out = [_user_group(request, c), _restriction(request, c)]
    out += [_scored_criterion(key, request, c, reference) for key in asked_weights(request)]
    if c.parts > 1:
        out = [x if x.key == "net_area" else replace(x, reason=WORST_PART + x.reason)
               for x in out]
    return out


def points_for(met: int, asked: int) -> float:
    """The score for ``met`` of ``asked`` weight: ``100 × met / asked``, rounded to 0.1.

    Strictly increasing in ``met`` (weights are multiples of 5, at most 100 are asked), so
    ranking by the weight met ranks by score.

    >>> points_for(30, 45), points_for(45, 80)
    (66.7, 56.2)
    """
    return round(100.0 * met / asked, 1)


def score(
    request: MatchRequest, candidate: Candidate, reference_date: date
) -> tuple[float, list[Criterion]]:
    """Score (0–100, one decimal) and criteria of ``candidate`` for ``request``.

    Dates relative to ``reference_date`` (usually today). A failed hard condition gives 0.

    >>> req = MatchRequest(net_area_min_ha=10, user_group="logistik", max_junction_km=5,
    ...                    rail_siding_required=True)
    >>> c = Candidate(1, 1, "14713", 12.4, "sofort", None, "keine", False, True, 7.3,
    ...               ("logistik",))
    >>> points, crits = score(req, c, date(2026, 1, 15))
    >>> points  # area 30 of 30 + 15 (junction) + 10 (rail) asked for
    54.5
    >>> [x.reason for x in crits if x.key in ("net_area", "junction")]
    ['Nettofläche 12,4 ha erfüllt den Bedarf von mindestens 10 ha', \
'Autobahnanschluss 7,3 km entfernt – mehr als die gewünschten 5 km']
    """
    criteria = criteria_for(request, candidate, reference_date)
    if not all(x.met for x in criteria if x.key in HARD_KEYS):
        return 0.0, criteria
    return points_for(met_weight(criteria), sum(x.weight for x in criteria)), criteria


def met_weight(criteria: Iterable[Criterion]) -> int:
    """The weight of the criteria met (hard conditions weigh 0)."""
    return sum(x.weight for x in criteria if x.met)


def rank(
    request: MatchRequest, candidates: Iterable[Candidate], reference_date: date
) -> list[Scored]:
    """All candidates scored and ranked (best first; ties: larger net area, then smaller id)."""
    scored = []
    for c in candidates:
        points, criteria = score(request, c, reference_date)
        scored.append(Scored(c, points, tuple(criteria)))
    return sorted(scored, key=lambda s: s.rank_key)
