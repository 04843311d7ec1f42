"""Further collections named in a settings file: the users' own reference layers.

``GEFIS_COLLECTIONS_FILE`` names a TOML file with one ``[[collections]]`` table per
collection::

    [[collections]]
    id = "flood_areas"                    # URL segment: letters, digits, _ and -
    table = "reference.flood_areas"       # a table or view, schema-qualified or in public
    title = "Überschwemmungsgebiete"
    description = "HQ100, LfULG"          # optional
    id_column = "fid"                     # optional: the primary key, else a column "id"
    geometry_column = "geom"              # optional: the only geometry column
    properties = ["name", "hq"]           # optional: all other columns
    temporal = "valid_from"               # optional: the property `datetime` filters on
    staff_only = false                    # optional: hide it from the public

Each is published read-only with queryables and sortables taken from the database's
catalog (column types → JSON Schema types). Timestamps without time zone are read as UTC.
Names come from the catalog and are always quoted; nothing from the file reaches SQL
unquoted.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, text

from app.db.queries.cql2_sql import QueryableType
from app.db.queries.features.base import Property, TableCollection

Q = QueryableType
_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,62}$")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_$ ]{0,62}$")

#: PostgreSQL types (``format_type``) → queryable type and the SQL reading a column ``{c}``.
_TYPES: tuple[tuple[str, QueryableType, str], ...] = (
    ("smallint", Q.INTEGER, "{c}"), ("integer", Q.INTEGER, "{c}"), ("bigint", Q.INTEGER, "{c}"),
    ("real", Q.NUMBER, "{c}"), ("double precision", Q.NUMBER, "{c}"),
    ("numeric", Q.NUMBER, "CAST({c} AS float8)"), ("boolean", Q.BOOLEAN, "{c}"),
    ("date", Q.DATE, "{c}"),
    ("timestamp without time zone", Q.DATETIME, "({c} AT TIME ZONE 'UTC')"),
    ("timestamp with time zone", Q.DATETIME, "{c}"),
    ("text[]", Q.STRINGS, "{c}"), ("character varying[]", Q.STRINGS, "CAST({c} AS text[])"),
    ("integer[]", Q.INTEGERS, "{c}"), ("bigint[]", Q.INTEGERS, "{c}"),
    ("text", Q.STRING, "{c}"), ("character varying", Q.STRING, "CAST({c} AS text)"),
    ("character", Q.STRING, "CAST({c} AS text)"),
)


class CollectionsFileError(ValueError):
    """The collections file or a table it names cannot be published (says why)."""


@dataclass(frozen=True)
class CollectionSpec:
    """One ``[[collections]]`` entry of the file, checked for shape."""

    id: str
    schema: str
    table: str
    title: str
    description: str = ""
    id_column: str | None = None
    geometry_column: str | None = None
    properties: tuple[str, ...] | None = None
    temporal: str | None = None
    staff_only: bool = False


def quote(name: str) -> str:
    """A catalog name as a quoted SQL identifier.

    >>> quote('NAME'), quote('a"b')
    ('"NAME"', '"a""b"')
    """
    return '"' + name.replace('"', '""') + '"'


def read_specs(path: Path) -> list[CollectionSpec]:
    """The entries of the collections file ``path``; :class:`CollectionsFileError` naming
    the entry and key that is wrong."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CollectionsFileError(f"{path}: {exc}") from exc
    specs = []
    for n, entry in enumerate(data.get("collections", []), start=1):
        where = f"{path}, collection {n}"
        unknown = set(entry) - set(CollectionSpec.__dataclass_fields__) - {"schema"}
        if unknown:
            raise CollectionsFileError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
        cid, table = entry.get("id"), entry.get("table")
        if not isinstance(cid, str) or not _ID.fullmatch(cid):
            raise CollectionsFileError(f"{where}: id must be letters, digits, _ or -")
        if not isinstance(table, str) or not all(_NAME.fullmatch(p) for p in table.split(".")):
            raise CollectionsFileError(f"{where}: table must be [schema.]name")
        schema, _, name = table.rpartition(".")
        props = entry.get("properties")
        specs.append(CollectionSpec(
            id=cid, schema=schema or "public", table=name, title=str(entry.get("title", cid)),
            description=str(entry.get("description", "")), id_column=entry.get("id_column"),
            geometry_column=entry.get("geometry_column"),
            properties=tuple(props) if props is not None else None,
            temporal=entry.get("temporal"), staff_only=bool(entry.get("staff_only", False))))
    return specs


