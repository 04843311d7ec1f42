"""The field registry: every attribute of a parcel, described once.

Each :class:`ParcelField` says what the API calls the field, which SQL expression yields it
(over a parcel row aliased ``p`` and its site aliased ``s``), its type, unit and vocabulary,
who may see it, and what it may be used for: filtering (with the query parameters it
offers), sorting, OGC queryables, vector tiles, exports and imports (with the German column
names accepted as aliases). Filters, sorting, the JSON properties, disclosure, queryables,
MVT columns, exports and import templates are all driven by :data:`PARCEL_FIELDS`.

Adding an attribute means: a column in a migration and one entry here.

>>> FIELDS["net_area_ha"].unit
'ha'
>>> [f.param for f in FIELDS["net_area_ha"].filters]
['net_area_min_ha', 'net_area_max_ha']
>>> FIELDS["price_eur_m2"].visibility is Visibility.DISCLOSABLE
True
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from app.domain import vocab
from app.domain.balance import SIZE_CLASSES


class Visibility(StrEnum):
    """Who sees a field: everyone, the public only where the editor released it, or staff."""

    PUBLIC = "public"
    DISCLOSABLE = "disclosable"
    INTERNAL = "internal"


class FieldType(StrEnum):
    """Value types, named as JSON Schema does (``date``/``date-time`` are string formats)."""

    INTEGER = "integer"
    NUMBER = "number"
    STRING = "string"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "date-time"
    STRINGS = "string[]"


class Op(StrEnum):
    """How a filter parameter compares with the field.

    ``in``: equals any of the values; ``eq``: equals (booleans); ``ge``/``le``: at least /
    at most; ``overlaps``/``disjoint``: an array field shares any / none of the values;
    ``up_to``: an ordered vocabulary up to and including the value; ``before_or_null``: a
    time before the value, or never set.
    """

    IN = "in"
    EQ = "eq"
    GE = "ge"
    LE = "le"
    OVERLAPS = "overlaps"
    DISJOINT = "disjoint"
    UP_TO = "up_to"
    BEFORE_OR_NULL = "before_or_null"


@dataclass(frozen=True, slots=True)
class FilterParam:
    """A query parameter filtering on one field; ``http=False`` keeps it out of the API."""

    param: str
    op: Op
    description: str
    http: bool = True
    #: for ``up_to``: the codes accepted and the codes each one admits
    up_to: Callable[[str], tuple[str, ...]] | None = None
    up_to_codes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ParcelField:
    """One attribute of a parcel (see the module docstring)."""

    name: str
    sql: str
    type: FieldType
    description: str
    unit: str | None = None
    vocabulary: vocab.Vocabulary | None = None
    #: regular expression every value (or list item) matches, e.g. an AGS
    pattern: str | None = None
    nullable: bool = True
    visibility: Visibility = Visibility.PUBLIC
    filters: tuple[FilterParam, ...] = ()
    sortable: bool = False
    queryable: bool = True
    tile: bool = False
    export: bool = True
    #: column names an import file may use for it (``None``: not importable)
    import_aliases: tuple[str, ...] | None = None
    #: searched by the free-text filter ``q``
    text_search: bool = False
    #: part of the JSON representation (a few, e.g. ``public_fields``, only for staff)
    in_json: bool = True
    #: SQL type of the column behind the field where it is not the type's usual one
    #: (:data:`COLUMN_TYPES`), e.g. ``numeric(10,2)``
    sql_type: str | None = None

    @property
    def column(self) -> str | None:
        """The parcel column behind the field, if it is a plain column of ``p``."""
        head, _, rest = self.sql.partition(".")
        return rest if head == "p" and rest.isidentifier() else None

    @property
    def column_type(self) -> str:
        """The SQL type of :attr:`column`, as PostgreSQL's ``format_type`` names it.

        >>> FIELDS["noise_quota_db"].column_type, FIELDS["price_eur_m2"].column_type
        ('double precision', 'numeric(10,2)')
        """
        return self.sql_type or COLUMN_TYPES[self.type]


T = FieldType
V = Visibility

#: The usual SQL type of a parcel column holding each field type (the migrations' choice).
COLUMN_TYPES: dict[FieldType, str] = {
    T.INTEGER: "integer", T.NUMBER: "double precision", T.STRING: "text",
    T.BOOLEAN: "boolean", T.DATE: "date", T.DATETIME: "timestamp with time zone",
    T.STRINGS: "text[]",
}
_LIST = "; repeat the parameter or separate values by commas"


def _codes(name: str, what: str) -> FilterParam:
    return FilterParam(name, Op.IN, what + _LIST)


def _num(name: str, description: str, *, unit: str, low: str, high: str,
         sortable: bool = True, tile: bool = False, aliases: tuple[str, ...] | None = None,
         sql: str | None = None, visibility: Visibility = V.PUBLIC,
         field_type: FieldType = T.NUMBER, nullable: bool = True) -> ParcelField:
    return ParcelField(
        name, sql or f"p.{name}", field_type, description, unit=unit, visibility=visibility,
        nullable=nullable,
        filters=(FilterParam(low, Op.GE, f"{description}: at least ({unit})"),
                 FilterParam(high, Op.LE, f"{description}: at most ({unit})")),
        sortable=sortable, tile=tile, import_aliases=aliases)


def _code(name: str, vocabulary: vocab.Vocabulary, description: str, param: str,
          *, aliases: tuple[str, ...], nullable: bool = False,
          visibility: Visibility = V.PUBLIC) -> ParcelField:
    return ParcelField(
        name, f"p.{name}", T.STRING, description, vocabulary=vocabulary, nullable=nullable,
        visibility=visibility, filters=(_codes(param, description),),
        tile=True, import_aliases=aliases)


def _text(name: str, description: str, *, visibility: Visibility = V.PUBLIC,
          aliases: tuple[str, ...] = (), text_search: bool = False) -> ParcelField:
    return ParcelField(name, f"p.{name}", T.STRING, description, visibility=visibility,
                       import_aliases=aliases, text_search=text_search)


#: Every parcel field, in the order of the JSON representation.
PARCEL_FIELDS: tuple[ParcelField, ...] = (
    ParcelField("id", "p.id", T.INTEGER, "Parcel id", nullable=False, sortable=True, tile=True,
                sql_type="bigint", filters=(FilterParam("ids", Op.IN, "Parcel ids", http=False),)),
    _text("external_id", "The district's own key of the parcel (unique per district)",
          aliases=("Flurstück", "Flurstueck", "Kennung"), text_search=True),
    _text("name", "Name of the parcel", aliases=("Name", "Bezeichnung"), text_search=True),
    ParcelField("site_id", "p.site_id", T.INTEGER, "Site (Standort) the parcel belongs to",
                nullable=False, tile=True, sql_type="bigint",
                filters=(FilterParam("site_id", Op.IN, "Site ids" + _LIST),)),
    ParcelField("district_ags", "p.district_ags", T.STRING,
                "District (Kreis) the parcel lies in, 5-digit AGS; derived from the geometry",
                pattern="^[0-9]{5}$", nullable=False, tile=True,
                filters=(FilterParam("district", Op.IN, "District AGS (5 digits)" + _LIST),)),
    ParcelField("municipality_ags", "p.municipality_ags", T.STRING,
                "Municipality (Gemeinde) the parcel lies in, 8-digit AGS; derived",
                pattern="^[0-9]{8}$", nullable=False,
                filters=(FilterParam("municipality", Op.IN,
                                     "Municipality AGS (8 digits)" + _LIST),)),
    _code("category", vocab.CATEGORY, "Area category", "category",
          aliases=("Kategorie", "Flächenkategorie")),
    ParcelField("availability", "p.availability", T.STRING, "Availability class",
                vocabulary=vocab.AVAILABILITY, nullable=False, tile=True,
                filters=(_codes("availability", "Exact availability classes"),
                         FilterParam("availability_horizon", Op.UP_TO,
                                     "Available no later than this class: "
                                     "sofort < kurzfristig < mittelfristig < langfristig",
                                     up_to=vocab.availability_up_to,
                                     up_to_codes=vocab.AVAILABILITY_HORIZON)),
                import_aliases=("Verfügbarkeit", "Verfuegbarkeit")),
    ParcelField("available_from", "p.available_from", T.DATE,
                "Date from which the parcel is available, if known", sortable=True,
                import_aliases=("verfügbar_ab", "verfuegbar_ab")),
    ParcelField("availability_assessed_on", "p.availability_assessed_on", T.DATE,
                "Day the availability class was assessed (set to the day of the change "
                "when the class changes without one)",
                import_aliases=("Verfügbarkeit_eingeschätzt_am",
                                "Verfuegbarkeit_eingeschaetzt_am")),
    ParcelField("restriction_level", "p.restriction_level", T.STRING, "Restriction level",
                vocabulary=vocab.RESTRICTION_LEVEL, nullable=False, tile=True,
                filters=(_codes("restriction_level",
                                "Exact restriction levels (unbekannt included)"),
                         FilterParam("restriction_max", Op.UP_TO,
                                     "Restriction level at most: keine < gering < erhoeht",
                                     up_to=vocab.restriction_up_to,
                                     up_to_codes=vocab.RESTRICTION_RANK),),
                import_aliases=("Restriktion", "Restriktionsgrad")),
    ParcelField("restriction_causes", "p.restriction_causes", T.STRINGS,
                "Causes of the restriction", vocabulary=vocab.RESTRICTION_CAUSE,
                nullable=False,
                filters=(FilterParam("exclude_causes", Op.DISJOINT,
                                     "Exclude parcels with any of these restriction causes"
                                     + _LIST),),
                import_aliases=("Restriktionsursachen",)),
    ParcelField("user_groups", "p.user_groups", T.STRINGS, "User groups the parcel suits",
                vocabulary=vocab.USER_GROUP, nullable=False, tile=True,
                filters=(FilterParam("user_group", Op.OVERLAPS,
                                     "Suitable for any of these user groups" + _LIST),),
                import_aliases=("Nutzergruppen", "Eignung")),
    _code("planning_status", vocab.PLANNING_STATUS, "Planning status", "planning_status",
          aliases=("Planungsstand", "Planungsrecht")),
    _code("zoning", vocab.ZONING, "Zoning (BauNVO)", "zoning", aliases=("Gebietsart", "BauNVO")),
    _code("servicing", vocab.SERVICING, "Servicing state", "servicing",
          aliases=("Erschließung", "Erschliessung")),
    ParcelField("marketing_status", "p.marketing_status", T.STRING, "Marketing status",
                vocabulary=vocab.MARKETING_STATUS, nullable=False, tile=True,
                filters=(_codes("marketing_status", "Marketing status (default: verfuegbar)"),),
                import_aliases=("Vermarktungsstand", "Status")),
    _num("gross_area_ha", "Gross area (from the geometry in EPSG:25832)", unit="ha",
         low="gross_area_min_ha", high="gross_area_max_ha", nullable=False),
    ParcelField("net_area_ha", "p.net_area_ha", T.NUMBER,
                "Net area: as given, else gross (75 % of gross when unserviced)", unit="ha",
                nullable=False, sortable=True, tile=True,
                filters=(FilterParam("net_area_min_ha", Op.GE, "Minimum net area, ha"),
                         FilterParam("net_area_max_ha", Op.LE, "Maximum net area, ha")),
                import_aliases=("Nettofläche_ha", "Nettoflaeche_ha", "net_area_ha")),
    # gefis_size_class: the SQL of SIZE_CLASSES (migration 0014; tests/test_supply_cells.py)
    ParcelField("size_class", "gefis_size_class(p.net_area_ha)", T.STRING,
                "Size class of the net area: "
                + ", ".join(f"{c.key} ({c.label})" for c in SIZE_CLASSES),
                in_json=False),
    ParcelField("rail_siding", "p.rail_siding", T.BOOLEAN, "Has a rail siding",
                nullable=False, tile=True,
                filters=(FilterParam("rail_siding", Op.EQ, "Has a rail siding"),),
                import_aliases=("Gleisanschluss",)),
    ParcelField("operation_24h", "p.operation_24h", T.BOOLEAN, "24-hour operation allowed",
                nullable=False, tile=True,
                filters=(FilterParam("operation_24h", Op.EQ, "24-hour operation allowed"),),
                import_aliases=("24h_Betrieb", "24h-Betrieb")),
    ParcelField("max_building_height_m", "p.max_building_height_m", T.NUMBER,
                "Maximum building height", unit="m", sortable=True, sql_type="numeric(6,2)",
                import_aliases=("max_Bauhöhe_m",)),
    ParcelField("broadband_mbps", "p.broadband_mbps", T.INTEGER, "Broadband bandwidth",
                unit="Mbit/s", sortable=True, import_aliases=("Breitband_Mbit",)),
    ParcelField("grid_capacity_mw", "p.grid_capacity_mw", T.NUMBER, "Grid connection capacity",
                unit="MW", sortable=True, sql_type="numeric(8,2)",
                import_aliases=("Netzanschluss_MW",)),
    ParcelField("distance_junction_km", "p.distance_junction_km", T.NUMBER,
                "Distance to the nearest motorway junction (derived)", unit="km",
                sortable=True, tile=True,
                filters=(FilterParam("max_junction_km", Op.LE,
                                     "Max km to a motorway junction"),)),
    ParcelField("distance_airport_km", "p.distance_airport_km", T.NUMBER,
                "Distance to the airport (derived)", unit="km", sortable=True,
                filters=(FilterParam("max_airport_km", Op.LE, "Max km to the airport"),)),
    ParcelField("slope_mean_pct", "p.slope_mean_pct", T.NUMBER, "Mean slope (derived)",
                unit="%"),
    ParcelField("slope_max_pct", "p.slope_max_pct", T.NUMBER, "Maximum slope (derived)",
                unit="%"),
    ParcelField("flood_hazard_share", "p.flood_hazard_share", T.NUMBER,
                "Share of the area in a flood hazard zone (derived)", unit="1"),
    ParcelField("last_verified_at", "p.last_verified_at", T.DATETIME,
                "When the data was last confirmed as current", sortable=True,
                filters=(FilterParam("verified_before", Op.BEFORE_OR_NULL,
                                     "Last verified before this time, or never", http=False),)),
    ParcelField("created_at", "p.created_at", T.DATETIME, "Created", nullable=False,
                export=False),
    ParcelField("updated_at", "p.updated_at", T.DATETIME, "Last changed", nullable=False,
                sortable=True, export=False),
    ParcelField("version", "p.version", T.INTEGER, "Version (for If-Match)", nullable=False,
                queryable=False, export=False),
    ParcelField("site_name", "s.name", T.STRING, "Name of the site", nullable=False,
                text_search=True, tile=True),
    ParcelField("net_area_derived", "p.net_area_ha_given IS NULL", T.BOOLEAN,
                "Whether the net area is derived from the gross area", nullable=False,
                queryable=False),
    ParcelField("synthetic", "p.is_synthetic", T.BOOLEAN, "Synthetic demo data",
                nullable=False, tile=True),
    ParcelField("price_eur_m2", "p.price_eur_m2", T.NUMBER, "Asking price", unit="EUR/m²",
                visibility=V.DISCLOSABLE, sortable=True, sql_type="numeric(10,2)",
                filters=(FilterParam("max_price_eur_m2", Op.LE, "Max price, EUR/m²"),),
                import_aliases=("Preis_EUR_m2", "Kaufpreis")),
    ParcelField("noise_quota_db", "p.noise_quota_db", T.NUMBER,
                "Noise emission quota (Lärmemissionskontingent, DIN 45691)", unit="dB(A)/m²",
                visibility=V.DISCLOSABLE, sortable=True,
                filters=(FilterParam("noise_quota_min_db", Op.GE,
                                     "Noise emission quota at least, dB(A)/m²"),),
                import_aliases=("Lärmkontingent_dB", "Laermkontingent_dB")),
    _code("owner_type", vocab.OWNER_TYPE, "Kind of owner", "owner_type", nullable=True,
          aliases=("Eigentümerart", "Eigentuemerart"), visibility=V.DISCLOSABLE),
    _text("contact_name", "Marketing contact", visibility=V.DISCLOSABLE,
          aliases=("Ansprechpartner",)),
    _text("contact_email", "Marketing contact's e-mail", visibility=V.DISCLOSABLE,
          aliases=("E-Mail", "Email")),
    _text("contact_phone", "Marketing contact's telephone", visibility=V.DISCLOSABLE,
          aliases=("Telefon",)),
    _text("owner_name", "Owner", visibility=V.INTERNAL, aliases=("Eigentümer", "Eigentuemer")),
    _text("internal_notes", "Internal notes", visibility=V.INTERNAL,
          aliases=("Bemerkung", "Notizen")),
    ParcelField("public_fields", "p.public_fields", T.STRINGS,
                "Optional fields released to the public", nullable=False,
                visibility=V.INTERNAL, queryable=False, export=False),
    ParcelField("suggested_restriction_causes", "p.suggested_restriction_causes", T.STRINGS,
                "Restriction causes suggested by the raster analysis",
                vocabulary=vocab.RESTRICTION_CAUSE, nullable=False, visibility=V.INTERNAL),
)

#: The registry by API name.
FIELDS: dict[str, ParcelField] = {f.name: f for f in PARCEL_FIELDS}

#: Fields a result can be sorted by (``id`` always breaks ties).
SORTABLE_FIELDS: tuple[str, ...] = tuple(f.name for f in PARCEL_FIELDS if f.sortable)

#: Optional fields an editor may release to the public, per parcel.
DISCLOSABLE_FIELDS: tuple[str, ...] = tuple(
    f.name for f in PARCEL_FIELDS if f.visibility is V.DISCLOSABLE)

#: Every filter parameter with the field it filters.
FILTER_PARAMS: dict[str, tuple[ParcelField, FilterParam]] = {
    p.param: (f, p) for f in PARCEL_FIELDS for p in f.filters}


def get_field(name: str) -> ParcelField:
    """The registered field ``name``; ``KeyError`` naming the known ones otherwise."""
    try:
        return FIELDS[name]
    except KeyError:
        raise KeyError(f"{name!r} is no parcel field; known: {', '.join(FIELDS)}") from None
