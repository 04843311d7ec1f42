"""Parcels following a new Gebietsstand (the boundary import,
:mod:`app.services.boundary_import`).

A parcel's municipality and district (8- and 5-digit AGS) come from its geometry when it is
written; a boundary import moves parcels without changing their shape or attributes: the
parcels of a merged municipality go to its successor (:func:`repoint_municipality`), and the
parcels near a changed boundary are located again (:func:`relocations`,
:func:`move_parcels`). The caller holds the import's locks and sets the history reason of
each move.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from sqlalchemy import Connection

from app.db.queries.keyset import cached_text


class Relocation(NamedTuple):
    """A parcel the new boundaries place in another municipality (``new_ags`` ``None``:
    outside the region)."""

    id: int
    old_ags: str
    new_ags: str | None


def repoint_municipality(conn: Connection, old_ags: str, new_ags: str) -> list[int]:
    """Move every parcel of municipality ``old_ags`` to ``new_ags`` and its district (a
    merger); returns the ids moved."""
    return list(conn.execute(cached_text("""
        UPDATE parcels SET municipality_ags = :new_ags, district_ags = left(:new_ags, 5)
         WHERE municipality_ags = :old_ags
        RETURNING id
    """), {"old_ags": old_ags, "new_ags": new_ags}).scalars())


def relocations(conn: Connection, near_sql: str, params: dict[str, Any]) -> list[Relocation]:
    """The parcels that intersect a geometry of ``near_sql`` and that
    ``gefis_locate_municipality`` now places elsewhere, by id.

    ``near_sql`` selects one column ``geom_25832`` (EPSG:25832), with bound ``params``.
    """
    rows = conn.execute(cached_text(f"""
        WITH touched AS ({near_sql}
        ), candidates AS (
            SELECT DISTINCT p.id FROM parcels p
              JOIN touched t ON ST_Intersects(p.geom_25832, t.geom_25832)
        )
        SELECT id, old_ags, new_ags FROM (
            SELECT p.id, p.municipality_ags AS old_ags,
                   gefis_locate_municipality(p.geom_25832) AS new_ags
              FROM parcels p JOIN candidates c USING (id)) located
         WHERE new_ags IS DISTINCT FROM old_ags
         ORDER BY id
    """), params).all()
    return [Relocation(*r) for r in rows]


def move_parcels(conn: Connection, ids: Sequence[int], new_ags: str) -> None:
    """Move the parcels ``ids`` to municipality ``new_ags`` and its district."""
    conn.execute(cached_text("""
        UPDATE parcels SET municipality_ags = :new_ags, district_ags = left(:new_ags, 5)
         WHERE id = ANY (CAST(:ids AS bigint[]))
    """), {"new_ags": new_ags, "ids": list(ids)})
