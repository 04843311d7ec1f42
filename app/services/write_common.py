"""Building blocks of the registry writes: lock the current row, check its version, check refs.

Used inside the caller's transaction (see ``write_transaction``, READ COMMITTED). Table and
column names passed here are the service's own constants, never client input.

A rule that spans rows is checked on locked rows, so that no concurrent write can change
them between the check and the commit: the row written is locked ``FOR UPDATE``, a row the
rule reads ``FOR SHARE`` (writers of the same kind share it; whoever updates it waits).

Deadlocks are avoided by a fixed order. A parcel writer share-locks the site the parcel is
on or moves to *before* it locks the parcel, and waits for no other site afterwards (only a
foreign-key check may wait for a site writer); a site writer locks its site (and that
site's partners) and never a parcel; a land-sale writer locks its sale, then share-locks
the parcel or site the sale refers to, and nobody ever waits for a sale. PostgreSQL's
foreign-key checks (``FOR KEY SHARE`` on the referenced row) conflict only with
``FOR UPDATE``, i.e. with the writers of that very site or parcel.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, text

from app.domain.errors import InvalidInput, NotFound, PreconditionFailed
from app.domain.roles import Principal, ensure_can_write_district, ensure_can_write_in

#: The SQL of a geometry column bound as EWKT (see :func:`set_clause`).
GEOMETRY = {"geom_25832": "ST_GeomFromEWKT(:geom_25832)"}


@dataclass
class WriteResult:
    """The written row's id and version, and notes for the client (e.g. a geometry repair)."""

    item_id: int
    version: int
    notes: list[str] = field(default_factory=list)


def lock_row(conn: Connection, table: str, columns: str, row_id: int, label: str) -> Any:
    """``columns`` of the row ``row_id`` of ``table``, locked for update; 404 if missing."""
    row = conn.execute(text(f"SELECT {columns} FROM {table} WHERE id = :id FOR UPDATE"),
                       {"id": row_id}).one_or_none()
    if row is None:
        raise NotFound(f"{label} {row_id} does not exist")
    return row


def ensure_version(label: str, row_id: int, current: int, expected: int | None) -> None:
    """412 unless the row is at the version ``If-Match`` named (``None``: any version)."""
    if expected is not None and current != expected:
        raise PreconditionFailed(
            f"{label} {row_id} is at version {current}, not {expected}: "
            "reload it and apply your change again")


def lock_shared(conn: Connection, table: str, columns: str, row_id: int | None) -> Any:
    """``columns`` of the row ``row_id`` of ``table``, locked ``FOR SHARE``; ``None`` if missing.

    Until the transaction ends, nobody can update the row; after waiting for a writer that
    held it, the row is returned as that writer committed it.
    """
    if row_id is None:
        return None
    return conn.execute(text(f"SELECT {columns} FROM {table} WHERE id = :id FOR SHARE"),
                        {"id": row_id}).one_or_none()


def ensure_exists(conn: Connection, table: str, key_column: str, value: Any, field: str,
                  label: str, columns: str | None = None, share_lock: bool = False) -> Any:
    """``columns`` (default: the key) of the row whose ``key_column`` is ``value``.

    A missing row is a 422 naming ``field`` (the client referred to something unknown).
    ``share_lock`` keeps the row as read until the transaction ends (see the module).
    """
    locking = " FOR SHARE" if share_lock else ""
    row = conn.execute(text(f"SELECT {columns or key_column} FROM {table} "
                            f"WHERE {key_column} = :value{locking}"),
                       {"value": value}).one_or_none()
    if row is None:
        raise InvalidInput.for_field(field, f"{label} {value} does not exist", "unknown_reference")
    return row


def set_clause(changes: dict[str, Any], expressions: dict[str, str] | None = None
               ) -> tuple[str, dict[str, Any]]:
    """``SET`` list and bind values for the changed columns.

    ``expressions`` maps a column to an SQL expression of its bind value (for example
    ``ST_GeomFromEWKT(:geom_25832)``); other columns are bound as they are.
    """
    expressions = expressions or {}
    sets = [f"{column} = {expressions.get(column, ':' + column)}" for column in changes]
    return ", ".join(sets), dict(changes)


def insert_sql(table: str, values: dict[str, Any], expressions: dict[str, str] | None = None,
               returning: str = "id, version") -> str:
    """``INSERT`` of the given columns (bound by name) returning ``returning``."""
    expressions = expressions or {}
    columns = ", ".join(values)
    binds = ", ".join(expressions.get(column, ":" + column) for column in values)
    return f"INSERT INTO {table} ({columns}) VALUES ({binds}) RETURNING {returning}"


@dataclass(frozen=True)
class RegistryTable:
    """A registry table the services write, with the statements every write of it shares.

    ``label`` names a row in messages ("land sale 7 does not exist"); ``expressions`` are
    the SQL of columns not bound as they are (see :func:`set_clause`); ``stamp`` is what
    every update sets besides the changes (for a table whose version no trigger keeps).
    ``regional_rows``: a row may have no district (data of the region as a whole, which
    any writer may change); otherwise a row without one is refused like a foreign district.
    """

    name: str
    label: str
    expressions: Mapping[str, str] = field(default_factory=dict)
    stamp: str = ""
    regional_rows: bool = False

    def lock(self, conn: Connection, principal: Principal, columns: str, row_id: int,
             expected_version: int | None) -> Any:
        """``columns`` (with ``district_ags`` and ``version``) of the row ``row_id``, locked
        for update (404 if missing), once the caller may write in its district (403) and it
        is at ``expected_version`` (412)."""
        current = lock_row(conn, self.name, columns, row_id, self.label)
        if self.regional_rows:
            ensure_can_write_in(principal, current.district_ags)
        else:
            ensure_can_write_district(principal, current.district_ags)
        ensure_version(self.label, row_id, current.version, expected_version)
        return current

    def insert(self, conn: Connection, values: dict[str, Any],
               bound: dict[str, Any] | None = None) -> Any:
        """Insert a row of ``values`` (bound as ``bound``, default: as they are); its ``id``
        and ``version``."""
        return conn.execute(text(insert_sql(self.name, values, dict(self.expressions))),
                            values if bound is None else bound).one()

    def update(self, conn: Connection, row_id: int, changes: dict[str, Any],
               bound: dict[str, Any] | None = None) -> int:
        """Set the ``changes`` of the row ``row_id`` (bound as ``bound``, default: as they
        are); its new version."""
        sets, params = set_clause(changes, dict(self.expressions))
        stamp = f", {self.stamp}" if self.stamp else ""
        version: int = conn.execute(
            text(f"UPDATE {self.name} SET {sets}{stamp} WHERE id = :row_id RETURNING version"),
            {**(params if bound is None else bound), "row_id": row_id}).scalar_one()
        return version
