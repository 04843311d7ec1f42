"""The portfolio report's document (:mod:`app.services.reports.portfolio`) as people read it:
German tables (CSV, XLSX, HTML), charts, the district map (drawn from the database's own
district boundaries), and the PDF printed from the HTML.

Every format reads the one document, so the XLSX totals are the JSON totals.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from app.domain import vocab
from app.domain.clock import today
from app.domain.parcel_fields import FILTER_PARAMS
from app.services.render.charts import bar_chart
from app.services.render.html import date_de, png_data_uri, render_html
from app.services.render.maps import MapArea, choropleth_png
from app.services.render.palette import AVAILABILITY_COLOURS, RESTRICTION_COLOURS
from app.services.render.pdf import html_to_pdf
from app.services.render.tables import Column, Table, find_table, table_csv
from app.services.render.xlsx import workbook_bytes

_AVAILABILITY_COLUMNS = tuple(Column(code, f"{label} (ha)", "ha") for code, label in (
    (t.code, t.label) for t in vocab.AVAILABILITY))

#: The tables by API name (``?table=`` of CSV answers), in report order.
TABLE_KEYS = ("districts", "availability", "supply", "user_groups", "premium_sites", "balance",
              "partner_sites", "partner_municipalities", "changes", "changed_parcels")

#: Each table: sheet name, title, columns and note (German).
TABLE_SPECS: dict[str, tuple[str, str, tuple[Column, ...], str | None]] = {
    "districts": ("Kreise", "Standorte und Flächen je Kreis", (
        Column("district_ags", "AGS"), Column("district_name", "Kreis"),
        Column("sites", "Standorte", "int"), Column("parcels", "Flächen", "int"),
        Column("net_ha", "Netto (ha)", "ha"), Column("gross_ha", "Brutto (ha)", "ha"),
        Column("short_term_net_ha", "sofort/kurzfristig (ha)", "ha"),
        Column("unrestricted_net_ha", "ohne Restriktion (ha)", "ha"),
        Column("premium_sites", "Premiumstandorte", "int"),
        Column("premium_net_ha", "Premium-Fläche (ha)", "ha")),
        "Ein Standort mit Flächen in mehreren Kreisen zählt in jedem; in der Summe einmal."),
    "availability": ("Verfügbarkeit", "Nettofläche je Kreis nach zeitlicher Verfügbarkeit", (
        Column("district_ags", "AGS"), Column("district_name", "Kreis"),
        *_AVAILABILITY_COLUMNS, Column("net_ha", "Summe (ha)", "ha")), None),
    "supply": ("Kategorie-Verfügbarkeit", "Flächen nach Kategorie, Verfügbarkeit und "
               "Restriktion", (
        Column("category_label", "Flächenkategorie"),
        Column("availability_label", "Verfügbarkeit"),
        Column("restriction_label", "Restriktion"), Column("parcels", "Flächen", "int"),
        Column("net_ha", "Netto (ha)", "ha"), Column("gross_ha", "Brutto (ha)", "ha")), None),
    "user_groups": ("Nutzergruppen", "Nettofläche nach Nutzergruppe und Verfügbarkeit", (
        Column("user_group_label", "Nutzergruppe"), Column("parcels", "Flächen", "int"),
        *_AVAILABILITY_COLUMNS, Column("net_ha", "Summe (ha)", "ha")),
        "Eine Fläche zählt für jede Nutzergruppe, für die sie geeignet ist: Die Zeilen "
        "überschneiden sich und ergeben keine Summe."),
    "premium_sites": ("Premiumstandorte", "Premiumstandorte", (
        Column("site_id", "Nr.", "int"), Column("site_name", "Standort"),
        Column("municipality_name", "Gemeinde"),
        Column("qualifying_parcels", "Flächen Premium", "int"),
        Column("qualifying_net_ha", "Netto Premium (ha)", "ha"),
        Column("largest_parcel_net_ha", "größte Fläche (ha)", "ha"),
        Column("site_net_ha", "Netto gesamt (ha)", "ha"),
        Column("best_availability_label", "Verfügbar"),
        Column("nearest_junction_km", "Autobahn (km)", "km"),
        Column("broadband_mbps", "Mbit/s", "int"),
        Column("rail_siding", "Gleis"), Column("operation_24h", "24 h")),
        "Premium: die Flächen, die alle Kriterien erfüllen; gesamt: alle ausgewählten Flächen "
        "des Standorts. Autobahn: nächste Anschlussstelle (km, Luftlinie)."),
    "balance": ("Bilanz", "Bilanz und Reichweite je Kreis", (
        Column("area_name", "Gebiet"), Column("scenario_label", "Szenario"),
        Column("supply_net_ha", "Angebot (ha)", "ha"),
        Column("demand_remaining_net_ha", "Restbedarf (ha)", "ha"),
        Column("annual_demand_net_ha", "Bedarf je Jahr (ha)", "ha"),
        Column("balance_net_ha", "Bilanz (ha)", "ha"),
        Column("short_term_balance_net_ha", "Bilanz sofort/kurzfristig (ha)", "ha"),
        Column("reach_years", "Reichweite (Jahre)", "years"),
        Column("first_shortfall_year", "erstes Defizitjahr")),
        "Bilanz = Angebot − Restbedarf bis zum Ende des Zeitraums; Bilanz sofort/kurzfristig: "
        "nur das sofort oder kurzfristig verfügbare Angebot; Reichweite = Angebot ÷ "
        "jährlicher Bedarf."),
    "partner_sites": ("Interkommunal-Standorte", "Interkommunale Standorte nach Gemeinden", (
        Column("site_id", "Standort-Nr.", "int"), Column("site_name", "Standort"),
        Column("municipality_ags", "Gemeinde-AGS"), Column("municipality_name", "Gemeinde"),
        Column("share_pct", "Anteil", "pct"),
        Column("site_net_ha", "Standort netto (ha)", "ha"),
        Column("net_ha_by_share", "nach Anteil (ha)", "ha"),
        Column("net_ha_by_location", "nach Lage (ha)", "ha")),
        "Nach Anteil: Nettofläche des Standorts × Anteil der Partnergemeinde. Nach Lage: "
        "Nettofläche nach dem Flächenanteil der Flächen in jeder Gemeinde."),
    "partner_municipalities": ("Interkommunal-Gemeinden", "Interkommunale Standorte: "
                               "Zuordnung je Gemeinde", (
        Column("municipality_ags", "Gemeinde-AGS"), Column("municipality_name", "Gemeinde"),
        Column("district_name", "Kreis"), Column("sites", "Standorte", "int"),
        Column("net_ha_by_share", "nach Anteil (ha)", "ha"),
        Column("net_ha_by_location", "nach Lage (ha)", "ha"),
        Column("difference_net_ha", "Differenz (ha)", "ha")), None),
    "changes": ("Veränderungen", "Veränderungen je Kreis", (
        Column("district_name", "Kreis"),
        Column("added", "neu", "int"), Column("added_net_ha", "neu (ha)", "ha"),
        Column("sold", "verkauft", "int"), Column("sold_net_ha", "verkauft (ha)", "ha"),
        Column("reserved", "reserviert", "int"),
        Column("withdrawn", "vom Markt", "int"),
        Column("withdrawn_net_ha", "vom Markt (ha)", "ha"),
        Column("availability_moved", "Verfügb. geändert", "int"),
        Column("restrictions_removed", "Restr. entfallen", "int"),
        Column("restrictions_added", "Restr. neu", "int"),
        Column("net_ha_before", "vorher (ha)", "ha"),
        Column("net_ha_after", "nachher (ha)", "ha"),
        Column("net_ha_delta", "Saldo (ha)", "ha")),
        "Anzahl der Flächen und ihre Nettofläche; vom Markt: zurückgezogen oder Standort "
        "aufgegeben; Restr.: Restriktionsursachen; vorher/nachher: Angebot der Auswahl an "
        "beiden Tagen."),
    "changed_parcels": ("Veränderte Flächen", "Veränderte Flächen", (
        Column("id", "Flächen-Nr.", "int"), Column("name", "Fläche"),
        Column("site_id", "Standort-Nr.", "int"), Column("district_ags", "Kreis-AGS"),
        Column("changes_label", "Veränderung"),
        Column("marketing_status_before_label", "Vermarktung vorher"),
        Column("marketing_status_after_label", "Vermarktung nachher"),
        Column("availability_before_label", "Verfügbarkeit vorher"),
        Column("availability_after_label", "Verfügbarkeit nachher"),
        Column("net_ha_before", "netto vorher (ha)", "ha"),
        Column("net_ha_after", "netto nachher (ha)", "ha")), None),
}


def portfolio_tables(document: Mapping[str, Any]) -> list[Table]:
    """The document's tables in report order (the changes only when ``since`` was given)."""
    tables = []
    for key in TABLE_KEYS:
        section = document.get(key)
        if section is None:
            continue
        sheet, title, columns, note = TABLE_SPECS[key]
        tables.append(Table(key, sheet, title, columns, section["rows"], section["total"],
                            note))
    return tables


