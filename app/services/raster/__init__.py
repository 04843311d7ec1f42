"""Raster analysis: statistics of parcels from rasters, and rasters of the parcels' supply.

- :mod:`.zonal`: slope (mean, max) and flood-hazard share per parcel from the configured
  GeoTIFFs (``GEFIS_RASTER_SLOPE_PATH``, ``GEFIS_RASTER_FLOOD_PATH``), coverage-weighted by
  exactextract; the shape is reprojected to the raster's CRS, never the raster; the
  suggested restriction causes from the rules of :mod:`app.domain.raster_rules`. Computed
  on create, on a geometry change, on import and by ``gefis raster-stats``;
- :mod:`.density`: the available net area per 1 km cell of the INSPIRE grid (EPSG:3035) of
  a filtered selection, as a Cloud-Optimized GeoTIFF.
"""

from app.services.raster.zonal import (
    RasterSources,
    RasterUnavailable,
    configured_rules,
    configured_sources,
    fill_raster_columns,
    raster_columns,
    raster_columns_for_ewkt,
    raster_columns_for_ewkts,
    zonal_stats,
)

__all__ = [
    "RasterSources",
    "RasterUnavailable",
    "configured_rules",
    "configured_sources",
    "fill_raster_columns",
    "raster_columns",
    "raster_columns_for_ewkt",
    "raster_columns_for_ewkts",
    "zonal_stats",
]
