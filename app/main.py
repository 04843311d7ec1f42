"""The ASGI application: ``create_app(settings)`` builds it; ``app`` serves the environment's."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import anyio.to_thread
from fastapi import Depends, FastAPI

from app import __version__
from app.api import (
    balance,
    boundary_imports,
    exports,
    health,
    imports,
    layers,
    me,
    parcel_edits,
    parcel_history,
    parcels,
    raster,
    reports,
    site_profile,
    summary,
    tiles,
    vocabularies,
    web_map,
)
from app.api.admission import Admission, AdmissionGate
from app.api.districts import router as districts_router
from app.api.enquiries import router as enquiries_router
from app.api.frameworks import router as frameworks_router
from app.api.land_sales import router as land_sales_router
from app.api.limits import BodySizeLimit
from app.api.matches import router as matches_router
from app.api.ogc import collections as ogc_collections
from app.api.ogc import items as ogc_items
from app.api.ogc import landing as ogc_landing
from app.api.problems import register_problem_handlers
from app.api.query_check import UNKNOWN_PARAMETER_RESPONSES, QueryParameterCheck
from app.api.sites import router as sites_router
from app.api.web_map import mount_web_map_files
from app.db.replica import ReplicaRouter
from app.db.session import build_engine, build_health_engine
from app.settings import Settings, get_settings

DESCRIPTION = """
Gewerbeflächen-Informations- und Monitoringsystem für das Mitteldeutsche Revier (IRMD).

Verwaltungsgrenzen: © GeoBasis-DE / BKG 2017 (Daten verändert); Verwaltungsgrenzen VG250,
Gebietsstand 01.01.2016. Standorte, Flächen, Verkäufe und Autobahnen der Demo sind
**synthetisch** (kalibriert auf die Potenzialstudie IRMD 2020/21).
"""

#: Worker threads kept free beyond the admission limit (health checks, docs).
THREAD_HEADROOM = 8


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the service for ``settings`` (default: read from the environment)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.engine = build_engine(settings)
        app.state.health_engine = build_health_engine(settings)
        # The read replica (None without GEFIS_DATABASE_READ_URL): checked once before the
        # first request (at most its connect timeout), then in a thread of its own.
        replica = app.state.replica = ReplicaRouter.from_settings(settings)
        if replica is not None:
            await anyio.to_thread.run_sync(replica.start)
        _size_thread_pool(settings)
        try:
            yield
        finally:
            if replica is not None:
                await anyio.to_thread.run_sync(replica.close)
            app.state.engine.dispose()
            app.state.health_engine.dispose()

    app = FastAPI(
        title="GEFIS-MD",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        # First dependency of every API route: unknown query parameters are a 400 problem,
        # before authentication and before any database connection (app/api/query_check.py).
        dependencies=[Depends(QueryParameterCheck())],
        responses=UNKNOWN_PARAMETER_RESPONSES,
    )
    app.state.settings = settings
    app.state.admission = Admission(
        limit=settings.admission_limit, wait_s=settings.queue_wait_s,
        max_queued=settings.max_queued)
    register_problem_handlers(app)
    # The last added is the outermost: bodies are read (and sized) before a request queues.
    app.add_middleware(AdmissionGate, admission=app.state.admission)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes,
                       uploads=(("/api/v1/imports", settings.import_max_bytes),
                                ("/api/v1/boundaries/imports", settings.import_max_bytes)))
    app.include_router(health.router)
    app.include_router(vocabularies.router)
    app.include_router(me.router)
    app.include_router(summary.router)  # before /parcels/{parcel_id}
    app.include_router(balance.router)
    app.include_router(parcels.router)
    app.include_router(parcel_edits.router)
    app.include_router(parcel_history.router)
    app.include_router(districts_router)
    app.include_router(site_profile.router)  # before /sites/{site_id}
    app.include_router(sites_router)
    app.include_router(reports.router)
    app.include_router(land_sales_router)
    app.include_router(enquiries_router)
    app.include_router(matches_router)
    app.include_router(frameworks_router)
    app.include_router(tiles.router)  # /collections/{id}/tiles/… before the OGC templates
    app.include_router(exports.router)
    app.include_router(imports.router)
    app.include_router(boundary_imports.router)
    app.include_router(raster.router)
    app.include_router(ogc_landing.router)
    app.include_router(ogc_collections.router)
    app.include_router(ogc_items.router)  # /collections/parcels/items before the template
    app.include_router(layers.router)
    app.include_router(web_map.router)
    mount_web_map_files(app, settings)
    return app


def _size_thread_pool(settings: Settings) -> None:
    """Give the worker-thread pool room for every admitted request plus the exempt ones.

    Synchronous handlers run in AnyIO's default thread pool (40 threads); an admitted
    request occupies at most one thread at a time, so this keeps ``/health`` and the docs
    from ever waiting for a thread behind admitted work.
    """
    limiter = anyio.to_thread.current_default_thread_limiter()
    limiter.total_tokens = max(limiter.total_tokens, settings.admission_limit + THREAD_HEADROOM)


app = create_app()
