"""Premium sites (Premiumstandorte): what makes a site stand out for a large settlement.

A **parcel qualifies** when it meets every parcel criterion:

- availability no later than ``availability`` (default ``sofort``: immediately available;
  ``None``: any class, ``unbekannt`` included);
- 24-hour operation allowed, if ``operation_24h`` (default: required);
- a motorway junction within ``motorway_km`` km (default 5 km; ``None``: no limit);
  parcels without a known distance do not qualify;
- a rail siding, if ``rail_siding`` (default: not required);
- broadband of at least ``broadband_mbps`` Mbit/s (default 100; 0 or ``None``: no limit);
  parcels without a known bandwidth do not qualify unless there is no limit.

A **site is premium** when its qualifying parcels (among those selected by the report's
filters) hold together at least ``min_net_ha`` hectares net (default 10 ha: a plot for a
large settlement; 0: any site with a qualifying parcel).

Pure: the SQL of :mod:`app.db.queries.portfolio` applies the same rules set-based;
:func:`parcel_qualifies` states them for one parcel (and checks the SQL in the tests).

>>> PremiumCriteria().availability_classes
('sofort',)
>>> parcel_qualifies(PremiumCriteria(), {"availability": "sofort", "operation_24h": True,
...     "distance_junction_km": 3.2, "rail_siding": False, "broadband_mbps": 250})
True
>>> PremiumCriteria(min_net_ha=-1)
Traceback (most recent call last):
...
ValueError: min_net_ha must be a finite number ≥ 0 (ha)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from app.domain import vocab
from app.domain.filters import ParcelFilter

#: Sums of floats that fall short of the threshold by less than this (ha) still reach it.
TOLERANCE_HA = 1e-6


def _de(value: float) -> str:
    """A criterion's number in German (``2,5``; thousands are not separated)."""
    return f"{value:g}".replace(".", ",")


@dataclass(frozen=True)
class PremiumCriteria:
    """The criteria of a premium site (see the module docstring); units ha, km, Mbit/s."""

    #: net ha the qualifying parcels of a site hold at least
    min_net_ha: float = 10.0
    #: latest availability class (``sofort`` … ``langfristig``); ``None``: any
    availability: str | None = "sofort"
    #: 24-hour operation required
    operation_24h: bool = True
    #: longest distance to a motorway junction, km; ``None``: any
    motorway_km: float | None = 5.0
    #: rail siding required
    rail_siding: bool = False
    #: least broadband bandwidth, Mbit/s; ``None`` or 0: any
    broadband_mbps: int | None = 100

    def __post_init__(self) -> None:
        if not (math.isfinite(self.min_net_ha) and self.min_net_ha >= 0):
            raise ValueError("min_net_ha must be a finite number ≥ 0 (ha)")
        if self.availability is not None and self.availability not in vocab.AVAILABILITY_HORIZON:
            raise ValueError("availability must be one of "
                             + ", ".join(vocab.AVAILABILITY_HORIZON))
        if self.motorway_km is not None and not (math.isfinite(self.motorway_km)
                                                 and self.motorway_km > 0):
            raise ValueError("motorway_km must be a finite number > 0 (km)")
        if self.broadband_mbps is not None and self.broadband_mbps < 0:
            raise ValueError("broadband_mbps must be ≥ 0 (Mbit/s)")

    @property
    def availability_classes(self) -> tuple[str, ...] | None:
        """The availability classes that qualify (``None``: all)."""
        if self.availability is None:
            return None
        return vocab.availability_up_to(self.availability)

    @property
    def min_broadband_mbps(self) -> int | None:
        """The broadband threshold, ``None`` when there is none."""
        return self.broadband_mbps or None

    def as_dict(self) -> dict[str, Any]:
        """The criteria by name (for the JSON answer)."""
        return asdict(self)

    def describe(self) -> list[str]:
        """The criteria in German, one line each (for reports).

        >>> PremiumCriteria().describe()[0]
        'mindestens 10 ha netto auf Flächen, die alle folgenden Kriterien erfüllen'
        """
        lines = [f"mindestens {_de(self.min_net_ha)} ha netto auf Flächen, die alle "
                 "folgenden Kriterien erfüllen"]
        if self.availability is not None:
            lines.append("zeitliche Verfügbarkeit: "
                         + " oder ".join(vocab.AVAILABILITY.label(c)
                                         for c in self.availability_classes or ()))
        if self.operation_24h:
            lines.append("24-Stunden-Betrieb zulässig")
        if self.motorway_km is not None:
            lines.append(f"Autobahn-Anschlussstelle in höchstens {_de(self.motorway_km)} km")
        if self.rail_siding:
            lines.append("Gleisanschluss vorhanden")
        if self.min_broadband_mbps is not None:
            lines.append(f"Breitband mindestens {self.min_broadband_mbps} Mbit/s")
        return lines


def narrowed_filter(criteria: PremiumCriteria, f: ParcelFilter) -> ParcelFilter | None:
    """``f`` narrowed by the parcel criteria the registry's filters can state (all but the
    broadband), so the database selects the candidates by their indexed columns; ``None``
    when ``f`` and the criteria exclude each other (no parcel can qualify).

    >>> narrowed_filter(PremiumCriteria(), ParcelFilter(max_junction_km=3)).active()
    {'availability': ('sofort',), 'operation_24h': True, 'max_junction_km': 3.0}
    >>> narrowed_filter(PremiumCriteria(), ParcelFilter(availability=("langfristig",))) is None
    True
    """
    update: dict[str, Any] = {}
    classes = criteria.availability_classes
    if classes is not None:
        wanted = tuple(c for c in (f.availability or classes) if c in classes)
        if not wanted:
            return None
        update["availability"] = wanted
    for flag, name in ((criteria.operation_24h, "operation_24h"),
                       (criteria.rail_siding, "rail_siding")):
        if flag:
            if getattr(f, name) is False:
                return None
            update[name] = True
    if criteria.motorway_km is not None:
        current = f.max_junction_km
        update["max_junction_km"] = (criteria.motorway_km if current is None
                                     else min(current, criteria.motorway_km))
    return type(f).model_validate({**dict(f), **update})


def parcel_qualifies(criteria: PremiumCriteria, parcel: Mapping[str, Any]) -> bool:
    """Whether one parcel (registry field names) meets every parcel criterion."""
    classes = criteria.availability_classes
    if classes is not None and parcel.get("availability") not in classes:
        return False
    if criteria.operation_24h and not parcel.get("operation_24h"):
        return False
    if criteria.motorway_km is not None:
        km = parcel.get("distance_junction_km")
        if km is None or km > criteria.motorway_km:
            return False
    if criteria.rail_siding and not parcel.get("rail_siding"):
        return False
    mbps = criteria.min_broadband_mbps
    return mbps is None or (parcel.get("broadband_mbps") or 0) >= mbps


def site_is_premium(criteria: PremiumCriteria, qualifying_net_ha: float) -> bool:
    """Whether a site whose qualifying parcels hold ``qualifying_net_ha`` ha is premium
    (a site needs at least one qualifying parcel, whatever ``min_net_ha``).

    >>> site_is_premium(PremiumCriteria(min_net_ha=10), 9.9999999999)
    True
    """
    return qualifying_net_ha > 0 and qualifying_net_ha >= criteria.min_net_ha - TOLERANCE_HA
