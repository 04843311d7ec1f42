"""The quarterly report as files: tables, charts, the district map, HTML, XLSX, PDF, JSON.

:func:`write_report` writes ``<output>/<YYYY>-Q<N>/`` atomically: everything goes into a
temporary folder beside it, which replaces the previous folder only when every file is
written; on any failure the temporary folder is removed and the previous output stays.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from app.db.queries.changes import CHANGE_LABELS
from app.domain import vocab
from app.domain.quarters import Quarter
from app.services.render.charts import bar_chart, line_chart
from app.services.render.html import date_de, png_data_uri, render_html
from app.services.render.maps import MapArea, choropleth_png
from app.services.render.pdf import html_to_pdf
from app.services.render.tables import Column, Table
from app.services.render.xlsx import workbook_bytes

#: A district's AGS, name and boundary (WKB, EPSG:25832).
Shape = tuple[str, str, bytes]
Progress = Callable[[str], None]

FILES = ("report.html", "report.pdf", "report.xlsx", "report.json")


def _label(vocabulary: vocab.Vocabulary, code: str | None) -> str:
    return "–" if code is None else vocabulary.label(code)


def _changes_table(doc: Mapping[str, Any]) -> Table:
    ch = doc["changes"]
    columns = (Column("district_name", "Kreis"), Column("added", "neu erfasst", "int"),
               Column("sold", "verkauft", "int"), Column("reserved", "reserviert", "int"),
               Column("withdrawn", "zurückgezogen", "int"),
               Column("availability_moved", "Verfügbarkeit geändert", "int"),
               Column("restrictions_added", "Restriktion hinzugekommen", "int"),
               Column("restrictions_removed", "Restriktion entfallen", "int"))
    return Table("changes", "Veränderungen", "Geänderte Flächen je Kreis (Anzahl)",
                 columns, ch["districts"], ch["total"])


def _changes_ha_table(doc: Mapping[str, Any]) -> Table:
    ch = doc["changes"]
    columns = (Column("district_name", "Kreis"), Column("added_net_ha", "neu erfasst", "ha"),
               Column("sold_net_ha", "verkauft", "ha"),
               Column("reserved_net_ha", "reserviert", "ha"),
               Column("withdrawn_net_ha", "zurückgezogen", "ha"),
               Column("net_ha_before", f"Angebot {doc['previous_quarter']}", "ha"),
               Column("net_ha_after", f"Angebot {doc['quarter']}", "ha"),
               Column("net_ha_delta", "Veränderung", "ha"))
    return Table("changes_ha", "Veränderungen ha", "Veränderungen je Kreis (ha netto)",
                 columns, ch["districts"], ch["total"],
                 "Angebot: Flächen in Vermarktung (verfügbar, reserviert) aktiver Standorte, "
                 "alle Kategorien; verkauft, reserviert und zurückgezogen mit der Fläche vor "
                 "der Änderung.")


def _parcels_table(doc: Mapping[str, Any]) -> Table:
    rows = [{**p, "changes_de": ", ".join(CHANGE_LABELS[c] for c in p["changes"]),
             "availability_de": (f"{_label(vocab.AVAILABILITY, p['availability_before'])} → "
                                 f"{_label(vocab.AVAILABILITY, p['availability_after'])}"),
             "status_de": (f"{_label(vocab.MARKETING_STATUS, p['marketing_status_before'])} → "
                           f"{_label(vocab.MARKETING_STATUS, p['marketing_status_after'])}")}
            for p in doc["changes"]["parcels"]]
    columns = (Column("id", "Flächen-ID", "int"), Column("name", "Bezeichnung"),
               Column("district_ags", "Kreis (AGS)"), Column("changes_de", "Änderungen"),
               Column("net_ha_before", "ha vorher", "ha"),
               Column("net_ha_after", "ha nachher", "ha"),
               Column("availability_de", "Verfügbarkeit"),
               Column("status_de", "Vermarktung"))
    return Table("changed_parcels", "Geänderte Flächen", "Geänderte Flächen im Quartal",
                 columns, rows)


def _balance_table(doc: Mapping[str, Any]) -> Table:
    rows = []
    for area in doc["balance"]:
        for s in doc["scenarios"]:
            x = area["scenarios"][s["key"]]
            rows.append({"name": area["name"], "scenario": s["label"],
                         "supply": area["supply_scope_net_ha"],
                         "short_term": area["supply"]["short_term_net_ha"],
                         **{k: x[k] for k in ("demand_remaining_net_ha", "balance_net_ha",
                                              "reach_years", "first_shortfall_year")}})
    columns = (Column("name", "Gebiet"), Column("scenario", "Szenario"),
               Column("supply", "Angebot Markt (ha)", "ha"),
               Column("short_term", "davon kurzfristig (ha)", "ha"),
               Column("demand_remaining_net_ha", "Restbedarf (ha)", "ha"),
               Column("balance_net_ha", "Bilanz (ha)", "ha"),
               Column("reach_years", "Reichweite (Jahre)", "years"),
               Column("first_shortfall_year", "erstes Defizitjahr"))
    return Table("balance", "Bilanz", f"Bilanz und Reichweite am {date_de(doc['quarter_end'])}",
                 columns, rows, None, "Restbedarf und Reichweite nach dem Orientierungsrahmen.")


def _take_up_table(doc: Mapping[str, Any]) -> Table:
    quarter = {a["name"]: a for a in doc["take_up"]["quarter"]["areas"]}
    rows, keys = [], [s["key"] for s in doc["scenarios"]]
    for a in doc["take_up"]["year_to_date"]["areas"]:
        q = quarter[a["name"]]
        rows.append({"name": a["name"], "q_sales": q["sales"], "q_ha": q["sold_ha"],
                     **{f"q_exp_{k}": q["expected_net_ha"][k] for k in keys},
                     "y_sales": a["sales"], "y_ha": a["sold_ha"],
                     **{f"y_exp_{k}": a["expected_net_ha"][k] for k in keys}})
    labels = {s["key"]: s["label"] for s in doc["scenarios"]}
    columns = (Column("name", "Gebiet"), Column("q_sales", "Verkäufe Quartal", "int"),
               Column("q_ha", "verkauft Quartal (ha)", "ha"),
               *(Column(f"q_exp_{k}", f"Soll Quartal {labels[k]} (ha)", "ha") for k in keys),
               Column("y_sales", "Verkäufe lfd. Jahr", "int"),
               Column("y_ha", "verkauft lfd. Jahr (ha)", "ha"),
               *(Column(f"y_exp_{k}", f"Soll lfd. Jahr {labels[k]} (ha)", "ha") for k in keys))
    return Table("take_up", "Flächenumsatz", "Flächenumsatz gegenüber dem Bedarfstempo",
                 columns, rows, None,
                 "Soll: jährlicher Bedarf des Orientierungsrahmens anteilig für den Zeitraum.")


def _trend_table(doc: Mapping[str, Any]) -> Table:
    keys = [s["key"] for s in doc["scenarios"]]
    labels = {s["key"]: s["label"] for s in doc["scenarios"]}
    rows = [{"quarter": t["quarter"], "supply": t["areas"][0]["supply_net_ha"],
             "short_term": t["areas"][0]["short_term_net_ha"],
             **{f"reach_{k}": t["areas"][0]["scenarios"][k]["reach_years"] for k in keys},
             **{f"balance_{k}": t["areas"][0]["scenarios"][k]["balance_net_ha"] for k in keys}}
            for t in doc["trend"]]
    columns = (Column("quarter", "Quartal"), Column("supply", "Angebot Markt (ha)", "ha"),
               Column("short_term", "davon kurzfristig (ha)", "ha"),
               *(Column(f"reach_{k}", f"Reichweite {labels[k]} (Jahre)", "years") for k in keys),
               *(Column(f"balance_{k}", f"Bilanz {labels[k]} (ha)", "ha") for k in keys))
    return Table("trend", "Zeitreihe", "Angebot, Bilanz und Reichweite der Region je Quartal",
                 columns, rows)


def _enquiries_table(doc: Mapping[str, Any], names: Mapping[str, str]) -> Table:
    rows = [{**e, "district": names.get(e["district_ags"], "ohne Kreisangabe"),
             "group": _label(vocab.USER_GROUP, e["user_group"])}
            for e in doc["enquiries_without_offer"]]
    columns = (Column("district", "Kreis"), Column("group", "Nutzergruppe"),
               Column("enquiries", "Anfragen", "int"),
               Column("requested_net_ha", "angefragt (ha)", "ha"),
               Column("without_offer", "ohne passendes Angebot", "int"),
               Column("without_offer_net_ha", "ohne Angebot (ha)", "ha"))
    total = {k: sum(r[k] for r in rows) for k in ("enquiries", "requested_net_ha",
                                                  "without_offer", "without_offer_net_ha")}
    return Table("enquiries", "Anfragen", "Ansiedlungsanfragen im Quartal", columns, rows,
                 {"district": "Summe", **total})


def _overdue_table(doc: Mapping[str, Any]) -> Table:
    rows = [{**r, "share": 100 * r["overdue"] / r["active"] if r["active"] else None}
            for r in doc["overdue_verification"]]
    active, overdue = sum(r["active"] for r in rows), sum(r["overdue"] for r in rows)
    return Table("overdue", "Prüfrückstand",
                 f"Flächen ohne Prüfung seit mehr als {doc['freshness_days']} Tagen",
                 (Column("name", "Kreis"), Column("active", "in Vermarktung", "int"),
                  Column("overdue", "Prüfung überfällig", "int"),
                  Column("share", "Anteil (%)", "pct")), rows,
                 {"name": "Summe", "active": active, "overdue": overdue,
                  "share": 100 * overdue / active if active else None})


def report_tables(doc: Mapping[str, Any]) -> list[Table]:
    """Every table of the report, in report order."""
    names = {a["ags"]: a["name"] for a in doc["balance"] if a["ags"]}
    return [_changes_table(doc), _changes_ha_table(doc), _take_up_table(doc),
            _balance_table(doc), _trend_table(doc), _enquiries_table(doc, names),
            _overdue_table(doc), _parcels_table(doc)]


def report_images(doc: Mapping[str, Any], shapes: Sequence[Shape]) -> dict[str, bytes]:
    """The charts and the map as PNG, by file name."""
    scenarios = doc["scenarios"]
    quarters = [t["quarter"] for t in doc["trend"]]
    districts = [a for a in doc["balance"] if a["ags"]]
    short = [d["district_name"].replace(", Stadt", "").replace("Landkreis ", "LK ")
             for d in doc["changes"]["districts"]]
    first = scenarios[0]["key"] if scenarios else None
    images = {
        "zeitreihe_reichweite.png": line_chart(
            "Reichweite des Flächenangebots, Region", quarters,
            {s["label"]: [t["areas"][0]["scenarios"][s["key"]]["reach_years"]
                          for t in doc["trend"]] for s in scenarios}, unit="Jahre"),
        "zeitreihe_angebot.png": line_chart(
            "Flächenangebot der Region (Markt)", quarters,
            {"Angebot gesamt": [t["areas"][0]["supply_net_ha"] for t in doc["trend"]],
             "davon sofort/kurzfristig": [t["areas"][0]["short_term_net_ha"]
                                          for t in doc["trend"]]}, unit="ha netto"),
        "veraenderungen.png": bar_chart(
            f"Veränderungen im {Quarter.parse(doc['quarter']).label_de} je Kreis", short,
            {"neu": [d["added_net_ha"] for d in doc["changes"]["districts"]],
             "verkauft": [d["sold_net_ha"] for d in doc["changes"]["districts"]],
             "zurückgezogen": [d["withdrawn_net_ha"] for d in doc["changes"]["districts"]]},
            unit="ha netto", horizontal=True),
    }
    if first is not None:
        areas = doc["take_up"]["year_to_date"]["areas"][1:]
        images["flaechenumsatz.png"] = bar_chart(
            f"Flächenumsatz {doc['quarter'][:4]} bis {date_de(doc['quarter_end'])}", short,
            {"verkauft": [a["sold_ha"] for a in areas],
             f"Soll ({scenarios[0]['label']})": [a["expected_net_ha"][first] for a in areas]},
            unit="ha", horizontal=True)
        reach = {a["ags"]: a["scenarios"][first]["reach_years"] for a in districts}
        images["karte_reichweite.png"] = choropleth_png(
            [MapArea(wkb, reach.get(ags), name.replace(", Stadt", ""))
             for ags, name, wkb in shapes],
            title=(f"Reichweite des Angebots am {date_de(doc['quarter_end'])} "
                   f"({scenarios[0]['label']})"),
            legend_title="Reichweite", unit="Jahre")
    return images


def _html(doc: Mapping[str, Any], tables: list[Table], images: Mapping[str, str],
          generated_at: Any) -> str:
    return render_html("quarterly.html.j2", title=doc["title"], doc=doc,
                       synthetic=doc["synthetic"], tables={t.key: t for t in tables},
                       images=images, generated_at=generated_at)


def write_report(doc: Mapping[str, Any], shapes: Sequence[Shape], output_dir: Path, *,
                 generated_at: Any, progress: Progress = lambda _: None,
                 chromium_path: str | None = None) -> Path:
    """Write the report's folder atomically; returns it."""
    folder = output_dir / Quarter.parse(doc["quarter"]).folder
    output_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".tmp", dir=output_dir))
    try:
        progress("Diagramme und Karte")
        images = report_images(doc, shapes)
        for name, png in images.items():
            (work / name).write_bytes(png)
        tables = report_tables(doc)
        progress("Arbeitsmappe")
        (work / "report.xlsx").write_bytes(workbook_bytes(
            tables, title=doc["title"], meta=[("Quartal", doc["quarter"]),
                                              ("Stichtag", doc["quarter_end"])],
            notes=doc["notes"]))
        (work / "report.json").write_text(
            json.dumps(doc, ensure_ascii=False, indent=1, sort_keys=True) + "\n",
            encoding="utf-8")
        progress("HTML und PDF")
        (work / "report.html").write_text(
            _html(doc, tables, {n: n for n in images}, generated_at), encoding="utf-8")
        (work / "report.pdf").write_bytes(html_to_pdf(
            _html(doc, tables, {n: png_data_uri(p) for n, p in images.items()}, generated_at),
            chromium_path=chromium_path))
        os.chmod(work, 0o755)
        _swap(work, folder)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return folder


def _swap(work: Path, folder: Path) -> None:
    """Put ``work`` in the place of ``folder`` (renames only; the old one is removed last)."""
    old = None
    if folder.exists():
        old = folder.with_name(f".{folder.name}.{os.getpid()}.old")
        folder.rename(old)
    try:
        work.rename(folder)
    except BaseException:
        if old is not None:
            old.rename(folder)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
