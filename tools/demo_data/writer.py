"""Write the demo outputs: GeoJSON FeatureCollections in EPSG:25832 and plain JSON.

GeoJSON files carry the legacy ``crs`` member (so GDAL reads EPSG:25832), the foreign
members ``synthetic`` and ``description``, and one feature per line (stable, diffable).
Coordinates are rounded to 0.01 m; polygons are written with counter-clockwise exteriors.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import LineString, MultiLineString, MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient

CRS_MEMBER = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::25832"}}


def round_geometry(geom: BaseGeometry) -> BaseGeometry:
    """``geom`` with coordinates rounded to 0.01 m."""
    return shapely.transform(geom, lambda xy: np.round(xy, 2))


def _ring(coords: Sequence[Sequence[float]]) -> list[list[float]]:
    return [[round(float(x), 2), round(float(y), 2)] for x, y in coords]


def _polygon(p: Polygon) -> list[list[list[float]]]:
    p = orient(p, 1.0)
    return [_ring(p.exterior.coords)] + [_ring(r.coords) for r in p.interiors]


def geometry_json(geom: BaseGeometry) -> dict[str, object]:
    """GeoJSON geometry object for Point, LineString, MultiLineString, (Multi)Polygon."""
    if isinstance(geom, Point):
        return {"type": "Point", "coordinates": [round(geom.x, 2), round(geom.y, 2)]}
    if isinstance(geom, LineString):
        return {"type": "LineString", "coordinates": _ring(geom.coords)}
    if isinstance(geom, MultiLineString):
        return {"type": "MultiLineString", "coordinates": [_ring(g.coords) for g in geom.geoms]}
    if isinstance(geom, Polygon):
        return {"type": "MultiPolygon", "coordinates": [_polygon(geom)]}
    if isinstance(geom, MultiPolygon):
        return {"type": "MultiPolygon", "coordinates": [_polygon(g) for g in geom.geoms]}
    raise TypeError(f"unsupported geometry {geom.geom_type}")


def feature(external_id: str, properties: dict[str, object], geom: BaseGeometry
            ) -> dict[str, object]:
    """A GeoJSON feature whose ``id`` is its external id."""
    return {"type": "Feature", "id": external_id, "properties": properties,
            "geometry": geometry_json(geom)}


def _dumps(obj: object) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def write_feature_collection(path: Path, name: str, description: str,
                             features: Sequence[dict[str, object]]) -> None:
    """Write a FeatureCollection with one feature per line (UTF-8, trailing newline)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    head = (f'{{"type":"FeatureCollection","name":{_dumps(name)},"crs":{_dumps(CRS_MEMBER)},'
            f'"synthetic":true,"description":{_dumps(description)},"features":[\n')
    body = ",\n".join(_dumps(f) for f in features)
    path.write_text(head + body + "\n]}\n", encoding="utf-8")


def write_json(path: Path, obj: object) -> None:
    """Pretty-printed JSON (UTF-8, 2-space indent, trailing newline)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def write_listing(path: Path, head: dict[str, object],
                  lists: dict[str, Sequence[dict[str, object]]]) -> None:
    """A JSON object: the members of ``head`` one per line, then each list of ``lists`` with
    one item per line (UTF-8, trailing newline; stable and diffable like the GeoJSON)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    members = [f"{_dumps(k)}:{_dumps(v)}" for k, v in head.items()]
    members += [f"{_dumps(k)}:[\n" + ",\n".join(_dumps(item) for item in items) + "\n]"
                for k, items in lists.items()]
    path.write_text("{\n" + ",\n".join(members) + "\n}\n", encoding="utf-8")
