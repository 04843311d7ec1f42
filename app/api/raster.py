"""Raster products: the available net area per km² cell as a GeoTIFF (issue 16; stub)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["Raster"])
