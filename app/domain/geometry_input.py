"""GeoJSON geometries a client may send (coordinates in the CRS the request names)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class PolygonGeometry(BaseModel):
    """A GeoJSON Polygon or MultiPolygon (coordinates in the CRS named by ``crs``)."""

    model_config = ConfigDict(extra="allow")

    type: Literal["Polygon", "MultiPolygon"] = Field(
        description="Only areas: Polygon or MultiPolygon")
    coordinates: list[Any] = Field(min_length=1)


class PointGeometry(BaseModel):
    """A GeoJSON Point (x, y in the CRS named by ``crs``; lon, lat by default)."""

    model_config = ConfigDict(extra="allow")

    type: Literal["Point"] = Field(description="Only Point")
    coordinates: list[float] = Field(min_length=2, max_length=3)
