"""The read connection of a request, taken only after the caller is known.

Authentication borrows a pooled connection of its own and returns it before this one is
taken; the other order would hold two connections per request and let a burst of
authenticated requests exhaust the pool while each waits for its second connection.

Reads go to the read replica (``GEFIS_DATABASE_READ_URL``) while it is reachable and
close enough behind the primary, else to the primary (``app/db/replica.py``). Only
read-only requests use these dependencies: a handler that must see its own writes (the
write endpoints, their ``If-Match`` checks and re-reads) and the API-key lookup use the
primary engine (``EngineDep``, ``write_transaction``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends
from sqlalchemy import Connection

from app.api.auth import PrincipalDep
from app.api.deps import EngineDep, ReplicaDep
from app.db.replica import Reads, read_connection


def get_read_connection(engine: EngineDep, replica: ReplicaDep,
                        principal: PrincipalDep) -> Iterator[Connection]:
    """A connection in a read-only transaction (replica or primary), closed after the
    response."""
    del principal  # resolved first on purpose (see the module docstring)
    with read_connection(engine, replica) as conn:
        yield conn


async def get_reads(engine: EngineDep, replica: ReplicaDep) -> Reads:
    """Where reads go, for handlers that hold a read connection for part of their work
    only (``with reads.connect() as conn``); opens nothing by itself."""
    return Reads(engine, replica)


ReadConnDep = Annotated[Connection, Depends(get_read_connection)]
ReadsDep = Annotated[Reads, Depends(get_reads)]
