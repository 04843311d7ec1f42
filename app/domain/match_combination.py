"""One candidate standing for a combination of adjacent parcels (pure, no I/O).

The combined area is the sum of the parts; everything else is the worst case of the parts,
so that a combination is never offered as better than its weakest parcel.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from app.domain import vocab
from app.domain.matching import Candidate, available_on


def _worst(codes: Iterable[str], order: Sequence[str]) -> str:
    return max(codes, key=order.index)


def combine(
    parts: Sequence[Candidate], reference: date, preferred_districts: Sequence[str] = ()
) -> Candidate:
    """One candidate standing for a combination: summed area, worst case of everything else.

    The id is the smallest part id; parts must share a site.

    >>> a = Candidate(7, 1, "14713", 4.0, "sofort", None, "keine", True, True, 2.0, ("logistik",))
    >>> b = Candidate(8, 1, "14713", 2.5, "kurzfristig", None, "gering", False, True, 3.5,
    ...               ("logistik", "dienstleistung"))
    >>> ab = combine([a, b], date(2026, 1, 15))
    >>> (ab.net_area_ha, ab.available_from, ab.restriction_level, ab.rail_siding, ab.parts)
    (6.5, datetime.date(2028, 1, 15), 'gering', False, 2)
    >>> (ab.distance_junction_km, ab.user_groups)
    (3.5, ('logistik',))
    """
    if not parts:
        raise ValueError("a combination needs at least one parcel")
    if len({p.site_id for p in parts}) != 1:
        raise ValueError("the parcels of a combination must belong to one site")
    dates = [available_on(p, reference) for p in parts]
    open_ended = [p.availability for p, d in zip(parts, dates, strict=True) if d is None]
    known = [d for d in dates if d is not None]
    outside = [p for p in parts if p.district_ags not in preferred_districts]
    place = min(outside or parts, key=lambda p: p.id)
    distances = [p.distance_junction_km for p in parts]
    known_km = [d for d in distances if d is not None]
    groups = set(parts[0].user_groups).intersection(*(p.user_groups for p in parts[1:]))
    return Candidate(
        id=min(p.id for p in parts),
        site_id=parts[0].site_id,
        district_ags=place.district_ags,
        district_name=place.district_name,
        net_area_ha=sum(p.net_area_ha for p in parts),
        availability=_worst(open_ended or [p.availability for p in parts],
                            vocab.AVAILABILITY.codes),
        available_from=None if open_ended else max(known),
        restriction_level=_worst((p.restriction_level for p in parts),
                                 vocab.RESTRICTION_LEVEL.codes),
        rail_siding=all(p.rail_siding for p in parts),
        operation_24h=all(p.operation_24h for p in parts),
        distance_junction_km=max(known_km) if len(known_km) == len(parts) else None,
        user_groups=tuple(sorted(groups)),
        parts=len(parts),
    )
