"""Regenerate the synthetic GEFIS-MD demo data set (deterministic).

Usage: ``python scripts/make_demo_geodata.py [--out geodata/demo]``

Writes sites, parcels, land sales, infrastructure, the 2038 demand framework, the slope
and flood rasters and ``calibration_report.json``; prints the calibration table and exits
with status 1 if a required figure misses its tolerance or a geometric rule is broken.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

# One BLAS thread: linear-algebra results then do not depend on the machine's core count.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tools.demo_data.generate import Result, generate  # noqa: E402


def print_table(result: Result) -> None:
    """Print target vs achieved for every calibrated figure."""
    print(f"{'figure':<62} {'target':>9} {'achieved':>10} {'diff':>8}  status")
    for e in result.entries:
        status = "ok" if e.met else ("MISS" if e.required else "miss (optional)")
        bound = "<=" if e.upper_bound else ""
        print(f"{e.key:<62} {bound:>2}{e.target:>7.1f} {e.achieved:>10.2f} "
              f"{e.difference:>8.2f}  {status}")
    for k, v in result.counts.items():
        print(f"{k}: {v}")
    for problem in result.problems:
        print(f"PROBLEM: {problem}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "geodata" / "demo",
                        help="output directory (default: geodata/demo)")
    parser.add_argument("--boundaries", type=Path, default=ROOT / "geodata" / "boundaries",
                        help="directory with the VG250 boundary GeoJSON files")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    result = generate(args.out, args.boundaries)
    print_table(result)
    required = [e for e in result.entries if e.required]
    optional = [e for e in result.entries if not e.required]
    print(f"required figures met: {sum(e.met for e in required)}/{len(required)}; "
          f"optional: {sum(e.met for e in optional)}/{len(optional)}; "
          f"rule violations: {len(result.problems)}; "
          f"runtime {time.perf_counter() - started:.1f} s")
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
