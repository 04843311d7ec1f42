"""CQL2 → SQL (app/db/queries/cql2_sql.py) on a real PostGIS: exact examples, then every
predicate of the OGC CQL2 abstract test suite, in cql2-text and cql2-json, with its expected
number of features (tests/fixtures/cql2; three rows corrected, see ``ERRATA``).

The module builds its own scratch database (PostGIS, unaccent, the suite's three layers in
schema ``cql2_ats``, a few extra tables) and drops it at the end.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import DBAPIError

from app.db.queries.cql2_sql import (
    Queryable,
    QueryableType,
    compile_filter,
    conformance_classes,
)
from app.domain.cql2_input import parse_filter
from app.domain.errors import GefisError, InvalidInput
from tests.cql2_data import (
    ERRATA,
    LAYERS,
    expected_count,
    load_cql2_data,
    predicates,
    table_queryables,
)
from tests.session_database import create_scratch_database, drop_scratch_database

SCHEMA = "cql2_ats"
PLACES = f"{SCHEMA}.ne_110m_populated_places_simple"
COUNTRIES = f"{SCHEMA}.ne_110m_admin_0_countries"
EUROPE = f"{SCHEMA}.places_25832"

EXTRA_TABLES = f"""
CREATE TABLE {EUROPE} AS
    SELECT fid, name, ST_Transform(geom, 25832)::geometry(Point, 25832) AS geom
    FROM {PLACES} WHERE ST_X(geom) BETWEEN 0 AND 18 AND ST_Y(geom) BETWEEN 31 AND 89;
CREATE INDEX places_25832_geom ON {EUROPE} USING gist (geom);
CREATE TABLE {SCHEMA}.tagged (id integer PRIMARY KEY, tags text[], codes bigint[]);
INSERT INTO {SCHEMA}.tagged VALUES (1, '{{a,b}}', '{{1,2}}'), (2, '{{b,a,c}}', '{{2,3}}'),
    (3, '{{c}}', '{{3}}'), (4, '{{}}', '{{}}'), (5, NULL, NULL);
