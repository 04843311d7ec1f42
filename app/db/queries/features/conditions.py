"""SQL conditions of the OGC ``bbox`` and ``datetime`` parameters, values bound.

A query window is built in its own CRS and transformed to the collection's storage CRS (never
the column), so the GiST index serves it; geographic windows are densified first so their
edges follow meridians and parallels after the transformation. A lon/lat box with minx > maxx
crosses the antimeridian and becomes two boxes.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from app.db.queries.cql2_sql import Queryable, QueryableType
from app.domain.crs import OgcCrs, window_problem
from app.domain.errors import BadRequest, InvalidInput
from app.domain.ogc_params import TimeBound, TimeInterval


def _envelope(index: int, srid: int, storage_srid: int, geographic: bool) -> str:
    box = (f"ST_MakeEnvelope(:bb{index}_minx, :bb{index}_miny, :bb{index}_maxx, "
           f":bb{index}_maxy, {int(srid)})")
    if srid == storage_srid:
        return box
    if geographic:
        box = f"ST_Segmentize({box}, 0.01)"
    return f"ST_Transform({box}, {int(storage_srid)})"


def bbox_condition(geometry_sql: str, storage_srid: int,
                   box: tuple[float, float, float, float], crs: OgcCrs
                   ) -> tuple[str, dict[str, Any]]:
    """``geometry_sql`` intersects ``box`` (given in ``crs``'s axis order)."""
    minx, miny, maxx, maxy = box
    if crs.lat_lon:
        minx, miny, maxx, maxy = miny, minx, maxy, maxx
    geographic = crs.srid == 4326
    if (geographic and not all(-180 <= v <= 180 for v in (minx, maxx))) \
            or (geographic and not all(-90 <= v <= 90 for v in (miny, maxy))):
        raise InvalidInput.for_field("bbox", "longitudes lie within ±180 and latitudes "
                                     "within ±90", "bbox")
    boxes = [(minx, miny, maxx, maxy)]
    if minx > maxx:
        if not geographic:
            raise InvalidInput.for_field("bbox", "minx exceeds maxx", "bbox")
        boxes = [(minx, miny, 180.0, maxy), (-180.0, miny, maxx, maxy)]
    params: dict[str, Any] = {}
    parts = []
    for i, (x0, y0, x1, y1) in enumerate(boxes):
        if not geographic and (problem := window_problem(crs.srid, x0, y0, x1, y1)):
            raise BadRequest.for_field("bbox", problem, "area_of_use")
        params.update({f"bb{i}_minx": x0, f"bb{i}_miny": y0, f"bb{i}_maxx": x1,
                       f"bb{i}_maxy": y1})
        window = _envelope(i, crs.srid, storage_srid, geographic)
        parts.append(f"ST_Intersects({geometry_sql}, {window})")
    return "(" + " OR ".join(parts) + ")", params


def _as_moment(bound: TimeBound, *, end: bool) -> datetime:
    """A day as the first moment of the day, or (``end``) of the day after, in UTC."""
    if isinstance(bound.value, datetime):
        return bound.value
    moment = datetime.combine(bound.value, time(0), tzinfo=UTC)
    return moment + timedelta(days=1) if end else moment


def datetime_condition(prop: Queryable, interval: TimeInterval) -> tuple[str, dict[str, Any]]:
    """``prop`` (a date or date-time) lies within ``interval`` (an instant: equals it; a
    day on a date-time property: any moment of that day, UTC)."""
    conditions: list[str] = []
    params: dict[str, Any] = {}
    is_date = prop.type is QueryableType.DATE
    if prop.type not in (QueryableType.DATE, QueryableType.DATETIME):
        raise AssertionError(f"{prop.name} is not temporal")
    if interval.start is not None:
        if is_date:
            params["dt_start"] = interval.start.value if interval.start.is_date \
                else interval.start.value.date()  # type: ignore[union-attr]
            conditions.append(f"{prop.sql} >= :dt_start")
        else:
            params["dt_start"] = _as_moment(interval.start, end=False)
            conditions.append(f"{prop.sql} >= :dt_start")
    if interval.end is not None:
        if is_date:
            params["dt_end"] = interval.end.value if interval.end.is_date \
                else interval.end.value.date()  # type: ignore[union-attr]
            conditions.append(f"{prop.sql} <= :dt_end")
        elif interval.end.is_date:
            params["dt_end"] = _as_moment(interval.end, end=True)
            conditions.append(f"{prop.sql} < :dt_end")
        else:
            params["dt_end"] = interval.end.value
            conditions.append(f"{prop.sql} <= :dt_end")
    return "(" + " AND ".join(conditions) + ")", params
