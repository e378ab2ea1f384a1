"""The engine: one SimPy environment, one state, one event log, the domain processes around them."""

from __future__ import annotations

import gc
import itertools
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from heapq import heappop, heappush
from typing import Any

import simpy
from simpy.events import URGENT

from policies.base import load_policy
from twin.errors import TwinError
from twin.model.events import EventLog
from twin.model.scenario import Scenario
from twin.model.state import HANDLERS, State
from twin.rng import Streams
from twin.sim.layout import Layout, compile_layout

__all__ = ["Engine", "RunOutput", "run_replication", "Call"]


@dataclass
class RunOutput:
    """What one replication leaves behind: its event log and final state."""

    replication: int
    log: EventLog
    state: State
    horizon: float
    simpy_events: int
    start: float = 0.0  # when the run started (a fork's site time, ``Scenario.opening.at``); it ends at horizon


class Call:
    """A scheduled call: the cheapest thing SimPy's event queue can hold.

    The hot paths (an order arriving, a picker starting and finishing a pick) push
    ``(time, priority, eid, call)`` onto the environment's queue exactly where SimPy would push its
    own event, taking the eid from SimPy's counter, so the order in which everything happens is
    SimPy's order. When its turn comes the engine's loop calls ``call.fn(call)``; ``a``, ``b`` and
    ``c`` carry the call's data. It also works under SimPy's own ``Environment.step``.
    """

    __slots__ = ("fn", "a", "b", "c")
    _ok = True  # as a processed SimPy event would say

    def __init__(self, fn: Any, a: Any = None, b: Any = None, c: Any = None) -> None:
        self.fn = fn
        self.a = a
        self.b = b
        self.c = c

    @property
    def callbacks(self) -> list[Any]:
        return [self._fire]

    @callbacks.setter
    def callbacks(self, _: Any) -> None:  # SimPy clears the callbacks of an event it processes
        pass

    def _fire(self, _: Any) -> None:
        self.fn(self)


