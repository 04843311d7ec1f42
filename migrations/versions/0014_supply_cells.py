"""Supply cells: today's parcel sums, kept current by the writes themselves.

The balance and the summary sum every parcel; at 200,000 parcels that is hundreds of
milliseconds per request however the query is shaped. ``supply_cells`` holds count, net ha
and gross ha per combination of the fields those sums group and filter by (district,
category, restriction level, availability, size class, year of availability, marketing
status, whether the site is active, the user groups). Statement triggers on ``parcels`` and
``sites`` add the new rows' values and take away the old ones in the same transaction, so
the cells always equal the sums over the live tables (``tests/test_supply_cells.py``
compares them); a few thousand cells answer in milliseconds.

The year of availability and the size class are SQL functions here, used by the triggers and
by the select path alike; their tables (0/2/5/10 years, the size bounds) are those of
``app.domain.balance`` as of this revision, and the tests check that they agree.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_FUNCTIONS = """
CREATE FUNCTION gefis_assessed_on(assessed date, verified timestamptz, created timestamptz)
RETURNS date LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(assessed, (verified AT TIME ZONE 'Europe/Berlin')::date,
                    (created AT TIME ZONE 'Europe/Berlin')::date)
$$;
COMMENT ON FUNCTION gefis_assessed_on(date, timestamptz, timestamptz) IS
    'Day an availability class was assessed: recorded, else last verified, else created '
    '(German calendar days)';

CREATE FUNCTION gefis_available_year(availability text, available_from date, assessed date)
RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT extract(year FROM coalesce(available_from, assessed + make_interval(years =>
        CASE availability WHEN 'sofort' THEN 0 WHEN 'kurzfristig' THEN 2
                          WHEN 'mittelfristig' THEN 5 WHEN 'langfristig' THEN 10 END)))::int
$$;
COMMENT ON FUNCTION gefis_available_year(text, date, date) IS
    'Calendar year land becomes available: available_from, else the class counted from the '
    'day it was assessed (app.domain.balance.AVAILABLE_AFTER_YEARS); NULL: never';

CREATE FUNCTION gefis_size_class(area_ha double precision)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN area_ha IS NULL THEN NULL WHEN area_ha < 1 THEN 'lt_1'
                WHEN area_ha < 5 THEN '1_5' WHEN area_ha < 10 THEN '5_10'
                WHEN area_ha < 50 THEN '10_50' ELSE 'gt_50' END
$$;
COMMENT ON FUNCTION gefis_size_class(double precision) IS
    'Size class of an area in ha (app.domain.balance.SIZE_CLASSES)';
"""

_TABLE = """
CREATE TABLE supply_cells (
    district_ags text NOT NULL,
    category text NOT NULL,
    restriction_level text NOT NULL,
    availability text NOT NULL,
    size_class text,
    available_year integer,
    marketing_status text NOT NULL,
    site_active boolean NOT NULL,
    user_groups text[] NOT NULL,
    parcels bigint NOT NULL,
    net_ha double precision NOT NULL,
    gross_ha double precision NOT NULL,
    CONSTRAINT uq_supply_cells__key UNIQUE NULLS NOT DISTINCT (
        district_ags, category, restriction_level, availability, size_class, available_year,
        marketing_status, site_active, user_groups)
);
COMMENT ON TABLE supply_cells IS
    'Parcel count, net and gross ha per combination of the summed fields, kept current by '
    'triggers on parcels and sites (migration 0014)';
