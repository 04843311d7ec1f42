"""Roles, API keys (service, schema, CLI) and the authentication dependency.

The dependency is tested on a small probe app, called in-process on the test's transaction;
the real service's routes are tested over HTTP elsewhere.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from alembic import command
from fastapi import FastAPI
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

import app.db.session
import app.settings
from app.api.auth import InternalReaderDep, PrincipalDep, WriterDep
from app.api.problems import register_problem_handlers
from app.cli import alembic_config, main
from app.db.errors import translate_db_error
from app.domain.errors import InvalidInput
from app.domain.roles import PUBLIC, Principal, Role, ensure_can_write_district
from app.services.api_keys import (
    authenticate,
    create_api_key,
    list_api_keys,
    revoke_api_key,
)
from tests.server import in_process, on_connection

LEIPZIG = "14713"
HALLE = "15002"
UNKNOWN_DISTRICT = "99999"

# --- roles (pure) ---------------------------------------------------------------------


def test_roles_are_ordered_by_rank_not_alphabet() -> None:
    assert sorted([Role.ADMIN, Role.PUBLIC, Role.EDITOR, Role.ANALYST]) == [
        Role.PUBLIC, Role.ANALYST, Role.EDITOR, Role.ADMIN]
    assert Role.ADMIN > Role.EDITOR  # alphabetically "admin" < "editor"


@pytest.mark.parametrize(
    ("role", "internal", "write", "in_scope", "out_of_scope"),
    [(Role.PUBLIC, False, False, False, False), (Role.ANALYST, True, False, False, False),
     (Role.EDITOR, True, True, True, False), (Role.ADMIN, True, True, True, True)],
)
def test_principal_permissions(role: Role, internal: bool, write: bool, in_scope: bool,
                               out_of_scope: bool) -> None:
    districts = frozenset({LEIPZIG}) if role == Role.EDITOR else frozenset()
    principal = Principal(role, None if role == Role.PUBLIC else 3, "x", districts)
    assert principal.is_authenticated is (role != Role.PUBLIC)
    assert principal.can_read_internal is internal
    assert principal.can_write is write
    assert principal.can_write_district(LEIPZIG) is in_scope
    assert principal.can_write_district(HALLE) is out_of_scope


def test_actor_names_the_key_or_public() -> None:
    assert Principal(Role.EDITOR, 12, "alice", frozenset({LEIPZIG})).actor == "api-key:12:alice"
    assert PUBLIC.actor == "public"
    assert PUBLIC.role == Role.PUBLIC and PUBLIC.key_id is None


# --- service ----------------------------------------------------------------------------


def test_created_key_is_stored_only_as_its_hash(conn: Connection) -> None:
    key_id, key = create_api_key(conn, "alice", Role.EDITOR, [LEIPZIG], "pytest")
    assert re.fullmatch(r"gefis_[A-Za-z0-9_-]{43}", key)
    row = conn.execute(text("SELECT key_hash, key_prefix, to_jsonb(k)::text AS everything "
                            "FROM api_keys k WHERE id = :id"), {"id": key_id}).one()
    assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert row.key_prefix == key[:12]
    assert key not in row.everything
    assert key[12:] not in row.everything  # not even the secret part


def test_authenticate_returns_the_keys_principal(conn: Connection) -> None:
    key_id, key = create_api_key(conn, "alice", "editor", [HALLE, LEIPZIG, LEIPZIG], "pytest")
    principal = authenticate(conn, key)
    assert principal == Principal(Role.EDITOR, key_id, "alice", frozenset({LEIPZIG, HALLE}))
    districts = conn.execute(text("SELECT districts FROM api_keys WHERE id = :id"),
                             {"id": key_id}).scalar_one()
    assert districts == [LEIPZIG, HALLE]  # distinct and sorted


def test_revoked_key_does_not_authenticate(conn: Connection) -> None:
    key_id, key = create_api_key(conn, "bob", Role.ANALYST, [], "pytest")
    assert revoke_api_key(conn, key_id) is True
    assert authenticate(conn, key) is None
    assert revoke_api_key(conn, key_id) is False  # already revoked
    assert revoke_api_key(conn, 987_654_321) is False  # no such key


@pytest.mark.parametrize("presented", [
    "gefis_" + "A" * 43, "gefis_", "", "not-a-gefis-key", "gefis_" + "x" * 500])
def test_unknown_key_does_not_authenticate(conn: Connection, presented: str) -> None:
    create_api_key(conn, "carol", Role.ADMIN, [], "pytest")
    assert authenticate(conn, presented) is None


def test_last_used_is_written_at_most_once_a_minute(conn: Connection) -> None:
    key_id, key = create_api_key(conn, "dave", Role.ANALYST, [], "pytest")

    def last_used_age_s() -> float | None:
        age: float | None = conn.execute(text(
            "SELECT extract(epoch FROM now() - last_used_at) FROM api_keys WHERE id = :id"),
            {"id": key_id}).scalar_one()
        return None if age is None else float(age)

    assert last_used_age_s() is None
    authenticate(conn, key)
    assert last_used_age_s() == 0
    conn.execute(text("UPDATE api_keys SET last_used_at = now() - interval '30 seconds' "
                      "WHERE id = :id"), {"id": key_id})
    authenticate(conn, key)
    assert last_used_age_s() == 30  # recent enough: not rewritten
    conn.execute(text("UPDATE api_keys SET last_used_at = now() - interval '2 minutes' "
                      "WHERE id = :id"), {"id": key_id})
    authenticate(conn, key)
    assert last_used_age_s() == 0


@pytest.mark.parametrize(
    ("role", "districts", "field", "message"),
    [(Role.EDITOR, [], "districts", "at least one district"),
     (Role.EDITOR, [LEIPZIG, UNKNOWN_DISTRICT], "districts", UNKNOWN_DISTRICT),
     (Role.EDITOR, ["1471"], "districts", "5-digit"),
     (Role.ADMIN, [LEIPZIG], "districts", "only editor keys"),
     ("public", [], "role", "analyst, editor, admin"),
     ("root", [], "role", "root")],
)
def test_invalid_keys_are_rejected_naming_the_field(
        conn: Connection, role: Role | str, districts: list[str], field: str,
        message: str) -> None:
    with pytest.raises(InvalidInput) as info:
        create_api_key(conn, "eve", role, districts, "pytest")
    assert info.value.problems[0].field == field
    assert message in info.value.problems[0].reason
    assert conn.execute(text("SELECT count(*) FROM api_keys WHERE name = 'eve'")).scalar() == 0


def test_blank_name_is_rejected(conn: Connection) -> None:
    with pytest.raises(InvalidInput) as info:
        create_api_key(conn, "  ", Role.ADMIN, [], "pytest")
    assert info.value.problems[0].field == "name"


def test_listing_never_contains_the_hash(conn: Connection) -> None:
    key_id, key = create_api_key(conn, "frank", Role.EDITOR, [LEIPZIG], "pytest")
    listed = {info.id: info for info in list_api_keys(conn)}[key_id]
    assert (listed.name, listed.role, listed.districts, listed.key_prefix, listed.created_by) == (
        "frank", Role.EDITOR, (LEIPZIG,), key[:12], "pytest")
    assert not listed.is_revoked
    assert hashlib.sha256(key.encode()).hexdigest() not in repr(listed)


# --- schema -----------------------------------------------------------------------------


def _refused_insert(conn: Connection, role: str, districts: list[str]) -> InvalidInput:
    """Insert a key row directly (bypassing the service); the database must refuse it."""
    savepoint = conn.begin_nested()
    with pytest.raises(DBAPIError) as info:
        conn.execute(text(
            "INSERT INTO api_keys (name, role, districts, key_prefix, key_hash) "
            "VALUES ('direct', :role, :districts, 'gefis_abcdef', repeat('a', 64))"),
            {"role": role, "districts": districts})
    savepoint.rollback()
    translated = translate_db_error(info.value)
    assert isinstance(translated, InvalidInput), info.value
    return translated


@pytest.mark.parametrize(
    ("role", "districts", "constraint"),
    [("editor", [], "ck_api_keys__districts__editor_scope"),
     ("editor", [UNKNOWN_DISTRICT], "fk_api_keys__districts"),
     ("editor", ["14713x"], "ck_api_keys__districts__format"),
     ("analyst", [LEIPZIG], "ck_api_keys__districts__only_editors"),
     ("public", [], "ck_api_keys__role__known")],
)
def test_database_refuses_inconsistent_keys(conn: Connection, role: str, districts: list[str],
                                            constraint: str) -> None:
    problem = _refused_insert(conn, role, districts).problems[0]
    assert problem.code == constraint
    assert problem.field == ("role" if constraint.startswith("ck_api_keys__role") else "districts")


def test_district_ags_changes_cascade_and_deletion_is_refused(conn: Connection) -> None:
    conn.execute(text(
        "INSERT INTO districts (ags, key, name, kind, state, geom_25832) VALUES "
        "('99001', 'testkreis', 'Testkreis', 'landkreis', 'Sachsen', "
        " ST_Multi(ST_MakeEnvelope(0, 0, 10, 10, 25832)))"))
    key_id, _ = create_api_key(conn, "gina", Role.EDITOR, [LEIPZIG, "99001"], "pytest")
    conn.execute(text("UPDATE districts SET ags = '99002' WHERE ags = '99001'"))
    scope = conn.execute(text("SELECT districts FROM api_keys WHERE id = :id"),
                         {"id": key_id}).scalar_one()
    assert scope == [LEIPZIG, "99002"]
    savepoint = conn.begin_nested()
    with pytest.raises(DBAPIError) as info:
        conn.execute(text("DELETE FROM districts WHERE ags = '99002'"))
    savepoint.rollback()
    translated = translate_db_error(info.value)
    assert isinstance(translated, InvalidInput)
    assert translated.problems[0].field == "districts"


def test_migration_0003_downgrades_cleanly(engine: Engine) -> None:
    """Down to 0002 and up again, on the session's database inside a transaction that is
    rolled back (PostgreSQL's DDL is transactional), so nothing else sees it."""
    with engine.connect() as db:
        transaction = db.begin()
        config = alembic_config(engine.url.render_as_string(hide_password=False))
        config.attributes["connection"] = db
        try:
            command.downgrade(config, "0002")
            left = db.execute(text(
                "SELECT (SELECT count(*) FROM pg_tables WHERE tablename = 'api_keys') "
                "     + (SELECT count(*) FROM pg_proc WHERE proname LIKE '%api\\_keys%') "
                "     + (SELECT count(*) FROM pg_trigger WHERE tgname LIKE '%api\\_keys%')"
            )).scalar()
            assert left == 0
            command.upgrade(config, "head")
            assert db.execute(text("SELECT to_regclass('api_keys') IS NOT NULL")).scalar()
        finally:
            transaction.rollback()


# --- the dependency ---------------------------------------------------------------------


@dataclass(frozen=True)
class Keys:
    """Committed keys for the dependency tests (the dependency opens its own connection)."""

    analyst: str
    editor: str
    editor_id: int
    admin: str
    revoked: str


@pytest.fixture
def keys(conn: Connection) -> Keys:
    """Keys on the test's transaction (the probe app below reads them through it)."""
    made = {
        "analyst": create_api_key(conn, "t-analyst", Role.ANALYST, [], "pytest"),
        "editor": create_api_key(conn, "t-editor", Role.EDITOR, [LEIPZIG], "pytest"),
        "admin": create_api_key(conn, "t-admin", Role.ADMIN, [], "pytest"),
        "revoked": create_api_key(conn, "t-revoked", Role.ADMIN, [], "pytest"),
    }
    revoke_api_key(conn, made["revoked"][0])
    return Keys(made["analyst"][1], made["editor"][1], made["editor"][0], made["admin"][1],
                made["revoked"][1])


def _probe_app() -> FastAPI:
    probe = FastAPI()
    register_problem_handlers(probe)

    @probe.get("/whoami")
    def whoami(principal: PrincipalDep) -> dict[str, object]:
        return {"role": principal.role, "key_id": principal.key_id, "actor": principal.actor,
                "districts": sorted(principal.districts)}

    @probe.get("/internal")
    def internal(principal: InternalReaderDep) -> dict[str, str]:
        return {"role": principal.role}

    @probe.post("/districts/{ags}/parcels")
    def write(ags: str, principal: WriterDep) -> dict[str, str]:
        ensure_can_write_district(principal, ags)
        return {"written_by": principal.actor}

    return probe


@pytest.fixture(scope="module")
def probe() -> Iterator[tuple[FastAPI, httpx.Client]]:
    """A probe app using the authentication dependencies, and its client."""
    probe_app = _probe_app()
    with in_process(probe_app) as http:
        yield probe_app, http


@pytest.fixture
def client(probe: tuple[FastAPI, httpx.Client], conn: Connection) -> Iterator[httpx.Client]:
    probe_app, http = probe
    with on_connection(probe_app, conn):
        yield http


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _assert_problem(response: httpx.Response, status: int, detail_part: str) -> None:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert detail_part in body["detail"]


def test_no_header_is_the_public_principal(client: httpx.Client) -> None:
    response = client.get("/whoami")
    assert response.status_code == 200
    assert response.json() == {"role": "public", "key_id": None, "actor": "public",
                               "districts": []}


def test_valid_key_yields_its_principal(client: httpx.Client, keys: Keys) -> None:
    body = client.get("/whoami", headers=_bearer(keys.editor)).json()
    assert body == {"role": "editor", "key_id": keys.editor_id,
                    "actor": f"api-key:{keys.editor_id}:t-editor", "districts": [LEIPZIG]}
    lower = client.get("/whoami", headers={"Authorization": f"bearer {keys.editor}"})
    assert lower.json()["role"] == "editor"  # the scheme is case-insensitive


@pytest.mark.parametrize(
    ("header", "detail_part", "error"),
    [("Bearer gefis_" + "Z" * 43, "unknown or has been revoked", "invalid_token"),
     ("Bearer", "Malformed", "invalid_request"),
     ("Bearer two words", "Malformed", "invalid_request"),
     ("Basic dXNlcjpwYXNz", "Malformed", "invalid_request"),
     ("", "Malformed", "invalid_request")],
)
def test_bad_credentials_are_401_with_a_bearer_challenge(
        client: httpx.Client, header: str, detail_part: str, error: str) -> None:
    response = client.get("/whoami", headers={"Authorization": header})
    _assert_problem(response, 401, detail_part)
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith("Bearer ")
    assert f'error="{error}"' in challenge


def test_revoked_key_is_401(client: httpx.Client, keys: Keys) -> None:
    response = client.get("/whoami", headers=_bearer(keys.revoked))
    _assert_problem(response, 401, "revoked")
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_internal_data_needs_a_key(client: httpx.Client, keys: Keys) -> None:
    response = client.get("/internal")
    _assert_problem(response, 401, "requires an API key")
    assert response.headers["www-authenticate"] == 'Bearer realm="gefis-md"'
    assert client.get("/internal", headers=_bearer(keys.analyst)).json() == {"role": "analyst"}


def test_public_write_is_401(client: httpx.Client) -> None:
    response = client.post(f"/districts/{LEIPZIG}/parcels")
    _assert_problem(response, 401, "Writing requires an API key")
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_analyst_write_is_403(client: httpx.Client, keys: Keys) -> None:
    response = client.post(f"/districts/{LEIPZIG}/parcels", headers=_bearer(keys.analyst))
    _assert_problem(response, 403, "'analyst' may not write")
    assert "www-authenticate" not in response.headers


def test_editor_writes_only_in_its_districts(client: httpx.Client, keys: Keys) -> None:
    inside = client.post(f"/districts/{LEIPZIG}/parcels", headers=_bearer(keys.editor))
    assert inside.status_code == 200
    assert inside.json() == {"written_by": f"api-key:{keys.editor_id}:t-editor"}
    outside = client.post(f"/districts/{HALLE}/parcels", headers=_bearer(keys.editor))
    _assert_problem(outside, 403, f"district {HALLE}")


@pytest.mark.parametrize("ags", [LEIPZIG, HALLE])
def test_admin_writes_everywhere(client: httpx.Client, keys: Keys, ags: str) -> None:
    response = client.post(f"/districts/{ags}/parcels", headers=_bearer(keys.admin))
    assert response.status_code == 200


def test_openapi_declares_the_bearer_scheme(client: httpx.Client) -> None:
    spec = client.get("/openapi.json").json()
    assert spec["components"]["securitySchemes"]["ApiKey"] == {
        "type": "http", "scheme": "bearer", "bearerFormat": "gefis_<43 characters>",
        "description": "API key as a bearer token. Without it, only published data is visible."}
    assert {"ApiKey": []} in spec["paths"]["/whoami"]["get"]["security"]
    parameters = spec["paths"]["/whoami"]["get"].get("parameters", [])
    assert all(p["name"].lower() != "authorization" for p in parameters)


# --- CLI --------------------------------------------------------------------------------

CLI_NAME = "cli-test-key"


@pytest.fixture
def cli_db(monkeypatch: pytest.MonkeyPatch, database_url: str, engine: Engine,
           demo_loaded: dict[str, int]) -> Iterator[Engine]:
    """Point ``get_settings``/``get_engine`` (both lru-cached) at the test database."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.delenv("GEFIS_DATABASE_URL", raising=False)
    app.settings.get_settings.cache_clear()
    app.db.session.get_engine.cache_clear()
    yield engine
    app.db.session.get_engine().dispose()
    app.db.session.get_engine.cache_clear()
    app.settings.get_settings.cache_clear()
    with engine.begin() as db:
        db.execute(text("DELETE FROM api_keys WHERE name LIKE :n"), {"n": CLI_NAME + "%"})


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _listed_row(out: str, key_id: int) -> list[str]:
    for line in out.splitlines():
        cells = line.split()
        if cells and cells[0] == str(key_id):
            return cells
    raise AssertionError(f"key {key_id} not listed:\n{out}")


def test_cli_creates_lists_and_revokes_a_key(
        cli_db: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "api-key", "create", "--name", CLI_NAME, "--role", "editor",
                        "--district", LEIPZIG, "--district", HALLE)
    assert code == 0
    keys = re.findall(r"^gefis_[A-Za-z0-9_-]{43}$", out, flags=re.MULTILINE)
    assert len(keys) == 1
    assert "nicht gespeichert" in out
    key = keys[0]
    with cli_db.begin() as db:
        principal = authenticate(db, key)
        created_by = db.execute(text("SELECT created_by FROM api_keys WHERE name = :n"),
                                {"n": CLI_NAME}).scalar_one()
    assert principal is not None and principal.role == Role.EDITOR
    assert principal.districts == {LEIPZIG, HALLE}
    assert created_by == "cli"
    key_id = principal.key_id
    assert key_id is not None

    code, out, _ = _run(capsys, "api-key", "list")
    assert code == 0
    assert out.splitlines()[0].split() == [
        "id", "name", "role", "districts", "prefix", "created", "revoked"]
    row = _listed_row(out, key_id)
    assert row[1:5] == [CLI_NAME, "editor", f"{LEIPZIG},{HALLE}", key[:12]]
    assert row[-1] == "-"  # not revoked
    assert key not in out and key[12:] not in out

    code, out, _ = _run(capsys, "api-key", "revoke", str(key_id))
    assert code == 0
    code, out, _ = _run(capsys, "api-key", "list")
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}Z", " ".join(_listed_row(out, key_id)[-2:]))
    with cli_db.begin() as db:
        assert authenticate(db, key) is None

    code, _, err = _run(capsys, "api-key", "revoke", str(key_id))
    assert code == 1
    assert str(key_id) in err


@pytest.mark.parametrize(
    ("extra", "message"),
    [(["--role", "editor"], "districts"),
     (["--role", "editor", "--district", UNKNOWN_DISTRICT], UNKNOWN_DISTRICT)],
)
def test_cli_rejects_invalid_keys(cli_db: Engine, capsys: pytest.CaptureFixture[str],
                                  extra: list[str], message: str) -> None:
    code, out, err = _run(capsys, "api-key", "create", "--name", CLI_NAME + "-bad", *extra)
    assert code == 1
    assert message in err
    assert "gefis_" not in out
    with cli_db.connect() as db:
        assert db.execute(text("SELECT count(*) FROM api_keys WHERE name LIKE :n"),
                          {"n": CLI_NAME + "%"}).scalar() == 0


def test_cli_refuses_an_unknown_role(cli_db: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["api-key", "create", "--name", CLI_NAME, "--role", "public"])
    assert info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err
