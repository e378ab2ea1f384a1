"""A drill inside a run (issue 8, training mode): its timed incidents, and the operator's desk.

The engine makes a ``DrillProcess`` for every scenario with a ``drill:`` block. On its own it only
injects the incidents (an asset breaking down at a set time), so a plain run of a drill file is the
automatic side of the scorecard. ``attach`` seats an operator before the run starts: the automatic
decisions of the drill's role are suppressed (the policy still runs, its share of the actions is
dropped), and the operator's commands come in through a thread-safe inbox (the view pushes into it;
a process takes them in every ``tick`` of simulated time) or a script of timed commands. Each command
becomes, at the simulated time it is taken in, the action a policy would return (``AssignTechnician``,
``PlaceOrder`` -- a transfer at a depot replenished from another warehouse --, ``DispatchRoute``, or
``DivertVehicle`` for a vehicle already under way) and goes through that domain's public
``apply_action``, the path the policies' actions take; one that cannot be carried out is an
``ActionRejected`` event from policy ``operator``, like any other.
"""

from __future__ import annotations

import math
import queue
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from policies.dispatch_emergency import resequence
from policies.maintenance import greedy_assignment
from twin.model import events as E
from twin.model.actions import PlaceOrder
from twin.model.drill import ROLES, Incident, OperatorCommand, role_commands
from twin.model.fleet_actions import DispatchRoute, DivertVehicle, FleetObservation, VehicleView
from twin.model.maintenance import DispatchObservation, TechnicianView

if TYPE_CHECKING:
    from twin.sim.engine import Engine

__all__ = ["DrillProcess", "OperatorRecord", "OPERATOR"]

OPERATOR = "operator"  # the policy name the operator's actions carry in the event log


@dataclass(frozen=True)
class OperatorRecord:
    """One command of the operator and what became of it (for the session's review)."""

    t: float
    do: str
    target: str
    action: str  # the action it became (repr), or '' when none could be formed
    outcome: str  # 'accepted' or the reason it was rejected


class _Suppressed:
    """A policy whose decisions in the operator's role are dropped; everything else passes through
    (its review period, its parameters, its other hooks)."""

    def __init__(self, inner: Any, keep: Callable[[Any], bool], method: str) -> None:
        self._inner = inner
        self._keep = keep
        self._method = method

    @property
    def policy_name(self) -> str:  # the name its remaining actions carry, as without the operator
        return str(getattr(self._inner, "policy_name", type(self._inner).__name__))

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._inner, name)
        if name != self._method:
            return value
        keep = self._keep

        def decided(*args: Any, **kwargs: Any) -> list[Any]:
            return [a for a in (value(*args, **kwargs) or ()) if keep(a)]

        return decided


