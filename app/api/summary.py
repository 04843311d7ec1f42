"""``GET /api/v1/parcels/summary``: count, net ha and gross ha of parcels, grouped.

The sums come from the one select path (:func:`app.db.queries.parcels.parcel_sums`) with
the registry's filters and ``at``; this module only translates HTTP.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from app.api.auth import OPTIONAL_API_KEY, PrincipalDep
from app.api.connections import ReadConnDep
from app.api.parcel_params import LIST_HINT, ReferenceDayDep, SupplyFilterDep, split_list
from app.api.responses import PROBLEM_RESPONSES
from app.api.tables import TableFormat, TableFormatDep, csv_response, json_response
from app.db.queries.snapshots import source_for_day
from app.db.queries.supply_cells import supply_sums
from app.domain.clock import today
from app.domain.errors import InvalidInput

router = APIRouter(prefix="/api/v1", tags=["Flächen"])


class Grouping(StrEnum):
    """What a summary can be grouped by (API name → registry field)."""

    district = "district_ags"
    municipality = "municipality_ags"
    site = "site_id"
    availability = "availability"
    restriction_level = "restriction_level"
    category = "category"
    user_group = "user_groups"
    size_class = "size_class"
    planning_status = "planning_status"
    marketing_status = "marketing_status"


OVERLAP_NOTE = ("user_group: a parcel counts once for every user group it suits (none: the "
                "group null), so these sums overlap and exceed the total")
GROSS_NOTE = ("gross_ha: the parcels' gross areas (for land not yet serviced net is 75 % of "
              "gross, the study's rule)")


def _groupings(by: list[str] | None) -> list[Grouping]:
    names = split_list(by)
    unknown = [n for n in names if n not in Grouping.__members__]
    if unknown:
        raise InvalidInput.for_field(
            "by", f"unknown grouping {', '.join(unknown)}; known: "
            f"{', '.join(Grouping.__members__)}", "unknown_grouping")
    if len(set(names)) != len(names):
        raise InvalidInput.for_field("by", "a grouping is named twice", "duplicate")
    return [Grouping[n] for n in names]


@router.get(
    "/parcels/summary",
    openapi_extra=OPTIONAL_API_KEY,
    summary="Parcel count, net and gross hectares, grouped",
    response_class=Response,
    responses={200: {"description": "Sums per group and in total",
                     "content": {"application/json": {}, "text/csv": {}}},
               **PROBLEM_RESPONSES},
)
def parcel_summary(
    conn: ReadConnDep,
    principal: PrincipalDep,
    selection: SupplyFilterDep,
    day: ReferenceDayDep,
    out: TableFormatDep,
    by: Annotated[list[str] | None, Query(
        description="Group by any of: " + ", ".join(Grouping.__members__) + LIST_HINT
                    + "; none: one row for the whole selection")] = None,
) -> Response:
    """Sums of the parcels matching the filters (marketing status ``verfuegbar`` and
    ``reserviert`` unless asked: land still on the market), as they were at the end of
    ``at`` (default today; earlier days are rebuilt from the history).

    Areas are hectares computed in EPSG:25832.
    """
    groups = _groupings(by)
    fields = [g.value for g in groups]
    names = [g.name for g in groups]
    source = source_for_day(conn, day, today())
    kwargs: dict[str, Any] = {"viewer": principal.viewer, "reference": day, "source": source}
    rows = supply_sums(conn, selection, fields, **kwargs)
    keyed = [{**{n: r[f] for n, f in zip(names, fields, strict=True)},
              "parcels": r["parcels"], "net_ha": r["net_ha"], "gross_ha": r["gross_ha"]}
             for r in rows]
    if out is TableFormat.CSV:
        return csv_response(keyed, [*names, "parcels", "net_ha", "gross_ha"],
                            f"flaechen_summen_{day.isoformat()}.csv")
    if Grouping.user_group in groups:  # overlapping groups: the total is summed apart
        [total] = supply_sums(conn, selection, (), **kwargs)
    else:
        total = {"parcels": sum(r["parcels"] for r in rows),
                 "net_ha": sum(r["net_ha"] for r in rows),
                 "gross_ha": sum(r["gross_ha"] for r in rows)}
    notes = [GROSS_NOTE] + ([OVERLAP_NOTE] if Grouping.user_group in groups else [])
    return json_response({
        "at": day.isoformat(), "by": names, "filters": selection.active(),
        "groups": keyed,
        "total": {k: total[k] for k in ("parcels", "net_ha", "gross_ha")},
        "notes": notes,
    })
