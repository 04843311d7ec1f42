"""A parcel import's plan and write, set-based over the staging tables.

:func:`plan` joins each accepted row (``import_typed`` × ``import_geom``) with the stored
parcel of the same (district, ``external_id``) and its site, checks what needs more than one
cell (duplicates in the file, the editor's districts, the site, required fields of a new
parcel, net ≤ gross, causes without restriction, sold is final, the municipality named),
and decides each row's action: ``created``, ``updated`` (with the fields that change) or
``unchanged``. :func:`create_sites` then creates the new sites, and
:func:`~app.db.queries.parcels.import_plan.write` inserts and updates the parcels in one
statement each, with location and distances already derived (``gefis.bulk_derived``);
:func:`~app.db.queries.parcels.import_plan.missing` withdraws parcels a complete import no
longer lists, if asked. The statements over ``parcels`` live in
:mod:`app.db.queries.parcels.import_plan`.

A column the file lacks leaves the stored value alone; an empty cell clears an optional
field and keeps a required one (a new parcel gets the column's default). Numbers are
compared at the column's precision, lists as sets, the net area against the effective net
area (so the derived net area exported and read back is no change), and shapes as equal
when their vertex counts agree and they lie within 2 cm of each other (Hausdorff).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, text

from app.db.queries.import_staging import add_problems, not_after_today, scope_problems
from app.db.queries.parcels.import_plan import PLAN, ParcelColumn, create_plan


def plan(conn: Connection, columns: Sequence[ParcelColumn], *,
         districts: frozenset[str] | None) -> None:
    """Create ``import_plan`` and report the problems that span cells (see the module).

    ``districts``: where the caller may write (``None``: everywhere, an admin).
    """
    create_plan(conn, columns)
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


