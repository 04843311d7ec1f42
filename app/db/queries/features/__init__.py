"""Feature collections: what OGC API – Features, the GeoJSON layers and tiles publish.

Each collection (:class:`~app.db.queries.features.base.Collection`) says which rows and
properties a viewer may see, which properties can be queried and sorted, and how one row
becomes a GeoJSON Feature in a requested CRS. Parcels come from the parcel select path
(field registry, :mod:`app.db.queries.parcels`); the other collections are tables described
in :mod:`app.db.queries.features.tables`, and further tables or views may be configured
(:mod:`app.db.queries.features.configured`).
"""
