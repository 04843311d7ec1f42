"""Content negotiation by ``Accept`` with q-values (RFC 9110 §12.5.1).

:func:`negotiate` picks, from the media types a route can produce (its *offers*), the one
the client prefers; ``None`` means none is acceptable and the route answers 406 (or calls
:func:`require_acceptable`, which raises :class:`~app.domain.errors.NotAcceptable`).

The rules, as RFC 9110 states them:

* Each offer gets the weight (``q``, default 1) of the *most specific* media range that
  matches it: ``type/subtype`` with parameters before ``type/subtype`` before ``type/*``
  before ``*/*``. Type, subtype and parameter names compare case-insensitively.
* ``q=0`` means "not acceptable", also when a less specific range would accept the offer
  (``application/geo+json;q=0, */*``). An offer no range matches is not acceptable either.
* The highest weight wins; ties go to the offer listed first in ``offers``.
* Without an ``Accept`` header (or a blank one) every offer is acceptable: ``default``.

Leniencies (RFC 9110 lets a server disregard a header it cannot use):

* Malformed list elements (no ``/``, a bad ``q`` such as ``q=2``, ``*/json``) are skipped;
  if no element is usable the header counts as absent. A lone ``*`` reads as ``*/*``.
* ``charset`` parameters are ignored: JSON types define none (RFC 8259 §11), and a client
  sending ``application/json; charset=utf-8`` means JSON.
* A media type listed twice at the same specificity counts with its higher weight.

Several ``Accept`` header lines form one list: pass them joined with ``", "``
(:func:`accept_header` does that for a request).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from starlette.requests import Request

from app.domain.errors import FieldProblem, NotAcceptable

_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_QUOTED = r'"(?:[^"\\]|\\.)*"'
#: One list element; commas inside quoted strings do not end it.
_ELEMENT = re.compile(rf'(?:[^,"]|{_QUOTED})+')
#: A stripped media range; each run of blanks has one place only (no backtracking blow-up).
_MEDIA_RANGE = re.compile(
    rf"(?P<type>{_TOKEN})/(?P<subtype>{_TOKEN})\s*"
    rf"(?P<parameters>(?:;\s*(?:{_TOKEN}\s*=\s*(?:{_TOKEN}|{_QUOTED})\s*)?)*)")
_PARAMETER = re.compile(rf"(?P<name>{_TOKEN})\s*=\s*(?P<value>{_TOKEN}|{_QUOTED})")
#: RFC 9110 ``qvalue``: 0 to 1 with at most three decimals.
_QVALUE = re.compile(r"0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?")
#: Parameters that never restrict a match (see the module docstring).
_IGNORED_PARAMETERS = frozenset({"charset"})

#: Weights are kept in thousandths, so they compare exactly.
FULL_WEIGHT = 1000


@dataclass(frozen=True)
class MediaRange:
    """One element of ``Accept``: a media range with its parameters and weight (0–1000)."""

    type: str
    subtype: str
    parameters: frozenset[tuple[str, str]] = frozenset()
    weight: int = FULL_WEIGHT

    @property
    def specificity(self) -> tuple[int, int, int]:
        """Orders ranges from ``*/*`` up to ``type/subtype`` with the most parameters."""
        return (self.type != "*", self.subtype != "*", len(self.parameters))

    def matches(self, offer: MediaRange) -> bool:
        """Whether this range covers the concrete media type ``offer``."""
        return (self.type in ("*", offer.type) and self.subtype in ("*", offer.subtype)
                and self.parameters <= offer.parameters)


def _unquote(value: str) -> str:
    if value.startswith('"'):
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


def parse_media_range(text: str) -> MediaRange | None:
    """One ``Accept`` element, or ``None`` when it is malformed.

    >>> parse_media_range("Application/GEO+JSON; q=0.5")
    MediaRange(type='application', subtype='geo+json', parameters=frozenset(), weight=500)
    >>> parse_media_range("application/json;q=2") is None
    True
    """
    text = text.strip()
    if text == "*":
        text = "*/*"
    match = _MEDIA_RANGE.fullmatch(text)
    if match is None:
        return None
    type_, subtype = match["type"].lower(), match["subtype"].lower()
    if type_ == "*" and subtype != "*":
        return None
    parameters = set()
    weight = FULL_WEIGHT
    for parameter in _PARAMETER.finditer(match["parameters"]):
        name, value = parameter["name"].lower(), _unquote(parameter["value"])
        if name == "q":  # the weight ends the parameters (RFC 9110 §12.4.2)
            if not _QVALUE.fullmatch(value):
                return None
            weight = round(float(value) * FULL_WEIGHT)
            break
        if name not in _IGNORED_PARAMETERS:
            parameters.add((name, value))
    return MediaRange(type_, subtype, frozenset(parameters), weight)


