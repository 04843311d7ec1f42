"""The quarterly monitoring report, run as the scheduler runs it: ``scripts/quarterly_report.py``
in a subprocess against its own database (it commits snapshots, which are immutable).

The database holds the real boundaries, the demand framework and five parcels whose
history is set by hand (net = gross: serviced squares, EPSG:25832):

* 2025-01-15, site in Leipzig: A 4 ha sofort, B 9 ha kurzfristig (cause altlasten),
  C 1 ha, D 16 ha (all for handwerk_gewerbe).
* 2025-05-05: A sold (sale of 4 ha recorded), B becomes sofort and loses its cause,
  C withdrawn, D reserved; E 25 ha added in Halle (logistik). 2025-06-01: B verified.
* Enquiries in 2025Q2: Leipzig, logistik, 30 ha (no offer: E is in Halle and smaller);
  Leipzig, handwerk_gewerbe, 2 ha (B serves it).
* 2025-08-01 (after both quarters): D is sold; the reports of 2025Q1/Q2 must not change.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from openpyxl import load_workbook
from playwright.sync_api import Browser
from pypdf import PdfReader
from sqlalchemy import Connection, create_engine, text

from app.cli import alembic_config
from app.domain import balance as b
from app.domain.clock import LOCAL_ZONE
from app.services.boundaries import load_boundaries
from app.services.demo_loader import BOUNDARY_SOURCE, load_framework
from app.services.render.html import number_de
from app.settings import Settings
from tests.browser import browser, drawn_pixels  # noqa: F401
from tests.session_database import create_scratch_database, drop_scratch_database
from tests.shapes import insert_parcel, insert_site, square

pytestmark = pytest.mark.slow  # the report script run for real, PDFs printed by Chromium

ROOT = Path(__file__).resolve().parents[1]
X, Y = 731_000.0, 5_690_000.0  # Leipzig
HX, HY = 704_000.0, 5_706_000.0  # Halle (Saale)
LEIPZIG, HALLE = "14713", "15002"


def _at(conn: Connection, day: str) -> None:
    conn.execute(text("SELECT set_config('gefis.now', :t, true)"),
                 {"t": datetime.fromisoformat(f"{day}T12:00").replace(
                     tzinfo=LOCAL_ZONE).isoformat()})


@pytest.fixture(scope="module")
def db(database_url: str) -> Iterator[dict[str, Any]]:
    del database_url  # the session's server is ready
    url = create_scratch_database("gefis_quarterly")
    engine = create_engine(url)
    try:
        command.upgrade(alembic_config(url), "head")
        geodata = Settings(database_url=url).geodata_dir
        ids: dict[str, Any] = {"url": url}
        with engine.begin() as conn:
            boundaries = geodata / "boundaries"
            load_boundaries(conn, boundaries / "districts_vg250.geojson",
                            boundaries / "municipalities_vg250.geojson",
                            boundaries / "districts_attributes.csv", BOUNDARY_SOURCE)
            load_framework(conn, geodata / "demo" / "demand_framework_2038.json")
        with engine.begin() as conn:
            _at(conn, "2025-01-15")
            site = insert_site(conn, "14713000", name="Quartalspark")
            ids.update(
                a=insert_parcel(conn, site, square(X, Y, 200), name="A"),
                b=insert_parcel(conn, site, square(X + 400, Y, 300), name="B",
                                availability="kurzfristig", restriction_level="gering",
                                restriction_causes=["altlasten"]),
                c=insert_parcel(conn, site, square(X + 800, Y, 100), name="C"),
                d=insert_parcel(conn, site, square(X + 1200, Y, 400), name="D"))
        with engine.begin() as conn:
            _at(conn, "2025-05-05")
            for change, key in (("marketing_status = 'verkauft'", "a"),
                                ("availability = 'sofort', restriction_level = 'keine', "
                                 "restriction_causes = '{}'", "b"),
                                ("marketing_status = 'zurueckgezogen'", "c"),
                                ("marketing_status = 'reserviert'", "d")):
                conn.execute(text(f"UPDATE parcels SET {change} WHERE id = :i"), {"i": ids[key]})
            halle = insert_site(conn, "15002000", name="Hallepark")
            ids["e"] = insert_parcel(conn, halle, square(HX, HY, 500), name="E",
                                     user_groups=["logistik"])
            conn.execute(text("INSERT INTO land_sales (sale_date, district_ags, area_ha, "
                              "buyer_user_group) VALUES ('2025-05-05', '14713', 4, 'logistik')"))
            conn.execute(text(
                "INSERT INTO enquiries (received_on, district_ags, required_net_area_ha_min, "
                "user_group) VALUES ('2025-05-20', '14713', 30, 'logistik'), "
                "('2025-06-02', '14713', 2, 'handwerk_gewerbe')"))
        with engine.begin() as conn:
            _at(conn, "2025-06-01")
            conn.execute(text("UPDATE parcels SET last_verified_at = '2025-06-01 10:00+02' "
                              "WHERE id = :i"), {"i": ids["b"]})
        yield ids
    finally:
        engine.dispose()
        drop_scratch_database(url)


def _run(db: dict[str, Any], out: Path, quarter: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "quarterly_report.py"), "--quarter", quarter,
         "--output-dir", str(out)],
        env={**os.environ, "DATABASE_URL": db["url"], **env}, capture_output=True, text=True,
        timeout=300, check=False)


def _files(folder: Path) -> dict[str, tuple[str, int, int]]:
    """Each file's content hash, inode and modification time: a file rewritten in place,
    even with the same content, shows."""
    return {p.name: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_ino,
                     p.stat().st_mtime_ns) for p in sorted(folder.iterdir())}


def _snapshots(url: str) -> list[tuple[Any, ...]]:
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(text(
            "SELECT q.quarter_end, q.parcels, q.taken_at, md5(string_agg(s::text, '|' "
            "ORDER BY s.parcel_id)) FROM monitoring_quarters q "
            "JOIN monitoring_snapshots s USING (quarter_end) GROUP BY 1, 2, 3 ORDER BY 1"))]
    engine.dispose()
    return rows


@pytest.fixture(scope="module")
def reports(db: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The reports of 2025Q1 and 2025Q2, run one after the other."""
    out = tmp_path_factory.mktemp("reports")
    for quarter in ("2025Q1", "2025Q2"):
        run = _run(db, out, quarter)
        assert run.returncode == 0, run.stderr
        assert "written to" in run.stderr and "stored now" in run.stderr
    return {"out": out, **{q: json.loads((out / q / "report.json").read_text("utf-8"))
                           for q in ("2025-Q1", "2025-Q2")}}


