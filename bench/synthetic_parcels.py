"""The SQL that generates the benchmark's synthetic parcels, and the mix it draws from.

Seeded (``setseed``, ``ST_GeneratePoints(…, seed)``) rotated rectangles inside the demo
sites; attributes drawn from the vocabularies of :mod:`app.domain.vocab` with the weights
below (roughly the demo's mix). Used by ``bench/load_parcels.py``.
"""

from __future__ import annotations

from collections.abc import Mapping

from app.domain import vocab
from app.domain.disclosure import DISCLOSABLE_FIELDS

#: Share of each code, per vocabulary (normalised; every code must exist in the vocabulary).
CATEGORY = {"restflaeche_bestandsgebiet": 50, "nur_fnp_oder_regionalplan": 17,
            "pv_anlage": 11, "erweiterungsflaeche": 7, "innerstaedtische_brache": 4,
            "vorschauflaeche": 4, "geplanter_standort": 4, "braunkohle_folgeflaeche": 3}
AVAILABILITY = {"sofort": 39, "kurzfristig": 21, "mittelfristig": 9, "langfristig": 17,
                "unbekannt": 14}
RESTRICTION_LEVEL = {"keine": 38, "gering": 34, "erhoeht": 15, "unbekannt": 13}
RESTRICTION_CAUSE = {"altlasten": 20, "kampfmittel": 10, "verkehrserschliessung": 14,
                     "medienerschliessung": 12, "breitband": 8, "hochwasser": 8,
                     "naturschutz": 8, "immissionsschutz": 8, "eigentuemer": 6,
                     "denkmalschutz": 2, "tiefenenttruemmerung": 2, "sonstige": 2}
SERVICING = {"erschlossen": 45, "teilerschlossen": 27, "unerschlossen": 28}
PLANNING_STATUS = {"bplan_rechtskraeftig": 62, "bplan_in_aufstellung": 6, "fnp": 16,
                   "regionalplan": 8, "ohne": 8}
ZONING = {"GE": 40, "GI": 27, "SO": 12, "MI": 3, "keine": 18}
MARKETING_STATUS = {"verfuegbar": 78, "reserviert": 7, "verkauft": 12, "zurueckgezogen": 3}
OWNER_TYPE = {"kommunal": 41, "privat": 50, "land": 3, "bergbau_sanierer": 2, "sonstige": 4}
#: Probability that a parcel suits each user group (independently; at least one is drawn).
USER_GROUP = {"industrie_produktion": 0.50, "handwerk_gewerbe": 0.60, "logistik": 0.25,
              "wissen_technologie": 0.08, "dienstleistung": 0.12}
#: Probability that a disclosable field is released to the public.
PUBLIC_FIELD = {"price_eur_m2": 0.5, "owner_type": 0.4, "contact_name": 0.75,
                "contact_email": 0.95, "contact_phone": 0.4}

#: Log-normal gross area before clipping to the site: median 4 ha, sigma 0.9 (demo: 1.4 /
#: 4.2 / 12.5 ha at the 10th / 50th / 90th percentile).
AREA_MEDIAN_HA, AREA_SIGMA = 4.0, 0.9
#: Log-normal price, EUR/m² (median 16, as the demo's); 15 % have none.
PRICE_MEDIAN, PRICE_SIGMA, PRICE_MISSING = 16.0, 0.6, 0.15


def sql_literal(code: str) -> str:
    return "'" + code.replace("'", "''") + "'"


def _checked(vocabulary: vocab.Vocabulary, weights: Mapping[str, float]) -> None:
    unknown = [c for c in weights if c not in vocabulary]
    if unknown:
        raise SystemExit(f"bench weights name unknown {vocabulary.name} codes: {unknown}")


def pick(r: str, vocabulary: vocab.Vocabulary, weights: Mapping[str, float]) -> str:
    """SQL choosing one code of ``weights`` by the uniform draw ``r`` (in [0, 1))."""
    _checked(vocabulary, weights)
    total = sum(weights.values())
    codes = list(weights)
    bounds, acc = [], 0.0
    for code in codes[:-1]:
        acc += weights[code] / total
        bounds.append(f"{acc:.6f}")
    array = ", ".join(sql_literal(c) for c in codes)
    return (f"(ARRAY[{array}])[width_bucket({r}, ARRAY[{', '.join(bounds)}]::float8[]) + 1]")


