"""OGC API – Tiles: vector tiles (Mapbox Vector Tiles) of the published collections."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["Kacheln"])
