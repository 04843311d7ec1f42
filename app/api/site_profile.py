"""(being built: issue 13)"""

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1")
