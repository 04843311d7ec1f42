"""The models and the live schema describe the same thing.

Whether the database's CHECK constraints allow exactly the codes of ``app/domain/vocab.py``
is tested in ``tests/test_vocab_constraints.py`` (against the literal copies the migrations
carry, so that a vocabulary changed without a migration fails there).
"""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, text

from app.db.models import Base


@pytest.mark.parametrize("table", sorted(Base.metadata.tables))
def test_model_columns_match_database(conn: Connection, table: str) -> None:
    in_db = set(conn.execute(text(
        "SELECT column_name FROM information_schema.columns WHERE table_name = :t"), {"t": table}
    ).scalars())
    in_model = {c.name for c in Base.metadata.tables[table].columns}
    assert in_model == in_db


def test_every_geometry_is_in_25832_with_a_gist_index(conn: Connection) -> None:
    columns = conn.execute(text(
        "SELECT f_table_name, f_geometry_column, srid FROM geometry_columns "
        "WHERE f_table_schema = 'public'")).all()
    assert columns, "no geometry columns found"
    for table, column, srid in columns:
        assert column == "geom_25832" and srid == 25832, (table, column, srid)
        indexed = conn.execute(text(
            "SELECT count(*) FROM pg_indexes WHERE tablename = :t AND indexdef LIKE '%USING gist (geom_25832)%'"),
            {"t": table}).scalar()
        assert indexed == 1, f"{table}.{column} has no GiST index"
