"""A throwaway hot standby of the test cluster (``tests/test_replica.py``): ``pg_basebackup
-R -X stream`` into a temporary directory with a replication slot of its own, started with
``pg_ctl`` on a free port of 127.0.0.1, logging every statement with its application and
database; removed again, also what a killed run left behind."""

from __future__ import annotations

import os
import pwd
import re
import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from tests.server import free_port

#: Marks the standby's directories and slots; the pid is the test process that owns them.
PREFIX = "gefis-replica"
SLOT_PREFIX = "gefis_test_replica"
HBA_MARK = "# GEFIS-MD: streaming replication (pg_basebackup, standbys), dev only"
#: One entry of the standby's log: time, [pid], application@database.
ENTRY = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ \S+ \[\d+\] (\S*)@(\S*) ", re.M)

def _run(owner: str | None, *args: str | Path, timeout_s: float = 300,
         password: str | None = None) -> str:
    command = [str(a) for a in args]
    if owner is not None:
        command = ["runuser", "-u", owner, "--", *command]
    env = {**os.environ, **({"PGPASSWORD": password} if password else {})}
    done = subprocess.run(command, cwd="/", stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=timeout_s, check=False, env=env)
    assert done.returncode == 0, f"{' '.join(command)}: {done.stdout}{done.stderr}"
    return done.stdout


def _dead(pid: str) -> bool:
    """Whether ``pid`` (from a name this module gave) is no longer a running process."""
    return pid.isdigit() and not Path(f"/proc/{pid}").exists()


def until(condition: Callable[[], Any], what: str, timeout_s: float = 60) -> Any:
    deadline = time.monotonic() + timeout_s
    while not (result := condition()):
        assert time.monotonic() < deadline, f"timed out after {timeout_s} s waiting for {what}"
        time.sleep(0.1)
    return result


@dataclass
class Standby:
    """A hot standby of the test cluster in ``root`` (owned by ``owner`` when we are root)."""

    root: Path
    port: int
    owner: str | None
    bindir: Path

    @property
    def log(self) -> Path:
        return self.root / "replica.log"

    def url(self, database_url: str) -> str:
        """``database_url`` (a database on the primary) on this standby."""
        return make_url(database_url).set(port=self.port).render_as_string(hide_password=False)

    def start(self) -> None:
        _run(self.owner, self.bindir / "pg_ctl", "-D", self.root / "data", "-l", self.log,
             "-w", "-t", "300", "start")

    def stop(self) -> None:
        if (self.root / "data" / "postmaster.pid").exists():
            _run(self.owner, self.bindir / "pg_ctl", "-D", self.root / "data", "-m",
                 "immediate", "-w", "-t", "120", "stop")
            assert not (self.root / "data" / "postmaster.pid").exists()

    def statements(self, marker: str) -> list[tuple[str, str, str]]:
        """(application, database, text) of every logged statement containing ``marker``."""
        log = self.log.read_text(errors="replace")
        starts = list(ENTRY.finditer(log))
        ends = [m.start() for m in starts[1:]] + [len(log)]
        entries = [(m[1], m[2], log[m.end():end]) for m, end in zip(starts, ends, strict=True)]
        return [e for e in entries if "statement:" in e[2] and marker in e[2]]


def _bindir(major: int) -> Path:
    candidates = [os.environ.get("GEFIS_PG_BINDIR", ""), f"/usr/lib/postgresql/{major}/bin",
                  os.path.dirname(shutil.which("pg_ctl") or "")]
    for candidate in filter(None, candidates):
        if all((Path(candidate) / tool).exists() for tool in ("pg_basebackup", "pg_ctl")):
            return Path(candidate)
    raise AssertionError(f"pg_basebackup and pg_ctl of PostgreSQL {major} not found")


def _owner(data_directory: str) -> str | None:
    if os.geteuid() != 0:
        return None
    data = Path(data_directory)
    owner = pwd.getpwuid(data.stat().st_uid).pw_name if data.exists() else "postgres"
    return "postgres" if owner == "root" else owner


def _allow_replication(admin: Engine) -> None:
    """Make sure ``pg_hba.conf`` admits replication connections (older local clusters)."""
    with admin.connect() as conn:
        allowed = conn.execute(text(
            "SELECT count(*) FROM pg_hba_file_rules WHERE 'replication' = ANY(database) "
            "AND type LIKE 'host%' AND error IS NULL")).scalar_one()
        if allowed:
            return
        hba = Path(conn.execute(text("SHOW hba_file")).scalar_one())
        assert os.access(hba, os.W_OK), f"{hba} must allow replication connections"
        with hba.open("a") as file:
            file.write(f"{HBA_MARK}\nlocal   replication  all                 trust\n"
                       "host    replication  all   127.0.0.1/32  trust\n")
        conn.execute(text("SELECT pg_reload_conf()"))
    time.sleep(1)  # the postmaster reads the file on SIGHUP


