"""Official boundary files (BKG VG250 and alike) read with GDAL through pyogrio.

Accepted files, told apart by their first bytes (not by their name):

- a **GeoPackage** with a districts layer and a municipalities layer;
- a **ZIP** holding a Shapefile set per layer (``VG250_KRS.shp`` with its ``.dbf``,
  ``.shx``, ``.prj``… in any folder of the archive, as BKG ships them), or one GeoPackage.
  The archive is read in place through GDAL's ``/vsizip/``; nothing is extracted.

Layers are ``VG250_KRS`` (districts) and ``VG250_GEM`` (municipalities) unless named
otherwise; names match without regard to case. Fields (names match without regard to case):
``AGS`` (required: 5 digits for districts, 8 for municipalities; integer columns are padded
with leading zeros), ``GEN`` (the name; required for municipalities) and ``GF`` (optional:
where present, only features with GF 4, land with structure, are used; the water and coast
parts are skipped and counted). ``BEZ`` and ``ARS`` are not needed. Only features whose
AGS lies in one of the region's districts are read with their geometry; the others are
counted. The CRS is any EPSG CRS the file declares (VG250: EPSG:25832, also 4326 or 3035);
coordinates are transformed to EPSG:25832 by PostGIS in the intake, not here.

Every problem names the request field (``file``, ``districts_layer``,
``municipalities_layer``) or the place in the file (``VG250_GEM.AGS``,
``VG250_GEM[12].AGS``: layer, 0-based feature, field).
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, ClassVar, Literal

import pyogrio
import pyproj
import shapely
from pyogrio.errors import DataLayerError, DataSourceError
from shapely.geometry import mapping

from app.domain.errors import FieldProblem, GefisError, InvalidInput

GPKG_MAGIC = b"SQLite format 3\x00"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")

#: Default layer names of BKG's VG250 (districts, municipalities).
DEFAULT_LAYERS = {"districts": "VG250_KRS", "municipalities": "VG250_GEM"}
#: The request field that names each layer.
LAYER_FIELDS = {"districts": "districts_layer", "municipalities": "municipalities_layer"}
#: Digits of an AGS per level.
AGS_DIGITS = {"districts": 5, "municipalities": 8}
#: VG250's Geofaktor of land areas with structure (the municipalities proper).
LAND_WITH_STRUCTURE = 4
#: Problems listed in a detail (all are in ``errors``).
LISTED = 10

Level = Literal["districts", "municipalities"]


class UnsupportedFileType(GefisError):
    """The upload is neither a GeoPackage nor a ZIP archive."""

    status: ClassVar[int] = 415
    title: ClassVar[str] = "Unsupported file type"
    type_slug: ClassVar[str] = "unsupported-file-type"


@dataclass(frozen=True)
class BoundaryFeature:
    """One feature of the region: AGS, name (``GEN``), GeoJSON geometry in the file's CRS,
    and its 0-based position in the layer (for messages)."""

    ags: str
    name: str | None
    geometry: dict[str, Any] | None
    index: int


@dataclass(frozen=True)
class BoundaryLayer:
    """The region's features of one layer and what was left out.

    ``srid``: EPSG code of the layer's CRS; ``outside_region``: features whose AGS lies in
    no district of the region; ``not_land``: features skipped for their Geofaktor.
    """

    name: str
    srid: int
    features: tuple[BoundaryFeature, ...]
    total: int
    outside_region: int
    not_land: int


@dataclass(frozen=True)
class BoundaryFile:
    """An opened boundary file: its format and its layers (name → GDAL path and layer)."""

    format: str
    layers: dict[str, tuple[str, str | None]]

    def read(self, level: Level, requested: str | None, region: Collection[str]) -> BoundaryLayer:
        """The features of ``region`` (5-digit district AGS) in the layer of ``level``."""
        wanted = requested or DEFAULT_LAYERS[level]
        match = next((n for n in self.layers if n.lower() == wanted.lower()), None)
        if match is None:
            present = ", ".join(sorted(self.layers)) or "keine"
            raise InvalidInput.for_field(
                LAYER_FIELDS[level], f"Ebene {wanted!r} fehlt in der Datei (vorhanden: "
                f"{present})", "missing_layer")
        path, layer = self.layers[match]
        return _read_layer(path, layer, match, level, region)


def file_suffix(path: Path) -> str:
    """``.gpkg`` or ``.zip`` by the file's first bytes; 415 when it is neither."""
    with path.open("rb") as fh:
        head = fh.read(16)
    if head.startswith(GPKG_MAGIC):
        return ".gpkg"
    if head.startswith(ZIP_MAGICS):
        return ".zip"
    raise UnsupportedFileType.for_field(
        "file", "weder GeoPackage (.gpkg) noch ZIP-Archiv mit Shapefiles (.zip)",
        "file_type")


