"""A shape's municipality and district are where the larger share of its area lies.

Before, ``gefis_locate_municipality`` took the municipality containing one interior point
(``ST_PointOnSurface``), so a parcel with 69 % of its area in the neighbouring district
belonged to the district of that point, and an editor of the smaller part could write it.
Now, for areal shapes:

1. the district whose municipalities hold the largest share of the shape's area wins, and
   within it the municipality with the largest share (ties: lowest AGS);
2. the area outside every municipality competes like a district: a shape that lies mostly
   outside the region has no municipality (NULL), and the triggers refuse it as before;
3. a shape that intersects one municipality only and lies within it needs no
   ``ST_Intersection`` (the usual case, and the demo loads thousands of parcels).

Points (land sales) and lines keep the point-in-polygon rule. Areas are measured in the
storage CRS, EPSG:25832 (m²). The triggers call the function by name, so they follow.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_BY_AREA = """
CREATE OR REPLACE FUNCTION gefis_locate_municipality(g geometry) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
    candidates text[];
BEGIN
    IF g IS NULL OR ST_IsEmpty(g) THEN
        RETURN NULL;
    END IF;
    IF ST_Dimension(g) < 2 THEN
        RETURN (SELECT m.ags FROM municipalities m
                 WHERE ST_Intersects(m.geom_25832, ST_PointOnSurface(g))
                 ORDER BY m.ags LIMIT 1);
    END IF;
    SELECT array_agg(m.ags ORDER BY m.ags) INTO candidates
      FROM municipalities m WHERE ST_Intersects(m.geom_25832, g);
    IF candidates IS NULL THEN
        RETURN NULL;
    END IF;
    IF cardinality(candidates) = 1 AND ST_CoveredBy(
           g, (SELECT m.geom_25832 FROM municipalities m WHERE m.ags = candidates[1])) THEN
        RETURN candidates[1];
    END IF;
    RETURN (
        WITH shares AS (
            SELECT m.ags, left(m.ags, 5) AS district,
                   ST_Area(ST_Intersection(m.geom_25832, g)) AS area_m2
              FROM municipalities m WHERE m.ags = ANY (candidates)
        ), districts_ranked AS (
            SELECT district, sum(area_m2) AS area_m2 FROM shares GROUP BY district
        ), best AS (
            SELECT district, area_m2 FROM districts_ranked
             ORDER BY area_m2 DESC, district LIMIT 1
        )
        SELECT s.ags FROM shares s JOIN best b USING (district)
         WHERE b.area_m2 > 0
           AND b.area_m2 >= ST_Area(g) - (SELECT sum(area_m2) FROM shares)
         ORDER BY s.area_m2 DESC, s.ags LIMIT 1
    );
END $$;
"""

#: The definition of migration 0002 (one interior point decides).
_BY_POINT = """
CREATE OR REPLACE FUNCTION gefis_locate_municipality(g geometry) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT m.ags FROM municipalities m
    WHERE ST_Intersects(m.geom_25832, ST_PointOnSurface(g))
    ORDER BY m.ags LIMIT 1
$$;
"""


def upgrade() -> None:
    op.execute(_BY_AREA)


def downgrade() -> None:
    op.execute(_BY_POINT)
