"""The parcel file import (issue 16 §1), called as the service (``run_import``) on the test's
transaction: new parcels and their sites, updates with their changed fields and history,
a complete import's missing parcels (reported, or withdrawn), the editor's districts, and the
German aliases and explicit mapping of a file's columns.

Bad input is tested in ``tests/test_import_parcels_bad_input.py``, round trips through the
exports and the CRS of a file in ``tests/test_import_parcels_roundtrip.py``; both use the
helpers here. The HTTP endpoint is tested in ``tests/test_import_api.py``.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, text

from app.domain.roles import Principal, Role
from app.services.imports.service import (
    ImportOptions,
    ImportOutcome,
    ImportRejected,
    run_import,
    start_import,
)
from app.settings import Settings
from tests.server import SavepointEngine

ADMIN = Principal(Role.ADMIN, None, "pytest-import-admin")
EDITOR_LEIPZIG = Principal(Role.EDITOR, None, "pytest-import-leipzig", frozenset({"14713"}))
EDITOR_HALLE = Principal(Role.EDITOR, None, "pytest-import-halle", frozenset({"15002"}))
LEIPZIG, HALLE = "14713000", "15002000"
#: The columns of a new parcel in the CSV files written here (geometry as WKT, EPSG:25832).
HEADER = ("WKT", "external_id", "site_name", "category", "user_groups", "availability")

# --- helpers (also used by the other two files) ---------------------------------------------


def run_file(conn: Connection, settings: Settings, path: Path, principal: Principal = ADMIN,
             **options: Any) -> ImportOutcome:
    """Import ``path`` as ``principal`` with :class:`ImportOptions` ``options``, on ``conn``."""
    engine: Any = SavepointEngine(conn)  # the app's engine, as the HTTP tests have it
    opts = ImportOptions(**options)
    import_id = start_import(engine, principal, path.name, path.stat().st_size, opts)
    return run_import(engine, principal, path, path.name, opts, settings, import_id)


def reject_file(conn: Connection, settings: Settings, path: Path,
                principal: Principal = ADMIN, **options: Any) -> ImportOutcome:
    """Import ``path``, which must be rejected; the outcome of the rejection."""
    with pytest.raises(ImportRejected) as caught:
        run_file(conn, settings, path, principal, **options)
    outcome = caught.value.outcome
    assert outcome.status == "rejected"
    assert import_status(conn, outcome.import_id) == "rejected"
    return outcome


def write_csv(folder: Path, rows: Sequence[Sequence[Any]], header: Sequence[str] = HEADER,
              name: str = "flaechen.csv", delimiter: str = ",") -> Path:
    """A CSV file of ``rows`` under ``header`` (UTF-8)."""
    path = folder / name
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def square_wkt(x: float, y: float, side_m: float = 200.0) -> str:
    """An axis-aligned square (lower-left corner x, y) as WKT; 200 m: 4 ha."""
    return (f"POLYGON(({x} {y},{x + side_m} {y},{x + side_m} {y + side_m},"
            f"{x} {y + side_m},{x} {y}))")


def town_point(conn: Connection, ags: str) -> tuple[float, float]:
    """A point (whole metres, EPSG:25832) well inside the municipality ``ags``."""
    row = conn.execute(text(
        "SELECT round(ST_X(p)) AS x, round(ST_Y(p)) AS y FROM (SELECT ST_PointOnSurface("
        "geom_25832) AS p FROM municipalities WHERE ags = :ags) m"), {"ags": ags}).one()
    return float(row.x), float(row.y)


def new_row(wkt: str, key: str, site: str = "Importtest", category: str = "erweiterungsflaeche",
            groups: str = "logistik;handwerk_gewerbe") -> list[str]:
    """A row of :data:`HEADER`: a new parcel."""
    return [wkt, key, site, category, groups, "sofort"]


def error_problems(conn: Connection, import_id: int) -> set[tuple[int | None, str | None, str]]:
    """The stored report's errors: (row, field, code)."""
    return {(r.row_no, r.field, r.code) for r in conn.execute(text(
        "SELECT row_no, field, code FROM import_problems WHERE import_id = :id "
        "AND severity = 'error'"), {"id": import_id})}


def row_actions(conn: Connection, import_id: int) -> dict[int | None, tuple[str, list[str]]]:
    """The stored report's action (and changed fields) per row of the file."""
    return {r.row_no: (r.action, r.changed_fields) for r in conn.execute(text(
        "SELECT row_no, action, changed_fields FROM import_rows WHERE import_id = :id "
        "AND row_no IS NOT NULL"), {"id": import_id})}


