"""The CRS of an import file: the ``crs`` option, and where coordinates of a CRS can lie."""

from __future__ import annotations

from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from app.domain.crs import EPSG_PATTERN
from app.domain.errors import InvalidInput


def import_srid(text_value: str | None) -> int | None:
    """The EPSG code a ``crs`` option names (``EPSG:31468``, an OGC URI, ``CRS84``); any
    code pyproj knows. ``None`` when not given.

    >>> import_srid("EPSG:31468"), import_srid("http://www.opengis.net/def/crs/EPSG/0/25833")
    (31468, 25833)
    """
    if text_value is None or not text_value.strip():
        return None
    if text_value.strip().upper().endswith("CRS84"):
        return 4326
    match = EPSG_PATTERN.match(text_value.strip())
    if match is not None:
        try:
            CRS.from_epsg(int(match.group(1)))
            return int(match.group(1))
        except CRSError:
            pass
    raise InvalidInput.for_field("crs", f"unbekanntes Koordinatensystem „{text_value}“ "
                                 "(erwartet z. B. EPSG:25832)", "unknown_crs")


def crs_box(srid: int) -> tuple[float, float, float, float]:
    """The CRS's area of use, widened by a degree, in its own coordinates."""
    area = CRS.from_epsg(srid).area_of_use
    west, south, east, north = ((area.west, area.south, area.east, area.north)
                                if area else (-180.0, -90.0, 180.0, 90.0))
    box = (max(west - 1, -180), max(south - 1, -90), min(east + 1, 180), min(north + 1, 90))
    if srid == 4326:
        return box
    out = Transformer.from_crs(4326, srid, always_xy=True).transform_bounds(*box,
                                                                            densify_pts=21)
    return (out[0], out[1], out[2], out[3])
