"""Reports: ``GET /api/v1/reports/portfolio``, the inter-municipal portfolio report (HTTP only).

The figures come from :mod:`app.services.reports.portfolio` (a handful of set-based
statements over the one select path, plus the balance); the formats from
:mod:`app.services.reports.portfolio_output`. The database connection is returned before
charts and maps are drawn and the PDF is printed.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from app.api.auth import OPTIONAL_API_KEY, PrincipalDep
from app.api.balance import SupplyScope
from app.api.connections import ReadsDep
from app.api.deps import SettingsDep
from app.api.negotiation import (
    HTML_MEDIA_TYPE,
    PDF_MEDIA_TYPE,
    XLSX_MEDIA_TYPE,
    chosen_format,
)
from app.api.parcel_params import LIST_HINT, ReferenceDayDep, SupplyFilterDep, split_list
from app.api.responses import JSON_MEDIA_TYPE, document_responses
from app.api.tables import CSV_MEDIA_TYPE, json_response
from app.domain.errors import BadRequest
from app.domain.input_types import MAX_ID, IsoDate
from app.domain.premium import PremiumCriteria
from app.services.balance import BalanceOptions
from app.services.reports.portfolio import PortfolioOptions, load_portfolio
from app.services.reports.portfolio_output import (
    TABLE_KEYS,
    portfolio_csv,
    portfolio_html,
    portfolio_pdf,
    portfolio_xlsx,
    report_filename,
)

router = APIRouter(prefix="/api/v1", tags=["Berichte"])

_DEFAULTS = PremiumCriteria()


class ReportFormat(StrEnum):
    """Representations of a report."""

    JSON = "json"
    CSV = "csv"
    XLSX = "xlsx"
    HTML = "html"
    PDF = "pdf"


_MEDIA_TYPES = {ReportFormat.JSON: JSON_MEDIA_TYPE, ReportFormat.CSV: CSV_MEDIA_TYPE,
                ReportFormat.XLSX: XLSX_MEDIA_TYPE, ReportFormat.HTML: HTML_MEDIA_TYPE,
                ReportFormat.PDF: PDF_MEDIA_TYPE}

class PortfolioTable(StrEnum):
    """The tables of the portfolio report (``table`` of CSV answers)."""

    districts = "districts"
    availability = "availability"
    supply = "supply"
    user_groups = "user_groups"
    premium_sites = "premium_sites"
    balance = "balance"
    partner_sites = "partner_sites"
    partner_municipalities = "partner_municipalities"
    changes = "changes"
    changed_parcels = "changed_parcels"


assert tuple(PortfolioTable) == TABLE_KEYS, "the API's table names are the report's"


class PremiumAvailability(StrEnum):
    """Latest availability class of a premium site's parcels (``alle``: any class)."""

    sofort = "sofort"
    kurzfristig = "kurzfristig"
    mittelfristig = "mittelfristig"
    langfristig = "langfristig"
    alle = "alle"


def report_format(
    request: Request,
    format_: Annotated[ReportFormat | None, Query(
        alias="f", description="json, csv, xlsx, html or pdf (else negotiated from Accept; "
                               "default json)")] = None,
) -> ReportFormat:
    """``f`` first, then the ``Accept`` header (406 when it accepts none of them)."""
    return chosen_format(request, format_, _MEDIA_TYPES, ReportFormat.JSON)


def premium_criteria(
    premium_min_net_ha: Annotated[float, Query(
        ge=0, le=100_000, allow_inf_nan=False,
        description="Premium site: least net ha of its qualifying parcels together "
                    "(0: one qualifying parcel is enough)")] = _DEFAULTS.min_net_ha,
    premium_availability: Annotated[PremiumAvailability, Query(
        description="Premium site: latest availability class of a qualifying parcel "
                    "(sofort = immediately available; alle: any)")] =
        PremiumAvailability.sofort,
    premium_24h: Annotated[bool, Query(
        description="Premium site: qualifying parcels allow 24-hour operation")] =
        _DEFAULTS.operation_24h,
    premium_motorway_km: Annotated[float, Query(
        gt=0, le=1_000, allow_inf_nan=False,
        description="Premium site: a motorway junction within this many km")] =
        _DEFAULTS.motorway_km or 5.0,
    premium_rail_siding: Annotated[bool, Query(
        description="Premium site: qualifying parcels have a rail siding")] =
        _DEFAULTS.rail_siding,
    premium_broadband_mbps: Annotated[int, Query(
        ge=0, le=1_000_000, description="Premium site: least broadband of a qualifying "
                                        "parcel, Mbit/s (0: any)")] =
        _DEFAULTS.broadband_mbps or 0,
) -> PremiumCriteria:
    """The premium criteria from the query (defaults: :class:`PremiumCriteria`)."""
    return PremiumCriteria(
        min_net_ha=premium_min_net_ha,
        availability=None if premium_availability is PremiumAvailability.alle
        else premium_availability.value,
        operation_24h=premium_24h, motorway_km=premium_motorway_km,
        rail_siding=premium_rail_siding, broadband_mbps=premium_broadband_mbps)


