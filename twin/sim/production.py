"""Production (MES-WMS material flow): work orders released, components reserved in the warehouse,
operations run on machines, completion backflushes the components and receives finished goods.

- Release reserves every component (quantity per x order quantity / (1 - component scrap)) from the
  plant warehouse's available lots in one ``MaterialReserved`` event, all or nothing, so stock
  reserved for one order can never be allocated to another or issued twice.
- A short component is replaced by its first substitute that has enough; a made component that is
  short gets a work order of its own (unless one is open); otherwise the order is held (``MaterialShortage``) and
  retried every ``retry_every``.
- Operations queue for their machine group (a ``simpy.PriorityResource`` with one unit per machine,
  ordered by the dispatch rule); the machine whose last product family needs the shortest
  changeover is taken.
- ``dispatch: cp_sat``: every ``replan_every`` the released work orders' remaining operations (not
  yet started) are scheduled by ``policies.scheduling.solve_cp_sat`` (machine groups as eligible
  machines, changeovers by family, due dates, weighted tardiness; one worker, seed 0 and a
  deterministic time limit, so the result repeats exactly). Each operation's planned start becomes
  its queue priority, and requests already waiting are re-sorted; operations of orders released
  since the last plan queue by due date. The machine itself is still chosen at the queue head.
- Rework: with a routing's ``rework_rate``, a binomial share of the completed units (stream
  ('production', 'rework', item)) is a ``ProductionReworked`` event and goes back through the last
  operation once (the machine group is queued for again; run time only, no set-up) before completion.
- Completion: output scrap drawn from the stream ('production', 'scrap', item) is a
  ``ProductionScrapped`` event; ``MaterialIssued`` backflushes the reservation;
  ``ProductionReceived`` puts the good units on the shelf and serves waiting backorders.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import simpy

from twin.model import events as E
from twin.model.production import ProductionSpec, Routing

if TYPE_CHECKING:
    from twin.sim.engine import Engine

__all__ = ["ProductionModel", "routing_hours"]


def routing_hours(routing: Routing, qty: float) -> float:
    """Processing time of an order of ``qty`` through its routing (set-ups included), in hours."""
    return sum(op.setup + op.run * qty for op in routing.operations)


class ProductionModel:
    def __init__(self, engine: Engine) -> None:
        spec = engine.scenario.site.production
        assert spec is not None  # the engine builds this model only for sites with production
        self.engine = engine
        self.spec: ProductionSpec = spec
        self.env = engine.env
        self.location = spec.warehouse
        self.routings = {r.item: r for r in spec.routings}
        self.boms = {b.item: b for b in spec.boms}
        self.changeover = {(c.from_family, c.to_family): c.time for c in spec.changeovers}
        machines = [m for line in spec.lines for m in line.machines]
        self.group_machines: dict[str, list[str]] = {}
        for m in machines:
            self.group_machines.setdefault(m.group, []).append(m.id)
        self.groups = {g: simpy.PriorityResource(self.env, capacity=len(ms)) for g, ms in self.group_machines.items()}
        self.idle: dict[str, list[str]] = {g: list(ms) for g, ms in self.group_machines.items()}
        self.last_family: dict[str, str] = {}
        self.scrap_gen = {item: engine.streams.get("production", "scrap", item) for item in self.routings}
        self.rework_gen = {r.item: engine.streams.get("production", "rework", r.item)
                           for r in spec.routings if r.rework_rate > 0}
        self.held: list[tuple[int, str]] = []  # work orders waiting for material, oldest first
        self.plan: dict[tuple[int, int], float] = {}  # (wo, op) -> planned start in hours (cp_sat dispatch)
        self.started: set[tuple[int, int]] = set()  # operations that have begun (never re-planned)
        self.waiting: dict[Any, tuple[int, int]] = {}  # queued machine request -> (wo, op)
        self._running: set[int] = set()  # work orders whose operations process is under way
        self._wo = 0

    def makes(self, item: str) -> bool:
        return item in self.routings

    def start(self) -> None:
        for n, order in enumerate(self.spec.schedule):
            lead = routing_hours(self.routings[order.item], order.qty) + self.spec.lead_time_allowance
            release = max(order.due - lead, 0.0)
            self.env.process(self._later(release, order.item, order.qty, order.due, f"mps:{order.ref or n}"))
        self.env.process(self._retry())
        if self.spec.dispatch == "cp_sat":
            self.env.process(self._replan_cycle())

    def replenish(self, item: str, location: str, qty: float, source: str) -> int:
        """A replenishment order for a made item (from the inventory policy) becomes a work order."""
        lead = routing_hours(self.routings[item], qty) + self.spec.lead_time_allowance
        return self.release(item, qty, self.env.now + lead, source)

    def _later(self, at: float, item: str, qty: float, due: float, source: str) -> Any:
        yield self.env.timeout(at)
        self.release(item, qty, due, source)

    def release(self, item: str, qty: float, due: float, source: str) -> int:
        wo = self._wo
        self._wo += 1
        self.engine.emit(E.ProductionOrderReleased(self.env.now, wo, item, self.location, qty, due, source))
        if self._try_reserve(wo, item):
            self.env.process(self._run(wo, item))
        return wo

    def _retry(self) -> Any:
        while True:
            yield self.env.timeout(self.spec.retry_every)
            waiting, self.held = self.held, []
            for wo, item in waiting:
                if self._try_reserve(wo, item, quiet=True):
                    self.env.process(self._run(wo, item))

    def _try_reserve(self, wo: int, item: str, quiet: bool = False) -> bool:
        """Reserve all components of a work order, or hold it (``quiet``: no new shortage event)."""
        engine = self.engine
        order = engine.state.production.orders[wo]
        bom = self.boms.get(item)
        if bom is None:
            return True
        skus = engine.state.skus
        wh = engine.warehouses[self.location]
        picks: list[tuple[str, int, float]] = []
        short: list[tuple[str, float]] = []
        substituted: list[str] = []
        taken: dict[str, float] = {}  # reserved in this attempt, not yet in the state

        def free(ident: str) -> float:
            sku = skus.get((ident, self.location))
            return sku.on_hand - sku.reserved - taken.get(ident, 0.0) if sku is not None else 0.0

        for comp in bom.components:
            need = comp.qty * order.qty / (1.0 - comp.scrap)
            use = comp.item
            if free(use) < need - 1e-9:
                use = next((s for s in comp.substitutes if free(s) >= need - 1e-9), "")
                if not use:
                    short.append((comp.item, need - max(free(comp.item), 0.0)))
                    continue
                substituted.append(f"{comp.item}->{use}")
            taken[use] = taken.get(use, 0.0) + need
            picks.extend(self._lots(wh, skus[(use, self.location)], need, picks))
        now = self.env.now
        if short:
            if not quiet:
                engine.emit(E.MaterialShortage(now, wo, self.location, tuple(short), "held"))
            open_items = {o.item for o in engine.state.production.orders.values()}
            for ident, qty in short:
                # A made component with no work order open gets one for the shortfall.
                if self.makes(ident) and ident not in open_items:
                    self.release(ident, qty, order.due, f"parent:{wo}")
            self.held.append((wo, item))
            return False
        if substituted:
            engine.emit(E.MaterialShortage(now, wo, self.location, tuple((s.split("->")[0], 0.0) for s in substituted),
                                           "substituted:" + ",".join(substituted)))
        engine.emit(E.MaterialReserved(now, wo, self.location, tuple(picks)))
        return True

    @staticmethod
    def _lots(wh: Any, sku: Any, qty: float, already: list[tuple[str, int, float]]) -> list[tuple[str, int, float]]:
        """Lots to reserve ``qty`` from, first expiring first, minus what this attempt already took."""
        used: dict[int, float] = {}
        for ident, lot, q in already:
            if ident == sku.item:
                used[lot] = used.get(lot, 0.0) + q
        out = []
        rem = qty
        now = wh.env.now
        for lot in sku.lots:
            avail = lot.qty - lot.reserved - used.get(lot.id, 0.0)
            if avail <= 1e-9 or (lot.expiry is not None and lot.expiry <= now):
                continue
            step = min(avail, rem)
            out.append((sku.item, lot.id, step))
            rem -= step
            if rem <= 1e-9:
                break
        return out

    def _replan_cycle(self) -> Any:
        while True:
            self.replan()
            yield self.env.timeout(self.spec.replan_every)

    def replan(self) -> None:
        """CP-SAT plan of the released work orders' remaining operations; re-sort the machine queues."""
        from policies.scheduling import Job, Operation, SchedulingError, solve_cp_sat

        now = self.env.now
        jobs = []
        for wo, order in sorted(self.engine.state.production.orders.items()):
            if order.status != "running" or wo not in self._running:
                continue
            routing = self.routings[order.item]
            ops = []
            first = next((k for k in range(len(routing.operations)) if (wo, k) not in self.started),
                         len(routing.operations))
            for op in routing.operations[first:]:
                minutes = max(1, round((op.setup + op.run * order.qty) * 60))
                ops.append(Operation({m: minutes for m in self.group_machines[op.machine_group]}))
            if ops:
                jobs.append((first, Job(f"{wo}", tuple(ops), due=max(0, round((order.due - now) * 60)),
                                        family=routing.family)))
        if not jobs:
            return
        changeovers = {k: round(v * 60) for k, v in self.changeover.items()}
        try:
            sched = solve_cp_sat([j for _, j in jobs], "weighted_tardiness", changeovers,
                                 time_limit=max(10.0 * self.spec.replan_effort, 5.0), workers=1, seed=0,
                                 deterministic_time=self.spec.replan_effort)
        except SchedulingError:
            return  # keep the last plan; new operations queue by due date
        offset = {j.id: first for first, j in jobs}
        self.plan = {(int(a.job), offset[a.job] + a.op): now + a.start / 60.0 for a in sched.assignments}
        for group in self.groups.values():
            for req in group.queue:
                key = self.waiting.get(req)
                if key in self.plan:
                    req.priority = self.plan[key]  # type: ignore[attr-defined]
                    req.key = (req.priority, req.time, not req.preempt)  # type: ignore[attr-defined]
            group.queue.sort(key=lambda r: r.key)  # type: ignore[attr-defined]

    def _priority(self, order: Any, routing: Routing, op: int) -> float:
        rule = self.spec.dispatch
        if rule == "cp_sat":
            return self.plan.get((order.wo, op), float(order.due))
        if rule == "edd":
            return float(order.due)
        if rule == "spt":
            o = routing.operations[op]
            return o.setup + o.run * order.qty
        if rule == "critical_ratio":
            left = sum(o.setup + o.run * order.qty for o in routing.operations[op:])
            return (order.due - self.env.now) / max(left, 1e-9)
        return float(order.released)

    def _run(self, wo: int, item: str) -> Any:
        engine = self.engine
        env = self.env
        order = engine.state.production.orders[wo]
        routing = self.routings[item]
        self._running.add(wo)
        for k, op in enumerate(routing.operations):
            yield from self._operate(wo, order, routing, k, order.qty, op.setup)
        if routing.rework_rate > 0:
            redo = float(self.rework_gen[item].binomial(int(order.qty), routing.rework_rate))
            if redo > 0:
                last = len(routing.operations) - 1
                engine.emit(E.ProductionReworked(env.now, wo, item, self.location, redo, last))
                yield from self._operate(wo, order, routing, last, redo, 0.0)
        self._running.discard(wo)
        self.started.difference_update({(wo, k) for k in range(len(routing.operations))})
        self.plan = {key: v for key, v in self.plan.items() if key[0] != wo}
        self._complete(wo, item, order, routing)

    def _operate(self, wo: int, order: Any, routing: Routing, k: int, qty: float, base_setup: float) -> Any:
        """One operation of a work order on a machine of its group: queue, set up, run ``qty`` units."""
        engine = self.engine
        env = self.env
        op = routing.operations[k]
        group = self.groups[op.machine_group]
        with group.request(priority=self._priority(order, routing, k)) as req:  # type: ignore[arg-type]
            self.waiting[req] = (wo, k)
            yield req
            del self.waiting[req]
            self.started.add((wo, k))
            idle = self.idle[op.machine_group]
            machine = min(idle, key=lambda m: (self._change(m, routing.family), idle.index(m)))
            idle.remove(machine)
            setup = base_setup + self._change(machine, routing.family)
            engine.emit(E.OperationStarted(env.now, wo, k, machine, setup))
            run = op.run * qty
            yield env.timeout(setup + run)
            self.last_family[machine] = routing.family
            engine.emit(E.OperationCompleted(env.now, wo, k, machine, run))
            idle.append(machine)

    def _change(self, machine: str, family: str) -> float:
        last = self.last_family.get(machine)
        return self.changeover.get((last, family), 0.0) if last is not None and last != family else 0.0

    def _complete(self, wo: int, item: str, order: Any, routing: Routing) -> None:
        engine = self.engine
        now = self.env.now
        scrap = 0.0
        if routing.scrap_rate > 0:
            scrap = float(self.scrap_gen[item].binomial(int(order.qty), routing.scrap_rate))
            if scrap > 0:
                engine.emit(E.ProductionScrapped(now, wo, item, self.location, scrap, "quality"))
        if order.reserved:
            engine.emit(E.MaterialIssued(now, wo, self.location, tuple(order.reserved)))
        good = order.qty - scrap
        engine.emit(E.ProductionReceived(now, wo, item, self.location, engine.next_id("lot"), good))
        if good > 0:
            engine.warehouses[self.location].serve_backlog(engine.state.skus[(item, self.location)])
