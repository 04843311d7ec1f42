"""Quarterly monitoring snapshots: one register row per quarter, typed columns for sums.

``monitoring_quarters`` records each stored quarter once (when, of which instant, how many
parcels, up to which history row); ``monitoring_snapshots`` rows belong to one of them. Both
refuse UPDATE, DELETE and TRUNCATE: a quarter is written once, in one transaction, and a
second run for it finds the register row and writes nothing.

The snapshot keeps, beside the full row (``state``, as the history recorded it), the columns
the balance and the reports sum over, typed, so a past quarter is summed without reading
JSON; ``site_active`` freezes whether the parcel's site was active at the quarter's end.

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_QUARTER_END = ("extract(month FROM quarter_end + 1) IN (1, 4, 7, 10) "
                "AND extract(day FROM quarter_end + 1) = 1")

UPGRADE = f"""
CREATE TABLE monitoring_quarters (
    quarter_end date PRIMARY KEY
        CONSTRAINT ck_monitoring_quarters__quarter_end__quarter CHECK ({_QUARTER_END}),
    state_at timestamptz NOT NULL,
    parcels integer NOT NULL CONSTRAINT ck_monitoring_quarters__parcels__non_negative
        CHECK (parcels >= 0),
    last_history_id bigint,
    taken_at timestamptz NOT NULL DEFAULT now(),
    taken_by text
);
COMMENT ON TABLE monitoring_quarters IS
    'Register of stored quarterly snapshots: one row per quarter, written once';
COMMENT ON COLUMN monitoring_quarters.state_at IS
    'Instant the snapshot shows (end of the quarter''s last day, German time)';

INSERT INTO monitoring_quarters (quarter_end, state_at, parcels)
SELECT quarter_end, (quarter_end + 1)::timestamp AT TIME ZONE 'Europe/Berlin', count(*)
FROM monitoring_snapshots GROUP BY quarter_end;

ALTER TABLE monitoring_snapshots
    ADD COLUMN category text,
    ADD COLUMN available_from date,
    ADD COLUMN availability_assessed_on date,
    ADD COLUMN planning_status text,
    ADD COLUMN last_verified_at timestamptz,
    ADD COLUMN created_at timestamptz,
    ADD COLUMN site_active boolean NOT NULL DEFAULT true,
    ADD CONSTRAINT fk_monitoring_snapshots__quarter_end
        FOREIGN KEY (quarter_end) REFERENCES monitoring_quarters (quarter_end);
ALTER TABLE monitoring_snapshots ALTER COLUMN site_active DROP DEFAULT;
COMMENT ON COLUMN monitoring_snapshots.site_active IS
    'Whether the parcel''s site was active (not withdrawn) at the quarter''s end';

CREATE TRIGGER monitoring_quarters_immutable BEFORE UPDATE OR DELETE ON monitoring_quarters
    FOR EACH ROW EXECUTE FUNCTION gefis_refuse_change('monitoring snapshots are immutable');
CREATE TRIGGER monitoring_quarters_no_truncate BEFORE TRUNCATE ON monitoring_quarters
    FOR EACH STATEMENT EXECUTE FUNCTION gefis_refuse_change('monitoring snapshots are immutable');
"""

DOWNGRADE = """
ALTER TABLE monitoring_snapshots
    DROP CONSTRAINT fk_monitoring_snapshots__quarter_end,
    DROP COLUMN category, DROP COLUMN available_from, DROP COLUMN availability_assessed_on,
    DROP COLUMN planning_status, DROP COLUMN last_verified_at, DROP COLUMN created_at,
    DROP COLUMN site_active;
DROP TABLE monitoring_quarters;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
