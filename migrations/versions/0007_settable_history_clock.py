"""A settable clock for the parcel history: ``gefis_now()``.

The history trigger stamped ``changed_at`` with ``now()``, the start of the transaction. A
test that runs several writes inside one transaction (and rolls it back) therefore got one
timestamp for all of them and could not reconstruct "the state at T" between them. The
trigger now asks ``gefis_now()``: ``now()``, unless the transaction has set
``gefis.now`` (``SELECT set_config('gefis.now', '2026-01-15T10:00:00Z', true)``), which
nothing but the tests does. Production behaviour is unchanged.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

#: Columns that never count as a change of a parcel (as in migration 0002).
_NOT_A_CHANGE = "ARRAY['version', 'updated_at', 'created_at', 'gross_area_ha', 'net_area_ha']"

_CLOCK = """
CREATE FUNCTION gefis_now() RETURNS timestamptz LANGUAGE sql STABLE AS $$
    SELECT coalesce(nullif(current_setting('gefis.now', true), '')::timestamptz, now())
$$;
COMMENT ON FUNCTION gefis_now() IS
    'now(), unless the transaction set gefis.now (tests pin the history clock with it)';
"""


def _history_function(clock: str) -> str:
    """``gefis_parcels_history()`` of migration 0002, stamping ``changed_at`` with ``clock``."""
    return f"""
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
    VALUES (NEW.id, lower(TG_OP), {clock}, gefis_actor(),
            nullif(current_setting('gefis.reason', true), ''), diff, new_row);
    RETURN NULL;
END $$;
"""


def upgrade() -> None:
    op.execute(_CLOCK)
    op.execute(_history_function("gefis_now()"))


def downgrade() -> None:
    op.execute(_history_function("now()"))
    op.execute("DROP FUNCTION IF EXISTS gefis_now()")
