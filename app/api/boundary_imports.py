"""Boundary imports (issue 16; stub)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["Import"])
