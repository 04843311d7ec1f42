"""``GET /api/v1/exports/{layer}.{format}``: filtered layers as GIS files (HTTP only).

The file is written by :mod:`app.services.exports` into a folder of its own under
``GEFIS_EXPORT_DIR`` (default: the system's temporary directory) while the handler runs in a
worker thread, then streamed in chunks; the folder is removed once the body has been sent,
also when the client went away. The read connection is given back when the file is written
(``scope="function"``), not held while a slow client downloads.

Parameters select what the OGC items of the same collection would (``bbox``, ``bbox-crs``,
``datetime``, ``filter``, ``filter-lang``, ``filter-crs``), plus the registry's filters for
parcels; ``crs`` chooses the file's CRS (default EPSG:25832, the storage CRS).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Query
from fastapi import Path as PathParam
from fastapi.responses import Response
from sqlalchemy import Connection

from app.api.auth import OPTIONAL_API_KEY, PrincipalDep
from app.api.connections import get_read_connection
from app.api.deps import SettingsDep
from app.api.ogc.params import CqlFilter, CqlFilterDep
from app.api.parcel_params import LayerFilterDep
from app.api.responses import PROBLEM_RESPONSES
from app.api.streaming import CleanupStreamingResponse
from app.domain.clock import today
from app.domain.crs import crs_uri, ogc_crs_list, parse_ogc_crs
from app.domain.filters import ParcelFilter
from app.domain.ogc_params import parse_bbox, parse_datetime
from app.services.exports.formats import FORMATS, parse_export_name
from app.services.exports.layers import EXPORT_LAYERS
from app.services.exports.service import (
    DEFAULT_CRS,
    ExportRequest,
    export_crs,
    prepare_export,
    write_export,
)

router = APIRouter(prefix="/api/v1", tags=["Export"])

#: Bytes sent per chunk of the body.
CHUNK_BYTES = 1 << 20

#: The read connection, closed when the handler returns (the file is written by then).
ExportConnDep = Annotated[Connection, Depends(get_read_connection, scope="function")]

_NAME_PATTERN = (rf"^(?:{'|'.join(EXPORT_LAYERS)})(?:,(?:{'|'.join(EXPORT_LAYERS)}))*"
                 rf"\.(?:{'|'.join(k.replace('.', '[.]') for k in FORMATS)}|zip)$")

ExportName = Annotated[str, PathParam(
    description="Layer and format: `<layer>.<format>` with a layer of "
                f"{', '.join(EXPORT_LAYERS)} (land_sales: staff only) and a format of "
                f"{', '.join(FORMATS)} (`zip` = `shp.zip`); several layers, comma-separated, "
                "in one GeoPackage (`parcels,sites,districts.gpkg`)",
    json_schema_extra={"pattern": _NAME_PATTERN})]

_CRS_NAMES = list(dict.fromkeys([DEFAULT_CRS, "CRS84", *(
    name for c in ogc_crs_list() for name in (f"EPSG:{c.srid}", crs_uri(c.srid), c.uri))]))

_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "The file (as attachment)",
          "content": {fmt.media_type: {"schema": {"type": "string", "format": "binary"}}
                      for fmt in FORMATS.values()},
          "headers": {"Content-Disposition": {"schema": {"type": "string"}},
                      "Content-Crs": {"schema": {"type": "string"}}}},
    413: {"description": "More features than one export may hold",
          "content": {"application/problem+json": {}}},
    **PROBLEM_RESPONSES,
}


@dataclass(frozen=True)
class ExportOptions:
    """The query parameters every layer takes (the parcel filter comes separately)."""

    crs: str | None
    bbox: str | None
    bbox_crs: str | None
    datetime: str | None
    cql: CqlFilter


async def export_options(
    cql: CqlFilterDep,
    crs: Annotated[str | None, Query(
        description="CRS of the file: EPSG:25832 (default, the storage CRS), EPSG:25833, "
                    "EPSG:4326 (also CRS84; longitude first in the file, as GIS files "
                    "store it), EPSG:3857, EPSG:31468; as EPSG:n, n or an OGC URI",
        json_schema_extra={"enum": _CRS_NAMES})] = None,
    bbox: Annotated[str | None, Query(
        description="minx,miny,maxx,maxy in bbox-crs (default CRS84): features "
                    "intersecting it")] = None,
    bbox_crs: Annotated[str | None, Query(
        alias="bbox-crs", description="CRS of bbox (default CRS84)",
        json_schema_extra={"enum": [c.uri for c in ogc_crs_list()]})] = None,
    datetime: Annotated[str | None, Query(
        description="Instant or interval (RFC 3339, '..' for an open end) on the layer's "
                    "temporal property (parcels, sites: updated_at; land_sales: "
                    "sale_date)")] = None,
) -> ExportOptions:
    """The parameters as sent (read by :func:`export_request`)."""
    return ExportOptions(crs, bbox, bbox_crs, datetime, cql)


ExportOptionsDep = Annotated[ExportOptions, Depends(export_options)]


def export_request(name: str, options: ExportOptions,
                   parcel_filter: ParcelFilter) -> ExportRequest:
    """The export ``name`` asks for with ``options``: 404 naming ``format`` or ``layer``
    for an unknown one, 400/422 naming the parameter for a bad value."""
    layers, fmt = parse_export_name(name)
    return ExportRequest(
        layers, fmt, export_crs(options.crs), parcel_filter=parcel_filter,
        bbox=None if options.bbox is None else parse_bbox(options.bbox),
        bbox_crs=None if options.bbox_crs is None
        else parse_ogc_crs(options.bbox_crs, field="bbox-crs"),
        datetime=None if options.datetime is None else parse_datetime(options.datetime),
        filter=options.cql.tree, filter_crs=options.cql.crs)


class ExportFileResponse(CleanupStreamingResponse):
    """A written export sent in chunks; its folder is removed once the response ends,
    whether the body was sent completely or the client went away."""

    def __init__(self, path: Path, folder: Path, **kwargs: Any) -> None:
        super().__init__(_chunks(path), partial(remove_folder, folder), **kwargs)
        self.headers["Content-Length"] = str(path.stat().st_size)


async def _chunks(path: Path) -> AsyncIterator[bytes]:
    async with await anyio.open_file(path, "rb") as f:
        while chunk := await f.read(CHUNK_BYTES):
            yield chunk


def remove_folder(folder: Path) -> None:
    """Remove an export's folder with everything in it."""
    shutil.rmtree(folder, ignore_errors=True)


