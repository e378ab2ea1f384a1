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

from policies.floor import PICK_PATHS, abc_slotting, batch_orders, next_wave, random_slotting
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
        self.movers: list[Any] = []  # forklifts, AGVs, technicians (twin.sim.floor_moves.Mover)

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
        hours, tour = self.timed(cells, now, self.cell_hours)
        return ordered, len(cells) - 1, hours, tour

    def timed(self, cells: list[tuple[int, int]], now: float, cell_hours: float, wait_at: int | None = None,
              wait: float = 0.0) -> tuple[float, Tour]:
        """The hours to go through ``cells`` from ``now`` (congestion included: each cell shared
        with another agent's tour under way is slower) and the tour; with ``wait_at``, the agent
        stays ``wait`` hours at that cell (its index in ``cells``) on the way."""
        plan = self.plan
        dist = len(cells) - 1
        flat = frozenset(plan.index(c) for c in cells)
        shared = 0
        for agent in (*self.pickers, *self.movers):
            tour = agent.tour
            if tour is not None and tour.end > now:
                shared += len(flat & tour.flat)
        hours = (dist + self.spec.congestion * shared) * cell_hours
        step = hours / dist if dist else 0.0
        times = now + step * np.arange(len(cells))
        if wait_at is None or wait <= 0:
            return hours, Tour(now, now + hours, cells, times, flat)
        times[wait_at + 1:] += wait
        cells = [*cells[:wait_at + 1], *cells[wait_at:]]  # the same cell twice: arriving, leaving
        times = np.insert(times, wait_at + 1, times[wait_at] + wait)
        return hours, Tour(now, now + hours + wait, cells, times, flat)

    def sync(self, t: float) -> None:
        """Move every agent's Mesa cell to where it is at time ``t`` (for a view or an inspection)."""
        rows, cols = self.plan.shape
        for p in (*self.pickers, *self.movers):
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


class _WavePicking(_FloorPicking):
    """Wave picking: the orders the pickers' pool admits wait for their wave (``next_wave``); at the
    wave's release its orders are batched into tours (``batch_orders``), each tour's stops in the
    floor's pick-path order, and the tours go to the floor's pickers as they come free (lowest
    number first). Every order of a tour is picked when the tour is back at the dock.

    The floor's pickers are the limit here, so the pool admits every order at once (its capacity
    is lifted); a tour is one ``PickTravelled`` (``order`` is its first order, ``lines`` all of its
    lines) and one ``Picked`` per order at the tour's end."""

    def __init__(self, engine: Engine, ops: WarehouseOps, model: FloorModel) -> None:
        from twin.sim.engine import Call  # (the engine imports this module)

        super().__init__(engine, ops, model)
        assert model.spec.waves is not None
        self.every = float(model.spec.waves)
        self.size = model.spec.batch_size
        self.held: list[Call] = []  # admitted, waiting for their wave
        self.tours: list[list[Call]] = []  # released, waiting for a picker
        ops.pickers = 1 << 60
        self._release_call = Call(self._release)
        self._free_call = Call(self._dispatch)

    def start(self, call: Call) -> None:
        self.held.append(call)
        if len(self.held) == 1:  # the first order of this wave books its release
            self._at(next_wave(self.env._now, self.every), self._release_call)  # type: ignore[attr-defined]

    def _at(self, t: float, call: Call) -> None:
        """Schedule a call as SimPy would (one due now goes through the engine's same-time queue)."""
        entry = (t, _NORMAL, self._eid(), call)
        if t <= self.env._now:  # type: ignore[attr-defined]
            self.engine.schedule_now(entry)
        else:
            heappush(self._queue, entry)

    def _release(self, _: Any) -> None:
        calls, self.held = self.held, []
        stop_of = self.model.stop_of
        stops = [[stop_of[p[0]] for p in call.b if p[0] in stop_of] for call in calls]
        self.tours.extend([calls[k] for k in batch] for batch in batch_orders(stops, self.size))
        self._dispatch(None)

    def _dispatch(self, _: Any) -> None:
        now = self.env._now  # type: ignore[attr-defined]
        model = self.model
        for picker in model.pickers:
            if not self.tours:
                return
            if picker.busy_until > now:
                continue
            calls = self.tours.pop(0)
            items = [p[0] for call in calls for p in call.b]
            stops, dist, travel, tour = model.plan_tour(items, now)
            duration = travel + self.per_line * len(items)
            picker.tour = tour
            picker.busy_until = now + duration
            self.engine.emit(PickTravelled(now, calls[0].a, self.ops.id, picker.number, dist * model.spec.cell_m,
                                           travel, duration, len(items), tuple(stops)))
            end = now + duration
            for call in calls:
                call.fn = self.ops._on_picked
                self._at(end, call)
            self._at(end, self._free_call)


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
        picking = (_WavePicking if wh.floor.waves is not None else _FloorPicking)(engine, ops, model)
        ops._on_granted = picking.start
        floors[wh.id] = model
    if any(m.spec.forklifts or m.spec.agvs or m.spec.machines for m in floors.values()):
        from twin.sim.floor_moves import attach_moves  # forklifts, AGVs, technicians

        attach_moves(engine, floors)
    return floors