"""

_KEYS = ("district_ags", "category", "restriction_level", "availability", "size_class",
         "available_year", "marketing_status", "site_active", "user_groups")


def _key_sql(p: str, active: str) -> str:
    """The cell key of parcel rows ``p`` whose site is active when ``active`` holds."""
    return (f"{p}.district_ags, {p}.category, {p}.restriction_level, {p}.availability, "
            f"gefis_size_class({p}.net_area_ha), gefis_available_year({p}.availability, "
            f"{p}.available_from, gefis_assessed_on({p}.availability_assessed_on, "
            f"{p}.last_verified_at, {p}.created_at)), {p}.marketing_status, {active}, "
            f"{p}.user_groups")


def _add(rows: str) -> str:
    """Add the signed rows ``rows`` (columns: the key, ``n``, ``net``, ``gross``) to the cells."""
    keys = ", ".join(_KEYS)
    return f"""
        INSERT INTO supply_cells AS c ({keys}, parcels, net_ha, gross_ha)
        SELECT {keys}, sum(n), sum(net), sum(gross) FROM ({rows}) d GROUP BY {keys}
        ON CONFLICT ON CONSTRAINT uq_supply_cells__key DO UPDATE
           SET parcels = c.parcels + excluded.parcels, net_ha = c.net_ha + excluded.net_ha,
               gross_ha = c.gross_ha + excluded.gross_ha;
        DELETE FROM supply_cells WHERE parcels = 0;"""


def _rows(table: str, sign: int) -> str:
    return (f"SELECT {_key_sql('x', 's.withdrawn_at IS NULL')}, {sign} AS n, "
            f"{sign} * x.net_area_ha AS net, {sign} * x.gross_area_ha AS gross "
            f"FROM {table} x JOIN sites s ON s.id = x.site_id")


def _named(select: str) -> str:
    """``select`` with its key columns named as the cells' (for the GROUP BY above)."""
    return f"SELECT * FROM ({select}) AS r({', '.join(_KEYS)}, n, net, gross)"


_PARCELS = f"""
CREATE FUNCTION gefis_supply_cells_on_parcels() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {_add(_named(_rows('new_rows', 1)))}
    ELSE
        {_add(_named(_rows('new_rows', 1) + ' UNION ALL ' + _rows('old_rows', -1)))}
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION gefis_supply_cells_on_sites() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {_add(_named(
        f"SELECT {_key_sql('x', 'n.withdrawn_at IS NULL')}, 1, x.net_area_ha, "
        "x.gross_area_ha FROM parcels x JOIN new_rows n ON n.id = x.site_id "
        "JOIN old_rows o ON o.id = n.id "
        "WHERE (n.withdrawn_at IS NULL) <> (o.withdrawn_at IS NULL) UNION ALL "
        f"SELECT {_key_sql('x', 'o.withdrawn_at IS NULL')}, -1, -x.net_area_ha, "
        "-x.gross_area_ha FROM parcels x JOIN new_rows n ON n.id = x.site_id "
        "JOIN old_rows o ON o.id = n.id "
        "WHERE (n.withdrawn_at IS NULL) <> (o.withdrawn_at IS NULL)"))}
    RETURN NULL;
END $$;
"""


def upgrade() -> None:
    op.execute(_FUNCTIONS)
    op.execute(_TABLE)
    op.execute(_add(_named(_rows("parcels", 1))).replace(
        "DELETE FROM supply_cells WHERE parcels = 0;", ""))
    op.execute(_PARCELS)
    op.execute("CREATE TRIGGER parcels_supply_cells_insert AFTER INSERT ON parcels "
               "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
               "EXECUTE FUNCTION gefis_supply_cells_on_parcels()")
    op.execute("CREATE TRIGGER parcels_supply_cells_update AFTER UPDATE ON parcels "
               "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT "
               "EXECUTE FUNCTION gefis_supply_cells_on_parcels()")
    op.execute("CREATE TRIGGER sites_supply_cells AFTER UPDATE ON sites "
               "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT "
               "EXECUTE FUNCTION gefis_supply_cells_on_sites()")
    op.execute("ANALYZE supply_cells")


def downgrade() -> None:
    op.execute("DROP TRIGGER sites_supply_cells ON sites")
    op.execute("DROP TRIGGER parcels_supply_cells_update ON parcels")
    op.execute("DROP TRIGGER parcels_supply_cells_insert ON parcels")
    op.execute("DROP FUNCTION gefis_supply_cells_on_sites(), gefis_supply_cells_on_parcels()")
    op.execute("DROP TABLE supply_cells")
    op.execute("DROP FUNCTION gefis_size_class(double precision), "
               "gefis_available_year(text, date, date), "
               "gefis_assessed_on(date, timestamptz, timestamptz)")
