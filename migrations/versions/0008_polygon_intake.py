"""One way in for polygons: ``gefis_polygon_intake``.

Every polygon that enters the database from outside (API writes of parcels and sites, the
demo loader, the boundary loader, a future file import) passes through this one function:

1. parse the GeoJSON geometry (Polygon or MultiPolygon only), drop heights and measures,
   set the client's SRID and transform to EPSG:25832, as a MultiPolygon;
2. check validity (``ST_IsValidDetail``, which stops at the first problem); an invalid shape
   is refused with PostGIS's reason and its location in the client's CRS, or, when
   ``repair`` is true, repaired with ``ST_MakeValid`` (*structure* method) and flagged;
3. refuse shapes without area and shapes with a part smaller than ``min_area_m2``
   (slivers), measured in EPSG:25832;
4. unless ``locate`` is false (boundaries, which define the region): locate the
   municipality with ``gefis_locate_municipality`` (largest share of area, migration 0006)
   and measure the share of the area inside the region's districts; a shape without a
   municipality, or with more than ``max_outside_share`` of its area outside, is refused.
   A shape covered by the municipality of its interior point lies wholly there, which is
   also the answer of ``gefis_locate_municipality``: that usual case costs one
   ``ST_CoveredBy`` instead of locating and measuring.

It never raises for bad input (except a cancelled statement, so a statement timeout still
bounds it): a refusal is a row with ``problem`` (a code: ``geometry``, ``geometry_type``,
``required``, ``invalid_geometry``, ``empty_geometry``, ``sliver``, ``outside_region``),
``reason`` (English, naming no column) and no ``geom_25832``. Set-based callers use it with
``CROSS JOIN LATERAL`` and report refusals by their feature index. Work whose size must be
bounded before PostGIS sees a shape (vertex count, request size, counting
self-intersections before a repair) stays with the caller (``app.services.geometry_input``).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_SIGNATURE = ("gefis_polygon_intake(text, integer, boolean, double precision, boolean, "
              "double precision)")

_INTAKE = """
CREATE FUNCTION gefis_polygon_intake(
    geojson text,
    srid integer,
    repair boolean DEFAULT false,
    min_area_m2 double precision DEFAULT 1,
    locate boolean DEFAULT true,
    max_outside_share double precision DEFAULT 0.01,
    OUT geom_25832 geometry,
    OUT repaired boolean,
    OUT invalid_reason text,
    OUT area_m2 double precision,
    OUT municipality_ags text,
    OUT district_ags text,
    OUT inside_share double precision,
    OUT problem text,
    OUT reason text
) RETURNS record LANGUAGE plpgsql STABLE AS $$
DECLARE
    g geometry;
    detail valid_detail;
    at geometry;
    decimals integer := CASE WHEN srid = 4326 THEN 7 ELSE 2 END;
    parts integer;
    smallest_part integer;
    smallest_m2 double precision;
    inside_m2 double precision;
    inner_point geometry;
    covering_ags text;
    covering geometry;
