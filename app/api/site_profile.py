"""The site profile (Standortprofil, exposé): ``GET /api/v1/sites/{site_id}/profile``.

HTML (default) or PDF, in German, chosen by ``f`` or by ``Accept``. The public sees the
public edition (published fields only, marketed parcels only); analysts and above see every
field they may see, and can ask for the public edition to hand it out. The page is
assembled by :mod:`app.services.reports.site_profile`; the database connection is returned
before the map is drawn and the PDF printed.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from app.api.auth import OPTIONAL_API_KEY, PrincipalDep, require_internal_reader
from app.api.connections import ReadsDep
from app.api.deps import SettingsDep
from app.api.negotiation import HTML_MEDIA_TYPE, PDF_MEDIA_TYPE, chosen_format
from app.api.responses import document_responses
from app.api.sites import SiteId
from app.domain.clock import today
from app.domain.errors import NotFound
from app.domain.roles import PUBLIC_VIEWER
from app.services.reports.site_profile import (
    load_site_profile,
    site_profile_html,
    site_profile_pdf,
)

router = APIRouter(prefix="/api/v1", tags=["Standorte"])



class ProfileFormat(StrEnum):
    """Representations of a site profile."""

    HTML = "html"
    PDF = "pdf"


_MEDIA_TYPES = {ProfileFormat.HTML: HTML_MEDIA_TYPE, ProfileFormat.PDF: PDF_MEDIA_TYPE}


def profile_format(
    request: Request,
    format_: Annotated[ProfileFormat | None, Query(
        alias="f", description="html or pdf (else negotiated from Accept; default html)")] = None,
) -> ProfileFormat:
    """``f`` first, then the ``Accept`` header (406 when it accepts neither)."""
    return chosen_format(request, format_, _MEDIA_TYPES, ProfileFormat.HTML)


@router.get(
    "/sites/{site_id}/profile",
    openapi_extra=OPTIONAL_API_KEY,
    summary="Site profile (exposé) as HTML or PDF",
    response_class=Response,
    responses=document_responses("The site profile, in German", _MEDIA_TYPES.values()),
)
def get_site_profile(
    site_id: SiteId,
    reads: ReadsDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    out: Annotated[ProfileFormat, Depends(profile_format)],
    all_parcels: Annotated[bool, Query(
        description="Also sold and withdrawn parcels (analysts and above; no effect on the "
                    "public edition)")] = False,
    public_edition: Annotated[bool, Query(
        description="The public edition, as a caller without a key sees it (for staff "
                    "handing the exposé out)")] = False,
) -> Response:
    """A site's exposé: a map of its parcels coloured by availability with the district
    for orientation, key facts per parcel, contacts and the date of the last verification.

    Marketed parcels (``verfuegbar``, ``reserviert``) only, unless ``all_parcels``. The
    public sees published fields only (a field an editor did not release is left out);
    withdrawn sites are 404 for the public, as ``GET /sites/{site_id}``. The PDF is A4,
    printed by headless Chromium. Areas in hectares, distances in km (straight line).
    """
    if all_parcels:
        require_internal_reader(principal)
    viewer = PUBLIC_VIEWER if public_edition else principal.viewer
    with reads.connect() as conn:
        profile = load_site_profile(
            conn, site_id, viewer=viewer, day=today(),
            include_withdrawn=viewer.internal, all_parcels=all_parcels and viewer.internal)
    if profile is None:
        raise NotFound(f"site {site_id} does not exist or is withdrawn")
    headers = {"Vary": "Accept, Authorization"}
    if out is ProfileFormat.PDF:
        pdf = site_profile_pdf(profile, chromium_path=settings.chromium_path)
        headers["Content-Disposition"] = f'inline; filename="standortprofil_{site_id}.pdf"'
        return Response(content=pdf, media_type=PDF_MEDIA_TYPE, headers=headers)
    return Response(content=site_profile_html(profile), media_type=HTML_MEDIA_TYPE,
                    headers=headers)
