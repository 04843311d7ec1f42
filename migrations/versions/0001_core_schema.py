"""Core schema: boundaries, sites, parcels, sales, enquiries, demand, infrastructure, history.

All geometries are stored in ETRS89 / UTM 32N (EPSG:25832); areas are generated columns
computed by PostGIS from the geometry (``ST_Area`` in m², divided into ha or km²).
Vocabulary codes are enforced by CHECK constraints. This migration carries its own frozen
copy of the codes (those of ``app/domain/vocab.py`` when it was written) and imports nothing
from ``app``: a later change of a vocabulary needs a new migration, and
``tests/test_vocab_constraints.py`` fails until the database and ``vocab.py`` agree again.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_USER_GROUP = (
    "industrie_produktion", "handwerk_gewerbe", "logistik", "wissen_technologie",
    "dienstleistung",
)

#: Columns bound to a vocabulary, with the codes allowed: (table, column, codes, is_array).
VOCAB_COLUMNS: tuple[tuple[str, str, tuple[str, ...], bool], ...] = (
    ("districts", "kind", ("kreisfreie_stadt", "landkreis"), False),
    ("parcels", "category", (
        "restflaeche_bestandsgebiet", "erweiterungsflaeche", "geplanter_standort",
        "nur_fnp_oder_regionalplan", "braunkohle_folgeflaeche", "innerstaedtische_brache",
        "pv_anlage", "vorschauflaeche"), False),
    ("parcels", "availability", (
        "sofort", "kurzfristig", "mittelfristig", "langfristig", "unbekannt"), False),
    ("parcels", "restriction_level", ("keine", "gering", "erhoeht", "unbekannt"), False),
    ("parcels", "restriction_causes", (
        "altlasten", "kampfmittel", "verkehrserschliessung", "medienerschliessung",
        "breitband", "hochwasser", "naturschutz", "immissionsschutz", "eigentuemer",
        "denkmalschutz", "tiefenenttruemmerung", "sonstige"), True),
    ("parcels", "user_groups", _USER_GROUP, True),
    ("parcels", "planning_status", (
        "bplan_rechtskraeftig", "bplan_in_aufstellung", "fnp", "regionalplan", "ohne"), False),
    ("parcels", "zoning", ("GE", "GI", "SO", "MI", "keine"), False),
    ("parcels", "servicing", ("erschlossen", "teilerschlossen", "unerschlossen"), False),
    ("parcels", "marketing_status", (
        "verfuegbar", "reserviert", "verkauft", "zurueckgezogen"), False),
    ("parcels", "owner_type", (
        "kommunal", "land", "privat", "bergbau_sanierer", "sonstige"), False),
    ("land_sales", "buyer_user_group", _USER_GROUP, False),
    ("land_sales", "buyer_origin", ("regional", "national", "international"), False),
    ("enquiries", "user_group", _USER_GROUP, False),
    ("enquiries", "outcome", (
        "offen", "angebot_unterbreitet", "angesiedelt", "abgewandert", "kein_angebot",
        "zurueckgezogen"), False),
    ("infrastructure", "kind", (
        "autobahn", "anschlussstelle", "flughafen", "kv_terminal"), False),
)


def _sql_list(codes: tuple[str, ...]) -> str:
    """Comma-separated SQL string literals (codes are ASCII slugs; quotes escaped anyway)."""
    return ", ".join("'" + c.replace("'", "''") + "'" for c in codes)


def _vocab_check(table: str, column: str, codes: tuple[str, ...], is_array: bool) -> str:
    """``ALTER TABLE`` adding ``ck_<table>__<column>__vocab``.

    A scalar column holds one code (NULL passes; NOT NULL is declared separately); an array
    column holds only codes, without NULL elements.
    """
    if is_array:
        expr = (f"{column} <@ ARRAY[{_sql_list(codes)}]::text[] "
                f"AND array_position({column}, NULL) IS NULL")
    else:
        expr = f"{column} IN ({_sql_list(codes)})"
    return f"ALTER TABLE {table} ADD CONSTRAINT ck_{table}__{column}__vocab CHECK ({expr})"


_AREA_HA = "ST_Area(geom_25832) / 10000.0"

TABLES = f"""
CREATE TABLE districts (
    ags text PRIMARY KEY CONSTRAINT ck_districts__ags__format CHECK (ags ~ '^[0-9]{{5}}$'),
    key text NOT NULL CONSTRAINT uq_districts__key UNIQUE
        CONSTRAINT ck_districts__key__format CHECK (key ~ '^[a-z][a-z_]*$'),
    name text NOT NULL,
    kind text NOT NULL,
    state text NOT NULL
        CONSTRAINT ck_districts__state__known CHECK (state IN ('Sachsen', 'Sachsen-Anhalt', 'Thüringen')),
    nuts3 text,
    seat text,
    geom_25832 geometry(MultiPolygon, 25832) NOT NULL
        CONSTRAINT ck_districts__geom_25832__valid CHECK (ST_IsValid(geom_25832)),
    area_km2 double precision GENERATED ALWAYS AS (ST_Area(geom_25832) / 1e6) STORED,
    boundary_source text NOT NULL DEFAULT 'unbekannt'
);
CREATE INDEX ix_districts__geom_25832 ON districts USING gist (geom_25832);

