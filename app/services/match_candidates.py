"""Candidates of investor matching: the hard conditions as a filter, and single parcels
ranked in SQL.

The hard conditions of :mod:`app.domain.matching` (user group, restriction tolerance,
marketing status, active site and, for single parcels, the minimum net area) are a
:class:`ParcelFilter`, applied through :func:`selection_sql`, so the viewer's visibility
applies. One query ranks the single parcels by the weight of the criteria they meet
(:func:`criteria_sql`: one condition per scored criterion, mirroring the domain's functions)
and returns only the best ``request.limit``; their scores and German reasons are written by
the domain's :func:`~app.domain.matching.score`, for those parcels alone.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Connection

from app.db.queries.keyset import cached_text
from app.db.queries.parcels import selection_sql
from app.db.queries.parcels.sql import field_sql
from app.domain import vocab
from app.domain.availability import latest_available_date
from app.domain.filters import ParcelFilter
from app.domain.matching import Candidate, MatchRequest, Scored, asked_weights, score
from app.domain.parcel_combination import AREA_TOLERANCE_HA
from app.domain.roles import Viewer


def candidate_filter(request: MatchRequest, *, single: bool = False) -> ParcelFilter:
    """The hard conditions as a parcel filter.

    ``single``: also the minimum net area (within :data:`AREA_TOLERANCE_HA`, as
    :func:`reaches`), which parts of a combination need not meet.
    """
    area_min = (max(0.0, request.net_area_min_ha - AREA_TOLERANCE_HA) if single else None)
    return ParcelFilter(
        user_group=(request.user_group,),
        restriction_max=request.restriction_tolerance,
        marketing_status=("verfuegbar",),
        active_sites_only=True,
        net_area_min_ha=area_min,
    )


#: The registry fields scoring needs (read as the viewer sees them), by output name.
CANDIDATE_COLUMNS = {name: name for name in (
    "id", "site_id", "district_ags", "net_area_ha", "availability", "available_from",
    "restriction_level", "rail_siding", "operation_24h", "distance_junction_km", "user_groups")}

#: Ranking of single parcels in SQL: the weight met (see :func:`criteria_sql`) descending,
#: then larger net area, then smaller id, as :attr:`Scored.rank_key`.
RANK_ORDER = "met_weight DESC, net_area_ha DESC, id"

DISTRICT_NAME = "(SELECT d.name FROM districts d WHERE d.ags = c.district_ags)"


def _float(name: str) -> str:
    return f"CAST(:{name} AS double precision)"


def criteria_sql(
    request: MatchRequest, viewer: Viewer, reference: date
) -> tuple[dict[str, str], dict[str, Any]]:
    """Per scored criterion ``request`` asks for (:func:`asked_weights`): SQL over ``p`` that
    is true exactly when the domain reports it met, and the values it binds (``:m_*``).

    Fields are read as ``viewer`` sees them, as the candidates the domain scores are. Bounds
    are computed in Python and bound as doubles, so SQL compares the same floating-point
    numbers as :func:`~app.domain.parcel_combination.reaches` does.
    """
    area = field_sql("net_area_ha", viewer)
    params: dict[str, Any] = {}
    conditions: dict[str, str] = {}
    for key in asked_weights(request):
        if key == "net_area":  # reaches(area, low) and (no high or reaches(high, area))
            params["m_area_low"] = request.net_area_min_ha - AREA_TOLERANCE_HA
            sql = f"{area} >= {_float('m_area_low')}"
            if request.net_area_max_ha is not None:
                params["m_area_high"] = request.net_area_max_ha
                params["m_area_tolerance"] = AREA_TOLERANCE_HA
                sql += (f" AND {_float('m_area_high')} >= "
                        f"{area} - {_float('m_area_tolerance')}")
            conditions[key] = sql
        elif key == "available_by":  # available_from, else the class's latest date
            needed_by = request.needed_by
            assert needed_by is not None
            params["m_needed_by"] = needed_by
            params["m_classes_by"] = [
                code for code in vocab.AVAILABILITY.codes
                if (latest := latest_available_date(code, reference)) is not None
                and latest <= needed_by]
            since = field_sql("available_from", viewer)
            conditions[key] = (
                f"CASE WHEN {since} IS NOT NULL THEN {since} <= :m_needed_by "
                f"ELSE {field_sql('availability', viewer)} = ANY(CAST(:m_classes_by AS text[])) "
                "END")
        elif key == "junction":
            params["m_max_junction_km"] = request.max_junction_km
            conditions[key] = (f"{field_sql('distance_junction_km', viewer)} <= "
                               f"{_float('m_max_junction_km')}")
        elif key in ("rail_siding", "operation_24h"):
            conditions[key] = field_sql(key, viewer)
        elif key == "district":
            params["m_districts"] = list(request.preferred_districts)
            conditions[key] = (f"{field_sql('district_ags', viewer)} = "
                               "ANY(CAST(:m_districts AS text[]))")
        else:
            raise AssertionError(f"no SQL for the criterion {key!r}")
    return conditions, params


def met_weight_sql(request: MatchRequest, viewer: Viewer,
                   reference: date) -> tuple[str, dict[str, Any]]:
    """SQL: the weight of the scored criteria a parcel meets (an integer), and its values."""
    conditions, params = criteria_sql(request, viewer, reference)
    weights = asked_weights(request)
    terms = [f"CASE WHEN {sql} THEN {weights[key]} ELSE 0 END"
             for key, sql in conditions.items()]
    return "(" + " + ".join(terms) + ")", params


def candidate_from_row(r: Any) -> Candidate:
    return Candidate(
        id=r.id, site_id=r.site_id, district_ags=r.district_ags,
        net_area_ha=float(r.net_area_ha), availability=r.availability,
        available_from=r.available_from, restriction_level=r.restriction_level,
        rail_siding=bool(r.rail_siding), operation_24h=bool(r.operation_24h),
        distance_junction_km=r.distance_junction_km, user_groups=tuple(r.user_groups),
        district_name=r.district_name,
    )


def best_singles(
    conn: Connection, request: MatchRequest, *, viewer: Viewer, reference: date
) -> list[Scored]:
    """The best ``request.limit`` single parcels meeting every hard condition, ranked.

    Ranked in SQL by the weight met (the score's numerator; the denominator depends on the
    request alone), then larger net area, then smaller id; scored with their German reasons
    by the domain, for the returned parcels only.
    """
    met_sql, met_params = met_weight_sql(request, viewer, reference)
    sql, params = selection_sql(
        candidate_filter(request, single=True), viewer,
        {**CANDIDATE_COLUMNS, "met_weight": "=" + met_sql}, reference=reference)
    stmt = cached_text(
        f"SELECT c.*, {DISTRICT_NAME} AS district_name "
        f"FROM ({sql} ORDER BY {RANK_ORDER} LIMIT :m_limit) c ORDER BY {RANK_ORDER}")
    params.update(met_params, m_limit=request.limit)
    singles = []
    for r in conn.execute(stmt, params):
        candidate = candidate_from_row(r)
        points, criteria = score(request, candidate, reference)
        singles.append(Scored(candidate, points, tuple(criteria)))
    return singles
