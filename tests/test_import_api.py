"""``/api/v1/imports`` over HTTP: who may import, the answers (201, 200 dry run, 422 with the
rows named, 202 and polling), the stored report as JSON and CSV, and the templates."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pyogrio
import pytest
from openpyxl import load_workbook
from sqlalchemy import Connection, text

from tests.resource_client import Client

#: A 200 m × 200 m square (4 ha) in Leipzig and one in Halle (Saale), EPSG:25832.
LEIPZIG_WKT = ("POLYGON((733000 5693000, 733200 5693000, 733200 5693200, 733000 5693200, "
               "733000 5693000))")
HALLE_WKT = ("POLYGON((705900 5706000, 706100 5706000, 706100 5706200, 705900 5706200, "
             "705900 5706000))")
HEADER = ["WKT", "external_id", "site_name", "category", "user_groups", "availability",
          "Nettofläche_ha"]


def _csv(rows: list[list[Any]], header: list[str] = HEADER) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def _row(wkt: str, key: str, net: Any = 3.5, groups: str = "logistik;handwerk_gewerbe"
         ) -> list[Any]:
    return [wkt, key, "Testgebiet Import", "erweiterungsflaeche", groups, "sofort", net]


def _post(client: Client, content: bytes, name: str = "flaechen.csv",
          headers: dict[str, str] | None = None, **params: Any) -> httpx.Response:
    params = {"crs": "EPSG:25832", **params}
    return client.http.post(client.base + "/imports",
                            params={k: v for k, v in params.items() if v is not None},
                            files={"file": (name, content)},
                            headers={**client.headers, **(headers or {})})


def _counts(conn: Connection) -> tuple[int, int]:
    return conn.execute(text("SELECT (SELECT count(*) FROM parcels), "
                             "(SELECT count(*) FROM parcel_history)")).one()._tuple()


def test_an_editor_imports_a_csv_and_the_history_names_the_import(
        clients: dict[str, Client], conn: Connection) -> None:
    response = _post(clients["editor"], _csv([_row(LEIPZIG_WKT, "IMP-1")]))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "imported" and body["counts"]["created"] == 1
    assert body["counts"]["sites_created"] == 1
    assert response.headers["Location"].endswith(f"/api/v1/imports/{body['id']}")
    stored = conn.execute(text(
        "SELECT p.net_area_ha, p.user_groups, p.district_ags, s.name, h.import_id, h.reason "
        "FROM parcels p JOIN sites s ON s.id = p.site_id "
        "JOIN parcel_history h ON h.parcel_id = p.id WHERE p.external_id = 'IMP-1'")).one()
    assert stored.net_area_ha == 3.5 and stored.district_ags == "14713"
    assert sorted(stored.user_groups) == ["handwerk_gewerbe", "logistik"]
    assert stored.name == "Testgebiet Import"
    assert stored.import_id == body["id"] and stored.reason.startswith(f"Import {body['id']}")
    parcel_id = conn.execute(text("SELECT id FROM parcels WHERE external_id = 'IMP-1'")
                             ).scalar_one()
    entries = clients["analyst"].get(f"/parcels/{parcel_id}/history").json()["entries"]
    assert [(e["operation"], e["import_id"]) for e in entries] == [("insert", body["id"])]


def test_a_dry_run_answers_200_and_writes_nothing(clients: dict[str, Client],
                                                  conn: Connection) -> None:
    before = _counts(conn)
    response = _post(clients["admin"], _csv([_row(LEIPZIG_WKT, "IMP-2")]), dry_run="true")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "checked"
    assert response.json()["counts"]["created"] == 1
    assert _counts(conn) == before


def test_a_bad_row_rejects_the_file_with_the_row_and_field_named(
        clients: dict[str, Client], conn: Connection) -> None:
    before = _counts(conn)
    content = _csv([_row(LEIPZIG_WKT, "IMP-3"), _row(LEIPZIG_WKT, "IMP-4", net=9.0)])
    response = _post(clients["editor"], content)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert [(e["field"], e["code"]) for e in body["errors"]] == [
        ("rows[2].net_area_ha", "not_above_gross")]
    assert "größer als die Bruttofläche" in body["errors"][0]["reason"]
    assert body["import"]["status"] == "rejected" and body["counts"]["rejected"] == 1
    assert _counts(conn) == before
    report = clients["editor"].http.get(response.headers["Location"] + "/report.csv",
                                        headers=clients["editor"].headers)
    lines = list(csv.DictReader(io.StringIO(report.text)))
    assert [(line["row"], line["action"], line["field"]) for line in lines] == [
        ("1", "created", ""), ("2", "rejected", "net_area_ha")]
    as_json = clients["analyst"].get(f"/imports/{body['import']['id']}/report.json").json()
    assert [r["action"] for r in as_json["rows"]] == ["created", "rejected"]


def test_an_editor_cannot_import_into_another_district(clients: dict[str, Client],
                                                       conn: Connection) -> None:
    before = _counts(conn)
    content = _csv([_row(LEIPZIG_WKT, "IMP-5"), _row(HALLE_WKT, "IMP-6")])
    response = _post(clients["editor"], content)
    assert response.status_code == 422
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [
        ("rows[2].geometry", "district_not_allowed")]
    assert _counts(conn) == before
    accepted = _post(clients["admin"], content)
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["counts"]["created"] == 2


@pytest.mark.parametrize(("role", "status"), [("public", 401), ("analyst", 403)])
def test_only_editors_and_admins_import(clients: dict[str, Client], role: str,
                                        status: int) -> None:
    assert _post(clients[role], _csv([_row(LEIPZIG_WKT, "IMP-7")])).status_code == status


def test_unknown_format_options_and_mapping_are_refused(clients: dict[str, Client]) -> None:
    editor = clients["editor"]
    response = _post(editor, b"x", name="flaechen.dwg")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "file"
    assert _post(editor, b"x", mapping="{nope").json()["errors"][0]["field"] == "mapping"
    assert _post(editor, b"x", crs="EPSG:99999").json()["errors"][0]["field"] == "crs"
    refused = _post(editor, b"x", withdraw_missing="true")
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["field"] == "withdraw_missing"


def test_an_explicit_mapping_names_unknown_columns(clients: dict[str, Client]) -> None:
    header = ["WKT", "Kennung", "site_name", "category", "user_groups"]
    content = _csv([[LEIPZIG_WKT, "IMP-8", "Testgebiet", "erweiterungsflaeche", "logistik"]],
                   header)
    response = _post(clients["editor"], content, dry_run="true",
                     mapping=json.dumps({"Kennung": "external_id"}))
    assert response.status_code == 200, response.text
    assert response.json()["columns"]["fields"]["Kennung"] == "external_id"
    response = _post(clients["editor"], content, mapping=json.dumps({"Kennung": "ident"}))
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} >= {"mapping", "external_id"}


@pytest.mark.parametrize("fmt", ["gpkg", "csv", "xlsx"])
def test_a_filled_in_template_imports(clients: dict[str, Client], tmp_path: Path,
                                      fmt: str) -> None:
    response = clients["public"].get(f"/imports/templates/parcels.{fmt}")
    assert response.status_code == 200
    path = tmp_path / f"vorlage.{fmt}"
    path.write_bytes(response.content)
    if fmt == "gpkg":  # filled in by GDAL's ogr2ogr, as a GIS user would
        info = pyogrio.read_info(path)
        assert info["crs"] == "EPSG:25832" and "external_id" in info["fields"]
        row = tmp_path / "zeile.csv"
        row.write_bytes(_csv([[LEIPZIG_WKT, "IMP-9", "Testgebiet", "erweiterungsflaeche",
                               "logistik"]], HEADER[:5]))
        subprocess.run(["ogr2ogr", "-append", "-f", "GPKG", str(path), str(row),
                        "-nln", "parcels", "-a_srs", "EPSG:25832", "-nlt", "MULTIPOLYGON",
                        "-oo", "GEOM_POSSIBLE_NAMES=WKT", "-oo", "KEEP_GEOM_COLUMNS=NO"],
                       check=True, capture_output=True)
        assert pyogrio.read_info(path)["features"] == 1
    elif fmt == "csv":
        header = response.text.strip().split(",")
        values = {"WKT": LEIPZIG_WKT, "external_id": "IMP-9", "site_name": "Testgebiet",
                  "category": "erweiterungsflaeche", "user_groups": "logistik"}
        path.write_bytes(_csv([[values.get(h, "") for h in header]], header))
    else:
        book = load_workbook(path)
        sheet = book.worksheets[0]
        header = [c.value for c in sheet[1]]
        assert "felder" in book.sheetnames
        values = {"WKT": LEIPZIG_WKT, "external_id": "IMP-9", "site_name": "Testgebiet",
                  "category": "erweiterungsflaeche", "user_groups": "logistik"}
        sheet.append([values.get(h) for h in header])
        book.save(path)
    imported = _post(clients["editor"], path.read_bytes(), name=path.name, dry_run="true",
                     **({} if fmt != "gpkg" else {"crs": None}))
    assert imported.status_code == 200, imported.text
    assert imported.json()["counts"]["created"] == 1


def test_unknown_templates_are_404(clients: dict[str, Client]) -> None:
    assert clients["public"].get("/imports/templates/parcels.dwg").status_code == 404


def test_imports_are_listed_for_staff(clients: dict[str, Client]) -> None:
    created = _post(clients["editor"], _csv([_row(LEIPZIG_WKT, "IMP-10")]), dry_run="true")
    listed = clients["analyst"].get("/imports").json()["imports"]
    assert listed[0]["id"] == created.json()["id"] and listed[0]["dry_run"] is True
    assert clients["public"].get("/imports").status_code == 401
    assert clients["analyst"].get("/imports/999999999").status_code == 404


def test_a_large_or_async_import_answers_202_and_can_be_polled(
        committing_clients: dict[str, Client]) -> None:
    editor = committing_clients["editor"]
    response = _post(editor, _csv([_row(LEIPZIG_WKT, "IMP-11")]), dry_run="true",
                     headers={"Prefer": "respond-async"})
    assert response.status_code == 202, response.text
    assert response.headers["Preference-Applied"] == "respond-async"
    url = response.headers["Location"]
    for _ in range(200):
        record = editor.http.get(url, headers=editor.headers).json()
        if record["status"] not in ("queued", "running"):
            break
        time.sleep(0.05)
    assert record["status"] == "checked" and record["counts"]["created"] == 1
    assert record["rows_read"] == record["rows_validated"] == 1


def test_a_derived_net_area_read_back_stays_derived(clients: dict[str, Client],
                                                    conn: Connection) -> None:
    """A file that carries the exported (derived) net area and changes only the name leaves
    the net area derived, so it still follows later changes of the shape."""
    parcel = conn.execute(text(
        "SELECT p.id, p.external_id, ST_AsText(p.geom_25832) AS wkt, p.net_area_ha, "
        "s.name AS site FROM parcels p JOIN sites s ON s.id = p.site_id "
        "WHERE p.net_area_ha_given IS NULL AND p.district_ags = '14713' "
        "AND p.marketing_status = 'verfuegbar' ORDER BY p.id LIMIT 1")).one()
    header = ["WKT", "external_id", "site_name", "name", "net_area_ha"]
    response = _post(clients["editor"], _csv(
        [[parcel.wkt, parcel.external_id, parcel.site, "Neuer Name", parcel.net_area_ha]],
        header))
    assert response.status_code == 201, response.text
    assert response.json()["counts"]["updated"] == 1
    changed = conn.execute(text("SELECT changed_fields FROM import_rows WHERE import_id = :i"),
                           {"i": response.json()["id"]}).scalar_one()
    assert changed == ["name"]
    stored = conn.execute(text("SELECT name, net_area_ha_given FROM parcels WHERE id = :id"),
                          {"id": parcel.id}).one()
    assert stored.name == "Neuer Name" and stored.net_area_ha_given is None
