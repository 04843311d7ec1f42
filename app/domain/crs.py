"""Coordinate reference systems the API accepts and returns.

Storage is EPSG:25832 (ETRS89 / UTM 32N). Clients may send and receive WGS 84 lon/lat
(EPSG:4326 / OGC CRS84, the default and the only CRS of RFC 7946 GeoJSON), EPSG:25832,
EPSG:25833 (UTM 33N, official in Sachsen) and, for output only, Web Mercator (EPSG:3857).
"""

from __future__ import annotations

import re

from app.domain.errors import InvalidInput

STORAGE_SRID = 25832
DEFAULT_SRID = 4326
INPUT_SRIDS: tuple[int, ...] = (4326, 25832, 25833)
OUTPUT_SRIDS: tuple[int, ...] = (4326, 25832, 25833, 3857)

CRS84_URI = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
_CRS84_NAMES = {"CRS84", "OGC:CRS84", CRS84_URI.upper(), "URN:OGC:DEF:CRS:OGC:1.3:CRS84",
                CRS84_URI.upper().replace("HTTP://", "HTTPS://")}
_EPSG = re.compile(
    r"^(?:EPSG:{1,2}|urn:ogc:def:crs:EPSG:[0-9.]*:|https?://www\.opengis\.net/def/crs/EPSG/0/)?(\d{4,5})$",
    re.IGNORECASE,
)


def coordinate_decimals(srid: int) -> int:
    """Decimals that keep about 1 cm: 7 for degrees, 2 for metres.

    >>> coordinate_decimals(4326), coordinate_decimals(25832)
    (7, 2)
    """
    return 7 if srid == 4326 else 2


def crs_uri(srid: int) -> str:
    """The OGC URI of an EPSG code (CRS84 for 4326, whose axis order is lon, lat here).

    >>> crs_uri(25832)
    'http://www.opengis.net/def/crs/EPSG/0/25832'
    """
    return CRS84_URI if srid == 4326 else f"http://www.opengis.net/def/crs/EPSG/0/{srid}"


def parse_crs(text: str | None, *, field: str = "crs", allowed: tuple[int, ...] = OUTPUT_SRIDS,
              default: int = DEFAULT_SRID) -> int:
    """EPSG code of a CRS given as ``25832``, ``EPSG:25832``, an OGC URI/URN or ``CRS84``.

    >>> parse_crs("EPSG:25833")
    25833
    >>> parse_crs("http://www.opengis.net/def/crs/OGC/1.3/CRS84")
    4326
    >>> parse_crs(None)
    4326
    """
    if text is None or not text.strip():
        return default
    value = text.strip()
    if value.upper() in _CRS84_NAMES:
        srid = 4326
    else:
        match = _EPSG.match(value)
        if not match:
            raise InvalidInput.for_field(field, f"unrecognised CRS {value!r}", "crs")
        srid = int(match.group(1))
    if srid not in allowed:
        known = ", ".join(f"EPSG:{s}" for s in allowed)
        raise InvalidInput.for_field(
            field, f"CRS EPSG:{srid} is not supported here; use {known}", "crs")
    return srid
