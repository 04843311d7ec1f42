"""``GET /api/v1/me``: who the request acts as (the web map asks after a key is entered)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from app.api.auth import OPTIONAL_API_KEY, PrincipalDep
from app.api.responses import PROBLEM_RESPONSES

router = APIRouter(prefix="/api/v1", tags=["Zugang"])


@router.get("/me", summary="The caller's role and districts", responses=PROBLEM_RESPONSES,
            openapi_extra=OPTIONAL_API_KEY)
async def get_me(principal: PrincipalDep) -> JSONResponse:
    """The role the request acts as (``public`` without a key), the key's name and the
    districts (AGS) an editor may write to; an unknown key is a 401 like everywhere."""
    return JSONResponse({"role": principal.role.value, "name": principal.name,
                         "districts": sorted(principal.districts),
                         "authenticated": principal.is_authenticated})
