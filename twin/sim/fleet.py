"""Vehicles and deliveries (issue 5): consignments from warehouses to demand points on vehicles
routed by the dispatch policy, loaded through the warehouse docks.

- A shipment of an order whose customer is a network node becomes a consignment waiting at the
  warehouse dock (``ConsignmentReady``). One heavier than any vehicle based there is reported
  ``DeliveryUnserved`` at once (never silently dropped).
- The dispatch policy runs every ``review`` hours (a wave) and at once when an emergency
  consignment is ready; it sees a ``FleetObservation`` and returns ``DispatchRoute`` actions, which
  are checked (vehicle idle at that warehouse, consignments waiting there, load within capacity);
  a bad one becomes ``ActionRejected``.
- A trip: driver (with the vehicle's qualification) and escort crews if needed (a convoy waits for
  them), refuelling when the trip would exceed the range, a dock for loading, then leg by leg on
  the shortest open path at the hour's congestion. A leg whose shortest path changed because a road
  closed is ``Rerouted``; a stop with no open road is dropped from the trip (it waits again at the
  warehouse). A breakdown stops the vehicle for its repair, then the remaining stops are re-planned
  (priority, then due time). A reefer's cooling may fail during a trip; cold cargo is spoiled by
  the cold chain's one excursion rule (``twin.sim.sensors.Exposure``): ``spoil_after`` from the
  failure, or, with a temperature sensor on the vehicle that has an ``excursion``, from its alarm.
- The vehicle's physical state feeds its sensors (twin/sim/sensors.py): fuel falls with the km
  driven at ``fuel_per_km`` and is topped up by refuelling (before a trip that would run the tank
  dry, or once it is below ``refuel_below``); the cargo weight changes at loading and at each
  delivery; the doors are open while loading at the dock and unloading at a stop.
- Emergency orders from demand points carry priority 1. The dispatch policy's ``source_emergency``
  (pure, ``policies.dispatch_emergency``) picks the warehouse they are placed at: the demand point's
  own warehouse (where its demand streams are served) when it holds the stock, else the nearest one
  by travel time holding it all; the goods are picked and loaded there, by a vehicle based there or
  one diverted to it. The policy may answer an emergency consignment with ``DivertVehicle``: a
  vehicle under way (once done at the node it heads to) or idle at another depot drives to that
  warehouse, loads it at a dock there, delivers it next, then the stops still on board in the new
  order (``VehicleDiverted``, then ``Rerouted`` with reason ``emergency``).
- A depot replenished from another warehouse (the network's ``sources``) gets its stock as
  transfers carried by the fleet (twin/sim/fleet_transfers.py): ``TransferShipped`` at the origin,
  a consignment loaded at its dock, ``TransferReceived`` once unloaded at a dock of the destination.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import simpy

from policies.base import load_policy
from policies.dispatch_emergency import emergency_source
from twin.errors import TwinError
from twin.model import events as E
from twin.model.fleet_actions import ConsignmentView, DispatchRoute, DivertVehicle, FleetObservation, VehicleView
from twin.sim.fleet_roads import INF, RoadNetwork, VehicleRun
from twin.sim.fleet_transfers import DepotTransfers
from twin.sim.fleet_trips import TripsMixin
from twin.sim.laws import draw_life, shift_windows

if TYPE_CHECKING:
    from twin.sim.engine import Engine

__all__ = ["RoadNetwork", "VehicleRun", "FleetModel", "fleet_observation", "consignment_view", "travel_matrices"]


def travel_matrices(net: RoadNetwork, closed: frozenset[frozenset[str]], congestion: float,
                    speed: float) -> tuple[np.ndarray, np.ndarray]:
    """Integer metres and minutes (at ``speed`` km/h and ``congestion``) of the shortest open paths
    between the network's nodes; -1 where no road is open (read-only)."""
    km = net.km(closed)
    metres = np.where(np.isinf(km), -1, np.floor(km * 1000 + 0.5)).astype(np.int64)
    minutes = np.where(np.isinf(km), -1, np.ceil(km / speed * congestion * 60 - 1e-9)).astype(np.int64)
    for a in (metres, minutes):
        a.setflags(write=False)
    return metres, minutes


