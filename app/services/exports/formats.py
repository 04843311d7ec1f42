"""The file formats of exports and how an export is named in a URL (``parcels,sites.gpkg``).

Every format is written by GDAL through pyogrio (:mod:`app.services.exports.writers`); this
module only says which driver, which options, which media type, and what each format can
hold (several layers, a geometry, how many rows).

>>> layers, fmt = parse_export_name("parcels,sites.gpkg")
>>> layers, fmt.key, fmt.media_type
(('parcels', 'sites'), 'gpkg', 'application/geopackage+sqlite3')
>>> parse_export_name("parcels.zip")[1].key
'shp.zip'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from app.domain.errors import BadRequest, NotFound

#: Rows a worksheet holds besides its header row (Excel's limit).
XLSX_MAX_ROWS = 1_048_575


@dataclass(frozen=True)
class ExportFormat:
    """One file format: its key in URLs and on the command line, GDAL driver, media type."""

    key: str
    driver: str
    media_type: str
    title: str
    #: several layers in one file
    multi_layer: bool = False
    #: the format stores a geometry (else a WKT text column is written)
    geometry: bool = True
    #: most data rows per layer the format holds (``None``: no limit of its own)
    max_rows: int | None = None
    dataset_options: dict[str, str] = field(default_factory=dict)
    layer_options: dict[str, str] = field(default_factory=dict)

    @property
    def suffix(self) -> str:
        """The file name's extension, with its dot."""
        return "." + self.key


#: The formats, by key, in the order they are listed.
FORMATS: dict[str, ExportFormat] = {f.key: f for f in (
    # GeoPackage 1.2: older GDAL (Debian's 3.6, QGIS LTR builds) warns about 1.4 files
    ExportFormat("gpkg", "GPKG", "application/geopackage+sqlite3", "GeoPackage",
                 multi_layer=True, dataset_options={"VERSION": "1.2"}),
    ExportFormat("fgb", "FlatGeobuf", "application/flatgeobuf", "FlatGeobuf"),
    ExportFormat("shp.zip", "ESRI Shapefile", "application/zip", "Shapefile (ZIP)",
                 layer_options={"ENCODING": "UTF-8"}),
    ExportFormat("csv", "CSV", "text/csv; charset=utf-8", "CSV (Geometrie als WKT)",
                 layer_options={"GEOMETRY": "AS_WKT"}),
    ExportFormat("xlsx", "XLSX",
                 "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                 "Excel-Arbeitsmappe (Geometrie als WKT)", geometry=False,
                 max_rows=XLSX_MAX_ROWS),
)}

#: Other spellings of a format's key.
ALIASES = {"zip": "shp.zip"}

_LAYER = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


def parse_format(key: str) -> ExportFormat:
    """The format ``key`` names (404 naming ``format`` for an unknown one)."""
    found = FORMATS.get(ALIASES.get(key, key))
    if found is None:
        raise NotFound.for_field(
            "format", f"unknown export format {key!r}; formats: {', '.join(FORMATS)}",
            "unknown_format")
    return found


def parse_export_name(name: str) -> tuple[tuple[str, ...], ExportFormat]:
    """``<layer>[,<layer>…].<format>`` → the layers and the format.

    Several layers only where the format holds several (GeoPackage), each at most once.
    """
    head, dot, key = name.partition(".")
    if not dot or not key:
        raise NotFound.for_field(
            "format", f"{name!r} names no format; use <layer>.<format> with a format of "
            f"{', '.join(FORMATS)}", "unknown_format")
    fmt = parse_format(key)
    layers = tuple(head.split(","))
    if not all(_LAYER.fullmatch(layer) for layer in layers):
        raise BadRequest.for_field("layer", f"{head!r} is no list of layer names "
                                   "(comma-separated, no spaces)", "layer")
    if len(set(layers)) != len(layers):
        raise BadRequest.for_field("layer", "a layer is named twice", "layer")
    if len(layers) > 1 and not fmt.multi_layer:
        multi = ", ".join(f.key for f in FORMATS.values() if f.multi_layer)
        raise BadRequest.for_field(
            "layer", f"{fmt.title} holds one layer; several layers need {multi}",
            "single_layer_format")
    return layers, fmt


def file_name(layers: tuple[str, ...], fmt: ExportFormat, day: date) -> str:
    """The name an export is offered under.

    >>> file_name(("parcels",), FORMATS["shp.zip"], date(2026, 12, 1))
    'gefis_parcels_2026-12-01.shp.zip'
    """
    return f"gefis_{'_'.join(layers)}_{day.isoformat()}{fmt.suffix}"
