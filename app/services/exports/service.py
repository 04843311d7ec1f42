"""Exports: filtered layers as GIS files, for the API and the command line alike.

:func:`prepare_export` resolves the layers for a viewer (404 for a layer it may not see),
counts their rows (413 above ``GEFIS_EXPORT_MAX_FEATURES`` or what the format holds) and
raises the statement timeout of the transaction; :func:`write_export` writes the file into
a folder of its own and returns its path. Both are synchronous (database and GDAL work): the
API runs them in a worker thread, never on the event loop.

The CRS of a file is an EPSG code. Files store longitude before latitude whatever the CRS's
axis order (as GIS files do), so CRS84 and EPSG:4326 give the same file, labelled
EPSG:4326. The default is the storage CRS, EPSG:25832.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from app.db.queries.exports import count_rows, raise_statement_timeout, text_widths
from app.domain.crs import OgcCrs, parse_ogc_crs
from app.domain.errors import ExportTooLarge
from app.domain.filters import ParcelFilter
from app.domain.ogc_params import TimeInterval
from app.domain.roles import Viewer
from app.services.exports.formats import ExportFormat, file_name
from app.services.exports.layers import ExportLayer, export_layers
from app.services.exports.rows import RowStream
from app.services.exports.writers import WRITERS, notes
from app.services.ogc.items import ItemsRequest
from app.settings import Settings

#: The CRS of an export when none is asked for: the storage CRS.
DEFAULT_CRS = "EPSG:25832"


def export_crs(text: str | None) -> OgcCrs:
    """The CRS a ``crs`` value names (EPSG code, ``EPSG:n``, OGC URI or CRS84), default
    EPSG:25832; 400 naming ``crs`` for any other.

    >>> export_crs(None).srid, export_crs("CRS84").srid, export_crs("EPSG:3857").srid
    (25832, 4326, 3857)
    """
    return parse_ogc_crs(DEFAULT_CRS if text is None else text, field="crs")


@dataclass(frozen=True)
class ExportRequest:
    """What to export: layers, format, CRS and the selection (values already read)."""

    layers: tuple[str, ...]
    format: ExportFormat
    crs: OgcCrs = field(default_factory=lambda: export_crs(None))
    #: the registry's filter (parcels only)
    parcel_filter: ParcelFilter | None = None
    bbox: tuple[float, float, float, float] | None = None
    bbox_crs: OgcCrs | None = None
    datetime: TimeInterval | None = None
    #: a CQL2 filter (JSON tree), one layer only
    filter: dict[str, Any] | None = None
    filter_crs: OgcCrs | None = None

    def items_request(self) -> ItemsRequest:
        """The OGC items request selecting the same features (CRS84 default for the
        ``bbox`` and ``filter`` CRSs, as the items have)."""
        extra: dict[str, Any] = {}
        if self.bbox_crs is not None:
            extra["bbox_crs"] = self.bbox_crs
        if self.filter_crs is not None:
            extra["filter_crs"] = self.filter_crs
        return ItemsRequest(limit=1, bbox=self.bbox, datetime=self.datetime,
                            filter=self.filter, parcel_filter=self.parcel_filter, **extra)


@dataclass(frozen=True)
class PreparedExport:
    """An export ready to be written: its layers with their row counts."""

    request: ExportRequest
    layers: tuple[ExportLayer, ...]
    counts: tuple[int, ...]
    day: date

    @property
    def total(self) -> int:
        """Rows of all layers."""
        return sum(self.counts)

    @property
    def file_name(self) -> str:
        """The name the file is offered under (``gefis_parcels_2026-12-01.gpkg``)."""
        return file_name(self.request.layers, self.request.format, self.day)


def prepare_export(conn: Connection, request: ExportRequest, viewer: Viewer,
                   settings: Settings, day: date) -> PreparedExport:
    """Resolve and count ``request`` for ``viewer`` on ``day`` (see the module docstring)."""
    raise_statement_timeout(conn)
    layers = export_layers(conn, request.layers, request.items_request(), viewer, settings,
                           day)
    counts = tuple(count_rows(conn, layer.query) for layer in layers)
    limit = settings.export_max_features
    if sum(counts) > limit:
        raise ExportTooLarge.for_field(
            "layer", f"the export would hold {sum(counts):,} features, more than "
            f"{limit:,} (GEFIS_EXPORT_MAX_FEATURES); narrow it with a filter or bbox",
            "too_many_features")
    most = request.format.max_rows
    if most is not None and max(counts, default=0) > most:
        raise ExportTooLarge.for_field(
            "layer", f"{request.format.title} holds at most {most:,} rows per layer, the "
            f"export would have {max(counts):,}; narrow it or choose another format",
            "too_many_rows")
    if request.format.key == "shp.zip":  # dBASE fields have fixed widths
        layers = tuple(replace(layer, text_widths=text_widths(conn, layer.query))
                       for layer in layers)
    return PreparedExport(request, layers, counts, day)


def write_export(conn: Connection, prepared: PreparedExport, folder: Path,
                 progress: Callable[[int], None] | None = None) -> Path:
    """Write ``prepared`` into ``folder`` (empty, the caller's to remove) and return the
    file's path; ``progress`` is called with the rows of each batch written."""
    request = prepared.request
    srid = request.crs.srid
    path = folder / prepared.file_name
    lines = notes(prepared.layers, srid, prepared.day)
    write = WRITERS[request.format.key]
    for layer in prepared.layers:
        rows = RowStream(conn, layer.query, srid, progress)
        try:
            write(path, layer, rows, srid, lines)
        except Exception as exc:
            if rows.error is not None:  # the database's error, not GDAL's report of it
                raise rows.error from exc
            raise
        finally:
            rows.close()
    return path
