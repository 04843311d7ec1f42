"""Values of OGC API – Features query parameters, read without any HTTP or SQL.

``bbox`` (four or six numbers), ``datetime`` (an instant or an interval with ``..`` for an
open end, RFC 3339), ``sortby`` (one property, ``-`` for descending) and ``properties`` (a
comma-separated list). Errors name the parameter and the reason (422 problems).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

from app.domain.errors import InvalidInput

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    """``minx,miny,maxx,maxy`` (or the six numbers of a 3D box, heights ignored), in the
    axis order of ``bbox-crs``. A box with minx > maxx in lon/lat crosses the antimeridian.

    >>> parse_bbox("12.1,51.2,12.5,51.4")
    (12.1, 51.2, 12.5, 51.4)
    >>> parse_bbox("12,51,0,13,52,100")
    (12.0, 51.0, 13.0, 52.0)
    """
    parts = text.split(",")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        values = []
    if len(values) not in (4, 6) or not all(math.isfinite(v) for v in values):
        raise InvalidInput.for_field(
            "bbox", "bbox needs four numbers minx,miny,maxx,maxy (or six for 3D)", "bbox")
    if len(values) == 6:
        values = [values[0], values[1], values[3], values[4]]
    if values[1] > values[3]:
        raise InvalidInput.for_field("bbox", "the second coordinate's minimum exceeds its "
                                     "maximum", "bbox")
    return values[0], values[1], values[2], values[3]


@dataclass(frozen=True)
class TimeBound:
    """One end of a ``datetime`` value: a day or a moment (UTC when the zone is missing)."""

    value: date | datetime
    is_date: bool


@dataclass(frozen=True)
class TimeInterval:
    """A ``datetime`` value: ``start``/``end`` (``None``: open); an instant has both equal."""

    start: TimeBound | None
    end: TimeBound | None


def _bound(text: str) -> TimeBound | None:
    if text in ("..", ""):
        return None
    try:
        if "T" in text.upper():
            moment = datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            return TimeBound(moment, False)
        return TimeBound(date.fromisoformat(text), True)
    except ValueError:
        raise InvalidInput.for_field(
            "datetime", f"{text!r} is no RFC 3339 date or date-time", "datetime") from None


def parse_datetime(text: str) -> TimeInterval:
    """An instant (``2024-05-01``, ``2024-05-01T12:00:00Z``) or an interval ``start/end``
    whose ends may be ``..`` (open); an interval needs at least one closed end.

    >>> parse_datetime("2024-01-01/..").end is None
    True
    >>> parse_datetime("2024-01-01T10:00:00Z").start.value.hour
    10
    """
    if "/" not in text:
        bound = _bound(text)
        if bound is None:
            raise InvalidInput.for_field("datetime", "an instant cannot be open", "datetime")
        return TimeInterval(bound, bound)
    first, _, last = text.partition("/")
    start, end = _bound(first), _bound(last)
    if start is None and end is None:
        raise InvalidInput.for_field("datetime", "both ends open: leave datetime out",
                                     "datetime")
    if start is not None and end is not None and _moment(start) > _moment(end):
        raise InvalidInput.for_field("datetime", "the interval ends before it starts",
                                     "datetime")
    return TimeInterval(start, end)


def _moment(bound: TimeBound) -> datetime:
    if isinstance(bound.value, datetime):
        return bound.value
    return datetime(bound.value.year, bound.value.month, bound.value.day, tzinfo=UTC)


def parse_sortby(text: str | None) -> tuple[str | None, bool]:
    """``name``, ``+name`` or ``-name`` → (name, descending); ``None`` sorts by id.

    >>> parse_sortby("-net_area_ha"), parse_sortby(None)
    (('net_area_ha', True), (None, False))
    """
    if text is None:
        return None, False
    if "," in text:
        raise InvalidInput.for_field("sortby", "one sort property only (ties are broken by "
                                     "id)", "sortby")
    descending = text.startswith("-")
    name = text.lstrip("+-").strip()
    if not _NAME.fullmatch(name):
        raise InvalidInput.for_field("sortby", f"{text!r} names no property", "sortby")
    return name, descending


def parse_properties(text: str | None) -> tuple[str, ...] | None:
    """The property names of ``properties=a,b`` (``None``: all).

    >>> parse_properties("name,net_area_ha")
    ('name', 'net_area_ha')
    """
    if text is None:
        return None
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    bad = [n for n in names if not _NAME.fullmatch(n)]
    if bad:
        raise InvalidInput.for_field("properties", f"not a property name: {', '.join(bad)}",
                                     "properties")
    return names
