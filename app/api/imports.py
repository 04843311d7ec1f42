"""File imports of parcels and land sales (HTTP only; the work is in
:mod:`app.services.imports`).

``POST /api/v1/imports`` takes the file as ``multipart/form-data`` (field ``file``). A file
up to ``GEFIS_IMPORT_SYNC_MAX_BYTES`` is imported while the request waits: 201 with the
outcome (200 for a dry run), or a 422 problem naming every row and field when the file is
rejected. A larger file, or any request with ``Prefer: respond-async``, is answered at once
with 202 and the import's URL, whose ``status`` and ``rows_*`` show the progress. Every
import keeps its report (``/report.json``, ``/report.csv``).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Header, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse, Response, StreamingResponse
from sqlalchemy import Engine

from app.api.auth import OPTIONAL_API_KEY, InternalReaderDep, PrincipalDep, WriterDep
from app.api.deps import EngineDep, SettingsDep
from app.api.problems import problem_response
from app.api.responses import JSON_MEDIA_TYPE, PROBLEM_RESPONSES
from app.db.queries import import_records
from app.domain.errors import BadRequest, GefisError, InvalidInput, NotFound
from app.domain.roles import Principal
from app.services.imports.crs import import_srid
from app.services.imports.jobs import STALE_AFTER_S, run_in_background, upload_folder
from app.services.imports.report import report_csv
from app.services.imports.service import (
    ImportOptions,
    ImportRejected,
    run_import,
    start_import,
)
from app.services.imports.templates import template, template_names
from app.settings import Settings

router = APIRouter(prefix="/api/v1", tags=["Import"])

ImportId = Annotated[int, PathParam(ge=1, le=2**63 - 1, description="Id of the import")]


def _stamp(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _document(request: Request, record: dict[str, Any],
              problems: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The import as JSON: its record, links to its report, and (if given) problems."""
    url = str(request.url_for("get_import", import_id=record["id"]))
    out = {k: _stamp(v) for k, v in record.items()}
    heartbeat = record.get("heartbeat_at") or record.get("created_at")
    out["stale"] = bool(record["status"] in ("queued", "running") and heartbeat is not None
                        and datetime.now(UTC) - heartbeat > timedelta(seconds=STALE_AFTER_S))
    if problems is not None:
        out["problems"] = problems
    out["links"] = [
        {"rel": "self", "href": url, "type": JSON_MEDIA_TYPE},
        {"rel": "describedby", "href": url + "/report.json", "type": JSON_MEDIA_TYPE,
         "title": "Bericht je Zeile (JSON)"},
        {"rel": "alternate", "href": url + "/report.csv", "type": "text/csv",
         "title": "Bericht je Zeile (CSV)"}]
    return out


def _mapping(text: str | None) -> dict[str, str]:
    if text is None:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise BadRequest.for_field("mapping", f"kein gültiges JSON: {error.msg}",
                                   "invalid_json") from None
    if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise BadRequest.for_field("mapping", "erwartet ein JSON-Objekt "
                                   "{\"Spalte in der Datei\": \"Feldname\"}", "invalid")
    return value


def _save(upload: UploadFile, folder: Path) -> tuple[Path, int]:
    name = Path(upload.filename or "").name
    if not name:
        raise InvalidInput.for_field("file", "Dateiname fehlt (er bestimmt das Format)",
                                     "required")
    path = folder / name
    with path.open("wb") as sink:
        shutil.copyfileobj(upload.file, sink, 1 << 20)
    return path, path.stat().st_size


def _rejected(request: Request, engine: Engine, error: ImportRejected) -> JSONResponse:
    with engine.connect() as conn:
        record = import_records.get_import(conn, error.outcome.import_id)
    assert record is not None
    document = _document(request, record)
    return problem_response(request, 422, error.title, error.detail, error.type_slug,
                            error.problems, headers={"Location": document["links"][0]["href"]},
                            extensions={"import": document, "counts": error.outcome.counts})


