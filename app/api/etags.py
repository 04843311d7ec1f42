"""Entity tags for optimistic locking: ``"<resource>-<id>-v<version>"`` and ``If-Match``.

Every versioned resource (parcels, sites, land sales, enquiries) has a strong ETag made of
its kind, id and row version. Clients send it back as ``If-Match``; updates without it are
refused (428), a stale one is refused by the service (412). :func:`item_response` sends one
item (serialised by the database) with its ETag; a :class:`VersionedResource` answers the
reads and writes of one kind of resource with it.

``PATCH`` needs ``If-Match``: its parameter is declared required in the OpenAPI document
(:data:`IF_MATCH_REQUIRED`) and read by :func:`required_if_match`, so that a missing one is
answered 428 Precondition Required (RFC 6585) rather than a generic 422.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.responses import Response
from pydantic import WithJsonSchema
from sqlalchemy import Connection

from app.api.responses import document_response
from app.domain.errors import InvalidInput, NotFound, PreconditionRequired
from app.services.write_common import WriteResult

#: An ``If-Match`` value this service reads: ``*`` or one of its (strong or weak) ETags.
IF_MATCH_PATTERN = r'^(?:\*|(?:W/)?"[a-z][a-z-]*-[0-9]+-v[0-9]+")$'
_ETAG = re.compile(r'^(?:W/)?"([a-z][a-z-]*)-([0-9]+)-v([0-9]+)"$')
_IF_MATCH_DESCRIPTION = "ETag from the last GET of the resource (or *)"
_IF_MATCH_SCHEMA = {"type": "string", "pattern": IF_MATCH_PATTERN}

# The schema has no ``null`` branch: an optional header is absent, never "null".
IfMatch = Annotated[str | None, WithJsonSchema(_IF_MATCH_SCHEMA), Header(
    alias="If-Match", description=_IF_MATCH_DESCRIPTION)]

#: ``openapi_extra`` of an operation that needs ``If-Match`` (read by required_if_match).
IF_MATCH_REQUIRED: dict[str, Any] = {"parameters": [{
    "name": "If-Match", "in": "header", "required": True,
    "description": _IF_MATCH_DESCRIPTION + "; without it: 428", "schema": _IF_MATCH_SCHEMA,
}]}


def required_if_match(request: Request) -> str | None:
    """The ``If-Match`` header of an update (declared by :data:`IF_MATCH_REQUIRED`)."""
    return request.headers.get("if-match")


RequiredIfMatch = Annotated[str | None, Depends(required_if_match)]

#: OpenAPI description of the answers specific to conditional writes.
PRECONDITION_RESPONSES: dict[int | str, dict[str, Any]] = {
    412: {"description": "If-Match does not match the current version",
          "content": {"application/problem+json": {}}},
    428: {"description": "If-Match missing", "content": {"application/problem+json": {}}},
}


def etag(resource: str, item_id: int, version: int) -> str:
    """Strong ETag of one version of a resource.

    >>> etag("site", 7, 3)
    '"site-7-v3"'
    """
    return f'"{resource}-{item_id}-v{version}"'


def expected_version(if_match: str | None, resource: str, item_id: int, *,
                     required: bool) -> int | None:
    """The version an ``If-Match`` header names (``None`` for ``*`` or when absent).

    Raises :class:`PreconditionRequired` (428) when the header is missing but ``required``,
    and :class:`InvalidInput` (422) when it is not an ETag of this resource and id.

    >>> expected_version('"land-sale-4-v2"', "land-sale", 4, required=True)
    2
    >>> expected_version("*", "site", 1, required=True) is None
    True
    >>> expected_version(None, "site", 1, required=False) is None
    True
    """
    if if_match is None:
        if required:
            raise PreconditionRequired(
                f"updates need If-Match with the ETag of the {resource} from its GET")
        return None
    value = if_match.strip()
    if value == "*":
        return None
    match = _ETAG.fullmatch(value)
    if not match:
        raise InvalidInput.for_field(
            "If-Match", f"not an ETag (expected e.g. \"{resource}-{item_id}-v1\" or *)", "etag")
    if match.group(1) != resource or int(match.group(2)) != item_id:
        raise InvalidInput.for_field("If-Match", f"not an ETag of {resource} {item_id}", "etag")
    return int(match.group(3))


def item_response(document: str, *, etag_value: str, status: int = 200,
                  location: str | None = None, notes: list[str] | None = None,
                  media_type: str = "application/json",
                  headers: dict[str, str] | None = None) -> Response:
    """One serialised JSON object with its ``ETag`` (and ``Location`` after a create).

    ``notes`` (e.g. a geometry repair) are added to the object as a ``notes`` member (the
    document is parsed and written again: one object, no text splicing).
    """
    body = document
    if notes:
        body = json.dumps({**json.loads(document), "notes": notes}, ensure_ascii=False)
    out = {"ETag": etag_value, **(headers or {})}
    if location:
        out["Location"] = location
    return Response(content=body, status_code=status, media_type=media_type, headers=out)


#: Reads one item by id inside a transaction: its document (JSON text) and version, or ``None``.
ReadItem = Callable[[Connection, int], tuple[str, int] | None]


@dataclass(frozen=True)
class VersionedResource:
    """One kind of versioned resource as the API answers it.

    ``kind`` is the resource in its ETags; ``route`` and ``id_param`` name the route that
    GETs one item (for ``Location``); ``read_written`` reads an item as a write left it.
    """

    kind: str
    route: str
    id_param: str
    read_written: ReadItem

    def expected_version(self, if_match: str | None, item_id: int, *,
                         required: bool) -> int | None:
        """:func:`expected_version` for an item of this resource."""
        return expected_version(if_match, self.kind, item_id, required=required)

    def item(self, found: tuple[str, int] | None, item_id: int, missing: str, *,
             as_geojson: bool = False, srid: int | None = None) -> Response:
        """The item a GET read (404 saying ``missing`` when there is none), with its ETag."""
        if found is None:
            raise NotFound(missing)
        document, version = found
        return document_response(document, as_geojson=as_geojson, srid=srid,
                                 headers={"ETag": etag(self.kind, item_id, version)})

    def written(self, conn: Connection, request: Request, result: WriteResult,
                status: int = 200) -> Response:
        """The item as the write left it, with its new ETag, the write's notes and, after a
        create (201), its ``Location``."""
        found = self.read_written(conn, result.item_id)
        assert found is not None  # written in this transaction
        document, version = found
        location = (str(request.url_for(self.route, **{self.id_param: result.item_id}))
                    if status == 201 else None)
        return item_response(document, etag_value=etag(self.kind, result.item_id, version),
                             status=status, location=location, notes=result.notes)
