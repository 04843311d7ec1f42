"""A parcel import's plan and write, set-based over the staging tables.

:func:`plan` joins each accepted row (``import_typed`` × ``import_geom``) with the stored
parcel of the same (district, ``external_id``) and its site, checks what needs more than one
cell (duplicates in the file, the editor's districts, the site, required fields of a new
parcel, net ≤ gross, causes without restriction, sold is final, the municipality named),
and decides each row's action: ``created``, ``updated`` (with the fields that change) or
``unchanged``. :func:`write` then creates the new sites, inserts and updates the parcels in
one statement each, with location and distances already derived (``gefis.bulk_derived``),
and withdraws parcels a complete import no longer lists, if asked.

A column the file lacks leaves the stored value alone; an empty cell clears an optional
field and keeps a required one (a new parcel gets the column's default). Numbers are
compared at the column's precision, lists as sets, the net area against the effective net
area (so the derived net area exported and read back is no change), and shapes as equal
when their vertex counts agree and they lie within 2 cm of each other (Hausdorff).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text

from app.db.queries.import_geometry import GEOM
from app.db.queries.import_staging import (
    TYPED,
    add_problems,
    not_after_today,
    scope_problems,
)
from app.domain.import_columns import ImportColumn
from app.domain.parcel_fields import FieldType

PLAN = "import_plan"
#: Shapes this close (Hausdorff distance, m) with as many vertices are the same shape.
SAME_SHAPE_M = 0.02
#: Marketing states of a parcel on the market (a complete import's missing ones).
ON_MARKET = ("verfuegbar", "reserviert")


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


def plan(conn: Connection, columns: Sequence[ParcelColumn], *,
         districts: frozenset[str] | None) -> None:
    """Create ``import_plan`` and report the problems that span cells (see the module).

    ``districts``: where the caller may write (``None``: everywhere, an admin).
    """
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
    conn.execute(text(f"ALTER TABLE {PLAN} ADD PRIMARY KEY (row_no)"))
    conn.execute(text(f"ANALYZE {PLAN} (row_no, district_ags, t_site_name, t_site_id, site_id, "
                      "parcel_id)"))
    _resolve_sites(conn)
    _check(conn, columns, districts)


def _resolve_sites(conn: Connection) -> None:
    """The site of each row: by ``site_id``; by name, the parcel's own site first, then an
    active site of that name in the row's district; none given: the parcel's own site."""
    conn.execute(text(f"""
        UPDATE {PLAN} pl SET site_id = s.id FROM sites s
         WHERE pl.t_site_id IS NULL AND pl.t_site_name IS NOT NULL AND s.id = pl.p_site_id
           AND lower(btrim(s.name)) = lower(btrim(pl.t_site_name))
    """))
    conn.execute(text(f"""
        UPDATE {PLAN} pl SET site_id = s.id FROM sites s
         WHERE pl.t_site_id IS NOT NULL AND s.id = pl.t_site_id
           AND (s.withdrawn_at IS NULL OR s.id = pl.p_site_id)
    """))
    conn.execute(text(f"""
        WITH matches AS (
            SELECT pl.row_no, array_agg(s.id ORDER BY s.id) AS ids
              FROM {PLAN} pl JOIN sites s
                ON s.district_ags = pl.district_ags AND s.withdrawn_at IS NULL
               AND lower(btrim(s.name)) = lower(btrim(pl.t_site_name))
             WHERE pl.t_site_id IS NULL AND pl.t_site_name IS NOT NULL AND pl.site_id IS NULL
             GROUP BY pl.row_no)
        UPDATE {PLAN} pl SET site_id = m.ids[1], site_ambiguous = cardinality(m.ids) > 1
          FROM matches m WHERE m.row_no = pl.row_no
    """))
    conn.execute(text(f"UPDATE {PLAN} SET site_id = p_site_id "
                      "WHERE site_id IS NULL AND t_site_id IS NULL AND t_site_name IS NULL"))


def _check(conn: Connection, columns: Sequence[ParcelColumn],
           districts: frozenset[str] | None) -> None:
    add_problems(conn, "external_id", "required", "'external_id fehlt'",
                 "t_external_id IS NULL")
    add_problems(conn, "external_id", "duplicate",
                 "format('external_id „%s“ kommt in der Datei %s-mal vor (Kreis %s)', "
                 "t_external_id, same_key, district_ags)",
                 "t_external_id IS NOT NULL AND same_key > 1", table=PLAN)
    scope_problems(conn, PLAN, districts, "die Fläche")
    add_problems(conn, "site_id", "unknown_site",
                 "format('Standort %s gibt es nicht (oder er ist zurückgezogen)', t_site_id)",
                 "t_site_id IS NOT NULL AND site_id IS NULL", table=PLAN)
    add_problems(conn, "site_name", "ambiguous_site",
                 "format('mehrere aktive Standorte heißen „%s“ im Kreis %s; bitte site_id "
                 "angeben', t_site_name, district_ags)", "site_ambiguous", table=PLAN)
    add_problems(conn, "site_name", "required",
                 "'Standort fehlt: site_name oder site_id angeben'",
                 "parcel_id IS NULL AND t_site_id IS NULL AND t_site_name IS NULL", table=PLAN)
    if districts is not None:
        add_problems(conn, "site_id", "district_not_allowed",
                     "format('Standort %s liegt im Kreis %s, in dem Sie nicht schreiben dürfen',"
                     " pl.site_id, s.district_ags)",
                     "s.id = pl.site_id AND s.district_ags <> ALL (:districts) "
                     "AND (pl.parcel_id IS NULL OR pl.site_id IS DISTINCT FROM pl.p_site_id)",
                     {"districts": sorted(districts)}, table=f"{PLAN} pl, sites s")
    add_problems(conn, "site_id", "withdrawn_site",
                 "format('Standort %s ist zurückgezogen: eine Fläche darauf kann nicht '"
                 "'vermarktet werden (erst den Standort wieder aktivieren)', pl.site_id)",
                 "s.id = pl.site_id AND s.withdrawn_at IS NOT NULL "
                 "AND coalesce(pl.t_marketing_status, pl.p_status, 'verfuegbar') "
                 "IN ('verfuegbar', 'reserviert')",
                 table=f"{PLAN} pl, sites s")
    for name in ("category", "user_groups"):
        add_problems(conn, name, "required",
                     f"'{name} fehlt (für eine neue Fläche erforderlich)'",
                     f"parcel_id IS NULL AND t_{name} IS NULL "
                     f"AND nullif(btrim(r_{name}), '') IS NULL", table=PLAN)
    # (against the shape that will be stored: the parcel's own when the file's is the same)
    gross = "ST_Area(CASE WHEN geom_changed THEN geom_25832 ELSE p_geom END) / 10000"
    add_problems(conn, "net_area_ha", "not_above_gross",
                 "format('Nettofläche %s ha ist größer als die Bruttofläche %s ha der "
                 f"Geometrie', round(t_net_area_ha::numeric, 6), round(({gross})::numeric, 6))",
                 f"t_net_area_ha > {gross} * (1 + 1e-9)", table=PLAN)
    causes_present = any(c.spec.name == "restriction_causes" for c in columns)
    causes = ("coalesce(t_restriction_causes, '{}')" if causes_present
              else "coalesce(p_causes, '{}')")
    add_problems(conn, "restriction_causes", "causes_without_restriction",
                 "'Restriktionsursachen angegeben, aber Restriktionsgrad „keine“'",
                 f"coalesce(t_restriction_level, p_level) = 'keine' "
                 f"AND cardinality({causes}) > 0", table=PLAN)
    add_problems(conn, "marketing_status", "sold_is_final",
                 "format('Fläche %s ist verkauft; „%s“ ist nicht mehr möglich', parcel_id, "
                 "t_marketing_status)",
                 "p_status = 'verkauft' AND t_marketing_status <> 'verkauft'", table=PLAN)
    where, params = not_after_today("t_availability_assessed_on")
    add_problems(conn, "availability_assessed_on", "future_date",
                 "format('%s liegt in der Zukunft', t_availability_assessed_on)", where, params)
    add_problems(conn, "municipality", "municipality_mismatch",
                 "format('Gemeinde laut Datei „%s“, die Geometrie liegt aber in %s (%s)', "
                 "t_municipality, m.name, m.ags)",
                 "m.ags = pl.municipality_ags AND t_municipality IS NOT NULL "
                 "AND btrim(t_municipality) <> m.ags "
                 "AND lower(unaccent(btrim(t_municipality))) <> lower(unaccent(m.name))",
                 table=f"{PLAN} pl, municipalities m")


def decide(conn: Connection, columns: Sequence[ParcelColumn], rejected_rows: str) -> None:
    """Set each row's action and changed fields; ``rejected_rows`` is SQL selecting the
    row numbers with problems."""
    changes = [f"CASE WHEN {c.differs()} THEN '{c.spec.name}' END" for c in columns]
    changes.append("CASE WHEN pl.site_id IS DISTINCT FROM pl.p_site_id THEN 'site_id' END")
    changes.append("CASE WHEN geom_changed THEN 'geometry' END")
    conn.execute(text(f"""
        UPDATE {PLAN} pl SET
            changed_fields = array_remove(ARRAY[{', '.join(changes)}]::text[], NULL),
            action = CASE WHEN pl.row_no IN ({rejected_rows}) THEN 'rejected'
                          WHEN pl.parcel_id IS NULL THEN 'created' END
    """))
    conn.execute(text(f"UPDATE {PLAN} SET action = CASE WHEN cardinality(changed_fields) > 0 "
                      "THEN 'updated' ELSE 'unchanged' END WHERE action IS NULL"))


def derive(conn: Connection) -> None:
    """Distances (km) to the nearest motorway junction and the airport of every row with a
    new shape, as the parcel trigger derives them (``gefis_nearest_km``), for all at once."""
    conn.execute(text(f"""
        WITH j AS (SELECT ST_Collect(geom_25832) AS g FROM infrastructure
                    WHERE kind = 'anschlussstelle'),
             a AS (SELECT ST_Collect(geom_25832) AS g FROM infrastructure WHERE kind = 'flughafen')
        UPDATE {PLAN} pl SET junction_km = ST_Distance(pl.geom_25832, j.g) / 1000.0,
                             airport_km = ST_Distance(pl.geom_25832, a.g) / 1000.0
          FROM j, a WHERE pl.geom_changed AND pl.action IN ('created', 'updated')
    """))


def reshaped_rows(conn: Connection) -> list[int]:
    """Rows to be written with a new shape (their raster statistics are due)."""
    return [r for (r,) in conn.execute(text(
        f"SELECT row_no FROM {PLAN} WHERE geom_changed AND action IN ('created', 'updated') "
        "ORDER BY row_no"))]


def create_sites(conn: Connection) -> int:
    """Create the sites named by new rows and known nowhere in their district."""
    created = conn.execute(text(f"""
        WITH wanted AS (
            SELECT district_ags, lower(btrim(t_site_name)) AS key,
                   min(btrim(t_site_name)) AS name, mode() WITHIN GROUP (ORDER BY
                   municipality_ags) AS municipality_ags
              FROM {PLAN} WHERE action IN ('created', 'updated') AND site_id IS NULL
               AND t_site_name IS NOT NULL
             GROUP BY 1, 2),
        made AS (
            INSERT INTO sites (name, municipality_ags)
            SELECT name, municipality_ags FROM wanted ORDER BY district_ags, key
            RETURNING id, district_ags, lower(btrim(name)) AS key)
        UPDATE {PLAN} pl SET site_id = made.id FROM made
         WHERE pl.site_id IS NULL AND pl.district_ags = made.district_ags
           AND lower(btrim(pl.t_site_name)) = made.key
        RETURNING made.id
    """)).fetchall()
    return len({r.id for r in created})


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
           AND p.marketing_status IN ('verfuegbar', 'reserviert')
           AND NOT EXISTS (SELECT 1 FROM {PLAN} pl WHERE pl.district_ags = p.district_ags
                            AND pl.t_external_id = p.external_id)
         ORDER BY p.district_ags, p.external_id, p.id
    """)).fetchall()
    if withdraw and rows:
        conn.execute(text("UPDATE parcels SET marketing_status = 'zurueckgezogen' "
                          "WHERE id = ANY(:ids)"), {"ids": [r.id for r in rows]})
    return rows
