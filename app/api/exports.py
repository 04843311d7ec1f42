"""``GET /api/v1/exports/{layer}.{format}``: filtered layers as GIS files."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["Export"])