class Engine:
    """Assembles the domain processes of a scenario for one replication and runs them."""

    def __init__(self, scenario: Scenario, seed: int, replication: int = 0, layout: Layout | None = None) -> None:
        from twin.sim.demand import DemandProcess
        from twin.sim.disruptions import DisruptionProcess
        from twin.sim.policy_runner import PolicyRunner
        from twin.sim.supply import SupplyModel
        from twin.sim.warehouse import WarehouseOps

        self.scenario = scenario
        self.layout = layout or compile_layout(scenario)
        # A run starts at 0 (a Monday 00:00), a fork from the live site at the site's time of week,
        # so every rule that reads the time of day or week reads the real one.
        self.start = float(scenario.opening.at) if scenario.opening is not None else 0.0
        # (SimPy's own clock starts at the integer 0: event times at the start keep their type.)
        self.env = simpy.Environment(initial_time=self.start) if self.start else simpy.Environment()
        # Calls due now at normal priority, ``(now, NORMAL, eid, call)``, in eid order: the grant or
        # release of a picker. ``schedule_now`` puts one on SimPy's heap; while ``run`` is going it
        # appends to ``due_now`` instead, which the loop merges with the heap by the same key (a
        # deque costs less than a heap push and pop for what goes to the top of the heap anyway).
        self.due_now: deque[tuple[float, int, int, Any]] = deque()
        # Two lanes of calls due later at normal priority, ``(t, NORMAL, eid, call)``, each in
        # key order by the way it is filled: ``lane``, the ends of picks (see
        # ``WarehouseOps._end_pick``: an entry goes there when it is not earlier than the last
        # one there, else on the heap), and ``arrivals``, the customer demand's next order (one at
        # a time, see ``DemandProcess._arrive``). The loop takes whichever of the heap, the lanes
        # and ``due_now`` comes first by the same key. (SimPy's heap holds the deliveries under
        # way, days ahead: a pick's end or an order would otherwise sift through them twice.)
        self.lane: deque[tuple[float, int, int, Any]] = deque()
        self.arrivals: deque[tuple[float, int, int, Any]] = deque()
        self.schedule_now: Any = partial(heappush, self.env._queue)
        self.state = State.empty(self.layout.skus)
        self.log = EventLog()
        self.streams = Streams(seed, replication)
        self.replication = replication
        self._append = self.log.events.append
        self._handlers = HANDLERS
        # The emit closure below, while it is the engine's emit; hot paths may then do what it does
        # inline (``engine.emit is engine.plain_emit``), and not once something wraps it.
        self.plain_emit: Any = None
        if type(self).emit is Engine.emit:
            self.emit = self.plain_emit = self._emitter()  # type: ignore[method-assign]
        self._ids = {"order": itertools.count(), "po": itertools.count(), "lot": itertools.count(),
                     "transfer": itertools.count()}

        pol = scenario.policies
        try:
            self.inventory_policy = load_policy(pol.inventory.use, pol.inventory.params, pol.inventory.every)
            self.allocation_policy = load_policy(pol.allocation.use, pol.allocation.params)
            self.count_policy = (
                load_policy(pol.cycle_count.use, pol.cycle_count.params, pol.cycle_count.every)
                if pol.cycle_count else None
            )
        except ValueError as exc:
            raise TwinError(str(exc)) from None

        self.warehouses = {wh.id: WarehouseOps(self, wh) for wh in scenario.site.warehouses}
        self.supply = SupplyModel(self)
        self.policies = PolicyRunner(self)
        self.disruptions = DisruptionProcess(self)
        self.demand = DemandProcess(self)
        # Maintenance, sensors and repair requests (issue 4): only on sites that have assets.
        self.maintenance: Any = None
        self.sensors: Any = None
        if scenario.site.assets or scenario.site.repair_requests or scenario.site.sensors:
            from twin.sim.maintenance import MaintenanceModel
            from twin.sim.sensors import SensorModel

            self.maintenance = MaintenanceModel(self)
            self.sensors = SensorModel(self)
        # Production lines and work orders (issue 3): only on sites that have production.
        self.production: Any = None
        if scenario.site.production is not None:
            from twin.sim.production import ProductionModel

            self.production = ProductionModel(self)
        # Vehicles and deliveries (issue 5): only on sites with a network and vehicles.
        self.fleet: Any = None
        if scenario.site.network is not None and scenario.site.vehicles:
            from twin.sim.fleet import FleetModel

            self.fleet = FleetModel(self)
            for wh in self.warehouses.values():
                wh.attach_fleet(self.fleet)
        # Floors (issue 8): picks walk the grid, only in warehouses that have a floor.
        self.floors: dict[str, Any] = {}
        if any(wh.floor is not None for wh in scenario.site.warehouses):
            from twin.sim.floor import attach_floors

            self.floors = attach_floors(self)
        # Drills (issue 8, training mode): timed incidents, and a seat for an operator (twin.sim.drill).
        self.drill: Any = None
        if scenario.drill is not None:
            from twin.sim.drill import DrillProcess

            self.drill = DrillProcess(self)

    def emit(self, event: Any) -> None:
        """Record an event and apply it to the state (the engine's only way to change state)."""
        self._append(event)
        self.state.clock = event.t
        self._handlers[type(event)](self.state, event)

    def _emitter(self) -> Any:
        """``emit`` as a closure over the log, the state and the reducer's table, which are the
        engine's for its whole life (the domain processes hold on to the state too): the same
        steps, with less looking up per event. A run emits millions of events."""
        append = self._append
        state = self.state
        handlers = self._handlers

        def emit(event: Any) -> None:
            append(event)
            state.clock = event.t
            handlers[type(event)](state, event)

        return emit

    def next_id(self, kind: str) -> int:
        return next(self._ids[kind])

    def id_counter(self, kind: str) -> Any:
        """A function returning the next id of a kind (the same numbering as ``next_id``)."""
        return self._ids[kind].__next__

    def run(self, until: float) -> RunOutput:
        self.policies.start(until)
        self.disruptions.start()
        self.demand.start(until)
        for wh in self.warehouses.values():
            wh.start()
        if self.maintenance is not None:
            self.maintenance.start()
            self.sensors.start(until)
        if self.production is not None:
            self.production.start()
        if self.fleet is not None:
            self.fleet.start()
        if self.drill is not None:
            self.drill.start()
        counter = _EventCounter(self.env)
        heap_now = self.schedule_now
        self.schedule_now = self.due_now.append
        try:
            with _collector_held():
                self._run_until(until)
        finally:
            self.schedule_now = heap_now
            # Leave the queue as SimPy would have it (``due_now`` holds something only if the run
            # failed).
            for pending in (self.due_now, self.lane, self.arrivals):
                while pending:
                    heappush(self.env._queue, pending.popleft())  # type: ignore[misc]
        return RunOutput(self.replication, self.log, self.state, until, counter.count, self.start)

    def _run_until(self, until: float) -> None:
        """``env.run(until=until)``, with the step loop inlined and a fast path for ``Call`` entries.

        Events are taken off the queue (and ``due_now``) in SimPy's order (time, priority, eid) and
        processed as ``Environment.step`` does; the run stops at ``until`` before anything else due
        then. (The heap is never empty before that: the stop event is in it.)
        """
        env = self.env
        at = float(until)
        if at <= env.now:
            raise ValueError(f"until ({at}) must be greater than the current simulation time")
        stop = simpy.Event(env)
        stop._ok = True
        stop._value = None
        env.schedule(stop, URGENT, at - env.now)
        queue: list[Any] = env._queue
        due_now = self.due_now
        take_due = due_now.popleft
        lane = self.lane
        arrivals = self.arrivals
        call = Call
        event: Any
        while True:
            if lane or arrivals:
                # The first of the lanes' first calls, if it comes before anything in the heap.
                head = queue[0]
                taken = None
                if lane:
                    first = lane[0]
                    if first[0] < head[0] or (first[0] == head[0] and first < head):
                        head, taken = first, lane
                if arrivals:
                    first = arrivals[0]
                    if first[0] < head[0] or (first[0] == head[0] and first < head):
                        head, taken = first, arrivals
                if taken is not None:
                    if due_now and due_now[0] < head:
                        event = take_due()[3]
                        event.fn(event)
                        continue
                    taken.popleft()
                    env._now = head[0]  # type: ignore[attr-defined]
                    event = head[3]
                    event.fn(event)
                    continue
            if due_now and due_now[0] < queue[0]:
                # Due now, before anything in the heap: env.now is already its time.
                event = take_due()[3]
                event.fn(event)
                continue
            now, _, _, event = heappop(queue)
            env._now = now  # type: ignore[attr-defined]
            if event.__class__ is call:
                event.fn(event)
                continue
            if event is stop:
                return
            callbacks, event.callbacks = event.callbacks, None
            for callback in callbacks:
                callback(event)
            if not event._ok and not hasattr(event, "_defused"):
                # A process failed and nobody handled it: raise its error (as SimPy does).
                exc = type(event._value)(*event._value.args)
                exc.__cause__ = event._value
                raise exc


