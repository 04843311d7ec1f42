"""Static checks of the deployment files: docker-compose.yml, Dockerfile, .ci/run.

No database and no Docker engine needed: the files are parsed, not run.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def compose() -> dict:
    data = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    assert isinstance(data, dict), "docker-compose.yml must be a mapping"
    return data


@pytest.fixture(scope="module")
def services(compose: dict) -> dict:
    return compose["services"]


def _env(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {str(k): str(v) for k, v in env.items()}


def _text(value) -> str:
    """A command/healthcheck test as one string (list or string form)."""
    return " ".join(str(v) for v in value) if isinstance(value, list) else str(value)


def _mounts(service: dict) -> dict[str, str]:
    """Named/bind volume mounts as {source: target} (short and long syntax)."""
    out = {}
    for vol in service.get("volumes") or []:
        if isinstance(vol, dict):
            out[str(vol.get("source"))] = str(vol.get("target"))
        else:
            source, target = str(vol).split(":")[:2]
            out[source] = target
    return out


def _published_ports(service: dict) -> set[str]:
    ports = set()
    for port in service.get("ports") or []:
        if isinstance(port, dict):
            ports.add(f"{port.get('published')}:{port.get('target')}")
        else:
            ports.add(str(port))
    return ports


def _depends_condition(service: dict, dependency: str) -> str | None:
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):  # short form has no condition
        return "service_started" if dependency in deps else None
    entry = deps.get(dependency)
    return entry.get("condition") if isinstance(entry, dict) else None


def test_services_present(services: dict) -> None:
    assert {"db", "app", "scheduler"} <= set(services)


def test_db_service(compose: dict, services: dict) -> None:
    db = services["db"]
    assert db["image"] == "postgis/postgis:15-3.4"
    env = _env(db)
    assert env.get("POSTGRES_USER") == "gefis"
    assert env.get("POSTGRES_DB") == "gefis"
    assert env.get("POSTGRES_PASSWORD"), "the postgres image refuses to start without a password"
    assert "pg_isready" in _text(db["healthcheck"]["test"])
    mounts = _mounts(db)
    data_volume = next((s for s, t in mounts.items() if t == "/var/lib/postgresql/data"), None)
    assert data_volume is not None, "db data must be on a volume"
    assert data_volume in (compose.get("volumes") or {}), "db data volume must be a named volume"


def test_app_service(services: dict) -> None:
    app = services["app"]
    build = app.get("build")
    context = build if isinstance(build, str) else (build or {}).get("context")
    assert context == ".", "app must be built from the repository's Dockerfile"
    assert _depends_condition(app, "db") == "service_healthy"
    assert "8000:8000" in _published_ports(app)

    url = urlsplit(_env(app)["DATABASE_URL"])
    assert url.scheme.startswith("postgresql")
    assert url.hostname == "db"
    assert url.path == "/gefis"

    health = _text(app["healthcheck"]["test"])
    assert "/health" in health
    assert "8000" in health

    command = _text(app["command"])
    assert "app.cli migrate" in command
    assert re.search(r"app\.cli load-demo\s+--if-empty", command)
    assert "uvicorn app.main:app" in command
    assert "--host 0.0.0.0" in command
    # migrations must run before the server starts
    assert command.index("migrate") < command.index("load-demo") < command.index("uvicorn")


def test_scheduler_service(compose: dict, services: dict) -> None:
    app, scheduler = services["app"], services["scheduler"]
    assert app.get("image"), "app must tag its image so the scheduler can share it"
    assert scheduler.get("image") == app.get("image")
    assert scheduler.get("build") == app.get("build")
    assert "scripts/scheduler.sh" in _text(scheduler["command"])
    assert _depends_condition(scheduler, "db") == "service_healthy"
    assert (ROOT / "scripts" / "scheduler.sh").is_file()
    assert (ROOT / "scripts" / "quarterly_report.py").is_file()

    named = set(compose.get("volumes") or {})
    report_mount = {s: t for s, t in _mounts(scheduler).items() if t.endswith("/reports")}
    assert report_mount, "scheduler must mount a reports volume"
    assert set(report_mount) <= named, "reports must be a named volume"
    assert set(report_mount) == {s for s, t in _mounts(app).items() if t.endswith("/reports")}
    assert _env(scheduler).get("GEFIS_REPORT_DIR") in report_mount.values()


def test_dockerfile() -> None:
    dockerfile = ROOT / "Dockerfile"
    assert dockerfile.is_file()
    lines = [ln.strip() for ln in dockerfile.read_text(encoding="utf-8").splitlines()]
    instructions = [ln for ln in lines if ln and not ln.startswith("#")]
    assert instructions[0] == "FROM python:3.11-slim-bookworm"
    assert any(re.fullmatch(r"EXPOSE\s+8000(/tcp)?", ln) for ln in instructions)
    users = [ln.split()[1] for ln in instructions if ln.startswith("USER ")]
    assert users and users[-1] not in ("root", "0"), "the image must run as a non-root user"


def test_dockerignore() -> None:
    entries = {
        ln.strip().rstrip("/")
        for ln in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    }
    assert {".venv", ".data", ".git", "reports"} <= entries


def test_ci_runs_make_test() -> None:
    ci = ROOT / ".ci" / "run"
    assert ci.is_file()
    assert os.access(ci, os.X_OK), ".ci/run must be executable"
    text = ci.read_text(encoding="utf-8")
    assert text.startswith("#!") and "bash" in text.splitlines()[0]
    code = [ln.split("#", 1)[0] for ln in text.splitlines()[1:]]
    assert any(re.search(r"(^|[\s;&|])make\s+test\b", ln) for ln in code)


def test_makefile_targets() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([A-Za-z][\w-]*):", makefile, flags=re.M))
    assert {"run", "test", "stop", "db", "lint", "destroy-db"} <= targets
