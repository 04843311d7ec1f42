"""Replay the synthetic demo timeline (``geodata/demo/timeline.json``) through the write paths.

The demo's surveyed state is its history's start (2020-12-31, see :data:`SURVEY_TIME`).
The timeline's events follow in date order, each applied with the same services the API
uses (sell, reserve and release, change availability, restriction or area, create sites
and parcels, withdraw, verify) as the admin :data:`PRINCIPAL`, with the parcel history's
clock (``gefis.now``, migration 0007) set to the event's time. So the history is real
history: ``ParcelSource.as_of`` rebuilds the state of any day from it. Enquiries are
recorded with their own ``received_on``.

Idempotent: an event is applied once. Parcel events are recognised by the history reason
(``Demo-Zeitreihe DEMO-T-…``), a new site by its external id, a site withdrawal by
``withdrawn_at``, an enquiry by the id in its ``outcome_note``. Events dated after today
are left for a later load. The caller owns the transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, text

from app.db.queries.parcels.rows import external_ids_changed_for, synthetic_ids
from app.domain.clock import today
from app.domain.enquiry_input import EnquiryCreate
from app.domain.geometry_input import PolygonGeometry
from app.domain.parcel_input import ParcelCreate, ParcelPatch, SaleInput
from app.domain.roles import Principal, Role
from app.domain.site_input import SiteCreate
from app.services import parcel_writes, site_writes
from app.services.enquiry_writes import create_enquiry

#: When the surveyed state is stamped into the history (the study's survey date).
SURVEY_TIME = "2020-12-31T12:00:00+01:00"
#: Who writes the timeline (history actor and enquiries' ``created_by``).
PRINCIPAL = Principal(Role.ADMIN, None, "demo-zeitreihe")
REASON = "Demo-Zeitreihe {id}: {label} (synthetisch)"  # the id is parsed back (_HISTORY_IDS)
#: ``LIKE`` pattern of the history reasons the timeline writes (:data:`REASON`).
REASON_LIKE = "Demo-Zeitreihe DEMO-T-%"
ENQUIRY_NOTE = "Synthetische Demo-Anfrage {id} (Demo-Zeitreihe)"
SRID = 25832
#: German history labels per event kind.
LABELS = {
    "sale": "Verkauf", "reservation": "Reservierung", "release": "Reservierung aufgehoben",
    "availability": "Verfügbarkeit neu eingeschätzt", "restriction": "Beschränkung geändert",
    "area": "Fläche geändert", "new_site": "Neuer Standort mit Flächen",
    "withdraw_parcel": "Fläche zurückgezogen", "withdraw_site": "Standort zurückgezogen",
    "verification": "Daten geprüft",
}
_HISTORY_IDS = text(
    "SELECT DISTINCT split_part(substr(reason, 16), ':', 1) FROM parcel_history "
    f"WHERE reason LIKE '{REASON_LIKE}'")
_SETTINGS = ("gefis.now", "gefis.actor", "gefis.reason")


def _set(conn: Connection, values: dict[str, str]) -> None:
    """Set transaction-local settings (``''`` clears: e.g. the history clock is now() again)."""
    sets = ", ".join(f"set_config('{name}', :v{i}, true)" for i, name in enumerate(values))
    conn.execute(text(f"SELECT {sets}"), {f"v{i}": v for i, v in enumerate(values.values())})


@contextmanager
def history_clock(conn: Connection, at: str) -> Iterator[None]:
    """Within the block, the parcel history (and ``availability_assessed_on``) says ``at``
    (``''``: now() again); the clock, actor and reason the transaction had before are
    restored afterwards."""
    before = conn.execute(text(
        "SELECT " + ", ".join(f"coalesce(current_setting('{s}', true), '')" for s in _SETTINGS)
    )).one()
    _set(conn, {"gefis.now": at})
    try:
        yield
    finally:
        _set(conn, dict(zip(_SETTINGS, before, strict=True)))


def timeline_parcels(conn: Connection) -> set[str]:
    """External ids of the parcels the timeline has written (the base file no longer
    describes them: a reload of the base must leave them alone)."""
    return external_ids_changed_for(conn, REASON_LIKE)


class _Replay:
    """Ids by external id, what was applied before, and the appliers per event kind."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.parcels = synthetic_ids(conn)
        sites = conn.execute(text(
            "SELECT external_id, id, withdrawn_at FROM sites WHERE is_synthetic")).all()
        self.sites: dict[str, int] = {r.external_id: r.id for r in sites}
        self.withdrawn = {r.external_id for r in sites if r.withdrawn_at is not None}
        self.done = {str(r[0]) for r in conn.execute(_HISTORY_IDS)}

    def applied(self, event: dict[str, Any]) -> bool:
        if event["id"] in self.done:
            return True
        if event["kind"] == "new_site":
            return event["site"]["id"] in self.sites
        if event["kind"] == "withdraw_site":
            return event["site"] in self.withdrawn
        return False

    def apply(self, event: dict[str, Any]) -> None:
        at = datetime.fromisoformat(event["at"])
        label = LABELS[event["kind"]] + (f" – {event['note']}" if event.get("note") else "")
        _set(self.conn, {"gefis.now": event["at"], "gefis.actor": PRINCIPAL.actor,
                         "gefis.reason": REASON.format(id=event["id"], label=label)})
        kind = event["kind"]
        if kind == "new_site":
            self._new_site(event, at)
        elif kind == "verification":
            for ext in event["parcels"]:
                parcel_writes.verify_parcel(self.conn, PRINCIPAL, self.parcels[ext], at=at)
        elif kind == "withdraw_site":
            for ext in event["parcels"]:
                parcel_writes.withdraw_parcel(self.conn, PRINCIPAL, self.parcels[ext])
            site_writes.withdraw_site(self.conn, PRINCIPAL, self.sites[event["site"]], at=at)
            self.withdrawn.add(event["site"])
        elif kind == "withdraw_parcel":
            parcel_writes.withdraw_parcel(self.conn, PRINCIPAL, self.parcels[event["parcel"]])
        elif kind == "sale":
            sale = SaleInput.model_validate({k: event[k] for k in (
                "sale_date", "buyer_user_group", "buyer_origin", "price_eur_m2")})
            parcel_writes.sell_parcel(self.conn, PRINCIPAL, self.parcels[event["parcel"]], sale)
        else:
            parcel_writes.update_parcel(
                self.conn, PRINCIPAL, self.parcels[event["parcel"]], _patch(event),
                expected_version=None, srid=SRID, repair=False)

    def _new_site(self, event: dict[str, Any], at: datetime) -> None:
        feature = event["site"]
        props = {k: v for k, v in feature["properties"].items()
                 if k in SiteCreate.model_fields and v not in (None, [])}
        site = SiteCreate.model_validate(
            {**props, "geometry": PolygonGeometry.model_validate(feature["geometry"])})
        site_id = site_writes.create_site(self.conn, PRINCIPAL, site, srid=SRID, repair=False,
                                          synthetic=True).item_id
        self.sites[feature["id"]] = site_id
        for f in event["parcels"]:
            values = {k: v for k, v in f["properties"].items()
                      if k in ParcelCreate.model_fields and v is not None}
            parcel = ParcelCreate.model_validate(
                {**values, "site_id": site_id, "geometry": f["geometry"]})
            self.parcels[f["id"]] = parcel_writes.create_parcel(
                self.conn, PRINCIPAL, parcel, srid=SRID, repair=False, synthetic=True,
                at=at).item_id


