"""Shadow mode (issue 7, point 6): the site's configured policies run beside the live site, and say
what they would do, without doing it.

The scenario's inventory policy (and its cycle-count policy, if it has one) are the same objects the
simulation runs (``policies.base.load_policy``). They see the live state through the same
observation (``InventoryObservation``) and return the same actions; each action is checked as the
simulation checks it, and published as a *recommendation*: kept for ``GET /twin/recommendations``
and sent as JSON to the MQTT topic ``lems/<site>/recommendations``. Nothing is applied: no event is
stored, the state does not change (an action the checks refuse is published with its reason).

When a policy runs: in *site time*, the time of the latest event the twin has applied. A policy
with a review period (``every: 1d``, or its own default) is reviewed when the site clock first
reaches a review time: the first review at the first clock the shadow sees, the next ones every
period after it; when the clock jumps over several review times (a quiet site, a burst of late
events), one review runs on the state at hand. A continuous-review policy (no period) runs when an
SKU's inventory position drops to its reorder point, once per crossing: the site has not acted on
the last recommendation yet, so the position stays low, and repeating the same advice on every
event would only be noise. The shadow looks at the twin every ``interval`` seconds of wall clock
(default 0.2 s) and only does work when the twin's state has changed.

On a site with assets, the maintenance policy (the scenario's, or run-to-failure with greedy
dispatch, as in the simulation) runs too, on the observations the simulation builds
(``twin.model.maintenance.asset_view``):

- dispatch: whenever the work waiting for a technician or the technicians free change, its dispatch
  rule pairs them (``AssignTechnician``). Waiting work is the open work orders with no technician,
  plus a corrective work order *to open* for each failed asset that has none yet (the simulation
  opens one at each failure; the site may not have): its ``work_order`` is null and ``opens`` says
  so. A technician is free when no open work order holds them and their shift (in site time, hours
  from a Monday 00:00 as in the simulation) covers the site clock; they are taken to be at home
  (the live state does not follow technicians);
- planned work: on the policy's review period, and at once when a sensor alarm is newly raised for
  a policy that subscribes to alarms, ``decide`` asks for preventive work (``ScheduleMaintenance``).

On a plant with a production policy (MRP), the planner runs on its review period (default daily)
on ``twin.model.production_plan.planning_observation`` and its planned releases are published:
``ReleaseWorkOrder`` for made items, ``PlaceOrder`` for bought ones.

On a site with vehicles, the dispatch policy (the scenario's, or ``vrp`` as in the simulation) runs
on its wave cycle (``every``, default 1 h) in site time, and at once when an urgent (priority 1)
consignment newly waits and the policy dispatches those at once, whenever consignments wait at a
dock. It sees the observation the simulation's waves build (``twin.sim.fleet.fleet_observation``)
from the live fleet state: the waiting consignments, those on board, each vehicle idle at its depot
(no trip, not broken down, on shift) or under way (where it heads and when it is done there, as the
fork reckons it: ``twin.live_forecast.vehicles_under_way``). Its ``DispatchRoute`` and
``DivertVehicle`` actions are checked as the simulation checks them and published.

Each recommendation carries the ``location`` it concerns (a warehouse, or null for an asset that
stands in none), so a key scoped to a warehouse sees only its own (``latest(..., warehouse=)``).
"""

from __future__ import annotations

import dataclasses
import json
import math
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

import numpy as np
import paho.mqtt.client as mqtt

from policies.base import load_policy
from policies.maintenance import Reactive
from twin.errors import TwinError
from twin.live import LiveTwin
from twin.live_forecast import vehicles_under_way
from twin.model.actions import CountStock, PlaceOrder
from twin.model.fleet_actions import DispatchRoute, DivertVehicle, FleetObservation, VehicleView
from twin.model.maintenance import (
    AssignTechnician,
    DispatchObservation,
    MaintenanceObservation,
    ScheduleMaintenance,
    TechnicianView,
    WorkOrderView,
    asset_view,
    status_age,
)
from twin.model.maintenance_state import AssetStatus
from twin.model.observations import InventoryObservation, inventory_observation_of
from twin.model.production_plan import PlanningScope, ReleaseWorkOrder, planning_observation
from twin.model.state import State
from twin.rng import Streams
from twin.sim.fleet import fleet_observation, travel_matrices
from twin.sim.fleet_roads import INF, RoadNetwork
from twin.sim.laws import WEEK, shift_windows
from twin.sim.layout import Layout, compile_layout
from twin.sim.policy_runner import inventory_action_problem

