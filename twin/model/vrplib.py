"""CVRPLIB / TSPLIB files: read ``.vrp`` instances and ``.sol`` solutions, and cost routes the
CVRPLIB way (pure; no solver here).

Supported: ``TYPE: CVRP``, ``EDGE_WEIGHT_TYPE: EUC_2D``, ``CAPACITY``, ``NODE_COORD_SECTION``,
``DEMAND_SECTION``, ``DEPOT_SECTION`` (one depot, the list ends with ``-1``), ``EOF``; header lines
are ``KEY : value`` with any spaces or tabs, and CRLF line endings are fine.

Distance convention (it matters): each edge costs its Euclidean length rounded to the nearest
integer, TSPLIB's ``nint(d) = floor(d + 0.5)``; a route costs the sum of its edges. Truncating with
``int()`` instead gives costs *below* the proven optima, and unrounded floats give costs above.

Nodes are numbered from 1 in the file and from 0 here (node ``k`` of the file is index ``k - 1``).
A ``.sol`` file numbers customers 1..n-1 with the depot as 0, which is the same 0-based index when
the depot is node 1 of the ``.vrp`` file (as in every CVRPLIB instance).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from twin.errors import TwinError

__all__ = [
    "VrpFormatError",
    "CvrpInstance",
    "CvrpSolution",
    "parse_vrp",
    "parse_sol",
    "nint_distance_matrix",
    "routes_cost",
    "check_routes",
    "lower_bound_vehicles",
]


class VrpFormatError(TwinError, ValueError):
    """A ``.vrp`` or ``.sol`` file that cannot be read; the message names the file and line."""


@dataclass(frozen=True)
class CvrpInstance:
    name: str
    capacity: int
    coords: np.ndarray  # (n, 2)
    demands: np.ndarray  # (n,) integers; the depot's is 0
    depot: int  # 0-based index
    comment: str = ""

    @property
    def dimension(self) -> int:
        return len(self.demands)

    @property
    def customers(self) -> list[int]:
        return [k for k in range(self.dimension) if k != self.depot]

    def distance_matrix(self) -> np.ndarray:
        """Integer distances under the CVRPLIB convention (nint of each Euclidean edge)."""
        return nint_distance_matrix(self.coords)


@dataclass(frozen=True)
class CvrpSolution:
    routes: list[list[int]]  # 0-based node indices, depot not listed
    cost: int | None


def nint_distance_matrix(coords: np.ndarray) -> np.ndarray:
    """TSPLIB EUC_2D: ``floor(sqrt(dx^2 + dy^2) + 0.5)`` for every pair, as int64."""
    c = np.asarray(coords, dtype=float)
    d = np.sqrt(((c[:, None, :] - c[None, :, :]) ** 2).sum(axis=2))
    return np.floor(d + 0.5).astype(np.int64)


def _number(text: str, file: str, line: int, what: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise VrpFormatError(f"{file}:{line}: {what}: expected a number, got {text!r}") from None


def parse_vrp(text: str, name: str = "<vrp>") -> CvrpInstance:
    """Read a CVRPLIB instance. ``name`` is shown in error messages (usually the file name)."""
    header: dict[str, str] = {}
    coords: dict[int, tuple[float, float]] = {}
    demands: dict[int, int] = {}
    depots: list[int] = []
    section: str | None = None
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        key = line.split(":", 1)[0].strip().upper() if ":" in line else line.split()[0].upper()
        if key == "EOF":
            break
        if key.endswith("_SECTION"):
            section = key
            if section not in ("NODE_COORD_SECTION", "DEMAND_SECTION", "DEPOT_SECTION"):
                raise VrpFormatError(f"{name}:{lineno}: unsupported section {section} (this reader knows "
                                     "NODE_COORD_SECTION, DEMAND_SECTION and DEPOT_SECTION)")
            continue
        if ":" in line:  # a header line (data lines are numbers only)
            k, _, v = line.partition(":")
            header[k.strip().upper()] = v.strip().strip('"').strip()
            section = None
            continue
        parts = line.split()
        if section == "NODE_COORD_SECTION":
            if len(parts) != 3:
                raise VrpFormatError(f"{name}:{lineno}: NODE_COORD_SECTION: expected 'id x y', got {line!r}")
            node = int(_number(parts[0], name, lineno, "node id"))
            coords[node] = (_number(parts[1], name, lineno, "x"), _number(parts[2], name, lineno, "y"))
        elif section == "DEMAND_SECTION":
            if len(parts) != 2:
                raise VrpFormatError(f"{name}:{lineno}: DEMAND_SECTION: expected 'id demand', got {line!r}")
            node = int(_number(parts[0], name, lineno, "node id"))
            q = _number(parts[1], name, lineno, "demand")
            if q < 0 or q != int(q):
                raise VrpFormatError(f"{name}:{lineno}: demand of node {node} must be a non-negative integer, "
                                     f"got {q:g}")
            demands[node] = int(q)
        elif section == "DEPOT_SECTION":
            for p in parts:
                depot = int(_number(p, name, lineno, "depot"))
                if depot == -1:
                    section = None
                    break
                depots.append(depot)
        else:
            raise VrpFormatError(f"{name}:{lineno}: unexpected line outside any section: {line!r}")

    kind = header.get("TYPE", "CVRP").upper()
    if kind != "CVRP":
        raise VrpFormatError(f"{name}: TYPE {kind} is not supported (only CVRP)")
    ewt = header.get("EDGE_WEIGHT_TYPE", "").upper()
    if ewt != "EUC_2D":
        raise VrpFormatError(f"{name}: EDGE_WEIGHT_TYPE {ewt or '(missing)'} is not supported (only EUC_2D)")
    if "CAPACITY" not in header:
        raise VrpFormatError(f"{name}: CAPACITY is missing")
    capacity = int(_number(header["CAPACITY"], name, 0, "CAPACITY"))
    if capacity <= 0:
        raise VrpFormatError(f"{name}: CAPACITY must be positive, got {capacity}")
    if "DIMENSION" not in header:
        raise VrpFormatError(f"{name}: DIMENSION is missing")
    n = int(_number(header["DIMENSION"], name, 0, "DIMENSION"))
    expected = set(range(1, n + 1))
    for what, table in (("NODE_COORD_SECTION", coords), ("DEMAND_SECTION", demands)):
        if set(table) != expected:
            missing = sorted(expected - set(table))[:5]
            extra = sorted(set(table) - expected)[:5]
            raise VrpFormatError(f"{name}: {what} must list nodes 1..{n} once each "
                                 f"(missing {missing}, unexpected {extra})")
    if len(depots) != 1:
        raise VrpFormatError(f"{name}: DEPOT_SECTION must name exactly one depot, got {depots}")
    if depots[0] not in expected:
        raise VrpFormatError(f"{name}: depot {depots[0]} is not a node (1..{n})")
    return CvrpInstance(
        name=header.get("NAME", name),
        capacity=capacity,
        coords=np.array([coords[k] for k in range(1, n + 1)], dtype=float),
        demands=np.array([demands[k] for k in range(1, n + 1)], dtype=np.int64),
        depot=depots[0] - 1,
        comment=header.get("COMMENT", ""),
    )


def parse_sol(text: str, name: str = "<sol>") -> CvrpSolution:
    """Read a CVRPLIB solution: ``Route #k: c1 c2 ...`` lines and ``Cost N``."""
    routes: list[list[int]] = []
    cost: int | None = None
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line.lower().startswith("route"):
            _, _, rest = line.partition(":")
            routes.append([int(_number(p, name, lineno, "customer")) for p in rest.split()])
        elif line.lower().startswith("cost"):
            cost = int(round(_number(line.split()[-1], name, lineno, "cost")))
        else:
            raise VrpFormatError(f"{name}:{lineno}: expected 'Route #k: ...' or 'Cost N', got {line!r}")
    return CvrpSolution(routes, cost)


