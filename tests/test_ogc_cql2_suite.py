"""The OGC CQL2 abstract test suite over HTTP, on collections published by configuration.

The standard's test data (Natural Earth layers, ``tests/fixtures/cql2``) is loaded with
``ogr2ogr`` into the session's database and published through ``GEFIS_COLLECTIONS_FILE``,
the mechanism users have for their own reference layers. Every predicate of every CQL2 class
the service declares in ``/conformance`` is sent as ``cql2-text`` and as ``cql2-json`` to
``/collections/{collection}/items``; the number of features must equal the suite's expected
count (three published counts of accent-insensitive LIKE rows are wrong for the suite's own
data, see ``tests/cql2_data.py``: ERRATA). The tally per class is printed.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from app.main import create_app
from app.settings import Settings
from tests.cql2_data import (
    CQL2_FIXTURES,
    LAYER_ROWS,
    expected_count,
    load_cql2_data,
    predicates,
)
from tests.server import in_process

CQL2 = "http://www.opengis.net/spec/cql2/1.0/conf/"
#: Classes whose rows the suite files under another name.
ALIASES = {"basic-spatial-operators": "basic-spatial-functions"}


@pytest.fixture(scope="module")
def suite_client(settings: Settings, database_url: str, tmp_path_factory: pytest.TempPathFactory
                 ) -> Iterator[httpx.Client]:
    load_cql2_data(database_url, "cql2_ats")
    config = tmp_path_factory.mktemp("collections") / "collections.toml"
    config.write_text("".join(
        f'[[collections]]\nid = "{layer}"\ntable = "cql2_ats.{layer}"\ntitle = "{layer}"\n'
        f'id_column = "fid"\ngeometry_column = "geom"\n\n' for layer in LAYER_ROWS), "utf-8")
    app = create_app(settings.model_copy(update={"collections_file": config}))
    with in_process(app) as client:
        yield client


def _declared(client: httpx.Client) -> set[str]:
    classes = client.get("/conformance").json()["conformsTo"]
    return {ALIASES.get(c.removeprefix(CQL2), c.removeprefix(CQL2))
            for c in classes if c.startswith(CQL2)}


def _count(client: httpx.Client, collection: str, expression: str, lang: str) -> int | str:
    response = client.get(f"/collections/{collection}/items",
                          params={"filter": expression, "filter-lang": lang, "limit": 1000})
    if response.status_code != 200:
        return f"{response.status_code}: {response.text[:200]}"
    body = response.json()
    assert body["numberMatched"] == len(body["features"]) == body["numberReturned"]
    return len(body["features"])


def test_configured_collections_publish_the_suites_queryables(suite_client: httpx.Client
                                                              ) -> None:
    listed = [c["id"] for c in suite_client.get("/collections").json()["collections"]]
    assert set(LAYER_ROWS) <= set(listed)
    for layer, rows in LAYER_ROWS.items():
        ours = suite_client.get(f"/collections/{layer}/queryables").json()["properties"]
        theirs = json.loads((CQL2_FIXTURES / "data" / f"{layer}.json").read_text("utf-8"))
        for name, schema in theirs["properties"].items():
            assert name in ours, (layer, name)
            if "type" in schema:
                assert ours[name]["type"] == schema["type"], (layer, name)
            else:
                assert ours[name]["$ref"].startswith("https://geojson.org/schema/")
        everything = suite_client.get(f"/collections/{layer}/items", params={"limit": 1000})
        assert everything.json()["numberMatched"] == rows


def test_every_declared_class_passes_the_abstract_test_suite(
        suite_client: httpx.Client, capsys: pytest.CaptureFixture[str]) -> None:
    declared = _declared(suite_client)
    assert {"basic-cql2", "advanced-comparison-operators", "basic-spatial-functions"} <= declared
    rows = [r for r in predicates() if r["conformance_class"] in declared]
    assert len(rows) >= 147
    passed: Counter[str] = Counter()
    total: Counter[str] = Counter()
    failures: list[Any] = []
    for row in rows:
        for lang, expression in (("cql2-text", row["cql2_text"]),
                                 ("cql2-json", json.dumps(row["cql2_json"]))):
            total[row["conformance_class"]] += 1
            got = _count(suite_client, row["collection"], expression, lang)
            if got == expected_count(row):
                passed[row["conformance_class"]] += 1
            else:
                failures.append((row["conformance_class"], lang, row["cql2_text"],
                                 expected_count(row), got))
    with capsys.disabled():
        print("\nCQL2 abstract test suite over HTTP (text and JSON), passed/total per class:")
        for name in sorted(total):
            print(f"  {name:36} {passed[name]:4}/{total[name]}")
    assert not failures, failures[:10]
    assert sum(total.values()) == 2 * len(rows)


def test_classes_not_declared_are_not_claimed(suite_client: httpx.Client) -> None:
    declared = _declared(suite_client)
    in_suite = {r["conformance_class"] for r in predicates()}
    assert declared <= in_suite | {"cql2-text", "cql2-json", "array-functions",
                                   "functions"}, declared
