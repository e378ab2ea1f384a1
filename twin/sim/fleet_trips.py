"""A vehicle's trip as a SimPy process (part of ``FleetModel``, twin/sim/fleet.py): crew, refuelling,
loading at a dock, then stop by stop on the shortest open path at the hour's congestion, with
breakdowns, road closures, a reefer's cooling failure and emergency diversions on the way; the
vehicle's sensors follow its fuel, cargo weight and doors.
"""

from __future__ import annotations

import math
from functools import partial
from typing import TYPE_CHECKING, Any

import simpy

from twin.model import events as E
from twin.sim.fleet_roads import INF, RoadNetwork, VehicleRun
from twin.sim.laws import draw_duration, draw_life
from twin.sim.sensors import Exposure

if TYPE_CHECKING:
    from twin.model.network import NetNode
    from twin.sim.engine import Engine

__all__ = ["TripsMixin"]


class TripsMixin:
    """The trip process of ``FleetModel``; the attributes below are the fleet model's."""

    engine: Engine
    env: simpy.Environment
    net: RoadNetwork
    nodes: dict[str, NetNode]
    vehicles: dict[str, VehicleRun]
    crews: simpy.FilterStore
    has_drivers: bool
    cold: set[str]
    shipped_lines: dict[int, tuple[tuple[str, float], ...]]
    sensor_judges: set[str | None]
    sensors: Any

    def closed(self) -> frozenset[frozenset[str]]:  # pragma: no cover - FleetModel's
        raise NotImplementedError

    def _planned_km(self, origin: str, stops: list[str]) -> float:  # pragma: no cover - FleetModel's
        raise NotImplementedError

    def _unloaded(self, consignment: int, spoiled: bool) -> None:  # pragma: no cover - FleetModel's
        raise NotImplementedError

    def _trip_process(self, v: VehicleRun, trip: int, stops: list[int],
                      carried: tuple[str, float] | None = None) -> Any:
        """``carried``: a trip already under way when the run starts (a forecast forked from the live
        site, twin/sim/opening.py): (the node it heads to, hours until it gets there). It was loaded
        and fuelled before the start; from that node on it goes as any trip."""
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
        if carried is None and spec.range_km is not None and (v.km_since_refuel + max(planned, 0.0) > spec.range_km or
                                          v.km_since_refuel > (1.0 - spec.refuel_below) * spec.range_km):
            yield env.timeout(spec.refuel_time)
            v.km_since_refuel = 0.0
            engine.emit(E.Refuelled(env.now, v.id, spec.refuel_time))
            if v.sensed:
                self.sensors.fuel(v.id, v.tank, 0.0, env.now)
        v.cargo_spoiled = False
        load = 0.0
        if stops:
            if carried is None:
                yield from self._load(v, v.at)
            load = sum(fleet.consignments[c].weight for c in stops)
            if v.sensed:
                self.sensors.load(v.id, load)
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
        exposure = None
        if reefer_fails < INF and v.id not in self.sensor_judges:
            assert spec.reefer is not None
            exposure = Exposure(spec.reefer.spoil_after)
            exposure.begin(reefer_fails)  # the cargo is out of range from the failure on
        reefer_reported = False
        km_total = 0.0
        at = v.at
        v.stops = stops
        if carried is not None:  # the rest of the leg it was on at the start (not diverted on it)
            at, eta = carried
            v.free_at = env.now + eta
            yield env.timeout(eta)
            km_total += eta * spec.speed / self.net.congestion(env.now)
        open_roads: frozenset[frozenset[str]] = frozenset()
        while True:
            if v.divert is not None:
                # An urgent consignment: to the warehouse where it waits, load it, deliver it next.
                cid, wh, order = v.divert
                km_total += yield from self._go(v, trip, at, wh)
                at = wh
                yield from self._load(v, wh)
                v.divert = None
                con = fleet.consignments[cid]
                load += con.weight
                if v.sensed:
                    self.sensors.load(v.id, load)
                stops[:] = [cid, *order, *[s for s in stops if s not in order]]
                engine.emit(E.Rerouted(env.now, trip, v.id, "emergency", tuple(stops)))
            if not stops:
                # Back to the depot (waiting for a road to reopen if none is open); a diversion
                # accepted on the way takes it on from there.
                v.heading = v.at
                km_total += yield from self._go(v, trip, at, v.at)
                at = v.at
                v.heading = None
                if v.divert is None:
                    break
                continue
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
            service = self.nodes[dest].service_time
            v.heading = dest
            v.free_at = env.now + km / spec.speed * self.net.congestion(env.now) + service
            broke = yield from self._drive(v, trip, float(km))
            km_total += km
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
            if dest in engine.warehouses:
                # A transfer to another warehouse is unloaded at one of its docks, for its receive time.
                yield from self._unload_at_dock(v, dest, max(service, engine.warehouses[dest].spec.receive_time))
            else:
                if v.sensed:
                    self.sensors.doors(v.id, True)
                if service > 0:
                    yield env.timeout(service)
            stops.pop(0)
            v.heading = None
            if exposure is not None and exposure.spoiled(env.now):
                v.cargo_spoiled = True
            spoiled = v.cargo_spoiled and any(i in self.cold for i, _ in self.shipped_lines.get(c, ()))
            load -= con.weight
            if v.sensed:
                self.sensors.doors(v.id, False)
                self.sensors.load(v.id, max(load, 0.0))
            engine.emit(E.Delivered(env.now, trip, v.id, c, con.order, dest, con.priority, con.due,
                                    env.now > con.due + 1e-9, spoiled))
            self._unloaded(c, spoiled)
        v.stops = None
        if v.sensed:
            self.sensors.load(v.id, 0.0)  # what it could not deliver is unloaded back at the depot
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

    def _load(self, v: VehicleRun, warehouse: str) -> Any:
        """At a dock of ``warehouse``, doors open for the vehicle's load time."""
        with self.engine.warehouses[warehouse].docks.request() as req:
            yield req
            if v.sensed:
                self.sensors.doors(v.id, True)
            if v.spec.load_time > 0:
                yield self.env.timeout(v.spec.load_time)
        if v.sensed:
            self.sensors.doors(v.id, False)

    def _unload_at_dock(self, v: VehicleRun, warehouse: str, hours: float) -> Any:
        """At a dock of ``warehouse``, doors open for ``hours`` (closed again by the caller)."""
        with self.engine.warehouses[warehouse].docks.request() as req:
            yield req
            if v.sensed:
                self.sensors.doors(v.id, True)
            if hours > 0:
                yield self.env.timeout(hours)

    def _go(self, v: VehicleRun, trip: int, a: str, b: str) -> Any:
        """Drive from ``a`` to ``b`` on the shortest open path, waiting for a road to reopen when none
        leads there; the km driven."""
        while True:
            km = self.net.km(self.closed())[self.net.index[a], self.net.index[b]]
            if math.isfinite(km):
                break
            yield self.env.timeout(1.0)
        if v.heading == b:
            v.free_at = self.env.now + km / v.spec.speed * self.net.congestion(self.env.now)
        yield from self._drive(v, trip, float(km))
        return float(km)

    def _drive(self, v: VehicleRun, trip: int, km: float) -> Any:
        """``km`` at the vehicle's speed and the hour's congestion; it may break down on the way (then
        waits for its repair). True if it broke down."""
        env = self.env
        spec = v.spec
        hours = km / spec.speed * self.net.congestion(env.now)
        broke = False
        km_left = km
        if v.driven + hours > v.life:
            part = max(v.life - v.driven, 0.0)
            km_part = km * part / hours if hours > 0 else 0.0
            if v.sensed:
                self._gauge(v, km_part, part)
            yield env.timeout(part)
            v.driven += part
            v.km_since_refuel += km_part
            km_left -= km_part
            self.engine.emit(E.VehicleBrokeDown(env.now, v.id, trip))
            yield env.timeout(draw_duration(spec.repair, v.gen))
            self.engine.emit(E.VehicleRepaired(env.now, v.id, trip))
            assert spec.failure is not None
            v.life = v.driven + (draw_life(spec.failure, 0.0, v.gen))
            hours -= part
            broke = True
        if v.sensed:
            self._gauge(v, km_left, hours)
        yield env.timeout(hours)
        v.driven += hours
        v.km_since_refuel += km_left
        return broke

    def _gauge(self, v: VehicleRun, km: float, hours: float) -> None:
        """Tell the fuel sensors the vehicle now drives ``km`` in ``hours``."""
        self.sensors.fuel(v.id, v.tank, km * v.spec.fuel_per_km / hours if hours > 0 else 0.0, self.env.now + hours)

    def cargo_spoiled(self, vehicle: str) -> None:
        """The vehicle's temperature excursion lasted its ``spoil_after`` (twin/sim/sensors.py): the
        cold cargo on board is spoiled."""
        v = self.vehicles[vehicle]
        if v.id in self.engine.state.fleet.on_trip:
            v.cargo_spoiled = True

    def _reefer_down(self, v: VehicleRun, trip: int, _event: Any = None) -> None:
        if v.reefer_trip == trip:  # still on that trip
            self.engine.sensors.reefer_changed(v.id, False)
