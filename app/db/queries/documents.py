"""Registry rows as JSON assembled by PostGIS: GeoJSON geometry, Features, plain objects.

SQL fragments for hand-written queries. Geometry leaves as GeoJSON in the requested CRS;
queries using :func:`geometry_sql` bind ``:srid`` and ``:decimals`` (:func:`geometry_params`).
"""

from __future__ import annotations

from app.domain.crs import coordinate_decimals


def geometry_params(srid: int) -> dict[str, int]:
    """Bind values for :func:`geometry_sql`: output SRID and coordinate decimals."""
    return {"srid": srid, "decimals": coordinate_decimals(srid)}


def geometry_sql(column: str) -> str:
    """GeoJSON (JSONB, or NULL) of a geometry column in ``:srid`` with ``:decimals`` decimals.

    Polygon exterior rings are made counter-clockwise as RFC 7946 asks; the GeoJSON carries
    no ``crs``/``bbox`` member (the response declares the CRS).
    """
    return (f"ST_AsGeoJSON(ST_Transform(ST_ForcePolygonCCW({column}), "
            f"CAST(:srid AS integer)), CAST(:decimals AS integer), 0)::jsonb")


def document_sql(properties: str, geometry: str | None, *, id_column: str,
                 as_feature: bool) -> str:
    """One row as JSONB: a GeoJSON Feature, or the properties with a ``geometry`` member.

    ``geometry=None`` is for resources without geometry (plain objects only).
    """
    if geometry is None:
        return properties
    if as_feature:
        return (f"jsonb_build_object('type', 'Feature', 'id', {id_column}, "
                f"'geometry', {geometry}, 'properties', {properties})")
    return f"({properties}) || jsonb_build_object('geometry', {geometry})"
