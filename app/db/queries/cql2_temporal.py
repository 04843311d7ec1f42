"""CQL2 temporal literals and the temporal functions T_AFTER … T_STARTS, as SQL.

Instants are dates (``date``) or timestamps (``timestamptz``); a timestamp without zone means
UTC. An interval is closed at both ends (ISO 8601, as CQL2 says); ``'..'`` leaves an end open
(``-infinity``/``infinity``); its bounds may be literals or date/date-time properties. An
instant is the interval whose start and end coincide.

When one operand has only dates and the other timestamps, the dates become UTC days: a date
as a start is its first microsecond (00:00:00Z), as an end its last (23:59:59.999999Z), so a
date instant is the whole day. Relations follow the W3C/OGC Time Ontology (Allen's interval
algebra); those defined for intervals only (T_CONTAINS, T_DURING, T_FINISHEDBY, T_FINISHES,
T_MEETS, T_METBY, T_OVERLAPPEDBY, T_OVERLAPS, T_STARTEDBY, T_STARTS) refuse instants, as
CQL2 asks. A NULL bound gives NULL (the row does not match), like any SQL comparison.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from app.db.queries.cql2_base import Context, Kind, SqlExpr, describe, invalid

OPEN = ".."

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIMESTAMP = re.compile(
    r"^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})?$")

#: SQL type of each temporal kind.
SQL_TYPE = {Kind.DATE: "date", Kind.TIMESTAMP: "timestamptz"}

_DAY_END = "INTERVAL '1 day' - INTERVAL '1 microsecond'"


def parse_date(text: str) -> date:
    """A ``YYYY-MM-DD`` calendar date.

    >>> parse_date("2022-04-16")
    datetime.date(2022, 4, 16)
    >>> parse_date("2022-02-30")
    Traceback (most recent call last):
    ...
    app.domain.errors.InvalidInput: invalid date '2022-02-30': day is out of range for month
    """
    if not _DATE.match(text):
        raise invalid(f"invalid date {text!r}: write YYYY-MM-DD", "cql2_temporal")
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise invalid(f"invalid date {text!r}: {exc}", "cql2_temporal") from exc


def parse_timestamp(text: str) -> datetime:
    """An RFC 3339 date-time as an aware UTC datetime (no zone: UTC; beyond microseconds
    the fraction is cut).

    >>> parse_timestamp("2022-04-16T12:13:19.1234567+02:00")
    datetime.datetime(2022, 4, 16, 10, 13, 19, 123456, tzinfo=datetime.timezone.utc)
    >>> parse_timestamp("2022-04-16T10:13:19")
    datetime.datetime(2022, 4, 16, 10, 13, 19, tzinfo=datetime.timezone.utc)
    """
    match = _TIMESTAMP.match(text)
    if not match:
        raise invalid(f"invalid timestamp {text!r}: write e.g. 2022-04-16T10:13:19Z",
                      "cql2_temporal")
    day, clock, fraction, zone = match.groups()
    fraction = (fraction or "")[:7]
    zone = "+00:00" if zone in (None, "Z", "z") else zone
    try:
        value = datetime.fromisoformat(f"{day}T{clock}{fraction}{zone}")
    except ValueError as exc:
        raise invalid(f"invalid timestamp {text!r}: {exc}", "cql2_temporal") from exc
    return value.astimezone(UTC)


def instant_literal(ctx: Context, text: str, kind: Kind | None = None) -> SqlExpr:
    """A bound date or timestamp from a string (``kind`` None: a date if it looks like one).
    A date-only string read as a timestamp is the start of that UTC day."""
    if kind is Kind.TIMESTAMP or (kind is None and not _DATE.match(text)):
        value: date = (datetime.combine(parse_date(text), datetime.min.time(), UTC)
                       if _DATE.match(text) else parse_timestamp(text))
        return SqlExpr(f"CAST({ctx.bind(value)} AS timestamptz)", Kind.TIMESTAMP, literal=value)
    value = parse_date(text)
    return SqlExpr(f"CAST({ctx.bind(value)} AS date)", Kind.DATE, literal=value)


def as_timestamp(expr: SqlExpr, *, end: bool = False) -> str:
    """SQL of a date or timestamp as ``timestamptz``: a date is the start of its UTC day, or
    with ``end`` its last microsecond."""
    if expr.kind is Kind.TIMESTAMP:
        return expr.sql
    shifted = f"CAST({expr.sql} AS timestamp)" + (f" + {_DAY_END}" if end else "")
    return f"(({shifted}) AT TIME ZONE 'UTC')"


@dataclass(frozen=True)
class _Span:
    """A temporal operand: start and end (``None``: open), and whether it is an instant."""

    start: SqlExpr | None
    end: SqlExpr | None
    instant: bool

    @property
    def timestamps(self) -> bool:
        return any(b is not None and b.kind is Kind.TIMESTAMP for b in (self.start, self.end))


def _bound(ctx: Context, node: Any, value: Callable[[Any], SqlExpr]) -> SqlExpr | None:
    """One bound of an interval: ``'..'``, a date/timestamp literal or property."""
    if node == OPEN:
        return None
    if isinstance(node, str):
        return instant_literal(ctx, node)
    return _instant(ctx, node, value)


def _instant(ctx: Context, node: Any, value: Callable[[Any], SqlExpr]) -> SqlExpr:
    if isinstance(node, str):
        return instant_literal(ctx, node)
    if isinstance(node, dict) and ("date" in node or "timestamp" in node or "property" in node):
        expr = value(node)
        if expr.kind in (Kind.DATE, Kind.TIMESTAMP):
            return expr
        raise invalid(f"{describe(node)} is a {expr.kind}, not a date or timestamp",
                      "cql2_type")
    raise invalid(f"{describe(node)} is not a date, timestamp or interval", "cql2_type")


def _span(ctx: Context, node: Any, value: Callable[[Any], SqlExpr]) -> _Span:
    if isinstance(node, dict) and "interval" in node:
        bounds = node["interval"]
        if not isinstance(bounds, list) or len(bounds) != 2:
            raise invalid("an INTERVAL has two bounds (instants or '..')", "cql2_temporal")
        start, end = (_bound(ctx, b, value) for b in bounds)
        if (start is not None and end is not None and start.literal is not None
                and end.literal is not None and _instant_key(start.literal, False)
                > _instant_key(end.literal, True)):
            raise invalid(f"INTERVAL({bounds[0]!r}, {bounds[1]!r}) ends before it starts",
                          "cql2_temporal")
        return _Span(start, end, instant=False)
    instant = _instant(ctx, node, value)
    return _Span(instant, instant, instant=True)


def _instant_key(value: date, end: bool) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.combine(value, datetime.max.time() if end else datetime.min.time(), UTC)


def _sides(a: _Span, b: _Span) -> tuple[str, str, str, str]:
    """SQL of a.start, a.end, b.start, b.end in one type (timestamps if either has one)."""
    kind = Kind.TIMESTAMP if a.timestamps or b.timestamps else Kind.DATE
    out: list[str] = []
    for span in (a, b):
        for bound, end in ((span.start, False), (span.end, True)):
            if bound is None:
                out.append(f"CAST('{'infinity' if end else '-infinity'}' AS {SQL_TYPE[kind]})")
            elif kind is Kind.TIMESTAMP:
                out.append(as_timestamp(bound, end=end))
            else:
                out.append(bound.sql)
    return out[0], out[1], out[2], out[3]


def _relation(op: str, a_start: str, a_end: str, b_start: str, b_end: str) -> str:
    before = f"{a_end} < {b_start}"
    after = f"{a_start} > {b_end}"
    relations = {
        "t_before": before,
        "t_after": after,
        "t_disjoint": f"{before} OR {after}",
        "t_intersects": f"{a_start} <= {b_end} AND {a_end} >= {b_start}",
        "t_equals": f"{a_start} = {b_start} AND {a_end} = {b_end}",
        "t_meets": f"{a_end} = {b_start}",
        "t_metby": f"{a_start} = {b_end}",
        "t_overlaps": f"{a_start} < {b_start} AND {b_start} < {a_end} AND {a_end} < {b_end}",
        "t_overlappedby":
            f"{b_start} < {a_start} AND {a_start} < {b_end} AND {b_end} < {a_end}",
        "t_starts": f"{a_start} = {b_start} AND {a_end} < {b_end}",
        "t_startedby": f"{a_start} = {b_start} AND {b_end} < {a_end}",
        "t_during": f"{b_start} < {a_start} AND {a_end} < {b_end}",
        "t_contains": f"{a_start} < {b_start} AND {b_end} < {a_end}",
        "t_finishes": f"{b_start} < {a_start} AND {a_end} = {b_end}",
        "t_finishedby": f"{a_start} < {b_start} AND {a_end} = {b_end}",
    }
    return f"({relations[op]})"


#: The temporal functions, by the lower-case name the parser gives.
INTERVAL_ONLY = frozenset({"t_contains", "t_during", "t_finishedby", "t_finishes", "t_meets",
                           "t_metby", "t_overlappedby", "t_overlaps", "t_startedby",
                           "t_starts"})
TEMPORAL_FUNCTIONS = INTERVAL_ONLY | {"t_after", "t_before", "t_disjoint", "t_equals",
                                      "t_intersects"}


def temporal_predicate(ctx: Context, op: str, args: list[Any],
                       value: Callable[[Any], SqlExpr]) -> str:
    """SQL of the temporal function ``op`` (lower case) over its two operands; ``value``
    compiles an instant-valued operand (a property or literal)."""
    if len(args) != 2:
        raise invalid(f"{op.upper()} takes two temporal operands", "cql2_invalid")
    a, b = (_span(ctx, arg, value) for arg in args)
    if op in INTERVAL_ONLY and (a.instant or b.instant):
        which = describe(args[0] if a.instant else args[1])
        raise invalid(f"{op.upper()} compares intervals; {which} is an instant "
                      "(write INTERVAL(start, end))", "cql2_type")
    return _relation(op, *_sides(a, b))


def is_temporal(node: Any) -> bool:
    """Whether ``node`` is a temporal literal (date, timestamp, interval)."""
    return isinstance(node, dict) and any(k in node for k in ("date", "timestamp", "interval"))


def temporal_literal(ctx: Context, node: dict[str, Any]) -> SqlExpr:
    """A DATE(...) or TIMESTAMP(...) literal as a bound value."""
    if "date" in node and isinstance(node["date"], str):
        return instant_literal(ctx, node["date"], Kind.DATE)
    if "timestamp" in node and isinstance(node["timestamp"], str):
        return instant_literal(ctx, node["timestamp"], Kind.TIMESTAMP)
    if "interval" in node:
        raise invalid("an INTERVAL can only be an operand of a temporal function (T_...)",
                      "cql2_type")
    raise invalid(f"malformed temporal literal {describe(node)}", "cql2_invalid")
