"""``GET /health``: liveness and readiness with database, PostGIS and migration versions.

It answers while the service is saturated: the admission gate lets it through, it checks the
database on a tiny connection pool of its own, in worker threads of its own, and it reports
how loaded the request pool is (``load``).
"""

from __future__ import annotations

from typing import Annotated

import anyio
import anyio.to_thread
from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.pool import QueuePool

from app import __version__
from app.api.admission import Admission
from app.db.status import DatabaseStatus, database_status, migration_head
from app.domain.errors import ServiceUnavailable

router = APIRouter(tags=["Betrieb"])

#: Health checks that may query the database at the same time; more wait for a thread.
_HEALTH_THREADS = anyio.CapacityLimiter(2)


class MigrationStatus(BaseModel):
    """Applied migration revision against the code's head."""

    database: str | None
    head: str
    up_to_date: bool


class Load(BaseModel):
    """How busy this service process is (admission gate and request connection pool)."""

    saturated: bool = Field(
        description="All request slots are taken: new requests queue (503 once the queue "
        "is full or a request has waited `queue_wait_s`)")
    in_flight: int = Field(description="Requests being served now")
    max_in_flight: int = Field(description="Requests served at once (GEFIS_MAX_IN_FLIGHT)")
    waiting: int = Field(description="Requests queued for a slot")
    max_queued: int = Field(description="Longest queue (GEFIS_MAX_QUEUED)")
    queue_wait_s: float = Field(description="Longest wait in the queue, seconds")
    refused_total: int = Field(description="Requests refused with 503 since start")
    pool_size: int = Field(description="Connections kept open (GEFIS_DB_POOL_SIZE)")
    pool_max_overflow: int = Field(description="Extra connections (GEFIS_DB_MAX_OVERFLOW)")
    pool_checked_out: int = Field(description="Connections in use by requests now")


class Health(BaseModel):
    """Service health."""

    status: str
    service: str
    version: str
    postgres_version: str
    postgis_version: str
    postgis_full_version: str
    migration: MigrationStatus
    load: Load


def _admission(request: Request) -> Admission:
    admission: Admission = request.app.state.admission
    return admission


def _load(request: Request) -> Load:
    gate = _admission(request).stats()
    pool = request.app.state.engine.pool
    checked_out = pool.checkedout() if isinstance(pool, QueuePool) else 0
    settings = request.app.state.settings
    return Load(
        saturated=gate.saturated, in_flight=gate.in_flight, max_in_flight=gate.limit,
        waiting=gate.waiting, max_queued=gate.max_queued, queue_wait_s=gate.wait_s,
        refused_total=gate.refused_total, pool_size=settings.db_pool_size,
        pool_max_overflow=settings.db_max_overflow, pool_checked_out=checked_out)


def _check(engine: Engine) -> DatabaseStatus:
    with engine.connect() as conn:
        return database_status(conn)


def get_health_engine(request: Request) -> Engine:
    """The health check's own engine (see :func:`app.db.session.build_health_engine`)."""
    engine: Engine = request.app.state.health_engine
    return engine


@router.get(
    "/health",
    response_model=Health,
    summary="Service health",
    responses={503: {"description": "Database unreachable or schema not migrated",
                     "content": {"application/problem+json": {}}}},
)
async def health(request: Request,
                 engine: Annotated[Engine, Depends(get_health_engine)]) -> Health:
    """200 when the database answers and its schema is at the migration head, else 503.

    ``load`` tells whether the request pool is saturated; a saturated service is still
    healthy (it queues), so the status stays 200.
    """
    try:
        status = await anyio.to_thread.run_sync(_check, engine, limiter=_HEALTH_THREADS)
    except (DBAPIError, PoolTimeout) as exc:
        raise ServiceUnavailable(
            f"database not reachable: {getattr(exc, 'orig', None) or exc}") from exc
    if not status.up_to_date:
        raise ServiceUnavailable(
            f"database schema at revision {status.revision}, code expects {migration_head()}: "
            "run `python -m app.cli migrate`"
        )
    return Health(
        status="ok", service="gefis-md", version=__version__,
        postgres_version=status.postgres_version, postgis_version=status.postgis_version,
        postgis_full_version=status.postgis_full_version,
        migration=MigrationStatus(database=status.revision, head=migration_head(), up_to_date=True),
        load=_load(request),
    )