CREATE TABLE {SCHEMA}.words (w text COLLATE "en-x-icu");
INSERT INTO {SCHEMA}.words VALUES ('a'), ('B'), ('Z'), ('Ö'), ('ß');
"""

ARRAYS = {"tags": Queryable("tags", "t.tags", QueryableType.STRINGS),
          "codes": Queryable("codes", "t.codes", QueryableType.INTEGERS)}


@pytest.fixture(scope="module")
def cql2_db() -> Iterator[Engine]:
    url = create_scratch_database("gefis_cql2")
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS unaccent"))
        load_cql2_data(url, SCHEMA)
        load_cql2_data(url, SCHEMA)  # idempotent: replaces the tables
        with engine.begin() as conn:
            conn.execute(text(EXTRA_TABLES))
        yield engine
    finally:
        engine.dispose()
        drop_scratch_database(url)


@pytest.fixture(scope="module")
def queryables(cql2_db: Engine) -> dict[str, dict[str, Queryable]]:
    with cql2_db.connect() as conn:
        found = {layer: table_queryables(conn, SCHEMA, layer) for layer in LAYERS}
        found["places_25832"] = table_queryables(conn, SCHEMA, "places_25832")
        found["words"] = table_queryables(conn, SCHEMA, "words")
    return found


def count(engine: Engine, table: str, sql_params: tuple[str, dict[str, Any]]) -> int:
    sql, params = sql_params
    with engine.connect() as conn:
        return int(conn.execute(text(f"SELECT count(*) FROM {table} t WHERE {sql}"),
                                params).scalar_one())


def compiled(filter_text: str, queryables: dict[str, Queryable], lang: str | None = None,
             **options: Any) -> tuple[str, dict[str, Any]]:
    ast = parse_filter(filter_text, lang)
    assert ast is not None
    return compile_filter(ast, queryables, **options)


def problem(call: Any) -> tuple[str | None, str, str]:
    with pytest.raises(InvalidInput) as caught:
        call()
    found = caught.value.problems[0]
    return found.field, found.code, found.reason


# --- exact examples -------------------------------------------------------------------------


def test_literals_are_bound_never_in_the_sql(cql2_db: Engine, queryables: Any) -> None:
    evil = "'); DROP TABLE cql2_ats.ne_110m_admin_0_countries; --"
    quoted = evil.replace("'", "''")
    for form in (f"NAME = '{quoted}'", f"NAME LIKE '{quoted}%'", f"NAME IN ('{quoted}', 'x')",
                 f"CASEI(NAME) = casei('{quoted}')", f"'{quoted}' = NAME"):
        sql, params = compiled(form, queryables["ne_110m_admin_0_countries"])
        assert "DROP" not in sql and "--" not in sql
        assert any(isinstance(v, str) and evil in v for v in params.values())
        assert count(cql2_db, COUNTRIES, (sql, params)) == 0
    assert count(cql2_db, COUNTRIES, ("TRUE", {})) == 177
    sql, params = compiled("pop_other > 1038288 AND start > TIMESTAMP('2022-01-01T00:00:00Z')",
                           queryables["ne_110m_populated_places_simple"], prefix="f2")
    assert "1038288" not in sql and "2022" not in sql and set(params) == {"f2_1", "f2_2"}


def test_strings_compare_in_code_point_order(cql2_db: Engine, queryables: Any) -> None:
    words = queryables["words"]  # a column collated en-x-icu: its own order would differ
    found = {w for w in ("a", "B", "Z", "Ö", "ß")
             if count(cql2_db, f"{SCHEMA}.words", compiled(f"w = '{w}' AND w > 'Z'", words))}
    assert found == {"a", "Ö", "ß"}
    assert count(cql2_db, f"{SCHEMA}.words", compiled("w BETWEEN 'B' AND 'a'", words)) == 3
    assert count(cql2_db, PLACES, compiled("'a' > 'B'", queryables[
        "ne_110m_populated_places_simple"])) == 243
    assert count(cql2_db, f"{SCHEMA}.words", compiled("CASEI(w) = casei('ö')", words)) == 1


def test_unknown_property_lists_the_queryables(queryables: Any) -> None:
    field, code, reason = problem(lambda: compiled("nmae = 'x'", queryables["words"]))
    assert (field, code) == ("filter", "unknown_property")
    assert reason == "unknown property 'nmae'; queryable: w"
    names = queryables["ne_110m_admin_0_countries"]
    assert problem(lambda: compiled("name = 'x'", names))[1] == "unknown_property"  # NAME


def test_antimeridian_bbox_is_split(cql2_db: Engine, queryables: Any) -> None:
    sql, params = compiled("S_INTERSECTS(geom, BBOX(150,-90,-150,90))",
                           queryables["ne_110m_admin_0_countries"])
    (geojson,) = params.values()
    shape = json.loads(geojson)
    assert shape["type"] == "MultiPolygon"
    assert sorted((min(x for x, _ in p[0]), max(x for x, _ in p[0]))
                  for p in shape["coordinates"]) == [(-180, -150), (150, 180)]
    assert count(cql2_db, COUNTRIES, (sql, params)) == 10


def test_swapped_axes(cql2_db: Engine, queryables: Any) -> None:
    countries = queryables["ne_110m_admin_0_countries"]
    lat_lon = compiled("S_INTERSECTS(geom, POINT(49.92 7.02))", countries, swap_axes=True)
    assert count(cql2_db, COUNTRIES, lat_lon) == 1
    box = compiled("S_INTERSECTS(geom, BBOX(40,0,50,10))", countries, swap_axes=True)
    assert count(cql2_db, COUNTRIES, box) == 8
    field, code, _ = problem(lambda: compiled("S_INTERSECTS(geom, POINT(7.02 95))", countries))
    assert (field, code) == ("filter", "cql2_geometry")


def test_literals_are_transformed_not_the_column(cql2_db: Engine, queryables: Any) -> None:
    europe = queryables["places_25832"]
    assert europe["geom"].srid == 25832
    total = count(cql2_db, EUROPE, ("TRUE", {}))
    sql, params = compiled("S_INTERSECTS(geom, BBOX(0,40,10,50))", europe)
    assert sql.startswith('ST_Intersects((t."geom"), ST_Transform(') and sql.endswith(", 25832))")
    assert count(cql2_db, EUROPE, (sql, params)) == 7
    with cql2_db.connect() as conn:
        conn.execute(text("SET enable_seqscan = off"))
        plan = "\n".join(conn.execute(text(f"EXPLAIN SELECT fid FROM {EUROPE} t WHERE {sql}"),
                                      params).scalars())
    assert "places_25832_geom" in plan
    world = compiled("S_INTERSECTS(geom, BBOX(-180,-90,180,90))", europe)  # cut, not collapsed
    assert count(cql2_db, EUROPE, world) == total
    assert count(cql2_db, EUROPE, compiled("S_WITHIN(geom, BBOX(-180,-90,180,90))", europe)) \
        == total
    assert problem(lambda: compiled("S_TOUCHES(geom, BBOX(-180,-90,180,90))", europe))[1] \
        == "cql2_geometry"
    # Berlin (13.3995 52.5237) given in EPSG:25833 (easting, northing)
    berlin = compiled("S_INTERSECTS(geom, BBOX(389000,5819000,393000,5823000))", europe,
                      filter_srid=25833)
    with cql2_db.connect() as conn:
        names = conn.execute(text(f"SELECT name FROM {EUROPE} t WHERE {berlin[0]}"),
                             berlin[1]).scalars().all()
    assert names == ["Berlin"]
    far = lambda: compiled("S_INTERSECTS(geom, POINT(100000000 0))",  # noqa: E731
                           queryables["ne_110m_admin_0_countries"], filter_srid=25833)
    assert problem(far)[1] == "cql2_geometry"


def test_dates_timestamps_and_intervals(cql2_db: Engine, queryables: Any) -> None:
    places = queryables["ne_110m_populated_places_simple"]

    def n(filter_text: str) -> int:
        return count(cql2_db, PLACES, compiled(filter_text, places))

    assert n("\"date\" = TIMESTAMP('2022-04-16T00:00:00Z')") == 1  # a date: its UTC midnight
    assert n("\"date\" = '2022-04-16'") == 1  # a string compared with a date is read as one
    assert n("T_INTERSECTS(\"date\", TIMESTAMP('2022-04-16T23:59:59Z'))") == 1  # the whole day
    assert n("T_INTERSECTS(\"date\", TIMESTAMP('2022-04-17T00:00:00Z'))") == 0
    assert n("start = TIMESTAMP('2022-04-16T12:13:19+02:00')") == 1  # zone honoured
    assert n("T_DURING(INTERVAL(start, \"end\"), INTERVAL('2020-01-01', '..'))") == 3
    assert n("T_INTERSECTS(INTERVAL('..', '..'), start)") == 3  # NULL start: no match
    assert n("NOT T_INTERSECTS(INTERVAL('..', '..'), start)") == 0
    assert problem(lambda: n("T_DURING(start, INTERVAL('2020-01-01', '..'))"))[1] == "cql2_type"
    assert problem(lambda: n("T_AFTER(start, INTERVAL('2022-02-01', '2022-01-01'))"))[1] \
        == "cql2_temporal"
    assert problem(lambda: n("\"date\" = DATE('2022-02-30')"))[1] == "cql2_temporal"


def test_like_wildcards_and_escapes(cql2_db: Engine, queryables: Any) -> None:
    places = queryables["ne_110m_populated_places_simple"]

    def matches(value: str, pattern: str) -> bool:
        return count(cql2_db, PLACES, compiled(f"'{value}' LIKE '{pattern}'", places)) == 243

    assert matches("a_b", "a\\_b") and not matches("axb", "a\\_b")
    assert matches("100%", "100\\%") and not matches("1000", "100\\%")
    assert matches("a\\b", "a\\\\b") and matches("København", "K_benhavn")
    assert problem(lambda: compiled("name LIKE 'x\\'", places))[1] == "cql2_invalid"


def test_type_mismatches_are_input_errors(queryables: Any) -> None:
    places = queryables["ne_110m_populated_places_simple"]
    cases = {
        "S_INTERSECTS(name, POINT(0 0))": "cql2_type", "pop_other LIKE 'x%'": "cql2_type",
        "name > 5": "cql2_type", "CASEI(pop_other) = 'x'": "cql2_type",
        "T_AFTER(name, DATE('2020-01-01'))": "cql2_type", "pop_other + name > 1": "cql2_type",
        "A_CONTAINS(name, ('a'))": "cql2_type", "geom = name": "cql2_type",
        "boolean = 'yes'": "cql2_type", "name": "cql2_type", "'x' = 1": "cql2_type",
        "foo(name) = 1": "cql2_unsupported", "pop_other = 1e400": "cql2_invalid",
        "S_INTERSECTS(geom, POLYGON((0 0, 1 1, 1 0, 0 1, 0 0)))": "cql2_geometry",
        "S_INTERSECTS(geom, BBOX(0, 10, 1, 5))": "cql2_geometry",
        "S_INTERSECTS(geom, ENVELOPE(0, 1, 2, 3))": "cql2_unsupported",
    }
    for bad, code in cases.items():
        assert problem(lambda bad=bad: compiled(bad, places))[:2] == ("filter", code), bad


def test_arithmetic_never_fails_in_the_database(cql2_db: Engine, queryables: Any) -> None:
    places = queryables["ne_110m_populated_places_simple"]
    for safe in ("pop_other / 0 > 1", "pop_other div 0 > 1", "pop_other % 0 > 1",
                 "0 ^ (0 - 1) > 1", "(0 - 8) ^ 0.5 > 1"):
        assert count(cql2_db, PLACES, compiled(safe, places)) == 0, safe
    assert count(cql2_db, PLACES, compiled("pop_min / pop_max < 1", places)) == 216  # exact
    assert count(cql2_db, PLACES, compiled("7 div 2 = 3 AND 2 ^ 10 = 1024", places)) == 243


def test_array_functions_compare_sets(cql2_db: Engine) -> None:
    def ids(filter_text: str) -> set[int]:
        sql, params = compiled(filter_text, ARRAYS)
        with cql2_db.connect() as conn:
            return set(conn.execute(text(f"SELECT id FROM {SCHEMA}.tagged t WHERE {sql}"),
                                    params).scalars())

    assert ids("A_EQUALS(tags, ('b', 'a'))") == {1}
    assert ids("A_CONTAINS(tags, ('a', 'b'))") == {1, 2}
    assert ids("A_CONTAINEDBY(tags, ('a', 'b', 'c'))") == {1, 2, 3, 4}
    assert ids("A_OVERLAPS(tags, ('c', 'x'))") == {2, 3}
    assert ids("NOT A_OVERLAPS(tags, ('c', 'x'))") == {1, 4}
    assert ids("A_CONTAINS(codes, (2))") == {1, 2}
    assert ids("A_CONTAINEDBY(codes, (1, 2, 3)) AND NOT A_EQUALS(codes, (3))") == {1, 2, 4}
    assert ids("A_OVERLAPS(('a', 'z'), tags)") == {1, 2}
    assert ids("A_CONTAINS((1, 2), (2))") == {1, 2, 3, 4, 5}
    assert problem(lambda: ids("A_CONTAINS(codes, ('a'))"))[1] == "cql2_type"
    assert problem(lambda: ids("A_CONTAINS(codes, (1.5))"))[1] == "cql2_type"


def test_hidden_queryable_and_boolean_filters(cql2_db: Engine) -> None:
    hidden = {"secret": Queryable("secret", "NULL", QueryableType.STRING),
              "when": Queryable("when", "NULL", QueryableType.DATETIME)}
    for form in ("secret = 'x'", "CASEI(secret) LIKE 'x%'", "secret IS NULL",
                 "T_AFTER(when, DATE('2020-01-01'))", "TRUE", "FALSE"):
        expected = 243 if form in ("secret IS NULL", "TRUE") else 0
        assert count(cql2_db, PLACES, compiled(form, hidden)) == expected, form


def test_parse_filter_languages_and_limits() -> None:
    assert parse_filter("a = 1", "CQL-TEXT") == parse_filter("a = 1", None) \
        == parse_filter('{"op": "=", "args": [{"property": "a"}, 1]}', "cql2-json")
    assert problem(lambda: parse_filter("a = 1", "cql2-xml"))[:2] \
        == ("filter-lang", "unsupported_filter_lang")
    for bad, code in ((" ", "empty"), ("a = " + "1" * 20_000, "too_long"),
                      ("(" * 2000 + "a = 1" + ")" * 2000, "too_deep"),
                      ("NOT " * 3000 + "a = 1", "too_deep"), ("a = -" + "-" * 60 + "1", "too_deep"),
                      ("a = 1" + " + 1" * 60, "too_deep"), ("a == 1", "cql2_syntax"),
                      # the parser's time on a malformed filter doubles with each grouping level
                      ("(" * 8 + "a IN (" + "1," * 1000 + ")" + ")" * 8, "too_deep"),
                      ("S_INTERSECTS(g, POINT EMPTY)", "cql2_syntax")):
        assert problem(lambda bad=bad: parse_filter(bad, "cql2-text"))[:2] \
            == ("filter", code), bad
    deep = '{"op": "not", "args": [' * 400 + "true" + "]}" * 400
    assert problem(lambda: parse_filter(deep, "cql2-json"))[1] == "too_deep"
    assert problem(lambda: parse_filter("{nope", "cql2-json"))[1] == "cql2_syntax"
    assert "expected" in problem(lambda: parse_filter("a = ", None))[2]  # the parser's words
    assert parse_filter("(" * 6 + "a IN (" + "1," * 300 + "2)" + ")" * 6, None) is not None


# --- the abstract test suite ----------------------------------------------------------------


def test_abstract_test_suite(cql2_db: Engine, queryables: Any,
                             capsys: pytest.CaptureFixture[str]) -> None:
    """Every suite row, as cql2-text and as cql2-json, selects its expected number of
    features; the tally per class is printed; every declared class passes completely."""
    tally: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    failures: list[tuple[str, str, str, object, int]] = []
    rows = predicates()
    assert {r["cql2_text"]: r["expected_count"] for r in rows if r["cql2_text"] in ERRATA} \
        == {k: v[0] for k, v in ERRATA.items()}
    with cql2_db.connect() as conn:
        for row in rows:
            expected = expected_count(row)
            for lang, source in (("cql2-text", row["cql2_text"]),
                                 ("cql2-json", json.dumps(row["cql2_json"]))):
                try:
                    sql, params = compiled(source, queryables[row["collection"]], lang)
                    with conn.begin():
                        found: object = conn.execute(text(
                            f'SELECT count(*) FROM {SCHEMA}."{row["collection"]}" t '
                            f"WHERE {sql}"), params).scalar_one()
                except (GefisError, DBAPIError) as exc:
                    found = f"{type(exc).__name__}: {exc}"
                ok = found == expected
                for cls in (row["conformance_class"], lang):
                    tally[cls][0] += ok
                    tally[cls][1] += 1
                if not ok:
                    failures.append((row["conformance_class"], lang, source, found, expected))
    declared = {uri.rsplit("/", 1)[1] for uri in conformance_classes()}
    with capsys.disabled():
        print("\nCQL2 abstract test suite (SQL level), passed/total per class "
              "(each row as cql2-text and as cql2-json):")
        for cls, (passed, total) in sorted(tally.items()):
            mark = "declared" if cls in declared else "not declared"
            print(f"  {cls:32} {passed:4}/{total:<4} {mark}")
        print(f"  ({len(ERRATA)} rows with corrected counts, see tests/cql2_data.ERRATA)")
        for failure in failures:
            print("  FAILED", failure)
    assert not [f for f in failures if f[0] in declared or f[1] in declared]
    assert {"basic-spatial-functions", "basic-spatial-operators"} <= declared
