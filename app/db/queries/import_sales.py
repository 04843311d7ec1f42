"""A land-sale import's plan and write, set-based over the staging tables.

A sale lies where its geometry is (a point, or a polygon's point on surface), or, without
one, in the municipality the file names (8-digit AGS or name). It is upserted by its
``external_id`` (the valuation board's contract number). A sale whose point lies in a
registered parcel that was already registered on the sale date is linked to that parcel
(and its site), and a parcel still on the market is marked ``verkauft``; a sale dated before
the parcel was registered is not its sale, and is reported as such.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from app.db.queries.import_geometry import GEOM
from app.db.queries.import_staging import (
    TYPED,
    add_problems,
    not_after_today,
    scope_problems,
)
from app.db.queries.parcels.import_plan import link_sales, mark_sold

SALES = "import_sales"


def plan(conn: Connection, *, districts: frozenset[str] | None) -> None:
    """Create ``import_sales`` (location, the stored sale, the parcel it lies in) and report
    the problems that span cells."""
    conn.execute(text(f"""
        CREATE TEMP TABLE {SALES} ON COMMIT DROP AS
        SELECT t.*, g.geom_25832 AS located, named.ags AS named_ags,
               cardinality(named.ags) AS named_count,
               coalesce(g.municipality_ags, named.ags[1]) AS municipality_ags,
               left(coalesce(g.municipality_ags, named.ags[1]), 5) AS district_ags,
               CASE WHEN g.geom_25832 IS NULL THEN NULL
                    WHEN ST_Dimension(g.geom_25832) = 0 THEN ST_GeometryN(g.geom_25832, 1)
                    ELSE ST_PointOnSurface(g.geom_25832) END AS point_25832,
               s.id AS sale_id, s.sale_date AS p_sale_date, s.area_ha AS p_area_ha,
               s.price_eur_m2 AS p_price_eur_m2, s.buyer_user_group AS p_buyer_user_group,
               s.buyer_origin AS p_buyer_origin, s.municipality_ags AS p_municipality_ags,
               s.parcel_id AS p_parcel_id, s.geom_25832 AS p_geom,
               count(*) OVER (PARTITION BY t.t_external_id) AS same_key,
               CAST(NULL AS bigint) AS parcel_id, CAST(NULL AS bigint) AS site_id,
               CAST(NULL AS text) AS parcel_status, false AS before_parcel,
               CAST(NULL AS bigint) AS before_parcel_id,
               CAST(NULL AS text) AS action, CAST(NULL AS text[]) AS changed_fields
          FROM {TYPED} t
          LEFT JOIN {GEOM} g USING (row_no)
          LEFT JOIN LATERAL (
              SELECT array_agg(m.ags ORDER BY m.ags) AS ags FROM municipalities m
               WHERE g.row_no IS NULL AND t.t_municipality IS NOT NULL
                 AND (m.ags = btrim(t.t_municipality)
                      OR lower(unaccent(m.name)) = lower(unaccent(btrim(t.t_municipality))))
          ) named ON true
          LEFT JOIN land_sales s ON s.external_id = t.t_external_id
         WHERE t.geom_in IS NULL OR g.row_no IS NOT NULL
    """))
    conn.execute(text(f"ALTER TABLE {SALES} ADD PRIMARY KEY (row_no)"))
    link_sales(conn, SALES)
    conn.execute(text(f"ANALYZE {SALES}"))
    _check(conn, districts)


def _check(conn: Connection, districts: frozenset[str] | None) -> None:
    add_problems(conn, "external_id", "required", "'external_id fehlt'",
                 "t_external_id IS NULL")
    add_problems(conn, "external_id", "duplicate",
                 "format('external_id „%s“ kommt in der Datei %s-mal vor', t_external_id, "
                 "same_key)", "t_external_id IS NOT NULL AND same_key > 1", table=SALES)
    for name in ("sale_date", "area_ha"):
        add_problems(conn, name, "required", f"'{name} fehlt'",
                     f"t_{name} IS NULL AND r_{name} IS NULL")
    where, params = not_after_today("t_sale_date")
    add_problems(conn, "sale_date", "future_date",
                 "format('%s liegt in der Zukunft', t_sale_date)", where, params)
    add_problems(conn, "geometry", "required",
                 "'Lage fehlt: eine Geometrie (Punkt oder Fläche) oder die Gemeinde angeben'",
                 "geom_in IS NULL AND t_municipality IS NULL")
    add_problems(conn, "municipality", "unknown_municipality",
                 "format('Gemeinde „%s“ gibt es in der Region nicht', t_municipality)",
                 "located IS NULL AND t_municipality IS NOT NULL "
                 "AND coalesce(named_count, 0) = 0", table=SALES)
    add_problems(conn, "municipality", "ambiguous_municipality",
                 "format('„%s“ ist mehrdeutig (%s); bitte den 8-stelligen AGS angeben', "
                 "t_municipality, array_to_string(named_ags, ', '))",
                 "located IS NULL AND named_count > 1", table=SALES)
    scope_problems(conn, SALES, districts, "der Verkauf")
    add_problems(conn, "geometry", "before_parcel",
                 "format('liegt in Fläche %s, die erst nach dem Verkauf erfasst wurde: nicht "
                 "verknüpft', before_parcel_id)", "before_parcel", table=SALES,
                 severity="note")


_DIFFERS = {
    "sale_date": "t_sale_date IS DISTINCT FROM p_sale_date",
    "area_ha": "abs(t_area_ha - p_area_ha) > 1e-9 * greatest(1, abs(p_area_ha))",
    "price_eur_m2": "round(CAST(t_price_eur_m2 AS numeric), 2) IS DISTINCT FROM p_price_eur_m2",
    "buyer_user_group": "t_buyer_user_group IS DISTINCT FROM p_buyer_user_group",
    "buyer_origin": "t_buyer_origin IS DISTINCT FROM p_buyer_origin",
    "municipality_ags": "municipality_ags IS DISTINCT FROM p_municipality_ags",
    "parcel_id": "parcel_id IS DISTINCT FROM p_parcel_id",
    "geometry": "CASE WHEN point_25832 IS NULL OR p_geom IS NULL THEN "
                "point_25832 IS DISTINCT FROM p_geom "
                "ELSE ST_Distance(point_25832, p_geom) > 0.02 END",
}


def decide(conn: Connection, rejected_rows: str, present: set[str]) -> None:
    """Each row's action; ``present``: the file's columns (others are not compared)."""
    changes = [f"CASE WHEN {sql} THEN '{name}' END" for name, sql in _DIFFERS.items()
               if name in present or name in ("municipality_ags", "parcel_id", "geometry")]
    conn.execute(text(f"""
        UPDATE {SALES} SET changed_fields = array_remove(ARRAY[{', '.join(changes)}]::text[],
                                                         NULL),
               action = CASE WHEN row_no IN ({rejected_rows}) THEN 'rejected'
                             WHEN sale_id IS NULL THEN 'created' END
    """))
    conn.execute(text(f"UPDATE {SALES} SET action = CASE WHEN cardinality(changed_fields) > 0 "
                      "THEN 'updated' ELSE 'unchanged' END WHERE action IS NULL"))


_VALUES = ("sale_date", "district_ags", "municipality_ags", "parcel_id", "site_id", "area_ha",
           "price_eur_m2", "buyer_user_group", "buyer_origin", "geom_25832", "import_id")


def write(conn: Connection, import_id: int, present: set[str]) -> dict[str, int]:
    """Insert and update the sales, and mark the parcels they sold ``verkauft``."""
    keep = {c: f"coalesce(x.t_{c}, s.{c})" if c not in present else f"x.t_{c}"
            for c in ("price_eur_m2", "buyer_user_group", "buyer_origin")}
    created = conn.execute(text(f"""
        INSERT INTO land_sales (external_id, {', '.join(_VALUES)})
        SELECT x.t_external_id, x.t_sale_date, x.district_ags, x.municipality_ags, x.parcel_id,
               x.site_id, x.t_area_ha, x.t_price_eur_m2, x.t_buyer_user_group,
               x.t_buyer_origin, x.point_25832, :import_id
          FROM {SALES} x WHERE x.action = 'created' ORDER BY x.row_no
    """), {"import_id": import_id}).rowcount
    updated = conn.execute(text(f"""
        UPDATE land_sales s SET sale_date = x.t_sale_date, district_ags = x.district_ags,
               municipality_ags = x.municipality_ags, parcel_id = x.parcel_id,
               site_id = x.site_id, area_ha = x.t_area_ha,
               price_eur_m2 = {keep['price_eur_m2']},
               buyer_user_group = {keep['buyer_user_group']},
               buyer_origin = {keep['buyer_origin']},
               geom_25832 = coalesce(x.point_25832, s.geom_25832), import_id = :import_id
          FROM {SALES} x WHERE x.sale_id = s.id AND x.action = 'updated'
    """), {"import_id": import_id}).rowcount
    sold = mark_sold(conn, SALES)
    conn.execute(text(f"""
        UPDATE {SALES} x SET sale_id = s.id FROM land_sales s
         WHERE x.action = 'created' AND s.external_id = x.t_external_id
    """))
    return {"created": created, "updated": updated, "parcels_sold": sold}


def linked(conn: Connection) -> int:
    """Rows linked to a parcel."""
    return int(conn.execute(text(
        f"SELECT count(*) FROM {SALES} WHERE parcel_id IS NOT NULL "
        "AND action IN ('created', 'updated', 'unchanged')")).scalar_one())
