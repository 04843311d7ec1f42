"""JSON Schema 2020-12 keywords rewritten as those of an OpenAPI 3.0 Schema Object.

Each function takes one schema (a copy the caller owns) and changes it in place, or returns
the changed schema; :mod:`app.api.openapi30` applies them while it walks a whole document.
"""

from __future__ import annotations

from typing import Any

_ANNOTATIONS = frozenset({"title", "description", "default", "examples", "example",
                          "$comment", "deprecated", "readOnly", "writeOnly"})


def _is_null(schema: Any) -> bool:
    """Whether ``schema`` admits only ``null`` (``{"type": "null"}`` plus annotations)."""
    return (isinstance(schema, dict) and schema.get("type") in ("null", ["null"])
            and set(schema) - {"type"} <= _ANNOTATIONS)


def _with_branch(outer: dict[str, Any], branch: Any) -> dict[str, Any]:
    """``outer`` merged with the single remaining branch of an ``anyOf``/``oneOf``."""
    if branch is True or branch == {}:
        return outer
    clash = (not isinstance(branch, dict) or "$ref" in branch
             or any(key in outer and outer[key] != value for key, value in branch.items()))
    if clash:
        return {**outer, "allOf": [*outer.get("allOf", []), branch]}
    return {**branch, **outer}


def lift_null(schema: dict[str, Any]) -> tuple[dict[str, Any], bool, bool]:
    """``schema`` without its ``null`` alternatives: (schema, nullable, only null allowed)."""
    src, nullable, only_null, changed = dict(schema), False, False, True
    while changed:
        changed = False
        kinds = src.get("type")
        if isinstance(kinds, str):
            kinds = [kinds]
        if isinstance(kinds, list) and "null" in kinds:
            nullable = True
            rest = [kind for kind in kinds if kind != "null"]
            only_null = not rest
            if rest:
                src["type"] = rest[0] if len(rest) == 1 else rest
            else:
                del src["type"]
        for key in ("anyOf", "oneOf"):
            branches = src.get(key)
            if not isinstance(branches, list) or not any(_is_null(b) for b in branches):
                continue
            nullable, changed = True, True
            rest = [branch for branch in branches if not _is_null(branch)]
            del src[key]
            if len(rest) == 1:
                src = _with_branch(src, rest[0])
            elif rest:
                src[key] = rest
            else:
                only_null = True
    return src, nullable, only_null


def exclusive_bounds(src: dict[str, Any]) -> None:
    """Numeric ``exclusiveMinimum``/``exclusiveMaximum`` as a bound plus the 3.0 boolean."""
    for bound, exclusive, tighter in (("minimum", "exclusiveMinimum", float.__ge__),
                                      ("maximum", "exclusiveMaximum", float.__le__)):
        value = src.get(exclusive)
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        del src[exclusive]
        current = src.get(bound)
        if current is None or tighter(float(value), float(current)):
            src[bound], src[exclusive] = value, True


def content_format(src: dict[str, Any]) -> None:
    """``contentEncoding``/``contentMediaType`` as the 3.0 ``format`` of a string."""
    encoding = src.pop("contentEncoding", None)
    media_type = src.pop("contentMediaType", None)
    src.pop("contentSchema", None)
    if encoding in ("base64", "base64url"):
        fmt = "byte"
    elif encoding == "binary" or (media_type is not None and encoding is None):
        fmt = "binary"
    else:
        return
    if src.get("type", "string") == "string":
        src["type"] = "string"
        src.setdefault("format", fmt)


def tuple_items(src: dict[str, Any]) -> None:
    """``prefixItems`` (and boolean ``items``) as a 3.0 ``items`` schema."""
    prefix = src.pop("prefixItems", None)
    items = src.get("items")
    if prefix is None and not isinstance(items, bool):
        return
    candidates = list(prefix or [])
    if items is False:
        src["maxItems"] = min(src.get("maxItems", len(candidates)), len(candidates))
    elif isinstance(items, dict):
        candidates.append(items)
    unique: list[Any] = []
    for candidate in candidates:
        if candidate not in unique:
            unique.append(candidate)
    if items is True or not unique or {} in unique or True in unique:
        src["items"] = {}
    else:
        src["items"] = unique[0] if len(unique) == 1 else {"anyOf": unique}


def pattern_properties(src: dict[str, Any]) -> None:
    """``patternProperties`` approximated by ``additionalProperties`` (the union)."""
    patterns = src.pop("patternProperties", None)
    if not isinstance(patterns, dict) or not patterns:
        return
    extra = src.get("additionalProperties")
    if extra is True or extra == {}:
        return
    union = list(patterns.values()) + ([extra] if isinstance(extra, dict) else [])
    unique = [schema for i, schema in enumerate(union) if schema not in union[:i]]
    src["additionalProperties"] = unique[0] if len(unique) == 1 else {"anyOf": unique}
