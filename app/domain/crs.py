"""Coordinate reference systems the API accepts and returns.

Storage is EPSG:25832 (ETRS89 / UTM 32N). Clients may send and receive WGS 84 lon/lat
(EPSG:4326 / OGC CRS84, the default and the only CRS of RFC 7946 GeoJSON), EPSG:25832,
EPSG:25833 (UTM 33N, official in Sachsen) and, for output only, Web Mercator (EPSG:3857).

Coordinates a client sends in a CRS must lie where that CRS is defined: a query window must
overlap the bounds of the CRS's area of use (from the EPSG registry, read with pyproj, in the
CRS's own coordinates) and each of its corners must be transformable into the storage CRS
(:func:`window_problem`). Bounds rather than the area itself, because the Revier straddles
12° E, the border between the areas of use of the two UTM zones, and either zone must be
usable for all of it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import cache

from pyproj import CRS, Transformer
from pyproj.exceptions import ProjError

from app.domain.errors import InvalidInput

STORAGE_SRID = 25832
DEFAULT_SRID = 4326
INPUT_SRIDS: tuple[int, ...] = (4326, 25832, 25833)
OUTPUT_SRIDS: tuple[int, ...] = (4326, 25832, 25833, 3857)

CRS84_URI = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
_CRS84_NAMES = {"CRS84", "OGC:CRS84", CRS84_URI.upper(), "URN:OGC:DEF:CRS:OGC:1.3:CRS84",
                CRS84_URI.upper().replace("HTTP://", "HTTPS://")}
EPSG_PATTERN = re.compile(
    r"^(?:EPSG:{1,2}|urn:ogc:def:crs:EPSG:[0-9.]*:|https?://www\.opengis\.net/def/crs/EPSG/0/)?(\d{4,5})$",
    re.IGNORECASE,
)


def crs_names(srids: tuple[int, ...]) -> list[str]:
    """The canonical spellings of ``srids`` as published in the API's parameter enums.

    :func:`parse_crs` also reads other spellings of the same codes (``25832``, OGC URNs,
    any letter case).

    >>> crs_names((4326, 25832))
    ['CRS84', 'http://www.opengis.net/def/crs/OGC/1.3/CRS84', 'EPSG:4326', \
'EPSG:25832', 'http://www.opengis.net/def/crs/EPSG/0/25832']
    """
    names: list[str] = []
    for srid in srids:
        names += ["CRS84", CRS84_URI] if srid == DEFAULT_SRID else []
        names += [f"EPSG:{srid}"] + ([] if srid == DEFAULT_SRID else [crs_uri(srid)])
    return names


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
    if text is None:
        return default
    value = text.strip()
    if not value:
        raise InvalidInput.for_field(field, "empty CRS; leave the parameter out for the "
                                     "default (CRS84)", "crs")
    if value.upper() in _CRS84_NAMES:
        srid = 4326
    else:
        match = EPSG_PATTERN.match(value)
        if not match:
            raise InvalidInput.for_field(field, f"unrecognised CRS {value!r}", "crs")
        srid = int(match.group(1))
    if srid not in allowed:
        known = ", ".join(f"EPSG:{s}" for s in allowed)
        raise InvalidInput.for_field(
            field, f"CRS EPSG:{srid} is not supported here; use {known}", "crs")
    return srid


@cache
def area_of_use(srid: int) -> tuple[float, float, float, float]:
    """The EPSG area of use of ``srid`` as ``(minx, miny, maxx, maxy)`` in its own coordinates.

    >>> [round(v) for v in area_of_use(25833)]
    [225503, 3849755, 775412, 9330126]
    """
    west, south, east, north = CRS.from_epsg(srid).area_of_use.bounds
    to_crs = Transformer.from_crs(DEFAULT_SRID, srid, always_xy=True)
    minx, miny, maxx, maxy = to_crs.transform_bounds(west, south, east, north, densify_pts=21)
    return float(minx), float(miny), float(maxx), float(maxy)


@cache
def _to_storage(srid: int) -> Transformer:
    return Transformer.from_crs(srid, STORAGE_SRID, always_xy=True)


def _transformable(srid: int, x: float, y: float) -> bool:
    try:
        tx, ty = _to_storage(srid).transform(x, y, errcheck=True)
    except ProjError:
        return False
    return math.isfinite(tx) and math.isfinite(ty)


def window_problem(srid: int, minx: float, miny: float, maxx: float, maxy: float) -> str | None:
    """Why a query window in ``srid`` cannot be used, or ``None`` when it can.

    The window must overlap the bounds of the CRS's area of use (:func:`area_of_use`), and
    every corner must be transformable into the storage CRS (a UTM zone is not defined a
    hundred thousand kilometres out): PostGIS would otherwise fail on the transformation
    ("Point outside of projection domain").

    >>> window_problem(25833, 0, 0, 1e8, 1e8)
    'bbox corner (100000000, 0) lies outside the domain of EPSG:25833; its area of \
use is x 225503 to 775412, y 3849755 to 9330126'
    >>> window_problem(25833, 300_000, 5_600_000, 320_000, 5_620_000) is None
    True
    """
    area = area_of_use(srid)
    where = (f"its area of use is x {area[0]:.0f} to {area[2]:.0f}, "
             f"y {area[1]:.0f} to {area[3]:.0f}")
    if maxx < area[0] or minx > area[2] or maxy < area[1] or miny > area[3]:
        return f"bbox lies outside the area of use of EPSG:{srid}; {where}"
    for x, y in ((minx, miny), (maxx, miny), (maxx, maxy), (minx, maxy)):
        if not _transformable(srid, x, y):
            return (f"bbox corner ({x:.0f}, {y:.0f}) lies outside the domain of "
                    f"EPSG:{srid}; {where}")
    return None


@dataclass(frozen=True)
class OgcCrs:
    """A CRS of OGC API – Features Part 2, with the axis order its definition prescribes.

    ``lat_lon``: the CRS's first axis points north (EPSG:4326 latitude first, EPSG:31468
    northing first), so coordinates are exchanged in (y, x) order and swapped against
    PostGIS's (x, y). ``decimals`` keep about 1 mm (metres) resp. 1 cm (degrees).
    """

    uri: str
    srid: int
    lat_lon: bool
    decimals: int

    @property
    def header(self) -> str:
        """The value of a ``Content-Crs`` header: the URI in angle brackets."""
        return f"<{self.uri}>"


#: EPSG codes of OGC API – Features Part 2 (besides CRS84), in the order they are listed.
OGC_SRIDS: tuple[int, ...] = (4326, 25832, 25833, 3857, 31468)


@cache
def _ogc_crs(srid: int) -> OgcCrs:
    first_axis = CRS.from_epsg(srid).axis_info[0].direction
    geographic = CRS.from_epsg(srid).is_geographic
    return OgcCrs(f"http://www.opengis.net/def/crs/EPSG/0/{srid}", srid,
                  lat_lon=first_axis in ("north", "south"), decimals=8 if geographic else 3)


#: OGC:CRS84, longitude first: the default of every OGC API request and of RFC 7946.
CRS84 = OgcCrs(CRS84_URI, 4326, lat_lon=False, decimals=8)


def ogc_crs_list() -> list[OgcCrs]:
    """Every CRS the OGC API reads and writes: CRS84 first, then :data:`OGC_SRIDS`.

    >>> [(c.srid, c.lat_lon) for c in ogc_crs_list()]
    [(4326, False), (4326, True), (25832, False), (25833, False), (3857, False), (31468, True)]
    """
    return [CRS84, *(_ogc_crs(srid) for srid in OGC_SRIDS)]


def parse_ogc_crs(text: str | None, *, field: str) -> OgcCrs:
    """The CRS a ``crs``, ``bbox-crs`` or ``filter-crs`` parameter names (default CRS84).

    Unlike :func:`parse_crs`, ``EPSG:4326`` keeps its own axis order (latitude first), as
    OGC API – Features Part 2 requires; CRS84 is longitude first. URIs, URNs, safe CURIEs
    (``[EPSG:25832]``) and ``EPSG:n`` are read.

    >>> parse_ogc_crs("http://www.opengis.net/def/crs/EPSG/0/4326", field="crs").lat_lon
    True
    >>> parse_ogc_crs("[EPSG:31468]", field="crs").srid
    31468
    """
    if text is None:
        return CRS84
    value = text.strip().removeprefix("[").removesuffix("]")
    if value.upper() in _CRS84_NAMES:
        return CRS84
    match = EPSG_PATTERN.match(value)
    srid = int(match.group(1)) if match else None
    if srid not in OGC_SRIDS:
        known = ", ".join(c.uri for c in ogc_crs_list())
        raise InvalidInput.for_field(
            field, f"unsupported CRS {value!r}; use one of {known}", "crs")
    assert srid is not None
    return _ogc_crs(srid)
