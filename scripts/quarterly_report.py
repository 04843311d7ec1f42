#!/usr/bin/env python3
"""Quarterly supply-demand report (placeholder).

The real report comes with the issue "Supply–demand balance ..."; until then this
script only says so and exits with status 2, so the scheduler logs a clear error.
"""

import sys


def main() -> int:
    print(
        "quarterly report not implemented yet (issue: Supply–demand balance ...)",
        file=sys.stderr,
    )
    return 2


if __name__ == "__main__":
    sys.exit(main())
