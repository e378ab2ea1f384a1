"""Forklifts, AGVs and technicians on a warehouse floor (issue 8), Mesa agents beside the pickers.

- Put-away: a received lot waits at the dock for a forklift or an AGV (whichever comes back
  first); it drives the grid's shortest path to the lot's bin (the aisle cell it is picked from),
  the lot is put away there, and the vehicle drives back to the dock. The warehouse's
  ``putaway_time`` stays the handling at the dock before the move.
- AGVs run on a battery: after a move that leaves less than ``agv_low_battery`` of a charge, an AGV
  drives to the nearest charging point (C), charges what it used (``agv_charge_time`` for a full
  charge) and comes back. A floor without charging points has AGVs that never charge.
- Technicians: a work order on a machine that stands on the floor (``machines``) adds the walk from
  the dock to its cell to the technician's travel.

Each move is one ``FloorMoved`` event when it starts; congestion with the other agents' tours under
way slows it as it slows a picker. Only floors with forklifts, AGVs or machines get any of this.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import simpy
from mesa.discrete_space import CellAgent

from twin.model.floor import CHARGER
from twin.model.floor_events import FloorMoved
from twin.sim.floor import SECONDS_PER_HOUR, FloorModel, Tour

if TYPE_CHECKING:
    from twin.sim.engine import Engine
    from twin.sim.warehouse import WarehouseOps

__all__ = ["Mover", "PutAwayMoves", "TechnicianWalks", "attach_moves"]

Cell = tuple[int, int]


class Mover(CellAgent):
    """A forklift, AGV or technician on the floor; ``tour`` is its current (or last) move, ``charge``
    an AGV's running hours left on its battery."""

    def __init__(self, model: FloorModel, kind: str, name: str, charge: float = 0.0) -> None:
        super().__init__(model)
        self.kind = kind
        self.name = name
        self.tour: Tour | None = None
        self.charge = charge
        self.cell = model.grid[model.plan.depot]

    def position(self, t: float) -> tuple[float, float]:
        if self.tour is None or t >= self.tour.end or t < self.tour.start:
            r, c = self.model.plan.depot  # type: ignore[attr-defined]
            return float(r), float(c)
        return self.tour.position(t)


class PutAwayMoves:
    """The floor's forklifts and AGVs take over the put-away of the warehouse's received lots."""

    def __init__(self, engine: Engine, ops: WarehouseOps, model: FloorModel) -> None:
        spec = model.spec
        self.engine = engine
        self.env = engine.env
        self.ops = ops
        self.model = model
        self.battery = float(spec.agv_battery)
        self.low = spec.agv_low_battery * self.battery
        self.charge_time = float(spec.agv_charge_time)
        self.cell_hours = spec.cell_m / spec.drive_speed_m_per_s / SECONDS_PER_HOUR
        fleet = [Mover(model, "forklift", f"forklift-{k + 1}") for k in range(spec.forklifts)]
        fleet += [Mover(model, "agv", f"agv-{k + 1}", self.battery) for k in range(spec.agvs)]
        model.movers.extend(fleet)
        self.free = simpy.Store(self.env, capacity=len(fleet))
        self.free.items.extend(fleet)  # all at the dock, forklifts first
        self.chargers = model.plan.cells(CHARGER)
        self._put_away = ops._put_away
        ops._put_away = self.put_away  # type: ignore[method-assign]

    def put_away(self, item: str, lot: int, expiry: float | None) -> Any:
        """Wait for a vehicle, drive the lot to its bin, put it away there (the warehouse's own
        put-away: inspection, backlog), and send the vehicle back to the dock."""
        env = self.env
        model = self.model
        plan = model.plan
        b = model.slot.get(item)
        target = plan.access[b] if b is not None else None
        if target is None:  # an item with no bin on the floor is put away as before
            yield from self._put_away(item, lot, expiry)
            return
        mover: Mover = yield self.free.get()
        now = env.now
        depot = plan.depot
        out_cells = plan.path(depot, target)
        cells = plan.tour_cells([depot, target, depot])
        travel, tour = model.timed(cells, now, self.cell_hours)
        mover.tour = tour
        self.engine.emit(FloorMoved(now, self.ops.id, mover.kind, mover.name, "put_away", lot, (depot, target, depot),
                                    (len(cells) - 1) * model.spec.cell_m, travel, travel))
        there = float(tour.times[len(out_cells) - 1]) - now
        env.process(self._back(mover, travel))
        yield env.timeout(there)
        yield from self._put_away(item, lot, expiry)

    def _back(self, mover: Mover, travel: float) -> Any:
        """The vehicle is free again at the dock when its move ends (an AGV after charging, if it
        must)."""
        yield self.env.timeout(travel)
        if mover.kind == "agv" and self.chargers:
            mover.charge -= travel
            if mover.charge < self.low:
                yield from self._charge(mover)
        yield self.free.put(mover)

    def _charge(self, mover: Mover) -> Any:
        env = self.env
        model = self.model
        plan = model.plan
        depot = plan.depot
        from_dock = plan.distances_from(depot)
        charger = min(self.chargers, key=lambda c: (int(from_dock[plan.index(c)]), c))
        out_cells = plan.path(depot, charger)
        cells = plan.tour_cells([depot, charger, depot])
        hours = self.charge_time * min(max(self.battery - mover.charge, 0.0) / self.battery, 1.0)
        travel, tour = model.timed(cells, env.now, self.cell_hours, wait_at=len(out_cells) - 1, wait=hours)
        mover.tour = tour
        self.engine.emit(FloorMoved(env.now, self.ops.id, mover.kind, mover.name, "charge", -1, (depot, charger, depot),
                                    (len(cells) - 1) * model.spec.cell_m, travel, travel + hours))
        yield env.timeout(travel + hours)
        mover.charge = self.battery


class TechnicianWalks:
    """Technicians walking the floor to its machines: ``walk`` is the maintenance model's hook for
    a work order on a machine of this floor; it returns the walking hours (added to the travel)."""

    def __init__(self, engine: Engine, ops: WarehouseOps, model: FloorModel) -> None:
        self.engine = engine
        self.ops = ops
        self.model = model
        self.techs: dict[str, Mover] = {}

    def walk(self, asset: str, now: float, technician: str, wo: int) -> float:
        model = self.model
        plan = model.plan
        target = model.spec.machines[asset]
        cell = (int(target[0]), int(target[1]))
        mover = self.techs.get(technician)
        if mover is None:
            mover = self.techs[technician] = Mover(model, "technician", technician)
            model.movers.append(mover)
        cells = plan.path(plan.depot, cell)
        travel, tour = model.timed(cells, now, model.cell_hours)
        mover.tour = tour
        self.engine.emit(FloorMoved(now, self.ops.id, "technician", technician, "work_order", wo,
                                    (plan.depot, cell), (len(cells) - 1) * model.spec.cell_m, travel, travel))
        return travel


def attach_moves(engine: Engine, floors: dict[str, FloorModel]) -> None:
    """Put-away by forklift and AGV, and technicians' walks to machines, on the floors that have them."""
    for wh_id, model in floors.items():
        spec = model.spec
        ops = engine.warehouses[wh_id]
        if spec.forklifts or spec.agvs:
            PutAwayMoves(engine, ops, model)
        if spec.machines and engine.maintenance is not None:
            walks = TechnicianWalks(engine, ops, model)
            for asset in spec.machines:
                engine.maintenance.floor_walks[asset] = lambda now, tech, wo, a=asset, w=walks: w.walk(a, now, tech, wo)
