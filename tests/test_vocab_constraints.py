"""The database allows exactly the codes of ``app/domain/vocab.py``, column by column.

The migrations carry their own frozen copy of every code list, so a vocabulary can change
without the database following it. This test reads the CHECK constraints of the migrated
database (``pg_get_constraintdef``) and compares the codes each one allows with the
vocabulary the column is bound to: adding, renaming or dropping a code in ``vocab.py``
without a migration (or the other way round) turns it red.

A column is found by its constraint, not by the constraint's name: every single-column CHECK
that lists text values (``col = ANY (ARRAY[...])`` or ``col <@ ARRAY[...]``) must belong
to a column below, so a list added by a later migration cannot escape the comparison.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import Engine, text

from app.domain import vocab
from app.domain.disclosure import DEFAULT_PUBLIC_FIELDS, DISCLOSABLE_FIELDS
from app.domain.roles import KEY_ROLES

Column = tuple[str, str]

#: Columns bound to a list of codes, and the list the application knows (its one home).
BOUND: dict[Column, tuple[str, ...]] = {
    ("districts", "kind"): vocab.DISTRICT_KIND.codes,
    ("parcels", "category"): vocab.CATEGORY.codes,
    ("parcels", "availability"): vocab.AVAILABILITY.codes,
    ("parcels", "restriction_level"): vocab.RESTRICTION_LEVEL.codes,
    ("parcels", "restriction_causes"): vocab.RESTRICTION_CAUSE.codes,
    ("parcels", "user_groups"): vocab.USER_GROUP.codes,
    ("parcels", "planning_status"): vocab.PLANNING_STATUS.codes,
    ("parcels", "zoning"): vocab.ZONING.codes,
    ("parcels", "servicing"): vocab.SERVICING.codes,
    ("parcels", "marketing_status"): vocab.MARKETING_STATUS.codes,
    ("parcels", "owner_type"): vocab.OWNER_TYPE.codes,
    ("parcels", "public_fields"): DISCLOSABLE_FIELDS,
    ("parcels", "suggested_restriction_causes"): vocab.RESTRICTION_CAUSE.codes,
    ("land_sales", "buyer_user_group"): vocab.USER_GROUP.codes,
    ("land_sales", "buyer_origin"): vocab.BUYER_ORIGIN.codes,
    ("enquiries", "user_group"): vocab.USER_GROUP.codes,
    ("enquiries", "outcome"): vocab.ENQUIRY_OUTCOME.codes,
    ("infrastructure", "kind"): vocab.INFRASTRUCTURE_KIND.codes,
    ("api_keys", "role"): tuple(str(role) for role in KEY_ROLES),
}

#: Columns whose CHECK lists values that no list of the application holds (yet).
UNBOUND: frozenset[Column] = frozenset({
    ("districts", "state"),            # the three federal states of the Revier
    ("parcel_history", "operation"),   # written by the history trigger only
    ("demand_frameworks", "method"),   # no writer in the application yet
    ("imports", "kind"),               # the import kinds of app/domain/import_columns.py
    ("imports", "status"),             # written by the import service only
    ("import_rows", "action"),         # written by the import service only
    ("import_problems", "severity"),   # written by the import service only
    ("boundary_versions", "change"),   # written by the boundary triggers only
    ("boundary_versions", "level"),    # district or municipality
})

#: ``col = ANY (ARRAY[...])`` (scalar) or ``col <@ ARRAY[...]`` (array), as PostgreSQL
#: prints them.
_LISTED = re.compile(r"\((\w+) (= ANY \(|<@ )ARRAY\[([^\]]*)\]")
_TEXT_LITERAL = re.compile(r"'((?:[^']|'')*)'::text")

_SINGLE_COLUMN_CHECKS = """
SELECT cl.relname, a.attname, c.conname, pg_get_constraintdef(c.oid)
  FROM pg_constraint c
  JOIN pg_class cl ON cl.oid = c.conrelid
  JOIN pg_namespace n ON n.oid = cl.relnamespace
  JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
 WHERE c.contype = 'c' AND n.nspname = 'public' AND cardinality(c.conkey) = 1
 ORDER BY cl.relname, a.attname, c.conname
"""


def text_literals(sql: str) -> list[str]:
    """The ``'…'::text`` literals of ``sql``, unquoted.

    >>> text_literals("ARRAY['a'::text, 'it''s'::text]")
    ['a', "it's"]
    """
    return [m.replace("''", "'") for m in _TEXT_LITERAL.findall(sql)]


@pytest.fixture(scope="module")
def listed(engine: Engine) -> dict[Column, list[tuple[str, str, set[str]]]]:
    """Per column: (constraint, scalar or array, allowed values) of each CHECK listing text."""
    found: dict[Column, list[tuple[str, str, set[str]]]] = {}
    with engine.connect() as conn:
        rows = conn.execute(text(_SINGLE_COLUMN_CHECKS)).all()
    for table, column, name, definition in rows:
        for match in _LISTED.finditer(definition):
            if match.group(1) != column:
                continue
            shape = "array" if match.group(2) == "<@ " else "scalar"
            found.setdefault((table, column), []).append(
                (name, shape, set(text_literals(match.group(3)))))
    return found


@pytest.mark.parametrize(("table", "column"), sorted(BOUND))
def test_database_allows_exactly_the_vocabulary(
    listed: dict[Column, list[tuple[str, str, set[str]]]], table: str, column: str
) -> None:
    constraints = listed.get((table, column), [])
    assert len(constraints) == 1, (
        f"{table}.{column} should have exactly one CHECK listing its codes, found {constraints}")
    name, _, in_db = constraints[0]
    in_app = set(BOUND[(table, column)])
    assert in_db == in_app, (
        f"{name}: codes only in the database {sorted(in_db - in_app)}, "
        f"only in the application {sorted(in_app - in_db)}; add a migration")


def test_array_columns_are_checked_as_arrays(
    listed: dict[Column, list[tuple[str, str, set[str]]]]
) -> None:
    shapes = {key: [shape for _, shape, _ in found] for key, found in listed.items()}
    assert {key for key, s in shapes.items() if s == ["array"]} == {
        ("parcels", "restriction_causes"), ("parcels", "user_groups"), ("parcels", "public_fields"),
        ("parcels", "suggested_restriction_causes")}


def test_every_listing_check_is_compared(
    listed: dict[Column, list[tuple[str, str, set[str]]]]
) -> None:
    unknown = set(listed) - set(BOUND) - UNBOUND
    assert not unknown, f"CHECKs listing codes on {sorted(unknown)}: bind them in BOUND above"
    assert set(listed) >= UNBOUND, "UNBOUND names a column without such a CHECK"


def test_public_fields_default_is_the_domain_default(engine: Engine) -> None:
    with engine.connect() as conn:
        default = conn.execute(text(
            "SELECT column_default FROM information_schema.columns "
            "WHERE table_schema = 'public' AND table_name = 'parcels' "
            "AND column_name = 'public_fields'")).scalar_one()
    assert text_literals(default) == list(DEFAULT_PUBLIC_FIELDS)
