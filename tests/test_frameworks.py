"""Demand frameworks: reading (domain object, API), new versions, validation, roles,
immutability, withdraw/default rules and the CLI — on the session's database, rolled back."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Connection, event, text
from sqlalchemy.exc import DBAPIError

import app.cli
from app.db.queries.frameworks import get_framework, list_frameworks
from app.domain.errors import Conflict, NotFound
from app.domain.framework import FRAMEWORK_GROSS_CONVENTION
from app.services.frameworks import immutable_as_conflict
from app.settings import PROJECT_ROOT
from tests.resource_client import Client, problem_fields
from tests.server import SavepointEngine

DEMO_FILE = PROJECT_ROOT / "geodata" / "demo" / "demand_framework_2038.json"
DEMO: dict[str, Any] = json.loads(DEMO_FILE.read_text(encoding="utf-8"))


def new_version(**changes: Any) -> dict[str, Any]:
    """The demo document without its version (so: the next one), with ``changes``."""
    body = copy.deepcopy(DEMO)
    del body["version"]
    return {**body, **changes}


@pytest.fixture
def demo_id(conn: Connection) -> int:
    return get_framework(conn).id


def _create(admin: Client, body: dict[str, Any]) -> dict[str, Any]:
    response = admin.post("/frameworks", body)
    assert response.status_code == 201, response.text
    item: dict[str, Any] = response.json()
    assert response.headers["Location"].endswith(f"/api/v1/frameworks/{item['id']}")
    return item


# --- reading ------------------------------------------------------------------------------

def test_the_default_is_the_demo_framework_read_in_two_queries(conn: Connection) -> None:
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(conn, "before_cursor_execute", count)
    try:
        f = get_framework(conn)
    finally:
        event.remove(conn, "before_cursor_execute", count)
    assert len(statements) == 2
    assert f.name == DEMO["name"] and f.version == 1 and f.is_default and f.withdrawn_at is None
    assert (f.period.first_year, f.period.last_year, f.period.years) == (2020, 2038, 19)
    assert f.gross_factor == pytest.approx(1.3)
    assert f.scenario_keys() == ("niedrig", "hoch")
    assert [c.key for c in f.components] == [c["key"] for c in DEMO["components"]]
    assert f.demand_net_ha("niedrig") == pytest.approx(2545)
    assert f.demand_net_ha("hoch") == pytest.approx(2840)
    assert round(f.demand_net_ha("niedrig") / f.period.years, 2) == 133.95
    assert round(f.demand_net_ha("hoch") / f.period.years, 2) == 149.47
    kmu, large = f.components[0], f.components[1]
    assert kmu.located and kmu.net_ha("niedrig", "14713") == pytest.approx(211.17)
    assert not large.located and large.values["hoch"] == {None: 950.0}
    assert f.demand_net_ha("hoch", "15002") == pytest.approx(191.09)  # located part only
    assert get_framework(conn, f.id) == f


def test_unknown_id_and_missing_default_are_not_found(conn: Connection, demo_id: int) -> None:
    with pytest.raises(NotFound, match="999999"):
        get_framework(conn, 999_999)
    conn.execute(text("UPDATE demand_frameworks SET is_default = false"))
    with pytest.raises(NotFound, match="default"):
        get_framework(conn)
    assert get_framework(conn, demo_id).id == demo_id


def test_public_reads_the_list_and_the_document(clients: dict[str, Client],
                                                demo_id: int) -> None:
    listed = clients["public"].get("/frameworks")
    assert listed.status_code == 200, listed.text
    items = listed.json()["items"]
    assert [i["id"] for i in items] == [demo_id]
    response = clients["public"].get(f"/frameworks/{demo_id}")
    assert response.status_code == 200, response.text
    doc = response.json()
    assert doc["period"] == {"first_year": 2020, "last_year": 2038, "years": 19}
    assert doc["is_default"] and doc["withdrawn_at"] is None
    assert doc["gross_convention"] == FRAMEWORK_GROSS_CONVENTION
    figures = {s["key"]: s for s in doc["scenarios"]}
    assert figures["niedrig"]["total_net_ha"] == 2545 and figures["hoch"]["total_net_ha"] == 2840
    assert figures["niedrig"]["annual_net_ha"] == 133.95
    assert figures["hoch"]["annual_net_ha"] == 149.47
    assert figures["niedrig"]["total_gross_ha"] == pytest.approx(2545 * 1.3)
    assert figures["hoch"]["located_net_ha"] == 1290 and figures["hoch"]["regional_net_ha"] == 1550
    kmu = doc["components"][0]
    assert kmu["values"]["hoch"] == DEMO["components"][0]["values"]["hoch"]
    assert kmu["method"] == DEMO["components"][0]["method"]
    assert doc["components"][1]["values"] == DEMO["components"][1]["values"]
    assert problem_fields(clients["public"].get("/frameworks/999999"), 404) == []


# --- new versions -------------------------------------------------------------------------

def test_a_new_version_is_a_new_row_and_the_old_one_is_unchanged(
        clients: dict[str, Client], conn: Connection, demo_id: int) -> None:
    admin = clients["admin"]
    before = clients["public"].get(f"/frameworks/{demo_id}").json()
    body = new_version(description="Fortschreibung 2026", period_first_year=2021,
                       base_date="2021-06-30")
    body["components"][1]["values"]["hoch"]["total"] = 1000.0
    created = _create(admin, body)
    assert created["version"] == 2 and created["id"] != demo_id
    assert not created["is_default"] and created["description"] == "Fortschreibung 2026"
    assert created["period"]["years"] == 18
    assert {s["key"]: s["total_net_ha"] for s in created["scenarios"]} == {
        "niedrig": 2545, "hoch": 2890}
    assert clients["public"].get(f"/frameworks/{demo_id}").json() == before
    assert [f.version for f in list_frameworks(conn)] == [2, 1]  # newest first
    third = _create(admin, new_version())
    assert third["version"] == 3
    renamed = _create(admin, new_version(name="Anderer Rahmen"))
    assert renamed["version"] == 1
    duplicate = admin.post("/frameworks", new_version(version=2))
    assert problem_fields(duplicate, 409) == ["version"]
    assert _create(admin, new_version(version=7))["version"] == 7


def _edit(body: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """``body`` with the value at dotted ``path`` replaced (``...`` deletes it)."""
    *parents, last = path.split(".")
    node: Any = body
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if value is ...:
        del node[last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return body


KMU_HOCH = "components.0.values.hoch"


@pytest.mark.parametrize(("path", "value", "field"), [
    ("period_last_year", 2019, "period_last_year"),
    ("period_first_year", 1900, "period_first_year"),
    ("base_date", "2017-12-31", "base_date"),
    ("base_date", "2039-01-01", "base_date"),
    ("base_date", "31.12.2020", "base_date"),
    ("net_to_gross_factor", 3.5, "net_to_gross_factor"),
    ("net_to_gross_factor", 0.9, "net_to_gross_factor"),
    ("net_to_gross_factor", 1.333, "net_to_gross_factor"),
    ("scenarios.0.key", "Niedrig", "scenarios.0.key"),
    ("scenarios.1.key", "niedrig", "scenarios.1.key"),
    ("components.1.key", "große", "components.1.key"),
    ("components.2.key", "large_settlements", "components.2.key"),
    (f"{KMU_HOCH}.by_district.99999", 0.0, f"{KMU_HOCH}.by_district.99999"),
    (f"{KMU_HOCH}.by_district.14713", 300.0, f"{KMU_HOCH}.by_district"),
    (f"{KMU_HOCH}.by_district", ..., f"{KMU_HOCH}.by_district"),
    (f"{KMU_HOCH}.total", -1.0, f"{KMU_HOCH}.total"),
    ("components.1.values.niedrig.by_district", {"14713": 850.0},
     "components.1.values.niedrig.by_district"),
    ("components.2.values.hoch", ..., "components.2.values"),
    ("components.2.values.mittel", {"total": 1.0}, "components.2.values.mittel"),
    ("components.3.values.hoch.total", "viel", "components.3.values.hoch.total"),
    ("scenarios", [], "scenarios"),
    ("name", "", "name"),
    ("colour", "blau", "colour"),
])
def test_bad_documents_are_refused_naming_the_field(
        clients: dict[str, Client], path: str, value: Any, field: str) -> None:
    response = clients["admin"].post("/frameworks", _edit(new_version(), path, value))
    assert field in problem_fields(response, 422)


def test_the_districts_may_miss_the_total_by_a_hundredth(clients: dict[str, Client]) -> None:
    body = new_version()
    body["components"][0]["values"]["hoch"]["by_district"]["14713"] += 0.009
    assert _create(clients["admin"], body)["version"] == 2


# --- roles --------------------------------------------------------------------------------

@pytest.mark.parametrize(("role", "status"), [
    ("public", 401), ("analyst", 403), ("editor", 403), ("editor_halle", 403)])
def test_only_admins_write(clients: dict[str, Client], demo_id: int, role: str,
                           status: int) -> None:
    client = clients[role]
    problem_fields(client.post("/frameworks", new_version()), status)
    problem_fields(client.post(f"/frameworks/{demo_id}/default"), status)
    problem_fields(client.post(f"/frameworks/{demo_id}/withdraw"), status)
    assert client.get(f"/frameworks/{demo_id}").status_code == 200


def test_the_operations_are_documented(http: httpx.Client) -> None:
    paths = http.get("/openapi.json").json()["paths"]
    operations = {(m, p): op for p, item in paths.items() if p.startswith("/api/v1/frameworks")
                  for m, op in item.items()}
    assert set(operations) == {
        ("get", "/api/v1/frameworks"), ("post", "/api/v1/frameworks"),
        ("get", "/api/v1/frameworks/{framework_id}"),
        ("post", "/api/v1/frameworks/{framework_id}/withdraw"),
        ("post", "/api/v1/frameworks/{framework_id}/default")}
    for (method, _), op in operations.items():
        assert op["summary"] and op["description"]
        assert {"401", "403", "404", "422"} <= set(op["responses"])
        public = [{"ApiKey": []}, {}] if method == "get" else [{"ApiKey": []}]
        assert op["security"] == public
        assert all(p.get("description") for p in op.get("parameters", []))
    for path, allowed in (("/frameworks", "GET, POST"), ("/frameworks/1", "GET"),
                          ("/frameworks/1/withdraw", "POST"), ("/frameworks/1/default", "POST")):
        response = http.delete("/api/v1" + path)
        assert response.status_code == 405 and response.headers["allow"] == allowed, path


# --- immutability, withdraw and default ---------------------------------------------------

@pytest.mark.parametrize("statement", [
    "UPDATE demand_component_values SET net_ha = net_ha + 1 WHERE framework_id = :id",
    "DELETE FROM demand_component_values WHERE framework_id = :id",
    "UPDATE demand_frameworks SET net_to_gross_factor = 1.5 WHERE id = :id",
    "INSERT INTO demand_scenarios (framework_id, key, label) VALUES (:id, 'mittel', 'mittel')",
])
def test_the_database_refuses_to_change_a_stored_framework(
        conn: Connection, demo_id: int, statement: str) -> None:
    savepoint = conn.begin_nested()
    with pytest.raises(DBAPIError) as caught:
        conn.execute(text(statement), {"id": demo_id})
    savepoint.rollback()
    assert caught.value.orig.diag.constraint_name.endswith("__immutable")  # type: ignore[union-attr]
    savepoint = conn.begin_nested()
    with pytest.raises(Conflict, match="immutable"), immutable_as_conflict():
        conn.execute(text(statement), {"id": demo_id})
    savepoint.rollback()
    assert get_framework(conn).demand_net_ha("hoch") == pytest.approx(2840)


def test_withdraw_and_default_rules(clients: dict[str, Client], conn: Connection,
                                    demo_id: int) -> None:
    admin, public = clients["admin"], clients["public"]
    refused = admin.post(f"/frameworks/{demo_id}/withdraw")
    assert problem_fields(refused, 409) == [] and "default" in refused.json()["detail"]
    new = _create(admin, new_version())
    response = admin.post(f"/frameworks/{new['id']}/default")
    assert response.status_code == 200 and response.json()["is_default"]
    assert get_framework(conn).id == new["id"]
    assert admin.post(f"/frameworks/{new['id']}/default").status_code == 200  # already
    withdrawn = admin.post(f"/frameworks/{demo_id}/withdraw")
    assert withdrawn.status_code == 200, withdrawn.text
    stamp = withdrawn.json()["withdrawn_at"]
    assert stamp and not withdrawn.json()["is_default"]
    again = admin.post(f"/frameworks/{demo_id}/withdraw").json()
    assert again["withdrawn_at"] == stamp  # the first withdrawal is kept
    old = public.get(f"/frameworks/{demo_id}").json()
    assert old["withdrawn_at"] == stamp and old["scenarios"][1]["total_net_ha"] == 2840
    assert get_framework(conn, demo_id).withdrawn_at is not None
    problem_fields(admin.post(f"/frameworks/{demo_id}/default"), 409)
    assert [i["id"] for i in public.get("/frameworks").json()["items"]] == [new["id"]]
    everything = public.get("/frameworks", include_withdrawn="true").json()["items"]
    assert [i["id"] for i in everything] == [new["id"], demo_id]
    problem_fields(admin.post("/frameworks/999999/withdraw"), 404)
    problem_fields(admin.post("/frameworks/999999/default"), 404)


# --- CLI ----------------------------------------------------------------------------------

@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, conn: Connection,
        capsys: pytest.CaptureFixture[str]) -> Iterator[Any]:
    """``gefis …`` run in-process on the test's transaction; returns (code, out, err)."""
    monkeypatch.setattr(app.cli, "get_engine", lambda: SavepointEngine(conn))

    def run(*argv: str) -> tuple[int, str, str]:
        code = app.cli.main(list(argv))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    yield run


