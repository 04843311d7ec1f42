"""Indexes for every sortable parcel field.

Pages are keyset ranges over two branches (see ``app/db/queries/keyset.py``): rows with a
sort value, ordered by ``(value, id)``, then rows without one, ordered by ``id``. Each
sortable column gets a ``(column, id)`` index for the first branch and, where the column is
nullable, a partial ``(id) WHERE column IS NULL`` index for the second, so a page of any
sort order is two short index range scans instead of a scan of the table.

The list of sortable columns is frozen here (the field registry may grow; a new sortable
field needs a new migration).

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

#: (column, nullable) of the sortable parcel fields at this revision (net_area_ha has an
#: index since 0001).
SORTABLE: tuple[tuple[str, bool], ...] = (
    ("available_from", True),
    ("gross_area_ha", False),
    ("max_building_height_m", True),
    ("broadband_mbps", True),
    ("grid_capacity_mw", True),
    ("distance_junction_km", True),
    ("distance_airport_km", True),
    ("last_verified_at", True),
    ("updated_at", False),
    ("price_eur_m2", True),
)


def upgrade() -> None:
    for column, nullable in SORTABLE:
        op.execute(f"CREATE INDEX ix_parcels__sort_{column} ON parcels ({column}, id)")
        if nullable:
            op.execute(f"CREATE INDEX ix_parcels__sort_{column}_null ON parcels (id) "
                       f"WHERE {column} IS NULL")


def downgrade() -> None:
    for column, nullable in SORTABLE:
        op.execute(f"DROP INDEX ix_parcels__sort_{column}")
        if nullable:
            op.execute(f"DROP INDEX ix_parcels__sort_{column}_null")
