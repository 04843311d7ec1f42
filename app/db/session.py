"""Engines and transactions.

One engine per process for the primary, built from :class:`app.settings.Settings` (and one
for the optional read replica, see :mod:`app.db.replica`). Writes go through
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


#: Connecting to the read replica may take this long (seconds) before reads fall back to the
#: primary; the TCP keepalives notice a replica host that vanished mid-request within about
#: idle + interval × count seconds instead of the system's default of two hours.
REPLICA_CONNECT_TIMEOUT_S = 2
REPLICA_KEEPALIVES = {"keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5,
                      "keepalives_count": 3}
#: Statement limit of the replica's state check (ms): one catalog query.
REPLICA_CHECK_STATEMENT_TIMEOUT_MS = 2_000


def _connect_args(settings: Settings, application_name: str,
                  statement_timeout_ms: int | None = None) -> dict[str, str | int]:
    # jit=off: a page of 1,000 features with a spatial filter has a planner cost far above
    # jit_above_cost, and compiling its expressions took 20-60 ms of a 100-250 ms request
    # (bench/ogc.sh); the service's statements are short and many, JIT never pays off here.
    timeout_ms = (settings.db_statement_timeout_ms if statement_timeout_ms is None
                  else statement_timeout_ms)
    options = (f"-c statement_timeout={timeout_ms} -c timezone=UTC "
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


def _read_url(settings: Settings) -> str:
    if not settings.database_read_url:
        raise ValueError("no read replica configured (GEFIS_DATABASE_READ_URL)")
    return settings.database_read_url


def build_replica_engine(settings: Settings) -> Engine:
    """The pooled engine of the read replica (``database_read_url``), sized like the
    primary's and with the same session options (``application_name`` ``gefis-md-read``),
    a connect timeout of :data:`REPLICA_CONNECT_TIMEOUT_S` seconds and TCP keepalives.

    Each service process holds up to pool size + overflow connections on the replica as
    well as on the primary (see :class:`app.db.replica.ReplicaRouter`).
    """
    return create_engine(
        _read_url(settings),
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout_s,
        pool_pre_ping=True,
        connect_args={**_connect_args(settings, "gefis-md-read"),
                      "connect_timeout": REPLICA_CONNECT_TIMEOUT_S, **REPLICA_KEEPALIVES},
    )


def build_replica_check_engine(settings: Settings) -> Engine:
    """A one-connection engine for the replica's state check (``gefis-md-read-check``):
    apart from the requests' pool, short connect and statement timeouts."""
    return create_engine(
        _read_url(settings),
        pool_size=1,
        max_overflow=0,
        pool_timeout=HEALTH_POOL_TIMEOUT_S,
        pool_pre_ping=True,
        connect_args={**_connect_args(settings, "gefis-md-read-check",
                                      REPLICA_CHECK_STATEMENT_TIMEOUT_MS),
                      "connect_timeout": REPLICA_CONNECT_TIMEOUT_S, **REPLICA_KEEPALIVES},
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
