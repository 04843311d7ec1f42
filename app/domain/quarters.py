"""Calendar quarters of the monitoring: ``2024Q3`` ends on 30 September 2024.

A quarter's state is the state at the end of its last day, German time (see
:func:`app.db.queries.parcels.source_on`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

_PATTERN = re.compile(r"^\s*(\d{4})\s*-?\s*Q([1-4])\s*$", re.IGNORECASE)


@dataclass(frozen=True, order=True)
class Quarter:
    """A calendar quarter.

    >>> q = Quarter.parse("2024Q3")
    >>> q.first_day, q.last_day, q.label, q.folder
    (datetime.date(2024, 7, 1), datetime.date(2024, 9, 30), '2024Q3', '2024-Q3')
    >>> q.previous, Quarter(2025, 1).previous
    (Quarter(year=2024, number=2), Quarter(year=2024, number=4))
    >>> Quarter.containing(date(2026, 11, 30)).label
    '2026Q4'
    >>> Quarter.last_completed(date(2026, 11, 30)).label
    '2026Q3'
    """

    year: int
    number: int

    def __post_init__(self) -> None:
        if not 1 <= self.number <= 4:
            raise ValueError(f"quarter number must be 1 to 4, not {self.number}")

    @classmethod
    def parse(cls, text: str) -> Quarter:
        """``2024Q3``, ``2024-Q3`` or ``2024q3``; anything else raises ``ValueError``."""
        m = _PATTERN.match(text)
        if m is None:
            raise ValueError(f"{text!r} is not a quarter like 2024Q3")
        return cls(int(m.group(1)), int(m.group(2)))

    @classmethod
    def containing(cls, day: date) -> Quarter:
        """The quarter ``day`` lies in."""
        return cls(day.year, (day.month - 1) // 3 + 1)

    @classmethod
    def last_completed(cls, today: date) -> Quarter:
        """The last quarter that has ended before ``today``."""
        return cls.containing(today).previous

    @classmethod
    def ending_on(cls, day: date) -> Quarter:
        """The quarter whose last day is ``day`` (``ValueError`` if none ends on it)."""
        q = cls.containing(day)
        if q.last_day != day:
            raise ValueError(f"{day.isoformat()} is not the last day of a quarter")
        return q

    @property
    def first_day(self) -> date:
        return date(self.year, 3 * self.number - 2, 1)

    @property
    def last_day(self) -> date:
        return self.next.first_day - timedelta(days=1)

    @property
    def previous(self) -> Quarter:
        return Quarter(self.year - 1, 4) if self.number == 1 else Quarter(self.year,
                                                                           self.number - 1)

    @property
    def next(self) -> Quarter:
        return Quarter(self.year + 1, 1) if self.number == 4 else Quarter(self.year,
                                                                          self.number + 1)

    @property
    def label(self) -> str:
        return f"{self.year}Q{self.number}"

    @property
    def folder(self) -> str:
        """Name of the report folder: ``2024-Q3``."""
        return f"{self.year}-Q{self.number}"

    @property
    def label_de(self) -> str:
        """``3. Quartal 2024``."""
        return f"{self.number}. Quartal {self.year}"


def quarters_between(first: Quarter, last: Quarter) -> list[Quarter]:
    """Every quarter from ``first`` to ``last``, both included.

    >>> [q.label for q in quarters_between(Quarter(2020, 4), Quarter(2021, 2))]
    ['2020Q4', '2021Q1', '2021Q2']
    """
    out, q = [], first
    while q <= last:
        out.append(q)
        q = q.next
    return out
