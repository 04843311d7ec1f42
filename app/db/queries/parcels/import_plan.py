"""The parcels side of the imports, set-based over their plan tables.

* The parcel import (:mod:`app.db.queries.import_parcels`): :func:`create_plan` joins each
  accepted staged row with the stored parcel of the same (district, ``external_id``),
  :func:`write` inserts and updates the parcels the plan decided on, :func:`missing` finds
  (and withdraws) the marketed parcels a complete import no longer lists.
* The land-sale import (:mod:`app.db.queries.import_sales`): :func:`link_sales` finds the
  parcel each sale lies in, :func:`mark_sold` marks the linked parcels still on the market
  as sold.

Geometries are EPSG:25832; areas ha.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text

from app.db.queries.import_geometry import GEOM
from app.db.queries.import_staging import TYPED
from app.domain.filters import MARKETED_STATUS
from app.domain.import_columns import ImportColumn
from app.domain.parcel_fields import FieldType

#: The parcel import's plan: one row per accepted staged row (temporary, dropped on commit).
PLAN = "import_plan"
#: Shapes this close (Hausdorff distance, m) with as many vertices are the same shape.
SAME_SHAPE_M = 0.02
# Marketing states of a parcel on the market (a complete import's missing ones).
_ON_MARKET_SQL = ", ".join(f"'{status}'" for status in MARKETED_STATUS)


@dataclass(frozen=True)
class ParcelColumn:
    """An import column written to a ``parcels`` column, with that column's properties."""

    spec: ImportColumn
    column: str
    nullable: bool
    default: str | None
    numeric_scale: int | None
    data_type: str

    @property
    def value(self) -> str:
        return f"pl.t_{self.spec.name}"

    def new_value(self, creating: bool) -> str:
        """SQL of the value written (``pl`` is the plan row, ``p`` the stored parcel).

        A net area equal to the parcel's derived one (a file read back as it was exported)
        leaves it derived, so it still follows later changes of the shape or servicing.
        """
        if self.spec.name == "net_area_ha" and not creating:
            return (f"CASE WHEN p.net_area_ha_given IS NULL "
                    f"AND abs({self.value} - p.net_area_ha) <= 1e-6 THEN NULL "
                    f"ELSE {self.value} END")
        if self.nullable:
            return self.value
        fallback = (self.default or "NULL") if creating else f"p.{self.column}"
        return f"coalesce({self.value}, {fallback})"

    def differs(self) -> str:
        """SQL: the file's value changes the stored parcel's."""
        new, old = self.value, f"pl.p_{self.column}"
        if self.spec.name == "net_area_ha":
            return (f"CASE WHEN {new} IS NULL THEN {old} IS NOT NULL "
                    f"ELSE abs({new} - pl.p_net_effective) > 1e-6 END")
        if self.spec.type is FieldType.STRINGS:
            changed = f"NOT ({new} @> {old} AND {old} @> {new})"
            return f"({new} IS NOT NULL AND {changed})" if not self.nullable else changed
        if self.numeric_scale is not None:
            new = f"round(CAST({new} AS numeric), {self.numeric_scale})"
        elif self.data_type == "double precision":
            return (f"CASE WHEN {new} IS NULL OR {old} IS NULL THEN {new} IS DISTINCT FROM "
                    f"{old} ELSE abs({new} - {old}) > 1e-9 * greatest(1, abs({old})) END")
        if not self.nullable:
            return f"({new} IS NOT NULL AND {new} IS DISTINCT FROM {old})"
        return f"{new} IS DISTINCT FROM {old}"


def parcel_columns(conn: Connection, present: Sequence[ImportColumn]) -> list[ParcelColumn]:
    """The file's columns that are written to ``parcels``, with the table's properties."""
    info = {r.column_name: r for r in conn.execute(text(
        "SELECT column_name, is_nullable = 'YES' AS nullable, column_default, numeric_scale, "
        "data_type FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = 'parcels'"))}
    out = []
    for c in present:
        if c.column is None or c.column == "external_id":
            continue
        r = info[c.column]
        out.append(ParcelColumn(c, c.column, r.nullable, r.column_default,
                                r.numeric_scale if r.data_type == "numeric" else None,
                                r.data_type))
    return out


