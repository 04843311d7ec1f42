"""``gefis export`` against the session's database: once in a process of its own as an
operator runs it (``python -m app.cli``), otherwise in-process on the session's engine
(``app.cli.main``); the progress the command's bar is fed (one call per record batch, adding
up to the rows counted before writing); and the stream of rows from ``COPY`` under both the
API and the command: stopped early, or broken off by the database.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from dataclasses import replace
from pathlib import Path

import pyogrio
import pytest
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from app import cli
from app.db.queries.cql2_base import QueryableType
from app.db.queries.exports import ExportColumn, ExportQuery, raise_statement_timeout
from app.domain.clock import today
from app.domain.roles import STAFF
from app.services.exports import rows as export_rows
from app.services.exports.formats import FORMATS
from app.services.exports.layers import ExportLayer
from app.services.exports.rows import record_batches
from app.services.exports.service import (
    ExportRequest,
    PreparedExport,
    prepare_export,
    write_export,
)
from app.settings import Settings
from tests.test_exports import MARKETED, db_ids, read_layer

ROOT = Path(__file__).resolve().parent.parent
Q = QueryableType


def gefis(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``python -m app.cli`` with ``args`` against ``database_url``."""
    env = {**os.environ, "DATABASE_URL": database_url}
    return subprocess.run([sys.executable, "-m", "app.cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300, check=False)


def test_cli_exports_filtered_layers_as_staff(database_url: str, conn: Connection,
                                              tmp_path: Path) -> None:
    out = tmp_path / "revier.gpkg"
    done = gefis(database_url, "export", "parcels,sites", "--format", "gpkg", "--out",
                 str(out), "--staff", "--district", "14713,14729", "--crs", "EPSG:3857")
    assert done.returncode == 0, done.stderr
    assert "geschrieben" in done.stdout and str(out) in done.stdout
    assert [str(name) for name, _ in pyogrio.list_layers(out)] == ["parcels", "sites"]
    assert pyogrio.read_info(out, layer="parcels")["crs"] == "EPSG:3857"
    parcels = read_layer(str(out), "parcels")
    assert set(parcels) == db_ids(conn, "p.district_ags IN ('14713', '14729')")
    assert all("owner_name" in row for row in parcels.values())  # staff fields
    assert len(read_layer(str(out), "sites")) == conn.execute(
        text("SELECT count(*) FROM sites")).scalar_one()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["revier.gpkg"]  # no leftovers


@pytest.fixture
def in_process(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """``app.cli`` on the session's database (its committed demo data)."""
    monkeypatch.setattr(cli, "get_engine", lambda: engine)


@pytest.mark.usefixtures("in_process")
def test_cli_exports_as_the_public_by_default(conn: Connection, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "flaechen.csv"
    assert cli.main(["export", "parcels", "--format", "csv", "--out", str(out),
                     "--user-group", "logistik", "--rail-siding", "true"]) == 0
    assert "als CSV" in capsys.readouterr().out
    rows = read_layer(str(out))
    assert set(rows) == db_ids(conn, f"{MARKETED} AND 'logistik' = ANY(p.user_groups) "
                                     "AND p.rail_siding")
    assert not {"owner_name", "internal_notes"} & set(next(iter(rows.values())))


@pytest.mark.parametrize(("args", "named"), [
    (["land_sales", "--format", "gpkg"], "layer"),
    (["parcels", "--format", "gpkg", "--district", "147"], "--district"),
    (["parcels", "--format", "gpkg", "--rail-siding", "vielleicht"], "--rail-siding"),
    (["parcels,sites", "--format", "csv"], "layer"),
    (["parcels", "--format", "gpkg", "--crs", "EPSG:2154"], "crs"),
    (["parcels", "--format", "gpkg", "--out", "/nonexistent/folder/x.gpkg"], "--out"),
])
@pytest.mark.usefixtures("in_process")
def test_cli_refuses_with_the_reason(tmp_path: Path, args: list[str], named: str,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "x.out"
    assert cli.main(["export", *args, *([] if "--out" in args else ["--out", str(out)])]) == 1
    err = capsys.readouterr().err
    assert "Fehler" in err and named in err, err
    assert not out.exists() and not list(tmp_path.iterdir())


def test_progress_adds_up_batch_by_batch(conn: Connection, settings: Settings,
                                         tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(export_rows, "BLOCK_BYTES", 16 << 10)  # several batches
    prepared = prepare_export(conn, ExportRequest(("parcels",), FORMATS["gpkg"]), STAFF,
                              settings, today())
    calls: list[int] = []
    path = write_export(conn, prepared, tmp_path, progress=calls.append)
    assert len(calls) > 3 and sum(calls) == prepared.total == len(read_layer(str(path)))


# --- the stream from PostgreSQL -------------------------------------------------------------

#: 300,000 rows made by the database (about 40 MB of CSV): still streaming after one batch;
#: row 250,000 fails (evaluated after the sort: random() is volatile).
_SERIES = ExportQuery(
    "generate_series(1, 300000) g", (), {},
    (ExportColumn("id", "g", Q.INTEGER, "Nummer"),
     ExportColumn("name", "repeat('ä', 50) || g", Q.STRING, "Text"),
     ExportColumn("share", "CASE WHEN g = 250000 AND random() < 2 THEN 1 / (g - g) "
                           "ELSE g / 7.0 END",
                  Q.NUMBER, "Anteil")),
    "g", "ST_SetSRID(ST_MakePoint(700000 + g, 5700000), 25832)", 25832)


def _copy_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "gefis-export-copy"]


def test_stopping_early_cancels_the_copy(conn: Connection) -> None:
    with conn.begin_nested() as savepoint:
        batches = record_batches(conn, replace(_SERIES, where=("g < 200000",)), 25832)
        first = next(batches)
        assert first.num_rows and first.schema.names == ["id", "name", "share", "geometry"]
        assert first.column("name")[0].as_py() == "ä" * 50 + "1"
        batches.close()  # cancels the statement, drains the pipe, joins the thread
        assert not _copy_threads()
        with pytest.raises(DBAPIError, match="current transaction is aborted"):
            conn.exec_driver_sql("SELECT 1")  # the COPY was cancelled, not read to its end
        savepoint.rollback()
    assert conn.execute(text("SELECT 1")).scalar_one() == 1  # the connection still works


def test_a_stream_that_breaks_off_is_an_error(conn: Connection) -> None:
    rows = 0
    with conn.begin_nested() as savepoint:
        with pytest.raises(DBAPIError, match="division by zero"):
            for batch in record_batches(conn, _SERIES, 25832):
                rows += batch.num_rows
        savepoint.rollback()
    assert 0 < rows < 250_000 and not _copy_threads()


def test_a_file_is_never_finished_from_a_broken_stream(conn: Connection,
                                                       tmp_path: Path) -> None:
    layer = ExportLayer("reihe", "Reihe", "", "Point", _SERIES)
    prepared = PreparedExport(ExportRequest(("reihe",), FORMATS["gpkg"]), (layer,),
                              (300_000,), today())
    with conn.begin_nested() as savepoint:
        with pytest.raises(DBAPIError, match="division by zero"):  # not GDAL's RuntimeError
            write_export(conn, prepared, tmp_path)
        savepoint.rollback()
    assert not _copy_threads()


def test_an_export_may_outlast_the_services_time_limits(conn: Connection) -> None:
    with conn.begin_nested() as savepoint:
        raise_statement_timeout(conn)
        assert conn.exec_driver_sql("SHOW statement_timeout").scalar_one() == "30min"
        assert conn.exec_driver_sql(
            "SHOW idle_in_transaction_session_timeout").scalar_one() == "30min"
        savepoint.rollback()
    assert conn.exec_driver_sql("SHOW statement_timeout").scalar_one() != "30min"
