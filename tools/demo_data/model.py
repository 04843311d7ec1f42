"""Mutable records the demo generator fills step by step (sites and parcels).

Areas are net hectares unless a name says gross; geometries are shapely objects in
ETRS89 / UTM 32N (EPSG:25832), metres.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from shapely.geometry import MultiPolygon, Point, Polygon

from tools.demo_data.plan import NamedProject


@dataclass(slots=True)
class Anchor:
    """Where a site should go: a point (EPSG:25832) and why it was chosen."""

    point: Point
    kind: str  # "junction", "town", "village", "city" (inner-city brownfield) or "named"
    town_ags: str  # municipality the anchor belongs to
    junction_km: float  # distance from the anchor to the nearest motorway junction


@dataclass(slots=True)
class Site:
    """A Standort (estate) of the demo."""

    index: int
    district: str
    category: str
    net_plan: float
    named: NamedProject | None = None
    parcels: list[int] = field(default_factory=list)
    anchor: Anchor | None = None
    external_id: str = ""
    municipality_ags: str = ""
    outline: MultiPolygon | None = None
    flood_ok: bool = False
    attributes: dict[str, object] = field(default_factory=dict)


@dataclass(slots=True)
class Parcel:
    """A Fläche (marketable parcel) of the demo."""

    index: int
    site: int
    district: str
    category: str
    availability: str
    restriction: str
    nominal_ha: float
    user_groups: list[str] = field(default_factory=list)
    net_ha: float = 0.0  # calibrated effective net area
    servicing: str = ""
    net_given_ha: float | None = None  # value written as net_area_ha (None = derived)
    gross_ha: float = 0.0  # area the geometry is built with
    external_id: str = ""
    municipality_ags: str = ""
    geometry: Polygon | None = None
    attributes: dict[str, object] = field(default_factory=dict)

    @property
    def short_term(self) -> bool:
        """True for availability *sofort* or *kurzfristig*."""
        return self.availability in ("sofort", "kurzfristig")