def create_plan(conn: Connection, columns: Sequence[ParcelColumn]) -> None:
    """Create :data:`PLAN`: each accepted row (``import_typed`` × ``import_geom``) with the
    stored parcel of the same (district, ``external_id``) as ``p_*`` (its ``columns``, site,
    status, restriction, effective net area and shape), whether the shape changed (see
    :data:`SAME_SHAPE_M`), and empty columns for the later steps (site, action, changed
    fields, derived values)."""
    stored = "".join(f", p.{c.column} AS p_{c.column}" for c in columns)
    conn.execute(text(f"""
        CREATE TEMP TABLE {PLAN} ON COMMIT DROP AS
        SELECT t.*, g.geom_25832, g.municipality_ags, left(g.municipality_ags, 5) AS district_ags,
               g.repaired, p.id AS parcel_id, p.site_id AS p_site_id,
               p.marketing_status AS p_status, p.restriction_level AS p_level,
               p.restriction_causes AS p_causes, p.net_area_ha AS p_net_effective,
               p.geom_25832 AS p_geom{stored},
               count(*) OVER (PARTITION BY left(g.municipality_ags, 5), t.t_external_id)
                   AS same_key,
               CAST(NULL AS bigint) AS site_id, false AS site_ambiguous,
               CAST(NULL AS text) AS action, CAST(NULL AS text[]) AS changed_fields,
               (p.id IS NULL OR ST_NPoints(g.geom_25832) <> ST_NPoints(p.geom_25832)
                OR ST_HausdorffDistance(g.geom_25832, p.geom_25832) > {SAME_SHAPE_M})
                   AS geom_changed, CAST(NULL AS double precision) AS junction_km,
               CAST(NULL AS double precision) AS airport_km,
               CAST(NULL AS double precision) AS slope_mean_pct,
               CAST(NULL AS double precision) AS slope_max_pct,
               CAST(NULL AS double precision) AS flood_hazard_share,
               CAST('{{}}' AS text[]) AS suggested_restriction_causes
          FROM {TYPED} t JOIN {GEOM} g USING (row_no)
          LEFT JOIN parcels p ON p.district_ags = left(g.municipality_ags, 5)
                             AND p.external_id = t.t_external_id
    """))


#: The columns the parcel trigger derives from the shape, and their values in the plan
#: (written as they are: ``gefis.bulk_derived``).
_DERIVED = ("municipality_ags", "district_ags", "distance_junction_km", "distance_airport_km",
            "slope_mean_pct", "slope_max_pct", "flood_hazard_share",
            "suggested_restriction_causes")
_DERIVED_VALUES = ("pl.municipality_ags", "pl.district_ags", "pl.junction_km", "pl.airport_km",
                   "pl.slope_mean_pct", "pl.slope_max_pct", "pl.flood_hazard_share",
                   "pl.suggested_restriction_causes")


def write(conn: Connection, columns: Sequence[ParcelColumn]) -> dict[str, int]:
    """Insert the new parcels and update the changed ones; returns rows written per action."""
    conn.execute(text("SELECT set_config('gefis.bulk_derived', 'on', true)"))
    try:
        names = [c.column for c in columns]
        inserted = conn.execute(text(f"""
            INSERT INTO parcels (external_id, site_id, geom_25832, last_verified_at,
                                 {', '.join((*names, *_DERIVED))})
            SELECT pl.t_external_id, pl.site_id, pl.geom_25832, now(),
                   {', '.join((*(c.new_value(True) for c in columns), *_DERIVED_VALUES))}
              FROM {PLAN} pl WHERE pl.action = 'created' ORDER BY pl.row_no
        """)).rowcount
        geometry_sets = ", ".join(
            f"{column} = CASE WHEN pl.geom_changed THEN {value} ELSE p.{column} END"
            for column, value in zip(_DERIVED, _DERIVED_VALUES, strict=True))
        sets = ", ".join(f"{c.column} = {c.new_value(False)}" for c in columns)
        updated = conn.execute(text(f"""
            UPDATE parcels p SET {sets + ', ' if sets else ''}site_id = pl.site_id,
                   geom_25832 = CASE WHEN pl.geom_changed THEN pl.geom_25832
                                     ELSE p.geom_25832 END,
                   {geometry_sets}, last_verified_at = now()
              FROM {PLAN} pl WHERE pl.parcel_id = p.id AND pl.action = 'updated'
        """)).rowcount
    finally:
        conn.execute(text("SELECT set_config('gefis.bulk_derived', '', true)"))
    conn.execute(text(f"""
        UPDATE {PLAN} pl SET parcel_id = p.id FROM parcels p
         WHERE pl.action = 'created' AND p.district_ags = pl.district_ags
           AND p.external_id = pl.t_external_id
    """))
    return {"created": inserted, "updated": updated}


