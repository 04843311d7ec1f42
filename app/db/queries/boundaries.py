"""SQL of the boundary import (``app.services.boundary_import``).

The file's features of the region wait in a temporary table (``gefis_boundary_new``:
level, AGS, name, geometry in EPSG:25832) until they are compared with the stored rows and
written. Geometries count as unchanged when they have the same vertices, in the same
structure, each within ``:tolerance`` metres of its counterpart after ``ST_Normalize``
(which orders parts and rings and orients them): a file written from the stored boundaries
in another CRS, or with other ring orientations (Shapefiles), is unchanged; any edited
vertex is a change.
"""

from __future__ import annotations

from sqlalchemy import text

#: The temporary table of the file's features (dropped at the end of the import).
NEW_TABLE = "gefis_boundary_new"

DROP_NEW = text(f"DROP TABLE IF EXISTS pg_temp.{NEW_TABLE}")

CREATE_NEW = text(f"""
    CREATE TEMPORARY TABLE {NEW_TABLE} (
        level text NOT NULL,
        ags text NOT NULL,
        name text,
        geom_25832 geometry(MultiPolygon, 25832) NOT NULL
    ) ON COMMIT DROP
""")

INSERT_NEW = text(f"""
    INSERT INTO {NEW_TABLE} (level, ags, name, geom_25832)
    VALUES (:level, :ags, :name, ST_GeomFromEWKT(:ewkt))
""")

#: Features of one AGS given in several parts become one MultiPolygon.
MERGE_PARTS = text(f"""
    WITH parts AS (
        DELETE FROM {NEW_TABLE} n
         WHERE (n.level, n.ags) IN (SELECT level, ags FROM {NEW_TABLE}
                                     GROUP BY level, ags HAVING count(*) > 1)
        RETURNING n.level, n.ags, n.name, n.geom_25832
    )
    INSERT INTO {NEW_TABLE} (level, ags, name, geom_25832)
    SELECT level, ags, min(name),
           ST_Multi(ST_CollectionExtract(ST_Union(geom_25832), 3))
      FROM parts GROUP BY level, ags
    RETURNING ags
""")

REGION = text("SELECT ags FROM districts ORDER BY ags")

KNOWN_SRID = text("SELECT EXISTS (SELECT 1 FROM spatial_ref_sys WHERE srid = :srid)")

#: The Gebietsstand of the stored boundaries: latest import, else the date in their source.
CURRENT_VALID_FROM = text("""
    SELECT greatest((SELECT max(valid_from) FROM boundary_imports),
                    (SELECT max(gefis_gebietsstand(boundary_source)) FROM municipalities),
                    (SELECT max(gefis_gebietsstand(boundary_source)) FROM districts))
""")


def _same_shape(a: str, b: str) -> str:
    """SQL: whether geometries ``a`` and ``b`` agree vertex by vertex within ``:tolerance``."""
    return f"""(ST_OrderingEquals({a}, {b}) OR (
        ST_NPoints({a}) = ST_NPoints({b}) AND (
            SELECT count(*) = ST_NPoints({a})
                   AND coalesce(max(ST_Distance(p.geom, q.geom)), 0) <= :tolerance
              FROM ST_DumpPoints(ST_Normalize({a})) p
              JOIN ST_DumpPoints(ST_Normalize({b})) q USING (path))))"""


#: Stored rows and file features of a level side by side: ``status`` is ``inserted``,
#: ``missing``, ``unchanged`` or ``changed``; areas in km² (EPSG:25832).
COMPARE = {
    "municipalities": text(f"""
        SELECT coalesce(n.ags, m.ags) AS ags, m.name AS old_name, n.name AS new_name,
               m.area_km2 AS old_km2, ST_Area(n.geom_25832) / 1e6 AS new_km2,
               CASE WHEN m.ags IS NULL THEN 'inserted' WHEN n.ags IS NULL THEN 'missing'
                    WHEN n.name = m.name AND {_same_shape('n.geom_25832', 'm.geom_25832')}
                    THEN 'unchanged' ELSE 'changed' END AS status
          FROM municipalities m
          FULL JOIN (SELECT * FROM {NEW_TABLE} WHERE level = 'municipalities') n USING (ags)
         ORDER BY 1
    """),
    "districts": text(f"""
        SELECT d.ags, d.name AS old_name, d.name AS new_name,
               d.area_km2 AS old_km2, ST_Area(n.geom_25832) / 1e6 AS new_km2,
               CASE WHEN n.ags IS NULL THEN 'missing'
                    WHEN {_same_shape('n.geom_25832', 'd.geom_25832')} THEN 'unchanged'
                    ELSE 'changed' END AS status
          FROM districts d
          LEFT JOIN (SELECT * FROM {NEW_TABLE} WHERE level = 'districts') n USING (ags)
         ORDER BY 1
    """),
}

#: For each missing municipality, the new one holding the largest share of its area.
SUCCESSORS = text(f"""
    SELECT o.ags, o.name, b.ags AS successor_ags, b.name AS successor_name,
           coalesce(b.share, 0) AS share
      FROM municipalities o
      LEFT JOIN LATERAL (
          SELECT n.ags, n.name,
                 ST_Area(ST_Intersection(o.geom_25832, n.geom_25832))
                 / ST_Area(o.geom_25832) AS share
            FROM {NEW_TABLE} n
           WHERE n.level = 'municipalities' AND ST_Intersects(o.geom_25832, n.geom_25832)
           ORDER BY share DESC, n.ags LIMIT 1) b ON true
     WHERE o.ags = ANY (CAST(:missing AS text[]))
     ORDER BY o.ags
""")

