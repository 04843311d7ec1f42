"""The WebMercatorQuad tile matrix set (OGC 2D Tile Matrix Set 2.0, EPSG:3857).

Tile matrix ``z`` has ``2**z × 2**z`` tiles of 256 × 256 pixels; rows count from the north,
columns from the west (``tileRow`` = y, ``tileCol`` = x of the usual z/x/y scheme).
Coordinates are Web Mercator metres (EPSG:3857); a tile's vector data uses an extent of
:data:`MVT_EXTENT` units across.

>>> WEB_MERCATOR_QUAD.tile_bounds(Tile(0, 0, 0)) == (-ORIGIN_SHIFT_M, -ORIGIN_SHIFT_M,
...                                                   ORIGIN_SHIFT_M, ORIGIN_SHIFT_M)
True
>>> Tile(10, 343, 550).matrix_size
1024
"""

from __future__ import annotations

import math
from dataclasses import dataclass

#: Half the width of the Web Mercator square, metres (π × the WGS 84 semi-major axis).
ORIGIN_SHIFT_M = math.pi * 6378137.0
#: Pixels across a tile (the scale denominators of WebMercatorQuad assume 256).
TILE_SIZE_PX = 256
#: Units across a Mapbox Vector Tile (its default extent).
MVT_EXTENT = 4096
#: Metres per pixel of an OGC "standardized rendering pixel" (0.28 mm).
STANDARD_PIXEL_M = 0.00028
#: The deepest tile matrix served.
MAX_ZOOM = 22

TMS_ID = "WebMercatorQuad"
TMS_URI = "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"
TMS_CRS = "http://www.opengis.net/def/crs/EPSG/0/3857"

#: Conformance classes of OGC API – Tiles 1.0 and 2D TMS 2.0 that the service implements.
TILES_CONFORMANCE = (
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tileset",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tilesets-list",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/geodata-tilesets",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/collections-selection",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt",
    "http://www.opengis.net/spec/tms/2.0/conf/tilematrixset",
    "http://www.opengis.net/spec/tms/2.0/conf/json-tilematrixset",
    "http://www.opengis.net/spec/tms/2.0/conf/tilesetmetadata",
    "http://www.opengis.net/spec/tms/2.0/conf/json-tilesetmetadata",
)


def lon_lat_to_mercator(lon: float, lat: float) -> tuple[float, float]:
    """EPSG:3857 metres of a WGS 84 longitude/latitude (spherical Mercator).

    >>> [abs(round(v, 6)) for v in lon_lat_to_mercator(0.0, 0.0)]
    [0.0, 0.0]
    >>> round(lon_lat_to_mercator(180.0, 0.0)[0] - ORIGIN_SHIFT_M, 6)
    0.0
    """
    x = lon / 180.0 * ORIGIN_SHIFT_M
    y = math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)) * 6378137.0
    return x, y


@dataclass(frozen=True, slots=True)
class Tile:
    """One tile: tile matrix (zoom) ``z``, row ``y`` (from the north), column ``x``."""

    z: int
    y: int
    x: int

    @property
    def matrix_size(self) -> int:
        """Tiles along each side of the tile matrix."""
        return 1 << self.z

    def exists(self) -> bool:
        """Whether the tile lies within WebMercatorQuad (0 ≤ z ≤ :data:`MAX_ZOOM`).

        >>> Tile(2, 3, 3).exists(), Tile(2, 4, 0).exists(), Tile(23, 0, 0).exists()
        (True, False, False)
        """
        return 0 <= self.z <= MAX_ZOOM and 0 <= self.y < self.matrix_size \
            and 0 <= self.x < self.matrix_size


@dataclass(frozen=True, slots=True)
class TileMatrixSetLimit:
    """The rows and columns of tile matrix ``z`` that hold data (inclusive)."""

    z: int
    min_row: int
    max_row: int
    min_col: int
    max_col: int

    def contains(self, tile: Tile) -> bool:
        return self.min_row <= tile.y <= self.max_row and self.min_col <= tile.x <= self.max_col