_gc_lock = threading.Lock()
_gc_runs = 0
_gc_enabled = True


@contextmanager
def _collector_held() -> Iterator[None]:
    """Hold off Python's cyclic garbage collector while a run is going.

    A run appends millions of event tuples to its log. They live as long as the log, and since
    events are NamedTuples (not plain tuples) the cyclic collector never stops tracking them:
    every young collection walks the events made since the last one (twice, as they move up the
    generations), and every full collection walks the whole log again (one at every 25% of
    growth, which made up about 40% of a large run). Events hold no references that could form a
    cycle, so that walking finds nothing. The collector is off while runs are going; at the end
    everything the run made is moved at once (``gc.freeze``/``gc.unfreeze``, no walk) to the oldest
    generation, where the next full collection frees the run's cyclic garbage (finished SimPy
    processes, a few tens of thousands of small objects a simulated month). If something else
    froze objects, they are left frozen and the young generations are left to the collector.
    The collector's state is put back when the last of overlapping runs in threads ends.
    """
    global _gc_runs, _gc_enabled
    with _gc_lock:
        if _gc_runs == 0:
            _gc_enabled = gc.isenabled()
            gc.disable()
        _gc_runs += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_runs -= 1
            if _gc_runs == 0:
                if gc.get_freeze_count() == 0:
                    gc.freeze()
                    gc.unfreeze()
                if _gc_enabled:
                    gc.enable()


class _EventCounter:
    """Counts the SimPy events the run processed (for the benchmark's events-per-second figure)."""

    def __init__(self, env: simpy.Environment) -> None:
        self.env = env
        # SimPy numbers every scheduled event from one counter; reading it costs one number.
        self._start = next(env._eid)  # type: ignore[attr-defined]

    @property
    def count(self) -> int:
        return int(next(self.env._eid) - self._start - 1)  # type: ignore[attr-defined]


def run_replication(scenario: Scenario, seed: int, replication: int, horizon: float | None = None) -> RunOutput:
    """Run one replication of a scenario over ``horizon`` hours from its start and return its event log."""
    engine = Engine(scenario, seed, replication)
    return engine.run(engine.start + (horizon if horizon is not None else scenario.horizon))
