"""A change of a site's partners is a change of the site (version and ETag move on).

Without this, two clients could replace each other's partner lists unnoticed: optimistic
locking only saw the site's own columns. Statement-level triggers on ``site_partners`` bump
the version of every site whose partners changed; the sites trigger accepts such an
explicit bump (``version = version + 1`` with no other change).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_SITES_BEFORE_WRITE = """
CREATE OR REPLACE FUNCTION gefis_sites_before_write() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.geom_25832 IS NOT NULL
       AND (TG_OP = 'INSERT' OR NEW.geom_25832 IS DISTINCT FROM OLD.geom_25832) THEN
        IF NOT ST_IsValid(NEW.geom_25832) THEN
            PERFORM gefis_raise_geometry_invalid('sites', NEW.geom_25832);
        END IF;
        IF NEW.municipality_ags IS NULL THEN
            NEW.municipality_ags := gefis_locate_municipality(NEW.geom_25832);
            IF NEW.municipality_ags IS NULL THEN
                PERFORM gefis_raise_outside_region('sites');
            END IF;
        END IF;
    END IF;
    NEW.district_ags := left(NEW.municipality_ags, 5);
    IF TG_OP = 'UPDATE' THEN
        NEW.created_at := OLD.created_at;
        IF NEW.version = OLD.version + 1 THEN
            NEW.updated_at := now();  -- explicit bump (e.g. the partners changed)
        ELSIF (to_jsonb(NEW) - ARRAY['version', 'updated_at', 'created_at', 'outline_area_ha'])
              IS DISTINCT FROM (to_jsonb(OLD) - ARRAY['version', 'updated_at', 'created_at', 'outline_area_ha']) THEN
            NEW.version := OLD.version + 1;
            NEW.updated_at := now();
        ELSE
            NEW.version := OLD.version;
            NEW.updated_at := OLD.updated_at;
        END IF;
    END IF;
    RETURN NEW;
END $$;
"""

_TOUCH = """
CREATE FUNCTION gefis_site_partners_touch_sites() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE sites SET version = version + 1
     WHERE id IN (SELECT site_id FROM changed_rows);
    RETURN NULL;
END $$;
CREATE TRIGGER site_partners_touch_insert AFTER INSERT ON site_partners
    REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION gefis_site_partners_touch_sites();
CREATE TRIGGER site_partners_touch_update AFTER UPDATE ON site_partners
    REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION gefis_site_partners_touch_sites();
CREATE TRIGGER site_partners_touch_delete AFTER DELETE ON site_partners
    REFERENCING OLD TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION gefis_site_partners_touch_sites();
"""

_PREVIOUS_SITES_BEFORE_WRITE = _SITES_BEFORE_WRITE.replace(
    """        IF NEW.version = OLD.version + 1 THEN
            NEW.updated_at := now();  -- explicit bump (e.g. the partners changed)
        ELSIF""", "        IF")


def upgrade() -> None:
    op.execute(_SITES_BEFORE_WRITE)
    op.execute(_TOUCH)


def downgrade() -> None:
    for event in ("insert", "update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS site_partners_touch_{event} ON site_partners")
    op.execute("DROP FUNCTION IF EXISTS gefis_site_partners_touch_sites()")
    op.execute(_PREVIOUS_SITES_BEFORE_WRITE)
