"""Enquiries say whether they are synthetic demo data, like sites, parcels and sales.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE enquiries ADD COLUMN is_synthetic boolean NOT NULL DEFAULT false")
    # the demo timeline's enquiries of databases loaded before this column existed
    op.execute("UPDATE enquiries SET is_synthetic = true WHERE created_by = 'demo-zeitreihe'")


def downgrade() -> None:
    op.execute("ALTER TABLE enquiries DROP COLUMN is_synthetic")
