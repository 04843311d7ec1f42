"""SQL of the parcel select path, generated from the field registry.

* :func:`visible_sql`: a field as a viewer may see it (NULL where withheld); filters, sort
  keys, sums, tiles and exports use it, so a withheld value can neither be read nor narrowed
  down by filtering or read back from a cursor.
* :func:`where_sql`: a :class:`ParcelFilter` as ``WHERE`` conditions with bound values.
* :func:`document_sql`: one parcel as JSON (a plain object or a GeoJSON Feature).

Everything is text over the aliases ``p`` (parcel row) and ``s`` (site) of a
:class:`~app.db.queries.parcels.source.ParcelSource`; values are always bound
(``:f_<parameter>``), so one statement shape serves every value.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Any

from app.db.queries.documents import document_sql as documents_sql
from app.db.queries.documents import geometry_sql
from app.db.queries.parcels.source import ParcelSource
from app.domain import vocab
from app.domain.availability import latest_available_date
from app.domain.filters import MARKETED_STATUS, ParcelFilter
from app.domain.parcel_fields import (
    FILTER_PARAMS,
    PARCEL_FIELDS,
    Op,
    ParcelField,
    Visibility,
    get_field,
)
from app.domain.roles import Viewer


def released_sql(f: ParcelField) -> str:
    """SQL: the parcel's editor released the disclosable field ``f`` to the public."""
    return f"'{f.name}' = ANY(p.public_fields)"


def visible_sql(f: ParcelField, viewer: Viewer) -> str | None:
    """``f`` as ``viewer`` sees it: its SQL, NULL where withheld, ``None`` if never visible."""
    if viewer.internal or f.visibility is Visibility.PUBLIC:
        return f.sql
    if f.visibility is Visibility.DISCLOSABLE:
        return f"CASE WHEN {released_sql(f)} THEN {f.sql} END"
    return None


def visible_fields(viewer: Viewer) -> tuple[ParcelField, ...]:
    """The registry fields ``viewer`` may see at all, in registry order."""
    return tuple(f for f in PARCEL_FIELDS if visible_sql(f, viewer) is not None)


def rows_visible_sql(viewer: Viewer, source: ParcelSource) -> str | None:
    """The rows ``viewer`` may see: the public only marketed parcels of active sites."""
    if viewer.internal:
        return None
    marketed = ", ".join(f"'{c}'" for c in MARKETED_STATUS)
    return f"p.marketing_status IN ({marketed}) AND {source.site_active_sql}"


def _bbox_sql(srid: int) -> str:
    envelope = "ST_MakeEnvelope(:f_minx, :f_miny, :f_maxx, :f_maxy, {srid})"
    if srid == 25832:
        window = envelope.format(srid=srid)
    elif srid == 4326:  # densified: edges follow meridians and parallels in UTM
        window = f"ST_Transform(ST_Segmentize({envelope.format(srid=srid)}, 0.01), 25832)"
    else:
        window = f"ST_Transform({envelope.format(srid=srid)}, 25832)"
    return f"ST_Intersects(p.geom_25832, {window})"


def _available_by_sql(by: date, reference: date) -> str:
    """Available on or before ``by``: ``available_from`` if set, else the class's bound."""
    classes = [code for code in vocab.AVAILABILITY_HORIZON
               if (latest := latest_available_date(code, reference)) is not None
               and latest <= by]
    by_class = ("p.availability IN (" + ", ".join(f"'{c}'" for c in classes) + ")"
                if classes else "false")
    return ("(CASE WHEN p.available_from IS NOT NULL THEN p.available_from <= :f_available_by "
            f"ELSE {by_class} END)")


_TEXT_SQL = " OR ".join(
    [f"{f.sql} ILIKE :f_text" for f in PARCEL_FIELDS if f.text_search]
    + ["s.marketing_name ILIKE :f_text"])


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _param_sql(name: str, value: Any, viewer: Viewer) -> tuple[str, Any]:
    """One registry filter parameter as SQL and its bound value."""
    f, p = FILTER_PARAMS[name]
    column = visible_sql(f, viewer) or "NULL"
    bind = f":f_{name}"
    if p.op is Op.IN:
        return f"{column} = ANY({bind})", list(value)
    if p.op is Op.EQ:
        return f"{column} = {bind}", value
    if p.op is Op.GE:
        return f"{column} >= {bind}", value
    if p.op is Op.LE:
        return f"{column} <= {bind}", value
    if p.op is Op.OVERLAPS:
        return f"{column} && CAST({bind} AS text[])", list(value)
    if p.op is Op.DISJOINT:
        return f"NOT ({column} && CAST({bind} AS text[]))", list(value)
    if p.op is Op.UP_TO:
        assert p.up_to is not None
        return f"{column} = ANY({bind})", list(p.up_to(value))
    if p.op is Op.BEFORE_OR_NULL:
        return f"({column} IS NULL OR {column} < {bind})", value
    raise AssertionError(p.op)