def missing(conn: Connection, withdraw: bool) -> list[Any]:
    """Marketed parcels of the file's districts that the file does not list (a complete
    import); withdrawn (``zurueckgezogen``) when ``withdraw``. Returns (id, external_id,
    district_ags) rows."""
    rows = conn.execute(text(f"""
        SELECT p.id, p.external_id, p.district_ags FROM parcels p
         WHERE p.district_ags IN (SELECT DISTINCT district_ags FROM {PLAN})
           AND p.marketing_status IN ({_ON_MARKET_SQL})
           AND NOT EXISTS (SELECT 1 FROM {PLAN} pl WHERE pl.district_ags = p.district_ags
                            AND pl.t_external_id = p.external_id)
         ORDER BY p.district_ags, p.external_id, p.id
    """)).fetchall()
    if withdraw and rows:
        conn.execute(text("UPDATE parcels SET marketing_status = 'zurueckgezogen' "
                          "WHERE id = ANY(:ids)"), {"ids": [r.id for r in rows]})
    return rows


def link_sales(conn: Connection, sales: str) -> None:
    """Link each sale of the land-sale plan ``sales`` to the parcel its point lies in (the
    lowest id, if several): ``parcel_id``, ``site_id``, ``parcel_status``; a sale dated
    before the parcel's first history row is not linked (``before_parcel``, with the
    parcel in ``before_parcel_id``).

    ``sales`` has ``row_no``, ``point_25832`` (EPSG:25832) and ``t_sale_date``.
    """
    conn.execute(text(f"""
        UPDATE {sales} x SET parcel_id = CASE WHEN NOT p.too_early THEN p.id END,
               site_id = CASE WHEN NOT p.too_early THEN p.site_id END,
               parcel_status = CASE WHEN NOT p.too_early THEN p.marketing_status END,
               before_parcel = p.too_early, before_parcel_id = p.id
          FROM (SELECT x2.row_no, pa.id, pa.site_id, pa.marketing_status,
                       x2.t_sale_date < (SELECT min(h.changed_at)::date FROM parcel_history h
                                          WHERE h.parcel_id = pa.id) AS too_early
                  FROM {sales} x2
                  CROSS JOIN LATERAL (
                      SELECT p.id, p.site_id, p.marketing_status FROM parcels p
                       WHERE x2.point_25832 IS NOT NULL
                         AND ST_Intersects(p.geom_25832, x2.point_25832)
                       ORDER BY p.id LIMIT 1) pa) p
         WHERE p.row_no = x.row_no
    """))


def mark_sold(conn: Connection, sales: str) -> int:
    """Mark the parcels still on the market that a created or updated sale of the
    land-sale plan ``sales`` is linked to as sold (``verkauft``); returns how many."""
    sold: int = conn.execute(text(f"""
        UPDATE parcels SET marketing_status = 'verkauft'
         WHERE id IN (SELECT parcel_id FROM {sales} WHERE action IN ('created', 'updated')
                         AND parcel_status IN ({_ON_MARKET_SQL}))
    """)).rowcount
    return sold
