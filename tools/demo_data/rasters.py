"""Synthetic rasters: slope (percent) from a smooth synthetic DEM, and flood hazard (0/1).

Grid: EPSG:25832, 100 m cells aligned to multiples of 100 m, covering the region's
bounding box plus 2 km; cells farther than 2 km outside the region are nodata. The DEM is
a sum of smooth hills (Harz foothills in Mansfeld-Südharz, Finne, Saale-Unstrut plateau,
the rise towards the Altenburg/Zeitz loess hills, small heath hills in Nordsachsen),
FFT-smoothed random relief and incised river valleys; it is not a real elevation model.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from pyproj import Transformer
from rasterio.features import rasterize
from shapely.geometry import LineString
from shapely.geometry.base import BaseGeometry

from tools.demo_data.boundaries import Region

CELL_M = 100.0
MARGIN_M = 2_000.0
SLOPE_NODATA = -9999.0
FLOOD_NODATA = 255
#: Hills: (lon, lat, amplitude m, sigma km).
HILLS: tuple[tuple[float, float, float, float], ...] = (
    (11.02, 51.60, 330.0, 22.0), (11.05, 51.52, 200.0, 12.0), (11.10, 51.41, 260.0, 7.0),
    (11.45, 51.56, 110.0, 14.0), (11.50, 51.33, 120.0, 9.0), (11.40, 51.20, 170.0, 8.0),
    (11.75, 51.17, 90.0, 9.0), (12.60, 51.68, 60.0, 10.0), (13.00, 51.34, 70.0, 8.0),
    (12.80, 51.42, 80.0, 3.0), (13.02, 51.26, 160.0, 2.5), (12.60, 51.02, 120.0, 8.0),
)
DESCRIPTION_SLOPE = ("SYNTHETISCHE DEMO-DATEN: Hangneigung in Prozent aus einem synthetischen "
                     "Höhenmodell (kein reales DGM), 100 m Raster, EPSG:25832.")
DESCRIPTION_FLOOD = ("SYNTHETISCHE DEMO-DATEN: schematische Überschwemmungsgebiete (1 = "
                     "Hochwassergefahr, 0 = keine) entlang Saale, Weißer Elster, Mulde, Elbe "
                     "und Pleiße; keine amtliche Gefahrenkarte. 100 m Raster, EPSG:25832.")


@dataclass(frozen=True, slots=True)
class Grid:
    """A north-up grid: origin (upper-left corner, m), size in cells."""

    x0: float
    y0: float
    width: int
    height: int

    @property
    def transform(self) -> Affine:
        return Affine(CELL_M, 0.0, self.x0, 0.0, -CELL_M, self.y0)

    def centres(self) -> tuple[np.ndarray, np.ndarray]:
        """Cell-centre coordinates X (columns) and Y (rows), metres."""
        xs = self.x0 + CELL_M * (np.arange(self.width) + 0.5)
        ys = self.y0 - CELL_M * (np.arange(self.height) + 0.5)
        return xs, ys


def region_grid(region: Region) -> Grid:
    """Grid over the region's bounding box + 2 km, aligned to 100 m."""
    xmin, ymin, xmax, ymax = region.bounds
    x0 = np.floor((xmin - MARGIN_M) / CELL_M) * CELL_M
    y1 = np.floor((ymin - MARGIN_M) / CELL_M) * CELL_M
    x1 = np.ceil((xmax + MARGIN_M) / CELL_M) * CELL_M
    y0 = np.ceil((ymax + MARGIN_M) / CELL_M) * CELL_M
    return Grid(float(x0), float(y0), int((x1 - x0) / CELL_M), int((y0 - y1) / CELL_M))


def _smooth_noise(shape: tuple[int, int], sigma_cells: float, rng: np.random.Generator
                  ) -> np.ndarray:
    """Gaussian-smoothed white noise with unit standard deviation (FFT convolution)."""
    white = rng.standard_normal(shape)
    fy = np.fft.fftfreq(shape[0])[:, None]
    fx = np.fft.rfftfreq(shape[1])[None, :]
    kernel = np.exp(-2.0 * np.pi**2 * sigma_cells**2 * (fx**2 + fy**2))
    field = np.fft.irfft2(np.fft.rfft2(white) * kernel, s=shape)
    return field / field.std()


