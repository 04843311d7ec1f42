"""Parcels get a noise emission quota (Lärmemissionskontingent, dB(A) per m², DIN 45691).

The worked example of the field registry: this migration and one entry in
``app/domain/parcel_fields.py`` make the field filterable (``noise_quota_min_db``), sortable,
part of the JSON and releasable to the public (``public_fields``).

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_DISCLOSABLE_BEFORE = ("price_eur_m2", "owner_type", "contact_name", "contact_email",
                       "contact_phone")
_DISCLOSABLE_AFTER = (*_DISCLOSABLE_BEFORE, "noise_quota_db")


def _known(fields: tuple[str, ...]) -> str:
    listed = ", ".join(f"'{f}'" for f in fields)
    return (f"ALTER TABLE parcels ADD CONSTRAINT ck_parcels__public_fields__known "
            f"CHECK (public_fields <@ ARRAY[{listed}])")


def upgrade() -> None:
    op.execute("ALTER TABLE parcels ADD COLUMN noise_quota_db double precision "
               "CONSTRAINT ck_parcels__noise_quota_db__range "
               "CHECK (noise_quota_db BETWEEN 0 AND 120)")
    op.execute("CREATE INDEX ix_parcels__sort_noise_quota_db ON parcels (noise_quota_db, id)")
    op.execute("CREATE INDEX ix_parcels__sort_noise_quota_db_null ON parcels (id) "
               "WHERE noise_quota_db IS NULL")
    op.execute("ALTER TABLE parcels DROP CONSTRAINT ck_parcels__public_fields__known")
    op.execute(_known(_DISCLOSABLE_AFTER))


def downgrade() -> None:
    op.execute("UPDATE parcels SET public_fields = array_remove(public_fields, 'noise_quota_db') "
               "WHERE 'noise_quota_db' = ANY(public_fields)")
    op.execute("ALTER TABLE parcels DROP CONSTRAINT ck_parcels__public_fields__known")
    op.execute(_known(_DISCLOSABLE_BEFORE))
    op.execute("ALTER TABLE parcels DROP COLUMN noise_quota_db")