def parse_accept(accept: str | None) -> list[MediaRange]:
    """The usable media ranges of an ``Accept`` value, in order (malformed ones skipped).

    >>> [(r.type, r.subtype, r.weight) for r in parse_accept('text/*;q=0.3, bogus, */*')]
    [('text', '*', 300), ('*', '*', 1000)]
    """
    if not accept:
        return []
    ranges = (parse_media_range(element) for element in _ELEMENT.findall(accept))
    return [media_range for media_range in ranges if media_range is not None]


def _offer(text: str) -> MediaRange:
    offer = parse_media_range(text)
    if offer is None or "*" in (offer.type, offer.subtype) or offer.weight != FULL_WEIGHT:
        raise ValueError(f"not a concrete media type: {text!r}")
    return offer


def weight_of(offer: MediaRange, ranges: Sequence[MediaRange]) -> int:
    """The weight (0–1000) ``ranges`` give the concrete type ``offer``: most specific wins."""
    matching = [media_range for media_range in ranges if media_range.matches(offer)]
    if not matching:
        return 0
    most_specific = max(media_range.specificity for media_range in matching)
    return max(r.weight for r in matching if r.specificity == most_specific)


def negotiate(accept: str | None, offers: Sequence[str], default: str) -> str | None:
    """The offer the ``Accept`` value prefers; ``default`` without a usable ``Accept``.

    ``None``: no offer is acceptable (answer 406). ``default`` must be one of ``offers``;
    offers are concrete media types, listed in the server's order of preference.

    >>> OFFERS = ["application/json", "application/geo+json"]
    >>> negotiate("application/json;q=0.5, application/geo+json", OFFERS, "application/json")
    'application/geo+json'
    >>> negotiate("application/geo+json;q=0, */*", OFFERS, "application/json")
    'application/json'
    >>> negotiate("text/html", OFFERS, "application/json") is None
    True
    >>> negotiate(None, OFFERS, "application/geo+json")
    'application/geo+json'
    """
    if default not in offers:
        raise ValueError(f"default {default!r} is not one of the offers {list(offers)!r}")
    ranges = parse_accept(accept)
    if not ranges:
        return default
    best: str | None = None
    best_weight = 0
    for text in offers:
        weight = weight_of(_offer(text), ranges)
        if weight > best_weight:  # strictly: the earlier offer keeps a tie
            best, best_weight = text, weight
    return best


def accept_header(request: Request) -> str | None:
    """The request's ``Accept`` lines as one list value (``None`` without the header)."""
    lines = request.headers.getlist("accept")
    return ", ".join(lines) if lines else None


def require_acceptable(accept: str | None, offers: Sequence[str], default: str) -> str:
    """:func:`negotiate`, raising :class:`NotAcceptable` (a 406 problem) instead of ``None``."""
    chosen = negotiate(accept, offers, default)
    if chosen is None:
        raise not_acceptable(offers)
    return chosen


Format = TypeVar("Format")

#: Media types of documents for people (reports, profiles).
HTML_MEDIA_TYPE = "text/html"
PDF_MEDIA_TYPE = "application/pdf"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def chosen_format(request: Request, requested: Format | None,
                  media_types: Mapping[Format, str], default: Format) -> Format:
    """The format a route answers in: ``requested`` (its ``f`` parameter) when given, else
    the one ``Accept`` prefers among ``media_types`` (``default`` without ``Accept``; 406
    when it accepts none)."""
    if requested is not None:
        return requested
    chosen = require_acceptable(accept_header(request), list(media_types.values()),
                                media_types[default])
    return next(k for k, v in media_types.items() if v == chosen)


def not_acceptable(offers: Sequence[str]) -> NotAcceptable:
    """The 406 problem: the ``Accept`` header accepts none of ``offers``.

    >>> error = not_acceptable(["application/json", "application/geo+json"])
    >>> error.status, error.problems[0].field, error.problems[0].code
    (406, 'Accept', 'not_acceptable')
    """
    listed = ", ".join(offers)
    return NotAcceptable(
        f"None of the available media types is acceptable: {listed}. "
        "Accept one of them (or */*), or send no Accept header.",
        problems=[FieldProblem("Accept", f"accepts none of {listed}", "not_acceptable")])
