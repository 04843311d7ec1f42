"""``GET /health``: liveness and readiness with database, PostGIS and migration versions."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError

from app import __version__
from app.api.deps import EngineDep
from app.db.status import database_status, migration_head
from app.domain.errors import ServiceUnavailable

router = APIRouter(tags=["Betrieb"])


class MigrationStatus(BaseModel):
    """Applied migration revision against the code's head."""

    database: str | None
    head: str
    up_to_date: bool


class Health(BaseModel):
    """Service health."""

    status: str
    service: str
    version: str
    postgres_version: str
    postgis_version: str
    postgis_full_version: str
    migration: MigrationStatus


@router.get(
    "/health",
    response_model=Health,
    summary="Service health",
    responses={503: {"description": "Database unreachable or schema not migrated",
                     "content": {"application/problem+json": {}}}},
)
def health(engine: EngineDep) -> Health:
    """200 when the database answers and its schema is at the migration head, else 503."""
    try:
        with engine.connect() as conn:
            status = database_status(conn)
    except DBAPIError as exc:
        raise ServiceUnavailable(f"database not reachable: {exc.orig}") from exc
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
    )
