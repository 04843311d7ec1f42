"""Zonal statistics per parcel: hand-made rasters with hand-computed answers, the staging-table
fill, the ``raster-stats`` command and the API's create/update.

The hand-made rasters (4 × 4 pixels, written with rasterio) hold, row 0 at the top::

    slope (percent)            flood hazard (0/1)
     1   2   3   4              0   0   0   0
     5   6   7   8              0   0   1   1
     9  10  11  12              0   0   1   1
    13  14  15   ·              0   0   1   ·        · = nodata

The parcel "B" spans columns 1.5 to 3.5 and rows 1.5 to 3.5 counted from the top-left in
pixels, i.e. in pixel units x ∈ [1.5, 3.5], y ∈ [0.5, 2.5] from the bottom-left corner. It
covers, per pixel (rows 1–3, columns 1–3)::

    0.25  0.5  0.25
    0.5   1    0.5
    0.25  0.5  0.25      (the last one on nodata: left out)

so (by hand):

- mean slope = (0.25·6 + 0.5·7 + 0.25·8 + 0.5·10 + 1·11 + 0.5·12 + 0.25·14 + 0.5·15)
  / (4 − 0.25) = (1.5 + 3.5 + 2 + 5 + 11 + 6 + 3.5 + 7.5) / 3.75 = 40 / 3.75 = 10.666… → 10.67
  (nodata read as 0 would give 40 / 4 = 10; as −9999 a negative mean);
- max slope over touched pixels = 15 (the nodata pixel does not count);
- flood share = (0.5·1 + 0.25·1 + 1·1 + 0.5·1 + 0.5·1) / 3.75 = 2.75 / 3.75 = 0.7333…
  → 0.7333.

The same rasters are written in EPSG:25832, EPSG:3035 and EPSG:4326 (lon/lat, degrees):
the parcel is always given in EPSG:25832, so the last two only come out right when the
shape is reprojected to the raster's CRS (with x = longitude for lon/lat).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
import shapely
from pyproj import Transformer
from rasterio.transform import from_origin
from shapely.geometry import MultiPolygon, box
from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError

from app import cli_raster
from app.cli import build_parser
from app.domain.raster_rules import DEFAULT_RULES, RasterStats
from app.services.raster import (
    RasterSources,
    RasterUnavailable,
    fill_raster_columns,
    raster_columns,
    zonal_stats,
)
from app.settings import Settings
from tests.resource_client import Client
from tests.shapes import insert_site

NODATA_SLOPE, NODATA_FLOOD = -9999.0, 255
SLOPE = np.array([[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12], [13, 14, 15, NODATA_SLOPE]],
                 dtype="float32")
FLOOD = np.array([[0, 0, 0, 0], [0, 0, 1, 1], [0, 0, 1, 1], [0, 0, 1, NODATA_FLOOD]],
                 dtype="uint8")
#: Parcel B in pixel units from the raster's bottom-left corner: x 1.5..3.5, y 0.5..2.5.
PARCEL_B = (1.5, 0.5, 3.5, 2.5)
EXPECTED_B = RasterStats(slope_mean_pct=10.67, slope_max_pct=15.0, flood_hazard_share=0.7333)

#: Per CRS: bottom-left corner of the rasters and pixel size (in the CRS's units, x first).
GRIDS: dict[int, tuple[float, float, float]] = {
    25832: (700_000.0, 5_700_000.0, 10.0),
    3035: (4_520_000.0, 3_134_000.0, 10.0),
    4326: (12.3, 51.3, 0.0001),
}


def _write(path: Path, values: np.ndarray, srid: int, nodata: float) -> Path:
    x0, y0, size = GRIDS[srid]
    with rasterio.open(path, "w", driver="GTiff", width=4, height=4, count=1,
                       dtype=values.dtype, crs=f"EPSG:{srid}", nodata=nodata,
                       transform=from_origin(x0, y0 + 4 * size, size, size)) as dataset:
        dataset.write(values, 1)
    return path


def _sources(tmp_path: Path, srid: int, flood: np.ndarray = FLOOD) -> RasterSources:
    return RasterSources(_write(tmp_path / f"slope_{srid}.tif", SLOPE, srid, NODATA_SLOPE),
                         _write(tmp_path / f"flood_{srid}.tif", flood, srid, NODATA_FLOOD))


def _wkb_25832(srid: int, pixels: tuple[float, float, float, float]) -> bytes:
    """A rectangle given in pixel units of the grid in ``srid``, as WKB in EPSG:25832."""
    x0, y0, size = GRIDS[srid]
    shape = MultiPolygon([box(*(x0 + pixels[0] * size, y0 + pixels[1] * size,
                                x0 + pixels[2] * size, y0 + pixels[3] * size))])
    if srid != 25832:
        to_25832 = Transformer.from_crs(srid, 25832, always_xy=True)
        shape = shapely.transform(shape, lambda xy: np.column_stack(
            to_25832.transform(xy[:, 0], xy[:, 1])))
    return shapely.to_wkb(shape)


@pytest.mark.parametrize("srid", GRIDS)
def test_hand_made_raster_gives_the_hand_computed_statistics(tmp_path: Path, srid: int) -> None:
    [stats] = zonal_stats([_wkb_25832(srid, PARCEL_B)], _sources(tmp_path, srid))
    assert stats == EXPECTED_B
    assert raster_columns(stats, ())["suggested_restriction_causes"] == []
    assert raster_columns(stats, DEFAULT_RULES)["suggested_restriction_causes"] == [
        "hochwasser", "sonstige"]  # share 0.7333 > 0.10, mean slope 10.67 % > 5 %


def test_a_whole_pixel_and_partial_pixels_are_weighted_by_coverage(tmp_path: Path) -> None:
    sources = _sources(tmp_path, 25832)
    # exactly pixel (row 1, col 1): slope 6, no flood
    whole = _wkb_25832(25832, (1, 2, 2, 3))
    # x 0.5..1.5, y 3..4 (row 0): half of pixel 1 and half of pixel 2 → mean 1.5, max 2
    halves = _wkb_25832(25832, (0.5, 3, 1.5, 4))
    # x 1.9..2.9 on row 2 (y 1..2): 0.1 of slope 10 and 0.9 of 11 → 10.9; flood 0.9
    tenths = _wkb_25832(25832, (1.9, 1, 2.9, 2))
    assert zonal_stats([whole, halves, tenths], sources) == [
        RasterStats(6.0, 6.0, 0.0), RasterStats(1.5, 2.0, 0.0), RasterStats(10.9, 11.0, 0.9)]


def test_outside_the_raster_or_on_nodata_only_or_unconfigured_gives_none(tmp_path: Path) -> None:
    sources = _sources(tmp_path, 25832)
    far_away = _wkb_25832(25832, (100, 100, 101, 101))
    on_nodata = _wkb_25832(25832, (3.2, 0.2, 3.8, 0.8))  # inside the nodata pixel only
    assert zonal_stats([far_away, on_nodata], sources) == [RasterStats(), RasterStats()]
    assert zonal_stats([_wkb_25832(25832, PARCEL_B)], RasterSources()) == [RasterStats()]
    only_slope = RasterSources(slope=sources.slope)
    assert zonal_stats([_wkb_25832(25832, PARCEL_B)], only_slope) == [
        RasterStats(10.67, 15.0, None)]


def test_unusable_rasters_are_refused_saying_why(tmp_path: Path) -> None:
    bad_flood = _sources(tmp_path, 25832, flood=np.where(FLOOD == 1, 2, FLOOD).astype("uint8"))
    with pytest.raises(RasterUnavailable, match=r"Werte 0\.\.2 unter einer Fläche"):
        zonal_stats([_wkb_25832(25832, PARCEL_B)], bad_flood)
    missing = RasterSources(slope=tmp_path / "fehlt.tif")
    with pytest.raises(RasterUnavailable, match=r"Hangneigungsraster .* nicht lesbar"):
        zonal_stats([_wkb_25832(25832, PARCEL_B)], missing)


STAGING = """
CREATE TEMP TABLE raster_staging (
    row_no integer PRIMARY KEY, geom_25832 geometry(MultiPolygon, 25832),
    slope_mean_pct double precision, slope_max_pct double precision,
    flood_hazard_share double precision, suggested_restriction_causes text[]
) ON COMMIT DROP
"""


def _staged(conn: Connection) -> dict[int, tuple[Any, ...]]:
    rows = conn.execute(text(
        "SELECT row_no, slope_mean_pct, slope_max_pct, flood_hazard_share, "
        "suggested_restriction_causes FROM raster_staging ORDER BY row_no"))
    return {r[0]: tuple(r[1:]) for r in rows}


def test_fill_writes_a_staging_table_in_chunks_and_a_rerun_writes_nothing(
        conn: Connection, tmp_path: Path) -> None:
    sources = _sources(tmp_path, 25832)
    conn.execute(text(STAGING))
    shapes = {1: PARCEL_B, 2: (100, 100, 101, 101), 3: (1, 2, 2, 3)}
    for row_no, pixels in shapes.items():
        conn.execute(text("INSERT INTO raster_staging (row_no, geom_25832) "
                          "VALUES (:n, ST_GeomFromWKB(:wkb, 25832))"),
                     {"n": row_no, "wkb": _wkb_25832(25832, pixels)})
    conn.execute(text("INSERT INTO raster_staging (row_no) VALUES (4)"))  # no geometry (yet)
    done: list[int] = []
    written = fill_raster_columns(conn, "raster_staging", "row_no", sources=sources,
                                  chunk_rows=3, progress=done.append)
    assert written == 4 and done == [3, 1]  # two chunks: keyset paging over row_no
    assert _staged(conn) == {
        1: (10.67, 15.0, 0.7333, ["hochwasser", "sonstige"]),
        2: (None, None, None, []),
        3: (6.0, 6.0, 0.0, ["sonstige"]),
        4: (None, None, None, []),
    }
    assert fill_raster_columns(conn, "raster_staging", "row_no", sources=sources) == 0
    conn.execute(text("UPDATE raster_staging SET geom_25832 = ST_GeomFromWKB(:wkb, 25832) "
                      "WHERE row_no IN (2, 3)"), {"wkb": _wkb_25832(25832, (0, 3, 1, 4))})
    assert fill_raster_columns(conn, "raster_staging", "row_no", ids=[2],
                               sources=sources) == 1
    assert _staged(conn)[2] == (1.0, 1.0, 0.0, [])
    assert _staged(conn)[3] == (6.0, 6.0, 0.0, ["sonstige"])  # not among ids: untouched


def _parcel_state(conn: Connection) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in conn.execute(text(
        "SELECT id, slope_mean_pct, flood_hazard_share, restriction_causes FROM parcels "
        "ORDER BY id"))]


def test_the_command_computes_every_parcel_once(conn: Connection, settings: Settings,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    slope = settings.raster_slope_path
    assert slope is not None and settings.raster_flood_path is not None
    with rasterio.open(slope) as dataset:
        extent = tuple(dataset.bounds)
    inside = text("SELECT count(*) FILTER (WHERE slope_mean_pct IS NULL), "
                  "count(*) FILTER (WHERE flood_hazard_share IS NULL), count(*) FROM parcels "
                  "WHERE ST_Within(geom_25832, ST_MakeEnvelope(:a, :b, :c, :d, 25832))")
    box_params = dict(zip("abcd", extent, strict=True))
    # the demo loader computed them: forget them (in this test's transaction) to recompute
    conn.execute(text("UPDATE parcels SET slope_mean_pct = NULL, slope_max_pct = NULL, "
                      "flood_hazard_share = NULL"))
    before = _parcel_state(conn)
    missing_slope, _, total = conn.execute(inside, box_params).one()
    assert total == len(before) and missing_slope >= 600

    args = build_parser().parse_args(["raster-stats"])
    assert args.func(args, conn=conn) == 0
    assert conn.execute(inside, box_params).one() == (0, 0, total)
    history = text("SELECT count(*) FROM parcel_history WHERE reason = :r")
    written = conn.execute(history, {"r": cli_raster.REASON}).scalar_one()
    assert written >= missing_slope
    out = capsys.readouterr().out
    assert f"Rasteranalyse: {total} Flächen berechnet, {written} geändert;" in out
    after = _parcel_state(conn)
    assert [r[3] for r in after] == [r[3] for r in before]  # the editors' causes stay
    # the same numbers as computing one parcel alone
    sample = conn.execute(text("SELECT ST_AsBinary(geom_25832), slope_mean_pct, "
                               "slope_max_pct, flood_hazard_share FROM parcels "
                               "WHERE flood_hazard_share > 0 ORDER BY id LIMIT 1")).one()
    sources = RasterSources(slope, settings.raster_flood_path)
    assert zonal_stats([bytes(sample[0])], sources) == [RasterStats(*sample[1:])]

    assert args.func(args, conn=conn) == 0  # a rerun writes nothing and adds no history
    assert f"{total} Flächen berechnet, 0 geändert;" in capsys.readouterr().out
    assert conn.execute(history, {"r": cli_raster.REASON}).scalar_one() == written


def test_the_command_refuses_unknown_parcels_and_missing_rasters(
        conn: Connection, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    args = build_parser().parse_args(["raster-stats", "--parcel", "1", "987654321"])
    assert args.func(args, conn=conn) == 1
    assert "--parcel: Fläche(n) 987654321 gibt es nicht" in capsys.readouterr().err
    monkeypatch.setattr(cli_raster, "configured_sources", lambda: RasterSources())
    args = build_parser().parse_args(["raster-stats"])
    assert args.func(args, conn=conn) == 1
    assert "Kein Raster konfiguriert" in capsys.readouterr().err


#: 200 m × 200 m inside a block of flood-hazard pixels of the demo raster (Leipzig), and a
#: square of the same size a few km away without any (EPSG:25832).
FLOOD_SQUARE = (731_950.0, 5_690_250.0)
DRY_SQUARE = (735_000.0, 5_695_000.0)


def _square(corner: tuple[float, float], side: float = 200.0) -> dict[str, Any]:
    x, y = corner
    return {"type": "Polygon", "coordinates": [[[x, y], [x + side, y], [x + side, y + side],
                                                [x, y + side], [x, y]]]}


def test_create_and_a_geometry_change_compute_the_statistics(
        clients: dict[str, Client], conn: Connection) -> None:
    admin = clients["admin"]
    site_id = insert_site(conn, "14713000")
    body = {"site_id": site_id, "geometry": _square(FLOOD_SQUARE), "category":
            "erweiterungsflaeche", "user_groups": ["logistik"], "servicing": "erschlossen",
            "restriction_level": "gering", "restriction_causes": ["altlasten"]}
    created = admin.post("/parcels", body, crs="EPSG:25832")
    assert created.status_code == 201, created.text
    parcel = created.json()
    assert parcel["flood_hazard_share"] == 1.0 and parcel["slope_mean_pct"] is not None
    assert parcel["suggested_restriction_causes"] == ["hochwasser"]
    assert parcel["restriction_causes"] == ["altlasten"]  # a suggestion, not a change

    stored = text("SELECT ST_AsBinary(geom_25832), slope_mean_pct, slope_max_pct, "
                  "flood_hazard_share FROM parcels WHERE id = :id")
    row = conn.execute(stored, {"id": parcel["id"]}).one()
    assert zonal_stats([bytes(row[0])], RasterSources(
        Settings().raster_slope_path, Settings().raster_flood_path)) == [RasterStats(*row[1:])]

    history = text("SELECT count(*) FROM parcel_history WHERE parcel_id = :id")
    assert conn.execute(history, {"id": parcel["id"]}).scalar_one() == 1
    moved = admin.patch(f"/parcels/{parcel['id']}", {"geometry": _square(DRY_SQUARE)},
                        created.headers["ETag"], crs="EPSG:25832")
    assert moved.status_code == 200, moved.text
    assert moved.json()["flood_hazard_share"] == 0.0
    assert moved.json()["suggested_restriction_causes"] == []
    assert moved.json()["restriction_causes"] == ["altlasten"]
    # the statistics came with the geometry: one history row for the change
    assert conn.execute(history, {"id": parcel["id"]}).scalar_one() == 2

    renamed = admin.patch(f"/parcels/{parcel['id']}", {"name": "ohne neue Form"},
                          moved.headers["ETag"])
    assert renamed.status_code == 200
    assert renamed.json()["flood_hazard_share"] == 0.0  # kept without a new geometry


def test_the_database_refuses_a_suggestion_outside_the_vocabulary(conn: Connection) -> None:
    parcel_id = conn.execute(text("SELECT min(id) FROM parcels")).scalar_one()
    update = text("UPDATE parcels SET suggested_restriction_causes = CAST(:c AS text[]) "
                  "WHERE id = :id")
    conn.execute(update, {"c": ["hochwasser", "sonstige"], "id": parcel_id})
    for causes in (["dammbruch"], ["hochwasser", None]):
        with pytest.raises(IntegrityError) as caught, conn.begin_nested():
            conn.execute(update, {"c": causes, "id": parcel_id})
        assert "ck_parcels__suggested_restriction_causes__vocab" in str(caught.value)


def test_the_demo_loader_stores_each_parcels_statistics(conn: Connection,
                                                        settings: Settings) -> None:
    """Every demo parcel inside the rasters has its statistics from the load, as a create
    through the API would, and they are the ones computed for its shape alone."""
    assert settings.raster_slope_path is not None and settings.raster_flood_path is not None
    with rasterio.open(settings.raster_slope_path) as dataset:
        box = dict(zip("abcd", tuple(dataset.bounds), strict=True))
    missing, total = conn.execute(text(
        "SELECT count(*) FILTER (WHERE slope_mean_pct IS NULL OR flood_hazard_share IS NULL), "
        "count(*) FROM parcels WHERE is_synthetic "
        "AND ST_Within(geom_25832, ST_MakeEnvelope(:a, :b, :c, :d, 25832))"), box).one()
    assert total >= 600 and missing == 0
    sample = conn.execute(text(
        "SELECT ST_AsBinary(geom_25832), slope_mean_pct, slope_max_pct, flood_hazard_share, "
        "suggested_restriction_causes FROM parcels WHERE flood_hazard_share > 0.1 "
        "ORDER BY id LIMIT 1")).one()
    sources = RasterSources(settings.raster_slope_path, settings.raster_flood_path)
    assert zonal_stats([bytes(sample[0])], sources) == [RasterStats(*sample[1:4])]
    assert "hochwasser" in sample[4]
