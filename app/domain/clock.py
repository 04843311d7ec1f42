"""The service's notion of "today": the calendar day in Germany, not the server's zone.

Dates such as a sale date or ``available_from`` are German calendar days; a server running
in UTC would otherwise refuse a sale dated "today" between midnight and 1 or 2 a.m.

Every part of the service asks :func:`today`. Tests pin it with :func:`set_today` (for the
whole process: requests are served in worker threads), so that nothing depends on the day
or the hour a test runs:

>>> previous = set_today(date(2026, 1, 15))
>>> today()
datetime.date(2026, 1, 15)
>>> set_today(previous)
datetime.date(2026, 1, 15)
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

LOCAL_ZONE = ZoneInfo("Europe/Berlin")

#: The day :func:`today` answers instead of the real one (``None``: the real clock).
_pinned: date | None = None


def today() -> date:
    """Today's date in Germany (Europe/Berlin), or the day pinned by :func:`set_today`."""
    if _pinned is not None:
        return _pinned
    return datetime.now(LOCAL_ZONE).date()


def set_today(day: date | None) -> date | None:
    """Pin :func:`today` to ``day`` for the whole process (``None``: the real clock again);
    returns the day pinned before, to restore it.

    Meant for tests; the service itself never calls it.
    """
    global _pinned
    previous, _pinned = _pinned, day
    return previous
