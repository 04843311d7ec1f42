"""Settings of GEFIS-MD, read from the environment (prefix ``GEFIS_``).

``DATABASE_URL`` (no prefix) is honoured as the usual convention of hosting platforms and of
the bootstrap scripts. Settings are *built*, not imported: call :func:`get_settings` (cached)
or construct :class:`Settings` explicitly in tests.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from app.domain.vocab import CATEGORY

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Service configuration; every field can be set as ``GEFIS_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="GEFIS_", extra="ignore")

    # --- database ---------------------------------------------------------------------
    database_url: str = Field(
        default="postgresql://gefis@127.0.0.1:54329/gefis",
        validation_alias=AliasChoices("DATABASE_URL", "GEFIS_DATABASE_URL"),
        description="SQLAlchemy/libpq URL of the PostGIS database.",
    )
    database_read_url: str | None = Field(
        default=None,
        description="Optional URL of a streaming replica (hot standby) for read-only requests "
                    "(search, features, tiles, layers, exports, reports). Writes and reads "
                    "that must see their own writes stay on the primary; reads fall back to "
                    "the primary while the replica is down or lags more than "
                    "replica_max_lag_s.")
    replica_max_lag_s: float = Field(
        default=30.0, gt=0, le=3600,
        description="Replay lag (seconds) above which reads go to the primary instead.")
    replica_check_interval_s: float = Field(
        default=2.0, gt=0, le=300,
        description="How often the replica's state (reachable, replay lag) is checked, "
                    "seconds; between checks requests use the last result.")
    workers: int = Field(
        default=1, ge=1, le=64,
        description="Service processes started by the run command (uvicorn --workers); each "
                    "has its own connection pools, so the database sees workers × pool.")
    db_pool_size: int = Field(
        default=8, ge=1, le=100, description="Connections kept open by one service process.")
    db_max_overflow: int = Field(
        default=4, ge=0, le=100, description="Extra connections opened under load, then closed.")
    db_pool_timeout_s: float = Field(
        default=5.0, gt=0, le=120,
        description="Longest wait for a pooled connection inside a request (a safety net: "
        "the admission gate keeps requests from waiting here at all).")
    db_parallel_workers: int = Field(
        default=0, ge=0, le=16,
        description="max_parallel_workers_per_gather of the service's sessions. 0: many "
                    "concurrent requests on few cores are served faster without parallel "
                    "query (see BENCHMARKS.md); raise it for a few heavy report queries.")
    db_statement_timeout_ms: int = Field(
        default=30_000, ge=0, description="Per-statement limit; 0 disables it."
    )

    # --- admission (requests in flight) --------------------------------------------
    max_in_flight: int | None = Field(
        default=None, ge=1, le=200,
        description="Requests that may use the database at once per process; the rest "
        "queue. Default (unset): pool size + overflow, so no request waits for a connection "
        "while holding a worker thread.")
    queue_wait_s: float = Field(
        default=10.0, gt=0, le=300,
        description="Longest time a request queues for admission before a 503 with "
        "Retry-After.")
    max_queued: int = Field(
        default=1000, ge=0,
        description="Requests that may queue per process; beyond this, 503 at once.")

    # --- geometry intake -------------------------------------------------------------
    geometry_max_vertices: int = Field(
        default=20_000, ge=4,
        description="Most vertices a client geometry may have (checked before PostGIS).")
    geometry_min_area_m2: float = Field(
        default=1.0, ge=0, description="Smaller polygons (slivers) are refused.")

    # --- data -----------------------------------------------------------------------
    geodata_dir: Path = Field(default=PROJECT_ROOT / "geodata")

    freshness_days: int = Field(
        default=183, ge=1, description="Parcels not verified for longer are listed as overdue."
    )

    # --- HTTP -----------------------------------------------------------------------
    max_body_bytes: int = Field(
        default=2_000_000, ge=1024, description="Largest accepted request body (JSON writes)."
    )
    page_size_default: int = Field(default=50, ge=1, description="Items per page by default.")
    page_size_max: int = Field(
        default=1000, ge=1, description="Largest page; bigger limits are clamped to it."
    )
    count_exact_max: int = Field(
        default=100_000, ge=0,
        description="count=true counts exactly when the planner expects fewer matches than "
                    "this; above it, numberMatched is the planner's estimate (and says so).")
    potential_categories: Annotated[tuple[str, ...], NoDecode] = Field(
        default=("pv_anlage", "vorschauflaeche", "nur_fnp_oder_regionalplan"),
        description="Area categories the balance counts as potential, not as market supply "
                    "(comma-separated codes of the category vocabulary).")
    # --- reports ----------------------------------------------------------------------
    chromium_path: str = Field(
        default="chromium",
        description="Headless Chromium that prints reports and site profiles to PDF "
                    "(Debian package chromium).")
    report_dir: Path = Field(
        default=PROJECT_ROOT / "reports",
        description="Where the quarterly monitoring report writes its folders <YYYY>-Q<N>/.")
    public_base_url: str | None = Field(
        default=None,
        description="Absolute base URL used in links (e.g. behind a proxy); "
        "derived from the request when unset.",
    )

    collections_file: Path | None = Field(
        default=None,
        description="TOML file naming further tables or views to publish as read-only OGC "
                    "API collections (see README, 'Eigene Sammlungen').")
    ogc_count_exact_max: int = Field(
        default=10_000, ge=0,
        description="OGC items give numberMatched on their first page unasked: counted exactly "
                    "when the planner expects fewer matches than this, else the planner's "
                    "estimate (numberMatchedEstimated: true).")
    ogc_page_size_max: int = Field(
        default=10_000, ge=1,
        description="Largest page of OGC API items; larger limits are clamped.")
    layer_decimals: int = Field(
        default=6, ge=0, le=15,
        description="Decimals of the coordinates of the GeoJSON layers (/layers/*.geojson).")

    # --- vector tiles ------------------------------------------------------------------
    tile_max_age_s: int = Field(
        default=60, ge=0,
        description="Cache-Control max-age of public vector tiles, seconds (caches in front "
                    "revalidate with If-None-Match afterwards).")
    tile_parcel_aggregate_below_zoom: int = Field(
        default=13, ge=0, le=24,
        description="Below this zoom the parcels layer carries one shape per site (summed "
                    "hectares) instead of the parcels themselves.")
    tile_feature_cap: int = Field(
        default=20_000, ge=100,
        description="Most features one tile layer carries (largest first).")

    map_background_style_url: str | None = Field(
        default=None,
        description="MapLibre style drawn beneath the service's layers in the web map "
                    "(/karte), e.g. basemap.de's vector style; none: the map shows only the "
                    "service's own layers and works offline.")
    web_modules_dir: Path = Field(
        default=Path(__file__).resolve().parent.parent / "web" / "node_modules",
        description="node_modules of web/package.json (MapLibre GL JS, Chart.js), installed "
                    "by `npm ci` in web/ (make run / make test do it); the web map serves "
                    "their distribution files from here.")

    map_glyphs_url: str | None = Field(
        default=None,
        description="Glyphs URL template of the MapLibre style (/styles/gefis), e.g. "
                    "'https://…/fonts/{fontstack}/{range}.pbf'; with it the style carries "
                    "labels, without it the style draws no text (and needs nothing beyond "
                    "the service).")

    # --- exports ---------------------------------------------------------------------
    export_max_features: int = Field(
        default=1_000_000, ge=1,
        description="Most features one export writes; larger selections are refused (413).")
    export_dir: Path | None = Field(
        default=None,
        description="Where exports are written before they are streamed (default: the "
                    "system's temporary directory); each file is removed once sent.")

    # --- imports (parcels, land sales, boundaries) --------------------------------------
    import_max_bytes: int = Field(
        default=512 * 1024 * 1024, ge=1,
        description="Largest import file accepted (bytes); larger uploads are refused (413).")
    import_sync_max_bytes: int = Field(
        default=2 * 1024 * 1024, ge=0,
        description="Files up to this size are imported while the request waits (200/201 "
                    "with the report); larger ones, or any with 'Prefer: respond-async', "
                    "are answered at once with 202 and an import resource to poll.")
    import_dir: Path = Field(
        default=PROJECT_ROOT / ".data" / "imports",
        description="Where uploaded import files and their reports are kept.")
    import_chunk_rows: int = Field(
        default=20_000, ge=100,
        description="Rows read from an import file at a time (bounds the memory).")

    # --- raster analysis -------------------------------------------------------------
    raster_slope_path: Path | None = Field(
        default=PROJECT_ROOT / "geodata" / "demo" / "rasters" / "slope_pct.tif",
        description="Slope raster (percent) for the parcels' slope statistics; empty: none.")
    raster_flood_path: Path | None = Field(
        default=PROJECT_ROOT / "geodata" / "demo" / "rasters" / "flood_hazard.tif",
        description="Flood-hazard raster (1 in the hazard zone, 0 outside) for the parcels' "
                    "flood share; empty: none.")
    raster_rules_file: Path | None = Field(
        default=None,
        description="TOML file with the rules that suggest restriction causes from the "
                    "raster statistics (default: the built-in rules).")

    @field_validator("raster_slope_path", "raster_flood_path", "raster_rules_file",
                     mode="before")
    @classmethod
    def _empty_path_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("database_read_url")
    @classmethod
    def _normalise_read_driver(cls, value: str | None) -> str | None:
        return psycopg2_url(value) if value else None

    @model_validator(mode="after")
    def _page_sizes(self) -> Settings:
        if self.page_size_default > self.page_size_max:
            raise ValueError("page_size_default must not exceed page_size_max")
        return self

    @property
    def pool_capacity(self) -> int:
        """Connections one process may hold at most (pool size + overflow)."""
        return self.db_pool_size + self.db_max_overflow

    @property
    def admission_limit(self) -> int:
        """Requests admitted at once: ``max_in_flight``, by default the pool's capacity."""
        return self.max_in_flight or self.pool_capacity

    @field_validator("potential_categories", mode="before")
    @classmethod
    def _category_codes(cls, value: object) -> object:
        codes = tuple(c.strip() for c in value.split(",") if c.strip()) \
            if isinstance(value, str) else value
        if isinstance(codes, tuple | list):
            unknown = [c for c in codes if c not in CATEGORY]
            if unknown:
                raise ValueError(f"unknown category code(s) {', '.join(unknown)}")
        return codes

    @field_validator("database_url")
    @classmethod
    def _normalise_driver(cls, value: str) -> str:
        return psycopg2_url(value)


def psycopg2_url(value: str) -> str:
    """Accept ``postgres://`` and plain ``postgresql://``; use psycopg2.

    >>> psycopg2_url("postgres://u@h/db")
    'postgresql+psycopg2://u@h/db'
    """
    if value.startswith("postgres://"):
        value = "postgresql://" + value.removeprefix("postgres://")
    if value.startswith("postgresql://"):
        value = "postgresql+psycopg2://" + value.removeprefix("postgresql://")
    return value


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