def _columns(conn: Connection, spec: CollectionSpec) -> list[tuple[str, str]]:
    rows = conn.execute(text(
        "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
        "JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = :schema AND c.relname = :table AND a.attnum > 0 "
        "AND NOT a.attisdropped ORDER BY a.attnum"),
        {"schema": spec.schema, "table": spec.table}).all()
    if not rows:
        raise CollectionsFileError(
            f"collection {spec.id}: no table or view {spec.schema}.{spec.table}")
    return [(r[0], r[1]) for r in rows]


def _geometry(conn: Connection, spec: CollectionSpec, columns: list[tuple[str, str]]
              ) -> tuple[str, int, str]:
    candidates = [c for c, t in columns if t.startswith("geometry")]
    name = spec.geometry_column or (candidates[0] if len(candidates) == 1 else None)
    if name is None or name not in candidates:
        raise CollectionsFileError(
            f"collection {spec.id}: name its geometry_column (geometry columns: "
            f"{', '.join(candidates) or 'none'})")
    row = conn.execute(text(
        "SELECT srid, type FROM geometry_columns WHERE f_table_schema = :schema "
        "AND f_table_name = :table AND f_geometry_column = :column"),
        {"schema": spec.schema, "table": spec.table, "column": name}).one_or_none()
    if row is None or not row.srid:
        raise CollectionsFileError(
            f"collection {spec.id}: geometry column {name} needs a declared SRID "
            "(e.g. geometry(MultiPolygon, 25832))")
    kind = {"MULTIPOLYGON": "MultiPolygon", "POLYGON": "Polygon", "POINT": "Point",
            "MULTIPOINT": "MultiPoint", "LINESTRING": "LineString",
            "MULTILINESTRING": "MultiLineString"}.get(str(row.type).upper(), "Geometry")
    return name, int(row.srid), kind


def build_collection(conn: Connection, spec: CollectionSpec) -> TableCollection:
    """The published collection of ``spec``, its columns read from the catalog."""
    columns = _columns(conn, spec)
    geometry, srid, kind = _geometry(conn, spec, columns)
    typed = dict(columns)
    id_column = spec.id_column or ("id" if "id" in typed else None)
    if id_column is None or id_column not in typed:
        raise CollectionsFileError(f"collection {spec.id}: name its id_column")
    id_type = Q.STRING if "char" in typed[id_column] or typed[id_column] == "text" else Q.INTEGER
    wanted = spec.properties or [c for c, _ in columns if c not in (geometry, id_column)]
    props = []
    for name in wanted:
        if name not in typed:
            raise CollectionsFileError(f"collection {spec.id}: no column {name!r}")
        match = next((m for m in _TYPES if m[0] == typed[name]
                      or typed[name].startswith(m[0] + "(")), None)
        kind_sql = match or ("", Q.STRING, "CAST({c} AS text)")
        props.append(Property(name, kind_sql[2].format(c=f"t.{quote(name)}"), kind_sql[1],
                              name, sortable=kind_sql[1] not in (Q.STRINGS, Q.INTEGERS)))
    if spec.temporal is not None and spec.temporal not in wanted:
        raise CollectionsFileError(f"collection {spec.id}: temporal {spec.temporal!r} is no "
                                   "published property")
    id_sql = f"t.{quote(id_column)}"
    return TableCollection(
        id=spec.id, title=spec.title, description=spec.description,
        from_sql=f"{quote(spec.schema)}.{quote(spec.table)} t", id_sql=id_sql,
        geometry_sql=f"t.{quote(geometry)}", storage_srid=srid, geometry_type=kind,
        properties=tuple(props), id_type=id_type, staff_only=spec.staff_only,
        temporal=spec.temporal, geometry_name=geometry)


def load_configured(conn: Connection, path: Path | None) -> list[TableCollection]:
    """Every collection of the file at ``path`` (none without a file)."""
    if path is None:
        return []
    return [build_collection(conn, spec) for spec in read_specs(path)]

