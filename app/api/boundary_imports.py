"""Boundary imports: ``/api/v1/boundaries/imports`` — a new Gebietsstand (admins only).

An admin uploads an official boundary file (BKG VG250 or alike: a GeoPackage, or a ZIP of
Shapefiles, in any EPSG CRS) as ``multipart/form-data`` (field ``file``); districts and
municipalities are matched by AGS and replaced, mergers handled, parcels re-located, and
the answer is the import's report (:mod:`app.services.boundary_import`). All or nothing: a
file that cannot be used is refused whole with a problem naming the field or the place in
the file. ``dry_run=true`` answers with the same report and changes nothing.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path, PurePath
from typing import Annotated, Any

from fastapi import APIRouter, File, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import Response
from pydantic import AfterValidator

from app.api.auth import AdminDep
from app.api.deps import EngineDep
from app.api.responses import JSON_MEDIA_TYPE, json_responses
from app.api.write_params import WRITE_RESPONSES, Reason
from app.db.session import write_transaction
from app.domain.input_types import MAX_ID, IsoDate, check_storable_text
from app.services.boundary_files import file_suffix
from app.services.boundary_import import (
    BoundaryImportOptions,
    get_boundary_import,
    import_boundaries,
    list_boundary_imports,
)

router = APIRouter(prefix="/api/v1/boundaries/imports", tags=["Import"])

_JSON = {JSON_MEDIA_TYPE: {}}
#: The answer to a file that is neither a GeoPackage nor a ZIP archive.
UNSUPPORTED_RESPONSE: dict[int | str, dict[str, Any]] = {
    415: {"description": "The file is neither a GeoPackage nor a ZIP archive",
          "content": {"application/problem+json": {}}}}


Text = Annotated[str | None, AfterValidator(check_storable_text)]
ImportId = Annotated[int, PathParam(ge=1, le=MAX_ID, description="Boundary import id")]


def _json(document: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(content=json.dumps(document, ensure_ascii=False, default=str),
                    status_code=status, media_type=JSON_MEDIA_TYPE, headers=headers)


def _file_name(upload: UploadFile) -> str:
    """The client's file name without folders (``upload`` when it sent none)."""
    name = PurePath((upload.filename or "").replace("\\", "/")).name.strip()
    return check_storable_text(name[:200]) or "upload"


@router.post(
    "", summary="Import district and municipality boundaries", response_class=Response,
    responses={200: {"description": "Dry run, or nothing changed: the report",
                     "content": _JSON},
               201: {"description": "Imported: the report (Location: the stored import)",
                     "content": _JSON},
               **UNSUPPORTED_RESPONSE, **WRITE_RESPONSES})
def import_boundary_file(
    request: Request, engine: EngineDep, principal: AdminDep,
    file: Annotated[UploadFile, File(
        description="GeoPackage (.gpkg) or ZIP of Shapefiles (.zip), e.g. BKG VG250; any "
                    "EPSG CRS")],
    dry_run: Annotated[bool, Query(
        description="Check and report only; nothing is changed")] = False,
    source: Annotated[Text, Query(
        max_length=300, description="Source label stored with the boundaries (default: "
                                    "file name and Gebietsstand)")] = None,
    valid_from: Annotated[IsoDate | None, Query(
        description="First day of the new Gebietsstand, YYYY-MM-DD (default: the date "
                    "the source names as 'Gebietsstand DD.MM.YYYY', else today)")] = None,
    districts_layer: Annotated[Text, Query(
        max_length=200, description="Layer of the districts (default VG250_KRS)")] = None,
    municipalities_layer: Annotated[Text, Query(
        max_length=200, description="Layer of the municipalities (default VG250_GEM)")] = None,
    reason: Reason = None,
) -> Response:
    """Replace the region's districts and municipalities with those of an official
    boundary file (admins only), matched by AGS; features of other districts are ignored.

    A stored municipality missing from the file that lies (almost) wholly in one new
    municipality is merged into it (sites, partners and land sales re-pointed); parcels
    follow the new boundaries by their geometry, recorded in their history. The report
    lists districts and municipalities inserted, changed, unchanged and merged (with the
    share of area), the parcels, sites and land sales re-assigned (old → new AGS), and the
    features ignored. 201 with ``Location`` when something was imported, else 200 (dry run,
    or nothing changed). A file that cannot be used is refused whole (422; 415 for a file
    that is neither GeoPackage nor ZIP; 409 when parcels would leave the region).
    """
    options = BoundaryImportOptions(
        file_name=_file_name(file), dry_run=dry_run, source=source, valid_from=valid_from,
        districts_layer=districts_layer, municipalities_layer=municipalities_layer)
    with tempfile.TemporaryDirectory(prefix="gefis-boundaries-") as folder:
        upload = Path(folder) / "upload"
        with upload.open("wb") as out:
            shutil.copyfileobj(file.file, out)
        path = upload.rename(upload.with_suffix(file_suffix(upload)))
        with write_transaction(engine, principal.actor,
                               reason or "Gebietsstand importiert") as conn:
            report = import_boundaries(conn, path, options)
    if report["import_id"] is None:
        return _json(report)
    location = str(request.url_for("get_boundary_import_report",
                                   import_id=report["import_id"]))
    return _json(report, 201, {"Location": location})


@router.get("", summary="List boundary imports", response_class=Response,
            responses=json_responses("The imports, newest first"))
def list_boundary_import_reports(engine: EngineDep, principal: AdminDep) -> Response:
    """Every boundary import that changed something, newest first (admins only): when, by
    whom, source, Gebietsstand, file and the counts of its report."""
    del principal
    with engine.connect() as conn:
        items = list_boundary_imports(conn)
    return _json({"numberReturned": len(items), "items": items})


@router.get("/{import_id}", summary="One boundary import", response_class=Response,
            responses=json_responses("The import with its report"))
def get_boundary_import_report(import_id: ImportId, engine: EngineDep,
                               principal: AdminDep) -> Response:
    """One boundary import with its whole report (admins only)."""
    del principal
    with engine.connect() as conn:
        return _json(get_boundary_import(conn, import_id))
