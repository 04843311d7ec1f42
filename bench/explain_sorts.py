"""EXPLAIN ANALYZE of one page per sortable parcel field, as the service would send it.

Usage: ``python bench/explain_sorts.py postgresql://gefis@127.0.0.1:54329/gefis_bench``.
Prints, per sort order and viewer, the execution time of a default page (50 parcels as
GeoJSON, the whole response document) and the index scans the plan uses
(the evidence that every sortable field is served by an index; see BENCHMARKS.md).
"""

from __future__ import annotations

import re
import sys
from datetime import date

from sqlalchemy import create_engine, text

from app.db.queries.keyset import Envelope, page_statement
from app.db.queries.parcels import parcel_query, sort_key
from app.domain.filters import SEARCH_DEFAULT_MARKETING_STATUS, ParcelFilter, SortSpec
from app.domain.parcel_fields import SORTABLE_FIELDS
from app.domain.roles import PUBLIC_VIEWER, STAFF


def main(url: str) -> None:
    engine = create_engine(url)
    envelope = Envelope("features", "s", "n", "p", "application/geo+json",
                        feature_collection=True)
    search = ParcelFilter(marketing_status=SEARCH_DEFAULT_MARKETING_STATUS,
                          active_sites_only=True)
    print("| sort | viewer | page ms | index scans |\n|---|---|---:|---|")
    with engine.connect() as conn:
        conn.exec_driver_sql("SET jit = off")
        for name in SORTABLE_FIELDS:
            for sign in ("", "-"):
                for label, viewer in (("public", PUBLIC_VIEWER), ("staff", STAFF)):
                    sort = SortSpec.parse(sign + name)
                    query = parcel_query(search, viewer, reference=date.today(), srid=4326,
                                         as_feature=True)
                    sql, params = page_statement(query, sort_key(sort, viewer), limit=50,
                                                 cursor=None, envelope=envelope)
                    conn.execute(text(sql), params)  # warm the cache and PROJ
                    plan = "\n".join(r[0] for r in conn.execute(
                        text("EXPLAIN (ANALYZE, COSTS OFF) " + sql), params))
                    ms = float(re.search(r"Execution Time: ([0-9.]+)", plan).group(1))
                    scans = sorted(set(re.findall(r"Index Scan(?: Backward)? using (\w+)",
                                                  plan)))
                    print(f"| {sort} | {label} | {ms:.1f} | {', '.join(scans)} |")


if __name__ == "__main__":
    main(sys.argv[1])
