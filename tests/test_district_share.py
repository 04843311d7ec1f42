"""A shape belongs to the district holding the largest share of its area (migration 0006).

The test shape straddles the real boundary between Leipzig city (district 14713) and
Schkeuditz (14730270, Nordsachsen 14730): a 400 m × 100 m block north of it and an
80 m × 225 m stem hanging south into Leipzig, so 69 % of the area lies in Nordsachsen while
the interior point PostGIS picks (``ST_PointOnSurface``, on the stem) lies in Leipzig. Under
the old rule (one interior point decides) the Leipzig editor could write it.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import Connection, text

from app.services.api_keys import create_api_key
from tests.resource_client import Client, problem_fields
from tests.shapes import insert_site

LEIPZIG, NORDSACHSEN = "14713", "14730"
SCHKEUDITZ = "14730270"
#: A point on the Leipzig–Schkeuditz boundary (EPSG:25832); the boundary runs east-west here.
BX, BY = 729_200.0, 5_701_450.0


def _straddling(x: float = BX, y: float = BY) -> list[list[float]]:
    """Block north of the boundary (400 m × 100 m), stem south of it (80 m × 225 m)."""
    return [[x - 200, y], [x - 40, y], [x - 40, y - 225], [x + 40, y - 225], [x + 40, y],
            [x + 200, y], [x + 200, y + 100], [x - 200, y + 100], [x - 200, y]]


STRADDLING = {"type": "Polygon", "coordinates": [_straddling()]}


def _ewkt(ring: list[list[float]]) -> str:
    return "SRID=25832;POLYGON((" + ",".join(f"{x} {y}" for x, y in ring) + "))"


@pytest.fixture
def nordsachsen_editor(http: httpx.Client, conn: Connection) -> Client:
    _, key = create_api_key(conn, "test-editor-nordsachsen", "editor", [NORDSACHSEN], "pytest")
    return Client(http, key)


@pytest.fixture
def sites(conn: Connection) -> dict[str, int]:
    """A site in Leipzig and one in Schkeuditz, so that each editor may use its own."""
    return {district: insert_site(conn, municipality, name=f"Grenzfläche {district}")
            for district, municipality in ((LEIPZIG, "14713000"), (NORDSACHSEN, SCHKEUDITZ))}


def _parcel(site_id: int) -> dict[str, Any]:
    return {"site_id": site_id, "geometry": STRADDLING, "category": "erweiterungsflaeche",
            "user_groups": ["logistik"], "servicing": "erschlossen"}


def test_the_shape_is_mostly_in_nordsachsen_but_its_interior_point_in_leipzig(
        conn: Connection) -> None:
    row = conn.execute(text("""
        WITH g AS (SELECT ST_GeomFromEWKT(:ewkt) AS geom)
        SELECT (SELECT sum(ST_Area(ST_Intersection(d.geom_25832, g.geom))) FROM districts d
                 WHERE d.ags = :b) / ST_Area(g.geom) AS share_b,
               (SELECT d.ags FROM districts d
                 WHERE ST_Intersects(d.geom_25832, ST_PointOnSurface(g.geom))) AS point_in,
               gefis_locate_municipality(g.geom) AS located
        FROM g"""), {"ewkt": _ewkt(_straddling()), "b": NORDSACHSEN}).one()
    assert row.share_b == pytest.approx(0.69, abs=0.01)
    assert row.point_in == LEIPZIG
    assert row.located == SCHKEUDITZ


def test_editor_of_the_smaller_share_may_not_write_the_parcel(
        clients: dict[str, Client], sites: dict[str, int]) -> None:
    response = clients["editor"].post("/parcels", _parcel(sites[LEIPZIG]), crs="EPSG:25832")
    assert problem_fields(response, 403) is not None
    assert NORDSACHSEN in response.json()["detail"]


def test_editor_of_the_larger_share_writes_it_into_that_district(
        nordsachsen_editor: Client, sites: dict[str, int]) -> None:
    parcel = nordsachsen_editor.created("/parcels", _parcel(sites[NORDSACHSEN]),
                                        crs="EPSG:25832")
    assert parcel["district_ags"] == NORDSACHSEN
    assert parcel["municipality_ags"] == SCHKEUDITZ


def test_locate_rules_for_shapes_points_and_shapes_mostly_outside(conn: Connection) -> None:
    def locate(ewkt: str) -> str | None:
        located: str | None = conn.execute(text(
            "SELECT gefis_locate_municipality(ST_GeomFromEWKT(:g))"), {"g": ewkt}).scalar_one()
        return located

    inside = [[BX - 50, BY - 500], [BX + 50, BY - 500], [BX + 50, BY - 400],
              [BX - 50, BY - 400], [BX - 50, BY - 500]]
    assert locate(_ewkt(inside)) == "14713000"
    assert locate(_ewkt(_straddling())) == SCHKEUDITZ
    # mirrored: the block south (Leipzig), the stem north: Leipzig holds the larger share
    mirrored = [[x, 2 * BY - y] for x, y in _straddling()]
    assert locate(_ewkt(mirrored)) == "14713000"
    # points keep the point-in-polygon rule, on either side of the boundary
    assert locate(f"SRID=25832;POINT({BX} {BY - 10})") == "14713000"
    assert locate(f"SRID=25832;POINT({BX} {BY + 10})") == SCHKEUDITZ
    # 71 % east of the region's outer boundary (here running north-south), interior point
    # west of it, in 15082241: a shape that lies mostly outside has no municipality
    bar, block = (746_794, 747_094), (747_094, 747_244)
    mostly_outside = [[bar[0], 5_729_180], [bar[1], 5_729_180], [block[0], 5_729_100],
                      [block[1], 5_729_100], [block[1], 5_729_300], [block[0], 5_729_300],
                      [bar[1], 5_729_220], [bar[0], 5_729_220], [bar[0], 5_729_180]]
    inside = conn.execute(text("""
        WITH g AS (SELECT ST_GeomFromEWKT(:g) AS geom)
        SELECT (SELECT sum(ST_Area(ST_Intersection(m.geom_25832, g.geom))) FROM municipalities m
                 WHERE ST_Intersects(m.geom_25832, g.geom)) / ST_Area(g.geom) AS share,
               (SELECT m.ags FROM municipalities m
                 WHERE ST_Intersects(m.geom_25832, ST_PointOnSurface(g.geom))) AS point_in
        FROM g"""), {"g": _ewkt(mostly_outside)}).one()
    assert inside.share == pytest.approx(0.29, abs=0.02) and inside.point_in == "15082241"
    assert locate(_ewkt(mostly_outside)) is None
