"""Warehouse floors (issue 8): pickers as Mesa agents on the floor grid; a pick takes the walk along
its pick path (shortest paths on the grid, slowed where other pickers' tours share the same aisle
cells) plus the warehouse's handling time per line.

SimPy stays the clock: a tour is one ``PickTravelled`` event when it starts and the warehouse's
usual ``Picked`` when it ends; agents are not stepped cell by cell (that would cost an event per
cell). Where an agent is between the two is interpolated along its path (``Picker.position``),
which is what the view draws and ``FloorModel.sync`` moves the Mesa agents to.

Only warehouses with a ``floor`` get one; the others pick exactly as before (same event log).
"""

from __future__ import annotations

from heapq import heappush
from typing import TYPE_CHECKING, Any

import mesa
import numpy as np
from mesa.discrete_space import CellAgent, OrthogonalVonNeumannGrid

from policies.floor import PICK_PATHS, abc_slotting, random_slotting
from twin.model.floor import WALKABLE, FloorPlan, FloorSpec, parse_grid
from twin.model.floor_events import PickTravelled

if TYPE_CHECKING:
    from twin.sim.engine import Call, Engine
    from twin.sim.warehouse import WarehouseOps

__all__ = ["Picker", "FloorModel", "Tour", "attach_floors", "slot_items"]

_NORMAL = 1
SECONDS_PER_HOUR = 3600.0


class Tour:
    """A picker's walk: the cells in order and the time it reaches each (hours)."""

    __slots__ = ("start", "end", "cells", "times", "flat")

    def __init__(self, start: float, end: float, cells: list[tuple[int, int]], times: np.ndarray,
                 flat: frozenset[int]) -> None:
        self.start = start
        self.end = end
        self.cells = cells
        self.times = times
        self.flat = flat

    def position(self, t: float) -> tuple[float, float]:
        """Where the picker is at time ``t`` (row, column as floats, between cells)."""
        if not self.cells:
            return (0.0, 0.0)
        times = self.times
        if t <= times[0]:
            r, c = self.cells[0]
            return float(r), float(c)
        if t >= times[-1]:
            r, c = self.cells[-1]
            return float(r), float(c)
        k = int(np.searchsorted(times, t, side="right")) - 1
        a, b = self.cells[k], self.cells[k + 1]
        span = times[k + 1] - times[k]
        f = (t - times[k]) / span if span > 0 else 1.0
        return a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f


class Picker(CellAgent):
    """A picker on the floor; ``tour`` is its current (or last) walk."""

    def __init__(self, model: FloorModel, number: int) -> None:
        super().__init__(model)
        self.number = number
        self.busy_until = 0.0
        self.tour: Tour | None = None

    def position(self, t: float) -> tuple[float, float]:
        if self.tour is None or t >= self.tour.end or t < self.tour.start:
            r, c = self.model.plan.depot  # type: ignore[attr-defined]
            return float(r), float(c)
        return self.tour.position(t)


class FloorModel(mesa.Model):
    """One warehouse floor: the Mesa grid of its walkable cells, its pickers, its slotting."""

    def __init__(self, spec: FloorSpec, pickers: int, rng: np.random.Generator, plan: FloorPlan | None = None) -> None:
        super().__init__(rng=rng)
        self.spec = spec
        self.plan = plan or parse_grid(spec.grid)[0]
        rows, cols = self.plan.shape
        self.grid = OrthogonalVonNeumannGrid((rows, cols), torus=False, random=self.random)
        depot = self.plan.depot
        self.pickers = [Picker(self, k) for k in range(pickers)]
        for p in self.pickers:
            p.cell = self.grid[depot]
        self.cell_hours = spec.cell_m / spec.walk_speed_m_per_s / SECONDS_PER_HOUR
        self.order_stops = PICK_PATHS[spec.pick_path]
        self.slot: dict[str, int] = {}  # item -> bin number
        self.stop_of: dict[str, tuple[int, int]] = {}  # item -> aisle cell it is picked from
        self._walkable = np.isin(self.plan.kinds, WALKABLE)

    def assign(self, slot: dict[str, int]) -> None:
        self.slot = dict(slot)
        access = self.plan.access
        self.stop_of = {item: access[b] for item, b in slot.items() if access[b] is not None}  # type: ignore[misc]

    def free_picker(self, now: float) -> Picker:
        """The lowest-numbered picker not on a tour (the pickers' pool never hands out more)."""
        for p in self.pickers:
            if p.busy_until <= now:
                return p
        return min(self.pickers, key=lambda p: (p.busy_until, p.number))

    def plan_tour(self, items: list[str], now: float) -> tuple[list[tuple[int, int]], int, float, Tour]:
        """Stops in pick-path order, the distance in cells, the walking hours (congestion included)
        and the tour, for a pick of ``items`` starting now from the dock."""
        plan = self.plan
        depot = plan.depot
        stops = sorted({self.stop_of[i] for i in items if i in self.stop_of})
        ordered = self.order_stops(stops, depot, plan.distance)
        route = [depot, *ordered, depot]
        cells = plan.tour_cells(route)
        dist = len(cells) - 1
        flat = frozenset(plan.index(c) for c in cells)
        # Congestion: each cell this tour shares with another picker's tour under way is slower.
        shared = 0
        for p in self.pickers:
            tour = p.tour
            if tour is not None and tour.end > now:
                shared += len(flat & tour.flat)
        hours = (dist + self.spec.congestion * shared) * self.cell_hours
        step = hours / dist if dist else 0.0
        times = now + step * np.arange(len(cells))
        return ordered, dist, hours, Tour(now, now + hours, cells, times, flat)

    def sync(self, t: float) -> None:
        """Move every picker's Mesa cell to where it is at time ``t`` (for a view or an inspection)."""
        rows, cols = self.plan.shape
        for p in self.pickers:
            r, c = p.position(t)
            cell = (min(max(round(r), 0), rows - 1), min(max(round(c), 0), cols - 1))
            p.cell = self.grid[cell]


