"""Real administrative boundaries (BKG VG250) reprojected for the demo generator.

Reads ``geodata/boundaries/*.geojson`` (WGS 84) and holds municipalities and districts in
ETRS89 / UTM 32N (EPSG:25832, metres). Invalid source rings (municipality 14730030
Beilrode) are repaired with shapely ``make_valid``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import MultiPolygon, Point, Polygon, shape
from shapely.geometry.base import BaseGeometry
from shapely.prepared import PreparedGeometry, prep

from tools.demo_data.targets import KEY_BY_AGS

_TO_UTM = Transformer.from_crs("EPSG:4326", "EPSG:25832", always_xy=True)
_TO_WGS = Transformer.from_crs("EPSG:25832", "EPSG:4326", always_xy=True)

#: Distance (m) every parcel keeps from its municipality boundary.
BOUNDARY_MARGIN_M = 25.0


def project(geom: BaseGeometry) -> BaseGeometry:
    """Transform a WGS 84 lon/lat geometry to EPSG:25832."""
    return shapely.transform(
        geom, lambda xy: np.column_stack(_TO_UTM.transform(xy[:, 0], xy[:, 1])))


def to_utm(lon: float, lat: float) -> Point:
    """A WGS 84 lon/lat position as an EPSG:25832 point (metres)."""
    x, y = _TO_UTM.transform(lon, lat)
    return Point(x, y)


def to_lonlat(point: Point) -> tuple[float, float]:
    """An EPSG:25832 point as WGS 84 (lon, lat)."""
    lon, lat = _TO_WGS.transform(point.x, point.y)
    return float(lon), float(lat)


def as_multipolygon(geom: BaseGeometry) -> MultiPolygon:
    """Polygonal part of ``geom`` as a MultiPolygon."""
    if isinstance(geom, MultiPolygon):
        return geom
    if isinstance(geom, Polygon):
        return MultiPolygon([geom])
    polys = [g for g in getattr(geom, "geoms", []) if isinstance(g, Polygon | MultiPolygon)]
    parts: list[Polygon] = []
    for g in polys:
        parts.extend(g.geoms if isinstance(g, MultiPolygon) else [g])
    return MultiPolygon(parts)


@dataclass(slots=True)
class Municipality:
    """A Gemeinde with its geometry and the inner area where parcels may lie (EPSG:25832)."""

    ags: str
    name: str
    district: str  # study key of the district
    geom: MultiPolygon
    inset: BaseGeometry  # geom shrunk by BOUNDARY_MARGIN_M (+ safety)
    inset_prepared: PreparedGeometry
    geom_prepared: PreparedGeometry


@dataclass(slots=True)
class Region:
    """All municipalities and districts of the IRMD in EPSG:25832."""

    municipalities: dict[str, Municipality]
    districts: dict[str, MultiPolygon]  # study key -> outline
    outline: BaseGeometry

    def of_district(self, district: str) -> list[Municipality]:
        """Municipalities of a district, ordered by AGS."""
        return [m for ags, m in sorted(self.municipalities.items()) if m.district == district]

    def locate(self, point: Point) -> Municipality | None:
        """Municipality containing ``point`` (EPSG:25832), if any."""
        for _, m in sorted(self.municipalities.items()):
            if m.geom_prepared.contains(point):
                return m
        return None

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(xmin, ymin, xmax, ymax) of the region in metres."""
        b = self.outline.bounds
        return (b[0], b[1], b[2], b[3])


def load_region(boundaries_dir: Path) -> Region:
    """Read the VG250 boundaries and reproject them to EPSG:25832."""
    munis: dict[str, Municipality] = {}
    data = json.loads((boundaries_dir / "municipalities_vg250.geojson").read_text("utf-8"))
    for feature in data["features"]:
        props = feature["properties"]
        geom = project(shape(feature["geometry"]))
        if not geom.is_valid:
            geom = shapely.make_valid(geom)
        mp = as_multipolygon(geom)
        inset = mp.buffer(-(BOUNDARY_MARGIN_M + 5.0))
        munis[props["ags"]] = Municipality(
            ags=props["ags"], name=props["name"], district=KEY_BY_AGS[props["district_ags"]],
            geom=mp, inset=inset, inset_prepared=prep(inset), geom_prepared=prep(mp))
    districts: dict[str, MultiPolygon] = {}
    for key in sorted({m.district for m in munis.values()}):
        districts[key] = as_multipolygon(
            shapely.union_all([m.geom for m in munis.values() if m.district == key]))
    outline = shapely.union_all(list(districts.values()))
    return Region(municipalities=munis, districts=districts, outline=outline)
