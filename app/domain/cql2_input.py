"""Reading the ``filter`` of OGC API – Features Part 3: CQL2 text or JSON into the CQL2 JSON
syntax tree (plain dicts, lists and scalars), with limits against abuse.

``filter-lang`` is ``cql2-text`` (the default), ``cql2-json`` or ``cql-text`` (the name of the
pre-1.0 drafts that GDAL sends, read as ``cql2-text``), in any letter case. The parser is the
``cql2`` package. Its JSON-schema check (``Expr.validate``) is not run: it costs about 0.1 s
of CPU per call, and :func:`app.db.queries.cql2_sql.compile_filter` checks the operands of
every operator and every literal itself. A filter longer than :data:`MAX_FILTER_LENGTH`
characters or nested deeper than :data:`MAX_FILTER_DEPTH` levels is refused before the parser
sees it (a deeply nested expression would exhaust the parser's stack and end the process);
the depth of the parsed tree is checked again.

>>> parse_filter("name = 'x'", None)
{'op': '=', 'args': [{'property': 'name'}, 'x']}
>>> parse_filter('{"op": "isNull", "args": [{"property": "a"}]}', "CQL2-JSON")
{'op': 'isNull', 'args': [{'property': 'a'}]}
>>> parse_filter(None, "cql2-text") is None
True
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from typing import Any

import cql2

from app.domain.errors import InvalidInput

#: Accepted values of ``filter-lang`` (lower case); ``cql-text`` is read as ``cql2-text``.
FILTER_LANGS: tuple[str, ...] = ("cql2-text", "cql2-json", "cql-text")

#: Longest accepted filter, in characters.
MAX_FILTER_LENGTH = 16_384

#: Deepest accepted nesting: levels of the syntax tree (each operator, function, interval or
#: array is one), and in cql2-text parentheses plus chained prefix operators (NOT, minus).
MAX_FILTER_DEPTH = 50

#: Characters × 2^(levels of grouping parentheses) a cql2-text filter may have (see
#: :func:`grouping_allowed`).
PARSE_BUDGET = 131_072

#: Words after which a parenthesis groups (rather than opening arguments).
_OPERATOR_WORDS = frozenset({"AND", "OR", "NOT", "LIKE", "BETWEEN", "DIV", "IS"})

_TEXT_TOKEN = re.compile(
    r"'(?:[^']|'')*'?"  # a string literal
    r'|"[^"]*"?'  # a quoted identifier
    r"|[()]|-|[A-Za-z_][A-Za-z0-9_:.]*|[^\s()'\"-]+")


def _problem(reason: str, code: str) -> InvalidInput:
    return InvalidInput.for_field("filter", reason, code)


def _deepest(node: Any, children: Callable[[Any], Iterable[Any]]) -> int:
    """Depth of the tree under ``node`` (a leaf is 0), walked without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(node, 0)]
    while stack:
        value, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in children(value))
    return deepest


def _json_children(value: Any) -> Iterable[Any]:
    if isinstance(value, dict):
        return value.values()
    return value if isinstance(value, list) else ()


def _ast_children(value: Any) -> Iterable[Any]:
    if isinstance(value, list):
        return value
    if not isinstance(value, dict):
        return ()
    if "op" in value and isinstance(value.get("args"), list):
        return value["args"]
    if isinstance(value.get("interval"), list):
        return value["interval"]
    return (None,) if "type" in value or "bbox" in value else ()  # a geometry: one level


def tree_depth(node: Any) -> int:
    """Nesting depth of a JSON value (a scalar is 0), without recursion.

    >>> tree_depth({"op": "not", "args": [{"op": "isNull", "args": [{"property": "a"}]}]})
    5
    """
    return _deepest(node, _json_children)


def ast_depth(node: Any) -> int:
    """Levels of a CQL2 syntax tree: operators, functions, intervals and arrays (a property
    or a scalar literal is 0; a geometry literal counts once).

    >>> ast_depth({"op": "not", "args": [{"op": "isNull", "args": [{"property": "a"}]}]})
    2
    """
    return _deepest(node, _ast_children)