def _district(doc: dict[str, Any], ags: str) -> dict[str, Any]:
    return next(d for d in doc["changes"]["districts"] if d["district_ags"] == ags)


def test_the_quarters_changes_figure_by_figure(reports: dict[str, Any],
                                               db: dict[str, Any]) -> None:
    q1, q2 = reports["2025-Q1"], reports["2025-Q2"]
    assert q1["snapshot"]["previous_from"] == "history"
    assert q2["snapshot"]["previous_from"] == "snapshot"
    # 2025Q1 against 2024Q4: the four Leipzig parcels are new
    first = _district(q1, LEIPZIG)
    assert (first["added"], first["added_net_ha"]) == (4, pytest.approx(30.0))
    leipzig = _district(q2, LEIPZIG)
    assert {k: leipzig[k] for k in (
        "added", "sold", "reserved", "withdrawn", "availability_moved", "restrictions_added",
        "restrictions_removed")} == {
        "added": 0, "sold": 1, "reserved": 1, "withdrawn": 1, "availability_moved": 1,
        "restrictions_added": 0, "restrictions_removed": 1}
    assert leipzig["sold_net_ha"] == pytest.approx(4.0)
    assert leipzig["reserved_net_ha"] == pytest.approx(16.0)
    assert leipzig["withdrawn_net_ha"] == pytest.approx(1.0)
    assert (leipzig["net_ha_before"], leipzig["net_ha_after"], leipzig["net_ha_delta"]) == (
        pytest.approx(30.0), pytest.approx(25.0), pytest.approx(-5.0))
    halle = _district(q2, HALLE)
    assert (halle["added"], halle["added_net_ha"], halle["net_ha_after"]) == (
        1, pytest.approx(25.0), pytest.approx(25.0))
    assert q2["changes"]["total"]["net_ha_delta"] == pytest.approx(20.0)
    codes = {p["name"]: p["changes"] for p in q2["changes"]["parcels"]}
    assert codes == {"A": ["sold"], "B": ["availability_moved", "restriction_removed"],
                     "C": ["withdrawn"], "D": ["reserved"], "E": ["added"]}
    # enquiries: the 30 ha logistics enquiry found nothing, the 2 ha one found B
    assert [(e["user_group"], e["enquiries"], e["without_offer"])
            for e in q2["enquiries_without_offer"]] == [
        ("handwerk_gewerbe", 1, 0), ("logistik", 1, 1)]
    # verification: B was verified, D (reserved, on the market) never; E is new in Halle
    overdue = {r["ags"]: (r["active"], r["overdue"]) for r in q2["overdue_verification"]}
    assert overdue[LEIPZIG] == (2, 1) and overdue[HALLE] == (1, 1)


