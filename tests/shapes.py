"""Small named geometries and rows for tests (EPSG:25832 unless a name says otherwise)."""

from __future__ import annotations

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
