"""Frameworks state their period explicitly and are immutable; parcels say when their
availability class was assessed.

- ``demand_frameworks.period_first_year`` / ``period_last_year`` replace ``horizon_year``:
  the study's 2038 framework covers 19 years, 2020 through 2038 (2,545 ha / 19 = 134 ha a
  year), which cannot be inferred from its base date (2020-12-31) and horizon. Existing rows
  get the base date's year as their first year.
- A framework, its scenarios, components and values never change once stored (a new version
  is a new framework), so a report that names a framework can always be recomputed. Only
  ``is_default`` and ``withdrawn_at`` (new: withdrawn frameworks stay readable) may change.
- ``parcels.availability_assessed_on``: the day the availability class was assessed. Set to
  the day of the write (``gefis_now()``) when a parcel is created or its class changes
  without a date being given. Existing parcels keep NULL (not recorded); readers fall back
  to the last verification, else the creation date.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_FRAMEWORK_TABLES = ("demand_scenarios", "demand_components", "demand_component_values")

_FUNCTIONS = """
CREATE FUNCTION gefis_frameworks_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND (to_jsonb(NEW) - ARRAY['is_default', 'withdrawn_at'])
                          = (to_jsonb(OLD) - ARRAY['is_default', 'withdrawn_at']) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'a stored demand framework is immutable: store a new version instead'
        USING ERRCODE = 'check_violation', TABLE = TG_TABLE_NAME,
              CONSTRAINT = 'ck_' || TG_TABLE_NAME || '__immutable';
END $$;

CREATE FUNCTION gefis_framework_parts_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Parts may be added only in the transaction that creates their framework (its
    -- created_at defaults to now(), the transaction's start).
    IF TG_OP = 'INSERT' AND EXISTS (
            SELECT 1 FROM demand_frameworks f
             WHERE f.id = NEW.framework_id AND f.created_at = now()) THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'DELETE' AND NOT EXISTS (
            SELECT 1 FROM demand_frameworks f WHERE f.id = OLD.framework_id) THEN
        RETURN OLD;  -- cascading from a framework deleted in a migration's downgrade
    END IF;
    RAISE EXCEPTION 'a stored demand framework is immutable: store a new version instead'
        USING ERRCODE = 'check_violation', TABLE = TG_TABLE_NAME,
              CONSTRAINT = 'ck_' || TG_TABLE_NAME || '__immutable';
END $$;

CREATE FUNCTION gefis_parcels_availability_assessed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        NEW.availability_assessed_on := coalesce(NEW.availability_assessed_on, gefis_now()::date);
    ELSIF NEW.availability IS DISTINCT FROM OLD.availability
          AND NEW.availability_assessed_on IS NOT DISTINCT FROM OLD.availability_assessed_on THEN
        NEW.availability_assessed_on := gefis_now()::date;
    END IF;
    RETURN NEW;
END $$;
"""


def upgrade() -> None:
    op.execute("ALTER TABLE demand_frameworks ADD COLUMN period_first_year integer, "
               "ADD COLUMN period_last_year integer, ADD COLUMN withdrawn_at timestamptz")
    op.execute("UPDATE demand_frameworks SET period_first_year = extract(year FROM base_date), "
               "period_last_year = horizon_year")
    op.execute("ALTER TABLE demand_frameworks ALTER COLUMN period_first_year SET NOT NULL, "
               "ALTER COLUMN period_last_year SET NOT NULL, "
               "DROP CONSTRAINT ck_demand_frameworks__horizon_year__after_base, "
               "DROP COLUMN horizon_year, "
               "ADD CONSTRAINT ck_demand_frameworks__period__ordered "
               "CHECK (period_last_year >= period_first_year "
               "AND period_first_year BETWEEN 1990 AND 2100 "
               "AND period_last_year BETWEEN 1990 AND 2100), "
               "ADD CONSTRAINT ck_demand_frameworks__period__covers_base "
               "CHECK (extract(year FROM base_date) BETWEEN period_first_year - 1 "
               "AND period_last_year)")
    op.execute("ALTER TABLE parcels ADD COLUMN availability_assessed_on date")
    op.execute(_FUNCTIONS)
    op.execute("CREATE TRIGGER demand_frameworks_immutable BEFORE UPDATE OR DELETE "
               "ON demand_frameworks FOR EACH ROW EXECUTE FUNCTION gefis_frameworks_immutable()")
    for table in _FRAMEWORK_TABLES:
        op.execute(f"CREATE TRIGGER {table}_immutable BEFORE INSERT OR UPDATE OR DELETE "
                   f"ON {table} FOR EACH ROW EXECUTE FUNCTION gefis_framework_parts_immutable()")
    op.execute("CREATE TRIGGER parcels_availability_assessed BEFORE INSERT OR UPDATE ON parcels "
               "FOR EACH ROW EXECUTE FUNCTION gefis_parcels_availability_assessed()")


def downgrade() -> None:
    op.execute("DROP TRIGGER parcels_availability_assessed ON parcels")
    for table in _FRAMEWORK_TABLES:
        op.execute(f"DROP TRIGGER {table}_immutable ON {table}")
    op.execute("DROP TRIGGER demand_frameworks_immutable ON demand_frameworks")
    op.execute("DROP FUNCTION gefis_parcels_availability_assessed(), "
               "gefis_framework_parts_immutable(), gefis_frameworks_immutable()")
    op.execute("ALTER TABLE parcels DROP COLUMN availability_assessed_on")
    op.execute("ALTER TABLE demand_frameworks ADD COLUMN horizon_year integer")
    op.execute("UPDATE demand_frameworks SET horizon_year = "
               "greatest(period_last_year, extract(year FROM base_date)::int + 1)")
    op.execute("ALTER TABLE demand_frameworks ALTER COLUMN horizon_year SET NOT NULL, "
               "DROP CONSTRAINT ck_demand_frameworks__period__ordered, "
               "DROP CONSTRAINT ck_demand_frameworks__period__covers_base, "
               "DROP COLUMN period_first_year, DROP COLUMN period_last_year, "
               "DROP COLUMN withdrawn_at, "
               "ADD CONSTRAINT ck_demand_frameworks__horizon_year__after_base "
               "CHECK (horizon_year > extract(year FROM base_date))")