def test_take_up_and_balance_agree_with_the_balance(reports: dict[str, Any],
                                                     db: dict[str, Any]) -> None:
    q2 = reports["2025-Q2"]
    region = q2["balance"][0]
    leipzig = next(a for a in q2["balance"] if a["ags"] == LEIPZIG)
    key = q2["scenarios"][0]["key"]
    annual = leipzig["scenarios"][key]["annual_demand_net_ha"]
    quarter = next(a for a in q2["take_up"]["quarter"]["areas"] if a["ags"] == LEIPZIG)
    assert (quarter["sales"], quarter["sold_ha"]) == (1, 4.0)
    assert quarter["expected_net_ha"][key] == pytest.approx(
        annual * b.years_between(date(2025, 3, 31), date(2025, 6, 30)), abs=1e-3)
    ytd = next(a for a in q2["take_up"]["year_to_date"]["areas"] if a["ags"] == LEIPZIG)
    assert ytd["expected_net_ha"][key] == pytest.approx(
        annual * b.years_between(date(2024, 12, 31), date(2025, 6, 30)), abs=1e-3)
    # the balance: market supply B 9 + D 16 (Leipzig) + E 25 (Halle)
    assert leipzig["supply_scope_net_ha"] == pytest.approx(25.0)
    assert region["supply_scope_net_ha"] == pytest.approx(50.0)
    # the trend is read from the history in one pass; its last quarter is the balance
    last = q2["trend"][-1]
    assert last["quarter"] == "2025Q2" and [t["quarter"] for t in q2["trend"]][:2] == [
        "2020Q4", "2021Q1"]
    assert last["areas"][0]["supply_net_ha"] == pytest.approx(50.0)
    for s in q2["scenarios"]:
        assert last["areas"][0]["scenarios"][s["key"]]["reach_years"] == pytest.approx(
            region["scenarios"][s["key"]]["reach_years"], abs=0.01)
    assert q2["trend"][-2]["areas"][0]["supply_net_ha"] == pytest.approx(30.0)
    assert q2["trend"][0]["areas"][0]["supply_net_ha"] == 0


def test_a_rerun_is_identical_and_the_snapshot_immutable(reports: dict[str, Any],
                                                         db: dict[str, Any],
                                                         tmp_path: Path) -> None:
    stored = _snapshots(db["url"])
    assert [r[0] for r in stored] == [date(2025, 3, 31), date(2025, 6, 30)]
    engine = create_engine(db["url"])
    with engine.begin() as conn:  # a later change must not reach the past quarters
        _at(conn, "2025-08-01")
        conn.execute(text("UPDATE parcels SET marketing_status = 'verkauft' WHERE id = :i"),
                     {"i": db["d"]})
    engine.dispose()
    run = _run(db, tmp_path, "2025Q2")
    assert run.returncode == 0, run.stderr
    assert "as stored" in run.stderr
    assert (tmp_path / "2025-Q2" / "report.json").read_bytes() == (
        reports["out"] / "2025-Q2" / "report.json").read_bytes()
    assert _snapshots(db["url"]) == stored


