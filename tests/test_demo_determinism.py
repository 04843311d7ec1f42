"""The demo-data generator is deterministic and reproduces the committed ``geodata/demo/``.

The generator (``tools/demo_data``, needs the ``demo`` extra) runs as
``scripts/make_demo_geodata.py`` in a background process (about 8 s of CPU, started with the
session in a whole-suite run and collected last) into a temporary directory, with a random
hash seed. Its files must be byte-identical to the committed ones, which an earlier run
wrote: so the generator is deterministic across runs and hash seeds, and a change to the
generator or to ``geodata/study/reference_figures.json`` that changes the demo fails here
until the demo is regenerated and committed with it. A static
check keeps the service package ``app`` free of the generator and of its extra libraries.
"""

from __future__ import annotations

import ast
import importlib.util
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import demo_runs

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "geodata" / "demo"
HAND_WRITTEN = {"README.md"}  # committed next to the generated files, not generated
#: Top-level modules only the demo generator may import (the `demo` extra and tools/).
DEMO_ONLY_MODULES = {"tools"}  # (rasterio is the service's own since its raster analysis)


def _files(root: Path) -> dict[str, bytes]:
    """Every file below ``root`` by its relative path."""
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _differences(a: dict[str, bytes], b: dict[str, bytes]) -> list[str]:
    """Paths present on one side only or with different content."""
    return sorted(name for name in a.keys() | b.keys() if a.get(name) != b.get(name))


def _imported_modules(path: Path) -> set[str]:
    """Top-level names of the modules a Python file imports."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_service_package_does_not_need_the_demo_extra() -> None:
    offenders = {path.relative_to(ROOT).as_posix(): sorted(used)
                 for path in sorted((ROOT / "app").rglob("*.py"))
                 if (used := _imported_modules(path) & DEMO_ONLY_MODULES)}
    assert offenders == {}


@pytest.fixture(scope="module")
def generated() -> Iterator[dict[str, bytes]]:
    """The files of a fresh generator run (started early, see tests/demo_runs.py)."""
    if importlib.util.find_spec("rasterio") is None:
        pytest.fail("the demo generator needs the `demo` extra: pip install -e '.[dev,demo]'")
    try:
        [(directory, code, output)] = demo_runs.results()
        assert code == 0, f"generator failed:\n{output}"
        yield _files(directory)
    finally:
        demo_runs.cleanup()


@pytest.mark.slow
def test_a_fresh_run_reproduces_the_committed_demo(generated: dict[str, bytes]) -> None:
    committed = {name: data for name, data in _files(COMMITTED).items()
                 if name not in HAND_WRITTEN}
    assert generated, "the generator wrote no files"
    assert _differences(generated, committed) == [], (
        "geodata/demo/ differs from a fresh run: regenerate it with "
        "`python scripts/make_demo_geodata.py` and commit the result")
