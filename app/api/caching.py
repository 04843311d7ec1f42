"""HTTP caching and compression of whole representations: ``Accept-Encoding``,
``If-None-Match`` and the entity tag of a gzip representation (layers, tiles)."""

from __future__ import annotations

import re

_CODING = re.compile(r"^\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*(?:;\s*q\s*=\s*([0-9.]+)\s*)?$")

def accepts_gzip(values: list[str]) -> bool:
    """Whether ``Accept-Encoding`` (its header lines) allows gzip (RFC 9110 §12.5.3):
    ``gzip`` or ``x-gzip`` with a weight above 0, or else ``*`` with one.

    >>> accepts_gzip(["gzip, deflate"]), accepts_gzip(["br;q=1, gzip;q=0"])
    (True, False)
    >>> accepts_gzip([]), accepts_gzip(["identity"]), accepts_gzip(["*;q=0.5"])
    (False, False, True)
    """
    weights: dict[str, float] = {}
    for element in ",".join(values).split(","):
        match = _CODING.match(element)
        if not match:
            continue
        try:
            weight = float(match.group(2)) if match.group(2) else 1.0
        except ValueError:
            continue
        weights[match.group(1).lower()] = weight
    for coding in ("gzip", "x-gzip", "*"):
        if coding in weights:
            return weights[coding] > 0
    return False


def none_match(header: str | None, etag: str) -> bool:
    """Whether an ``If-None-Match`` value names ``etag`` (weak comparison) or is ``*``.

    >>> none_match('W/"a", "b"', '"a"'), none_match('"b"', '"a"'), none_match("*", '"a"')
    (True, False, True)
    >>> none_match(None, '"a"')
    False
    """
    if header is None:
        return False
    tags = [tag.strip().removeprefix("W/") for tag in header.split(",")]
    return "*" in tags or etag in tags


def gzip_etag(etag: str) -> str:
    """The tag of the gzip representation of the document tagged ``etag``.

    >>> gzip_etag('"layer-sites-ab12"')
    '"layer-sites-ab12-gzip"'
    """
    return etag[:-1] + '-gzip"'
