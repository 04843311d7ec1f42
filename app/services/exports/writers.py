"""Writing a layer's record batches into a file of each format, with GDAL (pyogrio).

GDAL reads the Arrow stream batch by batch (``pyogrio.raw.write_arrow``: one open dataset,
one transaction per batch), so memory stays bounded, except in XLSX, whose driver builds the
workbook in memory. What differs per format:

- **GeoPackage**: several layers in one file; each layer's title and description (synthetic
  demo data, the BKG attribution) in ``gpkg_contents``, each field's description and unit in
  ``gpkg_data_columns``.
- **FlatGeobuf**: title and description in the header; rows in the order of its spatial index.
- **Shapefile**: field names of at most 10 characters (:mod:`.shapefile`), text fields as
  wide as their longest value (asked of the database before writing) up to dBASE's 254
  bytes, longer text cut and marked "…"; UTF-8 named in ``.cpg``, the CRS in ``.prj``,
  timestamps as ISO 8601 text; zipped with ``felder.csv`` and ``hinweise.txt``.
- **CSV**: the geometry as WKT in the first column ``WKT``; dates and timestamps ISO 8601,
  booleans ``true``/``false``.
- **XLSX**: the geometry as WKT text in a last column ``WKT`` (empty where the text exceeds a
  cell's 32,767 characters, e.g. whole district boundaries), sheets ``felder`` (field
  descriptions) and ``hinweise`` (notes) after the data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyogrio.raw
import shapely

from app.db.queries.exports import GEOMETRY_COLUMN, ExportColumn
from app.domain.crs import coordinate_decimals
from app.services.exports.formats import FORMATS, ExportFormat
from app.services.exports.layers import ExportLayer
from app.services.exports.rows import arrow_schema
from app.services.exports.shapefile import mapping_csv, short_names, zip_layer
from app.services.render.html import BOUNDARY_ATTRIBUTION, SYNTHETIC_LABEL

#: Most characters of one XLSX cell.
XLSX_CELL_CHARS = 32_767

#: Widest text field of a Shapefile, bytes (dBASE's maximum).
DBF_TEXT_WIDTH = 254

#: A timestamp as text in Shapefiles and CSV (UTC, microseconds).
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
TIMESTAMP_TEXT = "2026-12-01T09:30:00.000000Z"

#: What a Shapefile cannot hold, said in its ``hinweise.txt``.
SHAPEFILE_NOTE = ("Shapefile: Feldnamen höchstens 10 Zeichen (Zuordnung in felder.csv); "
                  "Texte über 254 Byte sind gekürzt und enden mit „…“; Zeitstempel als Text "
                  "(ISO 8601, UTC).")

#: The WKT column of CSV (GDAL's name) and XLSX files.
WKT_COLUMN = "WKT"

def notes(layers: Iterable[ExportLayer], srid: int, day: date) -> list[str]:
    """What a reader of the file should know, in German, one line each."""
    names = ", ".join(f"{layer.title} ({layer.name})" for layer in layers)
    return [f"GEFIS-MD-Export vom {day.strftime('%d.%m.%Y')}: {names}.",
            f"Koordinatenreferenzsystem: EPSG:{srid}.",
            SYNTHETIC_LABEL, BOUNDARY_ATTRIBUTION]


def _comment(column: ExportColumn) -> str:
    return column.description + (f" ({column.unit})" if column.unit else "")


def _schema_with_comments(columns: tuple[ExportColumn, ...]) -> pa.Schema:
    """The batches' schema, each field with its description for GDAL (``gpkg_data_columns``)."""
    schema = arrow_schema(columns)
    fields = [f.with_metadata({"GDAL:OGR:comment": _comment(c)})
              for f, c in zip(schema, columns, strict=False)]
    return pa.schema([*fields, schema.field(GEOMETRY_COLUMN)])


def _as_text(values: pa.Array) -> pa.Array:
    """Dates, timestamps (UTC) and booleans as ISO 8601 / ``true``/``false`` text."""
    if pa.types.is_timestamp(values.type):
        return pc.strftime(values, format=TIMESTAMP_FORMAT)
    if pa.types.is_date(values.type):
        return pc.cast(values, pa.string())
    if pa.types.is_boolean(values.type):
        return pc.if_else(values, "true", "false")
    return values


