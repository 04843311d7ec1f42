"""The region's other collections: sites, districts (with their balance), municipalities,
infrastructure and land sales, described as :class:`TableCollection` s.

Districts carry their supply–demand balance as flat attributes (for choropleths); the
figures come from :func:`app.services.balance.compute_balance` and are bound to the query as
one JSON value per request (:func:`with_district_balance`).
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from app.db.queries.cql2_sql import QueryableType
from app.db.queries.districts import active_supply_join
from app.db.queries.features.base import Property, TableCollection
from app.db.queries.sites import SITES_FROM, SITES_PARAMS

Q = QueryableType


def _common(alias: str) -> tuple[Property, ...]:
    return (
        Property("synthetic", f"{alias}.is_synthetic", Q.BOOLEAN,
                 "Synthetische Demodaten", nullable=False),
    )


#: The active supply of a site or area (the ``a`` of its supply join): marketed parcels.
ACTIVE_SUPPLY_PROPERTIES = (
    Property("active_parcels", "a.n", Q.INTEGER, "Aktive Flächen (Anzahl)", nullable=False),
    Property("active_net_area_ha", "round(a.ha::numeric, 4)::float8", Q.NUMBER,
             "Aktive Flächen, netto", unit="ha", nullable=False),
)


def _boundary_figures(alias: str) -> tuple[Property, ...]:
    """Area (km², from the boundary in EPSG:25832) and active supply of a district or
    municipality aliased ``alias``."""
    return (Property("area_km2", f"round({alias}.area_km2::numeric, 3)::float8", Q.NUMBER,
                     "Fläche", unit="km²", sortable=True, nullable=False),
            *ACTIVE_SUPPLY_PROPERTIES)


SITES = TableCollection(
    id="sites", title="Standorte",
    description="Gewerbe- und Industriestandorte (z. B. Gewerbegebiete) mit ihren aktiven "
                "Flächen (vermarktet: verfügbar oder reserviert). Demo: synthetisch.",
    from_sql=SITES_FROM, id_sql="s.id", geometry_sql="s.geom_25832", storage_srid=25832,
    geometry_type="MultiPolygon", params=tuple(SITES_PARAMS.items()),
    public_where=("s.withdrawn_at IS NULL",), temporal="updated_at",
    properties=(
        Property("external_id", "s.external_id", Q.STRING, "Schlüssel des Kreises"),
        Property("name", "s.name", Q.STRING, "Name", sortable=True, nullable=False),
        Property("marketing_name", "s.marketing_name", Q.STRING, "Vermarktungsname"),
        Property("description", "s.description", Q.STRING, "Beschreibung"),
        Property("web_url", "s.web_url", Q.STRING, "Webseite"),
        Property("municipality_ags", "s.municipality_ags", Q.STRING, "Gemeinde (AGS)",
                 nullable=False),
        Property("municipality_name", "m.name", Q.STRING, "Gemeinde", nullable=False),
        Property("district_ags", "s.district_ags", Q.STRING, "Kreis (AGS)", nullable=False),
        Property("district_name", "d.name", Q.STRING, "Kreis", nullable=False),
        Property("outline_area_ha", "round(s.outline_area_ha::numeric, 4)::float8", Q.NUMBER,
                 "Fläche des Umrisses", unit="ha"),
        *ACTIVE_SUPPLY_PROPERTIES,
        *_common("s"),
        Property("withdrawn_at", "s.withdrawn_at", Q.DATETIME, "Zurückgezogen am",
                 staff_only=True),
        Property("created_at", "s.created_at", Q.DATETIME, "Angelegt", nullable=False),
        Property("updated_at", "s.updated_at", Q.DATETIME, "Zuletzt geändert", sortable=True,
                 nullable=False),
    ),
)

#: Balance attributes per framework scenario (``<name>_<scenario key>``), net hectares.
BALANCE_FIGURES: tuple[tuple[str, QueryableType, str, str | None], ...] = (
    ("demand_remaining_net_ha", Q.NUMBER, "Restbedarf bis zum Ende des Zeitraums", "ha"),
    ("balance_net_ha", Q.NUMBER, "Bilanz: Angebot minus Restbedarf", "ha"),
    ("reach_years", Q.NUMBER, "Reichweite des Angebots", "Jahre"),
    ("first_shortfall_year", Q.INTEGER, "Erstes Jahr mit Fehlbedarf", None),
)


def _balance_value(name: str, kind: QueryableType) -> str:
    cast = "integer" if kind is Q.INTEGER else "float8"
    return f"CAST(b.doc->>'{name}' AS {cast})"


def _district_collection(scenarios: tuple[tuple[str, str], ...]) -> TableCollection:
    """The districts, with balance attributes for each (key, label) of ``scenarios``."""
    active, params = active_supply_join("district_ags", "d")
    figures = [Property(f"{name}_{key}", _balance_value(f"{name}_{key}", kind), kind,
                        f"{text} ({label})", unit=unit)
               for key, label in scenarios for name, kind, text, unit in BALANCE_FIGURES]
    return TableCollection(
        id="districts", title="Kreise mit Flächenbilanz",
        description="Die neun Kreise und kreisfreien Städte des Reviers (BKG VG250) mit "
                    "Angebot, Restbedarf, Bilanz und Reichweite je Szenario des "
                    "Orientierungsrahmens, heute.",
        from_sql=(f"districts d {active} LEFT JOIN LATERAL (SELECT "
                  "CAST(:district_balance AS jsonb) -> d.ags AS doc) b ON true"),
        id_sql="d.ags", id_type=Q.STRING, geometry_sql="d.geom_25832", storage_srid=25832,
        geometry_type="MultiPolygon",
        params=(*params.items(), ("district_balance", "{}")),
        properties=(
            Property("ags", "d.ags", Q.STRING, "Amtlicher Gemeindeschlüssel (5 Stellen)",
                     sortable=True, nullable=False),
            Property("name", "d.name", Q.STRING, "Name", sortable=True, nullable=False),
            Property("kind", "d.kind", Q.STRING, "Art (Landkreis, kreisfreie Stadt)",
                     nullable=False),
            Property("state", "d.state", Q.STRING, "Land", nullable=False),
            *_boundary_figures("d"),
            Property("supply_net_ha", _balance_value("supply_net_ha", Q.NUMBER), Q.NUMBER,
                     "Angebot der Bilanz (Marktangebot), netto", unit="ha"),
            Property("short_term_net_ha", _balance_value("short_term_net_ha", Q.NUMBER),
                     Q.NUMBER, "Davon sofort oder kurzfristig verfügbar", unit="ha"),
            *figures,
        ),
    )


#: The districts as published before the balance is known (the default framework's keys).
DISTRICTS = _district_collection((("niedrig", "unteres Szenario"),
                                  ("hoch", "oberes Szenario")))


def with_district_balance(balance: dict[str, Any]) -> TableCollection:
    """The districts collection carrying ``balance`` (the document of
    :func:`~app.services.balance.compute_balance`): one attribute set per framework scenario."""
    scenarios = tuple((s["key"], s["label"]) for s in balance["scenarios"]
                      if s["kind"] == "framework")
    by_ags: dict[str, dict[str, Any]] = {}
    for area in balance["areas"]:
        if area["level"] != "district":
            continue
        values: dict[str, Any] = {"supply_net_ha": area["supply_scope_net_ha"],
                                  "short_term_net_ha": area["supply"]["short_term_net_ha"]}
        for key, _ in scenarios:
            figures = area["scenarios"][key]
            values.update({f"{name}_{key}": figures[name] for name, *_ in BALANCE_FIGURES})
        by_ags[area["ags"]] = values
    base = _district_collection(scenarios)
    params = tuple((k, json.dumps(by_ags) if k == "district_balance" else v)
                   for k, v in base.params)
    return replace(base, params=params)


def municipalities() -> TableCollection:
    """The municipalities (BKG VG250) with their active supply."""
    active, params = active_supply_join("municipality_ags", "m")
    return TableCollection(
        id="municipalities", title="Gemeinden",
        description="Die Gemeinden des Reviers (BKG VG250) mit ihren aktiven Flächen.",
        from_sql=f"municipalities m JOIN districts d ON d.ags = m.district_ags {active}",
        id_sql="m.ags", id_type=Q.STRING, geometry_sql="m.geom_25832", storage_srid=25832,
        geometry_type="MultiPolygon", params=tuple(params.items()),
        properties=(
            Property("ags", "m.ags", Q.STRING, "Amtlicher Gemeindeschlüssel (8 Stellen)",
                     sortable=True, nullable=False),
            Property("name", "m.name", Q.STRING, "Name", sortable=True, nullable=False),
            Property("district_ags", "m.district_ags", Q.STRING, "Kreis (AGS)",
                     nullable=False),
            Property("district_name", "d.name", Q.STRING, "Kreis", nullable=False),
            *_boundary_figures("m"),
        ),
    )


INFRASTRUCTURE = TableCollection(
    id="infrastructure", title="Infrastruktur",
    description="Autobahnen und Anschlussstellen, Flughafen, Güterverkehrszentren. "
                "Demo: synthetisch.",
    from_sql="infrastructure i", id_sql="i.id", geometry_sql="i.geom_25832",
    storage_srid=25832, geometry_type="Geometry",
    properties=(
        Property("external_id", "i.external_id", Q.STRING, "Kennung"),
        Property("kind", "i.kind", Q.STRING, "Art", nullable=False, sortable=True),
        Property("name", "i.name", Q.STRING, "Name", nullable=False, sortable=True),
        Property("ref", "i.ref", Q.STRING, "Nummer (z. B. A 9)"),
        *_common("i"),
    ),
)

LAND_SALES = TableCollection(
    id="land_sales", title="Grundstücksverkäufe",
    description="Verkäufe von Gewerbeflächen (beobachtete Nachfrage); nur für Mitarbeitende. "
                "Demo: synthetisch.",
    from_sql="land_sales l", id_sql="l.id", geometry_sql="l.geom_25832", storage_srid=25832,
    geometry_type="Point", staff_only=True, where=("l.withdrawn_at IS NULL",),
    temporal="sale_date",
    properties=(
        Property("external_id", "l.external_id", Q.STRING, "Kennung"),
        Property("sale_date", "l.sale_date", Q.DATE, "Verkaufsdatum", sortable=True,
                 nullable=False),
        Property("district_ags", "l.district_ags", Q.STRING, "Kreis (AGS)", nullable=False),
        Property("municipality_ags", "l.municipality_ags", Q.STRING, "Gemeinde (AGS)"),
        Property("parcel_id", "l.parcel_id", Q.INTEGER, "Fläche (id)"),
        Property("site_id", "l.site_id", Q.INTEGER, "Standort (id)"),
        Property("area_ha", "l.area_ha", Q.NUMBER, "Fläche", unit="ha", sortable=True,
                 nullable=False),
        Property("price_eur_m2", "l.price_eur_m2::float8", Q.NUMBER, "Kaufpreis",
                 unit="EUR/m²", sortable=True),
        Property("buyer_user_group", "l.buyer_user_group", Q.STRING, "Nutzergruppe"),
        Property("buyer_origin", "l.buyer_origin", Q.STRING, "Herkunft des Käufers"),
        *_common("l"),
    ),
)