__all__ = ["ShadowRunner", "MqttPublisher", "inventory_observation", "maintenance_views", "FleetViews"]

Publish = Callable[[dict[str, Any]], None]
PLANNED = ("preventive", "condition", "predictive")  # the planned kinds of work (twin.sim.maintenance)


def inventory_observation(state: State, layout: Layout, rng: np.random.Generator | None = None) -> InventoryObservation:
    """What an inventory policy sees of ``state``: the observation the simulation's policy runner
    builds, at the state's clock, with the site's stated demand and lead-time laws."""
    clock = state.clock if math.isfinite(state.clock) else 0.0
    return inventory_observation_of([state.skus[s] for s in layout.skus], clock, layout.params,
                                    state.disruptions, rng)


def maintenance_views(state: State, layout: Layout, now: float,
                      rng: np.random.Generator | None = None) -> tuple[MaintenanceObservation, DispatchObservation]:
    """What a maintenance policy sees of ``state`` at ``now``: its assets (the simulation's
    ``asset_view`` on the live asset status), readings and open work orders; and, for its dispatch
    rule, the work waiting for a technician (with a corrective work order to open, numbered -1, -2,
    ..., for each failed asset that has none) and the technicians free and on shift."""
    site = layout.scenario.site
    m = state.maintenance
    production = state.production
    machines = {mc for line in site.production.lines for mc in line.machines} if site.production else set()
    position = {a.id: a.position for a in site.assets}
    views = []
    waiting: list[WorkOrderView] = []
    for spec in site.assets:
        st = m.assets.get(spec.id) or AssetStatus(spec.id)
        run_hours = production.run_hours_at(spec.id, now) if spec.id in machines else None
        views.append(asset_view(spec, st, now, status_age(st, now), run_hours))
        if st.status == "failed" and not st.open_work_orders:
            waiting.append(WorkOrderView(-1 - len(waiting), spec.id, "corrective", spec.priority, spec.skill,
                                         st.since, spec.position))
    orders = [WorkOrderView(o.wo, o.asset, o.kind, o.priority, o.skill, o.created, position.get(o.asset))
              for o in sorted(m.work_orders.values(), key=lambda o: (o.created, o.wo))]
    waiting = [o for o in orders if m.work_orders[o.wo].technician is None] + waiting
    week = now % WEEK
    free = []
    for t in site.technicians:
        windows = shift_windows(t.shifts)
        on_shift = windows is None or any(a <= week < b for a, b in windows)
        if on_shift and t.id not in m.busy:
            free.append(TechnicianView(t.id, frozenset(t.skills), t.home, t.speed))
    readings = {k: tuple(v) for k, v in m.readings.items()}
    return (MaintenanceObservation(now, tuple(views), readings, tuple(orders), rng),
            DispatchObservation(now, tuple(waiting), tuple(free)))