def slot_items(model: FloorModel, items: list[str], popularity: np.ndarray, rng: np.random.Generator) -> dict[str, int]:
    """Bins for the items by the floor's slotting policy; fixed ``bins`` in the site file win."""
    plan = model.plan
    from_dock = plan.distances_from(plan.depot)
    bin_distance = np.array([from_dock[plan.index(a)] if a is not None else 10**9 for a in plan.access], float)
    fixed = {item: plan.bins.index((rc[0], rc[1])) for item, rc in model.spec.bins.items()
             if (rc[0], rc[1]) in plan.bins}
    free = [i for i in items if i not in fixed]
    pop = np.array([popularity[items.index(i)] for i in free], float)
    if model.spec.slotting == "abc":
        slot = abc_slotting(free, pop, bin_distance)
    else:
        slot = random_slotting(free, pop, bin_distance, rng)
    return {**slot, **fixed}


class _FloorPicking:
    """Replaces a warehouse's pick start: the pick's duration comes from the floor."""

    def __init__(self, engine: Engine, ops: WarehouseOps, model: FloorModel) -> None:
        self.engine = engine
        self.ops = ops
        self.model = model
        self.env = engine.env
        self._queue: list[Any] = engine.env._queue
        self._eid = engine.env._eid.__next__  # type: ignore[attr-defined]
        self.per_line = ops.spec.pick_time_per_line

    def start(self, call: Call) -> None:
        now = self.env._now  # type: ignore[attr-defined]
        picks = call.b
        model = self.model
        items = [p[0] for p in picks]
        stops, dist, travel, tour = model.plan_tour(items, now)
        duration = travel + self.per_line * len(picks)
        picker = model.free_picker(now)
        picker.tour = tour
        picker.busy_until = now + duration
        self.engine.emit(PickTravelled(now, call.a, self.ops.id, picker.number, dist * model.spec.cell_m, travel,
                                       duration, len(picks), tuple(stops)))
        call.fn = self.ops._on_picked
        heappush(self._queue, (now + duration, _NORMAL, self._eid(), call))


def attach_floors(engine: Engine) -> dict[str, FloorModel]:
    """A floor model for every warehouse that has a floor; their picks now walk it."""
    floors: dict[str, FloorModel] = {}
    layout = engine.layout
    for wh in engine.scenario.site.warehouses:
        if wh.floor is None:
            continue
        ops = engine.warehouses[wh.id]
        model = FloorModel(wh.floor, wh.pickers, engine.streams.get("floor", wh.id))
        items = [i for i, loc in layout.skus if loc == wh.id]
        mean = layout.params.demand_mean_per_day
        popularity = np.array([mean[layout.sku_index[(i, wh.id)]] for i in items], float)
        model.assign(slot_items(model, items, popularity, engine.streams.get("floor", wh.id, "slotting")))
        picking = _FloorPicking(engine, ops, model)
        ops._on_granted = picking.start
        floors[wh.id] = model
    return floors
