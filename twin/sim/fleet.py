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
  (priority, then due time). A reefer's cooling may fail during a trip; cold cargo delivered more
  than ``spoil_after`` later is spoiled.
- Emergency orders from demand points are placed at the nearest warehouse (by open road) holding
  all their stock; they carry priority 1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np
import simpy
from scipy.sparse.csgraph import shortest_path

from policies.base import load_policy
from twin.errors import TwinError
from twin.model import events as E
from twin.model.fleet_actions import ConsignmentView, DispatchRoute, FleetObservation, VehicleView
from twin.model.network import Network, Vehicle, haversine_km
from twin.sim.laws import WEEK, draw_duration, draw_life, shift_windows

if TYPE_CHECKING:
    from twin.sim.engine import Engine

__all__ = ["RoadNetwork", "FleetModel"]

INF = math.inf


class RoadNetwork:
    """Shortest-path km between nodes, for any set of closed roads (cached per set)."""

    def __init__(self, net: Network) -> None:
        self.spec = net
        self.ids = [n.id for n in net.nodes]
        self.index = {ident: k for k, ident in enumerate(self.ids)}
        n = len(self.ids)
        base = np.full((n, n), INF)
        np.fill_diagonal(base, 0.0)
        pos = {nd.id: nd.position for nd in net.nodes}

        def straight(a: str, b: str) -> float:
            pa, pb = pos[a], pos[b]
            if pa is None or pb is None:
                return INF
            if net.coordinates == "latlon":
                return haversine_km(pa, pb) * net.circuity
            return math.dist(pa, pb) * net.circuity

        if net.matrix is not None:
            for i, a in enumerate(net.matrix.nodes):
                for j, b in enumerate(net.matrix.nodes):
                    v = net.matrix.km[i][j]
                    if v is not None and a != b:
                        base[self.index[a], self.index[b]] = v
        elif not net.roads:
            for a in self.ids:
                for b in self.ids:
                    if a != b:
                        base[self.index[a], self.index[b]] = straight(a, b)
        for road in net.roads:
            a, b = road.between
            km = road.distance if road.distance is not None else straight(a, b)
            base[self.index[a], self.index[b]] = min(base[self.index[a], self.index[b]], km)
            if not road.one_way:
                base[self.index[b], self.index[a]] = min(base[self.index[b], self.index[a]], km)
        self.base = base
        self._cache: dict[frozenset[frozenset[str]], tuple[np.ndarray, np.ndarray]] = {}

    def paths(self, closed: frozenset[frozenset[str]]) -> tuple[np.ndarray, np.ndarray]:
        """(km, predecessors) of all shortest paths with the ``closed`` roads out (inf: no path)."""
        got = self._cache.get(closed)
        if got is None:
            m = self.base.copy()
            for road in closed:
                a, b = tuple(road) if len(road) == 2 else (next(iter(road)),) * 2
                m[self.index[a], self.index[b]] = INF
                m[self.index[b], self.index[a]] = INF
            # csgraph reads a dense inf as "no edge"; a zero-length road is kept as a tiny length.
            m = np.where(m == 0.0, 1e-9, m)
            np.fill_diagonal(m, 0.0)
            dist, pred = shortest_path(np.where(np.isinf(m), 0.0, m), method="D", directed=True,
                                       return_predecessors=True)
            got = (dist, pred)
            self._cache[closed] = got
        return got

    def km(self, closed: frozenset[frozenset[str]]) -> np.ndarray:
        return self.paths(closed)[0]

    def path(self, closed: frozenset[frozenset[str]], a: str, b: str) -> list[str]:
        _, pred = self.paths(closed)
        i, j = self.index[a], self.index[b]
        out = [j]
        while out[-1] != i:
            p = int(pred[i, out[-1]])
            if p < 0:
                return []
            out.append(p)
        return [self.ids[k] for k in reversed(out)]

    def congestion(self, t: float) -> float:
        c = self.spec.congestion
        return c[int(t % 24.0)] if c else 1.0


@dataclass
class VehicleRun:
    id: str
    spec: Vehicle
    gen: np.random.Generator
    at: str
    km_since_refuel: float = 0.0
    driven: float = 0.0  # driving hours so far
    life: float = INF  # driving hours at which it breaks down next
    windows: list[tuple[float, float]] | None = None
    reefer_trip: int | None = None  # the trip whose reefer failure the sensors wait for

    def on_shift(self, t: float) -> bool:
        if self.windows is None:
            return True
        w = t % WEEK
        return any(a <= w < b for a, b in self.windows)


