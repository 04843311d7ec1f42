"""Query parameters shared by the registry lists (sites, land sales, enquiries, boundaries),
and the answer of one page of such a list.

List parameters may be repeated or comma-separated, as for parcels (see
:func:`app.api.parcel_params.split_list`); invalid values (empty ones included) become a 422
naming the parameter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy import Connection

from app.api.deps import SettingsDep
from app.api.parcel_params import CursorText, split_list
from app.api.responses import document_response, envelope
from app.db.queries.keyset import ListQuery, SortKey, page_document
from app.db.queries.paging import Cursor
from app.domain import vocab
from app.domain.errors import InvalidInput

IncludeWithdrawn = Annotated[bool, Query(
    description="Also list withdrawn entries (analysts and above)")]


def ags_list(name: str, values: list[str] | None, digits: int) -> tuple[str, ...]:
    """AGS codes of one length (5: district, 8: municipality); 422 naming ``name`` else.

    >>> ags_list("district", ["14713,15002"], 5)
    ('14713', '15002')
    """
    codes = split_list(values)
    pattern = re.compile(rf"^[0-9]{{{digits}}}$")
    bad = [c for c in codes if not pattern.fullmatch(c)]
    if bad:
        raise InvalidInput.for_field(
            name, f"{', '.join(map(repr, bad))}: an AGS here has {digits} digits", "ags")
    return codes


def code_list(name: str, values: list[str] | None,
              vocabulary: vocab.Vocabulary) -> tuple[str, ...]:
    """Vocabulary codes; an unknown code is a 422 naming ``name``."""
    codes = split_list(values)
    try:
        vocab.check_codes(name, codes, vocabulary)
    except ValueError as exc:
        raise InvalidInput.for_field(name, str(exc), "vocab") from exc
    return codes


@dataclass(frozen=True)
class KeysetPaging:
    """Page size (clamped to the configured maximum) and the cursor token of a list."""

    limit: int
    cursor: str | None


def keyset_paging(
    settings: SettingsDep,
    limit: Annotated[int | None, Query(
        ge=1, description="Page size; larger values are clamped to the maximum")] = None,
    cursor: Annotated[CursorText | None, Query(
        description="Opaque token from a 'next' link")] = None,
) -> KeysetPaging:
    """Paging parameters; ``limit`` above the maximum is clamped, never an error."""
    size = min(limit or settings.page_size_default, settings.page_size_max)
    return KeysetPaging(limit=size, cursor=cursor)


KeysetPagingDep = Annotated[KeysetPaging, Depends(keyset_paging)]


def page_response(conn: Connection, request: Request, page: KeysetPaging, query: ListQuery,
                  sort: SortKey, *, as_geojson: bool = False, srid: int = 4326) -> Response:
    """The ``page`` of the list ``query`` in ``sort`` order, with its links (``next``, ...),
    as the database assembled it (items, or GeoJSON features with ``as_geojson``)."""
    cursor = Cursor.decode(page.cursor, str(sort)) if page.cursor is not None else None
    document = page_document(conn, query, sort, limit=page.limit, cursor=cursor,
                             envelope=envelope(request, as_geojson=as_geojson, srid=srid))
    return document_response(document, as_geojson=as_geojson, srid=srid)
