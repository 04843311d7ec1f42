"""The import's set-based polygon intake gives the verdict ``gefis_polygon_intake`` gives for
the same shapes: the same refusal code, or the same municipality and stored shape."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Connection, text

from app.db.queries.import_geometry import GEOM, IntakeRules, intake
from app.db.queries.import_staging import PROBLEMS, TYPED, create_staging, drop_staging
from app.domain.import_columns import PARCEL_IMPORT
from app.services.imports.crs import crs_box

#: Shapes in EPSG:25832 (WKT), each with what the one-row intake says of it.
SHAPES = {
    "inside Leipzig": "POLYGON((733000 5693000,733200 5693000,733200 5693200,733000 5693200,"
                      "733000 5693000))",
    "bow tie": "POLYGON((733000 5693000,733200 5693200,733200 5693000,733000 5693200,"
               "733000 5693000))",
    "sliver part": "MULTIPOLYGON(((733000 5693000,733200 5693000,733200 5693200,733000 5693200,"
                   "733000 5693000)),((734000 5693000,734000.5 5693000,734000.5 5693000.5,"
                   "734000 5693000.5,734000 5693000)))",
    "Munich": "POLYGON((691000 5334000,691200 5334000,691200 5334200,691000 5334200,"
              "691000 5334000))",
    "a line": "LINESTRING(733000 5693000,733200 5693200)",
    "across Leipzig's boundary": None,  # built below from the boundary itself
}


def _across_boundary(conn: Connection) -> str:
    """A 400 m square centred on a point of Leipzig's boundary."""
    return conn.execute(text(
        "SELECT ST_AsText(ST_Expand(ST_PointN(ST_ExteriorRing(ST_GeometryN(geom_25832, 1)), 1), "
        "200)) FROM municipalities WHERE ags = '14713000'")).scalar_one()


def _one_by_one(conn: Connection, wkt: str) -> tuple[str | None, str | None, str | None]:
    geojson = conn.execute(text("SELECT ST_AsGeoJSON(ST_GeomFromText(:w, 25832))"),
                           {"w": wkt}).scalar_one()
    row = conn.execute(text(
        "SELECT problem, municipality_ags, ST_AsText(ST_SnapToGrid(geom_25832, 0.01)) AS shape "
        "FROM gefis_polygon_intake(:g, 25832)"), {"g": geojson}).one()
    return row.problem, row.municipality_ags, row.shape


def test_the_bulk_intake_agrees_with_the_one_row_intake(conn: Connection) -> None:
    shapes = {name: wkt or _across_boundary(conn) for name, wkt in SHAPES.items()}
    names = create_staging(conn, PARCEL_IMPORT.columns)
    assert "wkt" in names
    conn.execute(text("INSERT INTO import_staging (row_no, wkt) "
                      "SELECT ord, w FROM unnest(CAST(:w AS text[])) WITH ORDINALITY AS t(w, ord)"),
                 {"w": list(shapes.values())})
    conn.execute(text(f"CREATE TEMP TABLE {TYPED} ON COMMIT DROP AS "
                      "SELECT row_no, wkt, gefis_try_geometry(wkt, 25832) AS geom_in "
                      "FROM import_staging"))
    intake(conn, IntakeRules(srid=25832, crs_box=crs_box(25832), repair=False,
                             min_area_m2=1.0, max_vertices=100_000, max_outside_share=0.01))
    bulk = {}
    for i, name in enumerate(shapes, start=1):
        problem = conn.execute(text(f"SELECT min(code) FROM {PROBLEMS} WHERE row_no = :r"),
                               {"r": i}).scalar_one()
        located = conn.execute(text(
            f"SELECT municipality_ags, ST_AsText(ST_SnapToGrid(geom_25832, 0.01)) AS shape "
            f"FROM {GEOM} WHERE row_no = :r"), {"r": i}).one_or_none()
        bulk[name] = (problem, located.municipality_ags if located else None,
                      located.shape if located else None)
    one = {name: _one_by_one(conn, wkt) for name, wkt in shapes.items()}
    assert bulk == one
    assert {name: verdict[0] for name, verdict in bulk.items()} == {
        "inside Leipzig": None, "bow tie": "invalid_geometry", "sliver part": "sliver",
        "Munich": "outside_region", "a line": "geometry_type",
        "across Leipzig's boundary": None}
    drop_staging(conn)


@pytest.mark.parametrize("srid", [4326, 25833, 31468, 3035])
def test_the_crs_area_of_use_holds_the_region(srid: int) -> None:
    """Leipzig lies inside the area every supported CRS's coordinates are checked against."""
    from pyproj import Transformer

    x, y = Transformer.from_crs(4326, srid, always_xy=True).transform(12.37, 51.34)
    x0, y0, x1, y1 = crs_box(srid)
    assert x0 < x < x1 and y0 < y < y1, json.dumps([x0, y0, x1, y1])
