"""Raster products: ``GET /api/v1/raster/net-area.tif``, the available net area per km² cell.

A Cloud-Optimized GeoTIFF on the INSPIRE 1 km grid (EPSG:3035) made by
:mod:`app.services.raster.density` from the parcels of the search's filter (the same query
parameters as ``GET /api/v1/parcels``, marketing status ``verfuegbar`` unless asked, active
sites only) as the caller may see them. HTTP only: the entity tag is a digest of the file's
bytes, so ``If-None-Match`` gets a 304 while the selection is unchanged; ``Cache-Control``
lets shared caches keep the public's file for a minute, and only the caller's own cache a
file made with an API key.
"""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.api.auth import OPTIONAL_API_KEY, PrincipalDep
from app.api.caching import none_match
from app.api.connections import ReadConnDep
from app.api.parcel_params import ParcelFilterDep
from app.api.responses import PROBLEM_RESPONSES
from app.domain.clock import today
from app.domain.crs import crs_uri
from app.services.raster.density import GRID_SRID, net_area_geotiff

router = APIRouter(prefix="/api/v1", tags=["Raster"])

#: The media type of a Cloud-Optimized GeoTIFF (OGC 21-026).
COG_MEDIA_TYPE = "image/tiff; application=geotiff; profile=cloud-optimized"
#: How long a client or cache may use the file without asking again (seconds).
MAX_AGE_S = 60
#: Request headers the answer depends on (the API key widens what the file holds).
VARY = "Authorization"

_HEADERS = {name: {"schema": {"type": "string"}, "description": description}
            for name, description in (
                ("ETag", "Digest of the file's bytes"),
                ("Cache-Control", "public (no key) or private, max-age=60"),
                ("Content-Crs", "The grid's CRS (EPSG:3035)"),
                ("Content-Disposition", "attachment with the file name"))}

_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "The GeoTIFF: one Float32 band, net hectares per 1 km cell of the "
                         "INSPIRE grid (EPSG:3035), nodata -9999 where no parcel lies; "
                         "internal overviews",
          "content": {COG_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}},
          "headers": _HEADERS},
    304: {"description": "Not modified: the file still has the ETag of If-None-Match"},
    **PROBLEM_RESPONSES,
}


@router.get("/raster/net-area.tif", openapi_extra=OPTIONAL_API_KEY,
            summary="Available net area per 1 km cell (GeoTIFF, EPSG:3035)",
            response_class=Response, responses=_RESPONSES)
def net_area_raster(request: Request, conn: ReadConnDep, principal: PrincipalDep,
                    selection: ParcelFilterDep) -> Response:
    """The net area (hectares) of the parcels matching the search's filters, per cell of
    the INSPIRE 1 km grid (ETRS89-LAEA, EPSG:3035; cell corners at multiples of 1000 m), as a
    Cloud-Optimized GeoTIFF with overviews for GIS clients (QGIS: add the downloaded file as
    a raster layer).

    A parcel's net area is shared among the cells it overlaps by the part of its area in
    each, so the cells add up to the selection's net area (compare
    `/api/v1/parcels/summary` with the same filters and `marketing_status`). Filters as
    `GET /api/v1/parcels` (marketing status `verfuegbar` unless asked, active sites only);
    the public sees marketed parcels only. Cells without a parcel are nodata (-9999); the
    file covers the selection (an empty one: the region). Tags name the unit, the filter
    and "synthetische Demodaten" for demo data.
    """
    day = today()
    raster = net_area_geotiff(conn, selection, principal.viewer, reference=day)
    etag = f'"net-area-{hashlib.sha256(raster.content).hexdigest()[:32]}"'
    headers = {"ETag": etag, "Vary": VARY,
               "Cache-Control": f"{'private' if principal.is_authenticated else 'public'}, "
                                f"max-age={MAX_AGE_S}"}
    if none_match(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    headers["Content-Crs"] = f"<{crs_uri(GRID_SRID)}>"
    headers["Content-Disposition"] = (
        f'attachment; filename="gefis_nettoflaeche_1km_{day.isoformat()}.tif"')
    return Response(raster.content, media_type=COG_MEDIA_TYPE, headers=headers)