@router.get(
    "/reports/portfolio",
    openapi_extra=OPTIONAL_API_KEY,
    summary="Inter-municipal portfolio report (JSON, CSV, XLSX, HTML, PDF)",
    response_class=Response,
    responses=document_responses("The portfolio report", _MEDIA_TYPES.values()),
)
def get_portfolio(
    reads: ReadsDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    selection: SupplyFilterDep,
    day: ReferenceDayDep,
    out: Annotated[ReportFormat, Depends(report_format)],
    premium: Annotated[PremiumCriteria, Depends(premium_criteria)],
    since: Annotated[IsoDate | None, Query(
        description="Also report the changes from the end of this day (YYYY-MM-DD, before "
                    "'at') to the end of 'at'")] = None,
    table: Annotated[PortfolioTable | None, Query(
        description="The table of a CSV answer (default districts): "
                    + ", ".join(TABLE_KEYS))] = None,
    framework: Annotated[int | None, Query(
        ge=1, le=MAX_ID, description="Framework id of the balance (default: the default "
                                     "framework)")] = None,
    scenario: Annotated[list[str] | None, Query(
        description="Scenario keys of the balance: the framework's, 'trend', 'gifpro'; "
                    "default all" + LIST_HINT)] = None,
    supply: Annotated[SupplyScope, Query(
        description="Supply the balance counts: market (without the potential categories) "
                    "or all")] = SupplyScope.market,
) -> Response:
    """The portfolio of the region, a district or a municipality (``district``,
    ``municipality``, and every other registry filter) as it was at the end of ``at``:
    sites and parcels per district; net ha by category × availability × restriction level
    and by user group (overlapping); the premium sites (criteria ``premium_*``) with their
    key facts; the balance and reach per district; the inter-municipal sites allocated to
    their partner municipalities by shares and by the location of their parcels; with
    ``since``, the changes in between per district and per parcel.

    Marketing status ``verfuegbar`` and ``reserviert`` unless asked (the supply on the
    market, as the balance and the summary count it). The public sees marketed parcels of
    active sites and published fields only. Hectares net unless named gross, computed in
    EPSG:25832; distances km. CSV answers one table (``table``); XLSX has a sheet per
    table; HTML and PDF (A4, printed by headless Chromium) are the German report with
    charts and district maps.
    """
    if since is not None and since > day:
        raise BadRequest.for_field("since", f"since ({since.isoformat()}) lies after at "
                                   f"({day.isoformat()})", "since_after_at")
    if table is not None and out is not ReportFormat.CSV:
        raise BadRequest.for_field("table", "table chooses the table of a CSV answer (f=csv)",
                                   "table_without_csv")
    if table in (PortfolioTable.changes, PortfolioTable.changed_parcels) and since is None:
        raise BadRequest.for_field("since", f"the table {table.value} needs since",
                                   "since_missing")
    options = PortfolioOptions(
        balance=BalanceOptions(day=day, framework_id=framework, scenarios=split_list(scenario),
                               supply_scope=supply.value,
                               potential_categories=settings.potential_categories),
        premium=premium, since=since)
    with reads.connect() as conn:
        report = load_portfolio(conn, selection, principal.viewer, options,
                                with_maps=out in (ReportFormat.HTML, ReportFormat.PDF))
    document = report.document
    headers = {"Vary": "Accept, Authorization"}
    if out is ReportFormat.JSON:
        return json_response(document)
    if out is ReportFormat.CSV:
        key = table.value if table is not None else "districts"
        headers["Content-Disposition"] = (
            f'attachment; filename="{report_filename(document, "csv", key)}"')
        return Response(content=portfolio_csv(document, key),
                        media_type=f"{CSV_MEDIA_TYPE}; charset=utf-8", headers=headers)
    if out is ReportFormat.XLSX:
        headers["Content-Disposition"] = (
            f'attachment; filename="{report_filename(document, "xlsx")}"')
        return Response(content=portfolio_xlsx(document), media_type=XLSX_MEDIA_TYPE,
                        headers=headers)
    if out is ReportFormat.PDF:
        pdf = portfolio_pdf(document, report.shapes, chromium_path=settings.chromium_path)
        headers["Content-Disposition"] = (
            f'inline; filename="{report_filename(document, "pdf")}"')
        return Response(content=pdf, media_type=PDF_MEDIA_TYPE, headers=headers)
    return Response(content=portfolio_html(document, report.shapes),
                    media_type=f"{HTML_MEDIA_TYPE}; charset=utf-8", headers=headers)