def where_sql(f: ParcelFilter, viewer: Viewer, source: ParcelSource, *,
              reference: date | None) -> tuple[tuple[str, ...], dict[str, Any]]:
    """``WHERE`` conditions (AND) of ``f`` and of what ``viewer`` may see, with bound values.

    ``reference`` is "today" for filters relative to a date (``available_by``: required then).
    """
    rows = rows_visible_sql(viewer, source)
    conditions, params = filter_sql(f, viewer, source, reference=reference)
    return ((rows, *conditions) if rows else conditions), params


def filter_sql(f: ParcelFilter, viewer: Viewer, source: ParcelSource, *,
               reference: date | None) -> tuple[tuple[str, ...], dict[str, Any]]:
    """The conditions (AND) of ``f`` alone, fields seen as ``viewer`` sees them (which rows
    ``viewer`` may see is :func:`rows_visible_sql`), with bound values and the source's."""
    conditions: list[str] = []
    params: dict[str, Any] = dict(source.params)
    for name, value in f.active().items():
        if name in FILTER_PARAMS:
            sql, params[f"f_{name}"] = _param_sql(name, value, viewer)
            conditions.append(sql)
    if f.active_sites_only:
        conditions.append(source.site_active_sql)
    if f.available_by is not None:
        if reference is None:
            raise ValueError("available_by needs a reference date")
        conditions.append(_available_by_sql(f.available_by, reference))
        params["f_available_by"] = f.available_by
    if f.text:
        conditions.append(f"({_TEXT_SQL})")
        params["f_text"] = _like_pattern(f.text)
    if f.bbox is not None:
        conditions.append(_bbox_sql(f.bbox.srid))
        params.update(f_minx=f.bbox.minx, f_miny=f.bbox.miny, f_maxx=f.bbox.maxx,
                      f_maxy=f.bbox.maxy)
    return tuple(conditions), params


@lru_cache(maxsize=64)
def properties_sql(viewer: Viewer, names: tuple[str, ...] | None = None) -> str:
    """The parcel's fields ``viewer`` may see (only ``names`` if given), as one JSONB object.

    A disclosable field that is not released is absent (not null), so a released field
    without a value stays distinguishable from a withheld one.
    """
    always: list[str] = []
    optional: list[str] = []
    for f in PARCEL_FIELDS:
        if not f.in_json or (names is not None and f.name not in names):
            continue
        if viewer.internal or f.visibility is Visibility.PUBLIC:
            always.append(f"'{f.name}', {f.sql}")
        elif f.visibility is Visibility.DISCLOSABLE:
            optional.append(f"CASE WHEN {released_sql(f)} THEN jsonb_build_object("
                            f"'{f.name}', {f.sql}) ELSE CAST('{{}}' AS jsonb) END")
    # jsonb_build_object takes at most 100 arguments: build in chunks of 40 pairs
    chunks = [always[i:i + 40] for i in range(0, len(always), 40)]
    parts = [f"jsonb_build_object({', '.join(chunk)})" for chunk in chunks] + optional
    return " || ".join(parts) or "CAST('{}' AS jsonb)"


@lru_cache(maxsize=32)
def document_sql(viewer: Viewer, *, with_geometry: bool, as_feature: bool) -> str:
    """One parcel as JSONB: a GeoJSON Feature, or its properties with ``geometry`` (geometry
    in the CRS bound by :func:`~app.db.queries.documents.geometry_params`)."""
    geometry = geometry_sql("p.geom_25832") if with_geometry else None
    return documents_sql(properties_sql(viewer), geometry, id_column="p.id",
                         as_feature=as_feature)


def field_sql(name: str, viewer: Viewer) -> str:
    """A registry field by name as ``viewer`` sees it (NULL if it may not see it at all)."""
    return visible_sql(get_field(name), viewer) or "NULL"
