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


def build_engine(settings: Settings) -> Engine:
    """A pooled engine for ``settings.database_url`` with the service's session options."""
    options = f"-c statement_timeout={settings.db_statement_timeout_ms} -c timezone=UTC"
    return create_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_pre_ping=True,
        connect_args={"options": options, "application_name": "gefis-md"},
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
