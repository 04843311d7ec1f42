"""Engine and transactions.

One engine per process, built from :class:`app.settings.Settings`. Writes go through
:func:`write_transaction`, which runs the whole unit of work in one transaction and tells the
database who is acting (``gefis.actor``) and why (``gefis.reason``), so the history trigger
can record it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

from sqlalchemy import Connection, Engine, create_engine, text

from app.settings import Settings, get_settings

#: Connections of the health check's own pool (``/health`` must answer while the main pool
#: is saturated) and how long it waits for one, in seconds.
HEALTH_POOL_SIZE = 1
HEALTH_POOL_OVERFLOW = 1
HEALTH_POOL_TIMEOUT_S = 2.0


#: A session idle inside a transaction this long (ms) is ended by PostgreSQL: a last line of
#: defence against a connection stuck in a request (none should ever idle that long).
IDLE_IN_TRANSACTION_TIMEOUT_MS = 60_000


def _connect_args(settings: Settings, application_name: str) -> dict[str, str]:
    # jit=off: a page of 1,000 features with a spatial filter has a planner cost far above
    # jit_above_cost, and compiling its expressions took 20-60 ms of a 100-250 ms request
    # (bench/ogc.sh); the service's statements are short and many, JIT never pays off here.
    options = (f"-c statement_timeout={settings.db_statement_timeout_ms} -c timezone=UTC "
               f"-c idle_in_transaction_session_timeout={IDLE_IN_TRANSACTION_TIMEOUT_MS} "
               f"-c max_parallel_workers_per_gather={settings.db_parallel_workers} -c jit=off")
    return {"options": options, "application_name": application_name}


def build_engine(settings: Settings) -> Engine:
    """A pooled engine for ``settings.database_url`` with the service's session options.

    A request waits at most ``db_pool_timeout_s`` for a connection (then 503); the admission
    gate in front of the routers normally keeps it from waiting at all.
    """
    return create_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout_s,
        pool_pre_ping=True,
        connect_args=_connect_args(settings, "gefis-md"),
    )


def build_health_engine(settings: Settings) -> Engine:
    """A tiny engine of its own for ``/health``, apart from the requests' pool."""
    return create_engine(
        settings.database_url,
        pool_size=HEALTH_POOL_SIZE,
        max_overflow=HEALTH_POOL_OVERFLOW,
        pool_timeout=HEALTH_POOL_TIMEOUT_S,
        pool_pre_ping=True,
        connect_args=_connect_args(settings, "gefis-md-health"),
    )


@lru_cache
def get_engine() -> Engine:
    """The process-wide engine for the environment's settings."""
    return build_engine(get_settings())


def set_actor(conn: Connection, actor: str, reason: str | None = None) -> None:
    """Record who is writing (and why) for the rest of the current transaction."""
    conn.execute(
        text(
            "SELECT set_config('gefis.actor', :actor, true), "
            "set_config('gefis.reason', :reason, true)"
        ),
        {"actor": actor, "reason": reason or ""},
    )


@contextmanager
def write_transaction(
    engine: Engine, actor: str, reason: str | None = None
) -> Iterator[Connection]:
    """One all-or-nothing transaction with the actor recorded for the history."""
    with engine.begin() as conn:
        set_actor(conn, actor, reason)
        yield conn
