"""``gefis import`` against the session's database, in a process of its own as an operator
runs it: a dry run of the demo parcels (every row unchanged) with the report as CSV, and a
rejected file (exit code 1, the row and field named, nothing written)."""

from __future__ import annotations

import csv
import subprocess
from pathlib import Path

from sqlalchemy import Engine, text

from tests.test_export_cli import gefis
from tests.test_import_api import HALLE_WKT, HEADER, LEIPZIG_WKT, _csv, _row


def test_a_dry_run_of_the_exported_demo_parcels_changes_nothing(
        database_url: str, engine: Engine, tmp_path: Path) -> None:
    exported = tmp_path / "flaechen.gpkg"
    done = gefis(database_url, "export", "parcels", "--format", "gpkg", "--out",
                 str(exported), "--staff", "--crs", "EPSG:25832")
    assert done.returncode == 0, done.stderr
    report = tmp_path / "bericht.csv"
    done = gefis(database_url, "import", str(exported), "--dry-run", "--report", str(report))
    assert done.returncode == 0, done.stderr
    with engine.connect() as conn:
        parcels = conn.execute(text("SELECT count(*) FROM parcels")).scalar_one()
    assert f"0 neu, 0 geändert, {parcels} unverändert, 0 abgelehnt" in done.stdout
    with report.open(encoding="utf-8") as fh:
        actions = {line["action"] for line in csv.DictReader(fh)}
    assert actions == {"unchanged"}


def test_a_rejected_file_exits_1_and_names_the_row(database_url: str, engine: Engine,
                                                   tmp_path: Path) -> None:
    path = tmp_path / "flaechen.csv"
    path.write_bytes(_csv([_row(LEIPZIG_WKT, "CLI-1"), _row(HALLE_WKT, "CLI-2", net="viel")],
                          HEADER))
    with engine.connect() as conn:
        before = conn.execute(text("SELECT count(*) FROM parcels")).scalar_one()
    done: subprocess.CompletedProcess[str] = gefis(
        database_url, "import", str(path), "--crs", "EPSG:25832", "--district", "14713")
    assert done.returncode == 1
    assert "Zeile 2, net_area_ha: net_area_ha: „viel“ ist keine Zahl" in done.stderr
    assert "Zeile 2, geometry: die Fläche liegt im Kreis 15002" in done.stderr
    assert "abgelehnt" in done.stdout and "nichts wurde geändert" in done.stdout
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM parcels")).scalar_one() == before
