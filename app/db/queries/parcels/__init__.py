"""The parcel query builder: the one place where SQL selects parcels.

A :class:`~app.domain.filters.ParcelFilter`, a :class:`~app.domain.roles.Viewer` and a
:class:`~app.db.queries.parcels.source.ParcelSource` go in; pages, single parcels, counts,
embeddable selections and grouped sums come out. Spatial windows are transformed to the
storage CRS (EPSG:25832), never the column, so the GiST index on ``geom_25832`` stays usable.

The other reads of ``parcels`` live beside the builder: :mod:`.rows` (lookups of the write
path and small facts), :mod:`.import_plan` (the parcel and land-sale imports) and
:mod:`.relocate` (the boundary import). Elsewhere only writes name the table: the write
service's row locks, inserts and updates (``services/write_common.RegistryTable``,
``services/parcel_writes``), the demo loader's upsert and the raster service's update of
its statistics.
"""

from app.db.queries.parcels.select import (
    count_parcels,
    one_parcel,
    parcel_page,
    parcel_query,
    selection_sql,
    sort_key,
)
from app.db.queries.parcels.source import LIVE, ParcelSource, source_on
from app.db.queries.parcels.sums import parcel_sums, sums_sql

__all__ = [
    "LIVE",
    "ParcelSource",
    "count_parcels",
    "one_parcel",
    "parcel_page",
    "parcel_query",
    "parcel_sums",
    "selection_sql",
    "sort_key",
    "source_on",
    "sums_sql",
]
