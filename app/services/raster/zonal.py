"""Zonal statistics of parcels from the configured rasters: slope and flood-hazard share.

Per parcel, from the slope raster (percent) the coverage-weighted mean slope and the largest
slope of any pixel the parcel touches, and from the flood-hazard raster (1 in the hazard
zone, 0 outside) the share of the parcel's area in the zone, i.e. the coverage-weighted
mean of the 0/1 values. "Coverage-weighted": a pixel counts with the fraction of it that
the parcel covers, computed exactly by exactextract (a maintained C++ library, used through
its Python binding), not by counting pixel centres. Nodata pixels are left out of the mean
and the maximum (a parcel only on nodata pixels, or outside the raster, gets ``None``).

CRS: parcels are stored in EPSG:25832; each shape is densified (vertices at most
:data:`DENSIFY_M` metres apart, so that a curved image of a straight edge is followed) and
reprojected to the raster's CRS with pyproj. The raster is never resampled: its pixel values
and their areas stay exactly as delivered.

Values are rounded as stored: slopes to :data:`SLOPE_DECIMALS` decimals (percent), the share
to :data:`SHARE_DECIMALS` decimals (0.01 percentage points), so that a recomputation with
the same rasters gives the same numbers and writes nothing.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import rasterio.windows
import shapely
from exactextract import exact_extract
from exactextract.feature import JSONFeatureSource
from exactextract.raster import NumPyRasterSource, RasterioRasterSource
from pyproj import CRS, Transformer
from rasterio.errors import RasterioIOError
from sqlalchemy import Connection, text

from app.domain.errors import ServiceUnavailable
from app.domain.raster_rules import (
    DEFAULT_RULES,
    RasterRule,
    RasterRulesError,
    RasterStats,
    parse_rules,
    suggest_causes,
)
from app.settings import Settings, get_settings

#: The CRS parcels are stored in (and every WKB handed to :func:`zonal_stats` is in).
STORAGE_SRID = 25832
#: Longest edge (metres, EPSG:25832) of a shape before it is reprojected to another CRS.
DENSIFY_M = 10.0
#: Decimals kept of the slope statistics (percent).
SLOPE_DECIMALS = 2
#: Decimals kept of the flood-hazard share (a fraction 0..1).
SHARE_DECIMALS = 4
#: Parcels read, computed and written per statement by :func:`fill_raster_columns`.
CHUNK_ROWS = 5000

#: The columns :func:`raster_columns` fills (same names in ``parcels`` and an import's
#: staging table).
RASTER_COLUMNS: tuple[str, ...] = (
    "slope_mean_pct", "slope_max_pct", "flood_hazard_share", "suggested_restriction_causes")

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


class RasterUnavailable(ServiceUnavailable):
    """A configured raster (or the rules file) cannot be used; the detail says which and
    why. Switch a raster off with an empty setting instead of pointing at nothing."""

    title = "Raster analysis unavailable"
    type_slug = "raster-unavailable"


@dataclass(frozen=True)
class RasterSources:
    """The rasters to read (``None``: not configured, its statistics stay ``None``).

    ``slope``: slope in percent, any CRS, nodata honoured. ``flood``: flood hazard, 1 in
    the hazard zone and 0 outside (fractions 0..1 are read as partial hazard), nodata
    honoured.
    """

    slope: Path | None = None
    flood: Path | None = None

    @property
    def configured(self) -> bool:
        """Whether at least one raster is configured."""
        return self.slope is not None or self.flood is not None


def configured_sources(settings: Settings | None = None) -> RasterSources:
    """The rasters named by ``GEFIS_RASTER_SLOPE_PATH`` and ``GEFIS_RASTER_FLOOD_PATH``."""
    settings = settings or get_settings()
    return RasterSources(settings.raster_slope_path, settings.raster_flood_path)


@lru_cache(maxsize=8)
def _rules_of_file(path: str, modified_ns: int) -> tuple[RasterRule, ...]:
    del modified_ns  # part of the cache key: an edited file is read again
    try:
        document = Path(path).read_text(encoding="utf-8")
        return parse_rules(document, path)
    except OSError as exc:
        raise RasterUnavailable(f"Regeldatei {path} nicht lesbar: {exc.strerror}") from None
    except RasterRulesError as exc:
        raise RasterUnavailable(str(exc)) from None


def configured_rules(settings: Settings | None = None) -> tuple[RasterRule, ...]:
    """The rules of ``GEFIS_RASTER_RULES_FILE`` (read again when the file changes), else
    :data:`~app.domain.raster_rules.DEFAULT_RULES`; :class:`RasterUnavailable` for a file
    that is missing or wrong (the detail names the rule and the key)."""
    path = (settings or get_settings()).raster_rules_file
    if path is None:
        return DEFAULT_RULES
    try:
        modified = path.stat().st_mtime_ns
    except OSError as exc:
        raise RasterUnavailable(f"Regeldatei {path} nicht lesbar: {exc.strerror}") from None
    return _rules_of_file(str(path), modified)


@contextmanager
def _open(path: Path, label: str) -> Iterator[Any]:
    """The raster ``path`` opened with rasterio; :class:`RasterUnavailable` (German) for a
    missing or unreadable file, one without CRS or a rotated one."""
    try:
        dataset = rasterio.open(path)
    except RasterioIOError as exc:
        raise RasterUnavailable(f"{label} {path} nicht lesbar: {exc}") from None
    with dataset:
        if dataset.crs is None:
            raise RasterUnavailable(f"{label} {path} hat kein Koordinatenbezugssystem")
        if not dataset.transform.is_rectilinear:
            raise RasterUnavailable(f"{label} {path} ist gedreht; nur nordorientierte Raster")
        yield dataset


def _in_raster_crs(geoms: np.ndarray, raster_crs: Any) -> np.ndarray:
    """``geoms`` (EPSG:25832) densified and reprojected to ``raster_crs`` (x = easting or
    longitude, as rasters store it); unchanged when the raster is in EPSG:25832."""
    target = CRS.from_wkt(raster_crs.to_wkt())
    if target.equals(CRS.from_epsg(STORAGE_SRID), ignore_axis_order=True):
        return geoms
    transformer = Transformer.from_crs(STORAGE_SRID, target, always_xy=True)

    def reproject(xy: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    reprojected: np.ndarray = shapely.transform(shapely.segmentize(geoms, DENSIFY_M),
                                                reproject)
    return reprojected


#: Largest window (pixels) read into memory at once for a chunk of shapes; beyond it,
#: exactextract reads the raster block by block itself (slower: a read per shape).
MAX_WINDOW_PIXELS = 50_000_000


def _window_source(dataset: Any, shapes: np.ndarray, name: str) -> Any:
    """The raster under ``shapes`` as exactextract's source: the window around all of them
    read once into memory (nodata as NaN), or, for a huge window, the dataset itself."""
    xmin, ymin, xmax, ymax = shapely.total_bounds(shapes)
    if not np.isfinite(xmin):
        return RasterioRasterSource(dataset, name=name)
    exact = rasterio.windows.from_bounds(xmin, ymin, xmax, ymax, dataset.transform)
    col, row = math.floor(exact.col_off), math.floor(exact.row_off)
    window = rasterio.windows.Window(col, row, math.ceil(exact.col_off + exact.width) - col,
                                     math.ceil(exact.row_off + exact.height) - row)
    full = rasterio.windows.Window(0, 0, dataset.width, dataset.height)
    try:
        window = window.intersection(full)
    except rasterio.errors.WindowError:  # nothing of the raster under the shapes
        return RasterioRasterSource(dataset, name=name)
    if window.width * window.height > MAX_WINDOW_PIXELS:
        return RasterioRasterSource(dataset, name=name)
    values = dataset.read(1, window=window, masked=True).astype("float64").filled(np.nan)
    left, bottom, right, top = rasterio.windows.bounds(window, dataset.transform)
    return NumPyRasterSource(values, left, bottom, right, top, name=name,
                             srs_wkt=dataset.crs.to_wkt())


def _features(shapes: np.ndarray) -> list[dict[str, Any]]:
    """GeoJSON features of ``shapes``, numbered by their position (``n``)."""
    return [{"type": "Feature", "properties": {"n": n}, "geometry": json.loads(geojson)}
            for n, geojson in enumerate(shapely.to_geojson(shapes))]


def _extract(rasters: Sequence[tuple[str, Path, str]], geoms: np.ndarray, ops: list[str]
             ) -> list[dict[str, Any]]:
    """exactextract's ``ops`` per geometry (in order) on each raster (name, path, label):
    ``{"<name>_<op>": value}``. Rasters in one CRS are read in a single pass over the
    shapes (the coverage of each pixel is computed once for all of them)."""
    result: list[dict[str, Any]] = [{} for _ in range(len(geoms))]
    with ExitStack() as stack:
        opened = [(name, stack.enter_context(_open(path, label)))
                  for name, path, label in rasters]
        by_crs: dict[str, list[tuple[str, Any]]] = {}
        for name, dataset in opened:
            by_crs.setdefault(dataset.crs.to_wkt(), []).append((name, dataset))
        for crs_wkt, group in by_crs.items():
            shapes = _in_raster_crs(geoms, group[0][1].crs)
            sources = [_window_source(dataset, shapes, name) for name, dataset in group]
            rows = exact_extract(sources, JSONFeatureSource(_features(shapes),
                                                            srs_wkt=crs_wkt),
                                 ops, include_cols=["n"], output="geojson")
            for row in rows:
                values = row["properties"]
                if len(group) == 1:  # exactextract names results by raster only for several
                    values = {f"{group[0][0]}_{k}": v for k, v in values.items()}
                result[row["properties"]["n"]].update(values)
    return result


def _value(raw: Any, decimals: int) -> float | None:
    """A statistic as stored: ``None`` for exactextract's "no pixel" (None or NaN)."""
    if raw is None or math.isnan(float(raw)):
        return None
    return round(float(raw), decimals) + 0.0  # + 0.0: no negative zero


