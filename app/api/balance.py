"""``GET /api/v1/balance``: supply against demand per district and for the region (HTTP only)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from app.api.auth import OPTIONAL_API_KEY, PrincipalDep
from app.api.connections import ReadConnDep
from app.api.deps import SettingsDep
from app.api.parcel_params import (
    LIST_HINT,
    ReferenceDayDep,
    SupplyFilterDep,
    split_list,
)
from app.api.responses import PROBLEM_RESPONSES
from app.api.tables import TableFormat, TableFormatDep, csv_response, json_response
from app.domain.demand_scenarios import GifproParameters
from app.domain.errors import InvalidInput
from app.domain.input_types import MAX_ID
from app.services.balance import AREA_TABLE_COLUMNS, BalanceOptions, area_table, compute_balance

router = APIRouter(prefix="/api/v1", tags=["Bilanz"])

_DEFAULTS = GifproParameters()


class SupplyScope(StrEnum):
    """Which supply the balance counts."""

    market = "market"
    all = "all"


@router.get(
    "/balance",
    openapi_extra=OPTIONAL_API_KEY,
    summary="Supply–demand balance against a demand framework",
    response_class=Response,
    responses={200: {"description": "The balance per district and for the region",
                     "content": {"application/json": {}, "text/csv": {}}},
               **PROBLEM_RESPONSES},
)
def get_balance(
    conn: ReadConnDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    selection: SupplyFilterDep,
    day: ReferenceDayDep,
    out: TableFormatDep,
    framework: Annotated[int | None, Query(
        ge=1, le=MAX_ID, description="Framework id (default: the default framework)")] = None,
    scenario: Annotated[list[str] | None, Query(
        description="Scenario keys: the framework's, 'trend', 'gifpro'; default all"
                    + LIST_HINT)] = None,
    supply: Annotated[SupplyScope, Query(
        description="market: without the potential categories (GEFIS_POTENTIAL_CATEGORIES); "
                    "all: every surveyed area (the study's figures)")] = SupplyScope.market,
    trend_from: Annotated[int | None, Query(
        ge=1990, le=2100, description="First year of the sales trend (default: ten full "
                                      "years before 'at')")] = None,
    trend_to: Annotated[int | None, Query(
        ge=1990, le=2100, description="Last year of the sales trend")] = None,
    sales_window_years: Annotated[int, Query(
        ge=1, le=30, description="Years of sales whose buyer groups and sizes split the "
                                 "demand")] = 5,
    settlement_quota_pct: Annotated[float, Query(
        ge=0, le=10, description="GIFPRO Neuansiedlungsquote, per 100 employees and "
                                 "year")] = _DEFAULTS.settlement_quota_pct,
    relocation_quota_pct: Annotated[float, Query(
        ge=0, le=10, description="GIFPRO Verlagerungsquote, per 100 employees and "
                                 "year")] = _DEFAULTS.relocation_quota_pct,
    reuse_share: Annotated[float, Query(
        ge=0, le=1, description="GIFPRO Wiedernutzungsquote (0..1)")] = _DEFAULTS.reuse_share,
    m2_per_employee: Annotated[float, Query(
        gt=0, le=10_000, description="GIFPRO Flächenkennziffer, net m² per "
                                     "employee")] = _DEFAULTS.m2_per_employee,
) -> Response:
    """Supply (net and gross ha, by availability × restriction level, market and potential),
    the demand remaining from ``at`` to the framework's last year, the balance and reach,
    year by year with the first shortfall year, by user group and plot-size class, and the
    take-up since the framework's base date; per district and for the region, for each
    scenario. Supply takes the registry's filters (marketing status ``verfuegbar`` and
    ``reserviert`` unless asked). JSON, or CSV (one row per area and scenario).
    """
    if (trend_from is None) != (trend_to is None):
        raise InvalidInput.for_field("trend_to" if trend_to is None else "trend_from",
                                     "give both trend_from and trend_to, or neither")
    if trend_from is not None and trend_to is not None and trend_to < trend_from:
        raise InvalidInput.for_field("trend_to", "trend_to precedes trend_from")
    try:
        gifpro = GifproParameters(settlement_quota_pct=settlement_quota_pct,
                                  relocation_quota_pct=relocation_quota_pct,
                                  reuse_share=reuse_share, m2_per_employee=m2_per_employee)
    except ValueError as exc:  # the query's bounds already hold; a rule across them failed
        raise InvalidInput.for_field(None, str(exc)) from exc
    options = BalanceOptions(
        day=day, framework_id=framework, scenarios=split_list(scenario),
        supply_scope=supply.value, potential_categories=settings.potential_categories,
        trend_years=(trend_from, trend_to) if trend_from and trend_to else None,
        gifpro=gifpro, sales_window_years=sales_window_years)
    document = compute_balance(conn, selection, principal.viewer, options)
    if out is TableFormat.CSV:
        return csv_response(area_table(document), AREA_TABLE_COLUMNS,
                            f"flaechenbilanz_{day.isoformat()}.csv")
    return json_response(document)
