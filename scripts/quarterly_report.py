#!/usr/bin/env python3
"""The quarterly monitoring report: ``python scripts/quarterly_report.py [--quarter 2024Q3]``.

Stores the quarter's snapshot (once) and writes ``<output dir>/<YYYY>-Q<N>/`` with
``report.html``, ``report.pdf``, ``report.xlsx``, ``report.json``, charts and a map. Default
quarter: the last completed one. A progress bar on a terminal, plain log lines otherwise.

Exit codes: 0 written; 1 failed (database, rendering, disk: the previous output is left as it
was); 2 bad arguments (e.g. a quarter that has not ended).
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path

from tqdm import tqdm

from app.domain.clock import today
from app.domain.errors import InvalidInput
from app.domain.quarters import Quarter
from app.services.reports.quarterly_job import STEPS, run_quarterly
from app.settings import Settings


def _log(message: str) -> None:
    print(f"[gefis-quarterly] {datetime.now().isoformat(timespec='seconds')} {message}",
          file=sys.stderr, flush=True)


def _quarter(text: str) -> Quarter:
    try:
        return Quarter.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quarter", type=_quarter,
                        help="quarter to report, e.g. 2024Q3 (default: the last completed one)")
    parser.add_argument("--output-dir", type=Path,
                        help="where the quarter's folder goes (default: GEFIS_REPORT_DIR)")
    parser.add_argument("--framework", type=int, help="framework id (default: the default one)")
    args = parser.parse_args(argv)
    settings = Settings()
    quarter = args.quarter or Quarter.last_completed(today())
    output_dir = args.output_dir or settings.report_dir
    _log(f"quarterly report {quarter.label} -> {output_dir / quarter.folder}")
    bar = tqdm(total=len(STEPS), unit="step", file=sys.stderr) if sys.stderr.isatty() else None

    def progress(step: str) -> None:
        if bar is None:
            _log(step)
        else:
            bar.set_description(step)
            bar.update(1)

    try:
        result = run_quarterly(settings, quarter, output_dir, framework_id=args.framework,
                               progress=progress)
    except InvalidInput as exc:
        _log(f"quarterly report {quarter.label} refused: {exc}")
        return 2
    except Exception as exc:  # any failure: say what, keep the previous output
        _log(f"quarterly report {quarter.label} FAILED ({type(exc).__name__}): "
             f"{str(exc).strip().splitlines()[0] if str(exc).strip() else 'no message'}; "
             "the previous output is unchanged")
        return 1
    finally:
        if bar is not None:
            bar.close()
    _log(f"quarterly report {quarter.label} written to {result.folder} (snapshot of "
         f"{result.parcels} parcels {'stored now' if result.snapshot_created else 'as stored'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
