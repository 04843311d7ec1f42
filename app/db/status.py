"""Database status for ``/health``: server, PostGIS and migration versions."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text

from app.settings import PROJECT_ROOT


@lru_cache
def migration_head() -> str:
    """The newest migration revision shipped with this code."""
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    head = ScriptDirectory.from_config(config).get_current_head()
    if head is None:
        raise RuntimeError("no migrations found")
    return head


@dataclass(frozen=True)
class DatabaseStatus:
    """What the database reports about itself."""

    postgres_version: str
    postgis_version: str
    postgis_full_version: str
    revision: str | None

    @property
    def up_to_date(self) -> bool:
        """Whether the schema is at the code's migration head."""
        return self.revision == migration_head()


def database_status(conn: Connection) -> DatabaseStatus:
    """Ask the database for its versions and applied migration revision."""
    row = conn.execute(text(
        "SELECT current_setting('server_version') AS pg, postgis_lib_version() AS postgis, "
        "postgis_full_version() AS full, to_regclass('alembic_version') IS NOT NULL AS migrated"
    )).one()
    revision = None
    if row.migrated:
        revision = conn.execute(
            text("SELECT version_num FROM alembic_version")
        ).scalar_one_or_none()
    return DatabaseStatus(row.pg, row.postgis, row.full, revision)
