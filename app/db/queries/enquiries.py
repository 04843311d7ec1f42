"""Settlement enquiries (Ansiedlungsanfragen) as JSON: filters, keyset pages, one enquiry.

Areas are net hectares. Enquiries have no geometry; ``district_ags`` is ``null`` for an
enquiry about the region as a whole. Withdrawn enquiries are left out unless asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection

from app.db.queries.keyset import Envelope, ListQuery, SortKey, fetch_one, page_document
from app.db.queries.paging import Cursor

#: Columns an enquiry list can be sorted by (besides id), with their SQL type.
ENQUIRY_SORT_FIELDS: dict[str, str] = {"received_on": "date"}
DEFAULT_ENQUIRY_SORT = "-received_on"

_FROM = "enquiries e LEFT JOIN districts d ON d.ags = e.district_ags"

_DOCUMENT = """jsonb_build_object(
    'id', e.id, 'received_on', e.received_on, 'district_ags', e.district_ags,
    'district_name', d.name, 'required_net_area_ha_min', e.required_net_area_ha_min,
    'required_net_area_ha_max', e.required_net_area_ha_max, 'user_group', e.user_group,
    'needed_by', e.needed_by, 'requirements', e.requirements, 'outcome', e.outcome,
    'outcome_note', e.outcome_note, 'created_by', e.created_by, 'synthetic', e.is_synthetic,
    'withdrawn_at', e.withdrawn_at, 'created_at', e.created_at, 'updated_at', e.updated_at,
    'version', e.version)"""


@dataclass(frozen=True)
class EnquiryFilter:
    """Which enquiries to list; fields combine with AND (dates inclusive)."""

    ids: tuple[int, ...] = ()
    district: tuple[str, ...] = ()
    outcome: tuple[str, ...] = ()
    user_group: tuple[str, ...] = ()
    received_from: date | None = None
    received_to: date | None = None
    include_withdrawn: bool = False


def _where(f: EnquiryFilter) -> tuple[list[str], dict[str, Any]]:
    where: list[str] = []
    params: dict[str, Any] = {}
    if f.ids:
        where.append("e.id = ANY(:ids)")
        params["ids"] = list(f.ids)
    if not f.include_withdrawn:
        where.append("e.withdrawn_at IS NULL")
    for column, values in (("district_ags", f.district), ("outcome", f.outcome),
                           ("user_group", f.user_group)):
        if values:
            where.append(f"e.{column} = ANY(:{column})")
            params[column] = list(values)
    if f.received_from is not None:
        where.append("e.received_on >= :received_from")
        params["received_from"] = f.received_from
    if f.received_to is not None:
        where.append("e.received_on <= :received_to")
        params["received_to"] = f.received_to
    return where, params


def fetch_enquiry_page(conn: Connection, f: EnquiryFilter, sort: SortKey, *, limit: int,
                       cursor: Cursor | None,
        envelope: Envelope) -> str:
    """Up to ``limit`` enquiries after ``cursor`` in ``sort`` order (ties by id)."""
    where, params = _where(f)
    return page_document(conn, ListQuery(_FROM, tuple(where), params, _DOCUMENT, "e.id"),
                         sort, limit=limit, cursor=cursor, envelope=envelope)


def fetch_enquiry(conn: Connection, enquiry_id: int) -> tuple[str, int] | None:
    """One enquiry (withdrawn or not) as JSON text and its version, or ``None``."""
    where, params = _where(EnquiryFilter(ids=(enquiry_id,), include_withdrawn=True))
    return fetch_one(conn, ListQuery(_FROM, tuple(where), params, _DOCUMENT, "e.id"))
