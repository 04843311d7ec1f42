"""Derivations, versioning, append-only history and cross-row rules, in the database.

Triggers catch every write path (API, file import, scripts, psql), so derived values and
the history can never be skipped:

- parcels: district and municipality from the geometry (``ST_PointOnSurface`` in a
  municipality; outside the region is refused), distances to the nearest motorway junction
  and to the airport in km, ``version``/``updated_at`` bumped only on a real change;
- parcel_history: one row per real change (actor and reason from ``SET LOCAL gefis.actor``
  / ``gefis.reason``), refusing UPDATE, DELETE and TRUNCATE;
- parcels, sites, land sales and enquiries are never deleted (they are withdrawn);
- site partners' shares sum to 100 % (checked at commit, so partners can be replaced in
  one transaction);
- infrastructure changes recompute parcel distances.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

#: Columns that never count as a change of a parcel (bookkeeping and generated values).
_NOT_A_CHANGE = "ARRAY['version', 'updated_at', 'created_at', 'gross_area_ha', 'net_area_ha']"

FUNCTIONS = f"""
CREATE FUNCTION gefis_actor() RETURNS text LANGUAGE sql STABLE AS $$
    SELECT coalesce(nullif(current_setting('gefis.actor', true), ''), session_user::text)
$$;

CREATE FUNCTION gefis_locate_municipality(g geometry) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT m.ags FROM municipalities m
    WHERE ST_Intersects(m.geom_25832, ST_PointOnSurface(g))
    ORDER BY m.ags LIMIT 1
$$;

-- Distance in km from g to the nearest infrastructure feature of a kind (NULL if none).
CREATE FUNCTION gefis_nearest_km(g geometry, infra_kind text) RETURNS double precision
LANGUAGE sql STABLE AS $$
    SELECT ST_Distance(i.geom_25832, g) / 1000.0 FROM infrastructure i
    WHERE i.kind = infra_kind
    ORDER BY i.geom_25832 <-> g LIMIT 1
$$;

CREATE FUNCTION gefis_raise_geometry_invalid(tbl text, g geometry) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'invalid geometry: %', ST_IsValidReason(g)
        USING ERRCODE = 'check_violation', TABLE = tbl, COLUMN = 'geom_25832',
              CONSTRAINT = 'ck_' || tbl || '__geom_25832__valid';
END $$;

