"""The models, the vocabulary module and the live schema describe the same thing."""

from __future__ import annotations

import importlib
import re

import pytest
from sqlalchemy import Connection, text

from app.db.ddl import vocab_check_name
from app.db.models import Base
from app.domain.vocab import VOCABULARIES

# The first migration declares which columns carry which vocabulary.
_MIGRATION_VOCAB = importlib.import_module("migrations.versions.0001_core_schema").VOCAB_COLUMNS


@pytest.mark.parametrize("table", sorted(Base.metadata.tables))
def test_model_columns_match_database(conn: Connection, table: str) -> None:
    in_db = set(conn.execute(text(
        "SELECT column_name FROM information_schema.columns WHERE table_name = :t"), {"t": table}
    ).scalars())
    in_model = {c.name for c in Base.metadata.tables[table].columns}
    assert in_model == in_db


@pytest.mark.parametrize(("table", "column", "vocab", "is_array"), _MIGRATION_VOCAB,
                         ids=lambda v: getattr(v, "name", str(v)))
def test_vocabulary_constraints_match_module(conn: Connection, table: str, column: str,
                                             vocab: object, is_array: bool) -> None:
    definition = conn.execute(text(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = :n"),
        {"n": vocab_check_name(table, column)}).scalar_one()
    codes_in_db = set(re.findall(r"'([^']+)'::text", definition))
    assert codes_in_db == set(VOCABULARIES[vocab.name].codes)  # type: ignore[attr-defined]


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