def import_status(conn: Connection, import_id: int) -> str:
    return str(conn.execute(text("SELECT status FROM imports WHERE id = :id"),
                            {"id": import_id}).scalar_one())


def data_counts(conn: Connection) -> tuple[int, int, int]:
    """Rows of parcels, parcel_history and sites (an import that writes nothing keeps them)."""
    return conn.execute(text(
        "SELECT (SELECT count(*) FROM parcels), (SELECT count(*) FROM parcel_history), "
        "(SELECT count(*) FROM sites)")).one()._tuple()


def demo_parcels(conn: Connection, district: str, count: int) -> list[Any]:
    """``count`` marketed demo parcels of ``district`` on active sites (id, external_id, name,
    WKT of the stored shape in full precision)."""
    return conn.execute(text(
        "SELECT p.id, p.external_id, p.name, ST_AsText(p.geom_25832) AS wkt FROM parcels p "
        "JOIN sites s ON s.id = p.site_id WHERE p.district_ags = :d AND s.withdrawn_at IS NULL "
        "AND p.marketing_status = 'verfuegbar' AND p.name IS NOT NULL ORDER BY p.id LIMIT :n"),
        {"d": district, "n": count}).all()


def counts(outcome: ImportOutcome) -> dict[str, int]:
    """The outcome's counts per action (and of problems)."""
    return {k: outcome.counts[k] for k in ("created", "updated", "unchanged", "rejected",
                                           "problems")}


def history_rows(conn: Connection, parcel_ids: Sequence[int]) -> list[Any]:
    return conn.execute(text(
        "SELECT parcel_id, operation, import_id, changes FROM parcel_history "
        "WHERE parcel_id = ANY(:ids) ORDER BY id"), {"ids": list(parcel_ids)}).all()


# --- new parcels, updates and history ------------------------------------------------------


def test_new_parcels_are_created_with_one_new_site_and_history_naming_the_import(
        conn: Connection, settings: Settings, tmp_path: Path) -> None:
    x, y = town_point(conn, LEIPZIG)
    path = write_csv(tmp_path, [new_row(square_wkt(x, y), "IMP-A"),
                                new_row(square_wkt(x + 300, y), "IMP-B", site=" importtest ")])
    outcome = run_file(conn, settings, path, crs_srid=25832)
    assert outcome.status == "imported" and import_status(conn, outcome.import_id) == "imported"
    assert counts(outcome) == {"created": 2, "updated": 0, "unchanged": 0, "rejected": 0,
                               "problems": 0}
    assert outcome.counts["sites_created"] == 1
    stored = conn.execute(text(
        "SELECT p.external_id, p.district_ags, s.name AS site, p.user_groups, "
        "round(p.gross_area_ha::numeric, 3) AS gross, h.operation, h.import_id "
        "FROM parcels p JOIN sites s ON s.id = p.site_id "
        "JOIN parcel_history h ON h.parcel_id = p.id "
        "WHERE p.external_id IN ('IMP-A', 'IMP-B') ORDER BY 1")).all()
    assert [(r.external_id, r.district_ags, r.site, float(r.gross), r.operation)
            for r in stored] == [("IMP-A", "14713", "Importtest", 4.0, "insert"),
                                 ("IMP-B", "14713", "Importtest", 4.0, "insert")]
    assert {r.import_id for r in stored} == {outcome.import_id}
    assert sorted(stored[0].user_groups) == ["handwerk_gewerbe", "logistik"]
    assert {n: a for n, (a, _) in row_actions(conn, outcome.import_id).items()} == {
        1: "created", 2: "created"}


def test_a_changed_attribute_updates_the_parcel_and_an_unchanged_row_writes_no_history(
        conn: Connection, settings: Settings, tmp_path: Path) -> None:
    changed, same = demo_parcels(conn, "14713", 2)
    path = write_csv(tmp_path, [[changed.wkt, changed.external_id, "Neuer Name, Nord"],
                                [same.wkt, same.external_id, same.name]],
                     header=("WKT", "external_id", "name"))
    n_before = len(history_rows(conn, [changed.id, same.id]))
    outcome = run_file(conn, settings, path, crs_srid=25832)
    assert counts(outcome) == {"created": 0, "updated": 1, "unchanged": 1, "rejected": 0,
                               "problems": 0}
    assert row_actions(conn, outcome.import_id) == {1: ("updated", ["name"]),
                                                   2: ("unchanged", [])}
    new = history_rows(conn, [changed.id, same.id])[n_before:]
    assert [(r.parcel_id, r.operation, r.import_id) for r in new] == [
        (changed.id, "update", outcome.import_id)]
    assert new[0].changes["name"] == {"old": changed.name, "new": "Neuer Name, Nord"}
    names = dict(conn.execute(text("SELECT id, name FROM parcels WHERE id = ANY(:ids)"),
                              {"ids": [changed.id, same.id]}).all())
    assert names == {changed.id: "Neuer Name, Nord", same.id: same.name}


