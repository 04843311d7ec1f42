"""The service's notion of "today": the calendar day in Germany, not the server's zone.

Dates such as a sale date or ``available_from`` are German calendar days; a server running
in UTC would otherwise refuse a sale dated "today" between midnight and 1 or 2 a.m.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

LOCAL_ZONE = ZoneInfo("Europe/Berlin")


def today() -> date:
    """Today's date in Germany (Europe/Berlin)."""
    return datetime.now(LOCAL_ZONE).date()
