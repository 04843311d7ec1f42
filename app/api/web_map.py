"""The web map at ``/karte`` (HTTP only): the page, its own scripts and the browser
packages from npm (``/karte/vendor/maplibre-gl/…``, ``/karte/vendor/chart.js/…``).

The page keeps its state (filters, time, selected parcel, map position) in the URL's
fragment (``/karte#district=14713&at=2020-12-31``): a link can be sent on, and no query
parameter reaches the service, whose routes refuse unknown ones.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse
from starlette.middleware.gzip import GZipMiddleware
from starlette.staticfiles import StaticFiles

from app.api.auth import OPTIONAL_API_KEY, PrincipalDep
from app.api.connections import ReadConnDep
from app.api.deps import SettingsDep
from app.api.responses import PROBLEM_RESPONSES, base_url
from app.db.queries.map_page import map_page_facts
from app.domain.clock import today
from app.domain.errors import ServiceUnavailable
from app.services.ogc.documents import region_extent
from app.services.web_map import (
    STATIC_DIR,
    VENDOR_PACKAGES,
    MapPageConfig,
    map_page_html,
    missing_vendor_files,
    slider_quarters,
)
from app.settings import Settings

router = APIRouter(tags=["Karte"])

#: Smaller responses are not compressed (headers would cost more than they save).
GZIP_MIN_BYTES = 1024


@router.get("/karte", summary="Web map (German)", response_class=HTMLResponse,
            responses={200: {"content": {"text/html": {}}}, **PROBLEM_RESPONSES},
            openapi_extra=OPTIONAL_API_KEY)
def get_map_page(request: Request, conn: ReadConnDep, settings: SettingsDep,
                 principal: PrincipalDep) -> HTMLResponse:
    """The web map: parcels by availability, search, parcel card, time slider, matching,
    balance dashboard and editing for staff (who enter their API key in the page; the key
    stays in the browser's session storage). 503 when the map's browser packages are not
    installed (``npm ci`` in ``web/``)."""
    del principal  # the page is the same for everyone; its API requests carry the key
    missing = missing_vendor_files(settings.web_modules_dir)
    if missing:
        raise ServiceUnavailable(
            f"the web map's browser packages are not installed ({', '.join(missing)} missing "
            f"under {settings.web_modules_dir}); run `npm ci` in web/ (make run does it)")
    first_day, synthetic = map_page_facts(conn)
    day = today()
    config = MapPageConfig(base_url=base_url(request), today=day,
                           quarters=slider_quarters(first_day, day), synthetic=synthetic,
                           background_style_url=settings.map_background_style_url,
                           region=tuple(region_extent(conn)))
    return HTMLResponse(map_page_html(config), headers={"Cache-Control": "no-cache"})


class _PackageFiles(StaticFiles):
    """A package's files; a package not installed answers 404 (the page says why)."""

    async def check_config(self) -> None:
        if self.directory is not None and not Path(self.directory).is_dir():
            return
        await super().check_config()


def mount_web_map_files(app: FastAPI, settings: Settings) -> None:
    """Serve the page's own files and the npm packages' distribution files (gzip when the
    browser accepts it; ``ETag``/``Last-Modified`` and 304s by Starlette's StaticFiles)."""
    app.mount("/karte/static", GZipMiddleware(
        StaticFiles(directory=STATIC_DIR), minimum_size=GZIP_MIN_BYTES), name="karte-static")
    for name, folder in VENDOR_PACKAGES.items():
        files = _PackageFiles(directory=settings.web_modules_dir / folder, check_dir=False)
        app.mount(f"/karte/vendor/{name}", GZipMiddleware(files, minimum_size=GZIP_MIN_BYTES),
                  name=f"karte-vendor-{name}")