def test_a_dry_run_reports_the_update_and_writes_nothing_but_its_report(
        conn: Connection, settings: Settings, tmp_path: Path) -> None:
    (parcel,) = demo_parcels(conn, "14713", 1)
    path = write_csv(tmp_path, [[parcel.wkt, parcel.external_id, "Probelauf"]],
                     header=("WKT", "external_id", "name"))
    before = data_counts(conn)
    outcome = run_file(conn, settings, path, crs_srid=25832, dry_run=True)
    assert outcome.status == "checked" and counts(outcome)["updated"] == 1
    assert row_actions(conn, outcome.import_id) == {1: ("updated", ["name"])}
    assert data_counts(conn) == before
    assert conn.execute(text("SELECT name FROM parcels WHERE id = :id"),
                        {"id": parcel.id}).scalar_one() == parcel.name


# --- a complete import: missing parcels reported or withdrawn ------------------------------


def _marketed_elsewhere(conn: Connection, district: str, listed: Sequence[int]) -> set[int]:
    return {r for (r,) in conn.execute(text(
        "SELECT id FROM parcels WHERE district_ags = :d AND id <> ALL(:listed) "
        "AND marketing_status IN ('verfuegbar', 'reserviert')"),
        {"d": district, "listed": list(listed)})}


def _statuses(conn: Connection) -> dict[int, str]:
    return dict(conn.execute(text("SELECT id, marketing_status FROM parcels")).all())


def test_a_complete_import_reports_the_missing_parcels_of_its_district_and_changes_nothing(
        conn: Connection, settings: Settings, tmp_path: Path) -> None:
    listed = demo_parcels(conn, "14713", 2)
    path = write_csv(tmp_path, [[p.wkt, p.external_id] for p in listed],
                     header=("WKT", "external_id"))
    missing = _marketed_elsewhere(conn, "14713", [p.id for p in listed])
    assert len(missing) > 10
    before, statuses = data_counts(conn), _statuses(conn)
    outcome = run_file(conn, settings, path, crs_srid=25832, complete=True)
    assert counts(outcome)["unchanged"] == 2 and outcome.counts["missing"] == len(missing)
    reported = conn.execute(text(
        "SELECT parcel_id, district_ags FROM import_rows WHERE import_id = :id "
        "AND action = 'missing'"), {"id": outcome.import_id}).all()
    assert {r.parcel_id for r in reported} == missing
    assert {r.district_ags for r in reported} == {"14713"}
    assert data_counts(conn) == before and _statuses(conn) == statuses


def test_withdraw_missing_withdraws_them_with_the_import_in_their_history(
        conn: Connection, settings: Settings, tmp_path: Path) -> None:
    listed = demo_parcels(conn, "14713", 2)
    path = write_csv(tmp_path, [[p.wkt, p.external_id] for p in listed],
                     header=("WKT", "external_id"))
    missing = _marketed_elsewhere(conn, "14713", [p.id for p in listed])
    statuses = _statuses(conn)
    outcome = run_file(conn, settings, path, crs_srid=25832, complete=True,
                       withdraw_missing=True)
    assert outcome.counts["withdrawn"] == len(missing)
    now = _statuses(conn)
    assert {i for i, s in now.items() if s != statuses[i]} == missing
    assert {now[i] for i in missing} == {"zurueckgezogen"}
    written = history_rows(conn, sorted(missing))[-len(missing):]
    assert {r.parcel_id for r in written if r.import_id == outcome.import_id} == missing
    assert all(r.changes["marketing_status"]["new"] == "zurueckgezogen" for r in written)
    withdrawn = {r for (r,) in conn.execute(text(
        "SELECT parcel_id FROM import_rows WHERE import_id = :id AND action = 'withdrawn'"),
        {"id": outcome.import_id})}
    assert withdrawn == missing


# --- the editor's districts -----------------------------------------------------------------


@pytest.fixture
def two_districts(conn: Connection, tmp_path: Path) -> Path:
    """A file with a new parcel in Leipzig (row 1) and one in Halle (row 2)."""
    leipzig, halle = town_point(conn, LEIPZIG), town_point(conn, HALLE)
    return write_csv(tmp_path, [new_row(square_wkt(*leipzig), "IMP-L"),
                                new_row(square_wkt(*halle), "IMP-H")])


