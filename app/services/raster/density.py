"""The available net area of a filtered selection per 1 km cell, as a Cloud-Optimized GeoTIFF.

The grid is the INSPIRE 1 km grid (ETRS89-LAEA, EPSG:3035): cell corners at multiples of
:data:`CELL_M` metres, the cell (i, j) spanning ``[i·1000, (i+1)·1000) × [j·1000, (j+1)·1000)``
(PostGIS's ``ST_SquareGrid``). A parcel's net area is shared out among the cells it overlaps
in proportion to the part of its area in each cell (areas measured in EPSG:3035, an
equal-area projection), all in one SQL statement over the one select path
(:func:`app.db.queries.parcels.selection_sql`): the filter and the caller's visibility are
those of the search. So the sum of all cells is the selection's net area.

The file: one Float32 band, hectares of net area per cell, :data:`NODATA` where no selected
parcel lies; it covers the selection's cells (an empty selection: the region's districts).
Internal overviews (averages of the cells below, so a zoomed-out view still shows ha per
cell), DEFLATE with the floating-point predictor, 256 px tiles, laid out as a COG by GDAL's
COG driver (through rasterio): QGIS and other clients open it quickly. Tags name the
unit, the filter, the number of parcels, the total, and say "synthetische Demodaten" when
synthetic parcels are in it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import rasterio
import rasterio.shutil
from pydantic import BaseModel
from rasterio.io import MemoryFile
from rasterio.transform import from_origin
from sqlalchemy import Connection, text

from app.db.queries.parcels import selection_sql
from app.domain.filters import ParcelFilter
from app.domain.roles import Viewer

#: The INSPIRE grid's CRS (ETRS89-extended / LAEA Europe).
GRID_SRID = 3035
#: Cell size (metres).
CELL_M = 1000
#: Value of cells without any selected parcel.
NODATA = -9999.0
#: Overviews are added until the coarsest is at most this many pixels wide and high.
OVERVIEW_MIN_PX = 32
#: The ETRS89-LAEA projection centre (false easting/northing), the cell of an empty
#: selection when no district is loaded either.
LAEA_ORIGIN = (4_321_000, 3_210_000)

#: Parcels (net ha, area in EPSG:3035) → their share of net area per cell.
_CELLS = """
WITH sel AS MATERIALIZED (
    SELECT x.net, x.synthetic, g.geom, ST_Area(g.geom) AS area
      FROM ({selection}) x
     CROSS JOIN LATERAL (SELECT ST_Transform(x.geom, {srid}) AS geom) g
), pieces AS (
    SELECT c.i, c.j, s.net * a.area / s.area AS ha
      FROM sel s
     CROSS JOIN LATERAL ST_SquareGrid({cell}, s.geom) AS c
     CROSS JOIN LATERAL (SELECT ST_Area(ST_Intersection(s.geom, c.geom)) AS area) a
     WHERE ST_Intersects(s.geom, c.geom) AND a.area > 0
), cells AS (
    SELECT i, j, sum(ha) AS ha FROM pieces GROUP BY i, j
)
SELECT (SELECT count(*) FROM sel) AS parcels,
       (SELECT coalesce(sum(net), 0) FROM sel) AS net_ha,
       (SELECT coalesce(bool_or(synthetic), false) FROM sel) AS synthetic,
       (SELECT coalesce(array_agg(i), '{{}}') FROM cells) AS i,
       (SELECT coalesce(array_agg(j), '{{}}') FROM cells) AS j,
       (SELECT coalesce(array_agg(ha), '{{}}') FROM cells) AS ha
"""

#: The cells of the region's districts (for an empty selection).
_REGION = text(f"""
    SELECT floor(ST_XMin(e) / {CELL_M}) AS imin, ceil(ST_XMax(e) / {CELL_M}) - 1 AS imax,
           floor(ST_YMin(e) / {CELL_M}) AS jmin, ceil(ST_YMax(e) / {CELL_M}) - 1 AS jmax
      FROM (SELECT ST_Extent(ST_Transform(ST_Envelope(geom_25832), {GRID_SRID})) AS e
              FROM districts) r
     WHERE e IS NOT NULL
""")


@dataclass(frozen=True)
class DensityRaster:
    """The GeoTIFF's bytes and what is in it (areas in ha)."""

    content: bytes
    parcels: int
    net_area_ha: float
    cells: int
    width: int
    height: int
    synthetic: bool


def _plain(value: Any) -> Any:
    """A filter value as JSON can hold it (tuples as lists, models as dicts, dates as text)."""
    if isinstance(value, BaseModel):
        return value.model_dump()
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    return value


def filter_description(f: ParcelFilter) -> str:
    """The filters set in ``f`` as compact JSON (``{}``: every parcel the caller may see).

    >>> filter_description(ParcelFilter(district=("14713",), net_area_min_ha=2))
    '{"district":["14713"],"net_area_min_ha":2.0}'
    """
    active = {k: _plain(v) for k, v in f.active().items()}
    return json.dumps(active, ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                      default=str)