class FleetViews:
    """What the dispatch policy sees of a live state: ``observe(state)`` builds the observation the
    simulation's waves build, with the vehicles as the live fleet state and the events tell."""

    def __init__(self, scenario: Any) -> None:
        site = scenario.site
        assert site.network is not None
        self.scenario = scenario
        self.net = RoadNetwork(site.network)
        self.nodes = {n.id: n for n in site.network.nodes}
        self.specs: dict[str, Any] = {}
        for spec in site.vehicles:
            for k in range(spec.count):
                self.specs[spec.id if spec.count == 1 else f"{spec.id}-{k + 1}"] = spec
        self.windows = {ident: shift_windows(spec.shifts) if spec.shifts else None
                        for ident, spec in self.specs.items()}
        self.speed = float(np.median([s.speed for s in self.specs.values()])) if self.specs else 60.0

    def observe(self, state: State) -> FleetObservation:
        now = state.clock if math.isfinite(state.clock) else 0.0
        fleet = state.fleet
        under_way = {u["vehicle"]: u for u in vehicles_under_way(self.scenario, state)}
        views = []
        for ident, spec in self.specs.items():
            windows = self.windows[ident]
            on_shift = windows is None or any(a <= now % WEEK < b for a, b in windows)
            idle = ident not in fleet.on_trip and ident not in fleet.broken and on_shift
            u = under_way.get(ident)
            heading: str | None = None
            stops: tuple[int, ...] = ()
            free_at = weight = volume = 0.0
            if u is not None and ident not in fleet.broken:
                heading = u["next"]
                # done there: arrived and unloaded (the simulation's free_at), home once at the depot
                free_at = u["free_at"] + (self.nodes[heading].service_time if u["stops"] else 0.0)
                stops = tuple(u["stops"][1:])
                weight = sum(fleet.consignments[c].weight for c in stops)
                volume = sum(fleet.consignments[c].volume for c in stops)
            cap_v = spec.capacity_volume if spec.capacity_volume is not None else INF
            views.append(VehicleView(ident, spec.kind, spec.depot, idle, spec.capacity_weight, cap_v, spec.speed,
                                     spec.depot, heading, free_at, stops, weight, volume, spec.load_time * 60))
        closed = frozenset(fleet.closed_roads)
        matrices = travel_matrices(self.net, closed, self.net.congestion(now), self.speed)
        return fleet_observation(now, fleet, self.net, self.nodes, matrices, tuple(views))


class _Policy:
    def __init__(self, domain: str, use: str, obj: Any) -> None:
        self.domain = domain
        self.name = getattr(obj, "policy_name", use)
        self.obj = obj
        self.review: float | None = getattr(obj, "review", None)
        self.next_review: float | None = None  # site time of the next review (periodic)
        self.below: np.ndarray | None = None  # continuous: SKUs at or below their reorder point
        self.dispatch_key: Any = None  # maintenance: the waiting work and free technicians last paired
        self.alarms: frozenset[str] = frozenset()  # maintenance: the sensor alarms raised at the last look

    def due(self, clock: float) -> bool:
        """A periodic review is due at ``clock`` (and the next one is set)."""
        if self.review is None or (self.next_review is not None and clock < self.next_review):
            return False
        first = self.next_review if self.next_review is not None else clock
        self.next_review = first + (math.floor((clock - first) / self.review) + 1) * self.review
        return True


