"""The JSON representation of a parcel, assembled in PostGIS.

Fields the caller may not see are not part of the object at all: the disclosure rules of
:mod:`app.domain.disclosure` are applied in SQL. Geometry is GeoJSON in the requested CRS
(default WGS 84 lon/lat), exterior rings counter-clockwise as RFC 7946 asks.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, case, cast, func, literal
from sqlalchemy.dialects.postgresql import JSONB

from app.db.queries.parcels import parcels, sites
from app.domain.crs import coordinate_decimals
from app.domain.disclosure import ALWAYS_INTERNAL_FIELDS, DISCLOSABLE_FIELDS

_PUBLIC_FIELDS: tuple[str, ...] = (
    "id", "external_id", "name", "site_id", "district_ags", "municipality_ags", "category",
    "availability", "available_from", "restriction_level", "restriction_causes", "user_groups",
    "planning_status", "zoning", "servicing", "marketing_status", "gross_area_ha", "net_area_ha",
    "rail_siding", "operation_24h", "max_building_height_m", "broadband_mbps",
    "grid_capacity_mw", "distance_junction_km", "distance_airport_km", "slope_mean_pct",
    "slope_max_pct", "flood_hazard_share", "last_verified_at", "created_at", "updated_at",
    "version",
)
_INTERNAL_ONLY_FIELDS: tuple[str, ...] = (
    *ALWAYS_INTERNAL_FIELDS, "public_fields", "suggested_restriction_causes",
)


def _pairs(fields: tuple[str, ...]) -> list[Any]:
    out: list[Any] = []
    for name in fields:
        out += [literal(name), parcels.c[name]]
    return out


def geometry_json(srid: int) -> ColumnElement[Any]:
    """GeoJSON geometry of the parcel in ``srid`` (one of ``app.domain.crs.OUTPUT_SRIDS``)."""
    geom: Any = func.ST_ForcePolygonCCW(parcels.c.geom_25832)
    if srid != 25832:
        geom = func.ST_Transform(geom, srid)
    # options=0: no "crs"/"bbox" members inside the geometry (the response declares the CRS)
    return cast(func.ST_AsGeoJSON(geom, coordinate_decimals(srid), 0), JSONB)


def properties_json(can_read_internal: bool) -> ColumnElement[Any]:
    """The parcel's attributes (no geometry) as a JSONB object, limited to what may be seen.

    A disclosable field the caller may not see is absent from the object (not null), so a
    released field without a value stays distinguishable from a withheld one.
    """
    obj: Any = func.jsonb_build_object(
        *_pairs(_PUBLIC_FIELDS),
        literal("site_name"), sites.c.name,
        literal("net_area_derived"), parcels.c.net_area_ha_given.is_(None),
        literal("synthetic"), parcels.c.is_synthetic,
    )
    if can_read_internal:
        return obj.op("||")(func.jsonb_build_object(
            *_pairs(DISCLOSABLE_FIELDS), *_pairs(_INTERNAL_ONLY_FIELDS)))
    for name in DISCLOSABLE_FIELDS:
        released = literal(name) == func.any(parcels.c.public_fields)
        field = case(
            (released, func.jsonb_build_object(literal(name), parcels.c[name])),
            else_=cast(literal("{}"), JSONB),
        )
        obj = obj.op("||")(field)
    return obj