def subset(draws: list[str], codes: Mapping[str, float]) -> str:
    """SQL ``text[]`` of the codes whose draw falls below their probability."""
    items = ", ".join(f"CASE WHEN {r} < {p} THEN {sql_literal(c)} END"
                      for r, (c, p) in zip(draws, codes.items(), strict=True))
    return f"array_remove(ARRAY[{items}]::text[], NULL)"


#: Columns copied from the staging table into ``parcels``.
COLUMNS: tuple[str, ...] = (
    "external_id", "site_id", "name", "geom_25832", "net_area_ha_given", "category",
    "availability", "available_from", "restriction_level", "restriction_causes", "user_groups",
    "planning_status", "zoning", "servicing", "marketing_status", "price_eur_m2", "owner_type",
    "owner_name", "rail_siding", "operation_24h", "max_building_height_m", "broadband_mbps",
    "grid_capacity_mw", "contact_name", "contact_email", "contact_phone", "public_fields",
    "internal_notes", "last_verified_at", "is_synthetic",
)
STAGING = "bench_new_parcels"
BATCH = 20_000


def generator_sql() -> str:
    """``SELECT`` of the synthetic parcels, numbered ``i`` (parameters ``:n`` and ``:seed``)."""
    _checked(vocab.USER_GROUP, USER_GROUP)
    unknown = [f for f in PUBLIC_FIELD if f not in DISCLOSABLE_FIELDS]
    if unknown:
        raise SystemExit(f"bench public fields are not disclosable: {unknown}")
    groups = subset([f"u[{i + 1}]" for i in range(len(USER_GROUP))], USER_GROUP)
    fallback = pick("r[31]", vocab.USER_GROUP, dict.fromkeys(USER_GROUP, 1))
    public = subset([f"pf[{i + 1}]" for i in range(len(PUBLIC_FIELD))], PUBLIC_FIELD)
    cause1 = pick("r[5]", vocab.RESTRICTION_CAUSE, RESTRICTION_CAUSE)
    cause2 = pick("r[6]", vocab.RESTRICTION_CAUSE, RESTRICTION_CAUSE)
    availability = pick("r[2]", vocab.AVAILABILITY, AVAILABILITY)
    restriction = pick("r[3]", vocab.RESTRICTION_LEVEL, RESTRICTION_LEVEL)
    # Draw columns: r (attributes), u (user groups), pf (public fields); one random() each,
    # in the fixed order of the numbered points, so a seed gives the same rows every time.
    return f"""
WITH site_area AS (
    SELECT id, geom_25832, ST_Area(geom_25832) AS area
      FROM sites WHERE geom_25832 IS NOT NULL AND withdrawn_at IS NULL
), quota AS (
    SELECT id, geom_25832, :n * area / sum(area) OVER () AS q FROM site_area
), alloc AS (
    SELECT id, geom_25832, floor(q)::int
           + CASE WHEN row_number() OVER (ORDER BY q - floor(q) DESC, id)
                       <= :n - sum(floor(q)::int) OVER () THEN 1 ELSE 0 END AS k
      FROM quota
), points AS MATERIALIZED (
    SELECT a.id AS site_id, a.geom_25832 AS site_geom, d.geom AS pt,
           row_number() OVER (ORDER BY a.id, d.path) AS i
      FROM alloc a,
           LATERAL ST_Dump(ST_GeneratePoints(a.geom_25832, a.k, (:seed * 1009 + a.id)::int)) d
     WHERE a.k > 0
), draws AS MATERIALIZED (
    SELECT p.*,
           ARRAY(SELECT random() FROM generate_series(1, 32) WHERE p.i > 0) AS r,
           ARRAY(SELECT random() FROM generate_series(1, 5) WHERE p.i > 0) AS u,
           ARRAY(SELECT random() FROM generate_series(1, 5) WHERE p.i > 0) AS pf,
           -- Box-Muller normal draws for area and price
           sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()) AS z_area,
           sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()) AS z_price
      FROM points p ORDER BY p.i
), shaped AS (
    SELECT d.*,
           sqrt({AREA_MEDIAN_HA} * 10000 * exp({AREA_SIGMA} * z_area)) AS side,
           1 + 1.5 * r[1] AS aspect,
           {availability} AS availability,
           {restriction} AS restriction_level
      FROM draws d
), geo AS (
    SELECT s.*,
           ST_Multi(ST_CollectionExtract(ST_Intersection(site_geom,
               ST_Rotate(ST_MakeEnvelope(ST_X(pt) - side * sqrt(aspect) / 2,
                                         ST_Y(pt) - side / sqrt(aspect) / 2,
                                         ST_X(pt) + side * sqrt(aspect) / 2,
                                         ST_Y(pt) + side / sqrt(aspect) / 2, 25832),
                         pi() * r[4], pt)), 3)) AS geom
      FROM shaped s
), attrs AS (
    SELECT g.*, {pick("r[7]", vocab.SERVICING, SERVICING)} AS servicing,
           coalesce(nullif({groups}, '{{}}'), ARRAY[{fallback}]) AS user_groups
      FROM geo g
)
SELECT
    i,
    'BENCH-' || lpad(i::text, 7, '0') AS external_id,
    site_id,
    'Synthetisches Baufeld ' || i AS name,
    geom AS geom_25832,
    CASE WHEN r[8] < 0.35 THEN ST_Area(geom) / 10000.0 * (0.7 + 0.25 * r[9]) END
        AS net_area_ha_given,
    {pick("r[10]", vocab.CATEGORY, CATEGORY)} AS category,
    availability,
    CASE WHEN r[11] < 0.4 THEN current_date + CASE availability
        WHEN 'sofort' THEN -(r[12] * 365)::int
        WHEN 'kurzfristig' THEN (r[12] * 730)::int
        WHEN 'mittelfristig' THEN 730 + (r[12] * 1095)::int
        WHEN 'langfristig' THEN 1826 + (r[12] * 1825)::int END END AS available_from,
    restriction_level,
    CASE WHEN restriction_level IN ('gering', 'erhoeht')
         THEN CASE WHEN r[13] < 0.3 AND {cause1} <> {cause2}
                   THEN ARRAY[{cause1}, {cause2}] ELSE ARRAY[{cause1}] END
         ELSE '{{}}'::text[] END AS restriction_causes,
    user_groups,
    {pick("r[14]", vocab.PLANNING_STATUS, PLANNING_STATUS)} AS planning_status,
    {pick("r[15]", vocab.ZONING, ZONING)} AS zoning,
    servicing,
    {pick("r[16]", vocab.MARKETING_STATUS, MARKETING_STATUS)} AS marketing_status,
    CASE WHEN r[17] >= {PRICE_MISSING}
         THEN round(({PRICE_MEDIAN} * exp({PRICE_SIGMA} * z_price))::numeric, 2) END
        AS price_eur_m2,
    {pick("r[18]", vocab.OWNER_TYPE, OWNER_TYPE)} AS owner_type,
    CASE WHEN r[19] < 0.7 THEN 'Eigentümer ' || (i % 997) END AS owner_name,
    r[20] < 0.04 AS rail_siding,
    r[21] < 0.35 AS operation_24h,
    CASE WHEN r[22] < 0.7 THEN 10 + round((r[23] * 30)::numeric, 1) END
        AS max_building_height_m,
    CASE WHEN r[24] < 0.6 THEN (ARRAY[50, 100, 250, 500, 1000])[1 + floor(r[25] * 5)::int] END
        AS broadband_mbps,
    CASE WHEN r[26] < 0.4 THEN round((0.5 + r[27] * 20)::numeric, 2) END AS grid_capacity_mw,
    'Ansprechperson ' || (site_id % 100) AS contact_name,
    'vermarktung' || (site_id % 100) || '@example.org' AS contact_email,
    CASE WHEN r[28] < 0.85 THEN '+49 341 0000-' || (site_id % 1000) END AS contact_phone,
    {public} AS public_fields,
    CASE WHEN r[29] < 0.3 THEN 'Synthetische Notiz ' || i END AS internal_notes,
    now() - make_interval(days => (r[30] * 400)::int) AS last_verified_at,
    true AS is_synthetic
FROM attrs
ORDER BY i
"""