class DrillProcess:
    def __init__(self, engine: Engine) -> None:
        drill = engine.scenario.drill
        assert drill is not None  # the engine makes one only for a drill
        self.engine = engine
        self.drill = drill
        self.inbox: queue.SimpleQueue[OperatorCommand] | None = None
        self.script: list[tuple[float, OperatorCommand]] = []
        self.pacer: Callable[[float], None] | None = None
        self.records: list[OperatorRecord] = []
        self.seated = False
        self.operator_items: set[str] = set()
        self._inventory: Any = None  # the automatic inventory policy, unsuppressed

    # -- seating the operator (before the run) ----------------------------------------------------

    def attach(self, inbox: queue.SimpleQueue[OperatorCommand] | None = None,
               script: Sequence[tuple[float, OperatorCommand]] = (),
               pacer: Callable[[float], None] | None = None) -> None:
        """Seat an operator in the drill's role: suppress that role's automatic decisions; take
        commands from ``inbox`` (drained every ``tick``) and ``script`` (at their times). ``pacer(t)``
        is called at every tick and may block (to hold the clock to wall time, or while paused)."""
        engine = self.engine
        self.seated = True
        self.inbox = inbox
        self.script = sorted(script, key=lambda s: s[0])
        self.pacer = pacer
        role = self.drill.operator
        if role == "maintenance_dispatch":
            mm = engine.maintenance
            mm.policy = _Suppressed(mm.policy, lambda a: False, "assign")
        elif role == "fleet_dispatch":
            fm = engine.fleet
            fm.policy = _Suppressed(fm.policy, lambda a: False, "decide")
        else:
            runner = engine.policies
            self.operator_items = engine.layout.select(self.drill.items)
            self._inventory = runner.inventory
            items = self.operator_items
            runner.inventory = _Suppressed(runner.inventory,
                                           lambda a: not (isinstance(a, PlaceOrder) and a.item in items), "decide")

    def start(self) -> None:
        env = self.engine.env
        for inc in self.drill.incidents:
            env.process(self._incident(inc))
        if not self.seated:
            return
        if self.script:
            env.process(self._scripted())
        if self.inbox is not None or self.pacer is not None:
            env.process(self._desk())

    # -- incidents ----------------------------------------------------------------------------------

    def _incident(self, inc: Incident) -> Any:
        env = self.engine.env
        yield env.timeout(inc.at)
        self.engine.maintenance.break_down(inc.asset)

    # -- the operator's commands --------------------------------------------------------------------

    def _scripted(self) -> Any:
        env = self.engine.env
        for at, command in self.script:
            if at > env.now:
                yield env.timeout(at - env.now)
            self.take(command)

    def _desk(self) -> Any:
        env = self.engine.env
        tick = float(self.drill.tick)
        inbox = self.inbox
        while True:
            if self.pacer is not None:
                self.pacer(env.now)
            if inbox is not None:
                while True:
                    try:
                        command = inbox.get_nowait()
                    except queue.Empty:
                        break
                    self.take(command)
            yield env.timeout(tick)

    def take(self, command: OperatorCommand) -> OperatorRecord:
        """Turn a command into its action now, check it and carry it out on the domain's own path."""
        engine = self.engine
        now = engine.env.now
        action: Any
        reason: str | None
        if command.do not in ROLES[self.drill.operator]:
            action, reason = None, (f"this drill's operator gives {role_commands(self.drill.operator)} commands, "
                                    f"not {command.do!r}")
        elif command.do == "dispatch":
            action, reason = self._dispatch(command)
        elif command.do in ("purchase", "transfer"):
            action, reason = self._purchase(command)
        else:
            action, reason = self._route(command)
        # A formed action that failed its domain's checks was already reported by ``apply_action``.
        if reason is not None and action is None:
            engine.emit(E.ActionRejected(now, OPERATOR, repr(command), reason))
        record = OperatorRecord(now, command.do, command.target, repr(action) if action is not None else "",
                                reason or "accepted")
        self.records.append(record)
        return record

    def _dispatch(self, command: OperatorCommand) -> tuple[Any, str | None]:
        mm = self.engine.maintenance
        waiting = [j for j in mm.backlog if not command.target or j.asset == command.target]
        if not waiting:
            what = f"for {command.target!r}" if command.target else ""
            return None, f"no work order waiting {what}".rstrip()
        free = [t for t in mm.techs.values() if t.on_shift and not t.busy]
        obs = DispatchObservation(self.engine.env.now, tuple(j.view for j in waiting),
                                  tuple(TechnicianView(t.id, t.skills, t.position, t.spec.speed) for t in free))
        # The nearest free technician with the skill, for the most urgent of the work orders asked for.
        choice = greedy_assignment(obs)[:1]
        if not choice:
            skills = ", ".join(sorted({j.skill for j in waiting}))
            return None, f"no free technician on shift with skill {skills}"
        action = choice[0]
        return action, mm.apply_action(action, obs, OPERATOR)

    def _purchase(self, command: OperatorCommand) -> tuple[Any, str | None]:
        engine = self.engine
        runner = engine.policies
        item = command.target
        if item not in self.operator_items:
            if item not in engine.layout.items:
                return None, f"unknown item {item!r}"
            return None, f"item {item!r} is bought by the automatic policy in this drill"
        places = [loc for (i, loc) in engine.layout.skus if i == item]
        transfers = engine.fleet.transfers if engine.fleet is not None else None
        if command.do == "transfer":
            # A transfer is the PlaceOrder a depot's policy returns: the depot's source ships it.
            places = sorted(loc for loc in places
                            if transfers is not None and transfers.source_of(item, loc) is not None)
            if not places:
                return None, f"no depot is replenished with {item!r} from another warehouse: use a purchase"
            if command.location is not None and command.location not in places:
                return None, (f"{command.location!r} is not replenished with {item!r} from another warehouse "
                              f"(transfers go to {', '.join(places)})")
        location = command.location
        if location is None:
            if len(places) != 1:
                return None, f"item {item!r} is stocked at {', '.join(places)}: name the location"
            location = places[0]
        qty = command.qty if command.qty is not None else self._policy_quantity(item, location)
        if qty is None:
            return None, f"the automatic policy would not order {item!r} at {location!r} now: give a quantity"
        action = PlaceOrder(item, location, float(qty))
        return action, runner.apply_action(action, OPERATOR)

    def _policy_quantity(self, item: str, location: str) -> float | None:
        """What the automatic policy would order of this SKU now; else up to its target level."""
        runner = self.engine.policies
        policy = self._inventory
        obs = runner.observation()
        for a in policy.decide(obs) or ():
            if isinstance(a, PlaceOrder) and a.item == item and a.location == location:
                return float(a.qty)
        hook = getattr(policy, "target_levels", None)
        if callable(hook):
            k = self.engine.layout.sku_index[(item, location)]
            sku = self.engine.state.skus[(item, location)]
            gap = float(hook(obs)[k]) - sku.inventory_position
            if math.isfinite(gap) and gap >= 1:
                return float(math.ceil(gap))
        return None

    def _route(self, command: OperatorCommand) -> tuple[Any, str | None]:
        fm = self.engine.fleet
        obs = fm.observation()
        if command.target and command.target not in fm.vehicles:
            return None, f"unknown vehicle {command.target!r}"
        if command.target or command.consignment is not None:
            named = next((v for v in obs.vehicles if v.id == command.target), None)
            if named is not None and not named.idle or command.consignment is not None:
                return self._divert(obs, named, command.consignment)
        idle = [v for v in obs.vehicles if v.idle and (not command.target or v.id == command.target)]
        for v in idle:
            here = [c for c in obs.consignments if c.origin == v.at
                    and obs.travel_minutes[obs.node_index[v.at], obs.node_index[c.destination]] >= 0]
            if not here:
                continue
            # Most urgent first (priority, then the end of the delivery window), as much as fits.
            load_w = load_v = 0.0
            chosen: list[int] = []
            for c in sorted(here, key=lambda c: (c.priority, c.window[1], c.ready, c.id)):
                if load_w + c.weight <= v.capacity_weight + 1e-9 and load_v + c.volume <= v.capacity_volume + 1e-9:
                    chosen.append(c.id)
                    load_w += c.weight
                    load_v += c.volume
            if not chosen:
                continue
            action = DispatchRoute(v.id, tuple(chosen))
            return action, fm.apply_action(action, OPERATOR)
        if command.target:
            return None, f"vehicle {command.target!r} is not idle, or nothing it can carry waits at its depot"
        return None, "no idle vehicle has consignments waiting at its depot"

    def _divert(self, obs: FleetObservation, v: VehicleView | None, consignment: int | None) -> tuple[Any, str | None]:
        """Re-route a vehicle (under way, or idle with a consignment named) the way the dispatch
        policy diverts one for an emergency (``DivertVehicle``): to the warehouse where the
        consignment waits (named, or the most urgent one it has room for and an open road to), load
        it and deliver it next; the stops on board follow, re-planned from there."""
        if v is None:
            return None, "name the vehicle to re-route"
        if v.heading is None and not v.idle:
            return None, f"vehicle {v.id!r} cannot be re-routed now (loading, refuelling, broken down or already " \
                "diverted)"
        carried = {c.id: c for c in obs.carried}
        start = v.heading if v.heading is not None else v.at

        def reachable(c: Any) -> bool:
            a, b, d = obs.node_index[start], obs.node_index[c.origin], obs.node_index[c.destination]
            return (a == b or obs.travel_minutes[a, b] >= 0) and obs.travel_minutes[b, d] >= 0

        if consignment is not None:
            wanted = [c for c in obs.consignments if c.id == consignment]
            if not wanted:
                return None, f"consignment {consignment} is not waiting"
        else:
            wanted = sorted((c for c in obs.consignments if reachable(c)
                             and v.load_weight + c.weight <= v.capacity_weight + 1e-9
                             and v.load_volume + c.volume <= v.capacity_volume + 1e-9),
                            key=lambda c: (c.priority, c.window[1], c.ready, c.id))
            if not wanted:
                return None, f"no waiting consignment that vehicle {v.id!r} has room for and an open road to"
        c = wanted[0]
        rest = resequence(obs, c.destination, [carried[s] for s in v.stops if s in carried])
        action = DivertVehicle(v.id, c.id, c.origin, rest)
        return action, self.engine.fleet.apply_action(action, OPERATOR)
