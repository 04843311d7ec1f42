"""What a Shapefile needs besides GDAL: field names of at most 10 characters (made by
:mod:`app.domain.shapefile_names`), a mapping of them to the API's names (``felder.csv``),
and a ZIP of the files that make one layer.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable
from pathlib import Path

from app.db.queries.exports import ExportColumn
from app.domain.shapefile_names import MAX_NAME, short_name, short_names

__all__ = ["MAX_NAME", "short_name", "short_names"]

#: The files of one Shapefile layer, by extension (``.cpg`` names the text encoding).
LAYER_SUFFIXES = (".shp", ".shx", ".dbf", ".prj", ".cpg")

#: Name of the mapping file in the ZIP.
MAPPING_FILE = "felder.csv"
#: Name of the notes (synthetic data, attribution, CRS) in the ZIP.
NOTES_FILE = "hinweise.txt"


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
