"""Writing parcels: create, update (optimistic locking), withdraw, verify, sell.

Every function runs inside the caller's transaction (see ``write_transaction``), checks the
caller's district scope before and after a geometry change, and leaves derivations (district,
municipality, areas, distances) and the history to the database's triggers. A new geometry's
raster statistics (slope, flood share, suggested restriction causes) are computed here and
written by the same statement (:mod:`app.services.raster`).

A marketed parcel (``verfuegbar``/``reserviert``) never lies on a withdrawn site: whoever
creates a parcel, moves it to another site or markets it again share-locks that site
before it locks the parcel (see :mod:`app.services.write_common`), and only then reads
``withdrawn_at``; the site's withdrawal locks the site for update and then counts the
marketed parcels. Either the withdrawal waits and sees the parcel, or the parcel write
waits and sees the withdrawal. Migration 0005 checks the same rule again at commit.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, text

from app.db.queries.parcels.rows import insert_sale_of_parcel, parcel_site_id, same_shape
from app.domain.errors import Conflict, InvalidInput
from app.domain.filters import MARKETED_STATUS as ACTIVE_STATUS
from app.domain.parcel_input import ParcelCreate, ParcelFields, SaleInput
from app.domain.roles import Principal, ensure_can_write_district
from app.services.geometry_input import prepare_polygon
from app.services.raster import raster_columns_for_ewkt
from app.services.write_common import GEOMETRY, RegistryTable, WriteResult, lock_shared

#: API field name → database column, where they differ.
_COLUMN = {"net_area_ha": "net_area_ha_given", "geometry": "geom_25832"}
_CAUSES = "CAST(:suggested_restriction_causes AS text[])"
_PARCELS = RegistryTable("parcels", "parcel",
                         {**GEOMETRY, "last_verified_at": "now()",
                          "suggested_restriction_causes": _CAUSES})
#: As :data:`_PARCELS`, with ``last_verified_at`` bound (a given time) instead of now().
_DATED_PARCELS = RegistryTable("parcels", "parcel",
                               {**GEOMETRY, "suggested_restriction_causes": _CAUSES})
_LOCKED_COLUMNS = "id, district_ags, version, marketing_status, site_id"
_SITE_COLUMNS = "id, withdrawn_at, district_ags"

#: Shapes closer than this (Hausdorff distance, metres) with the same vertex count are the
#: same shape: a geometry read in lon/lat (7 decimals, about 1 cm) and sent back unchanged
#: must not count as a change.
SAME_SHAPE_TOLERANCE_M = 0.02


def _locked(conn: Connection, principal: Principal, parcel_id: int,
            expected_version: int | None) -> Any:
    """The parcel, locked, after checking the caller's scope and the expected version."""
    return _PARCELS.lock(conn, principal, _LOCKED_COLUMNS, parcel_id, expected_version)


def _check_transition(current: Any, new_status: str, site: Any = None) -> None:
    """Refuse marketing-state changes that would falsify the record (409).

    Sold is final (the land sale stays recorded); a withdrawn parcel may be marketed again
    only while ``site`` (the site it will be on, share-locked) is active. A ``site`` of
    ``None`` there means an unknown site, which the site check reports.
    """
    if current.marketing_status == "verkauft" and new_status != "verkauft":
        raise Conflict(f"parcel {current.id} is sold: it cannot become {new_status} again")
    if current.marketing_status == "verkauft":
        raise Conflict(f"parcel {current.id} is already sold")
    if (current.marketing_status == "zurueckgezogen" and new_status in ACTIVE_STATUS
            and site is not None and site.withdrawn_at is not None):
        raise Conflict(f"site {site.id} of parcel {current.id} is withdrawn: "
                       "market the site first")


def _same_shape(conn: Connection, parcel_id: int, ewkt: str) -> bool:
    return same_shape(conn, parcel_id, ewkt, SAME_SHAPE_TOLERANCE_M)


def _with_raster_stats(columns: dict[str, Any]) -> dict[str, Any]:
    """``columns`` with the raster statistics of the new geometry (slope, flood share,
    suggested causes; see :mod:`app.services.raster`), written by the same statement as the
    geometry, so the change makes one history row. ``restriction_causes`` stays the
    editor's."""
    if "geom_25832" in columns:
        columns.update(raster_columns_for_ewkt(columns["geom_25832"]))
    return columns


def _lock_site(conn: Connection, site_id: int | None) -> Any:
    """The site ``site_id`` share-locked for the rest of the transaction (``None``: unknown).

    Call it before the parcel is locked (lock order: site, then parcel).
    """
    return lock_shared(conn, "sites", _SITE_COLUMNS, site_id)


def _check_site(principal: Principal, site_id: int | None, site: Any) -> None:
    """The site sent must exist, be active and lie in a district the caller may write in.

    ``site`` is its row as share-locked by :func:`_lock_site` (``None`` if it is unknown).
    """
    if site is None:
        raise InvalidInput.for_field("site_id", f"site {site_id} does not exist", "unknown_site")
    if site.withdrawn_at is not None:
        raise InvalidInput.for_field("site_id", f"site {site_id} is withdrawn", "withdrawn_site")
    ensure_can_write_district(principal, site.district_ags)


