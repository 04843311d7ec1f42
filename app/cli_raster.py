"""Command-line commands of the raster analysis.

``gefis raster-stats [--parcel ID …]``: compute the slope and flood-hazard statistics and the
suggested restriction causes of every parcel (or of the parcels named) from the configured
rasters (``GEFIS_RASTER_SLOPE_PATH``, ``GEFIS_RASTER_FLOOD_PATH``) and rules
(``GEFIS_RASTER_RULES_FILE``), in one transaction, with a progress bar on stderr. Only
changed values are written (a rerun writes nothing); each change is one history row with
the reason :data:`REASON`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError
from tqdm import tqdm

from app.cli_output import fail, say
from app.db.queries.parcels.rows import existing_ids, raster_coverage
from app.db.session import get_engine, write_transaction
from app.domain.errors import GefisError, InvalidInput
from app.services.raster import (
    RasterUnavailable,
    configured_rules,
    configured_sources,
    fill_raster_columns,
)

#: Who and why, in the parcel history.
ACTOR = "cli-raster-stats"
REASON = "Rasteranalyse: Hangneigung/Hochwasser neu berechnet"

@dataclass(frozen=True)
class RasterRun:
    """What a run did: parcels computed, rows changed, parcels with each statistic and
    with at least one suggested cause (after the run)."""

    parcels: int
    written: int
    with_slope: int
    with_flood: int
    with_suggestions: int

    def summary(self) -> str:
        """The German summary line."""
        return (f"Rasteranalyse: {self.parcels} Flächen berechnet, {self.written} geändert; "
                f"Hangneigung für {self.with_slope}, Hochwasseranteil für {self.with_flood}, "
                f"{self.with_suggestions} mit vorgeschlagenen Beschränkungsursachen.")


def _check_ids(conn: Connection, ids: Sequence[int]) -> None:
    known = existing_ids(conn, ids)
    unknown = [str(i) for i in ids if i not in known]
    if unknown:
        raise InvalidInput.for_field("--parcel", f"Fläche(n) {', '.join(unknown)} gibt es "
                                     "nicht", "unknown_parcel")


def raster_stats(conn: Connection, ids: Sequence[int] | None = None) -> RasterRun:
    """Compute and store the raster statistics of all parcels (or ``ids``) on ``conn``."""
    sources = configured_sources()
    if not sources.configured:
        raise RasterUnavailable("Kein Raster konfiguriert: GEFIS_RASTER_SLOPE_PATH und "
                                "GEFIS_RASTER_FLOOD_PATH sind leer")
    rules = configured_rules()
    if ids is not None:
        _check_ids(conn, ids)
    selected = None if ids is None else list(ids)
    total = raster_coverage(conn, selected).parcels
    with tqdm(total=total, unit=" Flächen", file=sys.stderr, desc="Rasteranalyse",
              disable=None) as bar:
        written = fill_raster_columns(conn, "parcels", "id", ids=selected, reason=REASON,
                                      sources=sources, rules=rules, progress=bar.update)
    counts = raster_coverage(conn, selected)
    return RasterRun(counts.parcels, written, counts.slope, counts.flood, counts.suggested)


def cmd_raster_stats(args: argparse.Namespace, conn: Connection | None = None) -> int:
    """``raster-stats``: in one transaction of its own, or on ``conn`` (the caller's)."""
    ids = args.parcel or None
    try:
        if conn is not None:
            run = raster_stats(conn, ids)
        else:
            with write_transaction(get_engine(), ACTOR, REASON) as own:
                run = raster_stats(own, ids)
    except (GefisError, DBAPIError) as error:
        return fail(error)
    say(run.summary())
    return 0


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``raster-stats`` on the ``gefis`` parser."""
    stats = sub.add_parser(
        "raster-stats", help="compute slope/flood statistics and suggested restriction "
                             "causes of the parcels from the configured rasters")
    stats.add_argument("--parcel", type=int, nargs="+", metavar="ID",
                       help="only these parcels (default: all)")
    stats.set_defaults(func=cmd_raster_stats)