def _remove_leftovers(admin: Engine, bindir: Path, owner: str | None) -> None:
    """Stop and delete standbys and slots of earlier runs whose process has died."""
    for root in Path(tempfile.gettempdir()).glob(f"{PREFIX}-*-*"):
        if _dead(root.name.split("-")[2]):
            with suppress(AssertionError):  # a server that died with its test process
                Standby(root, 0, owner, bindir).stop()
            shutil.rmtree(root, ignore_errors=True)
    with admin.connect() as conn:
        for (slot,) in conn.execute(text(
                "SELECT slot_name FROM pg_replication_slots WHERE NOT active "
                f"AND slot_name LIKE '{SLOT_PREFIX}_%'")).all():
            if _dead(slot.removeprefix(SLOT_PREFIX + "_").split("_")[0]):
                conn.execute(text("SELECT pg_drop_replication_slot(:s)"), {"s": slot})


def _drop_slot(admin: Engine, slot: str) -> None:
    with admin.connect() as conn:
        until(lambda: not conn.execute(text(
            "SELECT coalesce(bool_or(active), false) FROM pg_replication_slots "
            "WHERE slot_name = :s"), {"s": slot}).scalar_one(), "the slot to be released")
        conn.execute(text("SELECT pg_drop_replication_slot(slot_name) FROM "
                          "pg_replication_slots WHERE slot_name = :s"), {"s": slot})


def replayed(primary: Engine, standby: Engine, timeout_s: float = 60) -> None:
    """Commit on the primary, then wait until the standby has replayed that commit and all
    WAL before it (a synchronous commit flushes all of it: otherwise an idle primary that
    commits asynchronously may keep the end of its WAL unsent for seconds)."""
    commit_on_primary(primary)
    with primary.connect() as conn:
        lsn = conn.execute(text("SELECT pg_current_wal_flush_lsn()::text")).scalar_one()
    with standby.connect() as conn:
        until(lambda: conn.execute(text(
            "SELECT pg_last_wal_replay_lsn() >= CAST(:lsn AS pg_lsn)"), {"lsn": lsn}
        ).scalar_one(), "the standby to replay the primary's WAL", timeout_s)


def commit_on_primary(engine: Engine) -> None:
    """A committed transaction that changes no table (a WAL message), for replay to catch;
    flushed at once (the local cluster commits asynchronously: ``synchronous_commit=off``)."""
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL synchronous_commit = on"))
        conn.execute(text("SELECT pg_logical_emit_message(true, 'gefis-test', 'replica')"))


def resume_replay(standby: Engine) -> None:
    with standby.connect() as conn:
        conn.execute(text("SELECT pg_wal_replay_resume()"))


@contextmanager
def running_standby(database_url: str) -> Iterator[Standby]:
    """A running hot standby of the cluster of ``database_url``, streaming from it; stopped,
    its slot dropped and its directory removed at the end."""
    primary = make_url(database_url)
    admin = create_engine(primary, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as conn:
        facts = conn.execute(text(
            "SELECT current_setting('server_version_num')::int / 10000 AS major, "
            "current_setting('data_directory') AS data, current_setting('wal_level') AS wal, "
            "(SELECT sum(pg_database_size(oid))::bigint FROM pg_database) AS size, "
            "(SELECT rolsuper AND rolreplication FROM pg_roles WHERE rolname = current_user) "
            "AS privileged")).one()
    assert facts.wal != "minimal" and facts.privileged, facts
    bindir, owner = _bindir(facts.major), _owner(facts.data)
    _allow_replication(admin)
    _remove_leftovers(admin, bindir, owner)
    root = Path(tempfile.mkdtemp(prefix=f"{PREFIX}-{os.getpid()}-"))
    free = shutil.disk_usage(root).free
    slot = f"{SLOT_PREFIX}_{os.getpid()}_{secrets.token_hex(3)}"
    node = Standby(root, free_port(), owner, bindir)
    with ExitStack() as cleanup:
        cleanup.callback(shutil.rmtree, root, ignore_errors=True)
        cleanup.callback(_drop_slot, admin, slot)
        cleanup.callback(node.stop)
        assert free > facts.size * 1.1 + 2**30, f"{free} bytes free in {root}, cluster {facts.size}"
        if owner is not None:
            shutil.chown(root, owner)
        started = time.monotonic()
        _run(owner, bindir / "pg_basebackup", "-D", root / "data",
             "-h", primary.host or "127.0.0.1", "-p", str(primary.port or 5432),
             "-U", primary.username or "gefis", "-R", "-X", "stream", "--checkpoint=fast",
             "-C", "-S", slot, "--no-sync", "--no-manifest", timeout_s=3600,
             password=primary.password)
        print(f"pg_basebackup of {facts.size / 2**30:.1f} GiB: {time.monotonic() - started:.0f} s")
        with (root / "data" / "postgresql.auto.conf").open("a") as conf:
            conf.write(f"""
# tests/test_replica.py: a hot standby on a port of its own, logging every statement
port = {node.port}
listen_addresses = '127.0.0.1'
unix_socket_directories = '{root}'
hot_standby = on
logging_collector = off
log_statement = 'all'
log_line_prefix = '%m [%p] %a@%d '
cluster_name = 'gefis-test-replica'
shared_buffers = '32MB'
archive_mode = off
ssl = off
""")
        node.start()
        check = create_engine(node.url(database_url), poolclass=NullPool,
                              isolation_level="AUTOCOMMIT")
        with check.connect() as conn:
            until(lambda: conn.execute(text(
                "SELECT count(*) FROM pg_stat_wal_receiver WHERE status = 'streaming'")
            ).scalar_one(), "the standby to stream from the primary")
        yield node

