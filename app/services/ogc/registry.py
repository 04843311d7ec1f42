"""Which collections the service publishes, for whom, in which order.

The built-in collections (parcels, sites, districts with their balance, municipalities,
infrastructure, land sales) come first, then those of ``GEFIS_COLLECTIONS_FILE``, read from
the database's catalog once per process (on first use).
"""

from __future__ import annotations

import threading
from datetime import date

from sqlalchemy import Connection

from app.db.queries.features.base import Collection
from app.db.queries.features.configured import load_configured
from app.db.queries.features.parcels import ParcelCollection
from app.db.queries.features.tables import (
    DISTRICTS,
    INFRASTRUCTURE,
    LAND_SALES,
    SITES,
    municipalities,
    with_district_balance,
)
from app.domain.errors import NotFound
from app.domain.filters import MARKETED_STATUS, ParcelFilter
from app.domain.roles import Viewer
from app.services.balance import BalanceOptions, compute_balance
from app.settings import Settings

PARCELS = ParcelCollection()

#: Ids of the built-in collections, in the order they are listed.
BUILT_IN = ("parcels", "sites", "districts", "municipalities", "infrastructure", "land_sales")


def district_balance_collection(conn: Connection, viewer: Viewer, settings: Settings,
                                day: date) -> Collection:
    """The districts with today's balance (market supply, every framework scenario)."""
    supply = ParcelFilter(marketing_status=MARKETED_STATUS, active_sites_only=True)
    document = compute_balance(conn, supply, viewer, BalanceOptions(
        day=day, potential_categories=settings.potential_categories))
    return with_district_balance(document)


class CollectionRegistry:
    """The collections of one app (configured ones loaded on first use)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._configured: list[Collection] | None = None
        self._lock = threading.Lock()

    def _extra(self, conn: Connection) -> list[Collection]:
        with self._lock:
            if self._configured is None:
                loaded = load_configured(conn, self._settings.collections_file)
                clash = [c.id for c in loaded if c.id in BUILT_IN]
                if clash:
                    raise ValueError(f"configured collection ids clash with built-in ones: "
                                     f"{', '.join(clash)}")
                self._configured = list(loaded)
            return self._configured

    def listed(self, conn: Connection, viewer: Viewer) -> list[Collection]:
        """Every collection ``viewer`` may see (districts without their balance figures
        bound: use :meth:`get` to read them)."""
        built_in: list[Collection] = [PARCELS, SITES, DISTRICTS, municipalities(),
                                      INFRASTRUCTURE, LAND_SALES]
        return [c for c in [*built_in, *self._extra(conn)] if c.visible_to(viewer)]

    def get(self, conn: Connection, collection_id: str, viewer: Viewer,
            day: date) -> Collection:
        """The collection ``collection_id`` ready for a request by ``viewer`` on ``day``;
        404 when it does not exist or ``viewer`` may not see it."""
        found = next((c for c in self.listed(conn, viewer) if c.id == collection_id), None)
        if found is None:
            raise NotFound(f"collection {collection_id!r} does not exist or is not public")
        if found.id == "districts":
            return district_balance_collection(conn, viewer, self._settings, day)
        return found