def zonal_stats(geoms_wkb_25832: Sequence[bytes], sources: RasterSources) -> list[RasterStats]:
    """Slope mean/max (percent) and flood-hazard share (0..1) per geometry (WKB, EPSG:25832).

    A statistic is ``None`` where its raster is not configured, or where the geometry lies
    outside the raster or only on nodata pixels. :class:`RasterUnavailable` when a
    configured raster cannot be read, or the flood raster holds values outside 0..1.
    """
    geoms = shapely.from_wkb(list(geoms_wkb_25832))
    count = len(geoms)
    slope_mean: list[float | None] = [None] * count
    slope_max: list[float | None] = [None] * count
    flood: list[float | None] = [None] * count
    rasters = [(name, path, label) for name, path, label in (
        ("slope", sources.slope, "Hangneigungsraster"),
        ("flood", sources.flood, "Hochwasserraster")) if path is not None]
    rows = _extract(rasters, geoms, ["mean", "min", "max"]) if count and rasters else []
    if count and sources.slope is not None:
        slope_mean = [_value(r.get("slope_mean"), SLOPE_DECIMALS) for r in rows]
        slope_max = [_value(r.get("slope_max"), SLOPE_DECIMALS) for r in rows]
    if count and sources.flood is not None:
        for row in rows:
            low, high = _value(row.get("flood_min"), 9), _value(row.get("flood_max"), 9)
            if (low is not None and low < 0) or (high is not None and high > 1):
                raise RasterUnavailable(
                    f"Hochwasserraster {sources.flood}: Werte {low:g}..{high:g} unter einer "
                    "Fläche; erwartet 1 (Gefahrenzone) und 0 (keine), Anteile 0..1")
        flood = [_value(r.get("flood_mean"), SHARE_DECIMALS) for r in rows]
    return [RasterStats(a, b, c) for a, b, c in zip(slope_mean, slope_max, flood, strict=True)]


