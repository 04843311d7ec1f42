"""The field registry against the database, and a field added by a migration and one entry.

``noise_quota_db`` (migration 0010) is the worked example: with its registry entry alone it
filters, sorts, appears in the JSON and is withheld from the public until released, in the
live rows and in a past state rebuilt from the history.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Connection, text

from app.db.queries.keyset import Envelope
from app.db.queries.parcels import one_parcel, parcel_page
from app.db.queries.parcels.source import LIVE, ParcelSource
from app.domain.filters import ParcelFilter, SortSpec
from app.domain.parcel_fields import PARCEL_FIELDS
from app.domain.roles import PUBLIC_VIEWER, STAFF
from tests.conftest import Clock

#: Columns of ``parcels`` that are storage, not API fields (geometry, inputs of derived
#: fields, bookkeeping under another name).
STORAGE_ONLY = {"geom_25832", "net_area_ha_given", "is_synthetic"}

TODAY = date(2026, 11, 30)
ENVELOPE = Envelope("items", "s", "n?cursor=", "p?cursor=", "application/json")


def _columns(conn: Connection) -> set[str]:
    return set(conn.execute(text(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'parcels'"))
        .scalars())


def test_every_registry_column_exists_and_every_column_is_registered(conn: Connection) -> None:
    in_db = _columns(conn)
    registered = {f.column for f in PARCEL_FIELDS if f.column}
    assert registered - in_db == set(), "registry fields without a column"
    assert in_db - registered - STORAGE_ONLY == set(), "columns missing from the registry"


def _page(conn: Connection, viewer: object, source: ParcelSource = LIVE,
          **filters: object) -> list[dict[str, object]]:
    document = parcel_page(
        conn, ParcelFilter(**filters), SortSpec.parse("-noise_quota_db"), viewer=viewer,
        reference=TODAY, srid=4326, as_feature=False, limit=5, cursor=None, envelope=ENVELOPE,
        source=source)
    items: list[dict[str, object]] = json.loads(document)["items"]
    return items


def test_a_new_field_filters_sorts_serialises_and_is_disclosed_only_when_released(
        conn: Connection, clock: Clock) -> None:
    ids = conn.execute(text(
        "SELECT id FROM parcels WHERE marketing_status = 'verfuegbar' ORDER BY id LIMIT 3")
    ).scalars().all()
    written = datetime.now(UTC)
    clock.set_db_now(written)
    for parcel_id, quota in zip(ids, (55.0, 65.0, 60.0), strict=True):
        conn.execute(text("UPDATE parcels SET noise_quota_db = :q WHERE id = :id"),
                     {"q": quota, "id": parcel_id})
    conn.execute(text("UPDATE parcels SET public_fields = public_fields || "
                      "ARRAY['noise_quota_db'] WHERE id = :id"), {"id": ids[1]})

    staff = _page(conn, STAFF, noise_quota_min_db=58)
    assert [(p["id"], p["noise_quota_db"]) for p in staff] == [(ids[1], 65.0), (ids[2], 60.0)]

    public = _page(conn, PUBLIC_VIEWER, noise_quota_min_db=50)
    assert [(p["id"], p["noise_quota_db"]) for p in public] == [(ids[1], 65.0)]

    withheld = one_parcel(conn, ids[2], viewer=PUBLIC_VIEWER, reference=TODAY, srid=4326,
                          as_feature=False)
    assert withheld is not None and "noise_quota_db" not in json.loads(withheld[0])

    # the state of a moment after the writes, rebuilt from the history: the same answers
    past = ParcelSource.as_of(written + timedelta(seconds=1))
    assert _page(conn, STAFF, past, noise_quota_min_db=58) == staff
    assert _page(conn, PUBLIC_VIEWER, past, noise_quota_min_db=50) == public