@router.get("/exports/{name}", summary="Layers as a GIS file", response_class=Response,
            openapi_extra=OPTIONAL_API_KEY, responses=_RESPONSES)
def get_export(name: ExportName, conn: ExportConnDep, principal: PrincipalDep,
               settings: SettingsDep, parcel_filter: LayerFilterDep,
               options: ExportOptionsDep) -> Response:
    """Every feature of the layers the caller may see (the public: marketed parcels of
    active sites with their public and released fields, no land sales), narrowed by
    ``bbox``, ``datetime``, a CQL2 ``filter`` and, for parcels, the registry's filters, as
    GeoPackage (several layers in one file), FlatGeobuf, zipped Shapefile (with
    ``felder.csv`` mapping its short field names), CSV or XLSX (geometry as WKT). Columns are
    the API's field names; 413 above ``GEFIS_EXPORT_MAX_FEATURES``."""
    request = export_request(name, options, parcel_filter)
    folder = Path(tempfile.mkdtemp(prefix="gefis-export-", dir=settings.export_dir))
    try:
        prepared = prepare_export(conn, request, principal.viewer, settings, today())
        path = write_export(conn, prepared, folder)
    except BaseException:
        remove_folder(folder)
        raise
    headers = {"Content-Disposition": f'attachment; filename="{prepared.file_name}"',
               "Content-Crs": f"<{crs_uri(request.crs.srid)}>"}
    return ExportFileResponse(path, folder, media_type=request.format.media_type,
                              headers=headers)
