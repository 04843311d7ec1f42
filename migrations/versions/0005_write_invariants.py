"""A marketed parcel never lies on a withdrawn site, whatever the order of concurrent writes.

The service locks the site before it checks it (see ``app/services/write_common.py``); these
constraint triggers check the rule once more when a transaction commits, for every write
path (API, file import, scripts, psql):

- a parcel inserted, moved to another site or given another marketing status must not be
  marketed (``verfuegbar``/``reserviert``) on a withdrawn site. The check share-locks the
  site, so it waits for a concurrent withdrawal and then sees it;
- a site whose ``withdrawn_at`` is set must have no marketed parcel. The site row is locked
  by that very update, so a parcel's own check waits for it.

Whichever of the two commits second fails, so the rule holds without locks in the writer.
The triggers are deferred to the commit, like the partner-share check: a transaction may
pass through a state that breaks the rule, as long as it does not commit it. They read the
rows as they are at commit, not as they were at the event. Errors are check violations
with the constraint names ``ck_parcels__site_id__site_active`` and
``ck_sites__withdrawn_at__no_marketed_parcels`` (a 422 naming ``site_id`` or
``withdrawn_at``). Rows that broke the rule before this migration are left as they are;
withdrawing such a parcel is still allowed. Assumes READ COMMITTED, the PostgreSQL default.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_MARKETED = "ARRAY['verfuegbar', 'reserviert']"

_FUNCTIONS = f"""
CREATE FUNCTION gefis_check_parcel_site_active() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    parcel_site bigint;
    status text;
    site_withdrawn timestamptz;
BEGIN
    SELECT site_id, marketing_status INTO parcel_site, status FROM parcels WHERE id = NEW.id;
    IF status = ANY({_MARKETED}) THEN
        -- FOR SHARE waits for a concurrent withdrawal and then returns the withdrawn row.
        SELECT withdrawn_at INTO site_withdrawn FROM sites WHERE id = parcel_site FOR SHARE;
        IF site_withdrawn IS NOT NULL THEN
            RAISE EXCEPTION 'parcel % is marketed (%), but its site % is withdrawn',
                NEW.id, status, parcel_site
                USING ERRCODE = 'check_violation', TABLE = 'parcels', COLUMN = 'site_id',
                      CONSTRAINT = 'ck_parcels__site_id__site_active';
        END IF;
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION gefis_check_site_withdrawal() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    marketed bigint;
BEGIN
    IF (SELECT withdrawn_at FROM sites WHERE id = NEW.id) IS NULL THEN
        RETURN NULL;
    END IF;
    SELECT count(*) INTO marketed FROM parcels
     WHERE site_id = NEW.id AND marketing_status = ANY({_MARKETED});
    IF marketed > 0 THEN
        RAISE EXCEPTION 'site % is withdrawn, but % of its parcels are still marketed', NEW.id,
            marketed
            USING ERRCODE = 'check_violation', TABLE = 'sites', COLUMN = 'withdrawn_at',
                  CONSTRAINT = 'ck_sites__withdrawn_at__no_marketed_parcels';
    END IF;
    RETURN NULL;
END $$;
"""

_TRIGGERS = """
CREATE CONSTRAINT TRIGGER parcels_site_active
    AFTER INSERT OR UPDATE OF site_id, marketing_status ON parcels
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    EXECUTE FUNCTION gefis_check_parcel_site_active();
CREATE CONSTRAINT TRIGGER sites_no_marketed_parcels_when_withdrawn
    AFTER UPDATE OF withdrawn_at ON sites
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    EXECUTE FUNCTION gefis_check_site_withdrawal();
"""


def upgrade() -> None:
    op.execute(_FUNCTIONS)
    op.execute(_TRIGGERS)


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS sites_no_marketed_parcels_when_withdrawn ON sites")
    op.execute("DROP TRIGGER IF EXISTS parcels_site_active ON parcels")
    op.execute("DROP FUNCTION IF EXISTS gefis_check_site_withdrawal()")
    op.execute("DROP FUNCTION IF EXISTS gefis_check_parcel_site_active()")
