"""Choosing adjacent parcels that together meet an area need (pure, no I/O).

Parcels are nodes, adjacency (the service counts parcels within 30 m of each other) is the
edges. A combination must be connected, so that the parts form one contiguous plot, and
reach the minimum net area with as little surplus as possible.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

#: Groups up to this size are searched exhaustively (2**12 − 1 = 4095 subsets).
EXHAUSTIVE_MAX_PARCELS = 12

#: Areas (ha) closer than this count as equal: 0.01 m², far below survey precision, but
#: above the rounding of ``ST_Area`` on UTM coordinates and of summing floats.
AREA_TOLERANCE_HA = 1e-6

Edges = Iterable[tuple[int, int]]


def reaches(area_ha: float, need_ha: float) -> bool:
    """Whether ``area_ha`` meets ``need_ha`` (within :data:`AREA_TOLERANCE_HA`).

    >>> reaches(5.9999999999, 6.0), reaches(5.99, 6.0)
    (True, False)
    """
    return area_ha >= need_ha - AREA_TOLERANCE_HA


def _neighbours(ids: Iterable[int], edges: Edges) -> dict[int, set[int]]:
    graph: dict[int, set[int]] = {i: set() for i in ids}
    for a, b in edges:
        if a in graph and b in graph and a != b:
            graph[a].add(b)
            graph[b].add(a)
    return graph


def adjacency_groups(ids: Iterable[int], edges: Edges) -> list[tuple[int, ...]]:
    """Connected groups of ``ids`` under ``edges`` (edges to unknown ids are ignored).

    Each group sorted ascending; groups ordered by their smallest id.

    >>> adjacency_groups([1, 2, 3, 4, 5], [(1, 2), (2, 3), (5, 9)])
    [(1, 2, 3), (4,), (5,)]
    """
    graph = _neighbours(ids, edges)
    seen: set[int] = set()
    groups: list[tuple[int, ...]] = []
    for start in sorted(graph):
        if start in seen:
            continue
        stack, group = [start], {start}
        while stack:
            for nxt in graph[stack.pop()] - group:
                group.add(nxt)
                stack.append(nxt)
        seen |= group
        groups.append(tuple(sorted(group)))
    return groups


def _connected(nodes: set[int], graph: Mapping[int, set[int]]) -> bool:
    start = next(iter(nodes))
    stack, reached = [start], {start}
    while stack:
        for nxt in (graph[stack.pop()] & nodes) - reached:
            reached.add(nxt)
            stack.append(nxt)
    return reached == nodes


def _better(candidate: tuple[float, int, tuple[int, ...]],
            best: tuple[float, int, tuple[int, ...]] | None) -> bool:
    """Less surplus (ha), then fewer parcels, then smaller ids."""
    if best is None:
        return True
    if candidate[0] < best[0] - AREA_TOLERANCE_HA:
        return True
    if candidate[0] > best[0] + AREA_TOLERANCE_HA:
        return False
    return candidate[1:] < best[1:]


def _exhaustive(areas: Mapping[int, float], graph: Mapping[int, set[int]],
                min_area_ha: float) -> tuple[int, ...] | None:
    ids = sorted(areas)
    best: tuple[float, int, tuple[int, ...]] | None = None
    for mask in range(1, 1 << len(ids)):
        chosen = [ids[i] for i in range(len(ids)) if mask >> i & 1]
        total = sum(areas[i] for i in chosen)
        if not reaches(total, min_area_ha):
            continue
        key = (max(total - min_area_ha, 0.0), len(chosen), tuple(chosen))
        if _better(key, best) and _connected(set(chosen), graph):
            best = key
    return best[2] if best else None


def _greedy(areas: Mapping[int, float], graph: Mapping[int, set[int]],
            min_area_ha: float) -> tuple[int, ...] | None:
    chosen = {min(areas, key=lambda i: (-areas[i], i))}
    total = areas[next(iter(chosen))]
    while not reaches(total, min_area_ha):
        frontier = set().union(*(graph[i] for i in chosen)) - chosen
        if not frontier:
            return None
        enough = [i for i in frontier if reaches(total + areas[i], min_area_ha)]
        nxt = (min(enough, key=lambda i: (areas[i], i)) if enough
               else min(frontier, key=lambda i: (-areas[i], i)))
        chosen.add(nxt)
        total += areas[nxt]
    # Drop parts that are no longer needed (largest first), keeping the rest connected.
    for part in sorted(chosen, key=lambda i: (-areas[i], i)):
        rest = chosen - {part}
        if rest and reaches(total - areas[part], min_area_ha) and _connected(rest, graph):
            chosen, total = rest, total - areas[part]
    return tuple(sorted(chosen))


def pick_combination(
    areas: Mapping[int, float], edges: Edges, min_area_ha: float
) -> tuple[int, ...] | None:
    """A connected set of parcels whose net areas (ha) sum to at least ``min_area_ha``.

    Up to :data:`EXHAUSTIVE_MAX_PARCELS` parcels: the set with the least surplus (ties:
    fewer parcels, then smaller ids). Larger groups: greedy growth from the largest parcel
    over the adjacency graph, adding the neighbour that reaches the need with the least
    surplus, else the largest neighbour, then dropping parts no longer needed. ``None``
    if the parcels reachable that way do not reach the need.

    ``areas`` maps parcel id → net ha; ``edges`` are pairs of adjacent parcel ids.

    >>> path = [(1, 2), (2, 3)]          # 1 – 2 – 3 in a row
    >>> pick_combination({1: 4.0, 2: 3.0, 3: 5.0}, path, 7.0)
    (1, 2)
    >>> pick_combination({1: 4.0, 2: 3.0, 3: 5.0}, path, 9.0)  # 1 + 3 are not adjacent
    (1, 2, 3)
    >>> pick_combination({1: 4.0, 2: 3.0}, [], 7.0) is None
    True
    """
    if not areas:
        return None
    graph = _neighbours(areas, edges)
    if len(areas) <= EXHAUSTIVE_MAX_PARCELS:
        return _exhaustive(areas, graph, min_area_ha)
    return _greedy(areas, graph, min_area_ha)
