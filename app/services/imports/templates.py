"""Empty import templates: a GeoPackage, CSV or XLSX file with every column an import reads.

The GeoPackage has one empty layer in EPSG:25832 with typed columns (lists as text, codes
separated by ``;``); the CSV has the header line with a ``WKT`` column first; the workbook
has the header row on its first sheet and, on a sheet ``felder``, every column with its
type, unit, whether a new row needs it, its codes and the German names accepted for it.
"""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

import pyarrow as pa
from openpyxl import Workbook
from pyogrio.raw import write_arrow

from app.domain.errors import NotFound
from app.domain.import_columns import SPECS, ImportColumn, ImportSpec
from app.domain.parcel_fields import FieldType

MEDIA_TYPES = {
    "gpkg": "application/geopackage+sqlite3",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
_ARROW = {FieldType.INTEGER: pa.int64(), FieldType.NUMBER: pa.float64(),
          FieldType.BOOLEAN: pa.bool_(), FieldType.DATE: pa.date32()}
_TYPE_DE = {FieldType.INTEGER: "ganze Zahl", FieldType.NUMBER: "Zahl",
            FieldType.BOOLEAN: "ja/nein", FieldType.DATE: "Datum (JJJJ-MM-TT)",
            FieldType.STRINGS: "Liste (Codes durch ; getrennt)"}


def template_names() -> list[str]:
    """``parcels.gpkg``, ``parcels.csv``, … for every import kind and template format."""
    return [f"{kind}.{fmt}" for kind in SPECS for fmt in MEDIA_TYPES]


def _spec_of(name: str) -> tuple[ImportSpec, str]:
    kind, _, fmt = name.partition(".")
    if kind not in SPECS or fmt not in MEDIA_TYPES:
        raise NotFound(f"no template {name!r}; available: {', '.join(template_names())}")
    return SPECS[kind], fmt


def _gpkg(spec: ImportSpec) -> bytes:
    fields = [pa.field(c.name, _ARROW.get(c.type, pa.string())) for c in spec.columns]
    schema = pa.schema([*fields, pa.field("geometry", pa.binary(),
                                          metadata={"ARROW:extension:name": "geoarrow.wkb"})])
    table = pa.Table.from_pylist([], schema=schema)
    with tempfile.TemporaryDirectory(prefix="gefis-template-") as folder:
        path = Path(folder) / f"{spec.kind}.gpkg"
        write_arrow(table, path, layer=spec.kind, driver="GPKG", geometry_name="geometry",
                    geometry_type="MultiPolygon" if spec.kind == "parcels" else "Point",
                    crs="EPSG:25832", layer_options={"DESCRIPTION": "GEFIS-MD Importvorlage"})
        return path.read_bytes()


def _csv(spec: ImportSpec) -> bytes:
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\r\n").writerow(["WKT", *(c.name for c in spec.columns)])
    return out.getvalue().encode("utf-8")


def _row(c: ImportColumn) -> list[str]:
    codes = ", ".join(c.vocabulary.codes) if c.vocabulary else ""
    return [c.name, _TYPE_DE.get(c.type, "Text"), "ja" if c.required else "", codes,
            ", ".join(c.aliases)]


def _xlsx(spec: ImportSpec) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = spec.kind
    sheet.append(["WKT", *(c.name for c in spec.columns)])
    fields = book.create_sheet("felder")
    fields.append(["Spalte", "Typ", "Pflicht (neue Zeile)", "Codes", "auch akzeptiert"])
    fields.append(["WKT", "Geometrie als WKT (oder Spalten lon/lat)", "ja", "", "geometry"])
    for c in spec.columns:
        fields.append(_row(c))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def template(name: str) -> tuple[bytes, str]:
    """The template ``name`` (e.g. ``parcels.xlsx``) and its media type; 404 if unknown."""
    spec, fmt = _spec_of(name)
    content = {"gpkg": _gpkg, "csv": _csv, "xlsx": _xlsx}[fmt](spec)
    return content, MEDIA_TYPES[fmt]
