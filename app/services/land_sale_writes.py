"""Writing land sales: record, correct (optimistic locking), withdraw.

Every function runs inside the caller's transaction. Where a sale lies is resolved here from
the most precise of point, municipality and district (they must agree), or taken from the
parcel or site sold; the editor must be allowed to write in that district (and, on a
change, in the old one too). Version and ``updated_at`` are kept by the table's trigger.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, text

from app.domain.errors import InvalidInput
from app.domain.land_sale_input import LOCATION_FIELDS, LandSaleCreate, LandSalePatch
from app.domain.roles import Principal, ensure_can_write_district
from app.services.point_input import prepare_point
from app.services.write_common import (
    WriteResult,
    ensure_exists,
    ensure_version,
    insert_sql,
    lock_row,
    set_clause,
)

_GEOMETRY = {"geom_25832": "ST_GeomFromEWKT(:geom_25832)"}
_LOCKED_COLUMNS = "id, district_ags, parcel_id, site_id, version"


def _resolve_location(conn: Connection, values: dict[str, Any], srid: int) -> dict[str, Any]:
    """District, municipality and point (EWKT, EPSG:25832) from the location fields sent.

    A point determines the municipality, a municipality the district; a less precise field
    sent as well must agree (422 naming it). The point must lie in the region.
    """
    point = values.get("geometry")
    municipality = values.get("municipality_ags")
    district = values.get("district_ags")
    ewkt = None
    if point is not None:
        prepared = prepare_point(conn, point.coordinates, srid)
        ewkt = prepared.ewkt
        if municipality is not None and municipality != prepared.municipality_ags:
            raise InvalidInput.for_field(
                "municipality_ags", f"the point lies in municipality {prepared.municipality_ags}, "
                f"not {municipality}", "location_mismatch")
        municipality = prepared.municipality_ags
    if municipality is not None:
        ensure_exists(conn, "municipalities", "ags", municipality, "municipality_ags",
                      "municipality")
        if district is not None and district != municipality[:5]:
            raise InvalidInput.for_field(
                "district_ags", f"municipality {municipality} lies in district "
                f"{municipality[:5]}, not {district}", "location_mismatch")
        district = municipality[:5]
    if district is None:
        raise InvalidInput.for_field(
            "district_ags", "give district_ags, municipality_ags or a Point geometry "
            "(or the parcel_id or site_id to take the location from)", "required")
    ensure_exists(conn, "districts", "ags", district, "district_ags", "district")
    return {"district_ags": district, "municipality_ags": municipality, "geom_25832": ewkt}


def _check_references(conn: Connection, parcel_id: int | None, site_id: int | None
                      ) -> int | None:
    """422 unless the parcel and site exist and agree; returns the site (the parcel's)."""
    if parcel_id is not None:
        parcel = ensure_exists(conn, "parcels", "id", parcel_id, "parcel_id", "parcel",
                               columns="site_id")
        if site_id is not None and site_id != parcel.site_id:
            raise InvalidInput.for_field(
                "site_id", f"parcel {parcel_id} belongs to site {parcel.site_id}, "
                f"not {site_id}", "reference_mismatch")
        return int(parcel.site_id)
    if site_id is not None:
        ensure_exists(conn, "sites", "id", site_id, "site_id", "site")
    return site_id


def _location_of_reference(conn: Connection, parcel_id: int | None,
                           site_id: int | None) -> dict[str, Any] | None:
    """Location of the parcel (a point on it) or else the site sold, if one is named."""
    if parcel_id is not None:
        row = conn.execute(text(
            "SELECT district_ags, municipality_ags, ST_AsEWKT(ST_PointOnSurface(geom_25832)) "
            "AS geom_25832 FROM parcels WHERE id = :id"), {"id": parcel_id}).mappings().one()
        return dict(row)
    if site_id is not None:
        row = conn.execute(text(
            "SELECT district_ags, municipality_ags, NULL AS geom_25832 FROM sites WHERE id = :id"),
            {"id": site_id}).mappings().one()
        return dict(row)
    return None


def create_land_sale(conn: Connection, principal: Principal, data: LandSaleCreate, *,
                     srid: int) -> WriteResult:
    """Record a sale in a district the caller may write in."""
    changes = data.changes()
    changes["site_id"] = _check_references(conn, data.parcel_id, data.site_id)
    location = None
    if not any(changes.get(name) is not None for name in LOCATION_FIELDS):
        location = _location_of_reference(conn, data.parcel_id, changes["site_id"])
    if location is None:
        location = _resolve_location(conn, changes, srid)
    ensure_can_write_district(principal, location["district_ags"])
    columns = {k: v for k, v in changes.items() if k not in LOCATION_FIELDS} | location
    row = conn.execute(text(insert_sql("land_sales", columns, _GEOMETRY)), columns).one()
    return WriteResult(row.id, row.version)


def update_land_sale(conn: Connection, principal: Principal, sale_id: int,
                     data: LandSalePatch, *, expected_version: int | None,
                     srid: int) -> WriteResult:
    """Apply a merge patch if the sale is still at ``expected_version`` (else 412).

    Sending any location field replaces the location as a whole (see
    :class:`~app.domain.land_sale_input.LandSalePatch`).
    """
    current = lock_row(conn, "land_sales", _LOCKED_COLUMNS, sale_id, "land sale")
    ensure_can_write_district(principal, current.district_ags)
    ensure_version("land sale", sale_id, current.version, expected_version)
    changes = data.changes()
    if "parcel_id" in changes or "site_id" in changes:
        parcel_id = changes.get("parcel_id", current.parcel_id)
        site_id = changes.get("site_id", current.site_id)
        changes["site_id"] = _check_references(conn, parcel_id, site_id)
    columns = {k: v for k, v in changes.items() if k not in LOCATION_FIELDS}
    if any(name in changes for name in LOCATION_FIELDS):
        columns |= _resolve_location(conn, changes, srid)
        ensure_can_write_district(principal, columns["district_ags"])
    if not columns:
        return WriteResult(sale_id, current.version)
    sets, params = set_clause(columns, _GEOMETRY)
    version = conn.execute(text(f"UPDATE land_sales SET {sets} WHERE id = :sale_id "
                                "RETURNING version"), {**params, "sale_id": sale_id}).scalar_one()
    return WriteResult(sale_id, version)


def withdraw_land_sale(conn: Connection, principal: Principal, sale_id: int,
                       expected_version: int | None = None) -> WriteResult:
    """Withdraw a sale (``withdrawn_at``; the first time is kept); nothing is deleted."""
    current = lock_row(conn, "land_sales", _LOCKED_COLUMNS, sale_id, "land sale")
    ensure_can_write_district(principal, current.district_ags)
    ensure_version("land sale", sale_id, current.version, expected_version)
    version = conn.execute(text(
        "UPDATE land_sales SET withdrawn_at = coalesce(withdrawn_at, now()) WHERE id = :id "
        "RETURNING version"), {"id": sale_id}).scalar_one()
    return WriteResult(sale_id, version)
