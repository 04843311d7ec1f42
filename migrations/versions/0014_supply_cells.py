"""Supply cells: today's parcel sums, kept current by the writes themselves.

The balance and the summary sum every parcel; at 200,000 parcels that is hundreds of
milliseconds per request however the query is shaped. ``supply_cells`` holds count, net ha
and gross ha per district, category, marketing status and whether the site is active, in
the four views the balance reads: availability × restriction level, year of availability,
size class, user group. Statement triggers on ``parcels`` and
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
    view smallint NOT NULL CONSTRAINT ck_supply_cells__view__known CHECK (view BETWEEN 1 AND 4),
    district_ags text NOT NULL,
    category text NOT NULL,
    marketing_status text NOT NULL,
    site_active boolean NOT NULL,
    restriction_level text,
    availability text,
    available_year integer,
    size_class text,
    user_group text,
    parcels bigint NOT NULL,
    net_ha double precision NOT NULL,
    gross_ha double precision NOT NULL,
    CONSTRAINT uq_supply_cells__key UNIQUE NULLS NOT DISTINCT (
        view, district_ags, category, marketing_status, site_active, restriction_level,
        availability, available_year, size_class, user_group)
);
COMMENT ON TABLE supply_cells IS
    'Parcel count, net and gross ha by district, category, marketing status and site active '
    'in four views (1 availability x restriction level, 2 year of availability, 3 size class, '
    '4 user group), kept current by triggers on parcels and sites (migration 0014)';
"""

_COMMON = ("district_ags", "category", "marketing_status", "site_active")
_DIMENSIONS = ("restriction_level", "availability", "available_year", "size_class",
               "user_group")
_VIEWS = {1: ("restriction_level", "availability"), 2: ("available_year",),
          3: ("size_class",), 4: ("user_group",)}
_CELL_COLUMNS = ("view", *_COMMON, *_DIMENSIONS)


def _rows(table: str, sign: int, active: str = "s.withdrawn_at IS NULL",
          join: str = "JOIN sites s ON s.id = x.site_id", where: str = "") -> str:
    """Signed rows of parcels ``x`` of ``table``: the cell fields, ``n``, ``net``, ``gross``."""
    return (f"SELECT x.district_ags, x.category, x.marketing_status, {active} AS site_active, "
            "x.restriction_level, x.availability, gefis_available_year(x.availability, "
            "x.available_from, gefis_assessed_on(x.availability_assessed_on, "
            "x.last_verified_at, x.created_at)) AS available_year, "
            "gefis_size_class(x.net_area_ha) AS size_class, x.user_groups, "
            f"{sign} AS n, {sign} * x.net_area_ha AS net, {sign} * x.gross_area_ha AS gross "
            f"FROM {table} x {join} {where}")


def _add(rows: str) -> str:
    """Add the signed rows ``rows`` to the cells of every view (and drop emptied cells)."""
    parts = []
    for view, columns in _VIEWS.items():
        value = {c: "u.value" if c == "user_group" else f"d.{c}" for c in columns}
        picked = ", ".join(value.get(c, "NULL") for c in _DIMENSIONS)
        unnest = " CROSS JOIN LATERAL unnest(d.user_groups) AS u(value)" if view == 4 else ""
        keys = ", ".join([*(f"d.{c}" for c in _COMMON), *value.values()])
        parts.append(f"SELECT {view}, {', '.join(f'd.{c}' for c in _COMMON)}, {picked}, "
                     f"sum(d.n), sum(d.net), sum(d.gross) FROM d{unnest} GROUP BY {keys}")
    return f"""
        WITH d AS MATERIALIZED ({rows})
        INSERT INTO supply_cells AS c ({', '.join(_CELL_COLUMNS)}, parcels, net_ha, gross_ha)
        {' UNION ALL '.join(parts)}
        ON CONFLICT ON CONSTRAINT uq_supply_cells__key DO UPDATE
           SET parcels = c.parcels + excluded.parcels, net_ha = c.net_ha + excluded.net_ha,
               gross_ha = c.gross_ha + excluded.gross_ha;
        DELETE FROM supply_cells WHERE parcels = 0;"""


_SITE_CHANGED = ("JOIN new_rows n ON n.id = x.site_id JOIN old_rows o ON o.id = n.id",
                 "WHERE (n.withdrawn_at IS NULL) <> (o.withdrawn_at IS NULL)")

_PARCELS = f"""
CREATE FUNCTION gefis_supply_cells_on_parcels() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {_add(_rows('new_rows', 1))}
    ELSIF TG_OP = 'DELETE' THEN  -- refused by parcels_no_delete unless it is disabled
        {_add(_rows('old_rows', -1))}
    ELSE
        {_add(_rows('new_rows', 1) + ' UNION ALL ' + _rows('old_rows', -1))}
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION gefis_supply_cells_on_sites() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {_add(_rows('parcels', 1, 'n.withdrawn_at IS NULL', *_SITE_CHANGED) + ' UNION ALL '
          + _rows('parcels', -1, 'o.withdrawn_at IS NULL', *_SITE_CHANGED))}
    RETURN NULL;
END $$;
"""


def upgrade() -> None:
    op.execute(_FUNCTIONS)
    op.execute(_TABLE)
    op.execute(_add(_rows("parcels", 1)))
    op.execute(_PARCELS)
    op.execute("CREATE TRIGGER parcels_supply_cells_insert AFTER INSERT ON parcels "
               "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
               "EXECUTE FUNCTION gefis_supply_cells_on_parcels()")
    op.execute("CREATE TRIGGER parcels_supply_cells_update AFTER UPDATE ON parcels "
               "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT "
               "EXECUTE FUNCTION gefis_supply_cells_on_parcels()")
    op.execute("CREATE TRIGGER parcels_supply_cells_delete AFTER DELETE ON parcels "
               "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT "
               "EXECUTE FUNCTION gefis_supply_cells_on_parcels()")
    op.execute("CREATE TRIGGER sites_supply_cells AFTER UPDATE ON sites "
               "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT "
               "EXECUTE FUNCTION gefis_supply_cells_on_sites()")
    op.execute("ANALYZE supply_cells")


def downgrade() -> None:
    op.execute("DROP TRIGGER sites_supply_cells ON sites")
    op.execute("DROP TRIGGER parcels_supply_cells_delete ON parcels")
    op.execute("DROP TRIGGER parcels_supply_cells_update ON parcels")
    op.execute("DROP TRIGGER parcels_supply_cells_insert ON parcels")
    op.execute("DROP FUNCTION gefis_supply_cells_on_sites(), gefis_supply_cells_on_parcels()")
    op.execute("DROP TABLE supply_cells")
    op.execute("DROP FUNCTION gefis_size_class(double precision), "
               "gefis_available_year(text, date, date), "
               "gefis_assessed_on(date, timestamptz, timestamptz)")
