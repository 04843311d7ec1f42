"""Lookups of the write path (under the caller's locks) and small facts about the stored parcels.

Writes lock and check parcels by id, the demo timeline finds its parcels by external id, the
raster command checks ids and counts what it filled, the web map asks whether demo data is
loaded. They see every stored parcel, in any state and regardless of who asks (no viewer,
no filter), and live here beside the builder (see the package's docstring for the writes
that live elsewhere).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from sqlalchemy import Connection

from app.db.queries.keyset import cached_text


def parcel_site_id(conn: Connection, parcel_id: int) -> int | None:
    """The site of a parcel, or ``None`` when the parcel does not exist."""
    row = conn.execute(cached_text("SELECT site_id FROM parcels WHERE id = :id"),
                       {"id": parcel_id}).scalar_one_or_none()
    return None if row is None else int(row)


def parcel_district(conn: Connection, parcel_id: int) -> str:
    """The district (AGS) a parcel lies in; the parcel must exist."""
    district: str = conn.execute(cached_text("SELECT district_ags FROM parcels WHERE id = :id"),
                                 {"id": parcel_id}).scalar_one()
    return district


def same_shape(conn: Connection, parcel_id: int, ewkt: str, tolerance_m: float) -> bool:
    """Whether the stored geometry and ``ewkt`` (EPSG:25832) have the same vertex count and
    lie within ``tolerance_m`` metres of each other (Hausdorff distance)."""
    same: bool = conn.execute(cached_text(
        "SELECT ST_NPoints(p.geom_25832) = ST_NPoints(g.geom) "
        "AND ST_HausdorffDistance(p.geom_25832, g.geom) < :tolerance "
        "FROM parcels p, (SELECT ST_GeomFromEWKT(:ewkt) AS geom) g WHERE p.id = :id"),
        {"ewkt": ewkt, "id": parcel_id, "tolerance": tolerance_m}).scalar_one()
    return same


def parcel_location(conn: Connection, parcel_id: int) -> dict[str, Any]:
    """District, municipality and a point on the parcel (EWKT, EPSG:25832); it must exist."""
    row = conn.execute(cached_text(
        "SELECT district_ags, municipality_ags, ST_AsEWKT(ST_PointOnSurface(geom_25832)) "
        "AS geom_25832 FROM parcels WHERE id = :id"), {"id": parcel_id}).mappings().one()
    return dict(row)


def insert_sale_of_parcel(conn: Connection, parcel_id: int, values: dict[str, Any]) -> int:
    """Record the sale of a parcel: place, site and (unless given) area come from the parcel,
    and so does the synthetic label (a sale of demo land is demo data).

    ``values``: ``sale_date``, ``area_ha`` (``None``: the parcel's net area), ``price``,
    ``group`` (buyer's user group), ``origin``. Returns the sale's id.
    """
    sale_id: int = conn.execute(cached_text(
        "INSERT INTO land_sales (sale_date, district_ags, municipality_ags, parcel_id, site_id, "
        "area_ha, price_eur_m2, buyer_user_group, buyer_origin, geom_25832, is_synthetic) "
        "SELECT :sale_date, district_ags, municipality_ags, id, site_id, "
        "coalesce(:area_ha, net_area_ha), :price, :group, :origin, ST_PointOnSurface(geom_25832), "
        "is_synthetic "
        "FROM parcels WHERE id = :id RETURNING id"), {**values, "id": parcel_id}).scalar_one()
    return sale_id


def any_parcel(conn: Connection) -> bool:
    """Whether any parcel is stored (in any state)."""
    found: bool = conn.execute(cached_text("SELECT EXISTS (SELECT 1 FROM parcels)")).scalar_one()
    return found


def any_synthetic(conn: Connection) -> bool:
    """Whether any synthetic (demo) parcel is stored (in any state)."""
    found: bool = conn.execute(cached_text(
        "SELECT EXISTS (SELECT 1 FROM parcels WHERE is_synthetic)")).scalar_one()
    return found


def existing_ids(conn: Connection, ids: Sequence[int]) -> set[int]:
    """Those of ``ids`` that are ids of stored parcels (in any state)."""
    return set(conn.execute(cached_text("SELECT id FROM parcels WHERE id = ANY(:ids)"),
                            {"ids": list(ids)}).scalars())


def synthetic_ids(conn: Connection) -> dict[str, int]:
    """The ids of the synthetic (demo) parcels by their external id."""
    return dict(conn.execute(cached_text(
        "SELECT external_id, id FROM parcels WHERE is_synthetic")).tuples().all())


def external_ids_changed_for(conn: Connection, reason_like: str) -> set[str]:
    """External ids of the parcels with a history row whose reason matches the ``LIKE``
    pattern ``reason_like``."""
    return {str(r[0]) for r in conn.execute(cached_text(
        "SELECT DISTINCT p.external_id FROM parcel_history h "
        "JOIN parcels p ON p.id = h.parcel_id WHERE h.reason LIKE :reason"),
        {"reason": reason_like})}


class RasterCoverage(NamedTuple):
    """How many parcels there are, and how many of them have a mean slope, a flood-hazard
    share and at least one suggested restriction cause (the raster statistics)."""

    parcels: int
    slope: int
    flood: int
    suggested: int


def raster_coverage(conn: Connection, ids: Sequence[int] | None = None) -> RasterCoverage:
    """:class:`RasterCoverage` of every parcel, or of the parcels ``ids`` (``[]``: none)."""
    row = conn.execute(cached_text("""
        SELECT count(*) AS parcels, count(slope_mean_pct) AS slope,
               count(flood_hazard_share) AS flood,
               count(*) FILTER (WHERE cardinality(suggested_restriction_causes) > 0)
                   AS suggested
          FROM parcels
         WHERE CAST(:ids AS bigint[]) IS NULL OR id = ANY(CAST(:ids AS bigint[]))
    """), {"ids": None if ids is None else list(ids)}).one()
    return RasterCoverage(row.parcels, row.slope, row.flood, row.suggested)
