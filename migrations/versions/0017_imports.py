"""Imports of parcels and land sales from files: the import record, its row report, and
the bulk path's hooks in the parcel triggers.

- ``imports``: one row per import (file, options, who, status, progress, counts). Kept for
  every attempt, including rejected files and dry runs (an audit trail; they change no data).
- ``import_rows``: what happened to each row of the file (created, updated, unchanged,
  rejected; missing parcels of a full-district import, withdrawn ones), with the parcel or
  land sale it became.
- ``import_problems``: the row-level report (row, field, code, German message).
- ``parcel_history.import_id`` and ``land_sales.import_id``: every change an import makes
  names the import (from ``SET LOCAL gefis.import_id``).
- The bulk path derives location and distances set-based before it writes, and its history
  is written per statement (``gefis_parcels_history_bulk``, the same rows the per-row trigger
  writes, from the statement's transition tables). With
  ``SET LOCAL gefis.bulk_derived = 'on'`` the per-row trigger keeps the municipality,
  district and distances of an INSERT or UPDATE that already carries them (the import
  computed them with the same rules, in one statement for the whole file); any other
  write derives them as before.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

_NOT_A_CHANGE = "ARRAY['version', 'updated_at', 'created_at', 'gross_area_ha', 'net_area_ha']"

TABLES = """
CREATE TABLE imports (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind text NOT NULL CONSTRAINT ck_imports__kind__known CHECK (kind IN ('parcels', 'land_sales')),
    status text NOT NULL DEFAULT 'queued' CONSTRAINT ck_imports__status__known CHECK (
        status IN ('queued', 'running', 'checked', 'rejected', 'imported', 'failed')),
    dry_run boolean NOT NULL DEFAULT false,
    file_name text NOT NULL,
    file_format text,
    file_bytes bigint,
    layer text,
    crs text,
    actor text NOT NULL,
    options jsonb NOT NULL DEFAULT '{}'::jsonb,
    rows_total integer,
    rows_read integer NOT NULL DEFAULT 0,
    rows_validated integer NOT NULL DEFAULT 0,
    rows_written integer NOT NULL DEFAULT 0,
    counts jsonb NOT NULL DEFAULT '{}'::jsonb,
    columns jsonb NOT NULL DEFAULT '{}'::jsonb,
    notes jsonb NOT NULL DEFAULT '[]'::jsonb,
    error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz,
    finished_at timestamptz,
    heartbeat_at timestamptz
);
CREATE INDEX ix_imports__created_at ON imports (created_at DESC, id DESC);

CREATE TABLE import_rows (
    import_id bigint NOT NULL CONSTRAINT fk_import_rows__import_id REFERENCES imports (id),
    seq integer NOT NULL,
    row_no integer,
    external_id text,
    district_ags text,
    action text NOT NULL CONSTRAINT ck_import_rows__action__known CHECK (
        action IN ('created', 'updated', 'unchanged', 'rejected', 'missing', 'withdrawn')),
    parcel_id bigint,
    land_sale_id bigint,
    changed_fields text[],
    PRIMARY KEY (import_id, seq)
);

CREATE TABLE import_problems (
    import_id bigint NOT NULL CONSTRAINT fk_import_problems__import_id REFERENCES imports (id),
    seq integer NOT NULL,
    row_no integer,
    field text,
    code text NOT NULL,
    message text NOT NULL,
    severity text NOT NULL DEFAULT 'error'
        CONSTRAINT ck_import_problems__severity__known CHECK (severity IN ('error', 'note')),
    PRIMARY KEY (import_id, seq)
);

ALTER TABLE parcel_history ADD COLUMN import_id bigint
    CONSTRAINT fk_parcel_history__import_id REFERENCES imports (id);
CREATE INDEX ix_parcel_history__import_id ON parcel_history (import_id) WHERE import_id IS NOT NULL;
ALTER TABLE land_sales ADD COLUMN import_id bigint
    CONSTRAINT fk_land_sales__import_id REFERENCES imports (id);
"""

FUNCTIONS = f"""
-- Safe readers of a file's text cells: NULL instead of an error, so one bad cell becomes one
-- row of the report instead of failing the statement for the whole file.
CREATE FUNCTION gefis_try_date(value text) RETURNS date LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF value ~ '^\\s*\\d{{4}}-\\d{{2}}-\\d{{2}}([T ][0-9:.+Z-]*)?\\s*$' THEN
        RETURN left(btrim(value), 10)::date;
    ELSIF value ~ '^\\s*\\d{{1,2}}\\.\\d{{1,2}}\\.\\d{{4}}\\s*$' THEN
        RETURN to_date(btrim(value), 'DD.MM.YYYY');
    END IF;
    RETURN NULL;
