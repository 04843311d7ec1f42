"""Reads from a streaming replica (a hot standby), with the primary as the fallback.

With ``GEFIS_DATABASE_READ_URL`` set, the read-only requests (search, features, tiles,
layers, exports, reports) take their connection from a :class:`ReplicaRouter`; writes, the
reads a write makes of its own rows (``If-Match``, re-reads after the write) and the API-key
lookup stay on the primary engine. The router sends a read to the replica only while the
replica is fit for it, judged by its last check:

- it answered (a connection and one query, ``connect_timeout`` of a few seconds);
- it is a standby (``pg_is_in_recovery()``): a promoted former replica is not read from, the
  service keeps to the primary it was configured with;
- its replay lag is at most ``replica_max_lag_s`` (see :func:`replay_lag_s`).

Otherwise reads go to the primary, in the same request: a replica that is down or far
behind slows nothing down and breaks no request. The check runs in one background thread
every ``replica_check_interval_s`` (requests only read its last result, a reference swap);
a request whose replica connection fails marks the replica down at once (until the next
check finds it up again) and is served by the primary.

What is not retried: a query that fails on the replica *after* it started (the replica
stops mid-query, or PostgreSQL cancels it because of a recovery conflict: WAL replay needs
to remove rows the query still sees, ``max_standby_streaming_delay``) ends in the usual 503
problem with ``Retry-After``; the handler has already run, and repeating it on the primary
inside the dependency cannot be done cleanly. A lost connection marks the replica down, so
the client's retry goes to the primary. Recovery conflicts are rare with the service's
short statements (``statement_timeout`` 30 s against the default
``max_standby_streaming_delay`` of 30 s); ``hot_standby_feedback = on`` on the replica
avoids them at the price of some bloat on the primary.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from app.db.session import build_replica_check_engine, build_replica_engine
from app.settings import Settings

log = logging.getLogger(__name__)

#: Every read connection runs in a read-only transaction, on the replica and the primary.
READ_ONLY = "SET TRANSACTION READ ONLY"

#: Longest wait for the checker thread when the service stops, seconds (a check takes at
#: most the replica's connect timeout plus its statement timeout).
_STOP_WAIT_S = 10.0

#: The replica's state in one round trip. ``pg_stat_wal_receiver`` has a row while a WAL
#: receiver runs (its ``pid`` is visible to every role); the LSNs and the replay time are
#: NULL on a primary.
_STATE_SQL = text(
    "SELECT pg_is_in_recovery() AS in_recovery, "
    "EXISTS (SELECT 1 FROM pg_stat_wal_receiver) AS receiving, "
    "pg_last_wal_receive_lsn() IS NOT NULL "
    "AND pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() AS caught_up, "
    "extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8 AS since_replay_s")


def replay_lag_s(*, receiving: bool, caught_up: bool,
                 since_replay_s: float | None) -> float | None:
    """How far the replica's data are behind the primary's, in seconds (``None``: unknown).

    0 while it streams from the primary and has replayed all WAL it received. Else the age
    of the last transaction it replayed (``now() - pg_last_xact_replay_timestamp()``):
    exact while WAL waits to be replayed; while the WAL receiver is gone it grows with the
    time since the primary's last commit that arrived, which may overstate the lag of an
    idle primary (reads then go to the primary: the safe side). A negative age (the two
    servers' clocks disagree) counts as 0. Unknown when nothing was replayed since the
    replica started and it is not known to be caught up.

    >>> replay_lag_s(receiving=True, caught_up=True, since_replay_s=900.0)
    0.0
    >>> replay_lag_s(receiving=True, caught_up=False, since_replay_s=12.5)
    12.5
    >>> replay_lag_s(receiving=False, caught_up=True, since_replay_s=40.0)
    40.0
    >>> replay_lag_s(receiving=True, caught_up=False, since_replay_s=-0.2)
    0.0
    >>> replay_lag_s(receiving=False, caught_up=False, since_replay_s=None) is None
    True
    """
    if receiving and caught_up:
        return 0.0
    if since_replay_s is None:
        return None
    return max(0.0, float(since_replay_s))


def _first_line(exc: BaseException) -> str:
    """The gist of a driver error (its first line, at most 200 characters)."""
    message = str(getattr(exc, "orig", None) or exc).strip()
    return (message.splitlines() or [type(exc).__name__])[0][:200]


@dataclass(frozen=True)
class ReplicaState:
    """What the last check (or a failed request) found out about the replica.

    ``lag_s`` in seconds; ``checked_at`` in UTC; ``error`` says why reads are not on the
    replica (``None`` while they may be).
    """

    reachable: bool = False
    in_recovery: bool | None = None
    lag_s: float | None = None
    checked_at: datetime | None = None
    error: str | None = "not checked yet"

    def fit_for_reads(self, max_lag_s: float) -> bool:
        """Reachable, a standby, and at most ``max_lag_s`` seconds behind."""
        return (self.reachable and self.in_recovery is True and self.lag_s is not None
                and self.lag_s <= max_lag_s)


class ReplicaRouter:
    """Decides per request whether reads go to the replica, and hands out its connections.

    Thread-safe: request threads read :attr:`state` (an immutable snapshot, replaced
    whole); one check runs at a time (:meth:`check` returns the last state to a second,
    concurrent caller instead of waiting).
    """

    def __init__(self, engine: Engine, check_engine: Engine, *, max_lag_s: float,
                 check_interval_s: float) -> None:
        self.engine = engine
        self.max_lag_s = max_lag_s
        self.check_interval_s = check_interval_s
        self._check_engine = check_engine
        self._state = ReplicaState()
        self._checking = threading.Lock()
        self._down_at = float("-inf")  # time.monotonic() of the last mark_down
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> ReplicaRouter | None:
        """The router for ``settings.database_read_url``; ``None`` when none is set."""
        if not settings.database_read_url:
            return None
        return cls(build_replica_engine(settings), build_replica_check_engine(settings),
                   max_lag_s=settings.replica_max_lag_s,
                   check_interval_s=settings.replica_check_interval_s)

    @property
    def state(self) -> ReplicaState:
        """The last known state."""
        return self._state

    @property
    def reads_on_replica(self) -> bool:
        """Whether a read that starts now goes to the replica."""
        return self._state.fit_for_reads(self.max_lag_s)

    # --- checking ------------------------------------------------------------------------

    def check(self) -> ReplicaState:
        """Ask the replica now; its new state (or the last one while another check runs)."""
        if not self._checking.acquire(blocking=False):
            return self._state
        try:
            started = time.monotonic()
            state = self._probe()
            # A request that failed on the replica during this check knows better than a
            # probe that answered before the failure.
            if not state.reachable or self._down_at < started:
                self._publish(state)
            return self._state
        finally:
            self._checking.release()

    def _probe(self) -> ReplicaState:
        now = datetime.now(UTC)
        try:
            with self._check_engine.connect() as conn:
                row = conn.execute(_STATE_SQL).one()
        except SQLAlchemyError as exc:
            return ReplicaState(reachable=False, checked_at=now, error=_first_line(exc))
        if not row.in_recovery:
            return ReplicaState(reachable=True, in_recovery=False, checked_at=now,
                                error="not a standby: pg_is_in_recovery() is false")
        lag = replay_lag_s(receiving=row.receiving, caught_up=row.caught_up,
                           since_replay_s=row.since_replay_s)
        error = None
        if lag is None:
            error = "replay lag unknown: not streaming from the primary, nothing replayed"
        elif lag > self.max_lag_s:
            error = f"replay lag {lag:.1f} s above the maximum of {self.max_lag_s:g} s"
        return ReplicaState(reachable=True, in_recovery=True, lag_s=lag, checked_at=now,
                            error=error)

    def _publish(self, state: ReplicaState) -> None:
        before = self.reads_on_replica
        self._state = state
        after = self.reads_on_replica
        if before and not after:
            log.warning("reads go to the primary: replica %s", state.error)
        elif after and not before:
            log.info("reads go to the replica again (replay lag %.1f s)", state.lag_s or 0.0)

    def mark_down(self, exc: BaseException) -> None:
        """The replica failed a request: reads go to the primary until a check finds it up."""
        self._down_at = time.monotonic()
        self._publish(ReplicaState(reachable=False, checked_at=datetime.now(UTC),
                                   error=_first_line(exc)))

    def start(self) -> None:
        """Check once now, then every ``check_interval_s`` in a background thread."""
        self.check()
        self._thread = threading.Thread(target=self._run, name="gefis-replica-check",
                                        daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.check_interval_s):
            try:
                self.check()
            except Exception:  # the checker thread must outlive any surprise
                log.exception("checking the replica failed")

    def close(self) -> None:
        """Stop checking and close the replica's connections."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=_STOP_WAIT_S)
        self.engine.dispose()
        self._check_engine.dispose()

    # --- connections ---------------------------------------------------------------------

    def connect(self) -> Connection | None:
        """A read-only connection to the replica, or ``None`` when reads go to the primary.

        A replica that cannot be reached now (refused, timed out, a pooled connection found
        dead) is marked down and ``None`` returned: the caller reads from the primary.
        """
        if not self.reads_on_replica:
            return None
        try:
            # the pool's pre-ping has just proved the connection alive (or failed here)
            conn = self.engine.connect()
        except DBAPIError as exc:
            self.mark_down(exc)
            return None
        return conn.execution_options(postgresql_readonly=True)


@contextmanager
def read_connection(primary: Engine, replica: ReplicaRouter | None) -> Iterator[Connection]:
    """A connection in a read-only transaction, closed at the end of the block: on the
    replica while it is fit for reads (see :class:`ReplicaRouter`), else on ``primary``.

    A connection to the replica that is lost inside the block marks it down (the error
    still reaches the caller: the statement did not run).
    """
    if replica is not None and (on_replica := replica.connect()) is not None:
        with on_replica:
            try:
                yield on_replica
            except DBAPIError as exc:
                if exc.connection_invalidated:
                    replica.mark_down(exc)
                raise
        return
    with primary.connect() as conn:
        if conn.in_transaction():  # a connection lent inside a transaction (the tests')
            conn.exec_driver_sql(READ_ONLY)
        else:
            # psycopg2 then opens the transaction with BEGIN READ ONLY: no round trip of its
            # own (SET TRANSACTION READ ONLY cost a sixth of a small tile's service time);
            # SQLAlchemy resets it when the connection goes back to the pool
            conn.execution_options(postgresql_readonly=True)
        yield conn


@dataclass(frozen=True)
class Reads:
    """Where a request's reads go: the primary engine and, if configured, the replica.

    For handlers that need a read connection for part of their work only (a report that
    prints a PDF after its queries): ``with reads.connect() as conn: ...``.
    """

    primary: Engine
    replica: ReplicaRouter | None

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """See :func:`read_connection`."""
        with read_connection(self.primary, self.replica) as conn:
            yield conn