def open_boundary_file(path: Path) -> BoundaryFile:
    """Open a boundary file; 415 when it is no GeoPackage or ZIP, 422 when unreadable.

    GDAL warns about a GeoPackage whose name does not end in ``.gpkg``: name uploads with
    :func:`file_suffix` first.
    """
    if file_suffix(path) == ".gpkg":
        return BoundaryFile("GeoPackage", _gpkg_layers(str(path)))
    return _zip_file(path)


def _unreadable(reason: object) -> InvalidInput:
    return InvalidInput.for_field("file", f"Datei nicht lesbar: {reason}", "unreadable")


def _gpkg_layers(path: str) -> dict[str, tuple[str, str | None]]:
    try:
        listed = pyogrio.list_layers(path)
    except (DataSourceError, DataLayerError) as exc:
        raise _unreadable(exc) from None
    return {str(name): (path, str(name)) for name, _ in listed}


def _zip_file(path: Path) -> BoundaryFile:
    try:
        with zipfile.ZipFile(path) as archive:
            names = [i.filename for i in archive.infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, OSError) as exc:
        raise _unreadable(exc) from None
    inside = f"/vsizip/{path}"
    shapes = {PurePosixPath(n).stem: (f"{inside}/{n}", None)
              for n in names if n.lower().endswith(".shp")}
    if shapes:
        return BoundaryFile("Shapefile (ZIP)", shapes)
    packages = [n for n in names if n.lower().endswith(".gpkg")]
    if len(packages) == 1:
        return BoundaryFile("GeoPackage (ZIP)", _gpkg_layers(f"{inside}/{packages[0]}"))
    raise InvalidInput.for_field(
        "file", "das ZIP-Archiv enthält keine Shapefiles (.shp) und nicht genau ein "
        "GeoPackage", "no_layers")


def _srid(crs: str | None) -> int | None:
    """EPSG code of a CRS as GDAL names it (``EPSG:25832``, or WKT), if it has one."""
    if not crs:
        return None
    match = re.fullmatch(r"EPSG:(\d+)", crs.strip())
    if match:
        return int(match.group(1))
    try:
        code: int | None = pyproj.CRS.from_user_input(crs).to_epsg(min_confidence=70)
    except pyproj.exceptions.CRSError:
        return None
    return code


def _column(fields: Sequence[str], name: str) -> str | None:
    return next((f for f in fields if f.upper() == name), None)