def portfolio_csv(document: Mapping[str, Any], key: str) -> str:
    """CSV of one table (``KeyError`` naming the available ones otherwise)."""
    return table_csv(find_table(portfolio_tables(document), key))


def _meta(document: Mapping[str, Any]) -> list[tuple[str, str]]:
    filters = document["filters"]
    meta = [("Gebiet", document["scope"]["label"]), ("Stichtag", date_de(document["at"]))]
    if document["since"]:
        meta.append(("Veränderungen seit", date_de(document["since"])))
    meta.append(("Auswahl", filters_de(filters)))
    fw = document["framework"]
    meta.append(("Orientierungsrahmen", f"{fw['name']} (Version {fw['version']}, "
                 f"{fw['period']['first_year']}–{fw['period']['last_year']})"))
    meta.append(("Ansicht", "öffentlich" if document["public"] else "intern"))
    if document["synthetic"]:
        meta.append(("Daten", "synthetische Demodaten"))
    meta.append(("Erstellt am", date_de(today())))
    return meta


#: German names of filters whose field has no vocabulary (else its title is used).
_FILTER_NAMES = {"district": "Kreis (AGS)", "municipality": "Gemeinde (AGS)",
                 "site_id": "Standort-Nr.", "availability_horizon": "verfügbar spätestens",
                 "restriction_max": "Restriktion höchstens", "user_group": "Nutzergruppe",
                 "exclude_causes": "ohne Restriktionsursache", "available_by": "verfügbar bis",
                 "text": "Text", "bbox": "Ausschnitt",
                 "net_area_min_ha": "Nettofläche mindestens (ha)",
                 "net_area_max_ha": "Nettofläche höchstens (ha)",
                 "gross_area_min_ha": "Bruttofläche mindestens (ha)",
                 "gross_area_max_ha": "Bruttofläche höchstens (ha)",
                 "max_junction_km": "Autobahn-Anschlussstelle höchstens (km)",
                 "max_airport_km": "Flughafen höchstens (km)",
                 "max_price_eur_m2": "Preis höchstens (€/m²)",
                 "noise_quota_min_db": "Lärmkontingent mindestens (dB(A)/m²)",
                 "rail_siding": "Gleisanschluss", "operation_24h": "24-Stunden-Betrieb"}