def raster_columns(stats: RasterStats, rules: Sequence[RasterRule]) -> dict[str, Any]:
    """The stored columns of ``stats``: the three statistics and the causes the rules
    suggest (a list, ``[]`` when none)."""
    return {"slope_mean_pct": stats.slope_mean_pct, "slope_max_pct": stats.slope_max_pct,
            "flood_hazard_share": stats.flood_hazard_share,
            "suggested_restriction_causes": list(suggest_causes(stats, rules))}


def raster_columns_for_ewkt(ewkt: str, sources: RasterSources | None = None,
                            rules: Sequence[RasterRule] | None = None) -> dict[str, Any]:
    """:func:`raster_columns` of one geometry given as EWKT in EPSG:25832 (as the polygon
    intake prepares it), with the configured rasters and rules by default."""
    [columns] = raster_columns_for_ewkts([ewkt], sources, rules)
    return columns


def raster_columns_for_ewkts(ewkts: Sequence[str], sources: RasterSources | None = None,
                             rules: Sequence[RasterRule] | None = None
                             ) -> list[dict[str, Any]]:
    """:func:`raster_columns_for_ewkt` of many geometries at once (one pass per raster)."""
    wkbs = []
    for ewkt in ewkts:
        srid, _, wkt = ewkt.rpartition(";")
        if srid and srid.upper() != f"SRID={STORAGE_SRID}":
            raise ValueError(f"expected EWKT in EPSG:{STORAGE_SRID}, got {srid}")
        wkbs.append(shapely.to_wkb(shapely.from_wkt(wkt)))
    sources = configured_sources() if sources is None else sources
    rules = configured_rules() if rules is None else rules
    return [raster_columns(stats, rules) for stats in zonal_stats(wkbs, sources)]


