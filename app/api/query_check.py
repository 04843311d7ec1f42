"""Unknown query parameters are refused: a 400 problem names each and suggests the closest.

Without this, a guessed or misspelt filter was ignored silently: ``?user_groups=logistik``
(the field name the API itself returns) answered every parcel instead of the few logistics
ones, and nothing told the caller. Now every API route refuses any query parameter it does
not declare, with ``errors: [{"field": "user_groups", "reason": "unknown query parameter;
did you mean 'user_group'?", "code": "unknown_parameter"}]``.

How it is wired (``app/main.py``): :class:`QueryParameterCheck` is an app-wide dependency,
``FastAPI(dependencies=[Depends(QueryParameterCheck())])``. FastAPI runs app-wide
dependencies first, so the check comes before authentication and before a database
connection is taken. Only API routes run dependencies: the documentation (``/docs``,
``/redoc``, ``/openapi.json``) is not checked, and unknown paths and methods still answer 404
and 405. The request body is parsed before any dependency runs, so a body that is not JSON
at all is still a 422 first. ``FastAPI(responses=UNKNOWN_PARAMETER_RESPONSES)`` documents
the 400 for the operations that documented none (a route's own 400 takes precedence).

The parameters a route knows are the query parameters of its own dependency tree, as FastAPI
reads them (aliases such as ``bbox-crs``, fields of query-parameter models), and those its
``openapi_extra`` documents (read from the query string by the route itself): exactly what the
OpenAPI document publishes. They are collected once per app, for all routes at once.

Suggestions come from :data:`FILTER_FOR_OUTPUT_FIELD` (names the API returns that are no
filter) and otherwise from :func:`difflib.get_close_matches`.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import UnionType
from typing import Any, Union, get_args, get_origin

from fastapi import FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel

from app.domain.errors import BadRequest, FieldProblem

#: Output fields that are no filter → the filter(s) to use instead. Only the filters a route
#: has are suggested; for other routes the usual closest-name suggestion applies.
FILTER_FOR_OUTPUT_FIELD: Mapping[str, tuple[str, ...]] = {
    "user_groups": ("user_group",),
    "restriction_causes": ("exclude_causes",),
    "net_area_ha": ("net_area_min_ha", "net_area_max_ha"),
    "distance_junction_km": ("max_junction_km",),
    "distance_airport_km": ("max_airport_km",),
    "price_eur_m2": ("max_price_eur_m2",),
    "district_ags": ("district",),
    "municipality_ags": ("municipality",),
    "available_from": ("available_by",),
    "sale_date": ("from", "to"),
    "received_on": ("received_from", "received_to"),
}

UNKNOWN_PARAMETER_CODE = "unknown_parameter"
UNKNOWN_PARAMETER_REASON = "unknown query parameter"

#: OpenAPI: the 400 every operation can now answer. Given app-wide (``FastAPI(responses=...)``),
#: so it only fills in where a route documents no 400 of its own.
UNKNOWN_PARAMETER_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"description": "Malformed request, e.g. an unknown query parameter",
          "content": {"application/problem+json": {}}},
}

#: Lowest :class:`difflib.SequenceMatcher` ratio of a suggested name (difflib's default).
SUGGESTION_CUTOFF = 0.6


@dataclass(frozen=True)
class RouteQueryParameters:
    """The query parameters one API route declares."""

    route: APIRoute  #: the route object FastAPI puts in ``scope["route"]``
    path: str
    methods: frozenset[str]
    names: frozenset[str]


def route_query_parameters(app: FastAPI) -> list[RouteQueryParameters]:
    """Every API route of ``app`` (included routers too) with its query parameters."""
    result = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute):
            continue  # the docs, mounts: not API routes, no dependencies run
        dependant: Dependant = context.dependant  # with the app's and routers' dependencies
        result.append(RouteQueryParameters(
            route=route, path=context.path or route.path,
            methods=frozenset(context.methods or ()),
            names=frozenset(query_parameter_names(dependant)) | documented_parameters(route)))
    return result


def documented_parameters(route: APIRoute) -> frozenset[str]:
    """Query parameters a route documents in its ``openapi_extra`` (those it reads from the
    query string itself, rather than through FastAPI's parameter resolution)."""
    extra = route.openapi_extra or {}
    return frozenset(p["name"] for p in extra.get("parameters", []) if p.get("in") == "query")


def query_parameter_names(dependant: Dependant) -> Iterator[str]:
    """The names (aliases) of the query parameters of ``dependant`` and its dependencies."""
    pending = [dependant]
    while pending:
        current = pending.pop()
        for field in current.query_params:
            model = _query_model(field.field_info.annotation)
            if model is None:
                yield field.alias
            else:  # a query-parameter model: each of its fields is a parameter
                yield from (info.alias or name for name, info in model.model_fields.items())
        pending.extend(current.dependencies)


def _query_model(annotation: Any) -> type[BaseModel] | None:
    """The model of a ``Model`` or ``Model | None`` parameter annotation, else ``None``."""
    if get_origin(annotation) in (Union, UnionType):
        options = [option for option in get_args(annotation) if option is not type(None)]
        if len(options) == 1:
            annotation = options[0]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def suggestions(name: str, known: Collection[str]) -> list[str]:
    """The known parameters ``name`` was probably meant to be (best first; may be empty).

    >>> suggestions("user_groups", {"user_group", "district"})
    ['user_group']
    >>> suggestions("net_area_ha", {"net_area_min_ha", "net_area_max_ha", "limit"})
    ['net_area_min_ha', 'net_area_max_ha']
    >>> suggestions("Limit", {"limit"}), suggestions("zzz", {"limit"})
    (['limit'], [])
    """
    mapped = [target for target in FILTER_FOR_OUTPUT_FIELD.get(name, ()) if target in known]
    if mapped:
        return mapped
    by_folded = {candidate.casefold(): candidate for candidate in sorted(known)}
    close = difflib.get_close_matches(name.casefold(), by_folded, n=1, cutoff=SUGGESTION_CUTOFF)
    return [by_folded[match] for match in close]


def unknown_parameters_error(unknown: Sequence[str], known: frozenset[str]) -> BadRequest:
    """The 400 problem naming each of ``unknown``, with a suggestion where there is one."""
    problems = []
    for name in unknown:
        reason = UNKNOWN_PARAMETER_REASON
        if not known:
            reason += "; this endpoint takes no query parameters"
        elif hints := suggestions(name, known):
            reason += "; did you mean " + " or ".join(f"'{hint}'" for hint in hints) + "?"
        problems.append(FieldProblem(name, reason, UNKNOWN_PARAMETER_CODE))
    quoted = ", ".join(f"'{name}'" for name in unknown)
    detail = (f"Unknown query parameter {quoted}." if len(unknown) == 1
              else f"Unknown query parameters {quoted}.")
    detail += (f" Known: {', '.join(sorted(known))}." if known
               else " This endpoint takes no query parameters.")
    return BadRequest(detail, problems=problems)


class QueryParameterCheck:
    """App-wide dependency: raises :class:`BadRequest` for undeclared query parameters.

    One instance per app: it learns the app's routes on its first request.
    """

    def __init__(self) -> None:
        # id() of the route in scope["route"] → its parameters. Routes live as long as the
        # app; a route included more than once is known by the union of its inclusions.
        self._known: dict[int, frozenset[str]] | None = None

    def known(self, app: FastAPI, route: APIRoute) -> frozenset[str]:
        """The query parameters ``route`` of ``app`` declares."""
        if self._known is None:
            table: dict[int, frozenset[str]] = {}
            for entry in route_query_parameters(app):
                table[id(entry.route)] = table.get(id(entry.route), frozenset()) | entry.names
            self._known = table
        names = self._known.get(id(route))
        if names is None:  # added to the app after its first request
            names = self._known[id(route)] = (frozenset(query_parameter_names(route.dependant))
                                              | documented_parameters(route))
        return names

    async def __call__(self, request: Request) -> None:
        route = request.scope.get("route")
        if not isinstance(route, APIRoute):
            return
        known = self.known(request.app, route)
        unknown = [name for name in request.query_params if name not in known]
        if unknown:
            raise unknown_parameters_error(unknown, known)