def test_cli_creates_lists_shows_and_sets_the_default(cli: Any, conn: Connection,
                                                      tmp_path: Path, demo_id: int) -> None:
    document = tmp_path / "rahmen.json"
    document.write_text(json.dumps(new_version()), encoding="utf-8")
    code, out, err = cli("framework", "create", "--file", str(document))
    assert code == 0, err
    assert "Version 2" in out and "angelegt" in out
    new_id = list_frameworks(conn)[0].id
    code, out, _ = cli("framework", "list")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["id", "name", "version"]
    assert lines[1].startswith(str(new_id)) and "2.545,00 ha/133,95 ha" in lines[1]
    code, out, _ = cli("framework", "show", str(demo_id))
    assert code == 0 and "19 Jahre" in out and "2.840,00 ha" in out and "(Standard)" in out
    code, out, _ = cli("framework", "show", str(new_id), "--json")
    assert code == 0 and json.loads(out)["version"] == 2
    code, _, err = cli("framework", "withdraw", str(demo_id))
    assert code == 1 and f"{demo_id} is the default" in err
    assert cli("framework", "set-default", str(new_id))[0] == 0
    assert cli("framework", "withdraw", str(demo_id))[0] == 0
    assert get_framework(conn).id == new_id
    assert get_framework(conn, demo_id).withdrawn_at is not None
    code, out, _ = cli("framework", "list", "--active")
    assert str(demo_id) not in {line.split()[0] for line in out.splitlines()[1:]}


