"""The engine: one SimPy environment, one state, one event log, the domain processes around them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import simpy

from policies.base import load_policy
from twin.errors import TwinError
from twin.model.events import EventLog
from twin.model.scenario import Scenario
from twin.model.state import HANDLERS, State
from twin.rng import Streams
from twin.sim.layout import Layout, compile_layout

__all__ = ["Engine", "RunOutput", "run_replication"]


@dataclass
class RunOutput:
    """What one replication leaves behind: its event log and final state."""

    replication: int
    log: EventLog
    state: State
    horizon: float
    simpy_events: int


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
        self.env = simpy.Environment()
        self.state = State.empty(self.layout.skus)
        self.log = EventLog()
        self.streams = Streams(seed, replication)
        self.replication = replication
        self._append = self.log.events.append
        self._handlers = HANDLERS
        self._next_id = {"order": 0, "po": 0, "lot": 0}

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

    def emit(self, event: Any) -> None:
        """Record an event and apply it to the state (the engine's only way to change state)."""
        self._append(event)
        self.state.clock = event.t
        self._handlers[type(event)](self.state, event)

    def next_id(self, kind: str) -> int:
        n = self._next_id[kind]
        self._next_id[kind] = n + 1
        return n

    def run(self, until: float) -> RunOutput:
        self.policies.start()
        self.disruptions.start()
        self.demand.start(until)
        for wh in self.warehouses.values():
            wh.start()
        counter = _EventCounter(self.env)
        self.env.run(until=until)
        return RunOutput(self.replication, self.log, self.state, until, counter.count)


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
    """Run one replication of a scenario and return its event log."""
    engine = Engine(scenario, seed, replication)
    return engine.run(horizon if horizon is not None else scenario.horizon)