class ShadowRunner:
    """Runs the scenario's policies on ``twin``'s state and publishes what they recommend."""

    def __init__(self, twin: LiveTwin, publish: list[Publish] | None = None, keep: int = 1000,
                 interval: float = 0.2) -> None:
        self.twin = twin
        self.publish = list(publish or [])
        self.interval = interval
        self.layout = compile_layout(twin.scenario)
        scenario = twin.scenario
        pol = scenario.policies
        # The policies' own stream, by name, from the scenario's seed (the simulation's reviews use
        # ("policy", "inventory") of replication r; the shadow is none of them).
        streams = Streams(scenario.seed, 0)
        refs = [("inventory", pol.inventory)] + ([("cycle_count", pol.cycle_count)] if pol.cycle_count else [])
        self.policies: list[_Policy] = []
        for domain, ref in refs:
            try:
                obj = load_policy(ref.use, ref.params, ref.every)
            except ValueError as exc:
                raise TwinError(f"shadow mode: {exc}") from None
            p = _Policy(domain, ref.use, obj)
            if p.review is None and not callable(getattr(obj, "reorder_points", None)):
                raise TwinError(f"shadow mode: policy {ref.use!r} reviews continuously but has no "
                                "reorder_points(observation); give it a review period ('every: 1d')")
            if p.review is not None and not p.review > 0:
                raise TwinError(f"shadow mode: policy {ref.use!r}: review period must be positive, got {p.review}h")
            self.policies.append(p)
        site = scenario.site
        if site.assets:  # the simulation's default: run to failure, greedy dispatch
            upkeep = pol.maintenance
            try:
                obj = (load_policy(upkeep.use, upkeep.params, upkeep.every) if upkeep is not None
                       else Reactive(Reactive.Params()))
            except ValueError as exc:
                raise TwinError(f"shadow mode: {exc}") from None
            self.policies.append(_Policy("maintenance", upkeep.use if upkeep is not None else "reactive", obj))
        self.scope: PlanningScope | None = None
        if pol.production is not None and site.production is not None:
            planner = pol.production
            try:
                obj = load_policy(planner.use, planner.params, planner.every)
            except ValueError as exc:
                raise TwinError(f"shadow mode: {exc}") from None
            p = _Policy("production", planner.use, obj)
            p.review = float(p.review or 24.0)  # as the simulation's planner
            self.policies.append(p)
            self.scope = PlanningScope.of(site.production, self.layout.sku_index)
        self.fleet: FleetViews | None = None
        if site.network is not None and site.vehicles:  # the simulation's default: vrp
            route = pol.dispatch
            try:
                obj = (load_policy(route.use, route.params, route.every) if route is not None
                       else load_policy("vrp", {}))
            except ValueError as exc:
                raise TwinError(f"shadow mode: {exc}") from None
            p = _Policy("dispatch", route.use if route is not None else "vrp", obj)
            p.review = float(p.review or 1.0)  # the simulation's waves
            self.policies.append(p)
            self.fleet = FleetViews(scenario)
        self.made = {r.item: site.production.receives_at(r.item) for r in site.production.routings} \
            if site.production is not None else {}
        warehouses = {w.id for w in site.warehouses}
        self.asset_location = {a.id: a.location if a.location in warehouses else None for a in site.assets}
        self._rngs = {p.domain: streams.get("shadow", p.domain) for p in self.policies}
        self.recommendations: deque[dict[str, Any]] = deque(maxlen=keep)
        self.reviews = 0
        self.count = 0  # recommendations made so far (the index of the next one)
        self._seen = -1
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- running -------------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="shadow", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop reviewing and close the sinks that can be closed (the MQTT connection)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        for sink in self.publish:
            close = getattr(sink, "close", None)
            if callable(close):
                close()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.step()

    def step(self) -> list[dict[str, Any]]:
        """Review whatever is due on the twin's current state; returns the published messages."""
        with self._lock:
            if self.twin.version == self._seen:
                return []
            # A consistent view under the twin's lock; deciding happens after it is let go.
            version, seen = self.twin.view(  # nothing applied yet: no site time, nothing to review
                lambda state: self._observe(state) if self.twin.counts["applied"] else None)
            self._seen = version
            if seen is None:
                return []
            messages: list[dict[str, Any]] = []
            for p in self.policies:
                if p.domain == "maintenance":
                    messages.extend(self._maintain(p, seen["maintenance"], version))
                    continue
                if p.domain == "dispatch":
                    message = self._dispatch(p, seen["dispatch"], version)
                    if message is not None:
                        messages.append(message)
                    continue
                message = (self._plan(p, seen["production"], version) if p.domain == "production"
                           else self._review(p, seen["inventory"], version))
                if message is not None:
                    messages.append(message)
            for message in messages:
                for sink in self.publish:
                    sink(message)
            return messages

    def _observe(self, state: State) -> dict[str, Any]:
        obs = inventory_observation(state, self.layout)
        seen: dict[str, Any] = {"inventory": obs}
        if any(p.domain == "maintenance" for p in self.policies):
            alarms = frozenset(state.maintenance.alarms)
            seen["maintenance"] = (*maintenance_views(state, self.layout, obs.now, self._rngs["maintenance"]), alarms)
        if self.fleet is not None:
            seen["dispatch"] = self.fleet.observe(state)
        if self.scope is not None:
            layout = self.layout
            seen["production"] = planning_observation(self.scope, state, layout.params, layout.sku_index,
                                                      layout.supplier_of, obs.now)
        return seen

    def _message(self, p: _Policy, clock: float, trigger: str, version: int,
                 actions: Any, recommend: Callable[[Any, dict[str, Any]], None]) -> dict[str, Any] | None:
        """Publishable message of a review's ``actions`` (None if it recommends nothing);
        ``recommend(action, rec)`` fills in each recommendation's own fields."""
        self.reviews += 1
        recs = []
        for action in actions or ():
            rec: dict[str, Any] = {"index": self.count, "t": clock, "policy": p.name, "trigger": trigger,
                                   "state_version": version, "action": type(action).__name__}
            self.count += 1
            recommend(action, rec)
            self.recommendations.append(rec)
            recs.append(rec)
        if not recs:
            return None
        return {"site": self.twin.scenario.site.name, "t": clock, "policy": p.name, "domain": p.domain,
                "trigger": trigger, "state_version": version, "recommendations": recs}

    def _maintain(self, p: _Policy, seen: tuple[MaintenanceObservation, DispatchObservation, frozenset[str]],
                  version: int) -> list[dict[str, Any]]:
        obs, dispatch, alarms = seen
        out = []
        # Dispatch: whenever the work waiting or the technicians free change (not on every event).
        key = (tuple((w.wo, w.asset) for w in dispatch.work_orders), tuple(t.id for t in dispatch.technicians))
        if key != p.dispatch_key:
            p.dispatch_key = key
            if dispatch.work_orders and dispatch.technicians:
                message = self._message(p, obs.now, "dispatch", version, p.obj.assign(dispatch),
                                        lambda action, rec: self._assignment(action, rec, dispatch))
                if message is not None:
                    out.append(message)
        # Planned work: on the review period, or a newly raised alarm for a policy that subscribes.
        raised = alarms - p.alarms
        p.alarms = alarms
        trigger = "review" if p.due(obs.now) else "alarm" if raised and "SensorAlarm" in getattr(
            p.obj, "subscribes", ()) else None
        if trigger is not None:
            view = dataclasses.replace(obs, rng=self._rngs[p.domain])
            message = self._message(p, obs.now, trigger, version, p.obj.decide(view),
                                    lambda action, rec: self._scheduled(action, rec, obs))
            if message is not None:
                out.append(message)
        return out

    def _dispatch(self, p: _Policy, obs: FleetObservation, version: int) -> dict[str, Any] | None:
        """A dispatch wave on the live fleet: on the policy's period, or at once for an urgent
        consignment newly waiting (when the policy dispatches those at once); only when some wait."""
        urgent = frozenset(c.id for c in obs.consignments if c.priority == 1)
        raised = urgent - (p.dispatch_key or frozenset())
        p.dispatch_key = urgent
        at_once = getattr(getattr(p.obj, "params", None), "dispatch_at_once", True)
        trigger = "wave" if p.due(obs.now) else "emergency" if raised and at_once else None
        if trigger is None or not obs.consignments:
            return None
        return self._message(p, obs.now, trigger, version, p.obj.decide(obs),
                             lambda action, rec: self._route(action, rec, obs))

    def _route(self, action: Any, rec: dict[str, Any], obs: FleetObservation) -> None:
        """A ``DispatchRoute`` or ``DivertVehicle``, checked as the simulation checks it
        (``twin.sim.fleet.FleetModel.apply_action``)."""
        waiting = {c.id: c for c in obs.consignments}
        vehicles = {v.id: v for v in obs.vehicles}
        if isinstance(action, DispatchRoute):
            v = vehicles.get(action.vehicle)
            rec.update(vehicle=action.vehicle, consignments=list(action.consignments),
                       location=v.at if v is not None else None,
                       destinations=[waiting[c].destination if c in waiting else None for c in action.consignments])
            rec["rejected"] = self._check_route(action, v, waiting)
        elif isinstance(action, DivertVehicle):
            v = vehicles.get(action.vehicle)
            rec.update(vehicle=action.vehicle, consignment=action.consignment, location=action.warehouse,
                       stops=list(action.stops))
            rec["rejected"] = self._check_divert(action, v, waiting, obs)
        else:
            rec["rejected"] = f"not an action the dispatch domain knows: {type(action).__name__}"

    @staticmethod
    def _room(v: VehicleView, weight: float, volume: float) -> str | None:
        if weight > v.capacity_weight + 1e-9:
            return f"load {weight:g} kg exceeds vehicle {v.id!r} capacity {v.capacity_weight:g} kg"
        if volume > v.capacity_volume + 1e-9:
            return f"load {volume:g} m3 exceeds vehicle {v.id!r} capacity {v.capacity_volume:g} m3"
        return None

    def _check_route(self, action: DispatchRoute, v: VehicleView | None, waiting: dict[int, Any]) -> str | None:
        if v is None:
            return f"unknown vehicle {action.vehicle!r}"
        if not v.idle:
            return f"vehicle {v.id!r} is not idle"
        if not action.consignments or len(set(action.consignments)) != len(action.consignments):
            return "a route needs consignments, each once"
        for c in action.consignments:
            if c not in waiting:
                return f"consignment {c} is not waiting"
            if waiting[c].origin != v.at:
                return f"consignment {c} waits at {waiting[c].origin!r}, vehicle {v.id!r} is at {v.at!r}"
        return self._room(v, sum(waiting[c].weight for c in action.consignments),
                          sum(waiting[c].volume for c in action.consignments))

    def _check_divert(self, action: DivertVehicle, v: VehicleView | None, waiting: dict[int, Any],
                      obs: FleetObservation) -> str | None:
        if v is None:
            return f"unknown vehicle {action.vehicle!r}"
        con = waiting.get(action.consignment)
        if con is None:
            return f"consignment {action.consignment} is not waiting"
        if con.origin != action.warehouse:
            return f"consignment {con.id} waits at {con.origin!r}, not {action.warehouse!r}"
        if v.idle:
            if action.stops:
                return f"vehicle {v.id!r} is idle: it has no stops to re-plan"
        elif v.heading is None:
            return f"vehicle {v.id!r} cannot be diverted now (broken down, off shift or loading)"
        elif sorted(action.stops) != sorted(v.stops):
            return f"stops {list(action.stops)} are not the consignments on board of {v.id!r} {sorted(v.stops)}"
        return self._room(v, con.weight + v.load_weight, con.volume + v.load_volume)

    def _assignment(self, action: Any, rec: dict[str, Any], obs: DispatchObservation) -> None:
        """An ``AssignTechnician``, checked as the simulation checks it (twin.sim.maintenance)."""
        if not isinstance(action, AssignTechnician):
            rec["rejected"] = f"not a dispatch action: {type(action).__name__}"
            return
        wo = next((w for w in obs.work_orders if w.wo == action.work_order), None)
        tech = next((t for t in obs.technicians if t.id == action.technician), None)
        rec.update(work_order=action.work_order if wo is None or wo.wo >= 0 else None,
                   asset=wo.asset if wo is not None else None, technician=action.technician,
                   location=self.asset_location.get(wo.asset) if wo is not None else None)
        if wo is not None and wo.wo < 0:
            rec["opens"] = "corrective"  # no work order at the site yet: open one for the failure
        if wo is not None and tech is not None:
            rec["travel_hours"] = obs.travel_hours(wo, tech)
        known = {t.id for t in self.twin.scenario.site.technicians}
        rec["rejected"] = (
            f"work order {action.work_order} is not waiting for a technician" if wo is None
            else f"unknown technician {action.technician!r}" if action.technician not in known
            else f"technician {action.technician!r} is not free" if tech is None
            else f"technician {tech.id!r} lacks skill {wo.skill!r}" if wo.skill not in tech.skills
            else None)

    def _scheduled(self, action: Any, rec: dict[str, Any], obs: MaintenanceObservation) -> None:
        """A ``ScheduleMaintenance``, checked as the simulation checks it (twin.sim.maintenance)."""
        if not isinstance(action, ScheduleMaintenance):
            rec["rejected"] = f"not a maintenance action: {type(action).__name__}"
            return
        rec.update(asset=action.asset, kind=action.kind, priority=action.priority, reason=action.reason,
                   location=self.asset_location.get(action.asset))
        a = next((v for v in obs.assets if v.id == action.asset), None)
        rec["rejected"] = (
            f"unknown asset {action.asset!r}" if a is None
            else f"asset {a.id!r} has no service task" if not a.has_service
            else f"kind must be one of {', '.join(PLANNED)}, got {action.kind!r}" if action.kind not in PLANNED
            else f"priority must be 1, 2 or 3, got {action.priority!r}" if action.priority not in (1, 2, 3)
            else f"asset {a.id!r} already has an open work order" if a.open_work_order
            else f"asset {a.id!r} is down (failed)" if a.status == "failed"
            else None)

    def _plan(self, p: _Policy, obs: Any, version: int) -> dict[str, Any] | None:
        """The production planner's review: its planned releases, checked as the simulation's
        planner checks them (twin.sim.production_planner)."""
        if not p.due(obs.now):
            return None
        return self._message(p, obs.now, "review", version, p.obj.decide(obs), self._release)

    def _release(self, action: Any, rec: dict[str, Any]) -> None:
        if not isinstance(action, (ReleaseWorkOrder, PlaceOrder)):
            rec["rejected"] = f"not a production planning action: {type(action).__name__}"
            return
        qty = action.qty
        rec.update(item=action.item, qty=float(qty) if isinstance(qty, (int, float)) else repr(qty))
        made = action.item in self.made
        if isinstance(action, ReleaseWorkOrder):
            rec.update(due=action.due, ref=action.ref, location=self.made.get(action.item))
        else:
            sup = self.layout.supplier_of.get(action.item)
            rec.update(location=action.location, supplier=sup.id if sup is not None else None)
        rec["rejected"] = self._check_release(action, made)

    def _check_release(self, action: ReleaseWorkOrder | PlaceOrder, made: bool) -> str | None:
        qty = action.qty
        if not isinstance(qty, (int, float)) or not math.isfinite(qty) or qty <= 0:
            return f"quantity must be a positive number, got {qty!r}"
        if isinstance(action, ReleaseWorkOrder):
            if not made:
                return f"item {action.item!r} has no routing; only made items get work orders"
            return None if math.isfinite(action.due) else f"due must be a time, got {action.due!r}"
        if (action.item, action.location) not in self.layout.sku_index:
            return f"unknown item {action.item!r} at location {action.location!r}"
        if made:
            return f"item {action.item!r} is made; release a work order instead of a purchase order"
        if action.supplier is not None:
            return "name no supplier: the planner buys from the item's supplier"
        return None

    def _review(self, p: _Policy, obs: InventoryObservation, version: int) -> dict[str, Any] | None:
        clock = obs.now
        view = dataclasses.replace(obs, rng=self._rngs[p.domain])
        if p.review is not None:
            if not p.due(clock):
                return None
            trigger = "review"
        else:
            below = view.inventory_position <= np.asarray(p.obj.reorder_points(view), dtype=float)
            crossed = below & ~p.below if p.below is not None else below
            p.below = below
            if not crossed.any():
                return None
            trigger = "reorder_point"
        return self._message(p, clock, trigger, version, p.obj.decide(view), self._recommend)

    def _recommend(self, action: Any, rec: dict[str, Any]) -> None:
        if isinstance(action, (PlaceOrder, CountStock)):
            rec.update(item=action.item, location=action.location)
        if isinstance(action, PlaceOrder):
            qty = action.qty
            rec["qty"] = float(qty) if isinstance(qty, (int, float)) else repr(qty)
            sup = action.supplier or (self.layout.supplier_of[action.item].id
                                      if action.item in self.layout.supplier_of else None)
            rec["supplier"] = sup
        rec["rejected"] = self._check(action)

    def _check(self, action: Any) -> str | None:
        """The simulation's checks of an action (twin.sim.policy_runner): the reason it would be
        refused, or None."""
        return inventory_action_problem(action, self.layout, {s.id: s for s in self.twin.scenario.site.suppliers})

    # -- reads ---------------------------------------------------------------------------------

    def latest(self, since: int = 0, limit: int = 200, warehouse: str | None = None) -> list[dict[str, Any]]:
        """Recommendations with index >= ``since``, the latest ``limit`` of them, oldest first;
        with ``warehouse``, only those about that warehouse (a key scoped to it)."""
        with self._lock:
            recs = [r for r in self.recommendations
                    if r["index"] >= since and (warehouse is None or r.get("location") == warehouse)]
        return recs[-limit:]


class MqttPublisher:
    """Publishes shadow-mode messages as JSON to ``lems/<site>/recommendations`` (QoS 1)."""

    def __init__(self, host: str, port: int, site: str, client_id: str | None = None) -> None:
        self.topic = f"lems/{site}/recommendations"
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id or f"lems-shadow-{site}")
        self.client.connect(host, port, keepalive=30)
        self.client.loop_start()

    def __call__(self, message: dict[str, Any]) -> None:
        self.client.publish(self.topic, json.dumps(message), qos=1)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()
