"""Alternative demand scenarios, computed from data and stated parameters (never typed in).

Each function returns a demand in net hectares (net ha), per year or over a framework's
:class:`~app.domain.framework.Period`, for comparison with a stored framework:

Trend (Trendfortschreibung)
    The mean annual area of recorded sales of commercial building land over a window of
    years, continued over the period (study Table 5: 1,080.2 ha in 2010–2019, 108 ha a year).

GIFPRO (Gewerbe- und Industrieflächenprognose, the ILS NRW method)
    Land-using employees × (settlement quota + relocation quota × (1 − reuse share)) ×
    net m² per employee. :class:`GifproParameters` carries the usual literature defaults;
    every parameter, and the employee count, is an input.

>>> round(trend_total_ha({y: 108.02 for y in range(2010, 2020)}, 2010, 2019, Period(2020, 2038)))
2052
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from app.domain.framework import Period

#: Key of the study's Table 3 (employees per district) in ``reference_figures.json``.
EMPLOYMENT_KEY = "employment_table3"


def trend_total_ha(sales_ha_by_year: Mapping[int, float], first_year: int, last_year: int,
                   period: Period) -> float:
    """Trend demand over ``period``, net ha: mean annual sales of ``first_year`` …
    ``last_year`` (both included; a year without sales counts as 0 ha, years outside the
    window are ignored) × ``period.years``. ``ValueError`` when ``last_year < first_year``.

    >>> trend_total_ha({2018: 30.0, 2020: 12.0}, 2018, 2020, Period(2021, 2030))  # 42 / 3 × 10
    140.0
    """
    if last_year < first_year:
        raise ValueError("the trend window's last year precedes its first")
    window_years = last_year - first_year + 1
    total = sum(ha for year, ha in sales_ha_by_year.items() if first_year <= year <= last_year)
    return total / window_years * period.years


@dataclass(frozen=True)
class GifproParameters:
    """Parameters of the GIFPRO model; the defaults are the usual values of the GIFPRO
    literature (ILS NRW method), not figures of the study, and every one is an input.

    - ``settlement_quota_pct`` (Neuansiedlungsquote): newly settling employees per 100
      land-using employees and year; default 0.3.
    - ``relocation_quota_pct`` (Verlagerungsquote): relocating employees per 100 land-using
      employees and year; default 0.7.
    - ``reuse_share`` (Wiedernutzungsquote): share, 0..1, of the relocations' demand met on
      the land the relocating firms free; default 0.25.
    - ``m2_per_employee`` (Flächenkennziffer): net m² of commercial land per employee;
      default 225.
    """

    settlement_quota_pct: float = 0.3
    relocation_quota_pct: float = 0.7
    reuse_share: float = 0.25
    m2_per_employee: float = 225.0

    def __post_init__(self) -> None:
        if self.settlement_quota_pct < 0 or self.relocation_quota_pct < 0:
            raise ValueError("GIFPRO quotas must not be negative")
        if not 0 <= self.reuse_share <= 1:
            raise ValueError("the reuse share lies between 0 and 1")
        if self.m2_per_employee <= 0:
            raise ValueError("the m² per employee must be positive")


#: German labels of the GIFPRO parameters (for forms and reports).
GIFPRO_LABELS: Mapping[str, str] = {
    "settlement_quota_pct": "Neuansiedlungsquote (Beschäftigte je 100 und Jahr)",
    "relocation_quota_pct": "Verlagerungsquote (Beschäftigte je 100 und Jahr)",
    "reuse_share": "Wiedernutzungsquote (Anteil 0–1)",
    "m2_per_employee": "Flächenkennziffer (m² netto je Beschäftigtem)",
}


def gifpro_annual_ha(employees: float, p: GifproParameters) -> float:
    """GIFPRO demand per year, net ha, of ``employees`` land-using employees.

    ``employees × (settle/100 + relocate/100 × (1 − reuse)) × m² per employee / 10,000``.

    >>> gifpro_annual_ha(10_000, GifproParameters())  # 10,000 × 0.00825 × 225 m²
    1.85625
    """
    if employees < 0:
        raise ValueError("the number of employees must not be negative")
    moving_share = (p.settlement_quota_pct / 100
                    + p.relocation_quota_pct / 100 * (1 - p.reuse_share))
    return employees * moving_share * p.m2_per_employee / 10_000


def gifpro_total_ha(employees: float, p: GifproParameters, period: Period) -> float:
    """GIFPRO demand over ``period``, net ha: :func:`gifpro_annual_ha` × ``period.years``."""
    return gifpro_annual_ha(employees, p) * period.years


def _reference_figures_path() -> Path:
    # Imported here so that the arithmetic above never needs the service's settings.
    from app.settings import get_settings

    return get_settings().geodata_dir / "study" / "reference_figures.json"


def land_using_employees(figures: Mapping[str, object]) -> dict[str, int]:
    """Producing-sector employees (study Table 3) by district AGS, from the parsed figures.

    ``ValueError`` when a district of the figures has no Table 3 row.

    >>> land_using_employees({"districts": [{"key": "halle", "ags": "15002"}],
    ...                       "employment_table3": {"halle": [98072, 11355]}})
    {'15002': 11355}
    """
    table = figures[EMPLOYMENT_KEY]
    districts = figures["districts"]
    if not isinstance(table, Mapping) or not isinstance(districts, list):
        raise ValueError("reference figures without districts or Table 3")
    result: dict[str, int] = {}
    for district in districts:
        row = table.get(district["key"])
        if row is None:
            raise ValueError(f"Table 3 has no row for district {district['key']!r}")
        result[str(district["ags"])] = int(row[1])
    return result


def default_land_using_employees(path: Path | None = None) -> dict[str, int]:
    """Default GIFPRO employee count per district AGS: the producing-sector employees of the
    study's Table 3 (a lower bound of the land-using employees; an input).

    Read from ``geodata/study/reference_figures.json`` under the configured geodata
    directory, or from ``path``.
    """
    return dict(_employees_in(path if path is not None else _reference_figures_path()))


@lru_cache(maxsize=4)
def _employees_in(path: Path) -> tuple[tuple[str, int], ...]:
    """The file's employee counts, read once per path (the figures are published data)."""
    figures: dict[str, object] = json.loads(path.read_text("utf-8"))
    return tuple(land_using_employees(figures).items())