def _river_distance(grid: Grid, lines: list[LineString], reach_m: float) -> np.ndarray:
    """Distance (m) from each cell centre to the nearest river line, capped at ``reach_m``."""
    xs, ys = grid.centres()
    dist = np.full((grid.height, grid.width), reach_m)
    for line in lines:
        coords = np.asarray(line.coords)
        for (ax, ay), (bx, by) in itertools.pairwise(coords):
            c0 = max(0, int((min(ax, bx) - reach_m - grid.x0) / CELL_M))
            c1 = min(grid.width, int((max(ax, bx) + reach_m - grid.x0) / CELL_M) + 1)
            r0 = max(0, int((grid.y0 - max(ay, by) - reach_m) / CELL_M))
            r1 = min(grid.height, int((grid.y0 - min(ay, by) + reach_m) / CELL_M) + 1)
            if c0 >= c1 or r0 >= r1:
                continue
            px, py = np.meshgrid(xs[c0:c1], ys[r0:r1])
            dx, dy = bx - ax, by - ay
            t = np.clip(((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy), 0.0, 1.0)
            d = np.hypot(px - (ax + t * dx), py - (ay + t * dy))
            np.minimum(dist[r0:r1, c0:c1], d, out=dist[r0:r1, c0:c1])
    return dist


def synthetic_dem(grid: Grid, rivers: list[LineString], rng: np.random.Generator) -> np.ndarray:
    """Elevation (m) per cell; smooth, flat in the Leipzig lowland, hilly to the west/south."""
    xs, ys = grid.centres()
    px, py = np.meshgrid(xs, ys)
    lon, lat = Transformer.from_crs("EPSG:25832", "EPSG:4326", always_xy=True).transform(px, py)
    hills = np.zeros_like(px)
    to_utm = Transformer.from_crs("EPSG:4326", "EPSG:25832", always_xy=True)
    for hlon, hlat, amp, sigma_km in HILLS:
        hx, hy = to_utm.transform(hlon, hlat)
        hills += amp * np.exp(-((px - hx) ** 2 + (py - hy) ** 2) / (2.0 * (sigma_km * 1e3) ** 2))
    south = np.clip((51.22 - lat) / 0.35, 0.0, 1.0)
    hills += 170.0 * south * south * (3.0 - 2.0 * south) * np.clip((lon - 11.85) / 0.15, 0.0, 1.0)
    east = np.clip((lat - 51.45) / 0.3, 0.0, 1.0) * np.clip((lon - 12.6) / 0.3, 0.0, 1.0)
    base = 105.0 - 22.0 * east + hills
    relief = 0.2 + hills / 80.0
    dem = base + relief * (14.0 * _smooth_noise(px.shape, 25.0, rng)
                           + 6.0 * _smooth_noise(px.shape, 6.0, rng))
    dist = _river_distance(grid, rivers, 5_000.0)
    depth = np.clip(5.0 + 0.25 * hills, 3.0, 60.0)
    width = np.clip(1_200.0 - 2.0 * hills, 600.0, 1_200.0)
    return dem - depth * np.exp(-((dist / width) ** 2))


def slope_percent(dem: np.ndarray) -> np.ndarray:
    """Slope in percent (rise over run x 100) by central differences, rounded to 0.1."""
    gy, gx = np.gradient(dem, CELL_M)
    return np.round(100.0 * np.hypot(gx, gy), 1)


def _mask(grid: Grid, region: Region) -> np.ndarray:
    return rasterize([(region.outline.buffer(MARGIN_M, quad_segs=4), 1)],
                     out_shape=(grid.height, grid.width), transform=grid.transform,
                     fill=0, dtype="uint8").astype(bool)


def _write(path: Path, data: np.ndarray, grid: Grid, nodata: float, description: str,
           band_name: str, unit: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    profile = {
        "driver": "GTiff", "width": grid.width, "height": grid.height, "count": 1,
        "dtype": data.dtype.name, "crs": "EPSG:25832", "transform": grid.transform,
        "nodata": nodata, "tiled": True, "blockxsize": 256, "blockysize": 256,
        "compress": "deflate", "zlevel": 9,
        "predictor": 3 if data.dtype == np.float32 else 2,
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)
        dst.update_tags(SYNTHETIC="true", DESCRIPTION=description,
                        TIFFTAG_IMAGEDESCRIPTION=description)
        dst.update_tags(1, UNIT=unit)
        dst.set_band_description(1, band_name)


def write_rasters(out_dir: Path, region: Region, rivers: list[LineString],
                  flood: BaseGeometry, rng: np.random.Generator) -> dict[str, float]:
    """Write ``slope_pct.tif`` and ``flood_hazard.tif``; return summary statistics."""
    grid = region_grid(region)
    mask = _mask(grid, region)
    slope = slope_percent(synthetic_dem(grid, rivers, rng)).astype(np.float32)
    slope[~mask] = SLOPE_NODATA
    _write(out_dir / "slope_pct.tif", slope, grid, SLOPE_NODATA, DESCRIPTION_SLOPE,
           "slope_pct", "percent")
    hazard = rasterize([(flood, 1)], out_shape=(grid.height, grid.width),
                       transform=grid.transform, fill=0, dtype="uint8")
    hazard[~mask] = FLOOD_NODATA
    _write(out_dir / "flood_hazard.tif", hazard, grid, FLOOD_NODATA, DESCRIPTION_FLOOD,
           "flood_hazard", "0/1")
    valid = slope[mask]
    return {"slope_mean_pct": float(valid.mean()), "slope_p99_pct": float(np.percentile(valid, 99)),
            "flood_share": float((hazard[mask] == 1).mean()),
            "width": float(grid.width), "height": float(grid.height)}