class FleetModel:
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
        engine = self.engine
        now = self.env.now
        self._cid += 1
        cid = self._cid
        weight = sum(q * self.items[i].weight for i, q in lines)
        volume = sum(q * self.items[i].volume for i, q in lines)
        self.shipped_lines[cid] = lines
        engine.emit(E.ConsignmentReady(now, cid, order, origin, node, weight, volume, priority, due))
        based = [v for v in self.vehicles.values() if v.spec.depot == origin]
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
        state = self.engine.state.fleet
        km = self.net.km(self.closed())
        metres = np.where(np.isinf(km), -1, np.floor(km * 1000 + 0.5)).astype(np.int64)
        minutes = np.where(np.isinf(km), -1,
                           np.ceil(km / self.nominal_speed * self.net.congestion(now) * 60 - 1e-9)).astype(np.int64)
        for a in (metres, minutes):
            a.setflags(write=False)
        cons = tuple(
            ConsignmentView(c.id, c.order, c.origin, c.destination, c.weight, c.volume, c.priority,
                            (c.ready, c.due), self.nodes[c.destination].service_time * 60, c.ready)
            for c in sorted(state.waiting(), key=lambda c: c.id))
        vehicles = tuple(
            VehicleView(v.id, v.spec.kind, v.at, v.id not in state.on_trip and v.id not in state.broken
                        and v.on_shift(now), v.spec.capacity_weight,
                        v.spec.capacity_volume if v.spec.capacity_volume is not None else INF, v.spec.speed)
            for v in self.vehicles.values())
        closed = frozenset(tuple(sorted(r)) for r in state.closed_roads)
        return FleetObservation(now, tuple(self.net.ids), dict(self.net.index), metres, minutes, cons, vehicles,
                                closed)  # type: ignore[arg-type]

    def dispatch(self) -> None:
        state = self.engine.state.fleet
        if not state.waiting():
            return
        obs = self.observation()
        actions = self.policy.decide(obs) or []
        for action in actions:
            reason = self._check(action)
            if reason is not None:
                self.engine.emit(E.ActionRejected(self.env.now, self.policy_name, repr(action), reason))
                continue
            self._start_trip(action)

    def _check(self, action: Any) -> str | None:
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
        if weight > v.spec.capacity_weight + 1e-9:
            return f"load {weight:g} kg exceeds vehicle {v.id!r} capacity {v.spec.capacity_weight:g} kg"
        if v.spec.capacity_volume is not None and volume > v.spec.capacity_volume + 1e-9:
            return f"load {volume:g} m3 exceeds vehicle {v.id!r} capacity {v.spec.capacity_volume:g} m3"
        return None

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

    # -- a trip ---------------------------------------------------------------------------------

    def _trip_process(self, v: VehicleRun, trip: int, stops: list[int]) -> Any:
        env = self.env
        engine = self.engine
        spec = v.spec
        started = env.now
        crew: list[Any] = []
        if self.has_drivers:
            need = spec.qualification
            crew.append((yield self.crews.get(lambda c: c[1] == "driver" and (need is None or need in c[2]))))
        if spec.needs_escort:
            crew.append((yield self.crews.get(lambda c: c[1] == "escort")))
        if crew:
            engine.emit(E.CrewAssigned(env.now, trip, tuple(c[0] for c in crew)))
        fleet = engine.state.fleet
        dests = [fleet.consignments[c].destination for c in stops]
        planned = self._planned_km(v.at, dests)
        if spec.range_km is not None and v.km_since_refuel + max(planned, 0.0) > spec.range_km:
            yield env.timeout(spec.refuel_time)
            v.km_since_refuel = 0.0
            engine.emit(E.Refuelled(env.now, v.id, spec.refuel_time))
        dock = engine.warehouses[v.at].docks
        with dock.request() as req:
            yield req
            if spec.load_time > 0:
                yield env.timeout(spec.load_time)
        reefer_fails = INF
        if spec.reefer is not None and any(
                i in self.cold for c in stops for i, _ in self.shipped_lines.get(c, ())):
            reefer_fails = env.now + draw_life(spec.reefer.failure, 0.0, v.gen)
        # Temperature sensors on this reefer (twin/sim/sensors.py) warm from the failure on.
        watched = engine.sensors is not None and v.id in engine.sensors.on_vehicle and reefer_fails < INF
        if watched:
            v.reefer_trip = trip
            ev = env.timeout(reefer_fails - env.now)
            ev.callbacks.append(partial(self._reefer_down, v, trip))
        reefer_reported = False
        km_total = 0.0
        at = v.at
        open_roads: frozenset[frozenset[str]] = frozenset()
        while stops:
            c = stops[0]
            con = fleet.consignments[c]
            dest = con.destination
            closed = self.closed()
            km = self.net.km(closed)[self.net.index[at], self.net.index[dest]]
            if not math.isfinite(km):
                stops.pop(0)
                engine.emit(E.Rerouted(env.now, trip, v.id, f"no open road to {dest}", tuple(stops)))
                continue
            if closed and self.net.path(closed, at, dest) != self.net.path(open_roads, at, dest):
                engine.emit(E.Rerouted(env.now, trip, v.id, "road closed", tuple(stops)))
            hours = km / spec.speed * self.net.congestion(env.now)
            broke = False
            if v.driven + hours > v.life:
                part = max(v.life - v.driven, 0.0)
                yield env.timeout(part)
                v.driven += part
                engine.emit(E.VehicleBrokeDown(env.now, v.id, trip))
                yield env.timeout(draw_duration(spec.repair, v.gen))
                engine.emit(E.VehicleRepaired(env.now, v.id, trip))
                assert spec.failure is not None
                v.life = v.driven + (draw_life(spec.failure, 0.0, v.gen))
                hours -= part
                broke = True
            yield env.timeout(hours)
            v.driven += hours
            km_total += km
            v.km_since_refuel += km
            at = dest
            if broke and len(stops) > 1:
                rest = sorted(stops[1:], key=lambda s: (fleet.consignments[s].priority, fleet.consignments[s].due, s))
                stops[1:] = rest
                engine.emit(E.Rerouted(env.now, trip, v.id, "breakdown", tuple(stops[1:])))
            window = self.nodes[dest].window
            if window is not None:
                tod = env.now % 24.0
                if tod < window.open:
                    yield env.timeout(window.open - tod)
                elif tod >= window.close:
                    yield env.timeout(24.0 - tod + window.open)
            if reefer_fails <= env.now and not reefer_reported:
                engine.emit(E.ReeferFailed(reefer_fails, v.id, trip))
                reefer_reported = True
            service = self.nodes[dest].service_time
            if service > 0:
                yield env.timeout(service)
            stops.pop(0)
            spoiled = bool(spec.reefer is not None and env.now >= reefer_fails + spec.reefer.spoil_after and any(
                i in self.cold for i, _ in self.shipped_lines.get(c, ())))
            engine.emit(E.Delivered(env.now, trip, v.id, c, con.order, dest, con.priority, con.due,
                                    env.now > con.due + 1e-9, spoiled))
        # Back to the depot; if no open road leads there, wait for one to reopen.
        while True:
            km = self.net.km(self.closed())[self.net.index[at], self.net.index[v.at]]
            if math.isfinite(km):
                break
            yield env.timeout(1.0)
        hours = km / spec.speed * self.net.congestion(env.now)
        yield env.timeout(hours)
        v.driven += hours
        km_total += km
        v.km_since_refuel += km
        if reefer_fails <= env.now and not reefer_reported:
            engine.emit(E.ReeferFailed(reefer_fails, v.id, trip))
        if watched:
            v.reefer_trip = None
            if reefer_fails <= env.now:
                engine.sensors.reefer_changed(v.id, True)  # the unit is fixed back at the depot
        total_h = env.now - started
        cost = km_total * spec.cost_per_km + total_h * spec.cost_per_hour
        for c in crew:
            yield self.crews.put(c)
        engine.emit(E.VehicleReturned(env.now, trip, v.id, km_total, total_h, cost))

    def _reefer_down(self, v: VehicleRun, trip: int, _event: Any = None) -> None:
        if v.reefer_trip == trip:  # still on that trip
            self.engine.sensors.reefer_changed(v.id, False)

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
            wh = self.nearest_holding(node, lines)
            if wh is None:
                continue
            self._next_priority = (em.priority, em.due_within)
            self.engine.warehouses[wh].place_order(node, lines)

    def nearest_holding(self, node: str, lines: tuple[tuple[str, float], ...]) -> str | None:
        """The warehouse nearest to ``node`` by open road that holds all the lines (else the nearest
        that stocks them at all, where the order will wait as a backorder)."""
        km = self.net.km(self.closed())
        skus = self.engine.state.skus
        candidates = []
        for wh in self.engine.warehouses:
            if wh not in self.net.index or not all((i, wh) in skus for i, _ in lines):
                continue
            d = km[self.net.index[wh], self.net.index[node]]
            if math.isfinite(d):
                holds = all(skus[(i, wh)].on_hand - skus[(i, wh)].reserved >= q for i, q in lines)
                candidates.append((not holds, d, wh))
        return min(candidates)[2] if candidates else None