def routes_cost(matrix: np.ndarray, routes: Sequence[Sequence[int]], depot: int = 0) -> int:
    """Sum over routes of depot -> stops -> depot under ``matrix`` (empty routes cost nothing)."""
    total = 0
    for route in routes:
        if not route:
            continue
        path = [depot, *route, depot]
        total += int(sum(int(matrix[a, b]) for a, b in zip(path, path[1:], strict=False)))
    return total


def check_routes(instance: CvrpInstance, routes: Sequence[Sequence[int]]) -> list[str]:
    """What is wrong with a set of routes: a customer missed or served twice, an unknown node, a
    route over capacity. An empty list means the routes are a feasible CVRP solution."""
    problems: list[str] = []
    seen: dict[int, int] = {}
    for r, route in enumerate(routes):
        load = 0
        for node in route:
            if not 0 <= node < instance.dimension or node == instance.depot:
                problems.append(f"route {r + 1}: {node} is not a customer")
                continue
            seen[node] = seen.get(node, 0) + 1
            load += int(instance.demands[node])
        if load > instance.capacity:
            problems.append(f"route {r + 1}: load {load} exceeds the capacity {instance.capacity}")
    for node in instance.customers:
        if seen.get(node, 0) == 0:
            problems.append(f"customer {node} is not served")
        elif seen[node] > 1:
            problems.append(f"customer {node} is served {seen[node]} times")
    return problems


def lower_bound_vehicles(instance: CvrpInstance) -> int:
    """Bin-packing bound on the routes any solution needs: ceil(total demand / capacity)."""
    return max(1, math.ceil(int(instance.demands.sum()) / instance.capacity))
