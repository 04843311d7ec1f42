"""Settlement enquiries (Ansiedlungsanfragen) as JSON: filters, keyset pages, one enquiry.

Areas are net hectares. Enquiries have no geometry; ``district_ags`` is ``null`` for an
enquiry about the region as a whole. Withdrawn enquiries are left out unless asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection

from app.db.queries.conditions import Conditions, RegistryFilter
from app.db.queries.keyset import ListQuery, SortChoices, fetch_one

#: Orders of an enquiry list: by id or by the date received (the default: newest first).
ENQUIRY_SORT = SortChoices({"received_on": "date"}, "-received_on", "e")

_FROM = "enquiries e LEFT JOIN districts d ON d.ags = e.district_ags"

_DOCUMENT = """jsonb_build_object(
    'id', e.id, 'received_on', e.received_on, 'district_ags', e.district_ags,
    'district_name', d.name, 'required_net_area_ha_min', e.required_net_area_ha_min,
    'required_net_area_ha_max', e.required_net_area_ha_max, 'user_group', e.user_group,
    'needed_by', e.needed_by, 'requirements', e.requirements, 'outcome', e.outcome,
    'outcome_note', e.outcome_note, 'created_by', e.created_by, 'synthetic', e.is_synthetic,
    'withdrawn_at', e.withdrawn_at, 'created_at', e.created_at, 'updated_at', e.updated_at,
    'version', e.version)"""


@dataclass(frozen=True, kw_only=True)
class EnquiryFilter(RegistryFilter):
    """Which enquiries to list; fields combine with AND (dates inclusive)."""

    outcome: tuple[str, ...] = ()
    user_group: tuple[str, ...] = ()
    received_from: date | None = None
    received_to: date | None = None


def enquiry_list(f: EnquiryFilter) -> ListQuery:
    """The enquiries ``f`` selects, for :func:`~app.db.queries.keyset.page_document`."""
    conditions = Conditions.of("e", f)
    conditions.any_of({"outcome": f.outcome, "user_group": f.user_group})
    conditions.within("received_on", ("received_from", f.received_from),
                      ("received_to", f.received_to))
    return conditions.query(_FROM, _DOCUMENT)


def fetch_enquiry(conn: Connection, enquiry_id: int) -> tuple[str, int] | None:
    """One enquiry (withdrawn or not) as JSON text and its version, or ``None``."""
    return fetch_one(conn, enquiry_list(EnquiryFilter(ids=(enquiry_id,), include_withdrawn=True)))