def _ags(value: Any, digits: int) -> str | None:
    """An AGS of ``digits`` digits from a text or integer cell, else ``None``."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value == int(value):
        text = str(int(value)).zfill(digits)
    elif isinstance(value, str):
        text = value.strip()
    else:
        return None
    return text if len(text) == digits and text.isascii() and text.isdigit() else None


def _is_land(value: Any) -> bool:
    try:
        return int(value) == LAND_WITH_STRUCTURE
    except (TypeError, ValueError):
        return False


def _refuse(problems: list[FieldProblem], what: str) -> InvalidInput:
    listed = "; ".join(f"{p.field}: {p.reason}" for p in problems[:LISTED])
    more = f"; und {len(problems) - LISTED} weitere" if len(problems) > LISTED else ""
    return InvalidInput(f"{what}: {listed}{more}", problems=problems)


def _read(path: str, layer: str | None, **kwargs: Any) -> tuple[Any, ...]:
    try:
        result: tuple[Any, ...] = pyogrio.raw.read(path, layer=layer, **kwargs)
    except (DataSourceError, DataLayerError) as exc:
        raise _unreadable(exc) from None
    return result


def _read_layer(path: str, layer: str | None, name: str, level: Level,
                region: Collection[str]) -> BoundaryLayer:
    try:
        info = pyogrio.read_info(path, layer=layer)
    except (DataSourceError, DataLayerError) as exc:
        raise _unreadable(exc) from None
    fields = [str(f) for f in info["fields"]]
    ags_column, name_column, gf_column = (_column(fields, c) for c in ("AGS", "GEN", "GF"))
    required = [("AGS", ags_column)] + ([("GEN", name_column)]
                                        if level == "municipalities" else [])
    for label, column in required:
        if column is None:
            raise InvalidInput.for_field(
                f"{name}.{label}", f"Spalte {label} fehlt in Ebene {name} (vorhanden: "
                f"{', '.join(fields) or 'keine'})", "missing_column")
    assert ags_column is not None
    srid = _srid(info.get("crs"))
    if srid is None:
        raise InvalidInput.for_field(
            f"{name}.crs", f"Ebene {name} hat kein Koordinatenbezugssystem mit EPSG-Code "
            f"({info.get('crs') or 'keines angegeben; fehlt die .prj-Datei?'})", "crs")
    columns = [c for c in (ags_column, name_column, gf_column) if c is not None]
    _, fids, _, values = _read(path, layer, columns=columns, read_geometry=False,
                               return_fids=True)
    cells = dict(zip(columns, values, strict=True))
    digits = AGS_DIGITS[level]
    problems: list[FieldProblem] = []
    chosen: dict[int, tuple[int, str, str | None]] = {}
    outside = not_land = 0
    for index, fid in enumerate(fids):
        ags = _ags(cells[ags_column][index], digits)
        if ags is None:
            problems.append(FieldProblem(
                f"{name}[{index}].AGS", f"{cells[ags_column][index]!r} ist kein "
                f"{digits}-stelliger Gemeindeschlüssel", "ags_format"))
        elif gf_column is not None and not _is_land(cells[gf_column][index]):
            not_land += 1
        elif ags[:5] not in region:
            outside += 1
        else:
            label = cells[name_column][index] if name_column else None
            label = None if label is None else str(label).strip() or None
            if label is None and level == "municipalities":
                problems.append(FieldProblem(f"{name}[{index}].GEN",
                                             f"Gemeinde {ags} hat keinen Namen", "required"))
            chosen[int(fid)] = (index, ags, label)
    if problems:
        raise _refuse(problems, f"Ebene {name}: {len(problems)} Objekte ohne gültigen "
                                "Gemeindeschlüssel oder Namen")
    geometries: dict[int, bytes | None] = {}
    if chosen:
        _, fids2, wkb, _ = _read(path, layer, columns=[], fids=list(chosen), force_2d=True,
                                 return_fids=True)
        geometries = {int(f): g for f, g in zip(fids2, wkb, strict=True)}
    features = tuple(
        BoundaryFeature(ags, label, _geojson(geometries.get(fid)), index)
        for fid, (index, ags, label) in sorted(chosen.items(), key=lambda item: item[1][0]))
    return BoundaryLayer(name, srid, features, len(fids), outside, not_land)


def _geojson(wkb: bytes | None) -> dict[str, Any] | None:
    """A WKB geometry as a GeoJSON geometry object (``None`` for a missing one)."""
    if wkb is None:
        return None
    geometry = shapely.from_wkb(wkb)
    if geometry is None or geometry.is_empty:
        return None
    result: dict[str, Any] = mapping(geometry)
    return result
