"""The columns an import file may have, and how a file's column names are matched to them.

Parcel columns come from the field registry (:data:`app.domain.parcel_fields.PARCEL_FIELDS`,
every field with ``import_aliases``), with the bounds of the API's write model
(:class:`app.domain.parcel_input.ParcelFields`), so a value the API refuses is refused in a
file too. Land-sale columns are listed here. Besides the fields, a file names its site
(``site_id`` or ``site_name``), may name the municipality as a cross-check, and carries a
geometry: the file's own (GeoPackage, Shapefile, GeoJSON, FlatGeobuf), a ``WKT`` column, or
``lon``/``lat`` (or ``x``/``y``) columns (CSV, XLSX).

Column names are matched after :func:`normalise` (case, umlauts, spaces and hyphens do not
matter), against the field's API name, its German aliases, and the 10-character name
GEFIS's own Shapefile export gives it (:mod:`app.domain.shapefile_names`). An explicit
mapping (file column → field) wins over the aliases.

>>> spec = PARCEL_IMPORT
>>> match_columns(["Flurstück", "Nettofläche ha", "Nutzergruppen", "Foo"], spec).fields
{'Flurstück': 'external_id', 'Nettofläche ha': 'net_area_ha', 'Nutzergruppen': 'user_groups'}
>>> match_columns(["rest_level", "user_group"], spec).fields
{'rest_level': 'restriction_level', 'user_group': 'user_groups'}
>>> match_columns(["Flurstück", "Foo"], spec).ignored
('Foo',)
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from app.domain import vocab
from app.domain.input_types import Range
from app.domain.land_sale_input import LandSaleFields
from app.domain.parcel_fields import PARCEL_FIELDS, FieldType
from app.domain.parcel_input import ParcelFields
from app.domain.shapefile_names import short_name

#: Columns that carry the geometry in a CSV or XLSX file, by role.
GEOMETRY_COLUMNS: dict[str, tuple[str, ...]] = {
    "wkt": ("wkt", "geometry", "geometrie", "geom", "the_geom"),
    "lon": ("lon", "longitude", "lng", "x", "laenge", "rechtswert", "easting"),
    "lat": ("lat", "latitude", "y", "breite", "hochwert", "northing"),
}


@dataclass(frozen=True, slots=True)
class ImportColumn:
    """One column an import understands.

    ``column`` is the table column it is written to (``None``: used by the import, e.g. to
    find the site, but not stored as such); ``required`` means a new row must have it.
    ``low``/``high`` bound numbers (``low_exclusive``: strictly above ``low``);
    ``max_length`` bounds text; ``pattern`` is a regular expression text must match.
    """

    name: str
    type: FieldType
    aliases: tuple[str, ...] = ()
    column: str | None = None
    vocabulary: vocab.Vocabulary | None = None
    required: bool = False
    low: float | None = None
    high: float | None = None
    low_exclusive: bool = False
    max_length: int | None = None
    pattern: str | None = None
    description: str = ""

    @property
    def is_list(self) -> bool:
        """Whether the value is a list (codes separated by ``;`` in a file)."""
        return self.type is FieldType.STRINGS


@dataclass(frozen=True)
class ImportSpec:
    """What one kind of import reads: its columns (in template order)."""

    kind: str
    columns: tuple[ImportColumn, ...]
    #: the column that identifies a row (with the district) for the upsert
    key: str = "external_id"

    @property
    def by_name(self) -> dict[str, ImportColumn]:
        """The columns by name."""
        return {c.name: c for c in self.columns}


@dataclass(frozen=True)
class ColumnMatch:
    """How a file's columns were understood: file column → import column, and the rest."""

    fields: dict[str, str]
    geometry: dict[str, str] = field(default_factory=dict)
    ignored: tuple[str, ...] = ()
    #: (file column, import column) pairs where a second file column named the same field
    duplicates: tuple[tuple[str, str], ...] = ()


def normalise(name: str) -> str:
    """A column name for matching: lower case, umlauts spelt out, ``_`` for any separator.

    >>> normalise(" Nettofläche (ha) "), normalise("24h-Betrieb"), normalise("Flurstück")
    ('nettoflaeche_ha', '24h_betrieb', 'flurstueck')
    """
    text = name.strip().casefold()
    for umlaut, spelt in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        text = text.replace(umlaut, spelt)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_")


def _bounds(model: type[BaseModel], name: str) -> dict[str, Any]:
    """``low``, ``high``, ``max_length`` and ``pattern`` of a field of the API's model."""
    info = model.model_fields.get(name)
    out: dict[str, Any] = {}
    if info is None:
        return out
    for meta in _metadata(info.metadata, info.annotation):
        if isinstance(meta, Range):
            out.update(low=meta.low, high=meta.high, low_exclusive=meta.low_exclusive)
        for attr in ("max_length", "pattern"):
            value = getattr(meta, attr, None)
            if value is not None:
                out[attr] = value
    return out


def _metadata(metadata: Iterable[Any], annotation: Any) -> list[Any]:
    """Constraint objects of a field, including those inside ``Annotated[…] | None``."""
    found = list(metadata)
    for arg in getattr(annotation, "__args__", ()) or ():
        found.extend(getattr(arg, "__metadata__", ()))
    return found