def _prepare_changes(conn: Connection, principal: Principal, data: ParcelFields, srid: int,
                     repair: bool, site: Any) -> tuple[dict[str, Any], list[str]]:
    changes = data.changes()
    notes: list[str] = []
    if "site_id" in changes:
        _check_site(principal, changes["site_id"], site)
    if data.geometry is not None:
        prepared = prepare_polygon(conn, data.geometry.model_dump(), srid, repair=repair)
        ensure_can_write_district(principal, prepared.district_ags)
        changes["geometry"] = prepared.ewkt
        net = changes.get("net_area_ha")
        if net is not None and net > prepared.area_ha:
            raise InvalidInput.for_field(
                "net_area_ha", f"net area {net:.4f} ha exceeds the gross area "
                f"{prepared.area_ha:.4f} ha of the geometry", "not_above_gross")
        notes.extend(prepared.notes)
    elif "geometry" in changes:
        raise InvalidInput.for_field("geometry", "geometry cannot be removed", "required")
    return {_COLUMN.get(name, name): value for name, value in changes.items()}, notes


def create_parcel(conn: Connection, principal: Principal, data: ParcelCreate, *, srid: int,
                  repair: bool, synthetic: bool = False, at: datetime | None = None
                  ) -> WriteResult:
    """Insert a parcel; the editor must be allowed to write in the district it lies in.

    ``synthetic`` labels it as demo data; ``at`` is when it was entered and checked (default:
    now), for a loader replaying a dated history (the demo timeline).
    """
    site = _lock_site(conn, data.site_id)
    columns, notes = _prepare_changes(conn, principal, data, srid, repair, site)
    columns["last_verified_at"] = at  # whoever enters a parcel has just checked it (now)
    if synthetic:
        columns["is_synthetic"] = True
    table = _PARCELS if at is None else _DATED_PARCELS
    row = table.insert(conn, _with_raster_stats(columns))
    return WriteResult(row.id, row.version, notes)


def update_parcel(conn: Connection, principal: Principal, parcel_id: int, data: ParcelFields,
                  *, expected_version: int | None, srid: int, repair: bool) -> WriteResult:
    """Apply a merge patch if the parcel is still at ``expected_version`` (else 412).

    ``expected_version=None`` (``If-Match: *``) applies it to whatever version is current.
    A move to another site or marketing it again share-locks the site it will be on first.
    """
    moves = "site_id" in data.model_fields_set
    markets = not moves and data.marketing_status in ACTIVE_STATUS
    site_id = data.site_id if moves else None
    if markets:
        site_id = parcel_site_id(conn, parcel_id)
    site = _lock_site(conn, site_id)
    current = _locked(conn, principal, parcel_id, expected_version)
    if markets and current.marketing_status == "zurueckgezogen" and current.site_id != site_id:
        raise Conflict(f"parcel {parcel_id} was moved to another site meanwhile: try again")
    if data.marketing_status is not None and data.marketing_status != current.marketing_status:
        _check_transition(current, data.marketing_status, site)
    columns, notes = _prepare_changes(conn, principal, data, srid, repair, site)
    if "geom_25832" in columns and _same_shape(conn, parcel_id, columns["geom_25832"]):
        del columns["geom_25832"]
    if not columns:
        return WriteResult(parcel_id, current.version, notes)
    version = _PARCELS.update(conn, parcel_id, _with_raster_stats(columns))
    return WriteResult(parcel_id, version, notes)


def _set_status(conn: Connection, parcel_id: int, sets: str) -> int:
    version: int = conn.execute(
        text(f"UPDATE parcels SET {sets} WHERE id = :id RETURNING version"), {"id": parcel_id}
    ).scalar_one()
    return version


def withdraw_parcel(conn: Connection, principal: Principal, parcel_id: int,
                    expected_version: int | None = None) -> WriteResult:
    """Take a parcel off the market (``zurueckgezogen``); nothing is deleted."""
    current = _locked(conn, principal, parcel_id, expected_version)
    if current.marketing_status != "zurueckgezogen":
        _check_transition(current, "zurueckgezogen")
    return WriteResult(parcel_id, _set_status(conn, parcel_id,
                                              "marketing_status = 'zurueckgezogen'"))


def verify_parcel(conn: Connection, principal: Principal, parcel_id: int,
                  expected_version: int | None = None, *, at: datetime | None = None
                  ) -> WriteResult:
    """Confirm the parcel's data as current (sets ``last_verified_at`` to now, or to ``at``
    for a loader replaying a dated history)."""
    _locked(conn, principal, parcel_id, expected_version)
    if at is None:
        return WriteResult(parcel_id, _set_status(conn, parcel_id, "last_verified_at = now()"))
    version: int = conn.execute(
        text("UPDATE parcels SET last_verified_at = :at WHERE id = :id RETURNING version"),
        {"id": parcel_id, "at": at}).scalar_one()
    return WriteResult(parcel_id, version)


def sell_parcel(conn: Connection, principal: Principal, parcel_id: int, sale: SaleInput,
                expected_version: int | None = None) -> tuple[WriteResult, int]:
    """Mark the parcel ``verkauft`` and record the land sale; returns the sale's id too."""
    current = _locked(conn, principal, parcel_id, expected_version)
    _check_transition(current, "verkauft")
    if current.marketing_status == "zurueckgezogen":
        raise Conflict(f"parcel {parcel_id} is withdrawn: market it again before selling it")
    version = _set_status(conn, parcel_id, "marketing_status = 'verkauft'")
    sale_id = insert_sale_of_parcel(conn, parcel_id, {
        "sale_date": sale.sale_date, "area_ha": sale.area_ha, "price": sale.price_eur_m2,
        "group": sale.buyer_user_group, "origin": sale.buyer_origin})
    return WriteResult(parcel_id, version), sale_id