def _wait_for_lock_wait(url: str, timeout_s: float = 60) -> int:
    """The pid of the script's backend once it waits for a lock (then it is half way)."""
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    deadline = time.monotonic() + timeout_s
    try:
        with engine.connect() as conn:
            while time.monotonic() < deadline:
                pid = conn.execute(text(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()")).scalar()
                if pid is not None:
                    return int(pid)
                time.sleep(0.05)
    finally:
        engine.dispose()
    raise AssertionError("the report never waited for the lock")


def test_a_failure_half_way_keeps_the_previous_output(reports: dict[str, Any],
                                                      db: dict[str, Any]) -> None:
    folder = reports["out"] / "2025-Q2"
    before = _files(folder)
    # the database goes away while the figures are read: the script's session is ended
    # while it waits for the land sales, which another transaction holds locked
    holder = create_engine(db["url"])
    with holder.connect() as lock:
        lock.execute(text("LOCK TABLE land_sales IN ACCESS EXCLUSIVE MODE"))
        script = subprocess.Popen(
            [sys.executable, str(ROOT / "scripts" / "quarterly_report.py"), "--quarter",
             "2025Q2", "--output-dir", str(reports["out"])],
            env={**os.environ, "DATABASE_URL": db["url"]}, stderr=subprocess.PIPE, text=True)
        pid = _wait_for_lock_wait(db["url"])
        lock.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
        lock.rollback()
    holder.dispose()
    _, stderr = script.communicate(timeout=120)
    assert script.returncode == 1, stderr
    assert "FAILED" in stderr and "previous output is unchanged" in stderr
    assert _files(folder) == before
    # and when the PDF cannot be printed, after charts, workbook and JSON were written
    run = _run(db, reports["out"], "2025Q2", GEFIS_CHROMIUM_PATH="/nonexistent/chromium")
    assert run.returncode == 1 and "PdfUnavailable" in run.stderr, run.stderr
    assert _files(folder) == before
    assert sorted(p.name for p in reports["out"].iterdir()) == ["2025-Q1", "2025-Q2"]


def test_a_quarter_not_yet_ended_is_refused(db: dict[str, Any], tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    spec = importlib.util.spec_from_file_location("quarterly_report",
                                                  ROOT / "scripts" / "quarterly_report.py")
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    monkeypatch.setenv("DATABASE_URL", db["url"])
    assert script.main(["--quarter", "2099Q1", "--output-dir", str(tmp_path)]) == 2
    assert "has not ended" in capsys.readouterr().err
    with pytest.raises(SystemExit) as bad:  # argparse: not a quarter
        script.main(["--quarter", "2025Q5"])
    assert bad.value.code == 2
    assert list(tmp_path.iterdir()) == []


def test_the_workbook_and_pdf_hold_the_figures(reports: dict[str, Any]) -> None:
    folder, doc = reports["out"] / "2025-Q2", reports["2025-Q2"]
    assert {"report.html", "report.pdf", "report.xlsx", "report.json",
            "karte_reichweite.png", "zeitreihe_reichweite.png"} <= set(_files(folder))
    wb = load_workbook(folder / "report.xlsx")
    assert wb.sheetnames[:3] == ["Übersicht", "Veränderungen", "Veränderungen ha"]
    sheet = wb["Veränderungen ha"]
    rows = list(sheet.iter_rows(values_only=True))
    start = next(i for i, r in enumerate(rows) if r and r[0] == "Kreis")
    header = list(rows[start])
    total = next(r for r in rows[start + 1:] if r and r[0] == "Region")
    assert sheet.freeze_panes is not None
    assert total[header.index("Veränderung")] == pytest.approx(
        doc["changes"]["total"]["net_ha_delta"])
    assert total[header.index("verkauft")] == pytest.approx(4.0)
    text_ = "\n".join(page.extract_text() for page in PdfReader(folder / "report.pdf").pages)
    assert "Stichtag 30. Juni 2025" in text_ and "Synthetische" not in text_
    assert f"{number_de(doc['changes']['total']['net_ha_after'])} ha" in text_
    reach = doc["balance"][0]["scenarios"][doc["scenarios"][0]["key"]]["reach_years"]
    assert f"{number_de(reach)} Jahre" in text_
    images = [img for page in PdfReader(folder / "report.pdf").pages for img in page.images]
    assert len(images) >= 5  # four charts and the map


def test_the_html_report_draws_in_a_real_browser(reports: dict[str, Any],
                                                 browser: Browser) -> None:  # noqa: F811
    page = browser.new_page(viewport={"width": 1100, "height": 1400})
    try:
        page.goto((reports["out"] / "2025-Q2" / "report.html").as_uri())
        page.screenshot(full_page=True)
        figures = page.locator("figure img").count()
        assert figures == 5
        for name in ("karte_reichweite.png", "zeitreihe_reichweite.png", "veraenderungen.png",
                     "flaechenumsatz.png", "zeitreihe_angebot.png"):
            assert drawn_pixels(page, f'figure[data-image="{name}"] img') > 5_000, name
    finally:
        page.close()
