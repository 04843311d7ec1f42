"""What a Shapefile needs besides GDAL: field names of at most 10 characters, a mapping of
them to the API's names (``felder.csv``), and a ZIP of the files that make one layer.

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

import csv
import io
import zipfile
from collections.abc import Iterable
from pathlib import Path

from app.db.queries.exports import ExportColumn

#: Longest field name a dBASE file holds.
MAX_NAME = 10

#: The files of one Shapefile layer, by extension (``.cpg`` names the text encoding).
LAYER_SUFFIXES = (".shp", ".shx", ".dbf", ".prj", ".cpg")

#: Name of the mapping file in the ZIP.
MAPPING_FILE = "felder.csv"
#: Name of the notes (synthetic data, attribution, CRS) in the ZIP.
NOTES_FILE = "hinweise.txt"


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


def mapping_csv(columns: Iterable[ExportColumn], shorts: Iterable[str]) -> bytes:
    """``felder.csv``: short name, API name, description and unit of every field (UTF-8)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["kurzname", "feldname", "beschreibung", "einheit"])
    for column, short in zip(columns, shorts, strict=True):
        writer.writerow([short, column.name, column.description, column.unit or ""])
    return out.getvalue().encode("utf-8")


def zip_layer(folder: Path, layer: str, target: Path, *, mapping: bytes, notes: str) -> None:
    """Put the files of Shapefile ``layer`` in ``folder``, the mapping and the notes into the
    ZIP ``target`` (deflated)."""
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED,
                         compresslevel=6) as archive:
        for suffix in LAYER_SUFFIXES:
            part = folder / f"{layer}{suffix}"
            if part.exists():
                archive.write(part, part.name)
        archive.writestr(MAPPING_FILE, mapping)
        archive.writestr(NOTES_FILE, notes.encode("utf-8"))