def test_cli_refusals_name_the_field(cli: Any, tmp_path: Path) -> None:
    document = tmp_path / "rahmen.json"
    document.write_text(json.dumps(new_version(net_to_gross_factor=4)), encoding="utf-8")
    code, _, err = cli("framework", "create", "--file", str(document))
    assert code == 1 and "net_to_gross_factor" in err and "Fehler" in err
    document.write_text("{kein json", encoding="utf-8")
    code, _, err = cli("framework", "create", "--file", str(document))
    assert code == 1 and "--file" in err
    code, _, err = cli("framework", "show", "999999")
    assert code == 1 and "999999" in err


def test_loading_the_demo_again_keeps_the_administrators_default(
        clients: dict[str, Client], conn: Connection, demo_id: int, tmp_path: Path) -> None:
    from app.services.demo_loader import load_framework

    admin = clients["admin"]
    new = _create(admin, new_version())
    assert admin.post(f"/frameworks/{new['id']}/default").status_code == 200
    assert load_framework(conn, DEMO_FILE) == 0
    assert get_framework(conn).id == new["id"] != demo_id
    edited = tmp_path / "rahmen.json"
    edited.write_text(json.dumps({**DEMO, "period_first_year": 2021}), encoding="utf-8")
    with pytest.raises(ValueError, match="new version"):
        load_framework(conn, edited)
