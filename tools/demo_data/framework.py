"""The study's demand framework (Orientierungsrahmen 2038) as the demo's JSON document.

Only the SME component is located: the study distributed it to the districts
arithmetically but did not publish the split, so the demo splits it in proportion to each
district's sales area 2010-2019 (Table 5). Net hectares, rounded to 0.01 by the largest
remainder method so that the districts add up exactly to the total.
"""

from __future__ import annotations

import math

from tools.demo_data import targets as T

LABELS = {
    "kmu_regular_demand": "regulärer Bedarf KMU",
    "large_settlements": "Großansiedlungen",
    "coal_exit_job_compensation": "Kompensation Arbeitsplatzverluste Kohleausstieg",
    "joker_very_large_settlements": "Joker für besonders große Ansiedlungen",
}
METHODS = {
    "kmu_regular_demand": "verbrauchsgestützte Fortschreibung der Grundstücksverkäufe 2010–2019 "
                          "mit zwei konjunkturellen Szenarien (Studie); Verteilung auf die Kreise "
                          "anteilig nach Flächenumsatz 2010–2019 (Annahme der Demo)",
    "large_settlements": "Vorgabe der Studie, regional, nicht verortet",
    "coal_exit_job_compensation": "Vorgabe der Studie, regional, nicht verortet",
    "joker_very_large_settlements": "Vorgabe der Studie, regional, nicht verortet",
}


def largest_remainder(total: float, weights: dict[str, float], step: float = 0.01
                      ) -> dict[str, float]:
    """Split ``total`` in proportion to ``weights`` into multiples of ``step`` summing exactly."""
    units = round(total / step)
    wsum = sum(weights.values())
    raw = {k: units * w / wsum for k, w in weights.items()}
    floor = {k: math.floor(v) for k, v in raw.items()}
    left = units - sum(floor.values())
    for k in sorted(raw, key=lambda k: (-(raw[k] - floor[k]), k))[:left]:
        floor[k] += 1
    return {k: round(v * step, 2) for k, v in floor.items()}


def _span(low_high: tuple[float, float]) -> str:
    """``"2.545–2.840"`` for a range, a single number when both ends agree."""
    low, high = low_high
    return T.de_number(low) if low == high else f"{T.de_number(low)}–{T.de_number(high)}"


def _description() -> str:
    """The framework in one German paragraph, every number taken from the study's figures."""
    c = T.FRAMEWORK_COMPONENTS
    return (
        f"Orientierungsrahmen für den Bedarf an Industrie- und Gewerbeflächen in der "
        f"Innovationsregion Mitteldeutschland bis {T.FRAMEWORK_HORIZON_YEAR}: "
        f"{_span(T.FRAMEWORK_TOTAL_NET)} ha netto ({_span(T.FRAMEWORK_PER_YEAR_NET)} ha "
        f"pro Jahr), davon regulärer Bedarf der KMU {_span(c['kmu_regular_demand'])} ha "
        f"(auf die Kreise verteilt), Großansiedlungen {_span(c['large_settlements'])} ha, "
        f"Kompensation der Arbeitsplatzverluste durch den Kohleausstieg "
        f"{_span(c['coal_exit_job_compensation'])} ha und Joker für besonders große "
        f"Ansiedlungen {_span(c['joker_very_large_settlements'])} ha (regional, nicht "
        f"verortet). Bruttobedarf mit Faktor {T.de_number(T.FRAMEWORK_NET_TO_GROSS)}: "
        f"{_span(T.FRAMEWORK_TOTAL_GROSS)} ha.")


def framework_document() -> dict[str, object]:
    """The complete ``demand_framework_2038.json`` content."""
    weights = {T.AGS_BY_KEY[d]: T.TABLE5_SALES[d][1] for d in T.DISTRICT_KEYS}
    components: list[dict[str, object]] = []
    for key, (low, high) in T.FRAMEWORK_COMPONENTS.items():
        located = key == "kmu_regular_demand"
        values: dict[str, object] = {}
        for scenario, total in (("niedrig", low), ("hoch", high)):
            entry: dict[str, object] = {"total": total}
            if located:
                entry["by_district"] = largest_remainder(total, weights)
            values[scenario] = entry
        components.append({"key": key, "label": LABELS[key], "located": located,
                           "method": METHODS[key], "values": values})
    return {
        "name": f"Orientierungsrahmen {T.FRAMEWORK_HORIZON_YEAR} (Potenzialstudie IRMD)",
        "version": 1,
        "base_date": T.FRAMEWORK_BASE_DATE,
        "period_first_year": T.FRAMEWORK_PERIOD[0],
        "period_last_year": T.FRAMEWORK_PERIOD[1],
        "net_to_gross_factor": T.FRAMEWORK_NET_TO_GROSS,
        "description": _description(),
        "source": ("Georg Consulting (2020/21): Potenzialstudie Industrie- und Gewerbeflächen "
                   "für die Innovationsregion Mitteldeutschland, Abschnitt Orientierungsrahmen "
                   f"des Flächenbedarfs {T.FRAMEWORK_HORIZON_YEAR}."),
        "assumptions": (
            "Werte netto in Hektar. Die Studie hat den regulären KMU-Bedarf rechnerisch auf "
            "die Gebietskörperschaften verteilt, die Kreiswerte aber nur in einer Grafik "
            "gezeigt. In dieser Demo wird der KMU-Anteil daher anteilig zum Flächenumsatz der "
            "Kreise 2010–2019 (Tabelle 5) verteilt (demo assumption; staff can replace it), "
            "gerundet auf 0,01 ha nach dem Verfahren der größten Reste. Großansiedlungen, "
            "Kompensation Kohleausstieg und Joker bleiben regional und unverortet."),
        "scenarios": [{"key": "niedrig", "label": "unteres Szenario"},
                      {"key": "hoch", "label": "oberes Szenario"}],
        "components": components,
    }
