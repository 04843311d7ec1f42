"""Reading GeoJSON files for PostGIS: the declared CRS and geometries as JSON text."""

from __future__ import annotations

import json
import re
from typing import Any

_EPSG = re.compile(r"EPSG:{1,2}(\d+)$")


def feature_srid(collection: dict[str, Any]) -> int:
    """EPSG code of a FeatureCollection: its legacy ``crs`` member, else 4326 (RFC 7946).

    >>> feature_srid({"type": "FeatureCollection", "features": []})
    4326
    >>> feature_srid({"crs": {"type": "name",
    ...               "properties": {"name": "urn:ogc:def:crs:EPSG::25832"}}})
    25832
    """
    crs = collection.get("crs")
    if not crs:
        return 4326
    name = crs.get("properties", {}).get("name", "")
    if name.endswith("CRS84"):
        return 4326
    match = _EPSG.search(name)
    if not match:
        raise ValueError(f"unsupported crs member {name!r}")
    return int(match.group(1))


def geometry_json(feature: dict[str, Any]) -> str:
    """The feature's geometry as compact JSON text, for ``ST_GeomFromGeoJSON``."""
    return json.dumps(feature["geometry"], separators=(",", ":"))
