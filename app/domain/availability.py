"""When land of an availability class becomes available, relative to a reference date."""

from __future__ import annotations

from datetime import date

#: Upper bound in years until land of a class is available; classes without a bound
#: (``langfristig``: "more than 5 years", ``unbekannt``) are absent.
LATEST_YEARS: dict[str, int] = {"sofort": 0, "kurzfristig": 2, "mittelfristig": 5}


def add_years(day: date, years: int) -> date:
    """``day`` shifted by whole years (29 February falls back to 28 February).

    >>> add_years(date(2024, 2, 29), 1)
    datetime.date(2025, 2, 28)
    """
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def latest_available_date(availability: str, reference: date) -> date | None:
    """Latest date by which land of ``availability`` is available, seen from ``reference``.

    >>> latest_available_date("kurzfristig", date(2026, 1, 15))
    datetime.date(2028, 1, 15)
    >>> latest_available_date("langfristig", date(2026, 1, 15)) is None
    True
    """
    years = LATEST_YEARS.get(availability)
    return None if years is None else add_years(reference, years)
