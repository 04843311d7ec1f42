"""Load the demo data set from ``geodata/`` into PostGIS, idempotently.

Real boundaries (BKG VG250) and the synthetic, study-calibrated sites, parcels, land sales,
infrastructure and the 2038 demand framework made by ``scripts/make_demo_geodata.py``.
Everything is upserted by its natural key and written only where it differs, so a second
run leaves the same rows and appends no history. The caller owns the transaction.

Sites and parcels are a client of the same write path a file import uses: their outlines go
through the API's polygon intake (:func:`app.services.geometry_input.intake_polygons`, i.e.
``gefis_polygon_intake``, one statement per file), with the API's limits, and a refused
outline stops the load with an error naming its feature index (``features[i].geometry``).

Parcels get their raster statistics (slope, flood share, suggested causes) in the same
write, as a create through the API does.

The files describe the survey state (2020-12-31): parcels are written with the history's
clock at the survey date (:data:`app.services.demo_timeline.SURVEY_TIME`). Then the demo
timeline (``timeline.json``) is replayed through the write services
(:mod:`app.services.demo_timeline`); a parcel it has changed is no longer reset to the file
on a reload.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, text

from app.db.queries.parcels.rows import any_parcel
from app.db.upsert import upsert_changed
from app.domain.geometry_input import GeometryLimits
from app.services.boundaries import load_boundaries
from app.services.demo_timeline import SURVEY_TIME, apply_timeline, history_clock, timeline_parcels
from app.services.geojson_io import feature_srid, geometry_json
from app.services.geometry_input import PolygonIntake, intake_polygons
from app.services.raster import raster_columns_for_ewkts
from app.settings import get_settings

ProgressFn = Callable[[str], None]

BOUNDARY_SOURCE = "BKG VG250, Gebietsstand 01.01.2016"

#: An outline accepted by the polygon intake (EWKT, EPSG:25832, MultiPolygon).
_OUTLINE_25832 = "ST_GeomFromEWKT(:geometry)"


@dataclass
class DemoLoadReport:
    """Rows written per table (inserted or changed; 0 everywhere on an unchanged reload)."""

    written: dict[str, int] = field(default_factory=dict)
    repaired_boundaries: list[str] = field(default_factory=list)


def _read(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


#: All infrastructure features in one statement: its statement trigger recomputes the
#: distances of every parcel, so one statement per feature cost seconds on a reload.
_INFRASTRUCTURE = text("""
    INSERT INTO infrastructure AS t (external_id, kind, name, ref, geom_25832, is_synthetic)
    SELECT f.external_id, f.kind, f.name, f.ref,
           ST_Transform(ST_SetSRID(ST_GeomFromGeoJSON(f.geometry), :srid), 25832), true
      FROM jsonb_to_recordset(CAST(:features AS jsonb))
           AS f(external_id text, kind text, name text, ref text, geometry text)
    ON CONFLICT (external_id) DO UPDATE
       SET kind = EXCLUDED.kind, name = EXCLUDED.name, ref = EXCLUDED.ref,
           geom_25832 = EXCLUDED.geom_25832, is_synthetic = EXCLUDED.is_synthetic
     WHERE (t.kind, t.name, t.ref, t.geom_25832, t.is_synthetic)
           IS DISTINCT FROM (EXCLUDED.kind, EXCLUDED.name, EXCLUDED.ref, EXCLUDED.geom_25832,
                             EXCLUDED.is_synthetic)