def overview_count(width: int, height: int) -> int:
    """Overview levels (factors 2, 4, 8, …) until the coarsest fits in
    :data:`OVERVIEW_MIN_PX` pixels; at least one.

    >>> overview_count(3, 2), overview_count(170, 150), overview_count(1, 1)
    (1, 3, 1)
    """
    levels = 1
    while max(width, height) / 2 ** levels > OVERVIEW_MIN_PX:
        levels += 1
    return levels


def _cells(conn: Connection, f: ParcelFilter, viewer: Viewer, reference: date) -> Any:
    selection, params = selection_sql(
        f, viewer, {"net": "net_area_ha", "synthetic": "synthetic", "geom": "=p.geom_25832"},
        reference=reference)
    sql = _CELLS.format(selection=selection, srid=GRID_SRID, cell=CELL_M)
    return conn.execute(text(sql), params).one()


def _region_window(conn: Connection) -> tuple[int, int, int, int]:
    row = conn.execute(_REGION).one_or_none()
    if row is None:
        i, j = LAEA_ORIGIN[0] // CELL_M, LAEA_ORIGIN[1] // CELL_M
        return i, i, j, j
    return int(row.imin), int(row.imax), int(row.jmin), int(row.jmax)


def _tags(f: ParcelFilter, row: Any, reference: date, total: float) -> dict[str, str]:
    synthetic = bool(row.synthetic)
    description = (f"Verfügbare Nettofläche in ha je 1-km-Zelle des INSPIRE-Gitters "
                   f"(EPSG:{GRID_SRID}); Flächenanteile je Zelle nach Fläche verteilt; "
                   f"Stand {reference.isoformat()}; Filter {filter_description(f)}")
    if synthetic:
        description += "; synthetische Demodaten, keine realen Flächen"
    return {
        "DESCRIPTION": description, "TIFFTAG_IMAGEDESCRIPTION": description,
        "UNIT": "ha", "CELL_SIZE_M": str(CELL_M),
        "GRID": f"INSPIRE 1 km, EPSG:{GRID_SRID}, Zellecken auf Vielfachen von {CELL_M} m",
        "FILTER": filter_description(f), "REFERENCE_DATE": reference.isoformat(),
        "PARCELS": str(row.parcels), "NET_AREA_HA": f"{total:.4f}",
        "SYNTHETIC": "true" if synthetic else "false",
        "SOURCE": "GEFIS-MD" + (" (synthetische Demodaten)" if synthetic else ""),
    }


def net_area_geotiff(conn: Connection, f: ParcelFilter, viewer: Viewer, *,
                     reference: date) -> DensityRaster:
    """The net area (ha) of the parcels of ``f`` that ``viewer`` may see, per 1 km cell of
    the INSPIRE grid (EPSG:3035), as a Cloud-Optimized GeoTIFF (see the module)."""
    row = _cells(conn, f, viewer, reference)
    i = np.asarray(row.i, dtype=np.int64)
    j = np.asarray(row.j, dtype=np.int64)
    ha = np.asarray(row.ha, dtype=np.float64)
    if i.size:
        imin, imax, jmin, jmax = int(i.min()), int(i.max()), int(j.min()), int(j.max())
    else:
        imin, imax, jmin, jmax = _region_window(conn)
    width, height = imax - imin + 1, jmax - jmin + 1
    grid = np.full((height, width), NODATA, dtype=np.float32)
    grid[jmax - j, i - imin] = ha
    total = float(row.net_ha)
    tags = _tags(f, row, reference, total)
    profile: dict[str, Any] = {
        "driver": "GTiff", "width": width, "height": height, "count": 1, "dtype": "float32",
        "crs": f"EPSG:{GRID_SRID}", "nodata": NODATA,
        "transform": from_origin(imin * CELL_M, (jmax + 1) * CELL_M, CELL_M, CELL_M)}
    with MemoryFile() as source_file, MemoryFile() as cog_file:
        with source_file.open(**profile) as source:
            source.write(grid, 1)
            source.update_tags(**tags)
            source.set_band_description(1, "Verfügbare Nettofläche je 1-km-Zelle (ha)")
            source.set_band_unit(1, "ha")
            source.update_tags(1, UNIT="ha")
            rasterio.shutil.copy(
                source, cog_file.name, driver="COG", BLOCKSIZE=256, COMPRESS="DEFLATE",
                PREDICTOR="YES", OVERVIEW_RESAMPLING="AVERAGE",
                OVERVIEW_COUNT=overview_count(width, height))
        content = cog_file.read()
    return DensityRaster(content, int(row.parcels), total, int(i.size), width, height,
                         bool(row.synthetic))
