"""A warehouse floor as typed data: an ASCII-art grid of racks (bins), aisles, walls, docks,
stations and charging points, and the shortest walking paths on it.

The grid is written in the site file, one character per cell::

    floor:
      cell_m: 1.5
      grid: |
        ##########
        #D..S...C#
        #.RR.RR..#
        #.RR.RR..#
        #........#
        ##########

``#`` (or a space) is a wall, ``.`` an aisle, ``R`` a rack location (a bin, picked from an aisle
cell beside it), ``D`` a dock, ``S`` a station, ``C`` a charging point. Docks, stations and
charging points are walkable. Pick tours start and end at the first dock (top-left first).

Pure: numpy and scipy only (no engine). The simulation (``twin.sim.floor``) puts agents on it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import shortest_path

from twin.model.durations import Duration

__all__ = [
    "WALL",
    "AISLE",
    "RACK",
    "DOCK",
    "STATION",
    "CHARGER",
    "SYMBOLS",
    "FLOOR_KPI_NAMES",
    "FloorSpec",
    "FloorPlan",
    "FloorIssue",
    "parse_grid",
    "floor_issues",
]

WALL, AISLE, RACK, DOCK, STATION, CHARGER = 0, 1, 2, 3, 4, 5
SYMBOLS: dict[str, int] = {"#": WALL, " ": WALL, ".": AISLE, "R": RACK, "D": DOCK, "S": STATION, "C": CHARGER}
KIND_NAMES = {WALL: "wall", AISLE: "aisle", RACK: "bin", DOCK: "dock", STATION: "station", CHARGER: "charging point"}
WALKABLE = (AISLE, DOCK, STATION, CHARGER)
FLOOR_KPI_NAMES = ("travel_distance_per_pick", "picks_per_hour", "picker_travel_km", "forklift_travel_km",
                   "agv_travel_km", "technician_floor_travel_km")
_UNREACHABLE = np.iinfo(np.int32).max
_PATH_CACHE = 20_000  # legs kept per floor (tuples of shared cells: under 10 MB)


class FloorSpec(BaseModel):
    """A warehouse's floor (optional). With it, a pick takes the walk along its pick path plus the
    warehouse's ``pick_time_per_line`` per line (``pick_time_per_order`` is not used)."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

    grid: str = Field(min_length=1, description="ASCII art, one character per cell: # wall, . aisle, R bin, "
                                                "D dock, S station, C charging point")
    cell_m: float = Field(1.0, gt=0, description="metres per grid cell")
    walk_speed_m_per_s: float = Field(1.0, gt=0, description="pickers' walking speed in metres per second")
    congestion: float = Field(0.5, ge=0, description="extra share of a cell's walking time for each other "
                                                      "picker whose tour uses the same aisle cell")
    slotting: Literal["abc", "random"] = Field("abc", description="bin assignment: abc puts the most picked "
                                                                  "items nearest the dock; random shuffles")
    pick_path: Literal["s_shape", "largest_gap", "nearest"] = Field(
        "s_shape", description="pick-path ordering of a tour: s_shape (traversal), largest_gap, nearest (neighbour)")
    waves: Duration | None = Field(None, gt=0, description="wave picking: release the orders in waves this often "
                                                     "(e.g. 30min) and batch them into tours; none = each "
                                                     "order is picked on its own as it comes")
    batch_size: int = Field(4, ge=1, description="wave picking: at most this many orders in one picker's tour")
    bins: dict[str, tuple[int, int]] = Field(default_factory=dict,
                                             description="item id -> [row, column] of a fixed bin (0-based)")
    forklifts: int = Field(0, ge=0, description="forklifts doing put-away moves from the dock to the bins")
    agvs: int = Field(0, ge=0, description="AGVs doing put-away moves (they charge at the charging points, C)")
    drive_speed_m_per_s: float = Field(1.5, gt=0, description="forklifts' and AGVs' speed in metres per second")
    agv_battery: Duration = Field("4h", description="an AGV's running time on a full charge")
    agv_charge_time: Duration = Field("1h", description="time to charge an AGV from empty to full")
    agv_low_battery: float = Field(0.2, ge=0, lt=1, description="share of the charge left at which an AGV goes "
                                                                "to charge after its move")
    machines: dict[str, tuple[int, int]] = Field(
        default_factory=dict, description="asset id -> [row, column] of the walkable cell (a station, S) where "
                                          "the machine is serviced; technicians walk there for its work orders")


    @model_validator(mode="after")
    def _positive(self) -> FloorSpec:
        for name in ("agv_battery", "agv_charge_time"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, e.g. 4h; got {getattr(self, name):g}h")
        return self


@dataclass(frozen=True)
class FloorIssue:
    """A problem with a floor grid, at a cell (row and column are 0-based within the grid)."""

    row: int | None
    col: int | None
    message: str
    item: str | None = None  # a fixed bin's item, when the problem is with ``bins``
    machine: str | None = None  # an asset, when the problem is with ``machines``


@dataclass
class FloorPlan:
    """A parsed floor: the cell kinds, the bins with the aisle cell each is picked from, and
    shortest-path distances between walkable cells (4-neighbour moves, one cell per step)."""

    kinds: np.ndarray  # (rows, cols) uint8 of WALL, AISLE, ...
    first_line: int  # index in the grid text's lines of row 0 (blank lines before it are skipped)
    bins: list[tuple[int, int]] = field(default_factory=list)
    access: list[tuple[int, int] | None] = field(default_factory=list)  # per bin: its aisle cell
    _graph: csr_matrix | None = None
    _rows: dict[int, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    _paths: dict[tuple[tuple[int, int], tuple[int, int]], tuple[tuple[int, int], ...]] = field(default_factory=dict)
    _cell_list: list[tuple[int, int]] = field(default_factory=list)

    def _cells(self) -> list[tuple[int, int]]:
        """Every cell's (row, column), by flat index (one tuple per cell, shared by the paths)."""
        if not self._cell_list:
            rows, cols = self.kinds.shape
            self._cell_list = [(r, c) for r in range(rows) for c in range(cols)]
        return self._cell_list

    @property
    def shape(self) -> tuple[int, int]:
        return int(self.kinds.shape[0]), int(self.kinds.shape[1])

    def cells(self, kind: int) -> list[tuple[int, int]]:
        """Cells of a kind, row by row (top-left first)."""
        rr, cc = np.nonzero(self.kinds == kind)
        return [(int(r), int(c)) for r, c in zip(rr, cc, strict=True)]

    @property
    def depot(self) -> tuple[int, int]:
        """Where pick tours start and end: the first dock."""
        return self.cells(DOCK)[0]

    def index(self, cell: tuple[int, int]) -> int:
        return cell[0] * self.kinds.shape[1] + cell[1]

    def cell(self, index: int) -> tuple[int, int]:
        cols = self.kinds.shape[1]
        return index // cols, index % cols

    def graph(self) -> csr_matrix:
        """The walkable cells' adjacency (4-neighbour, unit length) as a sparse matrix."""
        if self._graph is None:
            walk = np.isin(self.kinds, WALKABLE)
            rows, cols = walk.shape
            idx = np.arange(rows * cols).reshape(rows, cols)
            src: list[np.ndarray] = []
            dst: list[np.ndarray] = []
            right = walk[:, :-1] & walk[:, 1:]
            down = walk[:-1, :] & walk[1:, :]
            for a, b in ((idx[:, :-1][right], idx[:, 1:][right]), (idx[:-1, :][down], idx[1:, :][down])):
                src += [a, b]
                dst += [b, a]
            s = np.concatenate(src) if src else np.empty(0, int)
            d = np.concatenate(dst) if dst else np.empty(0, int)
            self._graph = csr_matrix((np.ones(len(s)), (s, d)), shape=(rows * cols, rows * cols))
        return self._graph

    def _row(self, source: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
        """Distances (cells) and predecessors from one cell to every cell (cached per source)."""
        k = self.index(source)
        got = self._rows.get(k)
        if got is None:
            dist, pred = shortest_path(self.graph(), method="D", unweighted=True, indices=k,
                                       return_predecessors=True)
            dist = np.where(np.isinf(dist), _UNREACHABLE, dist).astype(np.int64)
            got = self._rows[k] = (dist, pred)
        return got

    def distances_from(self, source: tuple[int, int]) -> np.ndarray:
        """Walking distance in cells from ``source`` to every cell (flat, row-major); unreachable
        cells hold a very large number."""
        return self._row(source)[0]

    def distance(self, a: tuple[int, int], b: tuple[int, int]) -> int:
        return int(self._row(a)[0][self.index(b)])

    def path(self, a: tuple[int, int], b: tuple[int, int]) -> list[tuple[int, int]]:
        """The cells of a shortest walk from ``a`` to ``b`` (both included; a new list)."""
        got = self._paths.get((a, b))
        if got is None:
            pred = self._row(a)[1]
            k, start = self.index(b), self.index(a)
            out = [k]
            while k != start:
                k = int(pred[k])
                if k < 0:
                    out = []
                    break
                out.append(k)
            cells = self._cells()
            got = tuple(cells[i] for i in reversed(out))
            if len(self._paths) < _PATH_CACHE:  # pick tours repeat the same legs between aisle cells
                self._paths[(a, b)] = got
        return list(got)

    def tour_cells(self, stops: list[tuple[int, int]]) -> list[tuple[int, int]]:
        """Every cell of a walk through ``stops`` in order (each leg a shortest path)."""
        out: list[tuple[int, int]] = [stops[0]] if stops else []
        for a, b in zip(stops, stops[1:], strict=False):
            out.extend(self.path(a, b)[1:])
        return out


def parse_grid(text: str) -> tuple[FloorPlan, list[FloorIssue]]:
    """The plan of a grid, and the symbols it could not read (as issues, walls in the plan)."""
    lines = text.split("\n")
    first = 0
    while first < len(lines) and not lines[first].strip():
        first += 1
    last = len(lines)
    while last > first and not lines[last - 1].strip():
        last -= 1
    rows = [ln.rstrip() for ln in lines[first:last]]
    width = max((len(r) for r in rows), default=0)
    kinds = np.zeros((len(rows), width), dtype=np.uint8)
    issues: list[FloorIssue] = []
    for r, row in enumerate(rows):
        for c, ch in enumerate(row):
            kind = SYMBOLS.get(ch)
            if kind is None:
                issues.append(FloorIssue(r, c, f"unknown floor symbol {ch!r} at row {r}, column {c}; "
                                               "use # wall, . aisle, R bin, D dock, S station, C charging point"))
                kind = WALL
            kinds[r, c] = kind
    plan = FloorPlan(kinds, first)
    plan.bins = plan.cells(RACK)
    plan.access = [_access_cell(kinds, b) for b in plan.bins]
    return plan, issues


def _access_cell(kinds: np.ndarray, cell: tuple[int, int]) -> tuple[int, int] | None:
    """The walkable cell a bin is picked from: west, east, north, then south of it."""
    r, c = cell
    for dr, dc in ((0, -1), (0, 1), (-1, 0), (1, 0)):
        rr, cc = r + dr, c + dc
        if 0 <= rr < kinds.shape[0] and 0 <= cc < kinds.shape[1] and kinds[rr, cc] in WALKABLE:
            return rr, cc
    return None


def _components(plan: FloorPlan) -> np.ndarray:
    from scipy.sparse.csgraph import connected_components

    _, labels = connected_components(plan.graph(), directed=False)
    return np.asarray(labels)


def floor_issues(spec: FloorSpec, items: set[str] | None = None,
                 assets: set[str] | None = None) -> Iterator[FloorIssue]:
    """Every problem with a floor: unknown symbols, no dock, a dock, station or charging point that
    cannot be reached from the first dock, a bin with no reachable aisle beside it, fixed bins
    outside the grid, on a wall or aisle (not on an ``R``), or for an unknown item, and machines
    of unknown assets or on a cell that cannot be walked to."""
    plan, issues = parse_grid(spec.grid)
    yield from issues
    docks = plan.cells(DOCK)
    if not docks:
        yield FloorIssue(None, None, "the floor has no dock (D): pick tours start and end at a dock")
        return
    if not plan.bins:
        yield FloorIssue(None, None, "the floor has no bins (R)")
    labels = _components(plan)
    home = labels[plan.index(docks[0])]
    for kind in (DOCK, STATION, CHARGER):
        for cell in plan.cells(kind):
            if labels[plan.index(cell)] != home:
                yield FloorIssue(cell[0], cell[1], f"the {KIND_NAMES[kind]} at row {cell[0]}, column {cell[1]} "
                                                   f"cannot be reached from the dock at row {docks[0][0]}, "
                                                   f"column {docks[0][1]}; open an aisle to it")
    for b, acc in zip(plan.bins, plan.access, strict=True):
        if acc is None or labels[plan.index(acc)] != home:
            yield FloorIssue(b[0], b[1], f"the bin at row {b[0]}, column {b[1]} cannot be reached: "
                                         "no aisle beside it connects to the dock")
    rows, cols = plan.shape
    for item, (r, c) in spec.bins.items():
        if items is not None and item not in items:
            yield FloorIssue(None, None, f"unknown item {item!r}", item)
        elif not (0 <= r < rows and 0 <= c < cols):
            yield FloorIssue(None, None, f"bin [{r}, {c}] is outside the {rows}x{cols} grid", item)
        elif plan.kinds[r, c] != RACK:
            what = KIND_NAMES[int(plan.kinds[r, c])]
            yield FloorIssue(r, c, f"bin [{r}, {c}] for {item!r} is on a {what}, not on a rack (R)", item)
    for asset, (r, c) in spec.machines.items():
        if assets is not None and asset not in assets:
            yield FloorIssue(None, None, f"unknown asset {asset!r}", machine=asset)
        elif not (0 <= r < rows and 0 <= c < cols):
            yield FloorIssue(None, None, f"machine cell [{r}, {c}] is outside the {rows}x{cols} grid", machine=asset)
        elif int(plan.kinds[r, c]) not in WALKABLE or labels[plan.index((r, c))] != home:
            what = KIND_NAMES[int(plan.kinds[r, c])]
            yield FloorIssue(r, c, f"machine cell [{r}, {c}] for {asset!r} is on a {what} that cannot be walked "
                                   "to from the dock; put it on a station (S) or an aisle cell", machine=asset)
