"""GeoJSON features (property order as in the loader contract) for all demo layers."""

from __future__ import annotations

from collections.abc import Sequence

from tools.demo_data.infrastructure import Infrastructure
from tools.demo_data.model import Parcel, Site
from tools.demo_data.sales import Sale
from tools.demo_data.targets import AGS_BY_KEY
from tools.demo_data.writer import feature


def site_features(sites: Sequence[Site]) -> list[dict[str, object]]:
    """Features of ``sites.geojson``."""
    out = []
    for s in sites:
        assert s.outline is not None
        a = s.attributes
        props = {
            "external_id": s.external_id, "name": a["name"], "marketing_name": a["marketing_name"],
            "description": a["description"], "web_url": a["web_url"],
            "municipality_ags": s.municipality_ags, "district_ags": AGS_BY_KEY[s.district],
            "partners": a["partners"], "synthetic": True,
        }
        out.append(feature(s.external_id, props, s.outline))
    return out


def parcel_features(sites: Sequence[Site], parcels: Sequence[Parcel]) -> list[dict[str, object]]:
    """Features of ``parcels.geojson``."""
    out = []
    for p in parcels:
        assert p.geometry is not None
        a = p.attributes
        props = {
            "external_id": p.external_id, "site_external_id": sites[p.site].external_id,
            "name": a["name"], "district_ags": AGS_BY_KEY[p.district],
            "municipality_ags": p.municipality_ags, "category": p.category,
            "availability": p.availability, "available_from": a["available_from"],
            "restriction_level": p.restriction, "restriction_causes": a["restriction_causes"],
            "user_groups": list(p.user_groups), "planning_status": a["planning_status"],
            "zoning": a["zoning"], "servicing": p.servicing, "marketing_status": "verfuegbar",
            "net_area_ha": p.net_given_ha, "price_eur_m2": a["price_eur_m2"],
            "owner_type": a["owner_type"], "owner_name": a["owner_name"],
            "rail_siding": a["rail_siding"], "operation_24h": a["operation_24h"],
            "max_building_height_m": a["max_building_height_m"],
            "broadband_mbps": a["broadband_mbps"], "grid_capacity_mw": a["grid_capacity_mw"],
            "contact_name": a["contact_name"], "contact_email": a["contact_email"],
            "contact_phone": a["contact_phone"], "public_fields": a["public_fields"],
            "internal_notes": a["internal_notes"], "last_verified_at": a["last_verified_at"],
            "synthetic": True,
        }
        out.append(feature(p.external_id, props, p.geometry))
    return out


def sale_features(sales: Sequence[Sale]) -> list[dict[str, object]]:
    """Features of ``land_sales.geojson``."""
    return [feature(s.external_id, {
        "external_id": s.external_id, "sale_date": s.sale_date.isoformat(),
        "district_ags": AGS_BY_KEY[s.district], "municipality_ags": s.municipality_ags,
        "area_ha": s.area_ha, "price_eur_m2": s.price_eur_m2,
        "buyer_user_group": s.buyer_user_group, "buyer_origin": s.buyer_origin,
        "synthetic": True,
    }, s.point) for s in sales]


def infrastructure_features(infra: Infrastructure) -> list[dict[str, object]]:
    """Features of ``infrastructure.geojson``."""
    out = []
    for i, f in enumerate(infra.features(), start=1):
        ext = f"DEMO-I-{i:03d}"
        out.append(feature(ext, {"external_id": ext, "kind": f.kind, "name": f.name,
                                 "ref": f.ref, "synthetic": True}, f.geometry))
    return out
