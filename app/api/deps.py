"""Typed dependencies shared by the routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine

from app.db.replica import ReplicaRouter
from app.settings import Settings


async def get_settings_dep(request: Request) -> Settings:
    """The settings the app was built with."""
    settings: Settings = request.app.state.settings
    return settings


async def get_engine_dep(request: Request) -> Engine:
    """The app's database engine: the primary (writes, and reads of one's own writes)."""
    engine: Engine = request.app.state.engine
    return engine


async def get_replica_dep(request: Request) -> ReplicaRouter | None:
    """The read replica's router; ``None`` without ``GEFIS_DATABASE_READ_URL``.

    Routers do not use it directly: reads take ``ReadConnDep`` or ``ReadsDep``
    (``app/api/connections.py``), which fall back to the primary.
    """
    replica: ReplicaRouter | None = getattr(request.app.state, "replica", None)
    return replica


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
EngineDep = Annotated[Engine, Depends(get_engine_dep)]
ReplicaDep = Annotated[ReplicaRouter | None, Depends(get_replica_dep)]
