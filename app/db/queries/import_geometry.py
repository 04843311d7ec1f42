"""The polygon intake of an import, set-based: ``gefis_polygon_intake`` (migration 0008) for
a whole file in a few statements instead of one function call per row.

The rules are the intake's: Polygon or MultiPolygon only, heights dropped, transformed to
EPSG:25832 as a MultiPolygon, invalid shapes refused with PostGIS's reason (or repaired
with ``ST_MakeValid``'s *structure* method on request, and reported), no part below
``min_area_m2``, located in the municipality with the largest share (a shape covered by one
municipality lies there; any other is located by ``gefis_locate_municipality`` itself), at
most ``max_outside_share`` of its area outside the region. Where it differs, it is only in
doing the work for all rows at once: the shapes covered by a municipality are found by one
join that lets PostGIS prepare each municipality's polygon once (one probe per row instead
of testing an unprepared polygon of thousands of vertices), and the invalid ones are
explained and repaired row by row, as they are few. ``tests/test_import_geometry.py``
checks that both give the same verdict on the same shapes.

Two more checks come first, since a file is read whole: the vertex limit per shape, and
whether the shape lies in the CRS's area of use at all (a file in EPSG:25832 declared as
EPSG:4326 would otherwise reach ``ST_Transform`` with impossible coordinates).

Result: ``import_geom`` (row_no, ``geom_25832``, ``area_m2``, ``municipality_ags``,
``district_ags``, ``repaired``), a row for every row of ``import_typed`` whose shape was
accepted; refusals go to the problem table.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, text

from app.db.queries.import_staging import PROBLEMS, TYPED, add_problems

GEOM = "import_geom"
_TYPE_NAMES = {"POINT": "Point", "POLYGON": "Polygon", "MULTIPOLYGON": "MultiPolygon"}


@dataclass(frozen=True)
class IntakeRules:
    """The intake's parameters for one import.

    ``crs_box`` is the CRS's area of use in the file's coordinates (minx, miny, maxx, maxy);
    ``field`` names the geometry in the report.
    """

    srid: int
    crs_box: tuple[float, float, float, float]
    repair: bool
    min_area_m2: float
    max_vertices: int
    max_outside_share: float
    field: str = "geometry"
    allowed_types: tuple[str, ...] = ("POLYGON", "MULTIPOLYGON")
    #: whether a row without a geometry is refused here (a land sale may name its
    #: municipality instead, and checks that itself)
    required: bool = True


def intake(conn: Connection, rules: IntakeRules) -> None:
    """Create ``import_geom`` from ``import_typed.geom_in`` (see the module docstring)."""
    params = {"srid": rules.srid, "x0": rules.crs_box[0], "y0": rules.crs_box[1],
              "x1": rules.crs_box[2], "y1": rules.crs_box[3],
              "max_vertices": rules.max_vertices, "types": list(rules.allowed_types)}
    f = rules.field
    if rules.required:
        add_problems(conn, f, "required", "'Geometrie fehlt'",
                     "geom_in IS NULL AND nullif(btrim(wkt), '') IS NULL")
    add_problems(conn, f, "unreadable", "'Geometrie ist nicht lesbar (WKT)'",
                 "geom_in IS NULL AND nullif(btrim(wkt), '') IS NOT NULL")
    types = " oder ".join(_TYPE_NAMES[t] for t in rules.allowed_types)
    add_problems(conn, f, "geometry_type",
                 f"format('nur {types} erlaubt, nicht %s', GeometryType(geom_in))",
                 "geom_in IS NOT NULL AND GeometryType(geom_in) <> ALL (:types)", params)
    add_problems(conn, f, "too_many_vertices",
                 "format('%s Stützpunkte; höchstens %s sind erlaubt', ST_NPoints(geom_in), "
                 "CAST(:max_vertices AS integer))",
                 "geom_in IS NOT NULL AND ST_NPoints(geom_in) > :max_vertices", params)
    add_problems(conn, f, "outside_region",
                 "format('Koordinaten liegen außerhalb des Gültigkeitsbereichs von EPSG:%s – "
                 "stimmt das Koordinatensystem?', CAST(:srid AS integer))",
                 # (the bounding box inside the rectangle: the shape is too)
                 "geom_in IS NOT NULL AND NOT (geom_in @ "
                 "ST_MakeEnvelope(:x0, :y0, :x1, :y1, :srid))", params)
    conn.execute(text(f"""
        CREATE TEMP TABLE {GEOM} ON COMMIT DROP AS
        SELECT t.row_no, g.geom_25832, ST_IsValid(g.geom_25832) AS valid, false AS repaired,
               CAST(NULL AS text) AS municipality_ags, CAST(NULL AS geometry) AS point
          FROM {TYPED} t
          CROSS JOIN LATERAL (SELECT ST_Multi(ST_Transform(ST_Force2D(t.geom_in), 25832))
                              AS geom_25832) g
         WHERE t.geom_in IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM {PROBLEMS} p WHERE p.row_no = t.row_no
                            AND p.field = :field)
    """), {"field": f})
    conn.execute(text(f"ALTER TABLE {GEOM} ADD PRIMARY KEY (row_no)"))
    _invalid(conn, rules)
    _areas(conn, rules)
    _locate(conn, rules)


def _invalid(conn: Connection, rules: IntakeRules) -> None:
    """Explain invalid shapes (reason and place, in the file's CRS); repair them if asked."""
    reason = ("(SELECT format('%s bei Punkt (%s, %s)', d.reason, "
              "round(ST_X(ST_Transform(ST_SetSRID(d.location, 25832), :srid))::numeric, "
              "CASE WHEN :srid = 4326 THEN 7 ELSE 2 END), "
              "round(ST_Y(ST_Transform(ST_SetSRID(d.location, 25832), :srid))::numeric, "
              "CASE WHEN :srid = 4326 THEN 7 ELSE 2 END)) "
              "FROM ST_IsValidDetail(g.geom_25832) d)")
    params = {"srid": rules.srid}
    if rules.repair:
        add_problems(conn, rules.field, "repaired",
                     f"'ungültige Geometrie repariert (ST_MakeValid): ' || {reason}",
                     "NOT g.valid", params, table=f"{GEOM} g", severity="note")
        conn.execute(text(
            f"UPDATE {GEOM} SET geom_25832 = ST_Multi(ST_CollectionExtract("
            "ST_MakeValid(geom_25832, 'method=structure'), 3)), repaired = true, valid = true "
            "WHERE NOT valid"))
        return
    add_problems(conn, rules.field, "invalid_geometry",
                 f"'ungültige Geometrie: ' || {reason} || "
                 "' (mit repair_geometry=true reparieren lassen)'",
                 "NOT g.valid", params, table=f"{GEOM} g")
    conn.execute(text(f"DELETE FROM {GEOM} WHERE NOT valid"))


def _areas(conn: Connection, rules: IntakeRules) -> None:
    """Refuse shapes without area and with parts below the sliver limit (m², EPSG:25832)."""
    params = {"min_area": rules.min_area_m2}
    add_problems(conn, rules.field, "empty_geometry", "'Geometrie hat keine Fläche'",
                 "ST_Dimension(geom_25832) = 2 AND coalesce(ST_Area(geom_25832), 0) <= 0",
                 table=GEOM)
    smallest = ("(SELECT min(ST_Area(d.geom)) FROM ST_Dump(geom_25832) d)")
    add_problems(conn, rules.field, "sliver",
                 f"format('eine Teilfläche hat nur %s m²; Flächen unter %s m² werden als "
                 f"Splitter abgelehnt', round({smallest}::numeric, 2), "
                 "CAST(:min_area AS float8))",
                 "ST_Dimension(geom_25832) = 2 AND ST_Area(geom_25832) > 0 AND CASE "
                 "WHEN ST_NumGeometries(geom_25832) = 1 THEN ST_Area(geom_25832) "
                 f"ELSE {smallest} END < :min_area",
                 params, table=GEOM)
    conn.execute(text(
        f"DELETE FROM {GEOM} g USING {PROBLEMS} p WHERE p.row_no = g.row_no "
        "AND p.field = :field AND p.severity = 'error'"), {"field": rules.field})


def _locate(conn: Connection, rules: IntakeRules) -> None:
    """Municipality and district of each shape; shapes outside the region are refused."""
    conn.execute(text(f"UPDATE {GEOM} SET point = ST_PointOnSurface(geom_25832)"))
    conn.execute(text(f"CREATE INDEX ON {GEOM} USING gist (point)"))
    conn.execute(text(f"ANALYZE {GEOM} (row_no, point)"))
    # Covered by one municipality: that one (driven from the municipalities, so each
    # polygon is prepared once for all the points inside it).
    conn.execute(text(f"""
        UPDATE {GEOM} g SET municipality_ags = m.ags
          FROM municipalities m
         WHERE ST_Intersects(m.geom_25832, g.point) AND ST_Covers(m.geom_25832, g.geom_25832)
    """))
    # The rest (across a boundary, or outside): as gefis_polygon_intake does it.
    conn.execute(text(f"""
        CREATE TEMP TABLE import_geom_edge ON COMMIT DROP AS
        SELECT g.row_no, gefis_locate_municipality(g.geom_25832) AS ags,
               CASE WHEN ST_Dimension(g.geom_25832) < 2  -- a sale's point: in or out
                    THEN CASE WHEN EXISTS (SELECT 1 FROM districts d
                                            WHERE ST_Intersects(d.geom_25832, g.geom_25832))
                              THEN 1.0 ELSE 0.0 END
                    ELSE (SELECT coalesce(sum(CASE WHEN ST_CoveredBy(g.geom_25832, d.geom_25832)
                                                   THEN ST_Area(g.geom_25832)
                                                   ELSE ST_Area(ST_Intersection(
                                                       d.geom_25832, g.geom_25832)) END), 0)
                            FROM districts d WHERE ST_Intersects(d.geom_25832, g.geom_25832))
                         / ST_Area(g.geom_25832) END AS inside_share
          FROM {GEOM} g WHERE g.municipality_ags IS NULL
    """))
    add_problems(conn, rules.field, "outside_region",
                 "format('liegt zu %s %% außerhalb der Region – stimmt das "
                 "Koordinatensystem (EPSG:%s)?', round((100 * (1 - inside_share))::numeric), "
                 "CAST(:srid AS integer))",
                 "ags IS NULL OR inside_share < 1 - :max_outside",
                 {"srid": rules.srid, "max_outside": rules.max_outside_share},
                 table="import_geom_edge")
    conn.execute(text(f"""
        UPDATE {GEOM} g SET municipality_ags = e.ags FROM import_geom_edge e
         WHERE e.row_no = g.row_no AND e.ags IS NOT NULL AND e.inside_share >= 1 - :max_outside
    """), {"max_outside": rules.max_outside_share})
    conn.execute(text(f"DELETE FROM {GEOM} WHERE municipality_ags IS NULL"))
