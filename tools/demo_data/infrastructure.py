"""Schematic transport infrastructure of the demo (motorways, junctions, airport, KV).

Geometries come from :mod:`.places` (hand-digitised WGS 84 polylines and points) and are
reprojected to EPSG:25832 and clipped to the region's bounding box plus
``CLIP_MARGIN_M``. They are schematic: positions are approximate.
"""

from __future__ import annotations

from dataclasses import dataclass

import shapely
from shapely.geometry import LineString, Point, box
from shapely.geometry.base import BaseGeometry

from tools.demo_data.boundaries import Region, project, to_utm
from tools.demo_data.places import AIRPORT, JUNCTIONS, KV_TERMINALS, MOTORWAYS

#: Margin (m) around the region's bounding box within which infrastructure is kept.
CLIP_MARGIN_M = 12_000.0


@dataclass(frozen=True, slots=True)
class Junction:
    """A motorway junction in EPSG:25832 with the district it lies in (or near)."""

    name: str
    ref: str
    point: Point
    district: str | None


@dataclass(frozen=True, slots=True)
class InfraFeature:
    """One infrastructure feature for ``infrastructure.geojson``."""

    kind: str
    name: str
    ref: str | None
    geometry: BaseGeometry


@dataclass(slots=True)
class Infrastructure:
    """Infrastructure in EPSG:25832, for placement and output."""

    motorways: dict[str, BaseGeometry]
    junctions: list[Junction]
    airport: Point
    terminals: list[tuple[str, Point]]

    def features(self) -> list[InfraFeature]:
        """All features in output order: motorways, junctions, airport, terminals."""
        out = [InfraFeature("autobahn", f"Bundesautobahn {ref[2:]}", ref, geom)
               for ref, geom in self.motorways.items()]
        out += [InfraFeature("anschlussstelle", j.name, j.ref, j.point) for j in self.junctions]
        out.append(InfraFeature("flughafen", AIRPORT[0], None, self.airport))
        out += [InfraFeature("kv_terminal", name, None, p) for name, p in self.terminals]
        return out

    def junction_distance_m(self, point: Point) -> float:
        """Distance (m) from ``point`` to the nearest junction."""
        return min(point.distance(j.point) for j in self.junctions)

    def near_motorway(self, refs: tuple[str, ...], distance_m: float) -> BaseGeometry:
        """Area within ``distance_m`` of the given motorways."""
        return shapely.union_all([self.motorways[r].buffer(distance_m) for r in refs
                                  if r in self.motorways])


def build_infrastructure(region: Region) -> Infrastructure:
    """Project, clip and attribute the schematic infrastructure."""
    xmin, ymin, xmax, ymax = region.bounds
    clip = box(xmin - CLIP_MARGIN_M, ymin - CLIP_MARGIN_M, xmax + CLIP_MARGIN_M,
               ymax + CLIP_MARGIN_M)
    motorways = {ref: project(LineString(coords)).intersection(clip)
                 for ref, coords in MOTORWAYS.items()}
    junctions: list[Junction] = []
    for name, ref, lon, lat in JUNCTIONS:
        p = to_utm(lon, lat)
        if not clip.contains(p):
            continue
        district = None
        best = 2_000.0
        for key, geom in region.districts.items():
            dist = geom.distance(p)
            if dist <= best:
                district, best = key, dist
        junctions.append(Junction(name, ref, p, district))
    airport = to_utm(AIRPORT[1], AIRPORT[2])
    terminals = [(name, to_utm(lon, lat)) for name, lon, lat in KV_TERMINALS]
    return Infrastructure(motorways, junctions, airport, terminals)