def _patch(event: dict[str, Any]) -> ParcelPatch:
    """The merge patch of a plain parcel update event."""
    kind = event["kind"]
    if kind in ("reservation", "release"):
        return ParcelPatch(marketing_status="reserviert" if kind == "reservation"
                           else "verfuegbar")
    if kind == "availability":
        return ParcelPatch(availability=event["availability"])
    if kind == "restriction":
        return ParcelPatch(restriction_level=event["restriction_level"],
                           restriction_causes=event["restriction_causes"])
    if kind == "area":
        return ParcelPatch(net_area_ha=event["net_area_ha"])
    raise ValueError(f"unknown timeline event kind {kind!r}")


def _enquiries(conn: Connection, enquiries: list[dict[str, Any]], until: date) -> int:
    known = {str(r[0]) for r in conn.execute(text(
        "SELECT outcome_note FROM enquiries WHERE created_by = :actor"),
        {"actor": PRINCIPAL.actor})}
    created = 0
    for row in enquiries:
        note = ENQUIRY_NOTE.format(id=row["id"])
        if note in known or date.fromisoformat(row["received_on"]) > until:
            continue
        data = EnquiryCreate.model_validate(
            {**{k: v for k, v in row.items() if k != "id"}, "outcome_note": note})
        create_enquiry(conn, PRINCIPAL, data, synthetic=True)
        created += 1
    return created


def apply_timeline(conn: Connection, path: Path) -> tuple[int, int]:
    """Apply the events and enquiries of ``path`` not applied yet, dated up to today.

    Returns (events applied, enquiries recorded); both 0 on a reload.
    """
    document = json.loads(path.read_text(encoding="utf-8"))
    until = today()
    replay = _Replay(conn)
    applied = 0
    with history_clock(conn, ""):
        for event in document["events"]:
            if event["at"][:10] > until.isoformat() or replay.applied(event):
                continue
            replay.apply(event)
            applied += 1
    return applied, _enquiries(conn, document["enquiries"], until)