@router.get("/imports/templates/{template}", summary="An empty import template",
            response_class=Response, responses=PROBLEM_RESPONSES,
            openapi_extra=OPTIONAL_API_KEY)
def import_template(principal: PrincipalDep, template_name: Annotated[str, PathParam(
        alias="template", description=f"One of: {', '.join(template_names())}")]) -> Response:
    """Every column an import reads, with its German aliases (XLSX sheet ``felder``)."""
    del principal  # anyone (a key, if sent, must be valid)
    content, media_type = template(template_name)
    return Response(content, media_type=media_type, headers={
        "Content-Disposition": f'attachment; filename="gefis-vorlage-{template_name}"',
        "Cache-Control": "public, max-age=3600"})


@router.post("/imports", summary="Import parcels or land sales from a file",
             status_code=201, response_class=Response,
             responses={200: {"description": "Dry run: what the import would do"},
                        201: {"description": "Imported", "content": {JSON_MEDIA_TYPE: {}}},
                        202: {"description": "Accepted: poll the import's URL"},
                        413: {"description": "File too large",
                              "content": {"application/problem+json": {}}},
                        **PROBLEM_RESPONSES})
def create_import(
    request: Request, engine: EngineDep, settings: SettingsDep, principal: WriterDep,
    file: Annotated[UploadFile, File(description="GeoPackage, zipped Shapefile, GeoJSON, "
                                                 "FlatGeobuf, CSV or XLSX")],
    kind: Annotated[Literal["parcels", "land_sales"], Query(
        description="What the file holds: parcels (Flächen) or land sales (Verkäufe)")]
    = "parcels",
    dry_run: Annotated[bool, Query(description="Check and report only; write nothing")] = False,
    repair_geometry: Annotated[bool, Query(
        description="Repair invalid polygons (ST_MakeValid) instead of rejecting them; "
                    "every repair is reported")] = False,
    complete: Annotated[bool, Query(
        description="The file lists every marketed parcel of its districts: report the "
                    "others as missing")] = False,
    withdraw_missing: Annotated[bool, Query(
        description="With complete: withdraw the missing parcels")] = False,
    crs: Annotated[str | None, Query(
        description="CRS of a file that declares none (CSV/XLSX with WKT), e.g. "
                    "EPSG:25832")] = None,
    layer: Annotated[str | None, Query(description="Layer of a multi-layer file")] = None,
    mapping: Annotated[str | None, Query(
        description='Column mapping as JSON, e.g. {"Kennung": "external_id"}')] = None,
    prefer: Annotated[str | None, Header(description="respond-async: answer 202 at once")]
    = None,
) -> Response:
    """Validate every row of the file, then write all of it or nothing (see the README)."""
    if withdraw_missing and not complete:
        raise BadRequest.for_field("withdraw_missing", "nur zusammen mit complete=true",
                                   "requires_complete")
    options = ImportOptions(kind=kind, dry_run=dry_run, repair_geometry=repair_geometry,
                            complete=complete, withdraw_missing=withdraw_missing,
                            crs_srid=import_srid(crs), layer=layer, mapping=_mapping(mapping))
    file_name = Path(file.filename or "").name
    size = file.size or 0
    import_id = start_import(engine, principal, file_name or "(ohne Namen)", size, options)
    folder = upload_folder(settings, import_id)
    try:
        path, size = _save(file, folder)
    except Exception as error:
        shutil.rmtree(folder, ignore_errors=True)
        import_records.update_import(
            engine, import_id, status="rejected" if isinstance(error, GefisError) else "failed",
            error=f"upload not stored: {error}"[:2000])
        raise
    if size > settings.import_sync_max_bytes or "respond-async" in (prefer or ""):
        run_in_background(engine, principal, path, file_name, options, settings, import_id)
        return _accepted(request, engine, import_id)
    return _run_now(request, engine, principal, path, options, settings, import_id)