""")

_SITE = upsert_changed("sites", ("external_id",), {
    "external_id": ":external_id", "name": ":name", "marketing_name": ":marketing_name",
    "description": ":description", "web_url": ":web_url", "municipality_ags": ":municipality_ags",
    "geom_25832": _OUTLINE_25832, "is_synthetic": "true",
})

_PARCEL_COLUMNS = (
    "name", "category", "availability", "restriction_level", "planning_status", "zoning",
    "servicing", "marketing_status", "owner_type", "owner_name", "rail_siding", "operation_24h",
    "broadband_mbps", "contact_name", "contact_email", "contact_phone", "internal_notes",
)
_PARCEL = upsert_changed("parcels", ("district_ags", "external_id"), {
    "external_id": ":external_id",
    "site_id": "(SELECT id FROM sites WHERE external_id = :site_external_id)",
    "district_ags": ":district_ags",
    "geom_25832": _OUTLINE_25832,
    "net_area_ha_given": ":net_area_ha",
    "available_from": "CAST(:available_from AS date)",
    "restriction_causes": "CAST(:restriction_causes AS text[])",
    "user_groups": "CAST(:user_groups AS text[])",
    "public_fields": "CAST(:public_fields AS text[])",
    "price_eur_m2": ":price_eur_m2",
    "max_building_height_m": ":max_building_height_m",
    "grid_capacity_mw": ":grid_capacity_mw",
    "last_verified_at": "CAST(:last_verified_at AS timestamptz)",
    **{c: f":{c}" for c in _PARCEL_COLUMNS},
    # raster statistics of the outline (as a create through the API computes them)
    "slope_mean_pct": ":slope_mean_pct", "slope_max_pct": ":slope_max_pct",
    "flood_hazard_share": ":flood_hazard_share",
    "suggested_restriction_causes": "CAST(:suggested_restriction_causes AS text[])",
    "is_synthetic": "true",
})

#: All land sales in one statement (a thousand single upserts took half a second).
_SALE_COLUMNS = ("sale_date", "district_ags", "municipality_ags", "area_ha", "price_eur_m2",
                 "buyer_user_group", "buyer_origin", "geom_25832", "is_synthetic")
_SALES = text(f"""
    INSERT INTO land_sales AS t (external_id, {", ".join(_SALE_COLUMNS)})
    SELECT f.external_id, f.sale_date, f.district_ags, f.municipality_ags, f.area_ha,
           f.price_eur_m2, f.buyer_user_group, f.buyer_origin,
           ST_Transform(ST_SetSRID(ST_GeomFromGeoJSON(f.geometry), :srid), 25832), true
      FROM jsonb_to_recordset(CAST(:features AS jsonb)) AS f(
           external_id text, sale_date date, district_ags text, municipality_ags text,
           area_ha double precision, price_eur_m2 numeric, buyer_user_group text,
           buyer_origin text, geometry text)
    ON CONFLICT (external_id) DO UPDATE
       SET {", ".join(f"{c} = EXCLUDED.{c}" for c in _SALE_COLUMNS)}
     WHERE ({", ".join(f"t.{c}" for c in _SALE_COLUMNS)})
           IS DISTINCT FROM ({", ".join(f"EXCLUDED.{c}" for c in _SALE_COLUMNS)})
