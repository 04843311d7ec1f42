"""The OGC CQL2 conformance data for tests: the three GeoPackage layers in PostGIS, the
predicate rows of the standard's abstract test suite, and queryables built from the tables.

Everything is read from ``tests/fixtures/cql2`` (a copy of the OGC material, see its README and
``LICENSE-OGC.txt``). :func:`load_cql2_data` loads the layers with GDAL's ``ogr2ogr`` into one
schema, one table per layer named like the layer (the collection id of the suite): geometry
column ``geom`` in EPSG:4326 (longitude, latitude), integer primary key ``fid``, the other
columns with their original names (upper case kept) and GDAL's PostgreSQL types. The date-time
columns ``start`` and ``end`` of ``ne_110m_populated_places_simple`` carry no zone in the
GeoPackage; they arrive as ``timestamp with time zone`` read as UTC (ogr2ogr runs with
``PGTZ=UTC``).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import make_url

from app.db.queries.cql2_sql import Queryable, QueryableType

CQL2_FIXTURES = Path(__file__).parent / "fixtures" / "cql2"
GEOPACKAGE = CQL2_FIXTURES / "data" / "ne110m4cql2.gpkg"
PREDICATES = CQL2_FIXTURES / "ats_predicates.jsonl"

#: The layers of the GeoPackage, which are the collection ids the suite's rows name.
LAYERS: tuple[str, ...] = (
    "ne_110m_admin_0_countries",
    "ne_110m_populated_places_simple",
    "ne_110m_rivers_lake_centerlines",
)

#: Rows per layer in the GeoPackage (checked after loading).
LAYER_ROWS = {"ne_110m_admin_0_countries": 177, "ne_110m_populated_places_simple": 243,
              "ne_110m_rivers_lake_centerlines": 13}

#: Queryable type of a PostgreSQL column type (``format_type`` spelling, without length).
_TYPE_OF_COLUMN = {
    "character varying": QueryableType.STRING, "text": QueryableType.STRING,
    "character": QueryableType.STRING,
    "smallint": QueryableType.INTEGER, "integer": QueryableType.INTEGER,
    "bigint": QueryableType.INTEGER,
    "real": QueryableType.NUMBER, "double precision": QueryableType.NUMBER,
    "numeric": QueryableType.NUMBER,
    "boolean": QueryableType.BOOLEAN, "date": QueryableType.DATE,
    "timestamp with time zone": QueryableType.DATETIME,
    "timestamp without time zone": QueryableType.DATETIME,
    "text[]": QueryableType.STRINGS, "character varying[]": QueryableType.STRINGS,
    "bigint[]": QueryableType.INTEGERS, "integer[]": QueryableType.INTEGERS,
}


#: Rows whose published ``expected_count`` is wrong for the dataset, by ``cql2_text``:
#: (published, correct). opengeospatial/ogcapi-features issue #1011 (open): ``'Ch%'`` matches
#: Chișinău, Chicago and Chengdu (fid 74, 181, 200), ``'chis%'`` only Chișinău.
ERRATA: dict[str, tuple[int, int]] = {
    "ACCENTI(name) LIKE accenti('Ch%')": (2, 3),
    "ACCENTI(CASEI(name)) LIKE accenti(casei('Chiș%'))": (2, 1),
    "ACCENTI(CASEI(name)) LIKE accenti(casei('cHis%'))": (2, 1),
}


def expected_count(row: dict[str, Any]) -> int:
    """The number of features ``row``'s predicate selects (:data:`ERRATA` applied)."""
    published = int(row["expected_count"])
    if row["cql2_text"] in ERRATA:
        wrong, correct = ERRATA[row["cql2_text"]]
        if published != wrong:
            raise ValueError(f"the suite now says {published} for {row['cql2_text']!r}; "
                             "review ERRATA")
        return correct
    return published