def _accepted(request: Request, engine: Engine, import_id: int) -> Response:
    with engine.connect() as conn:
        record = import_records.get_import(conn, import_id)
    assert record is not None
    document = _document(request, record)
    return JSONResponse(document, status_code=202, headers={
        "Location": document["links"][0]["href"], "Preference-Applied": "respond-async"})


def _run_now(request: Request, engine: Engine, principal: Principal, path: Path,
             options: ImportOptions, settings: Settings, import_id: int) -> Response:
    try:
        run_import(engine, principal, path, path.name, options, settings, import_id)
    except ImportRejected as error:
        return _rejected(request, engine, error)
    finally:
        shutil.rmtree(path.parent, ignore_errors=True)
    with engine.connect() as conn:
        record = import_records.get_import(conn, import_id)
        problems = import_records.report_problems(conn, import_id, limit=1000)
    assert record is not None
    document = _document(request, record, problems)
    status = 200 if options.dry_run else 201
    return JSONResponse(document, status_code=status,
                        headers={"Location": document["links"][0]["href"]})


@router.get("/imports", summary="List imports, newest first", responses=PROBLEM_RESPONSES)
def list_imports(request: Request, engine: EngineDep, principal: InternalReaderDep,
                 limit: Annotated[int, Query(ge=1, le=500, description="Imports per page")] = 50,
                 before: Annotated[int | None, Query(ge=1, description="Older than this id")]
                 = None) -> JSONResponse:
    """The import records (file, who, status, counts); each links to its report."""
    del principal
    with engine.connect() as conn:
        records = import_records.list_imports(conn, limit, before)
    return JSONResponse({"imports": [_document(request, r) for r in records]})


def _record(engine: Engine, import_id: int) -> dict[str, Any]:
    with engine.connect() as conn:
        record = import_records.get_import(conn, import_id)
    if record is None:
        raise NotFound(f"import {import_id} does not exist")
    return record


@router.get("/imports/{import_id}", summary="An import: status, progress, counts",
            responses=PROBLEM_RESPONSES)
def get_import(request: Request, import_id: ImportId, engine: EngineDep,
               principal: InternalReaderDep) -> JSONResponse:
    """Poll this while an import runs: ``status`` ends as imported, checked (dry run),
    rejected or failed; ``rows_read``/``rows_validated``/``rows_written`` show progress."""
    del principal
    record = _record(engine, import_id)
    with engine.connect() as conn:
        problems = import_records.report_problems(conn, import_id, limit=1000)
    return JSONResponse(_document(request, record, problems))


@router.get("/imports/{import_id}/report.json", summary="An import's report per row (JSON)",
            responses=PROBLEM_RESPONSES)
def import_report_json(import_id: ImportId, engine: EngineDep,
                       principal: InternalReaderDep) -> JSONResponse:
    """Every row of the file: action (created, updated, unchanged, rejected; missing or
    withdrawn parcels of a complete import), and each problem (row, field, code, German
    message)."""
    del principal
    _record(engine, import_id)
    with engine.connect() as conn:
        rows = list(import_records.report_lines(conn, import_id))
    return JSONResponse({"import_id": import_id, "rows": rows})


@router.get("/imports/{import_id}/report.csv", summary="An import's report per row (CSV)",
            response_class=Response, responses={
                200: {"content": {"text/csv": {}}}, **PROBLEM_RESPONSES})
def import_report_csv(import_id: ImportId, engine: EngineDep,
                      principal: InternalReaderDep) -> Response:
    """As ``report.json``, one line per problem (a row without problems once)."""
    del principal
    _record(engine, import_id)

    def body() -> Iterator[bytes]:
        with engine.connect() as conn:
            for chunk in report_csv(conn, import_id):
                yield chunk.encode("utf-8")

    return StreamingResponse(body(), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="import-{import_id}-bericht.csv"'})