CREATE TABLE municipalities (
    ags text PRIMARY KEY CONSTRAINT ck_municipalities__ags__format CHECK (ags ~ '^[0-9]{{8}}$'),
    name text NOT NULL,
    district_ags text NOT NULL
        CONSTRAINT fk_municipalities__district_ags REFERENCES districts (ags) ON UPDATE CASCADE,
    geom_25832 geometry(MultiPolygon, 25832) NOT NULL
        CONSTRAINT ck_municipalities__geom_25832__valid CHECK (ST_IsValid(geom_25832)),
    area_km2 double precision GENERATED ALWAYS AS (ST_Area(geom_25832) / 1e6) STORED,
    boundary_source text NOT NULL DEFAULT 'unbekannt',
    CONSTRAINT ck_municipalities__district_ags__ags_prefix CHECK (left(ags, 5) = district_ags)
);
CREATE INDEX ix_municipalities__geom_25832 ON municipalities USING gist (geom_25832);
CREATE INDEX ix_municipalities__district_ags ON municipalities (district_ags);

CREATE TABLE infrastructure (
    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    external_id text CONSTRAINT uq_infrastructure__external_id UNIQUE,
    kind text NOT NULL,
    name text NOT NULL,
    ref text,
    geom_25832 geometry(Geometry, 25832) NOT NULL
        CONSTRAINT ck_infrastructure__geom_25832__valid CHECK (ST_IsValid(geom_25832)),
    is_synthetic boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT ck_infrastructure__geom_25832__type_for_kind CHECK (
        CASE WHEN kind = 'autobahn'
             THEN GeometryType(geom_25832) IN ('LINESTRING', 'MULTILINESTRING')
             ELSE GeometryType(geom_25832) = 'POINT' END)
);
CREATE INDEX ix_infrastructure__geom_25832 ON infrastructure USING gist (geom_25832);
CREATE INDEX ix_infrastructure__kind ON infrastructure (kind);

CREATE TABLE sites (
    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    external_id text CONSTRAINT uq_sites__external_id UNIQUE,
    name text NOT NULL CONSTRAINT ck_sites__name__not_blank CHECK (btrim(name) <> ''),
    marketing_name text,
    description text,
    web_url text CONSTRAINT ck_sites__web_url__http CHECK (web_url ~ '^https?://[^\\s]+$'),
    municipality_ags text NOT NULL
        CONSTRAINT fk_sites__municipality_ags REFERENCES municipalities (ags) ON UPDATE CASCADE,
    district_ags text NOT NULL
        CONSTRAINT fk_sites__district_ags REFERENCES districts (ags) ON UPDATE CASCADE,
    geom_25832 geometry(MultiPolygon, 25832)
        CONSTRAINT ck_sites__geom_25832__valid CHECK (ST_IsValid(geom_25832)),
    outline_area_ha double precision GENERATED ALWAYS AS ({_AREA_HA}) STORED,
    is_synthetic boolean NOT NULL DEFAULT false,
    withdrawn_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    version integer NOT NULL DEFAULT 1,
    CONSTRAINT ck_sites__district_ags__ags_prefix CHECK (left(municipality_ags, 5) = district_ags)
);
CREATE INDEX ix_sites__geom_25832 ON sites USING gist (geom_25832);
CREATE INDEX ix_sites__district_ags ON sites (district_ags);

CREATE TABLE site_partners (
    site_id bigint NOT NULL CONSTRAINT fk_site_partners__site_id REFERENCES sites (id) ON DELETE CASCADE,
    municipality_ags text NOT NULL
        CONSTRAINT fk_site_partners__municipality_ags REFERENCES municipalities (ags) ON UPDATE CASCADE,
    share_pct numeric(5, 2) NOT NULL
        CONSTRAINT ck_site_partners__share_pct__range CHECK (share_pct > 0 AND share_pct <= 100),
    PRIMARY KEY (site_id, municipality_ags)
);