""")


def _features(path: Path) -> tuple[int, list[dict[str, Any]]]:
    collection = _read(path)
    return feature_srid(collection), collection["features"]


def _outlines(conn: Connection, path: Path, limits: GeometryLimits | None
              ) -> list[tuple[dict[str, Any], PolygonIntake]]:
    """The features of a file of outlines, each with its polygon after the intake."""
    srid, features = _features(path)
    polygons = intake_polygons(
        conn, [f.get("geometry") for f in features], srid, repair=False,
        limits=limits or GeometryLimits.from_settings(get_settings()), source=path.name)
    return list(zip(features, polygons, strict=True))


def _outline_params(feature: dict[str, Any], polygon: PolygonIntake) -> dict[str, Any]:
    return {**feature["properties"], "geometry": polygon.ewkt}


def load_infrastructure(conn: Connection, path: Path) -> int:
    """Upsert motorway lines, junctions, the airport and freight terminals."""
    srid, features = _features(path)
    rows = [{name: f["properties"].get(name) for name in ("external_id", "kind", "name", "ref")}
            | {"geometry": geometry_json(f)} for f in features]
    return conn.execute(_INFRASTRUCTURE, {"features": json.dumps(rows), "srid": srid}).rowcount


def load_sites(conn: Connection, path: Path, limits: GeometryLimits | None = None) -> int:
    """Upsert sites and replace their partner shares where they differ.

    Every outline goes through the polygon intake first (``limits``: the API's by default).
    """
    written = 0
    for feature, polygon in _outlines(conn, path, limits):
        params = _outline_params(feature, polygon)
        written += conn.execute(_SITE, params).rowcount
        wanted = {p["municipality_ags"]: float(p["share_pct"]) for p in params["partners"]}
        site_id = conn.execute(
            text("SELECT id FROM sites WHERE external_id = :e"), {"e": params["external_id"]}
        ).scalar_one()
        current = {
            r.municipality_ags: float(r.share_pct)
            for r in conn.execute(
                text("SELECT municipality_ags, share_pct FROM site_partners WHERE site_id = :s"),
                {"s": site_id},
            )
        }
        if current != wanted:
            conn.execute(text("DELETE FROM site_partners WHERE site_id = :s"), {"s": site_id})
            conn.execute(
                text("INSERT INTO site_partners (site_id, municipality_ags, share_pct) "
                     "VALUES (:s, :m, :p)"),
                [{"s": site_id, "m": m, "p": p} for m, p in wanted.items()],
            )
            written += 1
    return written


def load_parcels(conn: Connection, path: Path, limits: GeometryLimits | None = None) -> int:
    """Upsert parcels by (district, external id); derived values come from the database.

    Every outline goes through the polygon intake first (``limits``: the API's by default);
    the district is where the intake located it (the trigger derives the same). Parcels the
    demo timeline has changed since are left as they are. The history stamps the writes
    with the survey date.
    """
    changed = timeline_parcels(conn)
    outlines = [(feature, polygon) for feature, polygon in _outlines(conn, path, limits)
                if feature["properties"]["external_id"] not in changed]
    rasters = raster_columns_for_ewkts([polygon.ewkt for _, polygon in outlines])
    with history_clock(conn, SURVEY_TIME):
        return sum(conn.execute(_PARCEL, {**_outline_params(feature, polygon), **raster,
                                          "district_ags": polygon.district_ags}).rowcount
                   for (feature, polygon), raster in zip(outlines, rasters, strict=True))


def load_land_sales(conn: Connection, path: Path) -> int:
    """Upsert land sales by external id (one statement; rows written only where they differ)."""
    srid, features = _features(path)
    names = ("external_id", "sale_date", "district_ags", "municipality_ags", "area_ha",
             "price_eur_m2", "buyer_user_group", "buyer_origin")
    rows = [{name: f["properties"].get(name) for name in names} | {"geometry": geometry_json(f)}
            for f in features]
    return conn.execute(_SALES, {"features": json.dumps(rows), "srid": srid}).rowcount


def load_framework(conn: Connection, path: Path) -> int:
    """Store a demand framework with its scenarios, components and values, once.

    A stored framework is immutable (migration 0011): when its name and version exist it is
    left alone (a file that differs from it is an error: store it as a new version), and
    which framework is the default stays the administrators' choice. A new one becomes the
    default only when there is none.
    """
    fw = _read(path)
    stored = conn.execute(text(
        "SELECT base_date::text = :base_date AND period_first_year = :period_first_year "
        "AND period_last_year = :period_last_year "
        "AND net_to_gross_factor = CAST(:net_to_gross_factor AS numeric) AS same "
        "FROM demand_frameworks WHERE name = :name AND version = :version"), fw).one_or_none()
    if stored is not None:
        if not stored.same:
            raise ValueError(f"{path.name} differs from the stored framework {fw['name']!r} "
                             f"version {fw['version']}: store it as a new version")
        return 0
    fid = conn.execute(text(
        "INSERT INTO demand_frameworks (name, version, base_date, period_first_year, "
        "period_last_year, net_to_gross_factor, method, description, source, assumptions, "
        "is_default) VALUES (:name, :version, CAST(:base_date AS date), :period_first_year, "
        ":period_last_year, :net_to_gross_factor, 'vorgabe', :description, :source, "
        ":assumptions, NOT EXISTS (SELECT 1 FROM demand_frameworks WHERE is_default)) "
        "RETURNING id"), fw).scalar_one()
    written = 1
    scenario = upsert_changed("demand_scenarios", ("framework_id", "key"), {
        "framework_id": ":fid", "key": ":key", "label": ":label", "sort_order": ":sort_order"})
    for i, s in enumerate(fw["scenarios"]):
        written += conn.execute(scenario, {**s, "fid": fid, "sort_order": i}).rowcount
    component = upsert_changed("demand_components", ("framework_id", "key"), {
        "framework_id": ":fid", "key": ":key", "label": ":label", "located": ":located",
        "method": ":method", "sort_order": ":sort_order"})
    value_key = ("framework_id", "component_key", "scenario_key", "district_ags")
    value = upsert_changed(
        "demand_component_values", value_key,
        {"framework_id": ":fid", "component_key": ":component", "scenario_key": ":scenario",
         "district_ags": ":district", "net_ha": ":net_ha"})
    for i, c in enumerate(fw["components"]):
        params = {"method": None, **c, "fid": fid, "sort_order": i}
        written += conn.execute(component, params).rowcount
        for scenario_key, values in c["values"].items():
            rows = values.get("by_district") if c["located"] else {None: values["total"]}
            for district, net_ha in rows.items():
                written += conn.execute(value, {
                    "fid": fid, "component": c["key"], "scenario": scenario_key,
                    "district": district, "net_ha": net_ha,
                }).rowcount
    return written


#: The tables :func:`load_demo` writes to (their statistics are refreshed after a load).
LOADED_TABLES = ("districts", "municipalities", "infrastructure", "sites", "site_partners",
                 "parcels", "parcel_history", "land_sales", "enquiries", "demand_frameworks",
                 "demand_scenarios", "demand_components", "demand_component_values")


def load_demo(conn: Connection, geodata_dir: Path, progress: ProgressFn = print) -> DemoLoadReport:
    """Load boundaries and the synthetic demo data set; idempotent."""
    report = DemoLoadReport()
    boundaries = geodata_dir / "boundaries"
    demo = geodata_dir / "demo"
    progress("Verwaltungsgrenzen (BKG VG250) …")
    b = load_boundaries(
        conn, boundaries / "districts_vg250.geojson", boundaries / "municipalities_vg250.geojson",
        boundaries / "districts_attributes.csv", BOUNDARY_SOURCE,
    )
    report.written["districts"] = b.districts_written
    report.written["municipalities"] = b.municipalities_written
    report.repaired_boundaries = b.repaired
    steps: list[tuple[str, str, Callable[[Connection, Path], int], Path]] = [
        ("infrastructure", "Infrastruktur (schematisch, synthetisch)", load_infrastructure,
         demo / "infrastructure.geojson"),
        ("sites", "Standorte (synthetisch)", load_sites, demo / "sites.geojson"),
        ("parcels", "Flächen (synthetisch)", load_parcels, demo / "parcels.geojson"),
        ("land_sales", "Grundstücksverkäufe (synthetisch)", load_land_sales,
         demo / "land_sales.geojson"),
        ("demand_frameworks", "Orientierungsrahmen 2038", load_framework,
         demo / "demand_framework_2038.json"),
    ]
    for key, label, loader, path in steps:
        progress(f"{label} …")
        report.written[key] = loader(conn, path)
    progress("Zeitreihe seit der Erhebung (synthetisch) …")
    report.written["timeline"], report.written["enquiries"] = apply_timeline(
        conn, demo / "timeline.json")
    if any(report.written.values()):
        # Planner statistics for the freshly loaded tables: without them every estimate is
        # one row, and the first searches run as nested loops over whole tables.
        conn.execute(text(f"ANALYZE {', '.join(LOADED_TABLES)}"))
    return report


def database_is_empty(conn: Connection) -> bool:
    """True when no parcel and no district is stored yet."""
    districts = conn.execute(text("SELECT EXISTS (SELECT 1 FROM districts)")).scalar_one()
    return not (districts or any_parcel(conn))
