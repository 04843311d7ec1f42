"""What differs between a parcel import and a land-sale import: how the staged rows are
checked and planned, what is written, and which rows the report lists.

Both run in the import's transaction, after :func:`app.services.imports.staging.stage`;
:mod:`app.services.imports.service` calls :meth:`ImportKind.validate`, then (for an
accepted file that is no dry run) :meth:`ImportKind.write`, then :meth:`ImportKind.report`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import Connection, text

from app.db.queries import import_parcels, import_sales
from app.db.queries.import_geometry import IntakeRules, intake
from app.db.queries.import_staging import PROBLEMS, cell_problems, type_rows
from app.db.queries.parcels import import_plan
from app.domain.import_columns import SPECS
from app.domain.roles import Principal, Role
from app.services.geometry_input import OUTSIDE_TOLERANCE
from app.services.imports.crs import crs_box
from app.services.imports.staging import StagedFile
from app.services.raster import fill_raster_columns
from app.settings import Settings

#: Row numbers with a problem that rejects them (SQL).
REJECTED_ROWS = (f"SELECT row_no FROM {PROBLEMS} WHERE severity = 'error' "
                 "AND row_no IS NOT NULL")


@dataclass(frozen=True)
class KindRequest:
    """The parts of the caller's request an import kind needs."""

    repair_geometry: bool
    complete: bool
    withdraw_missing: bool
    dry_run: bool


@dataclass
class Report:
    """Rows for the stored report: SQL yielding (row_no, external_id, district_ags, action,
    parcel_id, land_sale_id, changed_fields), and its parameters."""

    sql: str
    params: dict[str, Any] = field(default_factory=dict)


class ImportKind(Protocol):
    """One kind of import (see the module docstring)."""

    plan_table: str

    def validate(self, conn: Connection, staged: StagedFile, request: KindRequest,
                 principal: Principal, settings: Settings) -> None: ...

    def write(self, conn: Connection, import_id: int, staged: StagedFile,
              counts: dict[str, int]) -> None: ...

    def report(self, conn: Connection, request: KindRequest, rejected: bool,
               counts: dict[str, int]) -> Report: ...


def _districts(principal: Principal) -> frozenset[str] | None:
    return None if principal.role >= Role.ADMIN else principal.districts


def _intake(conn: Connection, staged: StagedFile, request: KindRequest, settings: Settings,
            **rules: Any) -> None:
    srid = staged.srid or 4326
    type_rows(conn, SPECS[staged.kind].columns, staged.srid)
    cell_problems(conn, staged.present)
    intake(conn, IntakeRules(
        srid=srid, crs_box=crs_box(srid), repair=request.repair_geometry,
        min_area_m2=settings.geometry_min_area_m2,
        max_vertices=settings.geometry_max_vertices, max_outside_share=OUTSIDE_TOLERANCE,
        **rules))


def _rows_sql(table: str, parcel: str, sale: str, extra: str = "") -> str:
    return f"""
        SELECT * FROM (
            SELECT t.row_no, t.t_external_id, x.district_ags,
                   CASE WHEN x.row_no IS NULL THEN 'rejected' ELSE x.action END,
                   {parcel}, {sale}, x.changed_fields
              FROM import_typed t LEFT JOIN {table} x USING (row_no)
            {extra}
        ) r ORDER BY 1 NULLS LAST, 2"""


class ParcelImport:
    """Parcels: upsert by (district, ``external_id``), sites by name, missing parcels."""

    plan_table = import_plan.PLAN

    def __init__(self) -> None:
        self.columns: list[import_plan.ParcelColumn] = []

    def validate(self, conn: Connection, staged: StagedFile, request: KindRequest,
                 principal: Principal, settings: Settings) -> None:
        _intake(conn, staged, request, settings)
        self.columns = import_plan.parcel_columns(conn, staged.present)
        import_parcels.plan(conn, self.columns, districts=_districts(principal))
        import_parcels.decide(conn, self.columns, REJECTED_ROWS)

    def write(self, conn: Connection, import_id: int, staged: StagedFile,
              counts: dict[str, int]) -> None:
        del import_id, staged
        import_parcels.derive(conn)
        fill_raster_columns(conn, self.plan_table, "row_no",
                            ids=import_parcels.reshaped_rows(conn))
        counts["sites_created"] = import_parcels.create_sites(conn)
        import_plan.write(conn, self.columns)

    def report(self, conn: Connection, request: KindRequest, rejected: bool,
               counts: dict[str, int]) -> Report:
        missing: list[Any] = []
        withdraw = request.withdraw_missing and not request.dry_run
        if request.complete and not rejected:
            missing = import_plan.missing(conn, withdraw)
            counts["withdrawn" if withdraw else "missing"] = len(missing)
        extra = f"""
            UNION ALL
            SELECT NULL, m.external_id, m.district_ags,
                   '{"withdrawn" if withdraw else "missing"}', m.id, CAST(NULL AS bigint),
                   CAST(NULL AS text[])
              FROM unnest(CAST(:m_ids AS bigint[]), CAST(:m_keys AS text[]),
                          CAST(:m_districts AS text[])) AS m(id, external_id, district_ags)"""
        return Report(_rows_sql(self.plan_table, "x.parcel_id", "CAST(NULL AS bigint)", extra),
                      {"m_ids": [r.id for r in missing],
                       "m_keys": [r.external_id for r in missing],
                       "m_districts": [r.district_ags for r in missing]})


class SaleImport:
    """Land sales: upsert by ``external_id``, linked to the parcel they lie in."""

    plan_table = import_sales.SALES

    def validate(self, conn: Connection, staged: StagedFile, request: KindRequest,
                 principal: Principal, settings: Settings) -> None:
        _intake(conn, staged, request, settings, required=False,
                allowed_types=("POINT", "POLYGON", "MULTIPOLYGON"))
        import_sales.plan(conn, districts=_districts(principal))
        import_sales.decide(conn, REJECTED_ROWS, {c.name for c in staged.present})

    def write(self, conn: Connection, import_id: int, staged: StagedFile,
              counts: dict[str, int]) -> None:
        written = import_sales.write(conn, import_id, {c.name for c in staged.present})
        counts["parcels_sold"] = written["parcels_sold"]

    def report(self, conn: Connection, request: KindRequest, rejected: bool,
               counts: dict[str, int]) -> Report:
        del request, rejected
        counts["sales_linked"] = import_sales.linked(conn)
        return Report(_rows_sql(self.plan_table, "x.parcel_id", "x.sale_id"))


def import_kind(kind: str) -> ImportKind:
    """The steps of an import of ``kind`` (``parcels`` or ``land_sales``)."""
    return ParcelImport() if kind == "parcels" else SaleImport()


def action_counts(conn: Connection, plan_table: str) -> dict[str, int]:
    """Rows per action, and the problems (errors) and notes found."""
    counts = {r.action: r.n for r in conn.execute(text(
        "SELECT CASE WHEN x.row_no IS NULL THEN 'rejected' ELSE x.action END AS action, "
        f"count(*) AS n FROM import_typed t LEFT JOIN {plan_table} x USING (row_no) "
        "GROUP BY 1"))}
    problems = conn.execute(text(
        "SELECT count(*) FILTER (WHERE severity = 'error') AS errors, "
        f"count(*) FILTER (WHERE severity = 'note') AS notes FROM {PROBLEMS}")).one()
    return {"created": 0, "updated": 0, "unchanged": 0, "rejected": 0, **counts,
            "problems": problems.errors, "notes": problems.notes}