CREATE TABLE parcels (
    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    external_id text,
    site_id bigint NOT NULL CONSTRAINT fk_parcels__site_id REFERENCES sites (id),
    name text,
    district_ags text NOT NULL CONSTRAINT fk_parcels__district_ags REFERENCES districts (ags) ON UPDATE CASCADE,
    municipality_ags text NOT NULL
        CONSTRAINT fk_parcels__municipality_ags REFERENCES municipalities (ags) ON UPDATE CASCADE,
    geom_25832 geometry(MultiPolygon, 25832) NOT NULL
        CONSTRAINT ck_parcels__geom_25832__valid CHECK (ST_IsValid(geom_25832))
        CONSTRAINT ck_parcels__geom_25832__not_empty CHECK (NOT ST_IsEmpty(geom_25832)),
    gross_area_ha double precision GENERATED ALWAYS AS ({_AREA_HA}) STORED,
    net_area_ha_given double precision
        CONSTRAINT ck_parcels__net_area_ha__positive CHECK (net_area_ha_given > 0),
    net_area_ha double precision GENERATED ALWAYS AS (
        coalesce(net_area_ha_given,
                 {_AREA_HA} * CASE WHEN servicing = 'unerschlossen' THEN 0.75 ELSE 1.0 END)
    ) STORED,
    category text NOT NULL,
    availability text NOT NULL DEFAULT 'unbekannt',
    available_from date,
    restriction_level text NOT NULL DEFAULT 'unbekannt',
    restriction_causes text[] NOT NULL DEFAULT '{{}}',
    user_groups text[] NOT NULL
        CONSTRAINT ck_parcels__user_groups__not_empty CHECK (cardinality(user_groups) >= 1),
    planning_status text NOT NULL DEFAULT 'ohne',
    zoning text NOT NULL DEFAULT 'keine',
    servicing text NOT NULL DEFAULT 'unerschlossen',
    marketing_status text NOT NULL DEFAULT 'verfuegbar',
    price_eur_m2 numeric(10, 2) CONSTRAINT ck_parcels__price_eur_m2__non_negative CHECK (price_eur_m2 >= 0),
    owner_type text,
    owner_name text,
    rail_siding boolean NOT NULL DEFAULT false,
    operation_24h boolean NOT NULL DEFAULT false,
    max_building_height_m numeric(6, 2)
        CONSTRAINT ck_parcels__max_building_height_m__positive CHECK (max_building_height_m > 0),
    broadband_mbps integer CONSTRAINT ck_parcels__broadband_mbps__non_negative CHECK (broadband_mbps >= 0),
    grid_capacity_mw numeric(8, 2)
        CONSTRAINT ck_parcels__grid_capacity_mw__non_negative CHECK (grid_capacity_mw >= 0),
    contact_name text,
    contact_email text CONSTRAINT ck_parcels__contact_email__format CHECK (contact_email ~ '^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$'),
    contact_phone text,
    public_fields text[] NOT NULL DEFAULT ARRAY['contact_name', 'contact_email']::text[]
        CONSTRAINT ck_parcels__public_fields__known CHECK (
            public_fields <@ ARRAY['price_eur_m2', 'owner_type', 'contact_name', 'contact_email',
                                   'contact_phone']::text[]),
    internal_notes text,
    distance_junction_km double precision,
    distance_airport_km double precision,
    slope_mean_pct double precision,
    slope_max_pct double precision,
    flood_hazard_share double precision
        CONSTRAINT ck_parcels__flood_hazard_share__fraction CHECK (flood_hazard_share BETWEEN 0 AND 1),
    suggested_restriction_causes text[] NOT NULL DEFAULT '{{}}',
    last_verified_at timestamptz,
    is_synthetic boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    version integer NOT NULL DEFAULT 1,
    CONSTRAINT uq_parcels__district_ags_external_id UNIQUE (district_ags, external_id),
    CONSTRAINT ck_parcels__net_area_ha__not_above_gross CHECK (
        net_area_ha_given IS NULL OR net_area_ha_given <= {_AREA_HA} * (1 + 1e-9)),
    CONSTRAINT ck_parcels__restriction_causes__none_when_unrestricted CHECK (
        restriction_level <> 'keine' OR cardinality(restriction_causes) = 0),
    CONSTRAINT ck_parcels__municipality_ags__ags_prefix CHECK (left(municipality_ags, 5) = district_ags)
);
CREATE INDEX ix_parcels__geom_25832 ON parcels USING gist (geom_25832);
CREATE INDEX ix_parcels__site_id ON parcels (site_id);
CREATE INDEX ix_parcels__district_ags ON parcels (district_ags);
CREATE INDEX ix_parcels__municipality_ags ON parcels (municipality_ags);
CREATE INDEX ix_parcels__net_area_ha ON parcels (net_area_ha, id);
CREATE INDEX ix_parcels__user_groups ON parcels USING gin (user_groups);
CREATE INDEX ix_parcels__status_availability ON parcels (marketing_status, availability);
CREATE INDEX ix_parcels__last_verified_at ON parcels (district_ags, last_verified_at);