EXCEPTION WHEN OTHERS THEN
    RETURN NULL;
END $$;

CREATE FUNCTION gefis_try_geometry(wkt text, srid integer) RETURNS geometry
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    RETURN ST_SetSRID(ST_GeomFromText(wkt), srid);
EXCEPTION WHEN OTHERS THEN
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION gefis_import_id() RETURNS bigint LANGUAGE sql STABLE AS $$
    SELECT nullif(current_setting('gefis.import_id', true), '')::bigint
$$;

CREATE OR REPLACE FUNCTION gefis_parcels_history() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    new_row jsonb;
    diff jsonb := '{{}}'::jsonb;
BEGIN
    IF current_setting('gefis.bulk_derived', true) = 'on' THEN
        RETURN NULL;  -- written per statement by gefis_parcels_history_bulk()
    END IF;
    new_row := to_jsonb(NEW);
    IF TG_OP = 'UPDATE' THEN
        IF NEW.version = OLD.version THEN
            RETURN NULL;
        END IF;
        SELECT coalesce(jsonb_object_agg(n.key, jsonb_build_object('old', o.value, 'new', n.value)),
                        '{{}}'::jsonb)
          INTO diff
          FROM jsonb_each(new_row - {_NOT_A_CHANGE}) n
          JOIN jsonb_each(to_jsonb(OLD)) o USING (key)
         WHERE n.value IS DISTINCT FROM o.value;
    END IF;
    INSERT INTO parcel_history (parcel_id, operation, changed_at, actor, reason, changes,
                                row_after, import_id)
    VALUES (NEW.id, lower(TG_OP), gefis_now(), gefis_actor(),
            nullif(current_setting('gefis.reason', true), ''), diff, new_row, gefis_import_id());
    RETURN NULL;
END $$;

-- The bulk path's history: the same rows as gefis_parcels_history() writes one by one, for
-- all rows of an INSERT or UPDATE statement at once (transition tables).
CREATE FUNCTION gefis_parcels_history_bulk() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('gefis.bulk_derived', true) IS DISTINCT FROM 'on' THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        INSERT INTO parcel_history (parcel_id, operation, changed_at, actor, reason, changes,
                                    row_after, import_id)
        SELECT n.id, 'insert', gefis_now(), gefis_actor(),
               nullif(current_setting('gefis.reason', true), ''), '{{}}'::jsonb, to_jsonb(n),
               gefis_import_id()
          FROM new_rows n ORDER BY n.id;
    ELSE
        INSERT INTO parcel_history (parcel_id, operation, changed_at, actor, reason, changes,
                                    row_after, import_id)
        SELECT n.id, 'update', gefis_now(), gefis_actor(),
               nullif(current_setting('gefis.reason', true), ''),
               (SELECT coalesce(jsonb_object_agg(a.key, jsonb_build_object('old', b.value,
                                                                           'new', a.value)),
                                '{{}}'::jsonb)
                  FROM jsonb_each(to_jsonb(n) - {_NOT_A_CHANGE}) a
                  JOIN jsonb_each(to_jsonb(o)) b USING (key)
                 WHERE a.value IS DISTINCT FROM b.value),
               to_jsonb(n), gefis_import_id()
          FROM new_rows n JOIN old_rows o ON o.id = n.id
         WHERE n.version <> o.version ORDER BY n.id;
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION gefis_parcels_before_write() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' OR NEW.geom_25832 IS DISTINCT FROM OLD.geom_25832 THEN
        IF current_setting('gefis.bulk_derived', true) = 'on' AND NEW.municipality_ags IS NOT NULL THEN
            NEW.district_ags := left(NEW.municipality_ags, 5);
        ELSE
            IF NOT ST_IsValid(NEW.geom_25832) THEN
                PERFORM gefis_raise_geometry_invalid('parcels', NEW.geom_25832);
            END IF;
            NEW.municipality_ags := gefis_locate_municipality(NEW.geom_25832);
            IF NEW.municipality_ags IS NULL THEN
                PERFORM gefis_raise_outside_region('parcels');
            END IF;
            NEW.district_ags := left(NEW.municipality_ags, 5);
            NEW.distance_junction_km := gefis_nearest_km(NEW.geom_25832, 'anschlussstelle');
            NEW.distance_airport_km := gefis_nearest_km(NEW.geom_25832, 'flughafen');
        END IF;
    END IF;
    IF TG_OP = 'UPDATE' THEN
        NEW.created_at := OLD.created_at;
        IF (to_jsonb(NEW) - {_NOT_A_CHANGE}) = (to_jsonb(OLD) - {_NOT_A_CHANGE}) THEN
            NEW.version := OLD.version;
            NEW.updated_at := OLD.updated_at;
        ELSE
            NEW.version := OLD.version + 1;
            NEW.updated_at := now();
        END IF;
    END IF;
    RETURN NEW;