def consignment_view(c: Any, nodes: dict[str, Any]) -> ConsignmentView:
    """What the dispatch policy sees of an open consignment of the fleet state."""
    return ConsignmentView(c.id, c.order, c.origin, c.destination, c.weight, c.volume, c.priority,
                           (c.ready, c.due), nodes[c.destination].service_time * 60, c.ready)


def fleet_observation(now: float, state: Any, net: RoadNetwork, nodes: dict[str, Any],
                      matrices: tuple[np.ndarray, np.ndarray],
                      vehicles: tuple[VehicleView, ...]) -> FleetObservation:
    """The dispatch policy's observation of the fleet ``state`` (``State.fleet``) at ``now``: the
    waiting consignments, those on board, the ``vehicles`` as given and the travel ``matrices``
    (``travel_matrices``). Pure: the simulation's waves and live shadow mode both build it."""
    metres, minutes = matrices
    cons = tuple(consignment_view(c, nodes) for c in sorted(state.waiting(), key=lambda c: c.id))
    carried = tuple(consignment_view(c, nodes) for c in sorted(state.consignments.values(), key=lambda c: c.id)
                    if c.trip is not None)
    closed = frozenset(tuple(sorted(r)) for r in state.closed_roads)
    return FleetObservation(now, tuple(net.ids), dict(net.index), metres, minutes, cons, vehicles,
                            closed, carried)  # type: ignore[arg-type]


