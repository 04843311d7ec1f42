"""The demo data set: geometric rules, labels, an idempotent loader, readable by GDAL."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import Connection, text

from app.db.session import set_actor
from app.services.demo_loader import load_demo
from app.settings import Settings

VECTOR_FILES = ("sites", "parcels", "land_sales", "infrastructure")
COUNTED_TABLES = ("districts", "municipalities", "infrastructure", "sites", "site_partners",
                  "parcels", "parcel_history", "land_sales", "demand_frameworks",
                  "demand_scenarios", "demand_components", "demand_component_values")


def _counts(conn: Connection) -> dict[str, int]:
    return {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in COUNTED_TABLES}


def test_loading_twice_changes_nothing(conn: Connection, settings: Settings) -> None:
    before = _counts(conn)
    set_actor(conn, "test-reload")
    report = load_demo(conn, settings.geodata_dir, progress=lambda _: None)
    assert report.written == dict.fromkeys(report.written, 0)
    assert _counts(conn) == before


def test_real_boundaries_are_loaded(conn: Connection) -> None:
    per_district = dict(conn.execute(text(
        "SELECT district_ags, count(*) FROM municipalities GROUP BY 1")).tuples().all())
    assert per_district == {"14713": 1, "14729": 32, "14730": 30, "15002": 1, "15082": 10,
                            "15084": 33, "15087": 22, "15088": 20, "16077": 38}
    # each district is the union of its municipalities (same delivery): areas agree to 0.01 %
    mismatch = conn.execute(text(
        "SELECT count(*) FROM districts d JOIN (SELECT district_ags, sum(area_km2) a FROM municipalities "
        "GROUP BY 1) m ON m.district_ags = d.ags WHERE abs(m.a - d.area_km2) > d.area_km2 * 1e-4")).scalar()
    assert mismatch == 0


def test_parcels_lie_inside_their_district_and_do_not_overlap(conn: Connection) -> None:
    outside = conn.execute(text(
        "SELECT count(*) FROM parcels p JOIN districts d ON d.ags = p.district_ags "
        "WHERE p.is_synthetic AND NOT ST_CoveredBy(p.geom_25832, d.geom_25832)")).scalar()
    assert outside == 0
    overlapping = conn.execute(text(
        "SELECT count(*) FROM parcels a JOIN parcels b ON a.id < b.id "
        "AND ST_Intersects(a.geom_25832, b.geom_25832) "
        "WHERE a.is_synthetic AND b.is_synthetic "
        "AND ST_Area(ST_Intersection(a.geom_25832, b.geom_25832)) > 0.01")).scalar()
    assert overlapping == 0


def test_gross_is_never_below_net(conn: Connection) -> None:
    assert conn.execute(text(
        "SELECT count(*) FROM parcels WHERE net_area_ha > gross_area_ha + 1e-9")).scalar() == 0


def test_parcels_lie_within_their_site_outline(conn: Connection) -> None:
    assert conn.execute(text(
        "SELECT count(*) FROM parcels p JOIN sites s ON s.id = p.site_id "
        "WHERE p.is_synthetic AND NOT ST_CoveredBy(p.geom_25832, s.geom_25832)")).scalar() == 0


@pytest.mark.parametrize(("name_part", "district"), [
    ("Star Park II", None), ("A 9 bei Weißenfels", "15084"),
    ("Sangerhausen", "15087"), ("Amsdorf", "15087"),
])
def test_named_projects_exist(conn: Connection, name_part: str, district: str | None) -> None:
    rows = conn.execute(text("SELECT district_ags FROM sites WHERE name LIKE :n"),
                        {"n": f"%{name_part}%"}).scalars().all()
    assert rows, name_part
    if district:
        assert district in rows


def test_inter_municipal_sites_have_partner_shares(conn: Connection) -> None:
    sums = conn.execute(text(
        "SELECT s.name, sum(p.share_pct) FROM sites s JOIN site_partners p ON p.site_id = s.id "
        "GROUP BY s.id, s.name")).all()
    assert any("Star Park II" in name for name, _ in sums)
    assert all(float(total) == 100.0 for _, total in sums)


def test_every_demo_row_is_labelled_synthetic(conn: Connection) -> None:
    for table in ("sites", "parcels", "land_sales", "infrastructure"):
        unlabelled = conn.execute(text(
            f"SELECT count(*) FROM {table} WHERE external_id LIKE 'DEMO-%' AND NOT is_synthetic")).scalar()
        assert unlabelled == 0, table


@pytest.mark.parametrize("name", VECTOR_FILES)
def test_every_demo_file_says_synthetic(settings: Settings, name: str) -> None:
    data = json.loads((settings.geodata_dir / "demo" / f"{name}.geojson").read_text("utf-8"))
    assert data["synthetic"] is True
    assert "SYNTHETISCH" in data["description"].upper()
    assert all(f["properties"]["synthetic"] is True for f in data["features"])


@pytest.mark.parametrize(("name", "table"), [("parcels", "parcels"), ("sites", "sites"),
                                             ("land_sales", "land_sales")])
def test_gdal_reads_demo_layers_in_25832(conn: Connection, settings: Settings, name: str,
                                         table: str) -> None:
    path = settings.geodata_dir / "demo" / f"{name}.geojson"
    out = subprocess.run(["ogrinfo", "-ro", "-so", "-al", str(path)], capture_output=True,
                         text=True, check=True).stdout
    count = int(next(line for line in out.splitlines() if line.startswith("Feature Count:")).split(":")[1])
    ids = [f["id"] for f in json.loads(path.read_text("utf-8"))["features"]]
    # the timeline adds rows of its own (new sites and parcels, sales of parcels)
    in_db = conn.execute(text(f"SELECT count(*) FROM {table} WHERE is_synthetic AND external_id = ANY(:ids)"),
                         {"ids": ids}).scalar()
    assert count == in_db == len(ids)
    assert 'ID["EPSG",25832]' in out


@pytest.mark.parametrize("name", ["slope_pct", "flood_hazard"])
def test_gdal_reads_rasters_over_the_region(conn: Connection, settings: Settings, name: str) -> None:
    path: Path = settings.geodata_dir / "demo" / "rasters" / f"{name}.tif"
    # GDAL_PAM_ENABLED=NO: computing statistics must not write .aux.xml files into the repo.
    info = json.loads(subprocess.run(
        ["gdalinfo", "-json", "-stats", "--config", "GDAL_PAM_ENABLED", "NO", str(path)],
        capture_output=True, text=True, check=True).stdout)
    assert info["coordinateSystem"]["wkt"].rstrip().endswith('ID["EPSG",25832]]')
    pixel_x, pixel_y = info["geoTransform"][1], info["geoTransform"][5]
    assert (pixel_x, pixel_y) == (100.0, -100.0)
    xmin, ymax = info["cornerCoordinates"]["upperLeft"]
    xmax, ymin = info["cornerCoordinates"]["lowerRight"]
    region = conn.execute(text(
        "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
        "(SELECT ST_Extent(geom_25832) e FROM districts) x")).one()
    assert xmin <= region[0] and ymin <= region[1] and xmax >= region[2] and ymax >= region[3]
    metadata = json.dumps(info.get("metadata", {}))
    assert "SYNTHETIC" in metadata.upper()
    band = info["bands"][0]
    if name == "flood_hazard":
        assert band["minimum"] == 0 and band["maximum"] == 1
    else:
        assert 0 <= band["minimum"] < band["maximum"] < 100