#: Writers of parcels, sites and sales first (they lock their table, then read the
#: boundaries for their foreign keys: the same order, so no deadlock), then the boundaries;
#: plain reads go on.
LOCK = text("LOCK TABLE parcels, sites, site_partners, land_sales IN SHARE ROW EXCLUSIVE MODE; "
            "LOCK TABLE districts, municipalities IN EXCLUSIVE MODE")

RESERVE_IMPORT_ID = text(
    "SELECT nextval(pg_get_serial_sequence('boundary_imports', 'id'))")

SET_CONTEXT = text("""
    SELECT set_config('gefis.boundary_valid_from', :valid_from, true),
           set_config('gefis.boundary_import', :import_id, true)
""")

CURRENT_TIMEOUT = text("SELECT current_setting('statement_timeout')")
#: ``statement_timeout`` for the rest of the transaction (``:value``: ms, or with a unit).
SET_TIMEOUT = text("SELECT set_config('statement_timeout', :value, true)")

SET_REASON = text("SELECT set_config('gefis.reason', :reason, true)")
CURRENT_REASON = text("SELECT coalesce(current_setting('gefis.reason', true), '')")

INSERT_MUNICIPALITIES = text(f"""
    INSERT INTO municipalities (ags, name, district_ags, geom_25832, boundary_source)
    SELECT ags, name, left(ags, 5), geom_25832, :source FROM {NEW_TABLE}
     WHERE level = 'municipalities' AND ags = ANY (CAST(:ags AS text[]))
""")

UPDATE_MUNICIPALITIES = text(f"""
    UPDATE municipalities m
       SET name = n.name, geom_25832 = n.geom_25832, boundary_source = :source
      FROM {NEW_TABLE} n
     WHERE n.level = 'municipalities' AND n.ags = m.ags AND m.ags = ANY (CAST(:ags AS text[]))
""")

UPDATE_DISTRICTS = text(f"""
    UPDATE districts d SET geom_25832 = n.geom_25832, boundary_source = :source
      FROM {NEW_TABLE} n
     WHERE n.level = 'districts' AND n.ags = d.ags AND d.ags = ANY (CAST(:ags AS text[]))
""")

INSERT_MERGER = text("""
    INSERT INTO municipality_mergers (old_ags, old_name, new_ags, effective_from, area_share,
                                      import_id)
    VALUES (:old_ags, :old_name, :new_ags, :valid_from, :share, :import_id)
""")

#: One merger (``:old_ags`` into ``:new_ags``): the rows pointing at the old municipality.
REPOINT_SITES = text("""
    UPDATE sites SET municipality_ags = :new_ags WHERE municipality_ags = :old_ags
    RETURNING id
""")
REPOINT_LAND_SALES = text("""
    UPDATE land_sales SET municipality_ags = :new_ags, district_ags = left(:new_ags, 5)
     WHERE municipality_ags = :old_ags
    RETURNING id
""")

#: Partners of the merged municipalities become the successors' (shares of one site that
#: end up on one municipality are added up; the sum per site stays 100).
REPOINT_PARTNERS = text("""
    WITH mergers AS (
        SELECT * FROM unnest(CAST(:old AS text[]), CAST(:new AS text[])) AS m(old_ags, new_ags)
    ), affected AS (
        SELECT DISTINCT sp.site_id FROM site_partners sp
          JOIN mergers m ON m.old_ags = sp.municipality_ags
    ), removed AS (
        DELETE FROM site_partners sp USING affected a WHERE sp.site_id = a.site_id
        RETURNING sp.site_id, sp.municipality_ags, sp.share_pct
    ), combined AS (
        INSERT INTO site_partners (site_id, municipality_ags, share_pct)
        SELECT r.site_id, coalesce(m.new_ags, r.municipality_ags), sum(r.share_pct)
          FROM removed r LEFT JOIN mergers m ON m.old_ags = r.municipality_ags
         GROUP BY 1, 2
        RETURNING site_id
    )
    SELECT DISTINCT site_id FROM combined ORDER BY 1
""")

DELETE_MUNICIPALITIES = text(
    "DELETE FROM municipalities WHERE ags = ANY (CAST(:ags AS text[]))")

#: The old and new geometries of the municipalities written (``:import_id``, ``:written``):
#: the parcels touching them are located again
#: (:func:`~app.db.queries.parcels.relocate.relocations`).
TOUCHED = f"""
        SELECT geom_25832 FROM boundary_versions
         WHERE import_id = :import_id AND level = 'municipality'
        UNION ALL
        SELECT geom_25832 FROM {NEW_TABLE}
         WHERE level = 'municipalities' AND ags = ANY (CAST(:written AS text[]))"""

INSERT_IMPORT = text("""
    INSERT INTO boundary_imports (id, source, valid_from, file_name, report)
    VALUES (:id, :source, :valid_from, :file_name, CAST(:report AS jsonb))
""")

LIST_IMPORTS = text("""
    SELECT id, imported_at, actor, source, valid_from, file_name,
           report -> 'municipalities' -> 'counts' AS municipalities,
           report -> 'districts' -> 'counts' AS districts,
           report -> 'parcels' -> 'count' AS parcels
      FROM boundary_imports ORDER BY id DESC
""")

GET_IMPORT = text("""
    SELECT id, imported_at, actor, source, valid_from, file_name, report
      FROM boundary_imports WHERE id = :id
""")
