"""The read connection of a request, taken only after the caller is known.

Authentication borrows a pooled connection of its own and returns it before this one is
taken; the other order would hold two connections per request and let a burst of
authenticated requests exhaust the pool while each waits for its second connection.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends
from sqlalchemy import Connection

from app.api.auth import PrincipalDep
from app.api.deps import EngineDep


def get_read_connection(engine: EngineDep, principal: PrincipalDep) -> Iterator[Connection]:
    """A connection in a read-only transaction, closed after the response."""
    del principal  # resolved first on purpose (see the module docstring)
    with engine.connect() as conn:
        conn.exec_driver_sql("SET TRANSACTION READ ONLY")
        yield conn


ReadConnDep = Annotated[Connection, Depends(get_read_connection)]