END $$;
"""

#: The definitions of 0002/0007, restored on downgrade.
_PREVIOUS = f"""
CREATE OR REPLACE FUNCTION gefis_parcels_history() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    new_row jsonb := to_jsonb(NEW);
    diff jsonb := '{{}}'::jsonb;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF NEW.version = OLD.version THEN
            RETURN NULL;
        END IF;
        SELECT coalesce(jsonb_object_agg(n.key, jsonb_build_object('old', o.value, 'new', n.value)),
                        '{{}}'::jsonb)
          INTO diff
          FROM jsonb_each(new_row - {_NOT_A_CHANGE}) n
          JOIN jsonb_each(to_jsonb(OLD)) o USING (key)
         WHERE n.value IS DISTINCT FROM o.value;
    END IF;
    INSERT INTO parcel_history (parcel_id, operation, changed_at, actor, reason, changes, row_after)
    VALUES (NEW.id, lower(TG_OP), gefis_now(), gefis_actor(),
            nullif(current_setting('gefis.reason', true), ''), diff, new_row);
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION gefis_parcels_before_write() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' OR NEW.geom_25832 IS DISTINCT FROM OLD.geom_25832 THEN
        IF NOT ST_IsValid(NEW.geom_25832) THEN
            PERFORM gefis_raise_geometry_invalid('parcels', NEW.geom_25832);
        END IF;
        NEW.municipality_ags := gefis_locate_municipality(NEW.geom_25832);
        IF NEW.municipality_ags IS NULL THEN
            PERFORM gefis_raise_outside_region('parcels');
        END IF;
        NEW.district_ags := left(NEW.municipality_ags, 5);
        NEW.distance_junction_km := gefis_nearest_km(NEW.geom_25832, 'anschlussstelle');
        NEW.distance_airport_km := gefis_nearest_km(NEW.geom_25832, 'flughafen');
    END IF;
    IF TG_OP = 'UPDATE' THEN
        NEW.created_at := OLD.created_at;
        IF (to_jsonb(NEW) - {_NOT_A_CHANGE}) = (to_jsonb(OLD) - {_NOT_A_CHANGE}) THEN
            NEW.version := OLD.version;
            NEW.updated_at := OLD.updated_at;
        ELSE
            NEW.version := OLD.version + 1;
            NEW.updated_at := now();
        END IF;
    END IF;
    RETURN NEW;
END $$;
"""


def upgrade() -> None:
    op.execute(TABLES)
    op.execute(FUNCTIONS)
    op.execute("""
        CREATE TRIGGER parcels_history_bulk_insert AFTER INSERT ON parcels
            REFERENCING NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION gefis_parcels_history_bulk();
        CREATE TRIGGER parcels_history_bulk_update AFTER UPDATE ON parcels
            REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION gefis_parcels_history_bulk();
        CREATE TRIGGER import_problems_append_only BEFORE UPDATE OR DELETE ON import_problems
            FOR EACH ROW EXECUTE FUNCTION gefis_refuse_change('import reports are append-only');
        CREATE TRIGGER import_rows_append_only BEFORE UPDATE OR DELETE ON import_rows
            FOR EACH ROW EXECUTE FUNCTION gefis_refuse_change('import reports are append-only');
    """)


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS parcels_history_bulk_insert ON parcels")
    op.execute("DROP TRIGGER IF EXISTS parcels_history_bulk_update ON parcels")
    op.execute("DROP FUNCTION IF EXISTS gefis_parcels_history_bulk()")
    op.execute(_PREVIOUS)
    op.execute("DROP FUNCTION IF EXISTS gefis_import_id()")
    op.execute("DROP FUNCTION IF EXISTS gefis_try_date(text)")
    op.execute("DROP FUNCTION IF EXISTS gefis_try_geometry(text, integer)")
    op.execute("ALTER TABLE land_sales DROP COLUMN IF EXISTS import_id")
    op.execute("ALTER TABLE parcel_history DROP COLUMN IF EXISTS import_id")
    op.execute("DROP TABLE IF EXISTS import_problems, import_rows, imports")
