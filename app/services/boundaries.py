"""Load district and municipality boundaries into PostGIS.

Reads GeoJSON in any CRS PostGIS knows (``crs`` member, default EPSG:4326 lon/lat per
RFC 7946) and takes every polygon through the same intake as the API
(:func:`app.services.geometry_input.intake_polygons`, i.e. ``gefis_polygon_intake``):
transformed to EPSG:25832 in 2-D, invalid polygons repaired with ``ST_MakeValid`` (and
reported), not located (the boundaries define the region). A refused polygon stops the load
with an error naming its feature index. Rows are upserted by AGS, so loading the same files
again changes nothing.

A replaced row is kept in ``boundary_versions`` by a trigger (migration 0019). A new
Gebietsstand of the region comes in through the boundary import
(:mod:`app.services.boundary_import`), which uses the same intake and limits.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from app.db.upsert import upsert_changed
from app.domain.geometry_input import GeometryLimits
from app.services.geojson_io import feature_srid
from app.services.geometry_input import PolygonIntake, intake_polygons

#: Boundaries are reference data: no vertex limit worth the name, no sliver rule (islands
#: and enclaves may be tiny); only shapes without any area are refused.
BOUNDARY_LIMITS = GeometryLimits(max_vertices=10_000_000, min_area_m2=0.0)

#: "Gebietsstand DD.MM.YYYY" in a source label (as in BKG's citation of VG250).
_GEBIETSSTAND = re.compile(r"Gebietsstand (\d{2})\.(\d{2})\.(\d{4})")

#: The intake's result (EWKT, EPSG:25832).
_POLYGON_25832 = "ST_GeomFromEWKT(:geometry)"

_UPSERT_DISTRICT = upsert_changed("districts", ("ags",), {
    "ags": ":ags", "key": ":key", "name": ":name", "kind": ":kind", "state": ":state",
    "nuts3": ":nuts3", "seat": ":seat", "geom_25832": _POLYGON_25832, "boundary_source": ":source",
})

_UPSERT_MUNICIPALITY = upsert_changed("municipalities", ("ags",), {
    "ags": ":ags", "name": ":name", "district_ags": ":district_ags",
    "geom_25832": _POLYGON_25832, "boundary_source": ":source",
})


@dataclass
class BoundaryLoadReport:
    """What a boundary load did: rows written (inserted or changed) and repaired AGS keys."""

    districts_written: int = 0
    municipalities_written: int = 0
    repaired: list[str] = field(default_factory=list)


def gebietsstand(source: str) -> date | None:
    """The date a source label names as "Gebietsstand DD.MM.YYYY" (as SQL's
    ``gefis_gebietsstand``, migration 0019), else ``None``.

    >>> gebietsstand("BKG VG250, Gebietsstand 01.01.2016")
    datetime.date(2016, 1, 1)
    >>> gebietsstand("VG250") is None
    True
    """
    match = _GEBIETSSTAND.search(source)
    if match is None:
        return None
    day, month, year = (int(g) for g in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        return None


def read_district_attributes(path: Path) -> dict[str, dict[str, str]]:
    """District attributes by AGS from the CSV beside the boundaries."""
    with path.open(encoding="utf-8", newline="") as fh:
        return {row["ags"]: row for row in csv.DictReader(fh)}


def _intake(conn: Connection, path: Path) -> tuple[list[dict[str, Any]], list[PolygonIntake]]:
    """The features of a boundary file and their polygons after the intake (in order)."""
    collection = json.loads(path.read_text(encoding="utf-8"))
    features: list[dict[str, Any]] = collection["features"]
    polygons = intake_polygons(conn, [f.get("geometry") for f in features],
                               feature_srid(collection), repair=True, limits=BOUNDARY_LIMITS,
                               locate=False, source=path.name)
    return features, polygons


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
    for feature, polygon in zip(*_intake(conn, districts_path), strict=True):
        ags = feature["properties"]["ags"]
        attrs = attributes[ags]
        params = {
            "ags": ags, "key": attrs["key"], "name": attrs["name"], "kind": attrs["kind"],
            "state": attrs["state"], "nuts3": attrs["nuts3"], "seat": attrs["seat"],
            "geometry": polygon.ewkt, "source": source,
        }
        if polygon.repaired:
            report.repaired.append(ags)
        report.districts_written += conn.execute(_UPSERT_DISTRICT, params).rowcount

    for feature, polygon in zip(*_intake(conn, municipalities_path), strict=True):
        props = feature["properties"]
        params = {
            "ags": props["ags"], "name": props["name"], "district_ags": props["district_ags"],
            "geometry": polygon.ewkt, "source": source,
        }
        if polygon.repaired:
            report.repaired.append(props["ags"])
        report.municipalities_written += conn.execute(_UPSERT_MUNICIPALITY, params).rowcount
    return report
