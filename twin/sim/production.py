"""Production (MES-WMS material flow): work orders released, components reserved in the
raw-material warehouse, operations run on machines, completion backflushes the components and
receives the product into the finished-goods warehouse (a sub-assembly: back into raw material).

- Release reserves every component (quantity per x order quantity / (1 - component scrap)) from the
  raw-material warehouse's available lots in one ``MaterialReserved`` event, all or nothing, so
  stock reserved for one order can never be allocated to another or issued twice.
- A short component goes down the shortage ladder (``MaterialShortage`` names the step): its first
  substitute that has enough; else a transfer from another warehouse that holds enough free stock
  (``TransferShipped`` now, ``TransferReceived`` after ``transfer_time``; the arriving lot is
  reserved for the order that waits for it, so no other order takes it first, and the order is
  retried when it arrives); else the order is held (action 'held', the exception) and retried every
  ``retry_every``. A made component that is short also gets a work order of its own (unless one is
  open, or a production policy plans the plant: the planner sees the held order's needs).
- Operations queue for their machine group (a ``simpy.PriorityResource`` with one unit per machine
  in service, ordered by the dispatch rule); the machine whose last product family needs the
  shortest changeover is taken.
- A machine that is also a maintenance asset (an asset with the machine's id, see
  ``twin.sim.maintenance``) goes down when the asset fails or stops (``MachineDown``): the group
  loses a unit, an operation on it stops (``OperationInterrupted``, run time done so far kept) and
  queues again at the head of its group, so it moves to another machine of the group or waits for
  this one's repair (``MachineUp``). With ``cp_sat`` dispatch a machine going down re-plans at once.
- ``dispatch: cp_sat``: every ``replan_every`` (and when a machine goes down) the released work
  orders' remaining operations (not yet started) are scheduled by
  ``policies.scheduling.solve_cp_sat`` (machines in service of the group as eligible machines,
  changeovers by family, due dates, weighted tardiness; one worker, seed 0 and a deterministic time
  limit, so the result repeats exactly); each re-plan is a ``ScheduleReplanned`` event. Each
  operation's planned start becomes its queue priority, and requests already waiting are re-sorted;
  operations of orders released since the last plan queue by due date. The machine itself is still
  chosen at the queue head.
- Rework: with a routing's ``rework_rate``, a binomial share of the completed units (stream
  ('production', 'rework', item)) is a ``ProductionReworked`` event and goes back through the last
  operation once (the machine group is queued for again; run time only, no set-up) before completion.
- Planning: with a production policy (``policies: {production: {use: mrp}}``, see
  ``twin.sim.production_planner``) the policy releases the work orders and purchase orders on its
  review period, and a master-schedule line is a customer order on the item's store at its due
  date; without one, the inventory policy's orders for made items become work orders and each
  master-schedule line is released its routing time plus ``lead_time_allowance`` before it is due.
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
        self.location = spec.warehouse  # raw material: components are held and issued here
        self.routings = {r.item: r for r in spec.routings}
        self.boms = {b.item: b for b in spec.boms}
        self.changeover = {(c.from_family, c.to_family): c.time for c in spec.changeovers}
        machines = [m for line in spec.lines for m in line.machines]
        self.group_machines: dict[str, list[str]] = {}
        for m in machines:
            self.group_machines.setdefault(m.group, []).append(m.id)
        self.machine_group = {m.id: m.group for m in machines}
        self.groups = {g: simpy.PriorityResource(self.env, capacity=len(ms)) for g, ms in self.group_machines.items()}
        self.idle: dict[str, list[str]] = {g: list(ms) for g, ms in self.group_machines.items()}
        self.busy: dict[str, Any] = {}  # machine -> the operation's process running on it
        self.down: set[str] = set()  # machines out of service
        self.receives_at = {r.item: spec.receives_at(r.item) for r in spec.routings}
        self.in_transfer: dict[int, set[str]] = {}  # work order -> components on their way to it
        self._transfer_ids = engine.id_counter("transfer")  # shared with fleet transfers: one numbering
        self.planner: Any = None
        if engine.scenario.policies.production is not None:
            from twin.sim.production_planner import ProductionPlanner

            self.planner = ProductionPlanner(self)
        self.metered: set[str] = set()  # machines whose asset's failure law is on usage (run hours)
        if engine.maintenance is not None:
            # A machine that is a maintenance asset follows the asset's running state; its usage
            # is its run hours, and a failure law on usage wears it only while it processes.
            for ident in self.machine_group:
                asset = engine.maintenance.assets.get(ident)
                if asset is not None:
                    asset.listeners.append(self._asset_changed)
                    engine.maintenance.machines.add(ident)
                    if asset.spec.failure.basis == "usage":
                        asset.metered = True
                        self.metered.add(ident)
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
        if self.planner is not None:
            # Planned by MRP: a master-schedule line is make-to-order demand on the item's store at
            # its due date, and the planner releases the work orders that cover it.
            for n, order in enumerate(self.spec.schedule):
                self.env.process(self._order_due(order.due, order.item, order.qty, f"mto:{order.ref or n}"))
            self.planner.start()
        else:
            for n, order in enumerate(self.spec.schedule):
                lead = routing_hours(self.routings[order.item], order.qty) + self.spec.lead_time_allowance
                release = max(order.due - lead, 0.0)
                self.env.process(self._later(release, order.item, order.qty, order.due, f"mps:{order.ref or n}"))
        self.env.process(self._retry())
        if self.spec.dispatch == "cp_sat":
            self.env.process(self._replan_cycle())

    def replenish(self, item: str, location: str, qty: float, source: str) -> int:
        """A replenishment order for a made item (from the inventory policy) becomes a work order,
        received where the item is received (``ProductionSpec.receives_at``)."""
        lead = routing_hours(self.routings[item], qty) + self.spec.lead_time_allowance
        return self.release(item, qty, self.env.now + lead, source)

    def _order_due(self, at: float, item: str, qty: float, customer: str) -> Any:
        yield self.env.timeout(at)
        self.engine.warehouses[self.receives_at[item]].place_order(customer, ((item, float(qty)),))

    def _later(self, at: float, item: str, qty: float, due: float, source: str) -> Any:
        yield self.env.timeout(at)
        self.release(item, qty, due, source)

    def release(self, item: str, qty: float, due: float, source: str) -> int:
        wo = self._wo
        self._wo += 1
        self.engine.emit(E.ProductionOrderReleased(self.env.now, wo, item, self.receives_at[item], qty, due, source))
        if self._try_reserve(wo, item):
            self.env.process(self._run(wo, item))
        return wo

    def _retry(self) -> Any:
        while True:
            yield self.env.timeout(self.spec.retry_every)
            self._retry_held()

    def _retry_held(self) -> None:
        waiting, self.held = self.held, []
        for wo, item in waiting:
            if self._try_reserve(wo, item, quiet=True):
                self.env.process(self._run(wo, item))

    def _try_reserve(self, wo: int, item: str, quiet: bool = False) -> bool:
        """Reserve all components of a work order, or send it down the shortage ladder: substitute,
        transfer from another warehouse, hold (``quiet``: a retry, no new 'held' event)."""
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
        coming = self.in_transfer.get(wo, set())
        moved: list[tuple[str, float, str]] = []  # (item, qty, from) transfers started now
        waiting = False  # a transfer for this order is still on its way
        taken: dict[str, float] = {}  # reserved in this attempt, not yet in the state
        own: dict[str, float] = {}  # reserved for this order already (transfers that came in for it)
        for ident, _, qty in order.reserved:
            own[ident] = own.get(ident, 0.0) + qty

        def free(ident: str) -> float:
            sku = skus.get((ident, self.location))
            return sku.on_hand - sku.reserved - taken.get(ident, 0.0) if sku is not None else 0.0

        for comp in bom.components:
            need = comp.qty * order.qty / (1.0 - comp.scrap)
            mine = min(own.get(comp.item, 0.0), need)
            own[comp.item] = own.get(comp.item, 0.0) - mine
            need -= mine
            if need <= 1e-9:
                continue
            use = comp.item
            if free(use) < need - 1e-9:
                use = next((s for s in comp.substitutes if free(s) >= need - 1e-9), "")
                if not use:
                    lack = need - max(free(comp.item), 0.0)
                    if comp.item in coming:
                        waiting = True
                        continue
                    origin = self._transfer(comp.item, lack, wo)
                    if origin:
                        moved.append((comp.item, lack, origin))
                    else:
                        short.append((comp.item, lack))
                    continue
                substituted.append(f"{comp.item}->{use}")
            taken[use] = taken.get(use, 0.0) + need
            picks.extend(self._lots(wh, skus[(use, self.location)], need, picks))
        now = self.env.now
        if moved:
            engine.emit(E.MaterialShortage(now, wo, self.location, tuple((i, q) for i, q, _ in moved),
                                           "transfer:" + ",".join(f"{i}@{o}" for i, _, o in moved)))
        if short or moved or waiting:
            if short and not quiet:
                engine.emit(E.MaterialShortage(now, wo, self.location, tuple(short), "held"))
            open_items = {o.item for o in engine.state.production.orders.values()}
            for ident, qty in short:
                # A made component with no work order open gets one for the shortfall (under a
                # planning policy the planner sees the held order's needs and plans them instead).
                if self.planner is None and self.makes(ident) and ident not in open_items:
                    self.release(ident, qty, order.due, f"parent:{wo}")
            self.held.append((wo, item))
            return False
        if substituted:
            engine.emit(E.MaterialShortage(now, wo, self.location, tuple((s.split("->")[0], 0.0) for s in substituted),
                                           "substituted:" + ",".join(substituted)))
        engine.emit(E.MaterialReserved(now, wo, self.location, tuple(picks)))
        return True

    def _transfer(self, item: str, qty: float, wo: int) -> str:
        """Ship ``qty`` of a short component from the first other warehouse with that much free
        (first expiring lots first) to the raw-material warehouse; the origin's id, or '' if none."""
        engine = self.engine
        for ident, ops in engine.warehouses.items():
            sku = engine.state.skus.get((item, ident))
            if ident == self.location or sku is None or sku.on_hand - sku.reserved < qty - 1e-9:
                continue
            if (item, self.location) not in engine.state.skus:
                return ""
            lots = tuple((lot, q) for _, lot, q in self._lots(ops, sku, qty, []))
            if sum(q for _, q in lots) < qty - 1e-9:
                continue  # free stock partly expired
            dates = [d for d in (sku.find_lot(lot).expiry for lot, _ in lots) if d is not None]
            expiry = min(dates) if dates else None
            transfer = self._transfer_ids()
            now = self.env.now
            engine.emit(E.TransferShipped(now, transfer, item, ident, self.location, lots,
                                          now + self.spec.transfer_time))
            self.in_transfer.setdefault(wo, set()).add(item)
            self.env.process(self._arrive(transfer, item, qty, expiry, wo))
            return ident
        return ""

    def _arrive(self, transfer: int, item: str, qty: float, expiry: float | None, wo: int) -> Any:
        yield self.env.timeout(self.spec.transfer_time)
        # Reserved for the order it was shipped for, if that order still waits for material (it
        # may have gone ahead with a substitute meanwhile: then the lot is plain free stock).
        order = self.engine.state.production.orders.get(wo)
        waiting = order is not None and order.status == "held"
        self.engine.emit(E.TransferReceived(self.env.now, transfer, item, self.location,
                                            self.engine.next_id("lot"), qty, expiry, wo if waiting else -1))
        self.in_transfer.get(wo, set()).discard(item)
        if not self.in_transfer.get(wo):
            self.in_transfer.pop(wo, None)
        self._retry_held()

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

    def replan(self, trigger: str = "cycle") -> None:
        """CP-SAT plan of the released work orders' remaining operations on the machines in
        service; re-sort the machine queues. Recorded as a ``ScheduleReplanned`` event."""
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
                members = self.group_machines[op.machine_group]
                # A group with every machine down keeps them all: the work waits for a repair.
                eligible = [m for m in members if m not in self.down] or members
                ops.append(Operation({m: minutes for m in eligible}))
            if ops:
                jobs.append((first, Job(f"{wo}", tuple(ops), due=max(0, round((order.due - now) * 60)),
                                        family=routing.family)))
        if not jobs:
            return
        changeovers = {k: round(v * 60) for k, v in self.changeover.items()}
        n_ops = sum(len(j.operations) for _, j in jobs)
        try:
            sched = solve_cp_sat([j for _, j in jobs], "weighted_tardiness", changeovers,
                                 time_limit=max(10.0 * self.spec.replan_effort, 5.0), workers=1, seed=0,
                                 deterministic_time=self.spec.replan_effort)
        except SchedulingError:
            # Keep the last plan; new operations queue by due date.
            self.engine.emit(E.ScheduleReplanned(now, trigger, len(jobs), n_ops, "NO_SCHEDULE", float("nan")))
            return
        self.engine.emit(E.ScheduleReplanned(now, trigger, len(jobs), n_ops, sched.status,
                                             sched.weighted_tardiness / 60.0))
        offset = {j.id: first for first, j in jobs}
        self.plan = {(int(a.job), offset[a.job] + a.op): now + a.start / 60.0 for a in sched.assignments}
        for group in self.groups.values():
            for req in group.queue:
                key = self.waiting.get(req)
                if key in self.plan:
                    req.priority = self.plan[key]  # type: ignore[attr-defined]
                    req.key = (req.priority, req.time, not req.preempt)  # type: ignore[attr-defined]
            group.queue.sort(key=lambda r: r.key)  # type: ignore[attr-defined]

    # -- machines in and out of service ----------------------------------------------------------------

    def _asset_changed(self, asset: Any) -> None:
        """The maintenance asset of a machine changed state (failed, stopped, running again)."""
        machine = asset.id
        if asset.status == "running":
            if machine in self.down:
                self._machine_up(machine)
        elif machine not in self.down:
            self._machine_down(machine, "failed" if asset.status == "failed" else asset.stop_reason or "stopped")

    def _machine_down(self, machine: str, reason: str) -> None:
        group = self.machine_group[machine]
        resource = self.groups[group]
        self.down.add(machine)
        self.engine.emit(E.MachineDown(self.env.now, machine, reason))
        # The group has one unit less; SimPy has no public way to change a resource's capacity.
        resource._capacity -= 1  # type: ignore[attr-defined]
        if machine in self.idle[group]:
            self.idle[group].remove(machine)
        elif machine in self.busy:
            self.busy[machine].interrupt(reason)  # the operation stops and queues again
        if self.spec.dispatch == "cp_sat":
            self.replan(f"machine_down:{machine}")

    def _machine_up(self, machine: str) -> None:
        group = self.machine_group[machine]
        resource = self.groups[group]
        self.down.discard(machine)
        self.engine.emit(E.MachineUp(self.env.now, machine))
        self.idle[group].append(machine)
        resource._capacity += 1  # type: ignore[attr-defined]
        resource._trigger_put(None)  # grant a waiting operation the unit back

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
                engine.emit(E.ProductionReworked(env.now, wo, item, self.receives_at[item], redo, last))
                yield from self._operate(wo, order, routing, last, redo, 0.0)
        self._running.discard(wo)
        self.started.difference_update({(wo, k) for k in range(len(routing.operations))})
        self.plan = {key: v for key, v in self.plan.items() if key[0] != wo}
        self._complete(wo, item, order, routing)

    def _operate(self, wo: int, order: Any, routing: Routing, k: int, qty: float, base_setup: float) -> Any:
        """One operation of a work order on a machine of its group: queue, set up, run ``qty`` units.
        If the machine goes down part-way the rest of the run queues again, ahead of new work."""
        engine = self.engine
        env = self.env
        op = routing.operations[k]
        group = self.groups[op.machine_group]
        idle = self.idle[op.machine_group]
        priority = self._priority(order, routing, k)
        run_left = op.run * qty
        while True:
            req = group.request(priority=priority)  # type: ignore[arg-type]
            self.waiting[req] = (wo, k)
            yield req
            del self.waiting[req]
            if not idle:  # the machine this unit stood for went down before the grant was taken
                group.release(req)
                continue
            self.started.add((wo, k))
            machine = min(idle, key=lambda m: (self._change(m, routing.family), idle.index(m)))
            idle.remove(machine)
            # After an interruption the order's own set-up is done again on whichever machine runs the rest.
            setup = base_setup + self._change(machine, routing.family)
            engine.emit(E.OperationStarted(env.now, wo, k, machine, setup))
            began = env.now
            self.busy[machine] = env.active_process
            metered = machine in self.metered
            if metered:
                engine.maintenance.start_use(machine, began + setup)
            try:
                yield env.timeout(setup + run_left)
            except simpy.Interrupt as stop:
                del self.busy[machine]
                if metered:
                    engine.maintenance.end_use(machine)
                ran = max(0.0, env.now - began - setup)
                if env.now - began >= setup:
                    self.last_family[machine] = routing.family
                run_left -= ran
                engine.emit(E.OperationInterrupted(env.now, wo, k, machine, ran, str(stop.cause)))
                group.release(req)
                priority = float("-inf")  # work already begun goes first when a machine is free
                continue
            del self.busy[machine]
            if metered:
                engine.maintenance.end_use(machine)
            self.last_family[machine] = routing.family
            engine.emit(E.OperationCompleted(env.now, wo, k, machine, run_left))
            idle.append(machine)
            group.release(req)
            return

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
                engine.emit(E.ProductionScrapped(now, wo, item, self.receives_at[item], scrap, "quality"))
        if order.reserved:
            engine.emit(E.MaterialIssued(now, wo, self.location, tuple(order.reserved)))
        good = order.qty - scrap
        into = self.receives_at[item]
        engine.emit(E.ProductionReceived(now, wo, item, into, engine.next_id("lot"), good))
        if good > 0:
            engine.warehouses[into].serve_backlog(engine.state.skus[(item, into)])
        if good > 0 and self.held and into == self.location:
            self._retry_held()  # a sub-assembly came in: orders waiting for it need not wait an hour
