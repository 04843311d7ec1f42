"""The parcel history keeps the fields sums need typed, and an index rebuilds a past day from
them alone.

"The parcels as of T" (``ParcelSource.as_of``) takes, per parcel, the last history row at or
before T. Rebuilding every parcel from ``row_after`` (the whole row as JSON, geometry
included, mostly TOASTed) took about 20 s per statement at 200,000 parcels and 1,000,000
history rows (``bench/balance.py``), mostly ``jsonb_populate_record`` and a sort of the
candidate rows on disk. Now:

- ``parcel_history`` gets generated columns with the values of :data:`AS_OF_COLUMNS` taken
  from ``row_after`` (the fields the balance, the summary and their default filters read);
  written with each history row, never updated (the table stays append-only);
- the index ``ix_parcel_history__as_of`` on ``(parcel_id, changed_at DESC, id DESC)``
  includes them: the last row per parcel at or before T is an index-only scan in
  ``DISTINCT ON`` order, without a sort and without reading ``row_after``. It replaces
  ``ix_parcel_history__parcel_id_changed_at`` (same key, ascending), which every lookup of
  one parcel's history also gets from the new index.

Fields not listed are still read from ``row_after`` when a query needs them. Conversions
follow ``jsonb_populate_record``: the text of the JSON value through the type's input
function. For dates, times and text arrays that is done by the ``IMMUTABLE`` helpers below
(a generated column needs immutable expressions): ``to_jsonb`` writes ISO 8601 dates and
times with their UTC offset, whose reading depends on neither ``DateStyle`` nor ``TimeZone``.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

#: (column, SQL type) of ``parcels`` kept typed in ``parcel_history``, as of this revision.
AS_OF_COLUMNS: tuple[tuple[str, str], ...] = (
    ("site_id", "bigint"),
    ("district_ags", "text"),
    ("municipality_ags", "text"),
    ("category", "text"),
    ("availability", "text"),
    ("available_from", "date"),
    ("availability_assessed_on", "date"),
    ("restriction_level", "text"),
    ("user_groups", "text[]"),
    ("planning_status", "text"),
    ("marketing_status", "text"),
    ("net_area_ha", "double precision"),
    ("gross_area_ha", "double precision"),
    ("last_verified_at", "timestamp with time zone"),
    ("created_at", "timestamp with time zone"),
)

_FUNCTIONS = """
CREATE FUNCTION gefis_json_date(value jsonb) RETURNS date
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT CAST(value #>> '{}' AS date) $$;
CREATE FUNCTION gefis_json_timestamptz(value jsonb) RETURNS timestamptz
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT CAST(value #>> '{}' AS timestamptz) $$;
CREATE FUNCTION gefis_json_text_array(value jsonb) RETURNS text[]
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT CASE WHEN jsonb_typeof(value) = 'array'
                      THEN ARRAY(SELECT jsonb_array_elements_text(value)) END $$;
COMMENT ON FUNCTION gefis_json_date(jsonb) IS
    'A JSON string written by to_jsonb (ISO 8601) as date; immutable for generated columns';
COMMENT ON FUNCTION gefis_json_timestamptz(jsonb) IS
    'A JSON string written by to_jsonb (ISO 8601 with offset) as timestamptz; immutable for '
    'generated columns';
COMMENT ON FUNCTION gefis_json_text_array(jsonb) IS
    'A JSON array as text[] (as jsonb_populate_record reads it); NULL unless an array';
"""

_HELPERS = {"date": "gefis_json_date", "timestamp with time zone": "gefis_json_timestamptz",
            "text[]": "gefis_json_text_array"}


def _generated(column: str, sql_type: str) -> str:
    """SQL of the generated column: the value of ``column`` in ``row_after``."""
    if sql_type == "text":
        value = f"row_after ->> '{column}'"
    elif sql_type in _HELPERS:
        value = f"{_HELPERS[sql_type]}(row_after -> '{column}')"
    else:
        value = f"CAST(row_after ->> '{column}' AS {sql_type})"
    return f"ADD COLUMN {column} {sql_type} GENERATED ALWAYS AS ({value}) STORED"


def upgrade() -> None:
    op.execute(_FUNCTIONS)
    # One statement: the table is rewritten once (no row trigger fires on a rewrite).
    op.execute("ALTER TABLE parcel_history "
               + ", ".join(_generated(c, t) for c, t in AS_OF_COLUMNS))
    covered = ", ".join(c for c, _ in AS_OF_COLUMNS)
    op.execute("CREATE INDEX ix_parcel_history__as_of ON parcel_history "
               f"(parcel_id, changed_at DESC, id DESC) INCLUDE ({covered})")
    op.execute("DROP INDEX ix_parcel_history__parcel_id_changed_at")
    op.execute("ANALYZE parcel_history")


def downgrade() -> None:
    op.execute("CREATE INDEX ix_parcel_history__parcel_id_changed_at "
               "ON parcel_history (parcel_id, changed_at, id)")
    op.execute("DROP INDEX ix_parcel_history__as_of")
    op.execute("ALTER TABLE parcel_history "
               + ", ".join(f"DROP COLUMN {c}" for c, _ in AS_OF_COLUMNS))
    op.execute("DROP FUNCTION gefis_json_date(jsonb), gefis_json_timestamptz(jsonb), "
               "gefis_json_text_array(jsonb)")