class FleetModel(TripsMixin):
    """The fleet inside the simulation: consignments, dispatch waves, trips (``TripsMixin``,
    twin/sim/fleet_trips.py), emergencies and depot-to-depot transfers (twin/sim/fleet_transfers.py)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.env = engine.env
        site = engine.scenario.site
        assert site.network is not None
        self.net = RoadNetwork(site.network)
        self.nodes = {n.id: n for n in site.network.nodes}
        self.items = engine.layout.items
        self.vehicles: dict[str, VehicleRun] = {}
        for spec in site.vehicles:
            for k in range(spec.count):
                ident = spec.id if spec.count == 1 else f"{spec.id}-{k + 1}"
                gen = engine.streams.get("vehicle", ident)
                windows = shift_windows(spec.shifts) if spec.shifts else None
                run = VehicleRun(ident, spec, gen, spec.depot, windows=windows)
                if spec.failure is not None:
                    run.life = draw_life(spec.failure, 0.0, gen)
                self.vehicles[ident] = run
        self.crews = simpy.FilterStore(self.env)
        for crew in site.crews:
            for k in range(crew.count):
                self.crews.items.append((crew.id if crew.count == 1 else f"{crew.id}-{k + 1}", crew.role,
                                         frozenset(crew.qualifications)))
        self.has_drivers = any(c.role == "driver" for c in site.crews)
        ref = engine.scenario.policies.dispatch
        try:
            self.policy = load_policy(ref.use, ref.params, ref.every) if ref else load_policy("vrp", {})
        except ValueError as exc:
            raise TwinError(str(exc)) from None
        self.policy_name = getattr(self.policy, "policy_name", type(self.policy).__name__)
        self.orders: dict[int, tuple[str, int, float]] = {}  # order -> (node, priority, due)
        self._next_priority: tuple[int, float] | None = None
        self._cid = 0
        self._trip = 0
        self.shipped_lines: dict[int, tuple[tuple[str, float], ...]] = {}
        self.cold = {i for i, it in self.items.items() if it.storage == "cold"}
        speeds = [v.spec.speed for v in self.vehicles.values()] or [60.0]
        self.nominal_speed = float(np.median(speeds))
        self._obs_cache: dict[tuple[frozenset[frozenset[str]], float], tuple[np.ndarray, np.ndarray]] = {}
        self.sensors: Any = engine.sensors
        if self.sensors is not None:
            for v in self.vehicles.values():
                v.sensed = v.id in self.sensors.on_vehicle
        # Reefer cargo spoiled by an excursion is judged by the vehicle's temperature sensor when it
        # has an excursion rule; otherwise by the reefer's own spoil_after from the failure.
        self.sensor_judges = {s.attached_to for s in site.sensors
                              if s.kind == "temperature" and s.excursion is not None and s.attached_to in self.vehicles}
        self.home: dict[str, str] = {}  # demand point -> the warehouse that serves its demand streams
        for d in site.demand:
            self.home.setdefault(d.customer, d.location)
        for pr in site.procedures:
            self.home.setdefault(pr.customer, pr.location)
        self.transfers = DepotTransfers(self)

    # -- hooks from the warehouses --------------------------------------------------------------

    def register_order(self, order: int, customer: str, t: float) -> None:
        node = self.nodes[customer]
        if self._next_priority is not None:
            priority, within = self._next_priority
            self._next_priority = None
        else:
            priority, within = node.priority, node.due_within
        self.orders[order] = (customer, priority, t + within)

    def shipped(self, order: int, origin: str, lines: tuple[tuple[str, float], ...]) -> None:
        node, priority, due = self.orders[order]
        self.consignment(order, origin, node, lines, priority, due)

    def consignment(self, order: int, origin: str, destination: str, lines: tuple[tuple[str, float], ...],
                    priority: int, due: float) -> int:
        """Goods waiting at ``origin``'s dock for ``destination`` (``ConsignmentReady``), checked for
        a vehicle that can carry them; its id. A transfer between warehouses has a negative ``order``."""
        self._cid += 1
        cid = self._cid
        weight = sum(q * self.items[i].weight for i, q in lines)
        volume = sum(q * self.items[i].volume for i, q in lines)
        self.shipped_lines[cid] = lines
        self.engine.emit(E.ConsignmentReady(self.env.now, cid, order, origin, destination, weight, volume,
                                            priority, due))
        self._check_carriable(cid, order, origin, destination, weight, volume, priority)
        return cid

    def _check_carriable(self, cid: int, order: int, origin: str, node: str, weight: float, volume: float,
                         priority: int) -> None:
        engine = self.engine
        now = self.env.now
        diverts = priority == 1 and getattr(getattr(self.policy, "params", None), "divert", False)
        # An urgent consignment at a warehouse with no vehicle of its own can be fetched by one
        # diverted from elsewhere.
        based = [v for v in self.vehicles.values() if v.spec.depot == origin or diverts]
        reason = None
        if not based:
            reason = f"no vehicle is based at warehouse {origin!r}"
        elif not any(weight <= v.spec.capacity_weight + 1e-9 and
                     (v.spec.capacity_volume is None or volume <= v.spec.capacity_volume + 1e-9) for v in based):
            big = max(v.spec.capacity_weight for v in based)
            reason = f"load {weight:g} kg / {volume:g} m3 exceeds every vehicle at {origin!r} (largest {big:g} kg)"
        if reason is not None:
            engine.emit(E.DeliveryUnserved(now, cid, order, node, reason))
            return
        if priority == 1 and getattr(self.policy, "params", None) is not None and \
                getattr(self.policy.params, "dispatch_at_once", True):
            self.dispatch()  # an emergency does not wait for the next wave

    # -- dispatch -------------------------------------------------------------------------------

    def start(self) -> None:
        review = getattr(self.policy, "review", None) or 1.0
        self.env.process(self._waves(review))
        if self.engine.scenario.site.emergencies is not None:
            self.env.process(self._emergencies())

    def _waves(self, every: float) -> Any:
        while True:
            yield self.env.timeout(every)
            self.dispatch()

    def closed(self) -> frozenset[frozenset[str]]:
        return frozenset(self.engine.state.fleet.closed_roads)

    def observation(self) -> FleetObservation:
        now = self.env.now
        vehicles = tuple(self._vehicle_view(v, now) for v in self.vehicles.values())
        matrices = self._matrices(self.closed(), self.net.congestion(now))
        return fleet_observation(now, self.engine.state.fleet, self.net, self.nodes, matrices, vehicles)

    def _matrices(self, closed: frozenset[frozenset[str]], congestion: float) -> tuple[np.ndarray, np.ndarray]:
        """``travel_matrices``, cached: roads and the hour's congestion change far less often than
        the policy runs."""
        key = (closed, congestion)
        got = self._obs_cache.get(key)
        if got is None:
            got = self._obs_cache[key] = travel_matrices(self.net, closed, congestion, self.nominal_speed)
        return got

    def _vehicle_view(self, v: VehicleRun, now: float) -> VehicleView:
        state = self.engine.state.fleet
        spec = v.spec
        cap_v = spec.capacity_volume if spec.capacity_volume is not None else INF
        idle = v.id not in state.on_trip and v.id not in state.broken and v.on_shift(now)
        heading = None
        stops: tuple[int, ...] = ()
        weight = volume = 0.0
        if v.heading is not None and v.divert is None and v.id not in state.broken and v.stops is not None:
            heading = v.heading
            stops = tuple(v.stops[1:])  # [0] is the stop it heads to (none on the way home)
            weight = sum(state.consignments[c].weight for c in stops)
            volume = sum(state.consignments[c].volume for c in stops)
        return VehicleView(v.id, spec.kind, v.at, idle, spec.capacity_weight, cap_v, spec.speed, spec.depot,
                           heading, v.free_at, stops, weight, volume, spec.load_time * 60)

    def dispatch(self) -> None:
        state = self.engine.state.fleet
        if not state.waiting():
            return
        obs = self.observation()
        actions = self.policy.decide(obs) or []
        for action in actions:
            self.apply_action(action)

    def apply_action(self, action: Any, policy: str | None = None) -> str | None:
        """Check a ``DispatchRoute`` or ``DivertVehicle`` and carry it out: the one path of the
        dispatch policy's actions and the operator's (``policy`` names who gave it; default the
        dispatch policy). A bad one becomes ``ActionRejected``; returns its reason, or None."""
        reason = self._check(action)
        if reason is not None:
            self.engine.emit(E.ActionRejected(self.env.now, policy or self.policy_name, repr(action), reason))
            return reason
        if isinstance(action, DivertVehicle):
            self._divert(action)
        else:
            self._start_trip(action)
        return None

    def _check(self, action: Any) -> str | None:
        if isinstance(action, DivertVehicle):
            return self._check_divert(action)
        if not isinstance(action, DispatchRoute):
            return f"not an action the dispatch domain knows: {type(action).__name__}"
        state = self.engine.state.fleet
        v = self.vehicles.get(action.vehicle)
        if v is None:
            return f"unknown vehicle {action.vehicle!r}"
        if v.id in state.on_trip or v.id in state.broken or not v.on_shift(self.env.now):
            return f"vehicle {v.id!r} is not idle"
        if not action.consignments or len(set(action.consignments)) != len(action.consignments):
            return "a route needs consignments, each once"
        weight = volume = 0.0
        for c in action.consignments:
            con = state.consignments.get(c)
            if con is None or con.trip is not None:
                return f"consignment {c} is not waiting"
            if con.origin != v.at:
                return f"consignment {c} waits at {con.origin!r}, vehicle {v.id!r} is at {v.at!r}"
            weight += con.weight
            volume += con.volume
        return self._room(v, weight, volume)

    def _room(self, v: VehicleRun, weight: float, volume: float) -> str | None:
        if weight > v.spec.capacity_weight + 1e-9:
            return f"load {weight:g} kg exceeds vehicle {v.id!r} capacity {v.spec.capacity_weight:g} kg"
        if v.spec.capacity_volume is not None and volume > v.spec.capacity_volume + 1e-9:
            return f"load {volume:g} m3 exceeds vehicle {v.id!r} capacity {v.spec.capacity_volume:g} m3"
        return None

    def _check_divert(self, action: DivertVehicle) -> str | None:
        state = self.engine.state.fleet
        v = self.vehicles.get(action.vehicle)
        if v is None:
            return f"unknown vehicle {action.vehicle!r}"
        con = state.consignments.get(action.consignment)
        if con is None or con.trip is not None:
            return f"consignment {action.consignment} is not waiting"
        if con.origin != action.warehouse:
            return f"consignment {con.id} waits at {con.origin!r}, not {action.warehouse!r}"
        if v.id in state.broken:
            return f"vehicle {v.id!r} is broken down"
        if v.id in state.on_trip:
            if v.heading is None or v.divert is not None or v.stops is None:
                return f"vehicle {v.id!r} cannot be diverted now (loading, refuelling or already diverted)"
            after = v.stops[1:]
            if sorted(action.stops) != sorted(after):
                return f"stops {list(action.stops)} are not the consignments on board of {v.id!r} {sorted(after)}"
        else:
            if not v.on_shift(self.env.now):
                return f"vehicle {v.id!r} is off shift"
            if action.stops:
                return f"vehicle {v.id!r} is idle: it has no stops to re-plan"
            after = []
        weight = con.weight + sum(state.consignments[c].weight for c in after)
        volume = con.volume + sum(state.consignments[c].volume for c in after)
        return self._room(v, weight, volume)

    def _divert(self, action: DivertVehicle) -> None:
        """Accepted: an idle vehicle starts an (empty) trip from its depot; then the trip's next step
        is the warehouse where the consignment waits."""
        state = self.engine.state.fleet
        v = self.vehicles[action.vehicle]
        if v.id not in state.on_trip:
            self._trip += 1
            trip = self._trip
            con = state.consignments[action.consignment]
            km = self._planned_km(v.at, [action.warehouse, con.destination])
            self.engine.emit(E.VehicleDispatched(self.env.now, trip, v.id, v.at, (), km))
            self.env.process(self._trip_process(v, trip, []))
        trip = state.on_trip[v.id]
        self.engine.emit(E.VehicleDiverted(self.env.now, trip, v.id, action.consignment, action.warehouse,
                                           tuple(action.stops)))
        v.divert = (action.consignment, action.warehouse, tuple(action.stops))

    def _start_trip(self, action: DispatchRoute) -> None:
        v = self.vehicles[action.vehicle]
        self._trip += 1
        trip = self._trip
        km = self._planned_km(v.at, [self.engine.state.fleet.consignments[c].destination
                                     for c in action.consignments])
        self.engine.emit(E.VehicleDispatched(self.env.now, trip, v.id, v.at, tuple(action.consignments), km))
        self.env.process(self._trip_process(v, trip, list(action.consignments)))

    def _planned_km(self, origin: str, stops: list[str]) -> float:
        km = self.net.km(self.closed())
        path = [origin, *stops, origin]
        total = sum(km[self.net.index[a], self.net.index[b]] for a, b in zip(path, path[1:], strict=False))
        return float(total) if math.isfinite(total) else -1.0

    # -- emergencies ----------------------------------------------------------------------------

    def _emergencies(self) -> Any:
        em = self.engine.scenario.site.emergencies
        assert em is not None
        gen = self.engine.streams.get("emergency", "orders")
        env = self.env
        while True:
            yield env.timeout(float(gen.exponential(24.0 / em.per_day)))
            node = em.nodes[int(gen.integers(len(em.nodes)))]
            lines = tuple((i, float(q)) for i, q in em.items.items())
            wh = self.emergency_source(node, lines)
            if wh is None:  # reported, never silently dropped: no consignment or order exists (-1)
                wanted = ", ".join(i for i, _ in lines)
                self.engine.emit(E.DeliveryUnserved(env.now, -1, -1, node, f"emergency order for {wanted}: no "
                                                    f"warehouse with an open road to {node!r} stocks every item"))
                continue
            self._next_priority = (em.priority, em.due_within)
            self.engine.warehouses[wh].place_order(node, lines)

    def emergency_source(self, node: str, lines: tuple[tuple[str, float], ...]) -> str | None:
        """The warehouse the dispatch policy serves an emergency order from (``source_emergency``;
        a plugged-in policy without one gets ``policies.dispatch_emergency.emergency_source``)."""
        skus = self.engine.state.skus
        wanted = {i for i, _ in lines}
        free = {(i, wh): skus[(i, wh)].on_hand - skus[(i, wh)].reserved
                for wh in self.engine.warehouses for i in wanted if (i, wh) in skus}
        minutes = self._matrices(self.closed(), self.net.congestion(self.env.now))[1]
        decide = getattr(self.policy, "source_emergency", None) or emergency_source
        return decide(node, lines, self.home.get(node), free, minutes, self.net.index)  # type: ignore[no-any-return]

    def _unloaded(self, consignment: int, spoiled: bool) -> None:
        """A consignment was unloaded at its destination (after ``Delivered``; ``spoiled``: its cold
        cargo was spoiled on the way)."""
        if consignment in self.transfers.cargo:
            self.transfers.received(consignment, spoiled)
