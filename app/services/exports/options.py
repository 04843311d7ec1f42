"""The field registry's filter parameters as command-line options (``gefis export``).

Each HTTP filter parameter of the registry becomes an option of the same name with dashes
(``net_area_min_ha`` → ``--net-area-min-ha``); list parameters may be repeated or hold
comma-separated values, as on the API. Values are checked by :class:`ParcelFilter`, the same
model the API fills; a refused value names its option.

>>> [o.flag for o in FILTER_OPTIONS][:3]
['--site-id', '--district', '--municipality']
>>> parcel_filter_from_options({"district": ["14713,14729"], "rail_siding": "true"}).active()
{'district': ('14713', '14729'), 'rail_siding': True}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from app.domain.errors import FieldProblem, InvalidInput
from app.domain.filters import ParcelFilter
from app.domain.parcel_fields import FILTER_PARAMS, FieldType, Op


@dataclass(frozen=True)
class FilterOption:
    """One command-line option: the filter parameter, its flag, whether it may repeat."""

    param: str
    flag: str
    repeated: bool
    help: str


#: The registry's HTTP filter parameters as options, in registry order.
FILTER_OPTIONS: tuple[FilterOption, ...] = tuple(
    FilterOption(p.param, "--" + p.param.replace("_", "-"),
                 p.op in (Op.IN, Op.OVERLAPS, Op.DISJOINT), p.description)
    for f, p in FILTER_PARAMS.values() if p.http)

_TRUE, _FALSE = ("true", "ja", "1"), ("false", "nein", "0")


def _value(param: str, raw: Any) -> Any:
    f, p = FILTER_PARAMS[param]
    if p.op in (Op.IN, Op.OVERLAPS, Op.DISJOINT):
        items = tuple(v for value in raw for v in str(value).split(","))
        if f.type is FieldType.INTEGER:
            if not all(v.isdigit() for v in items):
                raise ValueError("whole numbers")
            return tuple(int(v) for v in items)
        return items
    if p.op is Op.EQ:
        text = str(raw).lower()
        if text not in (*_TRUE, *_FALSE):
            raise ValueError("true or false")
        return text in _TRUE
    if p.op in (Op.GE, Op.LE):
        return float(raw)
    return str(raw)


def parcel_filter_from_options(values: dict[str, Any]) -> ParcelFilter:
    """The parcel filter of the options given (``None`` values: not given); 422 naming the
    option for a value the registry refuses."""
    flags = {o.param: o.flag for o in FILTER_OPTIONS}
    given: dict[str, Any] = {}
    for param, raw in values.items():
        if raw is None or param not in flags:
            continue
        try:
            given[param] = _value(param, raw)
        except ValueError as exc:
            raise InvalidInput.for_field(flags[param], f"{raw!r}: {exc}") from None
    try:
        return ParcelFilter(**given)
    except ValidationError as exc:
        problems = [FieldProblem(flags.get(str(err["loc"][0]), str(err["loc"][0]))
                                 if err["loc"] else None,
                                 str(err["msg"]).removeprefix("Value error, "), err["type"])
                    for err in exc.errors()]
        raise InvalidInput("; ".join(f"{p.field}: {p.reason}" for p in problems),
                           problems=problems) from exc