def _identifier(name: str) -> str:
    """A table or column name of the service's own (``[schema.]name``), quoted."""
    parts = name.split(".")
    if len(parts) > 2 or not all(_IDENTIFIER.fullmatch(p) for p in parts):
        raise ValueError(f"not a plain SQL name: {name!r}")
    return ".".join(f'"{p}"' for p in parts)


def _key_type(conn: Connection, table: str, key: str) -> str:
    key_type: str | None = conn.execute(text(
        "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
        "WHERE attrelid = to_regclass(:table) AND attname = :key AND NOT attisdropped"),
        {"table": table, "key": key}).scalar_one_or_none()
    if key_type is None:
        raise ValueError(f"{table} has no column {key}")
    return key_type


def fill_raster_columns(conn: Connection, table: str, key: str, geom: str = "geom_25832",
                        ids: Sequence[Any] | None = None, reason: str | None = None, *,
                        sources: RasterSources | None = None,
                        rules: Sequence[RasterRule] | None = None,
                        chunk_rows: int = CHUNK_ROWS,
                        progress: Callable[[int], None] | None = None) -> int:
    """Compute the raster statistics of the rows of ``table`` and write them back; returns
    how many rows changed.

    ``table`` (``parcels`` or an import's staging table, temporary tables included) must
    have the key column ``key``, a geometry column ``geom`` (EPSG:25832, or any SRID
    PostGIS can transform) and the columns of :data:`RASTER_COLUMNS`. ``ids`` restricts it
    to those keys. Rows are read in keyset chunks of ``chunk_rows`` and each chunk is
    written by one set-based ``UPDATE … FROM unnest(…)``, only where a value differs (a
    rerun writes nothing and adds no history) and only where the geometry is still the one
    read (a shape changed meanwhile got its statistics from its own write). ``reason``
    becomes the history's reason for these changes (``gefis.reason`` for the statement,
    then restored). ``progress`` is called with the number of rows of each chunk done.
    """
    sources = configured_sources() if sources is None else sources
    rules = configured_rules() if rules is None else rules
    t, k, g = _identifier(table), _identifier(key), _identifier(geom)
    key_type = _key_type(conn, table, key)
    only = f" AND {k} = ANY(CAST(:ids AS {key_type}[]))" if ids is not None else ""
    first = text(f"SELECT {k} AS key, ST_AsBinary(ST_Transform({g}, {STORAGE_SRID})) AS wkb, "
                 f"md5(ST_AsEWKB({g})) AS digest FROM {t} WHERE true{only} "
                 f"ORDER BY {k} LIMIT :limit")
    following = text(f"SELECT {k} AS key, ST_AsBinary(ST_Transform({g}, {STORAGE_SRID})) "
                     f"AS wkb, md5(ST_AsEWKB({g})) AS digest FROM {t} "
                     f"WHERE {k} > CAST(:after AS {key_type}){only} ORDER BY {k} LIMIT :limit")
    update = text(f"""
        UPDATE {t} AS t
           SET slope_mean_pct = v.slope_mean, slope_max_pct = v.slope_max,
               flood_hazard_share = v.flood, suggested_restriction_causes = v.causes
          FROM (SELECT u.key, u.digest, u.slope_mean, u.slope_max, u.flood,
                       string_to_array(u.causes, ',') AS causes
                  FROM unnest(CAST(:keys AS {key_type}[]), CAST(:digests AS text[]),
                              CAST(:slope_mean AS double precision[]),
                              CAST(:slope_max AS double precision[]),
                              CAST(:flood AS double precision[]), CAST(:causes AS text[]))
                       AS u(key, digest, slope_mean, slope_max, flood, causes)) v
         WHERE t.{k} = v.key AND md5(ST_AsEWKB(t.{g})) IS NOT DISTINCT FROM v.digest
           AND (t.slope_mean_pct, t.slope_max_pct, t.flood_hazard_share,
                t.suggested_restriction_causes)
               IS DISTINCT FROM (v.slope_mean, v.slope_max, v.flood, v.causes)""")
    previous_reason = None
    if reason is not None:
        previous_reason = conn.execute(text(
            "SELECT current_setting('gefis.reason', true)")).scalar_one()
        conn.execute(text("SELECT set_config('gefis.reason', :r, true)"), {"r": reason})
    written, after = 0, None
    params: dict[str, Any] = {"limit": chunk_rows, "ids": list(ids) if ids is not None else None}
    try:
        while True:
            statement = first if after is None else following
            rows = conn.execute(statement, {**params, "after": after}).all()
            if not rows:
                break
            written += _write_chunk(conn, update, rows, sources, rules)
            after = rows[-1].key
            if progress is not None:
                progress(len(rows))
            if len(rows) < chunk_rows:
                break
    finally:
        if reason is not None:
            conn.execute(text("SELECT set_config('gefis.reason', :r, true)"),
                         {"r": previous_reason or ""})
    return written


def _write_chunk(conn: Connection, update: Any, rows: Sequence[Any], sources: RasterSources,
                 rules: Sequence[RasterRule]) -> int:
    """Statistics of one chunk of (key, wkb, digest) rows, written by one ``UPDATE``."""
    shaped = [r for r in rows if r.wkb is not None]
    computed = dict(zip([r.key for r in shaped],
                        zonal_stats([bytes(r.wkb) for r in shaped], sources), strict=True))
    columns = [raster_columns(computed.get(r.key, RasterStats()), rules) for r in rows]
    result = conn.execute(update, {
        "keys": [r.key for r in rows], "digests": [r.digest for r in rows],
        "slope_mean": [c["slope_mean_pct"] for c in columns],
        "slope_max": [c["slope_max_pct"] for c in columns],
        "flood": [c["flood_hazard_share"] for c in columns],
        "causes": [",".join(c["suggested_restriction_causes"]) for c in columns]})
    return int(result.rowcount)
