"""Client geometry → a valid MultiPolygon in EPSG:25832, inside the region, or a clear 4xx.

Every polygon that enters the database from outside goes the same way: the API's parcel and
site writes through :func:`prepare_polygon`, the demo and boundary loaders (and a file
import) through :func:`intake_polygons`. Both end in one SQL function,
``gefis_polygon_intake`` (migration 0008), and the work is bounded before and while PostGIS
does it:

1. :func:`app.domain.geometry_input.polygon_input` counts the positions (at most
   ``GEFIS_GEOMETRY_MAX_VERTICES``), checks the structure and the ``crs`` member, and drops
   heights (with a note), all in Python, before the first SQL statement;
2. ``gefis_polygon_intake`` parses, transforms to EPSG:25832, checks validity
   (``ST_IsValidDetail``, which stops at the first problem), refuses slivers (each part of
   a multipolygon below ``GEFIS_GEOMETRY_MIN_AREA_M2``, m² in EPSG:25832), locates the
   shape by ``gefis_locate_municipality`` (the district with the largest share of its area,
   see migration 0006) and refuses it when it lies outside the region. An invalid shape is
   refused with PostGIS's reason and its location in the client's CRS. For the API this
   runs under a statement timeout of a few seconds
   (:data:`~app.domain.geometry_input.VALIDATION_TIMEOUT_MS`, never longer than the
   configured one); a timeout is a 422 "too complex to validate";
3. a repair (only on request) calls the function again with ``repair => true``, which runs
   ``ST_MakeValid`` with the *structure* method, under the same timeout, and only for
   shapes with at most :data:`~app.domain.geometry_input.REPAIR_MAX_SELF_INTERSECTIONS`
   self-intersections (counted in Python first). Why: GEOS checks for cancellation rarely,
   so a statement timeout alone does not stop ``ST_MakeValid`` in time; the default
   *linework* method took more than 15 s for a 19,000-vertex ring with a single crossing,
   and minutes on many crossings, while holding a database backend.

A refusal names the API field (``geometry``, or ``features[i].geometry`` for the i-th
feature of a file), never the column.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, text
from sqlalchemy.exc import DBAPIError

from app.domain.errors import FieldProblem, InvalidInput
from app.domain.geometry_input import (
    REPAIR_COUNT_BUDGET_S,
    REPAIR_MAX_SELF_INTERSECTIONS,
    GeometryLimits,
    GeometryProblem,
    PolygonInput,
    count_self_intersections,
    polygon_input,
)
from app.settings import get_settings

#: Share of a shape's area that may lie outside the region (VG250 is a 1:250,000 product).
OUTSIDE_TOLERANCE = 0.01
#: SQLSTATE of a statement cancelled by its timeout.
QUERY_CANCELED = "57014"
#: The hint an API client gets with an invalid geometry.
REPAIR_HINT = "send repair_geometry=true to repair it"
#: Refusals listed in the detail of a multi-feature refusal (all are in its ``problems``).
LISTED_REFUSALS = 10

_TIMEOUT = text("SELECT set_config('statement_timeout', :value, true)")

#: One row per GeoJSON text in ``:geojson`` (1-based ``ord``), in order.
_INTAKE = text("""
    SELECT f.ord, ST_AsEWKT(i.geom_25832) AS ewkt, i.repaired, i.invalid_reason, i.area_m2,
           i.municipality_ags, i.inside_share, i.problem, i.reason
    FROM unnest(CAST(:geojson AS text[])) WITH ORDINALITY AS f(geojson, ord)
    CROSS JOIN LATERAL gefis_polygon_intake(
        f.geojson, CAST(:srid AS integer), CAST(:repair AS boolean),
        CAST(:min_area_m2 AS double precision), CAST(:locate AS boolean),
        CAST(:max_outside_share AS double precision)) i
    ORDER BY f.ord
