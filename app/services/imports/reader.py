"""Opening an import file with GDAL (pyogrio): which format, layer and CRS, and its rows in
chunks as Arrow record batches, so memory stays bounded however large the file is.

Formats: GeoPackage, zipped Shapefile, GeoJSON, FlatGeobuf (geometry from the file, CRS
as the file declares it), CSV and XLSX (every cell read as text; the geometry from a WKT
column or lon/lat columns, built in PostGIS). A CRS the file declares is identified with
pyproj (EPSG:25832, 25833, 4326, 31468 Gauss-Krüger zone 4 and any other with an EPSG
code); a file without one needs the ``crs`` option, except lon/lat columns (EPSG:4326).

Problems name the field ``file`` (or ``crs``/``layer``) and are raised as
:class:`~app.domain.errors.InvalidInput` (422) before any row is staged.
"""

from __future__ import annotations

import csv
import io
import warnings
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyogrio
import pyogrio.raw
from pyproj import CRS
from pyproj.exceptions import CRSError

from app.domain.errors import InvalidInput

#: Formats by file-name ending, with the GDAL driver that reads them.
FORMATS: dict[str, tuple[str, str]] = {
    ".gpkg": ("gpkg", "GPKG"),
    ".zip": ("shp.zip", "ESRI Shapefile"),
    ".shz": ("shp.zip", "ESRI Shapefile"),
    ".geojson": ("geojson", "GeoJSON"),
    ".json": ("geojson", "GeoJSON"),
    ".fgb": ("fgb", "FlatGeobuf"),
    ".csv": ("csv", "CSV"),
    ".txt": ("csv", "CSV"),
    ".xlsx": ("xlsx", "XLSX"),
}
#: Formats whose geometry is read from text columns (WKT or lon/lat).
TABLE_FORMATS = frozenset({"csv", "xlsx"})

#: Every cell of a CSV or XLSX file as text (the import types and checks them itself).
_TABLE_OPTIONS: dict[str, dict[str, str]] = {
    "csv": {"AUTODETECT_TYPE": "NO", "EMPTY_STRING_AS_NULL": "YES", "HEADERS": "YES"},
    "xlsx": {"FIELD_TYPES": "STRING", "HEADERS": "FORCE"},
}


@dataclass(frozen=True)
class ImportSource:
    """An opened import file: what GDAL reads and what the import needs to know of it."""

    path: Path
    file_name: str
    format: str
    gdal_path: str
    layer: str | None
    srid: int | None
    columns: tuple[str, ...]
    total: int | None
    #: file column → field name from a ``felder.csv`` of a GEFIS Shapefile export
    mapping: dict[str, str] = field(default_factory=dict)
    open_options: dict[str, str] = field(default_factory=dict)

    @property
    def has_geometry(self) -> bool:
        """Whether GDAL reads a geometry of the file itself (not from text columns)."""
        return self.format not in TABLE_FORMATS


def _format_of(file_name: str) -> tuple[str, str]:
    suffix = Path(file_name).suffix.lower()
    if suffix not in FORMATS:
        known = ", ".join(sorted({name for name, _ in FORMATS.values()}))
        raise InvalidInput.for_field(
            "file", f"Dateiformat '{suffix or file_name}' wird nicht unterstützt (möglich: "
            f"{known})", "unsupported_format")
    return FORMATS[suffix]


