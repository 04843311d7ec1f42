"""Which layers can be exported, and each one's rows and columns for a viewer.

A layer is a published collection (:mod:`app.services.ogc.registry`) read whole: the same
role rules, the same ``bbox`` and CQL2 conditions as its OGC items
(:func:`app.services.ogc.items.items_query`), for parcels also the registry's filter. Only
the columns differ: a file gets flat typed attributes instead of a GeoJSON document.

- **parcels**: the registry fields with ``export=True`` that the viewer may see, in registry
  order; a disclosable field its editor did not release is NULL for the public
  (:func:`~app.db.queries.parcels.sql.visible_sql`), internal fields are left out.
- **sites**, **districts** (with today's balance per framework scenario), **municipalities**
  (with their active supply), **land_sales**
  (staff only: 404 for the public, as the collection): the collection's properties the
  viewer may see, after an ``id`` where the properties have none.

Every layer has a ``synthetic`` attribute. Districts and municipalities are real boundaries
whose figures are computed from the parcels: theirs says whether any of their parcels is
synthetic demo data.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy import Connection

from app.db.queries.cql2_base import QueryableType
from app.db.queries.exports import ExportColumn, ExportQuery
from app.db.queries.features.base import Collection, TableCollection
from app.db.queries.features.parcels import ParcelCollection
from app.db.queries.features.tables import LAND_SALES, SITES, municipalities
from app.db.queries.parcels import selection_sql
from app.db.queries.parcels.sql import visible_fields, visible_sql
from app.domain.errors import BadRequest, NotFound
from app.domain.filters import ParcelFilter
from app.domain.roles import STAFF, Viewer
from app.services.ogc.items import ItemsRequest, items_query
from app.services.ogc.registry import PARCELS, district_balance_collection
from app.settings import Settings

Q = QueryableType

#: The layers an export may name, in the order they are listed.
EXPORT_LAYERS: tuple[str, ...] = ("parcels", "sites", "districts", "municipalities",
                                  "land_sales")


def _area_synthetic(column: str, ags_sql: str) -> str:
    """SQL: whether any parcel (in any state) whose ``column`` is ``ags_sql`` is synthetic."""
    parcels, params = selection_sql(ParcelFilter(), STAFF, {"synthetic": "synthetic"},
                                    correlate={column: ags_sql})
    assert not params  # every parcel of the area: nothing to bind
    return f"EXISTS (SELECT 1 FROM ({parcels}) sp WHERE sp.synthetic)"


#: ``synthetic`` of the districts and municipalities: whether any of their parcels is.
_AREA_SYNTHETIC = {
    name: ExportColumn(
        "synthetic", _area_synthetic(column, f"{alias}.ags"),
        Q.BOOLEAN, "Zahlen aus synthetischen Demodaten berechnet (die Grenzen sind echt)")
    for name, column, alias in (("districts", "district_ags", "d"),
                                ("municipalities", "municipality_ags", "m"))}


@dataclass(frozen=True)
class ExportLayer:
    """One layer of an export: its name, title and description, geometry type and rows."""

    name: str
    title: str
    description: str
    geometry_type: str
    query: ExportQuery
    #: the longest value of each text column, bytes (for Shapefiles only)
    text_widths: dict[str, int] | None = None


def parcel_columns(viewer: Viewer) -> tuple[ExportColumn, ...]:
    """The registry's exported fields as ``viewer`` sees them (withheld values NULL)."""
    return tuple(
        ExportColumn(f.name, visible_sql(f, viewer) or "NULL", QueryableType(str(f.type)),
                     f.description, f.unit)
        for f in visible_fields(viewer) if f.export)


def table_columns(collection: TableCollection, viewer: Viewer) -> tuple[ExportColumn, ...]:
    """The collection's properties ``viewer`` may see, after an ``id`` where none of them
    is the feature id (the districts' ``ags`` is)."""
    visible = collection.queryables(viewer)
    columns = [ExportColumn(p.name, p.sql, p.type, p.description, p.unit)
               for p in collection.properties if p.name in visible]
    if not any(c.sql == collection.id_sql for c in columns):
        columns.insert(0, ExportColumn("id", collection.id_sql, collection.id_type, "Kennung"))
    if collection.id in _AREA_SYNTHETIC and "synthetic" not in visible:
        columns.append(_AREA_SYNTHETIC[collection.id])
    return tuple(columns)


def _collection(conn: Connection, name: str, viewer: Viewer, settings: Settings,
                day: date) -> Collection:
    """The collection behind layer ``name``; 404 when there is none or ``viewer`` may not
    see it (land sales for the public), before any figure is computed."""
    found: Collection | None = {"parcels": PARCELS, "sites": SITES,
                                "municipalities": municipalities(),
                                "land_sales": LAND_SALES}.get(name)
    if name == "districts":
        return district_balance_collection(conn, viewer, settings, day)
    if found is None or not found.visible_to(viewer):
        public = [n for n in EXPORT_LAYERS if n != "land_sales" or viewer.internal]
        raise NotFound.for_field("layer", f"layer {name!r} does not exist or is not public; "
                                 f"layers: {', '.join(public)}", "unknown_layer")
    return found


def export_layer(conn: Connection, name: str, request: ItemsRequest, viewer: Viewer,
                 settings: Settings, day: date) -> ExportLayer:
    """Layer ``name`` as ``viewer`` may read it, narrowed by ``request`` (``bbox``,
    ``datetime``, ``filter``; the registry's filter for parcels only)."""
    collection = _collection(conn, name, viewer, settings, day)
    if isinstance(collection, ParcelCollection):
        columns = parcel_columns(viewer)
    elif isinstance(collection, TableCollection):
        columns = table_columns(collection, viewer)
        request = replace(request, parcel_filter=None)
    else:  # pragma: no cover - configured collections are not offered
        raise AssertionError(name)
    selected = items_query(collection, request, viewer)
    geometry = collection.queryables(viewer)[collection.geometry_name]
    query = ExportQuery(selected.from_sql, selected.where, selected.params, columns,
                        selected.id_sql, geometry.sql, collection.storage_srid)
    return ExportLayer(name, collection.title, collection.description,
                       collection.geometry_type, query)


def export_layers(conn: Connection, names: tuple[str, ...], request: ItemsRequest,
                  viewer: Viewer, settings: Settings, day: date) -> tuple[ExportLayer, ...]:
    """Every layer of ``names``. A CQL2 ``filter`` needs a single layer (each layer has
    properties of its own); the registry's parcel filter needs the parcels among them."""
    if len(names) > 1 and request.filter is not None:
        raise BadRequest.for_field("filter", "a filter applies to one layer; export the "
                                   "layers one by one to filter each", "filter")
    if request.parcel_filter is not None and request.parcel_filter.active() \
            and "parcels" not in names:
        raise BadRequest.for_field(
            "layer", "the parcel filters (district, user_group, …) need the layer parcels",
            "parcel_filter")
    return tuple(export_layer(conn, name, request, viewer, settings, day) for name in names)
