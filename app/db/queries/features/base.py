"""The shape every feature collection shares, and the table-backed collection.

A collection turns a :class:`Selection` (SQL conditions from ``bbox``, ``datetime`` and a
CQL2 ``filter``, the chosen properties) into a :class:`~app.db.queries.keyset.ListQuery` of
GeoJSON Features in a requested :class:`~app.domain.crs.OgcCrs`, for one viewer. Geometry is
transformed from the storage CRS to the requested one in PostGIS and written with the
requested CRS's axis order (latitude first for EPSG:4326) and precision.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from app.db.queries.cql2_sql import Queryable, QueryableType
from app.db.queries.keyset import ListQuery, SortKey
from app.domain.crs import OgcCrs
from app.domain.errors import InvalidInput
from app.domain.roles import Viewer

#: SQL types of keyset cursors per queryable type (sortable properties).
SQL_TYPE_OF = {QueryableType.INTEGER: "bigint", QueryableType.NUMBER: "float8",
               QueryableType.STRING: "text", QueryableType.DATE: "date",
               QueryableType.DATETIME: "timestamptz", QueryableType.BOOLEAN: "boolean"}

#: JSON Schema of a geometry property in queryables (QGIS reads the ``$ref``).
GEOMETRY_SCHEMA_URL = "https://geojson.org/schema/{}.json"


@dataclass(frozen=True)
class Selection:
    """Which features to return: SQL conditions (AND) over the collection's aliases with
    their bound values, and the properties to include (``None``: all the viewer may see)."""

    conditions: tuple[str, ...] = ()
    params: dict[str, Any] = field(default_factory=dict)
    properties: tuple[str, ...] | None = None


def feature_geometry_sql(column: str, storage_srid: int, crs: OgcCrs) -> str:
    """GeoJSON (JSONB) of ``column`` in ``crs``: transformed, polygon rings in RFC 7946
    orientation, coordinates in the CRS's axis order, rounded to its decimals."""
    geometry = f"ST_ForcePolygonCCW({column})"
    if crs.srid != storage_srid:
        geometry = f"ST_Transform({geometry}, {int(crs.srid)})"
    if crs.lat_lon:
        geometry = f"ST_FlipCoordinates({geometry})"
    return f"ST_AsGeoJSON({geometry}, {int(crs.decimals)}, 0)::jsonb"


def feature_sql(id_sql: str, geometry: str, properties: str) -> str:
    """One row as a GeoJSON Feature (JSONB)."""
    return (f"jsonb_build_object('type', 'Feature', 'id', {id_sql}, 'geometry', {geometry}, "
            f"'properties', {properties})")


def object_sql(pairs: list[tuple[str, str]]) -> str:
    """``jsonb_build_object`` of (name, SQL) pairs, chunked below PostgreSQL's 100 arguments."""
    chunks = [pairs[i:i + 40] for i in range(0, len(pairs), 40)] or [[]]
    return " || ".join(
        "jsonb_build_object(" + ", ".join(f"'{name}', {sql}" for name, sql in chunk) + ")"
        for chunk in chunks)


class Collection(Protocol):
    """A published feature collection (parcels, a table, a configured view)."""

    id: str
    title: str
    description: str
    storage_srid: int
    geometry_type: str
    #: the queryable naming the geometry (``geometry``; a configured table's column name)
    geometry_name: str
    #: the property ``datetime`` filters on (``None``: the collection has no time)
    temporal: str | None

    def visible_to(self, viewer: Viewer) -> bool:
        """Whether ``viewer`` may see the collection at all."""
        ...

    def queryables(self, viewer: Viewer) -> dict[str, Queryable]:
        """Properties ``viewer`` may filter on (the geometry included), by name."""
        ...

    def property_schemas(self, viewer: Viewer) -> dict[str, dict[str, Any]]:
        """JSON Schema of each property ``viewer`` sees (queryables and sortables)."""
        ...

    def sortables(self, viewer: Viewer) -> tuple[str, ...]:
        """Properties ``viewer`` may sort by."""
        ...

    def sort_key(self, name: str | None, descending: bool, viewer: Viewer) -> SortKey:
        """The keyset order ``sortby`` asks for (``None``: by id)."""
        ...

    def items_query(self, selection: Selection, viewer: Viewer, crs: OgcCrs) -> ListQuery:
        """The features of ``selection`` that ``viewer`` may see, as GeoJSON Features."""
        ...

    def item_query(self, feature_id: str, viewer: Viewer, crs: OgcCrs) -> ListQuery | None:
        """The one feature ``feature_id`` (``None``: not a valid id of this collection)."""
        ...


@dataclass(frozen=True)
class Property:
    """A published property of a table collection."""

    name: str
    sql: str
    type: QueryableType
    description: str
    staff_only: bool = False
    sortable: bool = False
    nullable: bool = True
    unit: str | None = None


