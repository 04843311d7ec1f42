"""Writing land sales: record, correct (optimistic locking), withdraw.

Every function runs inside the caller's transaction. Where a sale lies is resolved here from
the most precise of point, municipality and district (they must agree), or taken from the
parcel or site sold; the editor must be allowed to write in that district (and, on a
change, in the old one too) and in the district of the parcel or site named, and a location
sent must agree with that parcel or site. Version and ``updated_at`` are kept by the
table's trigger.

The parcel or site a sale newly refers to is share-locked when it is first read, so every
later read in the transaction (its site, district, a point on it) sees the same state: a
concurrent move of the parcel waits, and the sale takes site and place from the parcel
either before or after the move, never a mix of both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text

from app.db.queries.parcels.rows import parcel_district, parcel_location
from app.domain.errors import InvalidInput
from app.domain.land_sale_input import LOCATION_FIELDS, LandSaleCreate, LandSalePatch
from app.domain.roles import Principal, ensure_can_write_district
from app.services.point_input import prepare_point
from app.services.write_common import GEOMETRY, RegistryTable, WriteResult, ensure_exists

_SALES = RegistryTable("land_sales", "land sale", GEOMETRY)
_LOCKED_COLUMNS = "id, district_ags, parcel_id, site_id, version"


def _resolve_location(conn: Connection, values: dict[str, Any], srid: int,
                      notes: list[str]) -> dict[str, Any]:
    """District, municipality and point (EWKT, EPSG:25832) from the location fields sent.

    A point determines the municipality, a municipality the district; a less precise field
    sent as well must agree (422 naming it). The point must lie in the region. What was
    changed in the point (a dropped height) is appended to ``notes``.
    """
    point = values.get("geometry")
    municipality = values.get("municipality_ags")
    district = values.get("district_ags")
    ewkt = None
    if point is not None:
        prepared = prepare_point(conn, point, srid)
        notes.extend(prepared.notes)
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
    """422 unless the parcel and site exist and agree; returns the site (the parcel's).

    The parcel, or else the site, is share-locked until the transaction ends.
    """
    if parcel_id is not None:
        parcel = ensure_exists(conn, "parcels", "id", parcel_id, "parcel_id", "parcel",
                               columns="site_id", share_lock=True)
        if site_id is not None and site_id != parcel.site_id:
            raise InvalidInput.for_field(
                "site_id", f"parcel {parcel_id} belongs to site {parcel.site_id}, "
                f"not {site_id}", "reference_mismatch")
        return int(parcel.site_id)
    if site_id is not None:
        ensure_exists(conn, "sites", "id", site_id, "site_id", "site", share_lock=True)
    return site_id


def _location_of_reference(conn: Connection, parcel_id: int | None,
                           site_id: int | None) -> dict[str, Any] | None:
    """Location of the parcel (a point on it) or else the site sold, if one is named."""
    if parcel_id is not None:
        return parcel_location(conn, parcel_id)
    if site_id is not None:
        row = conn.execute(text(
            "SELECT district_ags, municipality_ags, NULL AS geom_25832 FROM sites WHERE id = :id"),
            {"id": site_id}).mappings().one()
        return dict(row)
    return None


@dataclass(frozen=True)
class _Reference:
    """Where the parcel or site a sale refers to lies: the district it belongs to, and every
    district a sale of it may lie in (a site's partner municipalities may straddle)."""

    field: str
    label: str
    district_ags: str
    districts: frozenset[str]


def _reference(conn: Connection, parcel_id: int | None, site_id: int | None
               ) -> _Reference | None:
    """Where the parcel (if named) or else the site sold lies; ``None`` if neither is named."""
    if parcel_id is not None:
        district = parcel_district(conn, parcel_id)
        return _Reference("parcel_id", f"parcel {parcel_id}", district, frozenset({district}))
    if site_id is not None:
        row = conn.execute(text(
            "SELECT s.district_ags, coalesce(array_agg(left(sp.municipality_ags, 5)) "
            "FILTER (WHERE sp.municipality_ags IS NOT NULL), '{}') AS partners "
            "FROM sites s LEFT JOIN site_partners sp ON sp.site_id = s.id "
            "WHERE s.id = :id GROUP BY s.district_ags"), {"id": site_id}).one()
        return _Reference("site_id", f"site {site_id}", row.district_ags,
                          frozenset({row.district_ags, *row.partners}))
    return None


def _ensure_agrees(reference: _Reference, location: dict[str, Any], sent: dict[str, Any],
                   fallback_field: str | None = None) -> None:
    """422 (``location_mismatch``) unless the location lies where the reference does.

    Names the most precise location field sent, else ``fallback_field`` (the reference).
    """
    if location["district_ags"] in reference.districts:
        return
    field = next((name for name in LOCATION_FIELDS if sent.get(name) is not None),
                 fallback_field or reference.field)
    raise InvalidInput.for_field(
        field, f"{reference.label} lies in district {reference.district_ags}, but the sale's "
        f"location lies in district {location['district_ags']}", "location_mismatch")


def create_land_sale(conn: Connection, principal: Principal, data: LandSaleCreate, *,
                     srid: int) -> WriteResult:
    """Record a sale in a district the caller may write in.

    A parcel or site named must lie in a district the caller may write in, and a location
    sent as well must agree with it.
    """
    changes = data.changes()
    changes["site_id"] = _check_references(conn, data.parcel_id, data.site_id)
    reference = _reference(conn, data.parcel_id, changes["site_id"])
    if reference is not None:
        ensure_can_write_district(principal, reference.district_ags)
    location = None
    notes: list[str] = []
    if not any(changes.get(name) is not None for name in LOCATION_FIELDS):
        location = _location_of_reference(conn, data.parcel_id, changes["site_id"])
    if location is None:
        location = _resolve_location(conn, changes, srid, notes)
        if reference is not None:
            _ensure_agrees(reference, location, changes)
    ensure_can_write_district(principal, location["district_ags"])
    columns = {k: v for k, v in changes.items() if k not in LOCATION_FIELDS} | location
    row = _SALES.insert(conn, columns)
    return WriteResult(row.id, row.version, notes)


def update_land_sale(conn: Connection, principal: Principal, sale_id: int,
                     data: LandSalePatch, *, expected_version: int | None,
                     srid: int) -> WriteResult:
    """Apply a merge patch if the sale is still at ``expected_version`` (else 412).

    Sending any location field replaces the location as a whole (see
    :class:`~app.domain.land_sale_input.LandSalePatch`). A parcel or site newly named must
    lie in a district the caller may write in; after the change, the sale's location must
    agree with the parcel or site it refers to.
    """
    current = _SALES.lock(conn, principal, _LOCKED_COLUMNS, sale_id, expected_version)
    changes = data.changes()
    parcel_id, site_id = current.parcel_id, current.site_id
    references_changed = "parcel_id" in changes or "site_id" in changes
    if references_changed:
        parcel_id = changes.get("parcel_id", current.parcel_id)
        site_id = changes.get("site_id", current.site_id)
        changes["site_id"] = site_id = _check_references(conn, parcel_id, site_id)
    reference = _reference(conn, parcel_id, site_id)
    if references_changed and reference is not None:
        ensure_can_write_district(principal, reference.district_ags)
    columns = {k: v for k, v in changes.items() if k not in LOCATION_FIELDS}
    location_sent = any(name in changes for name in LOCATION_FIELDS)
    notes: list[str] = []
    if location_sent:
        columns |= _resolve_location(conn, changes, srid, notes)
    if reference is not None and (location_sent or references_changed):
        location = {"district_ags": columns.get("district_ags", current.district_ags)}
        _ensure_agrees(reference, location, changes,
                       None if location_sent else reference.field)
    if location_sent:
        ensure_can_write_district(principal, columns["district_ags"])
    if not columns:
        return WriteResult(sale_id, current.version, notes)
    return WriteResult(sale_id, _SALES.update(conn, sale_id, columns), notes)


def withdraw_land_sale(conn: Connection, principal: Principal, sale_id: int,
                       expected_version: int | None = None) -> WriteResult:
    """Withdraw a sale (``withdrawn_at``; the first time is kept); nothing is deleted."""
    _SALES.lock(conn, principal, _LOCKED_COLUMNS, sale_id, expected_version)
    version = conn.execute(text(
        "UPDATE land_sales SET withdrawn_at = coalesce(withdrawn_at, now()) WHERE id = :id "
        "RETURNING version"), {"id": sale_id}).scalar_one()
    return WriteResult(sale_id, version)