def filters_de(filters: Mapping[str, Any]) -> str:
    """The active filters in German, codes as their labels.

    >>> filters_de({"marketing_status": ("verfuegbar", "reserviert"),
    ...             "active_sites_only": True, "rail_siding": True})
    'Vermarktungsstand: verfügbar, reserviert; nur aktive Standorte; Gleisanschluss: ja'
    """
    parts = []
    for name, value in filters.items():
        if name == "active_sites_only":
            parts.append("nur aktive Standorte")
            continue
        f = FILTER_PARAMS[name][0] if name in FILTER_PARAMS else None
        vocabulary = f.vocabulary if f is not None else None
        label = _FILTER_NAMES.get(name) or (vocabulary.title if vocabulary else None) or (
            f.import_aliases[0] if f is not None and f.import_aliases else name)
        values = value if isinstance(value, list | tuple) else (value,)
        shown = [vocabulary.label(v) if vocabulary is not None and v in vocabulary
                 else "ja" if v is True else "nein" if v is False
                 else f"{v:g}".replace(".", ",") if isinstance(v, float) else str(v)
                 for v in values]
        parts.append(f"{label}: {', '.join(shown)}")
    return "; ".join(parts) or "keine"


def portfolio_xlsx(document: Mapping[str, Any]) -> bytes:
    """The workbook: an overview sheet, then a sheet per table."""
    return workbook_bytes(portfolio_tables(document), title=document["title"],
                          meta=_meta(document), notes=document["notes"])


