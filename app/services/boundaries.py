"""Load district and municipality boundaries into PostGIS.

Reads GeoJSON in any CRS PostGIS knows (``crs`` member, default EPSG:4326 lon/lat per
RFC 7946), transforms to EPSG:25832, repairs invalid polygons with ``ST_MakeValid`` (and
reports them), and upserts by AGS, so loading the same files again changes nothing.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection, text

from app.db.upsert import upsert_changed
from app.services.geojson_io import feature_srid, geometry_json

#: GeoJSON geometry (any CRS) → valid MultiPolygon in EPSG:25832.
_POLYGON_25832 = (
    "ST_Multi(ST_CollectionExtract(ST_MakeValid("
    "ST_Transform(ST_SetSRID(ST_GeomFromGeoJSON(:geometry), :srid), 25832)), 3))"
)

_UPSERT_DISTRICT = upsert_changed("districts", ("ags",), {
    "ags": ":ags", "key": ":key", "name": ":name", "kind": ":kind", "state": ":state",
    "nuts3": ":nuts3", "seat": ":seat", "geom_25832": _POLYGON_25832, "boundary_source": ":source",
})

_UPSERT_MUNICIPALITY = upsert_changed("municipalities", ("ags",), {
    "ags": ":ags", "name": ":name", "district_ags": ":district_ags",
    "geom_25832": _POLYGON_25832, "boundary_source": ":source",
})

_INVALID_INPUT = text(
    "SELECT NOT ST_IsValid(ST_SetSRID(ST_GeomFromGeoJSON(:geometry), :srid)) AS invalid"
)


@dataclass
class BoundaryLoadReport:
    """What a boundary load did: rows written (inserted or changed) and repaired AGS keys."""

    districts_written: int = 0
    municipalities_written: int = 0
    repaired: list[str] = field(default_factory=list)


def read_district_attributes(path: Path) -> dict[str, dict[str, str]]:
    """District attributes by AGS from the CSV beside the boundaries."""
    with path.open(encoding="utf-8", newline="") as fh:
        return {row["ags"]: row for row in csv.DictReader(fh)}


def load_boundaries(
    conn: Connection,
    districts_path: Path,
    municipalities_path: Path,
    attributes_path: Path,
    source: str,
) -> BoundaryLoadReport:
    """Upsert districts (with attributes) and their municipalities; returns a report."""
    report = BoundaryLoadReport()
    attributes = read_district_attributes(attributes_path)
    districts = json.loads(districts_path.read_text(encoding="utf-8"))
    srid = feature_srid(districts)
    for feature in districts["features"]:
        ags = feature["properties"]["ags"]
        attrs = attributes[ags]
        params = {
            "ags": ags, "key": attrs["key"], "name": attrs["name"], "kind": attrs["kind"],
            "state": attrs["state"], "nuts3": attrs["nuts3"], "seat": attrs["seat"],
            "geometry": geometry_json(feature), "srid": srid, "source": source,
        }
        if conn.execute(_INVALID_INPUT, params).scalar_one():
            report.repaired.append(ags)
        report.districts_written += conn.execute(_UPSERT_DISTRICT, params).rowcount

    municipalities = json.loads(municipalities_path.read_text(encoding="utf-8"))
    srid = feature_srid(municipalities)
    for feature in municipalities["features"]:
        props = feature["properties"]
        params = {
            "ags": props["ags"], "name": props["name"], "district_ags": props["district_ags"],
            "geometry": geometry_json(feature), "srid": srid, "source": source,
        }
        if conn.execute(_INVALID_INPUT, params).scalar_one():
            report.repaired.append(props["ags"])
        report.municipalities_written += conn.execute(_UPSERT_MUNICIPALITY, params).rowcount
    return report