def _parcel_columns() -> tuple[ImportColumn, ...]:
    columns = [
        # (not "ID": a GEFIS export's column ``id`` is the parcel's own id)
        ImportColumn("external_id", FieldType.STRING,
                     ("Flurstück", "Flurstueck", "Kennung", "Fläche_ID"),
                     column="external_id", required=True, max_length=100,
                     description="Key of the parcel in the district (unique per district)"),
        ImportColumn("site_name", FieldType.STRING, ("Standort", "Gewerbegebiet", "Standortname"),
                     description="Site (Standort) by name in the district; a new name "
                                 "creates the site"),
        ImportColumn("site_id", FieldType.INTEGER, ("Standort_ID",),
                     description="Site by its id (instead of site_name)"),
        ImportColumn("municipality", FieldType.STRING, ("Gemeinde", "Gemeinde_AGS", "AGS"),
                     description="Municipality (name or 8-digit AGS); checked against "
                                 "the geometry's location, which decides"),
    ]
    required = {"category", "user_groups"}
    for f in PARCEL_FIELDS:
        if f.import_aliases is None or f.name == "external_id":
            continue
        column = "net_area_ha_given" if f.name == "net_area_ha" else f.name
        columns.append(ImportColumn(
            f.name, f.type, f.import_aliases, column=column, vocabulary=f.vocabulary,
            required=f.name in required, description=f.description,
            **_bounds(ParcelFields, f.name)))
    return tuple(columns)


def _sale_columns() -> tuple[ImportColumn, ...]:
    b = _bounds

    def col(name: str, t: FieldType, aliases: tuple[str, ...], description: str,
            **kw: Any) -> ImportColumn:
        return ImportColumn(name, t, aliases, column=kw.pop("column", name),
                            description=description, **{**b(LandSaleFields, name), **kw})

    return (
        col("external_id", FieldType.STRING, ("Kaufpreisnummer", "KP_Nr", "Vertrag"),
            "Key of the sale (e.g. the valuation board's contract number)", required=True),
        col("sale_date", FieldType.DATE, ("Kaufdatum", "Vertragsdatum", "Datum"),
            "Date of the contract", required=True),
        col("municipality", FieldType.STRING, ("Gemeinde", "Gemeinde_AGS", "AGS"),
            "Municipality (name or 8-digit AGS), where the file has no geometry",
            column=None),
        col("area_ha", FieldType.NUMBER, ("Fläche_ha", "Flaeche_ha", "Grundstücksfläche_ha"),
            "Sold area in hectares", required=True),
        col("price_eur_m2", FieldType.NUMBER, ("Preis_EUR_m2", "Kaufpreis_EUR_m2", "Bodenwert"),
            "Price per m² in EUR"),
        col("buyer_user_group", FieldType.STRING, ("Nutzergruppe", "Käufergruppe"),
            "User group of the buyer, if known", vocabulary=vocab.USER_GROUP),
        col("buyer_origin", FieldType.STRING, ("Herkunft", "Käuferherkunft"),
            "Origin of the buyer, if known", vocabulary=vocab.BUYER_ORIGIN),
    )


PARCEL_IMPORT = ImportSpec("parcels", _parcel_columns())
LAND_SALE_IMPORT = ImportSpec("land_sales", _sale_columns())
SPECS: dict[str, ImportSpec] = {s.kind: s for s in (PARCEL_IMPORT, LAND_SALE_IMPORT)}


def _candidates(spec: ImportSpec) -> dict[str, str]:
    """Normalised name → import column: API names, aliases, then Shapefile's 10 characters."""
    names: dict[str, str] = {}
    for c in spec.columns:
        names.setdefault(normalise(c.name), c.name)
        for alias in c.aliases:
            names.setdefault(normalise(alias), c.name)
    for c in spec.columns:
        names.setdefault(normalise(short_name(c.name)), c.name)
    return names


def match_columns(columns: Iterable[str], spec: ImportSpec,
                  mapping: Mapping[str, str] | None = None) -> ColumnMatch:
    """Match a file's column names to the import's columns (see the module docstring).

    ``mapping`` names the import column of a file column explicitly (an unknown target is
    the caller's error to report; see :func:`unknown_targets`).
    """
    candidates = _candidates(spec)
    geometry_names = {normalise(a): role for role, aliases in GEOMETRY_COLUMNS.items()
                      for a in aliases}
    explicit = {normalise(k): v for k, v in (mapping or {}).items()}
    fields: dict[str, str] = {}
    geometry: dict[str, str] = {}
    ignored: list[str] = []
    duplicates: list[tuple[str, str]] = []
    for column in columns:
        key = normalise(column)
        target = explicit.get(key) or candidates.get(key)
        if target in GEOMETRY_COLUMNS:
            geometry.setdefault(target, column)
        elif target is not None:
            if target in fields.values():
                duplicates.append((column, target))
            else:
                fields[column] = target
        elif key in geometry_names and geometry_names[key] not in geometry:
            geometry[geometry_names[key]] = column
        else:
            ignored.append(column)
    return ColumnMatch(fields, geometry, tuple(ignored), tuple(duplicates))


def unknown_targets(mapping: Mapping[str, str], spec: ImportSpec) -> list[str]:
    """Targets of an explicit mapping that are neither import columns nor geometry roles."""
    return [t for t in mapping.values() if t not in spec.by_name and t not in GEOMETRY_COLUMNS]