def property_schema(prop_type: QueryableType, description: str,
                    unit: str | None = None) -> dict[str, Any]:
    """JSON Schema of a property of ``prop_type`` (dates as string formats)."""
    if prop_type is QueryableType.DATE:
        schema: dict[str, Any] = {"type": "string", "format": "date"}
    elif prop_type is QueryableType.DATETIME:
        schema = {"type": "string", "format": "date-time"}
    elif prop_type in (QueryableType.STRINGS, QueryableType.INTEGERS):
        item = "string" if prop_type is QueryableType.STRINGS else "integer"
        schema = {"type": "array", "items": {"type": item}}
    else:
        schema = {"type": str(prop_type)}
    schema["description"] = description + (f" ({unit})" if unit else "")
    return schema


def chosen(available: list[str], requested: tuple[str, ...] | None) -> list[str]:
    """The properties to return: ``requested`` (each must be in ``available``) or all.

    >>> chosen(["a", "b"], ("b",)), chosen(["a", "b"], None)
    (['b'], ['a', 'b'])
    """
    if requested is None:
        return available
    unknown = [name for name in requested if name not in available]
    if unknown:
        raise InvalidInput.for_field(
            "properties", f"unknown propert{'y' if len(unknown) == 1 else 'ies'} "
            f"{', '.join(unknown)}; available: {', '.join(available)}", "unknown_property")
    return [name for name in available if name in requested]


@dataclass(frozen=True)
class TableCollection:
    """A collection over a table or view: ``from_sql`` (with the alias its SQL uses), the
    id and geometry expressions, the published properties and who may see what."""

    id: str
    title: str
    description: str
    from_sql: str
    id_sql: str
    geometry_sql: str
    storage_srid: int
    geometry_type: str
    properties: tuple[Property, ...]
    id_type: QueryableType = QueryableType.INTEGER
    #: conditions every request gets (e.g. withdrawn rows left out)
    where: tuple[str, ...] = ()
    #: further conditions for viewers who are not staff
    public_where: tuple[str, ...] = ()
    staff_only: bool = False
    temporal: str | None = None
    params: tuple[tuple[str, Any], ...] = ()
    geometry_name: str = "geometry"

    def visible_to(self, viewer: Viewer) -> bool:
        return viewer.internal or not self.staff_only

    def _visible(self, viewer: Viewer) -> list[Property]:
        return [p for p in self.properties if viewer.internal or not p.staff_only]

    def queryables(self, viewer: Viewer) -> dict[str, Queryable]:
        found = {p.name: Queryable(p.name, p.sql, p.type) for p in self._visible(viewer)}
        found[self.geometry_name] = Queryable(self.geometry_name, self.geometry_sql,
                                              QueryableType.GEOMETRY, srid=self.storage_srid)
        return found

    def property_schemas(self, viewer: Viewer) -> dict[str, dict[str, Any]]:
        return {p.name: property_schema(p.type, p.description, p.unit)
                for p in self._visible(viewer)}

    def sortables(self, viewer: Viewer) -> tuple[str, ...]:
        return tuple(p.name for p in self._visible(viewer) if p.sortable)

    def sort_key(self, name: str | None, descending: bool, viewer: Viewer) -> SortKey:
        if name is None or name == "id":
            return SortKey("id", None, SQL_TYPE_OF[self.id_type], descending)
        prop = next((p for p in self._visible(viewer) if p.name == name and p.sortable), None)
        if prop is None:
            raise InvalidInput.for_field(
                "sortby", f"cannot sort by {name!r}; sortable: "
                f"{', '.join(['id', *self.sortables(viewer)])}", "unknown_property")
        return SortKey(prop.name, prop.sql, SQL_TYPE_OF[prop.type], descending,
                       nullable=prop.nullable)

    def _rows_where(self, viewer: Viewer) -> tuple[str, ...]:
        return self.where + (() if viewer.internal else self.public_where)

    def _document(self, viewer: Viewer, crs: OgcCrs, names: tuple[str, ...] | None) -> str:
        visible = {p.name: p for p in self._visible(viewer)}
        pairs = [(name, visible[name].sql) for name in chosen(list(visible), names)]
        return feature_sql(self.id_sql,
                           feature_geometry_sql(self.geometry_sql, self.storage_srid, crs),
                           object_sql(pairs))

    def items_query(self, selection: Selection, viewer: Viewer, crs: OgcCrs) -> ListQuery:
        return ListQuery(self.from_sql, self._rows_where(viewer) + selection.conditions,
                         {**dict(self.params), **selection.params},
                         self._document(viewer, crs, selection.properties), self.id_sql)

    def item_query(self, feature_id: str, viewer: Viewer, crs: OgcCrs) -> ListQuery | None:
        if self.id_type is QueryableType.INTEGER:
            if not feature_id.isdigit() or len(feature_id) > 18:
                return None
            value: Any = int(feature_id)
        else:
            value = feature_id
        return ListQuery(self.from_sql, (*self._rows_where(viewer), f"{self.id_sql} = :fid"),
                         {**dict(self.params), "fid": value},
                         self._document(viewer, crs, None), self.id_sql)
