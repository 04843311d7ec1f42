"""Shared vocabulary of the CQL2 → SQL compiler: queryables, typed SQL fragments, errors.

:mod:`app.db.queries.cql2_sql` is the entry point (and re-exports :class:`Queryable` and
:class:`QueryableType`); :mod:`~app.db.queries.cql2_temporal` and
:mod:`~app.db.queries.cql2_spatial` compile the temporal and spatial functions against the
:class:`Context` protocol defined here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from app.domain.errors import InvalidInput


class QueryableType(StrEnum):
    """Type of a queryable, named as in JSON Schema (``format`` for dates)."""

    STRING = "string"
    NUMBER = "number"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "date-time"
    GEOMETRY = "geometry"
    STRINGS = "string[]"
    INTEGERS = "integer[]"


@dataclass(frozen=True)
class Queryable:
    """A property a filter may name, with the SQL that computes it.

    ``sql`` is an expression over the caller's FROM aliases, of the PostgreSQL type the
    queryable type implies: ``text``/``varchar`` (STRING), any numeric type (NUMBER, INTEGER),
    ``boolean``, ``date``, ``timestamptz`` (DATETIME; a column without zone that holds UTC is
    written ``(t.col AT TIME ZONE 'UTC')``), ``geometry`` in ``srid`` (GEOMETRY), ``text[]``
    (STRINGS), ``bigint[]`` (INTEGERS). The literal ``NULL`` stands for a hidden value.
    """

    name: str
    sql: str
    type: QueryableType
    srid: int | None = None


class Kind(StrEnum):
    """What a compiled expression evaluates to."""

    STRING = "string"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"
    TIMESTAMP = "timestamp"
    GEOMETRY = "geometry"
    STRINGS = "array of strings"
    NUMBERS = "array of numbers"
    NULL = "null"


#: Kind of each queryable type.
KIND_OF_TYPE: dict[QueryableType, Kind] = {
    QueryableType.STRING: Kind.STRING, QueryableType.NUMBER: Kind.NUMBER,
    QueryableType.INTEGER: Kind.NUMBER, QueryableType.BOOLEAN: Kind.BOOLEAN,
    QueryableType.DATE: Kind.DATE, QueryableType.DATETIME: Kind.TIMESTAMP,
    QueryableType.GEOMETRY: Kind.GEOMETRY, QueryableType.STRINGS: Kind.STRINGS,
    QueryableType.INTEGERS: Kind.NUMBERS,
}

#: PostgreSQL type a hidden (``NULL``) queryable is cast to, so functions resolve.
SQL_TYPE_OF_TYPE: dict[QueryableType, str] = {
    QueryableType.STRING: "text", QueryableType.NUMBER: "double precision",
    QueryableType.INTEGER: "bigint", QueryableType.BOOLEAN: "boolean",
    QueryableType.DATE: "date", QueryableType.DATETIME: "timestamptz",
    QueryableType.GEOMETRY: "geometry", QueryableType.STRINGS: "text[]",
    QueryableType.INTEGERS: "bigint[]",
}

#: Collation CASEI lower-cases in: ICU's root locale folds every script (the database's own
#: ``lc_ctype`` may be ``C``, which lower-cases ASCII only). PostgreSQL builds with ICU
#: (Debian, the PostGIS images) have it.
CASEI_COLLATION = "und-x-icu"

#: Collation of ordered string comparisons: Unicode code-point order, as CQL2 asks.
ORDER_COLLATION = "C"


@dataclass(frozen=True)
class SqlExpr:
    """A compiled value: SQL text and its kind.

    ``integer``: a NUMBER known to be integral (an integer queryable or an integral literal).
    ``collated``: a STRING that carries the collation of CASEI (comparisons then pin theirs).
    ``srid``: the SRID of a GEOMETRY. ``literal``: the Python value of a bound literal.
    """

    sql: str
    kind: Kind
    integer: bool = False
    collated: bool = False
    srid: int | None = None
    literal: Any = None


class Context(Protocol):
    """What the function compilers need from the compiler."""

    filter_srid: int
    swap_axes: bool

    def bind(self, value: Any) -> str:
        """A placeholder (``:name``) for ``value``, recorded among the parameters."""
        ...

    def queryable(self, name: str) -> Queryable:
        """The queryable ``name`` (InvalidInput when there is none)."""
        ...

    def property_sql(self, queryable: Queryable) -> str:
        """The parenthesised SQL of ``queryable``."""
        ...


def invalid(reason: str, code: str = "cql2_invalid") -> InvalidInput:
    """The error of a filter that cannot be evaluated (reported for the field ``filter``)."""
    return InvalidInput.for_field("filter", reason, code)


def describe(node: Any) -> str:
    """A short rendering of an AST node for messages.

    >>> describe({"property": "name"}), describe("x"), describe({"op": "casei"})
    ("property 'name'", "'x'", 'CASEI(...)')
    """
    if isinstance(node, dict):
        if "property" in node:
            return f"property {node['property']!r}"
        if "op" in node:
            return f"{str(node['op']).upper()}(...)"
        for key in ("date", "timestamp", "interval", "bbox"):
            if key in node:
                return f"{key.upper()}(...)"
        if "type" in node:
            return f"{str(node['type']).upper()} geometry"
        return "an object"
    if isinstance(node, list):
        return "an array"
    if node is None:
        return "NULL"
    text = repr(node)
    return text if len(text) <= 40 else text[:37] + "..."
