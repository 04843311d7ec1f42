"""``gefis import-boundaries``: once in a process of its own as an operator runs it (a dry
run against the session's database, which commits nothing), otherwise in-process on the
test's rolled-back transaction (``app.cli.main`` with the engine replaced)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, text

from app import cli, cli_boundaries
from tests.server import SavepointEngine
from tests.test_boundary_import import (
    DISTRICTS,
    LUETZEN,
    MERGED,
    MUNICIPALITIES,
    SOURCE_2021,
    WEISSENFELS,
    Layer,
    state,
    write_gpkg,
)

ROOT = Path(__file__).resolve().parent.parent


def gefis(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``python -m app.cli`` with ``args`` against ``database_url``."""
    env = {**os.environ, "DATABASE_URL": database_url}
    return subprocess.run([sys.executable, "-m", "app.cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture(scope="module")
def merged_gpkg(engine: Engine, demo_loaded: dict[str, int],
                tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Lützen merged into Weißenfels, as a GeoPackage in EPSG:25832."""
    with engine.connect() as conn:
        return write_gpkg(conn, tmp_path_factory.mktemp("cli") / "vg250_2021.gpkg",
                          Layer("VG250_KRS", DISTRICTS), Layer("VG250_GEM", MERGED))


@pytest.fixture
def on_test_transaction(conn: Connection, monkeypatch: pytest.MonkeyPatch) -> None:
    """The command's writes go to the test's transaction (savepoints, rolled back after)."""
    monkeypatch.setattr(cli_boundaries, "get_engine", lambda: SavepointEngine(conn))


def test_an_operator_tries_a_file_with_a_dry_run(database_url: str, engine: Engine,
                                                 merged_gpkg: Path) -> None:
    done = gefis(database_url, "import-boundaries", str(merged_gpkg), "--dry-run",
                 "--valid-from", "2021-01-01")
    assert done.returncode == 0, done.stderr
    assert (f"zusammengelegt: {LUETZEN} Lützen → {WEISSENFELS} Weißenfels (100.0% der "
            "Fläche)") in done.stdout
    assert "Gebietsstand ab 01.01.2021" in done.stdout
    assert "Probelauf: nichts wurde geändert." in done.stdout
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM municipalities WHERE ags = :a"),
                            {"a": LUETZEN}).scalar_one() == 1


@pytest.mark.usefixtures("on_test_transaction")
def test_the_command_imports_and_reports_in_german(
        conn: Connection, merged_gpkg: Path, capsys: pytest.CaptureFixture[str]) -> None:
    moved = conn.execute(text("SELECT count(*) FROM parcels WHERE municipality_ags = :a"),
                         {"a": LUETZEN}).scalar_one()
    assert cli.main(["import-boundaries", str(merged_gpkg), "--source", SOURCE_2021]) == 0
    out = capsys.readouterr().out
    assert "Gemeinden: 185 unverändert, 1 geändert, 0 neu, 1 zusammengelegt" in out
    assert f"Flächen neu zugeordnet: {moved}" in out
    assert f"{LUETZEN} → {WEISSENFELS}: {moved} Flächen" in out
    assert "Gebietsstand importiert (Grenzimport " in out
    assert conn.execute(text("SELECT count(*) FROM municipalities WHERE ags = :a"),
                        {"a": LUETZEN}).scalar_one() == 0
    assert conn.execute(text("SELECT source FROM boundary_imports")).scalar_one() == SOURCE_2021


@pytest.mark.usefixtures("on_test_transaction")
def test_a_refused_file_ends_with_exit_code_1_and_the_reason(
        conn: Connection, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = write_gpkg(conn, tmp_path / "ohne_ags.gpkg",
                     Layer("VG250_KRS", DISTRICTS, ("KRS", "GEN", "GF")),
                     Layer("VG250_GEM", MUNICIPALITIES))
    before = state(conn)
    assert cli.main(["import-boundaries", str(bad)]) == 1
    assert "Fehler: VG250_KRS.AGS: Spalte AGS fehlt in Ebene VG250_KRS" in capsys.readouterr().err
    assert cli.main(["import-boundaries", str(tmp_path / "fehlt.zip")]) == 1
    assert "Fehler: FILE: keine Datei" in capsys.readouterr().err
    assert state(conn) == before