def _texts(schema: pa.Schema, kinds: Callable[[pa.DataType], bool]) -> pa.Schema:
    return pa.schema([pa.field(f.name, pa.string(), metadata=f.metadata) if kinds(f.type)
                      else f for f in schema])


def _csv_text(kind: pa.DataType) -> bool:
    """Whether CSV gets values of ``kind`` as text of ours (:func:`_as_text`)."""
    return pa.types.is_timestamp(kind) or pa.types.is_date(kind) or pa.types.is_boolean(kind)


def _retyped(batches: Iterator[pa.RecordBatch], schema: pa.Schema,
             change: Callable[[pa.Array], pa.Array]) -> pa.RecordBatchReader:
    def out() -> Iterator[pa.RecordBatch]:
        for batch in batches:
            yield pa.RecordBatch.from_arrays([change(c) for c in batch.columns], schema=schema)
    return pa.RecordBatchReader.from_batches(schema, out())


def _write(path: Path, fmt: ExportFormat, name: str, stream: pa.RecordBatchReader, *,
           srid: int | None = None, geometry_type: str | None = None,
           metadata: dict[str, str] | None = None,
           layer_options: dict[str, str] | None = None) -> None:
    """Layer ``name`` of ``stream`` into ``path`` (added when the file exists); with a
    geometry (WKB in :data:`GEOMETRY_COLUMN`) when ``srid`` is given."""
    pyogrio.raw.write_arrow(
        stream, str(path), layer=name, driver=fmt.driver,
        geometry_name=GEOMETRY_COLUMN if srid is not None else None,
        geometry_type=geometry_type if srid is not None else None,
        crs=f"EPSG:{srid}" if srid is not None else None,
        dataset_options=fmt.dataset_options or None,
        layer_options={**fmt.layer_options, **(layer_options or {})} or None,
        layer_metadata=metadata)


def write_gpkg(path: Path, layer: ExportLayer, batches: Iterator[pa.RecordBatch], srid: int,
               lines: list[str]) -> None:
    """Add ``layer`` to the GeoPackage ``path`` (created by the first layer)."""
    schema = _schema_with_comments(layer.query.columns)
    stream = _retyped(batches, schema, lambda values: values)
    _write(path, FORMATS["gpkg"], layer.name, stream, srid=srid,
           geometry_type=layer.geometry_type, metadata={
               "IDENTIFIER": layer.title, "DESCRIPTION": " ".join([layer.description, *lines])})


def write_fgb(path: Path, layer: ExportLayer, batches: Iterator[pa.RecordBatch], srid: int,
              lines: list[str]) -> None:
    """``layer`` as a FlatGeobuf file (with a spatial index)."""
    stream = pa.RecordBatchReader.from_batches(arrow_schema(layer.query.columns), batches)
    _write(path, FORMATS["fgb"], layer.name, stream, srid=srid,
           geometry_type=layer.geometry_type, layer_options={
               "TITLE": layer.title, "DESCRIPTION": " ".join([layer.description, *lines])})


def write_csv(path: Path, layer: ExportLayer, batches: Iterator[pa.RecordBatch], srid: int,
              lines: list[str]) -> None:
    """``layer`` as CSV with the geometry as WKT."""
    del lines  # CSV has no place for them
    schema = _texts(arrow_schema(layer.query.columns), _csv_text)
    _write(path, FORMATS["csv"], layer.name, _retyped(batches, schema, _as_text), srid=srid,
           geometry_type=layer.geometry_type)