class WebMercatorQuad:
    """Geometry of the WebMercatorQuad tiling scheme."""

    @staticmethod
    def tile_width_m(z: int) -> float:
        """Width of a tile of matrix ``z`` in EPSG:3857 metres."""
        return 2 * ORIGIN_SHIFT_M / (1 << z)

    def tile_bounds(self, tile: Tile) -> tuple[float, float, float, float]:
        """(xmin, ymin, xmax, ymax) of ``tile`` in EPSG:3857 metres."""
        width = self.tile_width_m(tile.z)
        xmin = -ORIGIN_SHIFT_M + tile.x * width
        ymax = ORIGIN_SHIFT_M - tile.y * width
        return (xmin, ymax - width, xmin + width, ymax)

    def unit_m(self, z: int) -> float:
        """EPSG:3857 metres per MVT unit at zoom ``z`` (a tile's width / the extent).

        >>> round(WEB_MERCATOR_QUAD.unit_m(10), 3)
        9.555
        """
        return self.tile_width_m(z) / MVT_EXTENT

    def tile_of(self, x_m: float, y_m: float, z: int) -> tuple[int, int]:
        """(row, col) of the tile of matrix ``z`` holding the EPSG:3857 point (x, y)."""
        width = self.tile_width_m(z)
        last = (1 << z) - 1
        col = min(last, max(0, math.floor((x_m + ORIGIN_SHIFT_M) / width)))
        row = min(last, max(0, math.floor((ORIGIN_SHIFT_M - y_m) / width)))
        return row, col

    def limits(self, bounds_m: tuple[float, float, float, float],
               zooms: range) -> list[TileMatrixSetLimit]:
        """The tiles of each zoom in ``zooms`` that cover ``bounds_m`` (EPSG:3857).

        >>> WEB_MERCATOR_QUAD.limits((1.0, 1.0, 2.0, 2.0), range(1, 2))
        [TileMatrixSetLimit(z=1, min_row=0, max_row=0, min_col=1, max_col=1)]
        """
        xmin, ymin, xmax, ymax = bounds_m
        found = []
        for z in zooms:
            min_row, min_col = self.tile_of(xmin, ymax, z)
            max_row, max_col = self.tile_of(xmax, ymin, z)
            found.append(TileMatrixSetLimit(z, min_row, max_row, min_col, max_col))
        return found

    def scale_denominator(self, z: int) -> float:
        """The scale denominator of matrix ``z`` (0.28 mm pixels at the equator)."""
        return self.tile_width_m(z) / TILE_SIZE_PX / STANDARD_PIXEL_M

    def document(self) -> dict[str, object]:
        """The tile matrix set as OGC 2D Tile Matrix Set 2.0 JSON (matrices 0 to
        :data:`MAX_ZOOM`)."""
        matrices = [{
            "id": str(z),
            "scaleDenominator": self.scale_denominator(z),
            "cellSize": self.tile_width_m(z) / TILE_SIZE_PX,
            "cornerOfOrigin": "topLeft",
            "pointOfOrigin": [-ORIGIN_SHIFT_M, ORIGIN_SHIFT_M],
            "tileWidth": TILE_SIZE_PX, "tileHeight": TILE_SIZE_PX,
            "matrixWidth": 1 << z, "matrixHeight": 1 << z,
        } for z in range(MAX_ZOOM + 1)]
        return {
            "id": TMS_ID,
            "title": "Google Maps Compatible for the World",
            "uri": TMS_URI,
            "crs": TMS_CRS,
            "orderedAxes": ["X", "Y"],
            "wellKnownScaleSet": "http://www.opengis.net/def/wkss/OGC/1.0/GoogleMapsCompatible",
            "tileMatrices": matrices,
        }


WEB_MERCATOR_QUAD = WebMercatorQuad()
