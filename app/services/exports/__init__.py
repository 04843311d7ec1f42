"""Exports of filtered layers as GIS files (GeoPackage, FlatGeobuf, Shapefile, CSV, XLSX).

- :mod:`.formats`: the formats and how an export is named (``parcels,sites.gpkg``);
- :mod:`.layers`: which layers, their rows and columns for a viewer;
- :mod:`.rows`: the rows from PostgreSQL (``COPY``) as Arrow record batches;
- :mod:`.writers` and :mod:`.shapefile`: the files, written by GDAL through pyogrio;
- :mod:`.service`: preparing (counting, limits) and writing an export.
"""