CREATE TABLE parcel_history (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    parcel_id bigint NOT NULL CONSTRAINT fk_parcel_history__parcel_id REFERENCES parcels (id),
    operation text NOT NULL CONSTRAINT ck_parcel_history__operation__known CHECK (operation IN ('insert', 'update')),
    changed_at timestamptz NOT NULL DEFAULT now(),
    actor text NOT NULL,
    reason text,
    changes jsonb NOT NULL,
    row_after jsonb NOT NULL
);
CREATE INDEX ix_parcel_history__parcel_id_changed_at ON parcel_history (parcel_id, changed_at, id);
CREATE INDEX ix_parcel_history__changed_at ON parcel_history (changed_at);

CREATE TABLE land_sales (
    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    external_id text CONSTRAINT uq_land_sales__external_id UNIQUE,
    sale_date date NOT NULL CONSTRAINT ck_land_sales__sale_date__plausible CHECK (sale_date >= DATE '1990-01-01'),
    district_ags text NOT NULL CONSTRAINT fk_land_sales__district_ags REFERENCES districts (ags) ON UPDATE CASCADE,
    municipality_ags text CONSTRAINT fk_land_sales__municipality_ags REFERENCES municipalities (ags) ON UPDATE CASCADE,
    parcel_id bigint CONSTRAINT fk_land_sales__parcel_id REFERENCES parcels (id),
    site_id bigint CONSTRAINT fk_land_sales__site_id REFERENCES sites (id),
    area_ha double precision NOT NULL CONSTRAINT ck_land_sales__area_ha__positive CHECK (area_ha > 0),
    price_eur_m2 numeric(10, 2) CONSTRAINT ck_land_sales__price_eur_m2__non_negative CHECK (price_eur_m2 >= 0),
    buyer_user_group text,
    buyer_origin text,
    geom_25832 geometry(Point, 25832),
    is_synthetic boolean NOT NULL DEFAULT false,
    withdrawn_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    version integer NOT NULL DEFAULT 1,
    CONSTRAINT ck_land_sales__municipality_ags__ags_prefix CHECK (
        municipality_ags IS NULL OR left(municipality_ags, 5) = district_ags)
);
CREATE INDEX ix_land_sales__district_date ON land_sales (district_ags, sale_date);
CREATE INDEX ix_land_sales__geom_25832 ON land_sales USING gist (geom_25832);

CREATE TABLE enquiries (
    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    received_on date NOT NULL DEFAULT current_date,
    district_ags text CONSTRAINT fk_enquiries__district_ags REFERENCES districts (ags) ON UPDATE CASCADE,
    required_net_area_ha_min double precision NOT NULL
        CONSTRAINT ck_enquiries__required_net_area_ha_min__positive CHECK (required_net_area_ha_min > 0),
    required_net_area_ha_max double precision,
    user_group text NOT NULL,
    needed_by date,
    requirements jsonb NOT NULL DEFAULT '{{}}'::jsonb,
    outcome text NOT NULL DEFAULT 'offen',
    outcome_note text,
    created_by text,
    withdrawn_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    version integer NOT NULL DEFAULT 1,
    CONSTRAINT ck_enquiries__required_net_area_ha_max__not_below_min CHECK (
        required_net_area_ha_max IS NULL OR required_net_area_ha_max >= required_net_area_ha_min)
);

