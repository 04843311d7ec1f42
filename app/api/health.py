"""``GET /health``: liveness and readiness with database, PostGIS and migration versions.

It answers while the service is saturated: the admission gate lets it through, it checks the
database on a tiny connection pool of its own, in worker threads of its own, and it reports
how loaded the request pool is (``load``). The read replica's state (``replica``) is the
result of its last background check: ``/health`` never waits for a replica that is down.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

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
from app.db.replica import ReplicaRouter
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


class ReplicaStatus(BaseModel):
    """The read replica (``GEFIS_DATABASE_READ_URL``) as its last check found it.

    Reads go to the replica while it is reachable, a standby, and at most ``max_lag_s``
    behind; else to the primary. A replica that is down does not make the service unhealthy.
    """

    configured: bool = Field(description="A read replica is configured")
    reachable: bool | None = Field(
        description="It answered its last check (and no request failed on it since)")
    in_recovery: bool | None = Field(
        description="It is a standby (pg_is_in_recovery()); a promoted server is not read from")
    lag_s: float | None = Field(
        description="Replay lag, seconds: 0 while it has replayed all WAL it received, else "
                    "the age of the last transaction it replayed; null when unknown")
    max_lag_s: float | None = Field(
        description="Largest lag at which reads still go to it (GEFIS_REPLICA_MAX_LAG_S), s")
    reads_on: Literal["replica", "primary"] = Field(
        description="Where read-only requests go now")
    last_checked: datetime | None = Field(description="Time of the last check (UTC)")
    last_error: str | None = Field(
        description="Why reads are not on the replica (null while they are)")


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
    replica: ReplicaStatus


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


def _replica(request: Request) -> ReplicaStatus:
    router: ReplicaRouter | None = getattr(request.app.state, "replica", None)
    if router is None:
        return ReplicaStatus(configured=False, reachable=None, in_recovery=None, lag_s=None,
                             max_lag_s=None, reads_on="primary", last_checked=None,
                             last_error=None)
    state = router.state
    on_replica = state.fit_for_reads(router.max_lag_s)
    return ReplicaStatus(
        configured=True, reachable=state.reachable, in_recovery=state.in_recovery,
        lag_s=None if state.lag_s is None else round(state.lag_s, 3),
        max_lag_s=router.max_lag_s, reads_on="replica" if on_replica else "primary",
        last_checked=state.checked_at, last_error=None if on_replica else state.error)


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
    healthy (it queues), so the status stays 200. ``replica`` tells where reads go and how
    far the read replica is behind; reads fall back to the primary, so a replica that is
    down or lags leaves the status at 200 too.
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
        load=_load(request), replica=_replica(request),
    )
