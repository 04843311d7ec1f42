"""Small named geometries and rows for tests (EPSG:25832 unless a name says otherwise)."""

from __future__ import annotations

import itertools
import math
from typing import Any

from pyproj import Transformer
from sqlalchemy import Connection, text

_TO_25832 = Transformer.from_crs(4326, 25832, always_xy=True)

#: Leipzig Markt (lon 12.3752, lat 51.3406) in EPSG:25832 metres.
LEIPZIG_X, LEIPZIG_Y = _TO_25832.transform(12.3752, 51.3406)
#: A point in the Baltic Sea, far outside the region.
BALTIC_X, BALTIC_Y = _TO_25832.transform(11.0, 54.5)


def square(x: float, y: float, side_m: float) -> str:
    """EWKT of an axis-aligned square (lower-left corner x, y; side in m) in EPSG:25832."""
    return (
        f"SRID=25832;MULTIPOLYGON((({x} {y},{x + side_m} {y},{x + side_m} {y + side_m},"
        f"{x} {y + side_m},{x} {y})))"
    )


#: A bow-tie: the classic self-intersecting polygon (invalid).
def bowtie(x: float, y: float, side_m: float) -> str:
    """EWKT of a self-intersecting 'bow-tie' multipolygon."""
    return (
        f"SRID=25832;MULTIPOLYGON((({x} {y},{x + side_m} {y + side_m},{x + side_m} {y},"
        f"{x} {y + side_m},{x} {y})))"
    )


def insert_site(conn: Connection, municipality_ags: str = "14713000", **extra: Any) -> int:
    """Insert a minimal site; returns its id."""
    params = {"name": "Testgebiet", "municipality_ags": municipality_ags, **extra}
    cols = ", ".join(params)
    binds = ", ".join(f":{k}" for k in params)
    site_id: int = conn.execute(
        text(f"INSERT INTO sites ({cols}) VALUES ({binds}) RETURNING id"), params
    ).scalar_one()
    return site_id


def insert_parcel(conn: Connection, site_id: int, geom_ewkt: str, **extra: Any) -> int:
    """Insert a parcel with sensible defaults; ``extra`` overrides columns; returns its id."""
    params: dict[str, Any] = {
        "site_id": site_id,
        "category": "restflaeche_bestandsgebiet",
        "availability": "sofort",
        "restriction_level": "keine",
        "user_groups": ["handwerk_gewerbe"],
        "servicing": "erschlossen",
        **extra,
    }
    cols = ", ".join(["geom_25832", *params])
    binds = ", ".join(["ST_GeomFromEWKT(:geom)", *(f":{k}" for k in params)])
    parcel_id: int = conn.execute(
        text(f"INSERT INTO parcels ({cols}) VALUES ({binds}) RETURNING id"),
        {**params, "geom": geom_ewkt},
    ).scalar_one()
    return parcel_id


#: A point in Leipzig city, EPSG:25832 (about 2 km east of the centre).
LEIPZIG_EAST_X, LEIPZIG_EAST_Y = 731_000.0, 5_690_000.0


def zigzag_star(vertices: int, *, x: float = LEIPZIG_EAST_X, y: float = LEIPZIG_EAST_Y,
                outer_m: float = 400.0, inner_m: float = 300.0,
                crossings: int = 0) -> list[list[float]]:
    """Closed GeoJSON ring (EPSG:25832, cm) of a star with ``vertices`` alternating points.

    Even points lie on the outer circle, odd ones on the inner (radii in m, centre x, y),
    so the ring is simple. Each of the first ``crossings`` spikes (every fourth point) has
    two outer points swapped, which makes its edges cross (a few crossing edge pairs each).
    """
    step = 2 * math.pi / vertices
    ring = [[round(x + (outer_m if i % 2 == 0 else inner_m) * math.cos(step * i), 2),
             round(y + (outer_m if i % 2 == 0 else inner_m) * math.sin(step * i), 2)]
            for i in range(vertices)]
    for j in range(0, 4 * crossings, 4):
        ring[j], ring[j + 2] = ring[j + 2], ring[j]
    return [*ring, ring[0]]


def star_polygon(vertices: int, *, x: float = LEIPZIG_EAST_X, y: float = LEIPZIG_EAST_Y,
                 radius_m: float = 300.0) -> list[list[float]]:
    """Closed ring (EPSG:25832) of the star polygon {n / (n//2 - 1)}: every edge passes near
    the centre and crosses almost every other one (about n²/2 self-intersections)."""
    turn = vertices // 2 - 1
    ring = [[x + radius_m * math.cos(2 * math.pi * i * turn / vertices),
             y + radius_m * math.sin(2 * math.pi * i * turn / vertices)] for i in range(vertices)]
    return [*ring, ring[0]]


def ring_area(ring: list[list[float]]) -> float:
    """Area enclosed by a simple ring (shoelace formula), in the square of its units."""
    return abs(sum(a[0] * b[1] - b[0] * a[1] for a, b in itertools.pairwise(ring))) / 2