def text_nesting(text: str) -> tuple[int, int]:
    """How deep cql2-text nests: (1) parentheses plus the longest chain of prefix operators
    (NOT, minus) at each point, as deep as the parser recurses; (2) grouping parentheses
    alone, those not opening the arguments of a function, a geometry or an IN list.

    >>> text_nesting("NOT (NOT (a = 1)) AND b IN (-(-2))")
    (4, 2)
    """
    depth = chain = deepest = 0
    groups: list[bool] = []
    deepest_group = 0
    previous = ""
    for token in _TEXT_TOKEN.findall(text):
        word = token.upper()
        if token == "(":
            depth += 1
            groups.append(not (previous[:1].isalpha() or previous[:1] == "_")
                          or previous in _OPERATOR_WORDS)
            deepest_group = max(deepest_group, sum(groups))
        elif token == ")":
            depth = max(0, depth - 1)
            chain = 0
            if groups:
                groups.pop()
        elif token == "-" or word == "NOT":
            chain += 1
        else:
            chain = 0
        deepest = max(deepest, depth + chain)
        previous = word
    return deepest, deepest_group


def grouping_allowed(length: int) -> int:
    """Levels of grouping parentheses a cql2-text filter of ``length`` characters may have.

    The parser's time on a malformed filter doubles with each level of grouping parentheses
    (it tries each reading of a parenthesis) and grows with the length: the product is
    kept within :data:`PARSE_BUDGET` (about 0.1 s of CPU).

    >>> grouping_allowed(200), grouping_allowed(2_000), grouping_allowed(16_000)
    (9, 6, 3)
    """
    return max(0, (PARSE_BUDGET // max(1, length)).bit_length() - 1)


def _too_deep() -> InvalidInput:
    return _problem(f"the filter is nested too deeply (at most {MAX_FILTER_DEPTH} levels of "
                    "operators, functions and parentheses)", "too_deep")


def parse_filter(text: str | None, lang: str | None) -> dict[str, Any] | None:
    """The CQL2 JSON syntax tree of ``text`` in ``lang`` (None: cql2-text), or None without a
    filter. A filter that is just ``TRUE``/``FALSE`` becomes ``{"op": "and", "args": [b, b]}``.

    Raises :class:`InvalidInput` for the field ``filter-lang`` (unknown language) or
    ``filter`` (empty, too long, too deep, unreadable, not valid CQL2).
    """
    if text is None:
        return None
    language = "cql2-text" if lang is None else lang.strip().lower()
    if language not in FILTER_LANGS:
        raise InvalidInput.for_field(
            "filter-lang", f"unsupported filter language {lang!r}; use cql2-text (default) "
            "or cql2-json (cql-text is read as cql2-text)", "unsupported_filter_lang")
    if not text.strip():
        raise _problem("the filter is empty; leave the parameter out for no filter", "empty")
    if len(text) > MAX_FILTER_LENGTH:
        raise _problem(f"the filter has {len(text)} characters, more than the "
                       f"{MAX_FILTER_LENGTH} accepted", "too_long")
    if language == "cql2-json":
        try:
            raw = json.loads(text)
        except RecursionError as exc:
            raise _too_deep() from exc
        except ValueError as exc:
            raise _problem(f"the filter is not JSON: {exc}", "cql2_syntax") from exc
        if tree_depth(raw) > 2 * MAX_FILTER_DEPTH + 8:
            raise _too_deep()
        read = cql2.parse_json
    else:
        nesting, grouping = text_nesting(text)
        if nesting > MAX_FILTER_DEPTH:
            raise _too_deep()
        if grouping > grouping_allowed(len(text)):
            raise _problem(
                f"the filter nests {grouping} levels of parentheses; a filter of {len(text)} "
                f"characters may nest at most {grouping_allowed(len(text))} (leave out "
                "parentheses that AND/OR precedence makes unnecessary, or shorten the filter)",
                "too_deep")
        read = cql2.parse_text
    try:
        expression = read(text)
        tree = expression.to_json()
    except Exception as exc:  # the parser raises ParseError and, for some input, Exception
        message = " ".join(str(exc).split())
        raise _problem(f"the filter is not valid {language}: {message}", "cql2_syntax") from exc
    if ast_depth(tree) > MAX_FILTER_DEPTH:
        raise _too_deep()
    if isinstance(tree, bool):
        return {"op": "and", "args": [tree, tree]}
    if not isinstance(tree, dict):
        raise _problem("the filter is not a condition", "cql2_invalid")
    return tree