def _zip_member(path: Path) -> tuple[str, dict[str, str]]:
    """The Shapefile inside a ZIP (GDAL path) and the mapping of a ``felder.csv`` beside it."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            shapes = [n for n in names if n.lower().endswith(".shp")]
            mapping_files = [n for n in names if Path(n).name.lower() == "felder.csv"]
            mapping = _felder(archive.read(mapping_files[0])) if mapping_files else {}
    except zipfile.BadZipFile:
        raise InvalidInput.for_field("file", "Die Datei ist kein gültiges ZIP-Archiv",
                                     "unreadable") from None
    if len(shapes) != 1:
        raise InvalidInput.for_field(
            "file", f"Das ZIP-Archiv muss genau eine Shapefile (.shp) enthalten, enthält "
            f"{len(shapes)}", "unreadable")
    return f"/vsizip/{path}/{shapes[0]}", mapping


def _felder(content: bytes) -> dict[str, str]:
    rows = csv.DictReader(io.StringIO(content.decode("utf-8-sig")))
    return {r["kurzname"]: r["feldname"] for r in rows if r.get("kurzname") and r.get("feldname")}


def srid_of(crs: str | None) -> int | None:
    """The EPSG code of a CRS as GDAL reports it (``EPSG:25832`` or WKT); None if none.

    >>> srid_of("EPSG:31468"), srid_of(None)
    (31468, None)
    """
    if not crs:
        return None
    try:
        code = CRS.from_user_input(crs).to_epsg(min_confidence=70)
    except CRSError:
        code = None
    if code is None:
        raise InvalidInput.for_field(
            "crs", "Das Koordinatensystem der Datei hat keinen EPSG-Code; bitte mit "
            "crs=EPSG:<Code> angeben", "unknown_crs")
    return int(code)


def open_source(path: Path, file_name: str, *, layer: str | None = None,
                crs_srid: int | None = None) -> ImportSource:
    """Identify ``path`` (uploaded as ``file_name``): format, layer, CRS, columns, count.

    ``crs_srid`` is the CRS the caller names; it is needed when the file declares none and
    must agree with the file's when it declares one.
    """
    fmt, driver = _format_of(file_name)
    gdal_path, mapping = (_zip_member(path) if fmt == "shp.zip" else (str(path), {}))
    options = _TABLE_OPTIONS.get(fmt, {})
    try:
        layers = [name for name, _ in pyogrio.list_layers(gdal_path)]
    except Exception as error:  # GDAL's errors have no common base worth naming here
        raise InvalidInput.for_field("file", f"Die Datei lässt sich nicht als {driver} "
                                     f"lesen: {error}", "unreadable") from None
    if layer is not None and layer not in layers:
        raise InvalidInput.for_field("layer", f"Ebene '{layer}' fehlt; vorhanden: "
                                     f"{', '.join(layers)}", "unknown_layer")
    chosen = layer or (layers[0] if layers else None)
    if chosen is None:
        raise InvalidInput.for_field("file", "Die Datei enthält keine Ebene", "unreadable")
    try:
        info = pyogrio.read_info(gdal_path, layer=chosen, **_open_kw(options))
    except Exception as error:
        raise InvalidInput.for_field("file", f"Die Datei lässt sich nicht lesen: {error}",
                                     "unreadable") from None
    declared = srid_of(info.get("crs")) if fmt not in TABLE_FORMATS else None
    if declared is not None and crs_srid is not None and declared != crs_srid:
        raise InvalidInput.for_field(
            "crs", f"Die Datei ist in EPSG:{declared} angelegt, angegeben wurde "
            f"EPSG:{crs_srid}", "crs_mismatch")
    count = info.get("features")
    return ImportSource(
        path=path, file_name=file_name, format=fmt, gdal_path=gdal_path, layer=chosen,
        srid=declared or crs_srid, columns=tuple(str(c) for c in info["fields"]),
        total=int(count) if count is not None and count >= 0 else None, mapping=mapping,
        open_options=options)


def _open_kw(options: dict[str, str]) -> dict[str, Any]:
    return {k.lower(): v for k, v in options.items()}


@contextmanager
def record_batches(source: ImportSource, batch_rows: int) -> Iterator[
        tuple[str | None, Iterator[pa.RecordBatch]]]:
    """The rows of ``source`` in batches of ``batch_rows``, and the geometry column's name
    (WKB; ``None`` for CSV and XLSX)."""
    with warnings.catch_warnings(), pyogrio.raw.open_arrow(
            source.gdal_path, layer=source.layer, batch_size=batch_rows, use_pyarrow=True,
            **_open_kw(source.open_options)) as (meta, reader):
        # GDAL's CSV driver also reads a column WKT as geometry and warns of a cell it cannot
        # read; the import reads that column as text and reports such a cell itself
        warnings.filterwarnings("ignore", "Ignoring invalid WKT", RuntimeWarning)
        geometry = (meta.get("geometry_name") or "wkb_geometry") if source.has_geometry \
            else None
        yield geometry, iter(reader)