CREATE FUNCTION gefis_raise_outside_region(tbl text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'geometry lies outside the region''s municipalities'
        USING ERRCODE = 'check_violation', TABLE = tbl, COLUMN = 'geom_25832',
              CONSTRAINT = 'ck_' || tbl || '__geom_25832__in_region';
END $$;

CREATE FUNCTION gefis_parcels_before_write() RETURNS trigger LANGUAGE plpgsql AS $$
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

CREATE FUNCTION gefis_parcels_history() RETURNS trigger LANGUAGE plpgsql AS $$
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
    VALUES (NEW.id, lower(TG_OP), now(), gefis_actor(),
            nullif(current_setting('gefis.reason', true), ''), diff, new_row);
    RETURN NULL;
END $$;

CREATE FUNCTION gefis_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%', TG_ARGV[0] USING ERRCODE = 'restrict_violation', TABLE = TG_TABLE_NAME;
END $$;

CREATE FUNCTION gefis_sites_before_write() RETURNS trigger LANGUAGE plpgsql AS $$
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
        IF (to_jsonb(NEW) - ARRAY['version', 'updated_at', 'created_at', 'outline_area_ha'])
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

CREATE FUNCTION gefis_land_sales_before_write() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.geom_25832 IS NOT NULL AND NEW.municipality_ags IS NULL THEN
        NEW.municipality_ags := gefis_locate_municipality(NEW.geom_25832);
        IF NEW.municipality_ags IS NULL THEN
            PERFORM gefis_raise_outside_region('land_sales');
        END IF;
    END IF;
    IF NEW.district_ags IS NULL AND NEW.municipality_ags IS NOT NULL THEN
        NEW.district_ags := left(NEW.municipality_ags, 5);
    END IF;
    IF TG_OP = 'UPDATE' THEN
        NEW.created_at := OLD.created_at;
        IF to_jsonb(NEW) - ARRAY['version', 'updated_at'] IS DISTINCT FROM to_jsonb(OLD) - ARRAY['version', 'updated_at'] THEN
            NEW.version := OLD.version + 1;
            NEW.updated_at := now();
        END IF;
    END IF;
    RETURN NEW;
END $$;

CREATE FUNCTION gefis_check_partner_shares() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    sid bigint := CASE WHEN TG_OP = 'DELETE' THEN OLD.site_id ELSE NEW.site_id END;
    total numeric;
BEGIN
    SELECT sum(share_pct) INTO total FROM site_partners WHERE site_id = sid;
    IF total IS NOT NULL AND total <> 100 THEN
        RAISE EXCEPTION 'partner shares of site % sum to % %%, not 100 %%', sid, total
            USING ERRCODE = 'check_violation', TABLE = 'site_partners', COLUMN = 'share_pct',
                  CONSTRAINT = 'ck_site_partners__share_pct__sum_100';
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION gefis_check_demand_value_location() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    is_located boolean;
BEGIN
    SELECT located INTO is_located FROM demand_components
     WHERE framework_id = NEW.framework_id AND key = NEW.component_key;
    IF is_located AND NEW.district_ags IS NULL OR NOT is_located AND NEW.district_ags IS NOT NULL THEN
        RAISE EXCEPTION 'component % is %: its values must % a district', NEW.component_key,
            CASE WHEN is_located THEN 'located' ELSE 'regional' END,
            CASE WHEN is_located THEN 'name' ELSE 'not name' END
            USING ERRCODE = 'check_violation', TABLE = 'demand_component_values',
                  COLUMN = 'district_ags', CONSTRAINT = 'ck_demand_component_values__district_ags__located';
    END IF;
    RETURN NEW;
END $$;

-- Recompute parcel distances after infrastructure changed; touches only parcels whose
-- distance really changes, so an unchanged reload writes nothing and records no history.
CREATE FUNCTION gefis_refresh_parcel_distances() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    previous_reason text := current_setting('gefis.reason', true);
BEGIN
    PERFORM set_config('gefis.reason', 'Infrastruktur geändert: Entfernungen neu berechnet', true);
    UPDATE parcels p
       SET distance_junction_km = d.junction_km, distance_airport_km = d.airport_km
      FROM (SELECT id, gefis_nearest_km(geom_25832, 'anschlussstelle') AS junction_km,
                   gefis_nearest_km(geom_25832, 'flughafen') AS airport_km
              FROM parcels) d
     WHERE p.id = d.id
       AND (p.distance_junction_km IS DISTINCT FROM d.junction_km
            OR p.distance_airport_km IS DISTINCT FROM d.airport_km);
    PERFORM set_config('gefis.reason', coalesce(previous_reason, ''), true);
    RETURN NULL;
END $$;
"""

TRIGGERS = """
CREATE TRIGGER parcels_before_write BEFORE INSERT OR UPDATE ON parcels
    FOR EACH ROW EXECUTE FUNCTION gefis_parcels_before_write();
CREATE TRIGGER parcels_history AFTER INSERT OR UPDATE ON parcels
    FOR EACH ROW EXECUTE FUNCTION gefis_parcels_history();
CREATE TRIGGER sites_before_write BEFORE INSERT OR UPDATE ON sites
    FOR EACH ROW EXECUTE FUNCTION gefis_sites_before_write();
CREATE TRIGGER land_sales_before_write BEFORE INSERT OR UPDATE ON land_sales
    FOR EACH ROW EXECUTE FUNCTION gefis_land_sales_before_write();

CREATE TRIGGER parcel_history_append_only BEFORE UPDATE OR DELETE ON parcel_history
    FOR EACH ROW EXECUTE FUNCTION gefis_refuse_change('parcel_history is append-only');
CREATE TRIGGER parcel_history_no_truncate BEFORE TRUNCATE ON parcel_history
    FOR EACH STATEMENT EXECUTE FUNCTION gefis_refuse_change('parcel_history is append-only');
CREATE TRIGGER monitoring_snapshots_immutable BEFORE UPDATE OR DELETE ON monitoring_snapshots
    FOR EACH ROW EXECUTE FUNCTION gefis_refuse_change('monitoring snapshots are immutable');
CREATE TRIGGER monitoring_snapshots_no_truncate BEFORE TRUNCATE ON monitoring_snapshots
    FOR EACH STATEMENT EXECUTE FUNCTION gefis_refuse_change('monitoring snapshots are immutable');

CREATE TRIGGER parcels_no_delete BEFORE DELETE ON parcels FOR EACH ROW
    EXECUTE FUNCTION gefis_refuse_change('parcels are never deleted: set marketing_status to zurueckgezogen');
CREATE TRIGGER sites_no_delete BEFORE DELETE ON sites FOR EACH ROW
    EXECUTE FUNCTION gefis_refuse_change('sites are never deleted: set withdrawn_at');
CREATE TRIGGER land_sales_no_delete BEFORE DELETE ON land_sales FOR EACH ROW
    EXECUTE FUNCTION gefis_refuse_change('land sales are never deleted: set withdrawn_at');
CREATE TRIGGER enquiries_no_delete BEFORE DELETE ON enquiries FOR EACH ROW
    EXECUTE FUNCTION gefis_refuse_change('enquiries are never deleted: set withdrawn_at');

CREATE CONSTRAINT TRIGGER site_partners_sum_100 AFTER INSERT OR UPDATE OR DELETE ON site_partners
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION gefis_check_partner_shares();
CREATE TRIGGER demand_component_values_location BEFORE INSERT OR UPDATE ON demand_component_values
    FOR EACH ROW EXECUTE FUNCTION gefis_check_demand_value_location();
CREATE TRIGGER infrastructure_refresh_distances AFTER INSERT OR UPDATE OR DELETE ON infrastructure
    FOR EACH STATEMENT EXECUTE FUNCTION gefis_refresh_parcel_distances();
"""

_TRIGGERS_BY_TABLE = {
    "parcels": ("parcels_before_write", "parcels_history", "parcels_no_delete"),
    "sites": ("sites_before_write", "sites_no_delete"),
    "land_sales": ("land_sales_before_write", "land_sales_no_delete"),
    "enquiries": ("enquiries_no_delete",),
    "parcel_history": ("parcel_history_append_only", "parcel_history_no_truncate"),
    "monitoring_snapshots": ("monitoring_snapshots_immutable", "monitoring_snapshots_no_truncate"),
    "site_partners": ("site_partners_sum_100",),
    "demand_component_values": ("demand_component_values_location",),
    "infrastructure": ("infrastructure_refresh_distances",),
}

_FUNCTIONS = (
    "gefis_refresh_parcel_distances()", "gefis_check_demand_value_location()",
    "gefis_check_partner_shares()", "gefis_land_sales_before_write()",
    "gefis_sites_before_write()", "gefis_refuse_change()", "gefis_parcels_history()",
    "gefis_parcels_before_write()", "gefis_raise_outside_region(text)",
    "gefis_raise_geometry_invalid(text, geometry)", "gefis_nearest_km(geometry, text)",
    "gefis_locate_municipality(geometry)", "gefis_actor()",
)


def upgrade() -> None:
    op.execute(FUNCTIONS)
    op.execute(TRIGGERS)


def downgrade() -> None:
    for table, triggers in _TRIGGERS_BY_TABLE.items():
        for trigger in triggers:
            op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
    for function in _FUNCTIONS:
        op.execute(f"DROP FUNCTION IF EXISTS {function}")