def test_an_editor_may_not_import_into_another_district(
        conn: Connection, settings: Settings, tmp_path: Path) -> None:
    path = write_csv(tmp_path, [new_row(square_wkt(*town_point(conn, HALLE)), "IMP-H")])
    before = data_counts(conn)
    outcome = reject_file(conn, settings, path, EDITOR_LEIPZIG, crs_srid=25832)
    assert error_problems(conn, outcome.import_id) == {(1, "geometry", "district_not_allowed")}
    assert data_counts(conn) == before


@pytest.mark.parametrize(("editor", "refused_row"), [(EDITOR_LEIPZIG, 2), (EDITOR_HALLE, 1)],
                         ids=["leipzig", "halle"])
def test_a_file_across_two_districts_is_refused_to_an_editor_of_one_of_them(
        conn: Connection, settings: Settings, two_districts: Path, editor: Principal,
        refused_row: int) -> None:
    before = data_counts(conn)
    outcome = reject_file(conn, settings, two_districts, editor, crs_srid=25832)
    assert error_problems(conn, outcome.import_id) == {
        (refused_row, "geometry", "district_not_allowed")}
    assert row_actions(conn, outcome.import_id)[refused_row][0] == "rejected"
    assert data_counts(conn) == before


def test_a_file_across_two_districts_is_imported_for_an_admin(
        conn: Connection, settings: Settings, two_districts: Path) -> None:
    outcome = run_file(conn, settings, two_districts, ADMIN, crs_srid=25832)
    assert counts(outcome)["created"] == 2 and outcome.counts["sites_created"] == 2
    stored = dict(conn.execute(text(
        "SELECT p.external_id, s.district_ags FROM parcels p JOIN sites s ON s.id = p.site_id "
        "WHERE p.external_id IN ('IMP-L', 'IMP-H') AND p.district_ags = s.district_ags")).all())
    assert stored == {"IMP-L": "14713", "IMP-H": "15002"}


# --- the file's columns: German aliases and an explicit mapping ---------------------------


def test_german_column_names_and_a_decimal_comma_are_understood(
        conn: Connection, settings: Settings, tmp_path: Path) -> None:
    x, y = town_point(conn, LEIPZIG)
    path = write_csv(tmp_path, [["IMP-DE", "Importtest", "erweiterungsflaeche", "logistik",
                                 "3,5", "Sofort", "Erschlossen", square_wkt(x, y)]],
                     header=("Flurstück", "Standort", "Kategorie", "Nutzergruppen",
                             "Nettofläche_ha", "Verfügbarkeit", "Erschließung", "Geometrie"),
                     delimiter=";")
    outcome = run_file(conn, settings, path, crs_srid=25832)
    assert counts(outcome)["created"] == 1
    assert outcome.columns["fields"] == {
        "Flurstück": "external_id", "Standort": "site_name", "Kategorie": "category",
        "Nutzergruppen": "user_groups", "Nettofläche_ha": "net_area_ha",
        "Verfügbarkeit": "availability", "Erschließung": "servicing"}
    stored = conn.execute(text(
        "SELECT net_area_ha, category, user_groups, availability, servicing FROM parcels "
        "WHERE external_id = 'IMP-DE'")).one()
    assert stored._tuple() == (3.5, "erweiterungsflaeche", ["logistik"], "sofort",
                               "erschlossen")


def test_an_explicit_mapping_names_the_fields_of_unknown_columns(
        conn: Connection, settings: Settings, tmp_path: Path) -> None:
    x, y = town_point(conn, LEIPZIG)
    path = write_csv(tmp_path, [["IMP-MAP", "Importtest", "erweiterungsflaeche", "logistik",
                                 square_wkt(x, y)]],
                     header=("Nr", "Gebiet", "Art", "Gruppen", "Umriss"))
    unmapped = reject_file(conn, settings, path, crs_srid=25832)
    assert {p for p in error_problems(conn, unmapped.import_id) if p[0] is None} == {
        (None, "external_id", "missing_column"), (None, "geometry", "missing_column")}
    mapping = {"Nr": "external_id", "Gebiet": "site_name", "Art": "category",
               "Gruppen": "user_groups", "Umriss": "wkt"}
    outcome = run_file(conn, settings, path, crs_srid=25832, mapping=mapping)
    assert counts(outcome)["created"] == 1
    stored = conn.execute(text(
        "SELECT p.category, p.user_groups, s.name FROM parcels p JOIN sites s "
        "ON s.id = p.site_id WHERE p.external_id = 'IMP-MAP'")).one()
    assert stored._tuple() == ("erweiterungsflaeche", ["logistik"], "Importtest")