def write_shapefile(path: Path, layer: ExportLayer, batches: Iterator[pa.RecordBatch],
                    srid: int, lines: list[str]) -> None:
    """``layer`` as a zipped Shapefile with ``felder.csv`` and ``hinweise.txt``."""
    columns = layer.query.columns
    shorts = short_names(c.name for c in columns)
    widths = layer.text_widths or {}
    base = arrow_schema(columns)
    fields = []
    for f, short in zip(base, shorts, strict=False):
        if pa.types.is_timestamp(f.type):
            width = len(TIMESTAMP_TEXT)
        elif pa.types.is_string(f.type):
            width = min(max(widths.get(f.name, DBF_TEXT_WIDTH), 1), DBF_TEXT_WIDTH)
        else:
            fields.append(pa.field(short, f.type))
            continue
        fields.append(pa.field(short, pa.string(), metadata={"GDAL:OGR:width": str(width)}))
    schema = pa.schema([*fields, base.field(GEOMETRY_COLUMN)])

    def change(values: pa.Array) -> pa.Array:
        if pa.types.is_timestamp(values.type):
            return _as_text(values)
        return _fitted(values) if pa.types.is_string(values.type) else values

    folder = path.parent / "shp"
    folder.mkdir()
    _write(folder / f"{layer.name}.shp", FORMATS["shp.zip"], layer.name,
           _retyped(batches, schema, change), srid=srid, geometry_type=layer.geometry_type)
    zip_layer(folder, layer.name, path, mapping=mapping_csv(columns, shorts),
              notes="\r\n".join([*lines, SHAPEFILE_NOTE]) + "\r\n")


def _fitted(values: pa.Array) -> pa.Array:
    """Text longer than a dBASE field holds (254 bytes of UTF-8) cut at a character and
    marked with "…"; other values as they are."""
    lengths = pc.binary_length(values)
    if (pc.max(lengths).as_py() or 0) <= DBF_TEXT_WIDTH:
        return values
    room = DBF_TEXT_WIDTH - len("…".encode())
    return pa.array([
        text if text is None or len(text.encode()) <= DBF_TEXT_WIDTH
        else text.encode()[:room].decode(errors="ignore") + "…"
        for text in values.to_pylist()], pa.string())


def _wkt(values: pa.Array, decimals: int) -> pa.Array:
    """WKB → WKT with ``decimals`` decimals; NULL where a cell could not hold the text."""
    texts = shapely.to_wkt(shapely.from_wkb(values.to_numpy(zero_copy_only=False)),
                           rounding_precision=decimals, trim=True)
    return pa.array([t if t is not None and len(t) <= XLSX_CELL_CHARS else None
                     for t in texts], pa.string())


def write_xlsx(path: Path, layer: ExportLayer, batches: Iterator[pa.RecordBatch], srid: int,
               lines: list[str]) -> None:
    """``layer`` as a workbook: the rows with a WKT column, then ``felder`` and ``hinweise``."""
    columns = layer.query.columns
    base = arrow_schema(columns)
    schema = pa.schema([*list(base)[:-1], pa.field(WKT_COLUMN, pa.string())])
    decimals = coordinate_decimals(srid)

    def out() -> Iterator[pa.RecordBatch]:
        for batch in batches:
            values = [*batch.columns[:-1], _wkt(batch.column(len(batch.columns) - 1), decimals)]
            yield pa.RecordBatch.from_arrays(values, schema=schema)

    fmt = FORMATS["xlsx"]
    _write(path, fmt, layer.name, pa.RecordBatchReader.from_batches(schema, out()))
    fields = pa.table({
        "feldname": [c.name for c in columns] + [WKT_COLUMN],
        "beschreibung": [c.description for c in columns]
        + [f"Geometrie als WKT in EPSG:{srid}"],
        "einheit": [c.unit or "" for c in columns] + [""]})
    hints = pa.table({"hinweis": lines})
    for name, table in (("felder", fields), ("hinweise", hints)):
        _write(path, fmt, name, pa.RecordBatchReader.from_batches(table.schema,
                                                                  table.to_batches()))


#: The writer of each format.
WRITERS: dict[str, Callable[[Path, ExportLayer, Iterator[pa.RecordBatch], int, list[str]],
                            None]] = {
    "gpkg": write_gpkg, "fgb": write_fgb, "shp.zip": write_shapefile, "csv": write_csv,
    "xlsx": write_xlsx,
}