def predicates() -> list[dict[str, Any]]:
    """The suite's rows: ``conformance_class``, ``ats_table``, ``dependency``, ``collection``,
    ``cql2_text``, ``cql2_json`` and ``expected_count`` (number of matching features)."""
    with PREDICATES.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def _pg_connection_string(database_url: str, schema: str) -> tuple[str, dict[str, str]]:
    """The ``PG:`` data source of ogr2ogr and the libpq environment (password, zone)."""
    url = make_url(database_url)
    parts = [f"dbname='{url.database}'", f"active_schema='{schema}'"]
    if url.host:
        parts.append(f"host='{url.host}'")
    if url.port:
        parts.append(f"port='{url.port}'")
    if url.username:
        parts.append(f"user='{url.username}'")
    env = {**os.environ, "PGTZ": "UTC", "PGCLIENTENCODING": "UTF8"}
    if url.password:
        env["PGPASSWORD"] = url.password
    return "PG:" + " ".join(parts), env


def load_cql2_data(database_url: str, schema: str = "cql2_ats") -> None:
    """Load the three layers into ``schema`` of ``database_url`` (PostGIS must be installed).

    Idempotent: each table is replaced (``-overwrite``), so a second call leaves the same
    rows. Raises ``RuntimeError`` with ogr2ogr's message when a layer cannot be loaded.
    """
    if not schema.isidentifier() or schema.lower() != schema:
        raise ValueError(f"schema must be a lower-case SQL identifier, got {schema!r}")
    engine = create_engine(make_url(database_url))
    try:
        with engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        source, env = _pg_connection_string(database_url, schema)
        for layer in LAYERS:
            command = [
                "ogr2ogr", "-f", "PostgreSQL", source, str(GEOPACKAGE), layer,
                "-overwrite", "-nln", layer,
                "-lco", "GEOMETRY_NAME=geom", "-lco", "FID=fid", "-lco", "LAUNDER=NO",
                "-lco", "SPATIAL_INDEX=GIST", "-lco", f"SCHEMA={schema}",
                "-a_srs", "EPSG:4326",
            ]
            done = subprocess.run(command, env=env, capture_output=True, text=True,
                                  timeout=300, check=False)
            if done.returncode != 0:
                raise RuntimeError(f"ogr2ogr could not load {layer}: {done.stderr.strip()}")
        with engine.connect() as conn:
            for layer, rows in LAYER_ROWS.items():
                found = conn.execute(text(f'SELECT count(*) FROM "{schema}"."{layer}"')).scalar()
                if found != rows:
                    raise RuntimeError(f"{schema}.{layer} has {found} rows, expected {rows}")
    finally:
        engine.dispose()


def table_queryables(conn: Connection, schema: str, table: str,
                     alias: str = "t") -> dict[str, Queryable]:
    """Queryables of every column of ``schema.table`` whose type has a queryable type, as SQL
    over ``alias`` (``FROM schema.table alias``), named by the column name.

    Geometry columns get their SRID from PostGIS's catalogue. A ``timestamp without time
    zone`` column is taken to hold UTC and published as ``(alias."col" AT TIME ZONE 'UTC')``
    (the compiler wants ``timestamptz`` for date-time queryables); the primary key ``fid`` is
    included like any integer column.
    """
    rows = conn.execute(text("""
        SELECT a.attname AS name, format_type(a.atttypid, NULL) AS type,
               gc.srid AS srid
        FROM pg_attribute a
        JOIN pg_class c ON c.oid = a.attrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        LEFT JOIN geometry_columns gc ON gc.f_table_schema = n.nspname
             AND gc.f_table_name = c.relname AND gc.f_geometry_column = a.attname
        WHERE n.nspname = :schema AND c.relname = :table AND a.attnum > 0
              AND NOT a.attisdropped
        ORDER BY a.attnum"""), {"schema": schema, "table": table}).mappings().all()
    found: dict[str, Queryable] = {}
    for row in rows:
        column = f'{alias}."{row["name"]}"'
        if row["type"] == "geometry":
            found[row["name"]] = Queryable(row["name"], column, QueryableType.GEOMETRY,
                                           srid=int(row["srid"] or 4326))
            continue
        kind = _TYPE_OF_COLUMN.get(row["type"])
        if kind is None:
            continue
        if row["type"] == "timestamp without time zone":
            column = f"({column} AT TIME ZONE 'UTC')"
        found[row["name"]] = Queryable(row["name"], column, kind)
    return found