def _charts(document: Mapping[str, Any]) -> dict[str, bytes]:
    """The report's charts as PNG, by name."""
    districts = document["availability"]["rows"]
    names = [d["district_name"] for d in districts]
    charts = {"availability": bar_chart(
        "Flächenangebot je Kreis nach zeitlicher Verfügbarkeit",
        names, {t.label: [d[t.code] or 0.0 for d in districts] for t in vocab.AVAILABILITY},
        unit="ha netto", stacked=True, horizontal=True,
        colours={t.label: AVAILABILITY_COLOURS[t.code] for t in vocab.AVAILABILITY})}
    cube = document["supply"]["rows"]
    categories = [t for t in vocab.CATEGORY if any(r["category"] == t.code for r in cube)]
    charts["categories"] = bar_chart(
        "Flächenangebot nach Kategorie und Restriktion", [t.label for t in categories],
        {lvl.label: [sum(r["net_ha"] for r in cube if r["category"] == t.code
                         and r["restriction_level"] == lvl.code) for t in categories]
         for lvl in vocab.RESTRICTION_LEVEL},
        unit="ha netto", stacked=True, horizontal=True,
        colours={lvl.label: RESTRICTION_COLOURS[lvl.code] for lvl in vocab.RESTRICTION_LEVEL})
    balance = document["balance"]["rows"]
    areas = list(dict.fromkeys(r["area_name"] for r in balance))
    if balance:
        charts["reach"] = bar_chart(
            "Reichweite des Angebots je Gebiet und Szenario", areas,
            {s["label"]: [next((r["reach_years"] or 0.0 for r in balance
                                if r["area_name"] == a and r["scenario"] == s["key"]), 0.0)
                          for a in areas] for s in document["scenarios"]},
            unit="Jahre", horizontal=True)
    if document["changes"] is not None:
        rows = document["changes"]["rows"]
        charts["changes"] = bar_chart(
            f"Veränderung der Nettofläche seit {date_de(document['since'])}",
            [r["district_name"] for r in rows], {"Veränderung": [r["net_ha_delta"]
                                                                 for r in rows]},
            unit="ha netto", horizontal=True)
    return charts


#: A district's AGS, name and boundary (WKB, EPSG:25832).
Shape = tuple[str, str, bytes]


def _maps(document: Mapping[str, Any], shapes: Sequence[Shape]) -> dict[str, bytes]:
    """District choropleths: net ha of the selection, and the balance of the first
    scenario (districts outside the report's area without a value)."""
    in_scope = {d["district_ags"] for d in document["districts"]["rows"]}
    net = {d["district_ags"]: d["net_ha"] for d in document["districts"]["rows"]}
    maps = {"map_supply": choropleth_png(
        [MapArea(wkb, net.get(ags) if ags in in_scope else None, name)
         for ags, name, wkb in shapes],
        title="Flächenangebot je Kreis", legend_title="Nettofläche", unit="ha")}
    scenario = document["scenarios"][0] if document["scenarios"] else None
    if scenario is not None:
        bal = {r["area_ags"]: r["balance_net_ha"] for r in document["balance"]["rows"]
               if r["scenario"] == scenario["key"] and r["area_ags"]}
        maps["map_balance"] = choropleth_png(
            [MapArea(wkb, bal.get(ags), name) for ags, name, wkb in shapes],
            title=f"Bilanz je Kreis: {scenario['label']}",
            legend_title="Angebot − Restbedarf", unit="ha", diverging=True)
    return maps


def portfolio_html(document: Mapping[str, Any], shapes: Sequence[Shape]) -> str:
    """The report as a printable German HTML page (charts and maps as ``data:`` URIs);
    ``shapes``: the districts' boundaries for the maps."""
    images = {k: png_data_uri(v) for k, v in {**_charts(document),
                                              **_maps(document, shapes)}.items()}
    tables = {t.key: t for t in portfolio_tables(document)}
    return render_html("portfolio.html.j2", title=document["title"], doc=document,
                       synthetic=document["synthetic"], tables=tables, images=images,
                       meta=_meta(document), generated_at=today(),
                       availability=vocab.AVAILABILITY)


def portfolio_pdf(document: Mapping[str, Any], shapes: Sequence[Shape], *,
                  chromium_path: str | None = None) -> bytes:
    """The HTML page printed to PDF (A4) by headless Chromium."""
    return html_to_pdf(portfolio_html(document, shapes), chromium_path=chromium_path)


def report_filename(document: Mapping[str, Any], extension: str, table: str = "") -> str:
    """``portfolio_<level>_<day>[_<table>].<extension>``."""
    name = f"portfolio_{document['scope']['level']}_{date.fromisoformat(document['at'])}"
    return f"{name}_{table}.{extension}" if table else f"{name}.{extension}"
