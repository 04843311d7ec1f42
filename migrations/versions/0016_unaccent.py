"""The ``unaccent`` extension, for ACCENTI in CQL2 filters (OGC API – Features Part 3).

The CQL2 compiler (``app/db/queries/cql2_sql.py``) writes ACCENTI(x) as ``unaccent(x)``: the
extension's one-argument function, which removes diacritics with its default rules
dictionary. The extension is trusted (PostgreSQL 13 and later), so the database owner may
create it without superuser rights; Debian's ``postgresql-contrib`` and the PostGIS images
ship it.

``gefis_unaccent(text)`` is the same with the dictionary named, which makes it IMMUTABLE (the
extension's own function is only STABLE, because it finds its dictionary through the
``search_path``): it can back an expression index, e.g. on ``gefis_unaccent(lower(name))``.
The compiler does not need it.

The downgrade drops the extension only if this migration created it (an extension installed
before, for other uses, stays).

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

UPGRADE = """
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'unaccent') THEN
        CREATE EXTENSION unaccent;
        COMMENT ON EXTENSION unaccent IS
            'text search dictionary that removes accents (created by GEFIS migration 0016)';
    END IF;
END
$$;

CREATE FUNCTION gefis_unaccent(value text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    RETURN unaccent('unaccent'::regdictionary, value);
COMMENT ON FUNCTION gefis_unaccent(text) IS
    'unaccent() with its default dictionary, IMMUTABLE for expression indexes (ACCENTI)';
"""

DOWNGRADE = """
DROP FUNCTION gefis_unaccent(text);
DO $$
BEGIN
    IF obj_description((SELECT oid FROM pg_extension WHERE extname = 'unaccent'),
                       'pg_extension') LIKE '%created by GEFIS migration 0016%' THEN
        DROP EXTENSION unaccent;
    END IF;
END
$$;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
