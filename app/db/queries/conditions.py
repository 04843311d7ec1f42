"""The ``WHERE`` conditions of a registry list (sites, land sales, enquiries) and its query.

A list selects rows of one table (aliased in its ``FROM`` clause) by id and district, leaves
withdrawn rows out unless asked for (:class:`RegistryFilter`), and narrows them further by
code lists and inclusive ranges; every value is bound, never spliced into the SQL.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from app.db.queries.keyset import ListQuery


@dataclass(frozen=True, kw_only=True)
class RegistryFilter:
    """What every registry list can be filtered by; the lists add their own fields.

    Fields combine with AND; an empty tuple does not narrow the list.
    """

    ids: tuple[int, ...] = ()
    district: tuple[str, ...] = ()
    include_withdrawn: bool = False


@dataclass
class Conditions:
    """Conditions on the rows of the table aliased ``alias``, with the values they bind."""

    alias: str
    where: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, alias: str, f: RegistryFilter,
           params: Mapping[str, Any] | None = None) -> Conditions:
        """The rows ``f.ids`` in the districts ``f.district`` (any when empty), withdrawn
        ones only if ``f.include_withdrawn``; ``params`` are values the ``FROM`` clause binds."""
        conditions = cls(alias, params=dict(params or {}))
        if f.ids:
            conditions.add(f"{alias}.id = ANY(:ids)", ids=list(f.ids))
        if not f.include_withdrawn:
            conditions.add(f"{alias}.withdrawn_at IS NULL")
        conditions.any_of({"district_ags": f.district})
        return conditions

    def add(self, sql: str, **params: Any) -> None:
        """One more condition and the values it binds."""
        self.where.append(sql)
        self.params.update(params)

    def any_of(self, columns: Mapping[str, tuple[str, ...]]) -> None:
        """Each column holds one of its values (a column without values is not narrowed);
        the values are bound under the column's name."""
        for column, values in columns.items():
            if values:
                self.add(f"{self.alias}.{column} = ANY(:{column})", **{column: list(values)})

    def within(self, column: str, low: tuple[str, Any], high: tuple[str, Any]) -> None:
        """``column`` lies in the inclusive range of the bounds given, each a pair of bind
        name and value (``None``: open)."""
        for op, (name, value) in ((">=", low), ("<=", high)):
            if value is not None:
                self.add(f"{self.alias}.{column} {op} :{name}", **{name: value})

    def query(self, from_sql: str, document_sql: str,
              params: Mapping[str, Any] | None = None) -> ListQuery:
        """The list of the rows selected, one ``document_sql`` each (``params``: its values)."""
        return ListQuery(from_sql, tuple(self.where), {**self.params, **(params or {})},
                         document_sql, f"{self.alias}.id")
