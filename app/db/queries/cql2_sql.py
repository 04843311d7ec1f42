"""CQL2 (the JSON syntax tree of :mod:`app.domain.cql2_input`) → one PostgreSQL/PostGIS
boolean expression with bound values.

Every literal of the filter is a bound parameter (``:<prefix>_<n>`` for SQLAlchemy
``text()``); the SQL text holds only the queryables' SQL, operators, casts and SRIDs. A
property must be one of the caller's :class:`Queryable`\\ s (names are case-sensitive); types
are checked, so a filter that cannot run (LIKE on a number, a spatial function on a string)
is an :class:`~app.domain.errors.InvalidInput` for ``filter``, never a database error.

Semantics (those of the CQL2 1.0 abstract test suite):

* Comparisons use SQL's three-valued logic: a comparison with NULL is unknown, so the row
  does not match, also under NOT (``x <> 1`` and ``NOT x = 1`` skip rows where x is NULL);
  ``IS NULL`` tests for NULL.
* Strings compare in Unicode code-point order (``COLLATE "C"``); equality, IN and LIKE keep
  the column's collation unless CASEI is involved (so indexes stay usable). CASEI lower-cases
  with ICU's root locale, ACCENTI strips diacritics with the ``unaccent`` extension.
* LIKE: ``%`` any characters, ``_`` one character, ``\\`` escapes.
* Numbers: literals are ``bigint`` when integral, else ``numeric``; arithmetic (``+ - * / %
  div ^``) is done in ``numeric``, ``/`` divides exactly, ``div`` truncates toward zero;
  division by zero, undefined powers and powers beyond 10^±868 give NULL.
* Dates, timestamps, intervals and the T_ functions: :mod:`app.db.queries.cql2_temporal`;
  geometries and the S_ functions: :mod:`app.db.queries.cql2_spatial`.
* Arrays (A_EQUALS, A_CONTAINS, A_CONTAINEDBY, A_OVERLAPS) compare as sets.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from app.db.queries.cql2_base import (
    CASEI_COLLATION,
    KIND_OF_TYPE,
    ORDER_COLLATION,
    SQL_TYPE_OF_TYPE,
    Kind,
    Queryable,
    QueryableType,
    SqlExpr,
    describe,
    invalid,
)
from app.db.queries.cql2_spatial import SPATIAL_FUNCTIONS, is_geometry_literal, spatial_predicate
from app.db.queries.cql2_temporal import (
    TEMPORAL_FUNCTIONS,
    as_timestamp,
    instant_literal,
    is_temporal,
    temporal_literal,
    temporal_predicate,
)
from app.domain.cql2_input import MAX_FILTER_DEPTH, ast_depth

__all__ = ["Queryable", "QueryableType", "compile_filter", "conformance_classes"]

CONFORMANCE_PREFIX = "http://www.opengis.net/spec/cql2/1.0/conf/"

#: The CQL2 conformance classes every row of the standard's test suite passes for (see
#: tests/test_cql2_sql.py), plus array-functions (no suite rows; tested with own examples).
_CONFORMING = (
    "basic-cql2", "cql2-text", "cql2-json", "advanced-comparison-operators",
    "case-insensitive-comparison", "accent-insensitive-comparison",
    "basic-spatial-functions", "basic-spatial-operators", "basic-spatial-functions-plus",
    "spatial-functions", "temporal-functions", "array-functions", "property-property",
    "arithmetic",
)

_ORDERED = {"<", ">", "<=", ">="}
_COMPARISONS = {"=", "<>"} | _ORDERED
_ARITHMETIC = {"+", "-", "*", "/", "%", "div", "^"}
_ARRAY_FUNCTIONS = {"a_equals": "({a} @> {b} AND {a} <@ {b})", "a_contains": "({a} @> {b})",
                    "a_containedby": "({a} <@ {b})", "a_overlaps": "({a} && {b})"}
_CONDITIONS = ({"and", "or", "not", "like", "between", "in", "isnull"} | _COMPARISONS
               | set(SPATIAL_FUNCTIONS) | TEMPORAL_FUNCTIONS | set(_ARRAY_FUNCTIONS))
_ORDERABLE = {Kind.STRING, Kind.NUMBER, Kind.BOOLEAN, Kind.DATE, Kind.TIMESTAMP}
_INT_RANGE = 2 ** 63
#: Largest natural logarithm of the magnitude of a power's result (e^2000 ≈ 10^868); beyond,
#: the power is NULL rather than a numeric overflow.
_POWER_LIMIT = 2000


def conformance_classes() -> tuple[str, ...]:
    """URIs of the CQL2 conformance classes this compiler implements completely.

    >>> conformance_classes()[0]
    'http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2'
    """
    return tuple(CONFORMANCE_PREFIX + name for name in _CONFORMING)


def compile_filter(ast: dict[str, Any], queryables: Mapping[str, Queryable], *,
                   filter_srid: int = 4326, swap_axes: bool = False,
                   prefix: str = "cq") -> tuple[str, dict[str, Any]]:
    """One SQL boolean expression and its bound values (names ``<prefix>_<n>``, used as
    ``:name`` in SQLAlchemy ``text()``).

    Geometry literals are in ``filter_srid`` (longitude/latitude for 4326), latitude first
    when ``swap_axes``; they are transformed into each geometry queryable's SRID.

    >>> q = {"name": Queryable("name", "t.name", QueryableType.STRING)}
    >>> compile_filter({"op": "<", "args": [{"property": "name"}, "B"]}, q)
    ('(((t.name) COLLATE "C") < (CAST(:cq_1 AS text) COLLATE "C"))', {'cq_1': 'B'})
    """
    if not prefix.isidentifier():
        raise ValueError(f"prefix must be an identifier, got {prefix!r}")
    if ast_depth(ast) > MAX_FILTER_DEPTH:
        raise invalid(f"the filter is nested too deeply (at most {MAX_FILTER_DEPTH} levels)",
                      "too_deep")
    compiler = _Compiler(queryables, filter_srid, swap_axes, prefix)
    return compiler.condition(ast), compiler.params


def _is_plain(node: Any) -> bool:
    """A literal whose type comes from what it is compared with (string, number, ...)."""
    return node is None or isinstance(node, (str, int, float, bool))


def _pattern_literal(node: Any) -> str | None:
    while isinstance(node, dict) and str(node.get("op", "")).lower() in ("casei", "accenti"):
        args = node.get("args")
        node = args[0] if isinstance(args, list) and len(args) == 1 else None
    return node if isinstance(node, str) else None


class _Compiler:
    """One compilation: the queryables, the filter CRS and the parameters bound so far."""

    def __init__(self, queryables: Mapping[str, Queryable], filter_srid: int,
                 swap_axes: bool, prefix: str) -> None:
        self.queryables = queryables
        self.filter_srid = filter_srid
        self.swap_axes = swap_axes
        self.prefix = prefix
        self.params: dict[str, Any] = {}

    # --- the Context protocol -------------------------------------------------------------

    def bind(self, value: Any) -> str:
        name = f"{self.prefix}_{len(self.params) + 1}"
        self.params[name] = value
        return f":{name}"

    def queryable(self, name: str) -> Queryable:
        found = self.queryables.get(name) if isinstance(name, str) else None
        if found is None:
            raise invalid(f"unknown property {name!r}; queryable: "
                          f"{', '.join(self.queryables) or 'none'}", "unknown_property")
        return found

    def property_sql(self, queryable: Queryable) -> str:
        if queryable.sql.strip().upper() == "NULL":
            return f"CAST(NULL AS {SQL_TYPE_OF_TYPE[queryable.type]})"
        return f"({queryable.sql})"

    # --- conditions -----------------------------------------------------------------------

    def condition(self, node: Any) -> str:
        """SQL of a boolean expression."""
        if not (isinstance(node, dict) and "op" in node):
            expr = self.value(node)
            if expr.kind in (Kind.BOOLEAN, Kind.NULL):
                return expr.sql
            raise invalid(f"{describe(node)} is not a condition", "cql2_type")
        op, args = self._op(node)
        if op in ("and", "or"):
            if not args:
                raise invalid(f"{op.upper()} needs operands", "cql2_invalid")
            return "(" + f" {op.upper()} ".join(self.condition(a) for a in args) + ")"
        if op == "not":
            self._arity(op, args, 1)
            return f"(NOT {self.condition(args[0])})"
        if op == "isnull":
            self._arity("IS NULL", args, 1)
            return f"({self.value(args[0]).sql} IS NULL)"
        if op in _COMPARISONS:
            self._arity(op, args, 2)
            left, right = self._compared(args, ordered=op in _ORDERED)
            return f"({left} {op} {right})"
        if op == "like":
            return self._like(args)
        if op == "between":
            self._arity("BETWEEN", args, 3)
            value, low, high = self._compared(args, ordered=True)
            return f"({value} BETWEEN {low} AND {high})"
        if op == "in":
            return self._in(args)
        if op in SPATIAL_FUNCTIONS:
            return spatial_predicate(self, op, args, self.value)
        if op in TEMPORAL_FUNCTIONS:
            return temporal_predicate(self, op, args, self.value)
        if op in _ARRAY_FUNCTIONS:
            return self._array_function(op, args)
        expr = self.value(node)
        if expr.kind is not Kind.BOOLEAN:
            raise invalid(f"{describe(node)} is a {expr.kind}, not a condition", "cql2_type")
        return expr.sql

    def _op(self, node: dict[str, Any]) -> tuple[str, list[Any]]:
        args = node.get("args", [])
        if not isinstance(args, list):
            raise invalid(f"the arguments of {describe(node)} must be a list", "cql2_invalid")
        return str(node["op"]).lower(), args

    @staticmethod
    def _arity(op: str, args: list[Any], count: int) -> None:
        if len(args) != count:
            raise invalid(f"{op.upper()} takes {count} operand{'s' if count > 1 else ''}, "
                          f"got {len(args)}", "cql2_invalid")

    def _operands(self, nodes: list[Any]) -> list[SqlExpr]:
        """Compile ``nodes`` (operands compared with each other): typed ones first, then the
        plain literals read as the type of the others (a string as a date, ...)."""
        out: dict[int, SqlExpr] = {}
        for i, node in enumerate(nodes):
            if not _is_plain(node):
                out[i] = self.value(node)
        hint = next((e.kind for e in out.values() if e.kind is not Kind.NULL), None)
        for i, node in enumerate(nodes):
            if i not in out:
                out[i] = self.value(node, hint)
        return [out[i] for i in range(len(nodes))]

    def _compared(self, nodes: list[Any], *, ordered: bool, like: bool = False) -> list[str]:
        """SQL of operands compared with each other, in one type and collation."""
        exprs = self._operands(nodes)
        kinds = {e.kind for e in exprs} - {Kind.NULL}
        if len(kinds) > 1 and kinds != {Kind.DATE, Kind.TIMESTAMP}:
            first = next(i for i, e in enumerate(exprs) if e.kind is not Kind.NULL)
            other = next(i for i, e in enumerate(exprs) if e.kind not in (Kind.NULL,
                                                                           exprs[first].kind))
            raise invalid(f"cannot compare {describe(nodes[first])} (a {exprs[first].kind}) "
                          f"with {describe(nodes[other])} (a {exprs[other].kind})", "cql2_type")
        kind = kinds.pop() if len(kinds) == 1 else Kind.TIMESTAMP if kinds else Kind.NULL
        if like and kind not in (Kind.STRING, Kind.NULL):
            raise invalid(f"LIKE matches strings; {describe(nodes[0])} is a {kind}", "cql2_type")
        if kind is Kind.GEOMETRY:
            raise invalid("geometries are compared with the spatial functions (S_EQUALS, "
                          "S_INTERSECTS, ...)", "cql2_type")
        if kind in (Kind.STRINGS, Kind.NUMBERS):
            raise invalid("arrays are compared with the array functions (A_EQUALS, "
                          "A_CONTAINS, ...)", "cql2_type")
        if ordered and kind not in _ORDERABLE | {Kind.NULL}:
            raise invalid(f"values of kind {kind} have no order", "cql2_type")
        if kind is Kind.TIMESTAMP:
            return [as_timestamp(e) if e.kind is Kind.DATE else e.sql for e in exprs]
        if kind is Kind.STRING and (ordered or any(e.collated for e in exprs)):
            return [f'({e.sql} COLLATE "{ORDER_COLLATION}")' if e.kind is Kind.STRING else e.sql
                    for e in exprs]
        return [e.sql for e in exprs]

    def _like(self, args: list[Any]) -> str:
        self._arity("LIKE", args, 2)
        pattern = _pattern_literal(args[1])
        if pattern is not None and (len(pattern) - len(pattern.rstrip("\\"))) % 2:
            raise invalid(f"the LIKE pattern {pattern!r} ends with a lone escape character "
                          "(\\)", "cql2_invalid")
        value, pattern_sql = self._compared(args, ordered=False, like=True)
        return f"({value} LIKE {pattern_sql})"

    def _in(self, args: list[Any]) -> str:
        self._arity("IN", args, 2)
        if not isinstance(args[1], list):
            raise invalid("IN takes a list of values", "cql2_invalid")
        if not args[1]:
            return "FALSE"
        value, *items = self._compared([args[0], *args[1]], ordered=False)
        return f"({value} IN ({', '.join(items)}))"

    def _array_function(self, op: str, args: list[Any]) -> str:
        self._arity(op, args, 2)
        typed = [None if isinstance(a, list) else self.value(a) for a in args]
        for node, expr in zip(args, typed, strict=True):
            if expr is not None and expr.kind not in (Kind.STRINGS, Kind.NUMBERS):
                raise invalid(f"{op.upper()} compares arrays; {describe(node)} is a "
                              f"{expr.kind}", "cql2_type")
        hint = next((e.kind for e in typed if e is not None), None)
        first, second = (e or self._array_literal(a, hint) for a, e in zip(args, typed,
                                                                            strict=True))
        if first.kind is not second.kind:
            raise invalid(f"{op.upper()} compares an {first.kind} with an {second.kind}",
                          "cql2_type")
        return _ARRAY_FUNCTIONS[op].format(a=first.sql, b=second.sql)

    # --- values ---------------------------------------------------------------------------

    def value(self, node: Any, hint: Kind | None = None) -> SqlExpr:
        """SQL of a value; ``hint``: the kind a plain literal is compared with."""
        if node is None:
            return SqlExpr("NULL", Kind.NULL)
        if isinstance(node, bool):
            return SqlExpr(f"CAST({self.bind(node)} AS boolean)", Kind.BOOLEAN, literal=node)
        if isinstance(node, (int, float)):
            return self._number(node)
        if isinstance(node, str):
            if "\x00" in node:
                raise invalid("strings must not contain the NUL character", "cql2_invalid")
            if hint in (Kind.DATE, Kind.TIMESTAMP):
                return instant_literal(self, node, hint)
            return SqlExpr(f"CAST({self.bind(node)} AS text)", Kind.STRING, literal=node)
        if isinstance(node, list):
            raise invalid("an array can only be an operand of an array function (A_...) or "
                          "the list of IN", "cql2_type")
        if not isinstance(node, dict):
            raise invalid(f"unreadable value {describe(node)}", "cql2_invalid")
        if "property" in node:
            return self._property(node["property"])
        if is_temporal(node):
            return temporal_literal(self, node)
        if is_geometry_literal(node):
            raise invalid("a geometry can only be an operand of a spatial function (S_...)",
                          "cql2_type")
        if "op" not in node:
            raise invalid(f"unreadable value {describe(node)}", "cql2_invalid")
        op, args = self._op(node)
        if op in ("casei", "accenti"):
            return self._string_function(op, args)
        if op in _ARITHMETIC:
            return self._arithmetic(op, args)
        if op in _CONDITIONS:
            return SqlExpr(self.condition(node), Kind.BOOLEAN)
        raise invalid(f"unsupported function {node['op']!r} (supported: CASEI, ACCENTI and "
                      "the CQL2 operators)", "cql2_unsupported")

    def _property(self, name: Any) -> SqlExpr:
        queryable = self.queryable(name)
        kind = KIND_OF_TYPE[queryable.type]
        sql = self.property_sql(queryable)
        if kind is Kind.GEOMETRY and queryable.srid is None:
            raise ValueError(f"geometry queryable {queryable.name!r} has no srid")
        if kind in (Kind.STRINGS, Kind.NUMBERS):
            sql = f"CAST({sql} AS {SQL_TYPE_OF_TYPE[queryable.type]})"
        return SqlExpr(sql, kind, integer=queryable.type is QueryableType.INTEGER,
                       srid=queryable.srid)

    def _number(self, number: float) -> SqlExpr:
        if not math.isfinite(number):
            raise invalid(f"the number {number} is out of range", "cql2_invalid")
        if float(number).is_integer() and abs(number) < _INT_RANGE:
            return SqlExpr(f"CAST({self.bind(int(number))} AS bigint)", Kind.NUMBER,
                           integer=True, literal=int(number))
        return SqlExpr(f"CAST({self.bind(number)} AS numeric)", Kind.NUMBER, literal=number)

    def _string_function(self, op: str, args: list[Any]) -> SqlExpr:
        self._arity(op, args, 1)
        inner = self.value(args[0], Kind.STRING)
        if inner.kind not in (Kind.STRING, Kind.NULL):
            raise invalid(f"{op.upper()} applies to strings; {describe(args[0])} is a "
                          f"{inner.kind}", "cql2_type")
        sql = inner.sql if inner.kind is Kind.STRING else "CAST(NULL AS text)"
        if op == "casei":
            return SqlExpr(f'lower({sql} COLLATE "{CASEI_COLLATION}")', Kind.STRING,
                           collated=True)
        return SqlExpr(f"unaccent({sql})", Kind.STRING, collated=inner.collated)

    def _arithmetic(self, op: str, args: list[Any]) -> SqlExpr:
        self._arity(op, args, 2)
        a, b = (self.value(arg, Kind.NUMBER) for arg in args)
        for node, expr in zip(args, (a, b), strict=True):
            if expr.kind not in (Kind.NUMBER, Kind.NULL):
                raise invalid(f"arithmetic needs numbers; {describe(node)} is a {expr.kind}",
                              "cql2_type")
        x, y = (f"CAST({e.sql} AS numeric)" for e in (a, b))
        if op in ("+", "-", "*"):
            sql = f"({x} {op} {y})"
        elif op == "/":
            sql = f"({x} / NULLIF({y}, 0))"
        elif op == "%":
            sql = f"mod({x}, NULLIF({y}, 0))"
        elif op == "div":
            sql = f"div({x}, NULLIF({y}, 0))"
        else:  # each operand once (nested powers must not multiply the SQL)
            sql = (f"(SELECT CASE WHEN b = 0 THEN CASE WHEN e < 0 THEN NULL ELSE power(b, e) END"
                   f" WHEN b < 0 AND e <> trunc(e) THEN NULL WHEN abs(e * ln(abs(b))) > "
                   f"{_POWER_LIMIT} THEN NULL ELSE power(b, e) END FROM (SELECT {x} AS b, {y} AS e)"
                   " AS power_operands)")
        return SqlExpr(sql, Kind.NUMBER)

    def _array_literal(self, items: list[Any], hint: Kind | None) -> SqlExpr:
        if all(isinstance(i, str) for i in items) and hint is not Kind.NUMBERS:
            if any("\x00" in i for i in items):
                raise invalid("strings must not contain the NUL character", "cql2_invalid")
            return SqlExpr(f"CAST({self.bind(list(items))} AS text[])", Kind.STRINGS)
        numbers = all(isinstance(i, (int, float)) and not isinstance(i, bool)
                      and math.isfinite(i) for i in items)
        if numbers and hint is not Kind.STRINGS:
            if all(float(i).is_integer() and abs(i) < _INT_RANGE for i in items):
                return SqlExpr(f"CAST({self.bind([int(i) for i in items])} AS bigint[])",
                               Kind.NUMBERS)
            if hint is None:
                return SqlExpr(f"CAST({self.bind(list(items))} AS numeric[])", Kind.NUMBERS)
        wanted = "strings" if hint is Kind.STRINGS else "numbers" if hint else "strings or numbers"
        raise invalid(f"the array must hold only {wanted}"
                      f"{' (integers)' if hint is Kind.NUMBERS else ''}", "cql2_type")
