"""Raster statistics: the suggested restriction causes hold only codes of the vocabulary.

``parcels.slope_mean_pct``, ``slope_max_pct``, ``flood_hazard_share`` (CHECK 0..1) and
``suggested_restriction_causes`` exist since 0001; the raster analysis
(``app/services/raster``) fills them. The suggestions get the same vocabulary CHECK as the
editor's ``restriction_causes`` (codes only, no NULL element), with this migration's own
frozen copy of the codes (those of ``app/domain/vocab.py`` when it was written), so that a
rules file or a later writer cannot store a code nobody can read.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

_RESTRICTION_CAUSES = (
    "altlasten", "kampfmittel", "verkehrserschliessung", "medienerschliessung", "breitband",
    "hochwasser", "naturschutz", "immissionsschutz", "eigentuemer", "denkmalschutz",
    "tiefenenttruemmerung", "sonstige",
)

_CODES = ", ".join(f"'{code}'" for code in _RESTRICTION_CAUSES)

UPGRADE = f"""
ALTER TABLE parcels ADD CONSTRAINT ck_parcels__suggested_restriction_causes__vocab CHECK (
    suggested_restriction_causes <@ ARRAY[{_CODES}]::text[]
    AND array_position(suggested_restriction_causes, NULL) IS NULL);
COMMENT ON COLUMN parcels.suggested_restriction_causes IS
    'Restriction causes suggested by the raster rules (staff only); never the editor''s causes';
"""

DOWNGRADE = """
COMMENT ON COLUMN parcels.suggested_restriction_causes IS NULL;
ALTER TABLE parcels DROP CONSTRAINT ck_parcels__suggested_restriction_causes__vocab;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