CREATE TABLE demand_frameworks (
    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    name text NOT NULL,
    version integer NOT NULL DEFAULT 1 CONSTRAINT ck_demand_frameworks__version__positive CHECK (version >= 1),
    base_date date NOT NULL,
    horizon_year integer NOT NULL,
    net_to_gross_factor numeric(4, 2) NOT NULL DEFAULT 1.3
        CONSTRAINT ck_demand_frameworks__net_to_gross_factor__range CHECK (net_to_gross_factor BETWEEN 1 AND 3),
    method text NOT NULL DEFAULT 'vorgabe'
        CONSTRAINT ck_demand_frameworks__method__known CHECK (method IN ('vorgabe', 'trend', 'gifpro')),
    parameters jsonb NOT NULL DEFAULT '{{}}'::jsonb,
    description text,
    source text,
    assumptions text,
    is_default boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT uq_demand_frameworks__name_version UNIQUE (name, version),
    CONSTRAINT ck_demand_frameworks__horizon_year__after_base CHECK (horizon_year > extract(year FROM base_date))
);
CREATE UNIQUE INDEX uq_demand_frameworks__is_default ON demand_frameworks (is_default) WHERE is_default;

CREATE TABLE demand_scenarios (
    framework_id bigint NOT NULL CONSTRAINT fk_demand_scenarios__framework_id REFERENCES demand_frameworks (id) ON DELETE CASCADE,
    key text NOT NULL CONSTRAINT ck_demand_scenarios__key__format CHECK (key ~ '^[a-z][a-z0-9_]*$'),
    label text NOT NULL,
    sort_order integer NOT NULL DEFAULT 0,
    PRIMARY KEY (framework_id, key)
);

CREATE TABLE demand_components (
    framework_id bigint NOT NULL CONSTRAINT fk_demand_components__framework_id REFERENCES demand_frameworks (id) ON DELETE CASCADE,
    key text NOT NULL CONSTRAINT ck_demand_components__key__format CHECK (key ~ '^[a-z][a-z0-9_]*$'),
    label text NOT NULL,
    located boolean NOT NULL,
    method text,
    sort_order integer NOT NULL DEFAULT 0,
    PRIMARY KEY (framework_id, key)
);

CREATE TABLE demand_component_values (
    framework_id bigint NOT NULL,
    component_key text NOT NULL,
    scenario_key text NOT NULL,
    district_ags text CONSTRAINT fk_demand_component_values__district_ags REFERENCES districts (ags) ON UPDATE CASCADE,
    net_ha double precision NOT NULL CONSTRAINT ck_demand_component_values__net_ha__non_negative CHECK (net_ha >= 0),
    CONSTRAINT fk_demand_component_values__component_key FOREIGN KEY (framework_id, component_key)
        REFERENCES demand_components (framework_id, key) ON DELETE CASCADE,
    CONSTRAINT fk_demand_component_values__scenario_key FOREIGN KEY (framework_id, scenario_key)
        REFERENCES demand_scenarios (framework_id, key) ON DELETE CASCADE,
    CONSTRAINT uq_demand_component_values__component_scenario_district
        UNIQUE NULLS NOT DISTINCT (framework_id, component_key, scenario_key, district_ags)
);

CREATE TABLE monitoring_snapshots (
    quarter_end date NOT NULL CONSTRAINT ck_monitoring_snapshots__quarter_end__quarter CHECK (
        extract(month FROM quarter_end + 1) IN (1, 4, 7, 10) AND extract(day FROM quarter_end + 1) = 1),
    parcel_id bigint NOT NULL CONSTRAINT fk_monitoring_snapshots__parcel_id REFERENCES parcels (id),
    district_ags text NOT NULL,
    municipality_ags text NOT NULL,
    site_id bigint NOT NULL,
    net_area_ha double precision NOT NULL,
    gross_area_ha double precision NOT NULL,
    availability text NOT NULL,
    restriction_level text NOT NULL,
    marketing_status text NOT NULL,
    user_groups text[] NOT NULL,
    state jsonb NOT NULL,
    history_id bigint,
    taken_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (quarter_end, parcel_id)
);
CREATE INDEX ix_monitoring_snapshots__district ON monitoring_snapshots (quarter_end, district_ags);
"""


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.execute(TABLES)
    for table, column, codes, is_array in VOCAB_COLUMNS:
        op.execute(_vocab_check(table, column, codes, is_array))


def downgrade() -> None:
    op.execute(
        "DROP TABLE IF EXISTS monitoring_snapshots, demand_component_values, demand_components, "
        "demand_scenarios, demand_frameworks, enquiries, land_sales, parcel_history, parcels, "
        "site_partners, sites, infrastructure, municipalities, districts CASCADE"
    )
