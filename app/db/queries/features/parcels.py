"""The parcels collection: the field registry and the parcel select path, seen as features.

Rows and fields follow the registry's role rules (:func:`~app.db.queries.parcels.sql.where_sql`,
:func:`~app.db.queries.parcels.sql.visible_sql`): the public sees marketed parcels of active
sites with their public and released fields; a withheld value is NULL in every filter and sort,
so it can neither be read nor narrowed down. An OGC request selects every parcel the viewer may
see unless the registry's own query parameters (``district``, ``user_group``, …) narrow it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.db.queries.cql2_sql import Queryable, QueryableType
from app.db.queries.features.base import Selection, chosen, feature_geometry_sql, feature_sql
from app.db.queries.keyset import ListQuery, SortKey
from app.db.queries.parcels.select import sort_key
from app.db.queries.parcels.source import LIVE, ParcelSource
from app.db.queries.parcels.sql import properties_sql, visible_fields, visible_sql, where_sql
from app.domain.clock import today
from app.domain.crs import OgcCrs
from app.domain.errors import InvalidInput
from app.domain.filters import ParcelFilter, SortSpec
from app.domain.parcel_fields import FieldType, ParcelField
from app.domain.roles import Viewer

_QUERYABLE_TYPE = {
    FieldType.INTEGER: QueryableType.INTEGER, FieldType.NUMBER: QueryableType.NUMBER,
    FieldType.STRING: QueryableType.STRING, FieldType.BOOLEAN: QueryableType.BOOLEAN,
    FieldType.DATE: QueryableType.DATE, FieldType.DATETIME: QueryableType.DATETIME,
    FieldType.STRINGS: QueryableType.STRINGS,
}


def field_schema(f: ParcelField) -> dict[str, Any]:
    """JSON Schema of a registry field: type, format, vocabulary enum, pattern, unit."""
    value: dict[str, Any]
    if f.type in (FieldType.DATE, FieldType.DATETIME):
        value = {"type": "string", "format": str(f.type)}
    elif f.type is FieldType.STRINGS:
        value = {"type": "string"}
    else:
        value = {"type": str(f.type)}
    if f.vocabulary is not None:
        value["enum"] = list(f.vocabulary.codes)
    if f.pattern is not None:
        value["pattern"] = f.pattern
    schema = {"type": "array", "items": value} if f.type is FieldType.STRINGS else value
    schema["title"] = f.name
    schema["description"] = f.description + (f" ({f.unit})" if f.unit else "")
    return schema


@dataclass(frozen=True)
class ParcelCollection:
    """Commercial land parcels (Gewerbeflächen), EPSG:25832 in storage."""

    id: str = "parcels"
    title: str = "Gewerbeflächen"
    description: str = (
        "Gewerbe- und Industrieflächen des Mitteldeutschen Reviers mit Verfügbarkeit, "
        "Restriktionen und Eignung nach Nutzergruppen. Die Öffentlichkeit sieht vermarktete "
        "Flächen aktiver Standorte und ihre freigegebenen Angaben. In der Demo sind alle "
        "Flächen synthetisch (Eigenschaft 'synthetic').")
    storage_srid: int = 25832
    geometry_type: str = "MultiPolygon"
    geometry_name: str = "geometry"
    temporal: str | None = "updated_at"

    def visible_to(self, viewer: Viewer) -> bool:
        del viewer
        return True

    def _fields(self, viewer: Viewer) -> tuple[ParcelField, ...]:
        return tuple(f for f in visible_fields(viewer) if f.in_json)

    def queryables(self, viewer: Viewer) -> dict[str, Queryable]:
        found = {f.name: Queryable(f.name, visible_sql(f, viewer) or "NULL",
                                   _QUERYABLE_TYPE[f.type])
                 for f in visible_fields(viewer) if f.queryable}
        found["geometry"] = Queryable("geometry", "p.geom_25832", QueryableType.GEOMETRY,
                                      srid=self.storage_srid)
        return found

    def property_schemas(self, viewer: Viewer) -> dict[str, dict[str, Any]]:
        return {f.name: field_schema(f) for f in self._fields(viewer)}

    def sortables(self, viewer: Viewer) -> tuple[str, ...]:
        return tuple(f.name for f in visible_fields(viewer) if f.sortable)

    def sort_key(self, name: str | None, descending: bool, viewer: Viewer) -> SortKey:
        if name is not None and name not in self.sortables(viewer):
            raise InvalidInput.for_field(
                "sortby", f"cannot sort by {name!r}; sortable: "
                f"{', '.join(self.sortables(viewer))}", "unknown_property")
        return sort_key(SortSpec(field=name or "id", descending=descending), viewer)

    def _document(self, viewer: Viewer, crs: OgcCrs, names: tuple[str, ...] | None) -> str:
        picked = None
        if names is not None:
            picked = tuple(chosen([f.name for f in self._fields(viewer)], names))
        return feature_sql("p.id", feature_geometry_sql("p.geom_25832", self.storage_srid, crs),
                           properties_sql(viewer, picked))

    def filtered_query(self, f: ParcelFilter, selection: Selection, viewer: Viewer,
                       crs: OgcCrs, source: ParcelSource = LIVE) -> ListQuery:
        """:meth:`items_query` narrowed by the registry's filter ``f`` as well, over the
        parcels of ``source`` (default: today's)."""
        where, params = where_sql(f, viewer, source, reference=today())
        return ListQuery(source.from_sql, (*where, *selection.conditions),
                         {**params, **selection.params},
                         self._document(viewer, crs, selection.properties), "p.id")

    def items_query(self, selection: Selection, viewer: Viewer, crs: OgcCrs) -> ListQuery:
        return self.filtered_query(ParcelFilter(), selection, viewer, crs)

    def item_query(self, feature_id: str, viewer: Viewer, crs: OgcCrs) -> ListQuery | None:
        if not feature_id.isdigit() or len(feature_id) > 18:
            return None
        return self.filtered_query(ParcelFilter(ids=(int(feature_id),)), Selection(),
                                   viewer, crs)
