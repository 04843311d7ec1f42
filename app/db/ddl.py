"""DDL building blocks shared by the migrations and the schema tests.

Constraint names follow one convention so that a database error can be traced back to the
API field it concerns (see :mod:`app.db.errors`):

``ck_<table>__<column>__<rule>``, ``fk_<table>__<column>``, ``uq_<table>__<columns>``.
"""

from __future__ import annotations

from app.domain.vocab import Vocabulary


def sql_literal_list(codes: tuple[str, ...]) -> str:
    """Comma-separated SQL string literals (codes are ASCII slugs; quotes are escaped anyway)."""
    return ", ".join("'" + c.replace("'", "''") + "'" for c in codes)


def vocab_check_name(table: str, column: str) -> str:
    """Name of the CHECK constraint that ties ``table.column`` to a vocabulary."""
    return f"ck_{table}__{column}__vocab"


def vocab_check_sql(table: str, column: str, vocab: Vocabulary, *, is_array: bool = False) -> str:
    """``ALTER TABLE`` statement adding the vocabulary CHECK for one column.

    Scalar columns must hold one code (NULL passes; NOT NULL is declared separately);
    array columns must hold only codes, without NULL elements.
    """
    codes = sql_literal_list(vocab.codes)
    if is_array:
        expr = f"{column} <@ ARRAY[{codes}]::text[] AND array_position({column}, NULL) IS NULL"
    else:
        expr = f"{column} IN ({codes})"
    return (
        f"ALTER TABLE {table} ADD CONSTRAINT {vocab_check_name(table, column)} CHECK ({expr})"
    )