""")


@dataclass(frozen=True)
class PreparedGeometry:
    """A geometry ready to store, where it lies, and what was changed in it (``notes``)."""

    ewkt: str
    municipality_ags: str
    area_ha: float
    notes: tuple[str, ...] = ()

    @property
    def district_ags(self) -> str:
        """5-digit AGS of the district (prefix of the municipality's AGS)."""
        return self.municipality_ags[:5]


@dataclass(frozen=True)
class PolygonIntake:
    """One accepted polygon of a multi-feature intake (:func:`intake_polygons`).

    ``ewkt`` is the shape to store (EPSG:25832); ``municipality_ags`` is ``None`` when the
    intake did not locate (boundaries); ``notes`` say what was changed (heights dropped,
    a repair and its reason).
    """

    ewkt: str
    repaired: bool
    area_m2: float
    municipality_ags: str | None
    notes: tuple[str, ...] = ()

    @property
    def district_ags(self) -> str | None:
        """5-digit AGS of the district, if located."""
        return self.municipality_ags[:5] if self.municipality_ags else None


def _message(exc: DBAPIError) -> str:
    diag = getattr(exc.orig, "diag", None)
    return str((diag.message_primary if diag is not None else None) or exc.orig)


@contextmanager
def limited_time(conn: Connection, limits: GeometryLimits, field: str,
                 activity: str) -> Iterator[None]:
    """Run the block in a savepoint with ``statement_timeout`` set to the validation limit.

    A timeout becomes a 422 naming ``field`` ("too complex to ``activity``"); any other
    database error a 422 "unreadable geometry". The session's timeout is restored after.
    """
    previous = conn.execute(text("SELECT current_setting('statement_timeout')")).scalar_one()
    seconds = limits.validation_timeout_ms / 1000
    try:
        with conn.begin_nested():
            conn.execute(_TIMEOUT, {"value": str(limits.validation_timeout_ms)})
            yield
            conn.execute(_TIMEOUT, {"value": previous})
    except DBAPIError as exc:
        if getattr(exc.orig, "pgcode", None) == QUERY_CANCELED:
            raise InvalidInput.for_field(
                field, f"geometry too complex to {activity} within {seconds:g} s",
                "too_complex") from exc
        raise InvalidInput.for_field(
            field, f"unreadable geometry: {_message(exc)}", "geometry") from exc


def _intake(conn: Connection, geojson: Sequence[str], srid: int, *, repair: bool,
            limits: GeometryLimits, locate: bool) -> list[Row[Any]]:
    """``gefis_polygon_intake`` for each GeoJSON text, in one statement; rows in order."""
    if not geojson:
        return []
    return list(conn.execute(_INTAKE, {
        "geojson": list(geojson), "srid": srid, "repair": repair,
        "min_area_m2": limits.min_area_m2, "locate": locate,
        "max_outside_share": OUTSIDE_TOLERANCE,
    }))


def _refusal(row: Row[Any], field: str, *, hint: str | None = None) -> FieldProblem:
    """The refusal of one intake row as a problem naming ``field`` (the API field)."""
    name = f"{field}.type" if row.problem == "geometry_type" else field
    reason = f"{row.reason}; {hint}" if hint and row.problem == "invalid_geometry" else row.reason
    return FieldProblem(name, reason, row.problem)


def _repair_refusal(polygon: PolygonInput, field: str) -> FieldProblem | None:
    """A refusal when the shape has too many self-intersections to be repaired in time."""
    crossings = count_self_intersections(
        polygon, stop_after=REPAIR_MAX_SELF_INTERSECTIONS, budget_s=REPAIR_COUNT_BUDGET_S)
    if crossings is not None and crossings <= REPAIR_MAX_SELF_INTERSECTIONS:
        return None
    amount = (f"more than {REPAIR_MAX_SELF_INTERSECTIONS:,} self-intersections"
              if crossings is not None else "too many edges close to each other")
    return FieldProblem(
        field, f"geometry has {amount} to be repaired automatically; correct it in a GIS",
        "too_complex")


def _repair_note(row: Row[Any]) -> tuple[str, ...]:
    return (f"repaired with ST_MakeValid: {row.invalid_reason}",) if row.repaired else ()


def prepare_polygon(
    conn: Connection, geometry: dict[str, Any], srid: int, *, repair: bool,
    field: str = "geometry", limits: GeometryLimits | None = None,
) -> PreparedGeometry:
    """Check, transform, validate (or repair) and locate a client's polygon.

    ``geometry`` is GeoJSON in EPSG:``srid``; ``limits`` default to the process settings
    (``GEFIS_GEOMETRY_MAX_VERTICES``, ``GEFIS_GEOMETRY_MIN_AREA_M2``). Raises
    :class:`InvalidInput` naming ``field`` (or ``field.coordinates``/``field.crs``).
    """
    limits = limits or GeometryLimits.from_settings(get_settings())
    try:
        polygon = polygon_input(geometry, srid, limits)
    except GeometryProblem as problem:
        raise problem.for_field(field) from None
    geojson = [json.dumps(polygon.geojson())]
    with limited_time(conn, limits, field, "validate"):
        (row,) = _intake(conn, geojson, srid, repair=False, limits=limits, locate=True)
    if row.problem == "invalid_geometry" and repair:
        refused = _repair_refusal(polygon, field)
        if refused is not None:
            raise InvalidInput(refused.reason, problems=[refused])
        with limited_time(conn, limits, field, "repair"):
            (row,) = _intake(conn, geojson, srid, repair=True, limits=limits, locate=True)
    if row.problem is not None:
        problem = _refusal(row, field, hint=REPAIR_HINT)
        raise InvalidInput(problem.reason, problems=[problem])
    return PreparedGeometry(ewkt=row.ewkt, municipality_ags=row.municipality_ags,
                            area_ha=row.area_m2 / 10_000,
                            notes=(*polygon.notes, *_repair_note(row)))


def intake_polygons(
    conn: Connection, geometries: Sequence[Any], srid: int, *, repair: bool,
    limits: GeometryLimits, locate: bool = True, source: str = "input",
    field: str = "features",
) -> list[PolygonIntake]:
    """The same intake as :func:`prepare_polygon` for many polygons (a file's features).

    ``geometries`` are GeoJSON geometries in EPSG:``srid``; the database work is one
    statement for all of them (and one more for those to repair). ``locate=False`` skips
    locating and the region check (for the boundaries that define the region). Accepted
    polygons come back in input order. If any is refused, nothing is returned: one
    :class:`InvalidInput` lists every refusal, each naming ``{field}[i].geometry`` (``i``
    counts from 0, as in the file); ``source`` names the input in its detail.
    """
    problems: list[FieldProblem] = []
    polygons: dict[int, PolygonInput] = {}
    for index, geometry in enumerate(geometries):
        name = f"{field}[{index}].geometry"
        if not isinstance(geometry, Mapping):
            problems.append(FieldProblem(name, "not a GeoJSON geometry object", "geometry"))
            continue
        try:
            polygons[index] = polygon_input(geometry, srid, limits)
        except GeometryProblem as problem:
            problems.extend(problem.for_field(name).problems)
    indices = list(polygons)
    geojson = {i: json.dumps(polygons[i].geojson()) for i in indices}
    rows = dict(zip(indices, _intake(conn, [geojson[i] for i in indices], srid, repair=False,
                                     limits=limits, locate=locate), strict=True))
    to_repair: list[int] = []
    for index in indices if repair else ():
        if rows[index].problem == "invalid_geometry":
            refused = _repair_refusal(polygons[index], f"{field}[{index}].geometry")
            if refused is None:
                to_repair.append(index)
            else:
                problems.append(refused)
                del rows[index]
    rows.update(zip(to_repair, _intake(conn, [geojson[i] for i in to_repair], srid,
                                       repair=True, limits=limits, locate=locate),
                    strict=True))
    problems.extend(_refusal(row, f"{field}[{index}].geometry")
                    for index, row in rows.items() if row.problem is not None)
    if problems:
        problems.sort(key=_feature_order)
        listed = "; ".join(f"{p.field}: {p.reason}" for p in problems[:LISTED_REFUSALS])
        more = (f"; and {len(problems) - LISTED_REFUSALS} more"
                if len(problems) > LISTED_REFUSALS else "")
        raise InvalidInput(f"{source}: {len(problems)} of {len(geometries)} geometries "
                           f"refused: {listed}{more}", problems=problems)
    return [PolygonIntake(ewkt=row.ewkt, repaired=row.repaired, area_m2=row.area_m2,
                          municipality_ags=row.municipality_ags,
                          notes=(*polygons[index].notes, *_repair_note(row)))
            for index, row in sorted(rows.items())]


def _feature_order(problem: FieldProblem) -> tuple[int, str]:
    """Sort key of a ``features[i].geometry…`` problem: by ``i``, then by field."""
    name = problem.field or ""
    number = name.partition("[")[2].partition("]")[0]
    return (int(number) if number.isdigit() else -1, name)
