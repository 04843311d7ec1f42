"""Investor matching: ``POST /api/v1/matches`` ranks parcels for an investor's enquiry.

Open to every caller (the public sees the parcels as published); saving the request as an
enquiry (``save_enquiry``) needs an editor or admin key. The work is in
:mod:`app.services.matching`; scoring rules are documented in :mod:`app.domain.matching`.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from app.api.auth import OPTIONAL_API_KEY, PrincipalDep
from app.api.connections import ReadsDep
from app.api.deps import EngineDep
from app.api.responses import PROBLEM_RESPONSES
from app.db.session import write_transaction
from app.domain.clock import today
from app.domain.matching import Criterion, MatchRequest
from app.services.matching import MatchOutcome, ensure_may_save, find_matches

router = APIRouter(prefix="/api/v1", tags=["Investorensuche"])


class CriterionOut(BaseModel):
    """One criterion of the request; weight 0 marks a hard condition (always met here)."""

    key: str
    met: bool
    weight: int
    reason: str = Field(description="German sentence with the parcel's and the request's values")


class MatchOut(BaseModel):
    """A single parcel offered, with its score (0–100) and criteria."""

    parcel_id: int
    score: float
    criteria: list[CriterionOut]
    parcel: dict[str, Any] = Field(description="The parcel's attributes as the caller may see them")


class CombinationOut(BaseModel):
    """Adjacent parcels of one site that together meet the area need (net ha summed)."""

    parcel_ids: list[int]
    site_id: int
    net_area_ha: float
    score: float
    criteria: list[CriterionOut] = Field(
        description="Area of the combination; other criteria for its least favourable part")
    parcels: list[dict[str, Any]]


class MatchResponse(BaseModel):
    """Ranked single parcels; combinations only when no single parcel is large enough."""

    request: MatchRequest
    reference_date: date
    results: list[MatchOut]
    combinations: list[CombinationOut]
    enquiry_id: int | None = Field(description="Id of the saved enquiry, if one was saved")


def _criteria(items: tuple[Criterion, ...]) -> list[CriterionOut]:
    return [CriterionOut(key=c.key, met=c.met, weight=c.weight, reason=c.reason) for c in items]


def _response(outcome: MatchOutcome) -> MatchResponse:
    return MatchResponse(
        request=outcome.request,
        reference_date=outcome.reference_date,
        results=[MatchOut(parcel_id=r.parcel_id, score=r.score, criteria=_criteria(r.criteria),
                          parcel=r.parcel) for r in outcome.results],
        combinations=[
            CombinationOut(parcel_ids=list(c.parcel_ids), site_id=c.site_id,
                           net_area_ha=c.net_area_ha, score=c.score,
                           criteria=_criteria(c.criteria), parcels=list(c.parcels))
            for c in outcome.combinations
        ],
        enquiry_id=outcome.enquiry_id,
    )


@router.post(
    "/matches",
    openapi_extra=OPTIONAL_API_KEY,
    response_model=MatchResponse,
    summary="Find parcels for an investor's enquiry",
    responses={
        **{status: PROBLEM_RESPONSES[status] for status in (400, 401, 403, 422)},
        413: {"description": "Body too large", "content": {"application/problem+json": {}}},
    },
)
def match_parcels(body: MatchRequest, engine: EngineDep, reads: ReadsDep,
                  principal: PrincipalDep) -> MatchResponse:
    """Available parcels suitable for the user group within the restriction tolerance, ranked
    by a score (0–100) over area, timing, motorway distance, rail siding, 24-hour operation
    and preferred districts, each criterion with a German reason.

    If no single parcel reaches the minimum net area, adjacent parcels of one site that
    together reach it are offered as combinations. ``save_enquiry`` stores the request as an
    enquiry (outcome ``kein_angebot`` when nothing was offered): 401 without a key, 403 for
    roles that may not write.
    """
    reference = today()
    if body.save_enquiry:
        ensure_may_save(principal)
        with write_transaction(engine, principal.actor, "Ansiedlungsanfrage erfasst") as conn:
            return _response(find_matches(conn, body, principal, reference))
    with reads.connect() as conn:
        return _response(find_matches(conn, body, principal, reference))