BEGIN
    repaired := false;
    IF geojson IS NULL THEN
        problem := 'required';
        reason := 'geometry is missing';
        RETURN;
    END IF;
    -- Parse, transform, validate and repair in a subtransaction: any error there (GeoJSON
    -- PostGIS cannot read, coordinates the projection cannot take, a GEOS failure) is a
    -- refusal. WHEN OTHERS does not catch query_canceled: a statement timeout still ends it.
    BEGIN
        g := ST_GeomFromGeoJSON(geojson);
        IF GeometryType(g) NOT IN ('POLYGON', 'MULTIPOLYGON') THEN
            problem := 'geometry_type';
            reason := 'only Polygon or MultiPolygon';
            RETURN;
        END IF;
        g := ST_Multi(ST_Transform(ST_SetSRID(ST_Force2D(g), srid), 25832));
        detail := ST_IsValidDetail(g);
        IF NOT detail.valid THEN
            invalid_reason := detail.reason;
            IF detail.location IS NOT NULL THEN
                at := ST_Transform(ST_SetSRID(detail.location, 25832), srid);
                invalid_reason := format('%s at or near point (%s, %s) (%s)', invalid_reason,
                    round(ST_X(at)::numeric, decimals), round(ST_Y(at)::numeric, decimals),
                    CASE WHEN srid = 4326 THEN 'lon/lat' ELSE 'EPSG:' || srid END);
            END IF;
            IF NOT repair THEN
                problem := 'invalid_geometry';
                reason := 'invalid geometry: ' || invalid_reason;
                RETURN;
            END IF;
            g := ST_Multi(ST_CollectionExtract(ST_MakeValid(g, 'method=structure'), 3));
            repaired := true;
        END IF;
    EXCEPTION WHEN OTHERS THEN
        problem := 'geometry';
        reason := 'unreadable geometry: ' || SQLERRM;
        RETURN;
    END;

    area_m2 := coalesce(ST_Area(g), 0);
    IF area_m2 <= 0 THEN
        problem := 'empty_geometry';
        reason := 'geometry has no area';
        RETURN;
    END IF;
    SELECT ST_NumGeometries(g), p.path[1], ST_Area(p.geom)
      INTO parts, smallest_part, smallest_m2
      FROM ST_Dump(g) p ORDER BY ST_Area(p.geom), p.path[1] LIMIT 1;
    IF smallest_m2 < min_area_m2 THEN
        problem := 'sliver';
        reason := format('%s has an area of %s m²; polygons smaller than %s m² are refused '
                         'as slivers',
                         CASE WHEN parts = 1 THEN 'the polygon' ELSE 'polygon ' || smallest_part END,
                         round(smallest_m2::numeric, 2), min_area_m2);
        RETURN;
    END IF;

    IF locate THEN
        -- A shape covered by one municipality has all its area there, which is where
        -- gefis_locate_municipality (largest share) places it too: one test instead of
        -- locating and measuring (the usual case; thousands of demo parcels).
        inner_point := ST_PointOnSurface(g);
        SELECT m.ags, m.geom_25832 INTO covering_ags, covering
          FROM municipalities m WHERE ST_Intersects(m.geom_25832, inner_point)
         ORDER BY m.ags LIMIT 1;
        -- (its bounding box first: a few vertices, and enough unless near a boundary)
        IF covering_ags IS NOT NULL
           AND (ST_CoveredBy(ST_Envelope(g), covering) OR ST_CoveredBy(g, covering)) THEN
            municipality_ags := covering_ags;
            inside_share := 1;
        ELSE
            municipality_ags := gefis_locate_municipality(g);
            SELECT coalesce(sum(CASE WHEN ST_CoveredBy(g, d.geom_25832) THEN area_m2
                                     ELSE ST_Area(ST_Intersection(d.geom_25832, g)) END), 0)
              INTO inside_m2
              FROM districts d WHERE ST_Intersects(d.geom_25832, g);
            inside_share := inside_m2 / area_m2;
        END IF;
        district_ags := left(municipality_ags, 5);
        IF municipality_ags IS NULL OR inside_share < 1 - max_outside_share THEN
            problem := 'outside_region';
            reason := format('geometry lies outside the region (%s %% of its area); is the CRS '
                             'right (EPSG:%s)?', round((100 * (1 - inside_share))::numeric), srid);
            RETURN;
        END IF;
    END IF;
    geom_25832 := g;
END $$;

COMMENT ON FUNCTION gefis_polygon_intake(text, integer, boolean, double precision, boolean,
                                         double precision) IS
'The one way in for polygons (API, loaders, imports): GeoJSON in EPSG:srid -> valid 2-D '
'MultiPolygon in EPSG:25832, repaired only on request, with its municipality, district and '
'share inside the region; a refusal has problem and reason set and geom_25832 NULL.';
"""


def upgrade() -> None:
    op.execute(_INTAKE)


def downgrade() -> None:
    op.execute(f"DROP FUNCTION IF EXISTS {_SIGNATURE}")
