"""What a client may send to create or change a site (Standort) and its partner municipalities.

The database re-checks everything (URL format, municipality, partner shares summing to 100 %
at commit); validating here as well reports every problem at once with the API's names.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import ConfigDict, Field, field_validator

from app.domain.geometry_input import PolygonGeometry
from app.domain.input_types import MunicipalityAgs, WriteModel, not_nullable


class PartnerInput(WriteModel):
    """A municipality's share (percent, two decimals) in an inter-municipal site."""

    municipality_ags: MunicipalityAgs = Field(description="Municipality AGS (8 digits)")
    share_pct: Decimal = Field(gt=0, le=100, max_digits=5, decimal_places=2,
                               description="Share in percent; all shares sum to 100")


def check_partners(partners: list[PartnerInput] | None) -> list[PartnerInput] | None:
    """Partners name distinct municipalities and their ``share_pct`` sum to exactly 100."""
    if not partners:
        return partners
    names = [p.municipality_ags for p in partners]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"municipality {', '.join(repeated)} is named more than once")
    total = sum((p.share_pct for p in partners), Decimal(0))
    if total != 100:
        raise ValueError(f"share_pct of the partners sums to {total} %, not 100 %")
    return partners


class SiteFields(WriteModel):
    """Attributes shared by create and update (all optional here)."""

    model_config = ConfigDict(json_schema_extra=not_nullable("name"))

    external_id: str | None = Field(None, max_length=100)
    name: str | None = Field(None, min_length=1, max_length=200)
    marketing_name: str | None = Field(None, max_length=200)
    description: str | None = Field(None, max_length=5000)
    web_url: str | None = Field(None, max_length=500, pattern=r"^https?://\S+$")
    municipality_ags: MunicipalityAgs | None = Field(
        None, description="Municipality AGS (8 digits); derived from the geometry when omitted")
    geometry: PolygonGeometry | None = Field(
        None, description="Outline of the site (Polygon or MultiPolygon, CRS from `crs`)")
    partners: list[PartnerInput] | None = Field(
        None, description="Partner municipalities of an inter-municipal site; replaced as a "
                          "whole when sent, shares sum to 100")

    @field_validator("name")
    @classmethod
    def _name(cls, v: str | None) -> str | None:
        if v is None or not v.strip():
            raise ValueError("name must not be empty")
        return v

    @field_validator("partners")
    @classmethod
    def _partners(cls, v: list[PartnerInput] | None) -> list[PartnerInput] | None:
        return check_partners(v)


class SiteCreate(SiteFields):
    """A new site: a name, and a municipality or an outline to derive it from."""

    name: str = Field(min_length=1, max_length=200)


class SitePatch(SiteFields):
    """Changes to a site (merge patch: only the fields sent change; null clears).

    ``name`` and ``municipality_ags`` cannot be cleared; clearing ``geometry`` keeps the
    municipality. A new geometry without ``municipality_ags`` moves the site to the
    municipality the geometry lies in.
    """

    model_config = ConfigDict(json_schema_extra=not_nullable("name", "municipality_ags"))

    @field_validator("municipality_ags")
    @classmethod
    def _municipality(cls, v: str | None) -> str | None:
        if v is None:
            raise ValueError("municipality_ags cannot be removed")
        return v
