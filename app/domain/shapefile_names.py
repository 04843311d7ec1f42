"""Field names of at most 10 characters, as a Shapefile (dBASE) needs them.

Short names are derived from the API names alone, so the same field has the same short name
in every export (``municipality_ags`` → ``munici_ags``): a name of up to 10 characters stays
as it is; a longer one is shortened by cutting its longest part (between underscores) one
letter at a time, the leftmost of equally long parts first, until it fits. Should two names
still meet, the later one ends in a number instead.

>>> short_names(["id", "municipality_ags", "restriction_level", "restriction_causes"])
['id', 'munici_ags', 'rest_level', 'rest_cause']
>>> short_names(["availability_assessed_on", "distance_junction_km"])
['ava_ass_on', 'dis_jun_km']
"""

from __future__ import annotations

from collections.abc import Iterable

#: Longest field name a dBASE file holds.
MAX_NAME = 10


def short_name(name: str) -> str:
    """``name`` cut to :data:`MAX_NAME` characters (see the module docstring).

    >>> short_name("net_area_ha"), short_name("available_from"), short_name("synthetic")
    ('net_are_ha', 'avail_from', 'synthetic')
    """
    parts = [part for part in name.split("_") if part] or [name]
    while len("_".join(parts)) > MAX_NAME:
        longest = max(len(part) for part in parts)
        if longest <= 1:  # only one-letter parts left: drop the last ones
            parts = parts[:-1]
            continue
        i = next(i for i, part in enumerate(parts) if len(part) == longest)
        parts[i] = parts[i][:-1]
    return "_".join(parts)[:MAX_NAME]


def short_names(names: Iterable[str]) -> list[str]:
    """A short, unique (ignoring case, as dBASE does) name for each of ``names``."""
    taken: set[str] = set()
    found: list[str] = []
    for name in names:
        candidate = short_name(name)
        number = 1
        while candidate.lower() in taken:
            number += 1
            tail = str(number)
            candidate = short_name(name)[:MAX_NAME - len(tail)] + tail
        taken.add(candidate.lower())
        found.append(candidate)
    return found
