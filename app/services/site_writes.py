"""Writing sites: create, update (optimistic locking), withdraw; partners replaced as a whole.

Every function runs inside the caller's transaction. The editor must be allowed to write in
the site's district, before and after a change of municipality, and in the district an
outline sent lies in; a municipality sent with an outline must lie in the outline's district
unless it is a partner of the site. The outline is stored in EPSG:25832; the municipality is
derived from it when not given. Partner shares are checked by the database at commit; the
check is made immediate here so that a wrong sum is reported as a 422 on ``partners``
instead of a failed commit. Partners are only replaced while the site is locked for update,
so two replacements of the same site's partners run one after the other.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from app.db.queries.parcels import parcel_sums
from app.domain.clock import today
from app.domain.errors import Conflict, InvalidInput
from app.domain.filters import MARKETED_STATUS as ACTIVE_STATUS
from app.domain.filters import ParcelFilter
from app.domain.roles import STAFF, Principal, ensure_can_write, ensure_can_write_district
from app.domain.site_input import PartnerInput, SiteCreate, SitePatch
from app.services.geometry_input import PreparedGeometry, prepare_polygon
from app.services.write_common import GEOMETRY, RegistryTable, WriteResult, ensure_exists

_SITES = RegistryTable("sites", "site", GEOMETRY)
_LOCKED_COLUMNS = "id, district_ags, municipality_ags, version, withdrawn_at"


def _municipality(conn: Connection, ags: str, field: str = "municipality_ags") -> None:
    ensure_exists(conn, "municipalities", "ags", ags, field, "municipality")


def _columns(conn: Connection, changes: dict[str, Any], srid: int, repair: bool,
             notes: list[str]) -> tuple[dict[str, Any], PreparedGeometry | None]:
    """API fields → column values; a new outline also yields the municipality if not sent.

    Also returns the prepared outline, if one was sent (it tells where the outline lies).
    """
    columns = dict(changes)
    prepared = None
    if "geometry" in columns:
        geometry = columns.pop("geometry")
        columns["geom_25832"] = None
        if geometry is not None:
            prepared = prepare_polygon(conn, geometry.model_dump(), srid, repair=repair)
            columns["geom_25832"] = prepared.ewkt
            if columns.get("municipality_ags") is None:
                columns["municipality_ags"] = prepared.municipality_ags
            notes.extend(prepared.notes)
    return columns, prepared


def _check_outline(principal: Principal, prepared: PreparedGeometry, municipality: str,
                   partners: set[str]) -> None:
    """The caller may write where the outline lies, and the municipality agrees with it.

    403 unless the caller may write in the outline's district; 422 (``location_mismatch``)
    when the municipality lies in another district than the outline, unless it is one of
    the site's partners (an inter-municipal estate may straddle a district border).
    """
    ensure_can_write_district(principal, prepared.district_ags)
    if municipality[:5] != prepared.district_ags and municipality not in partners:
        raise InvalidInput.for_field(
            "municipality_ags", f"the outline lies in district {prepared.district_ags} "
            f"(municipality {prepared.municipality_ags}), but municipality {municipality} "
            f"lies in district {municipality[:5]} and is not a partner of the site",
            "location_mismatch")


def _current_partners(conn: Connection, site_id: int) -> set[str]:
    return set(conn.execute(
        text("SELECT municipality_ags FROM site_partners WHERE site_id = :id"),
        {"id": site_id}).scalars())


def _replace_partners(conn: Connection, site_id: int, partners: list[PartnerInput]) -> None:
    """Replace the site's partners and check the shares now (not only at commit).

    An identical list changes nothing; any real change bumps the site's version (trigger).
    """
    for index, partner in enumerate(partners):
        _municipality(conn, partner.municipality_ags, f"partners.{index}.municipality_ags")
    current = {r.municipality_ags: float(r.share_pct) for r in conn.execute(
        text("SELECT municipality_ags, share_pct FROM site_partners WHERE site_id = :id"),
        {"id": site_id})}
    if current == {p.municipality_ags: float(p.share_pct) for p in partners}:
        return
    conn.execute(text("DELETE FROM site_partners WHERE site_id = :id"), {"id": site_id})
    if partners:
        conn.execute(
            text("INSERT INTO site_partners (site_id, municipality_ags, share_pct) "
                 "VALUES (:site_id, :municipality_ags, :share_pct)"),
            [{"site_id": site_id, **p.model_dump()} for p in partners])
    try:
        conn.execute(text("SET CONSTRAINTS site_partners_sum_100 IMMEDIATE"))
    except DBAPIError as exc:
        diag = getattr(exc.orig, "diag", None)
        message = getattr(diag, "message_primary", None) or "shares do not sum to 100 %"
        raise InvalidInput.for_field("partners", f"share_pct: {message}", "sum_100") from exc


def create_site(conn: Connection, principal: Principal, data: SiteCreate, *, srid: int,
                repair: bool, synthetic: bool = False) -> WriteResult:
    """Insert a site (and its partners) in a district the caller may write in.

    ``synthetic`` labels it as demo data (the demo timeline).
    """
    ensure_can_write(principal)
    changes = data.changes()
    partners = changes.pop("partners", None) or []
    notes: list[str] = []
    columns, prepared = _columns(conn, changes, srid, repair, notes)
    municipality = columns.get("municipality_ags")
    if municipality is None:
        raise InvalidInput.for_field(
            "municipality_ags", "give municipality_ags or a geometry to derive it from",
            "required")
    _municipality(conn, municipality)
    ensure_can_write_district(principal, municipality[:5])
    if prepared is not None:
        _check_outline(principal, prepared, municipality,
                       {p.municipality_ags for p in partners})
    if synthetic:
        columns["is_synthetic"] = True
    row = _SITES.insert(conn, columns)
    _replace_partners(conn, row.id, partners)
    return WriteResult(row.id, _version(conn, row.id), notes)


def update_site(conn: Connection, principal: Principal, site_id: int, data: SitePatch, *,
                expected_version: int | None, srid: int, repair: bool) -> WriteResult:
    """Apply a merge patch if the site is still at ``expected_version`` (else 412).

    Partners sent replace the old ones (``[]`` or null removes them); a real change of the
    partners is a change of the site and moves its version on.
    """
    current = _SITES.lock(conn, principal, _LOCKED_COLUMNS, site_id, expected_version)
    changes = data.changes()
    partners = changes.pop("partners", ...)
    notes: list[str] = []
    columns, prepared = _columns(conn, changes, srid, repair, notes)
    if "municipality_ags" in columns and columns["municipality_ags"] != current.municipality_ags:
        _municipality(conn, columns["municipality_ags"])
        ensure_can_write_district(principal, columns["municipality_ags"][:5])
    if prepared is not None:
        named = (_current_partners(conn, site_id) if partners is ...
                 else {p.municipality_ags for p in partners or []})
        _check_outline(principal, prepared,
                       columns.get("municipality_ags", current.municipality_ags), named)
    version = current.version
    if columns:
        version = _SITES.update(conn, site_id, columns)
    if partners is not ...:
        _replace_partners(conn, site_id, partners or [])
        version = _version(conn, site_id)
    return WriteResult(site_id, version, notes)


def _version(conn: Connection, site_id: int) -> int:
    version: int = conn.execute(
        text("SELECT version FROM sites WHERE id = :id"), {"id": site_id}).scalar_one()
    return version


def withdraw_site(conn: Connection, principal: Principal, site_id: int,
                  expected_version: int | None = None, *, at: datetime | None = None
                  ) -> WriteResult:
    """Withdraw a site (``withdrawn_at``: now, or ``at`` for a loader replaying a dated
    history) once none of its parcels is marketed any more.

    Withdrawing a withdrawn site changes nothing (the first time is kept). The site is
    locked for update *before* its parcels are counted: a parcel write that share-locked
    the site (create, move here, market again) has committed by then and is counted, and
    one that comes later waits for this transaction and then sees the site withdrawn.
    """
    _SITES.lock(conn, principal, _LOCKED_COLUMNS, site_id, expected_version)
    (supply,) = parcel_sums(conn, ParcelFilter(site_id=(site_id,), marketing_status=ACTIVE_STATUS),
                            viewer=STAFF, reference=today())
    active = supply["parcels"]
    if active:
        raise Conflict(
            f"site {site_id} still has {active} parcel(s) being marketed (verfuegbar or "
            "reserviert): withdraw or sell them before withdrawing the site")
    version = conn.execute(text(
        "UPDATE sites SET withdrawn_at = coalesce(withdrawn_at, CAST(:at AS timestamptz), "
        "now()) WHERE id = :id RETURNING version"), {"id": site_id, "at": at}).scalar_one()
    return WriteResult(site_id, version)
