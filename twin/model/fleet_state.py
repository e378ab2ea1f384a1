"""Transport part of the operational state, and the reducer handlers of the transport events.

``State.fleet`` holds it; ``HANDLERS`` here are merged into the one reducer of
``twin.model.state``. Consignments wait from ``ConsignmentReady`` until they are dispatched (or
reported unserved); a trip's consignments come back to waiting if the trip could not deliver them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from twin.model import events as ev

__all__ = ["Consignment", "FleetState", "HANDLERS"]


@dataclass
class Consignment:
    id: int
    order: int
    origin: str
    destination: str
    weight: float
    volume: float
    priority: int
    due: float
    ready: float
    trip: int | None = None  # the trip carrying it


@dataclass
class FleetState:
    consignments: dict[int, Consignment] = field(default_factory=dict)  # open: waiting or on a trip
    trips: dict[int, str] = field(default_factory=dict)  # open trip -> vehicle
    on_trip: dict[str, int] = field(default_factory=dict)  # vehicle -> trip
    broken: set[str] = field(default_factory=set)
    closed_roads: set[frozenset[str]] = field(default_factory=set)
    # open trip -> (node last reached, when, consignments still to deliver in order): where a vehicle
    # under way is, as far as the events tell (the depot at dispatch, each stop once delivered there)
    legs: dict[int, tuple[str, float, tuple[int, ...]]] = field(default_factory=dict)
    delivered: int = 0
    unserved: int = 0

    def waiting(self) -> list[Consignment]:
        return [c for c in self.consignments.values() if c.trip is None]


def _ready(state: Any, e: ev.ConsignmentReady) -> None:
    state.fleet.consignments[e.consignment] = Consignment(
        e.consignment, e.order, e.origin, e.destination, e.weight, e.volume, e.priority, e.due, e.t)


def _dispatched(state: Any, e: ev.VehicleDispatched) -> None:
    f: FleetState = state.fleet
    if e.vehicle in f.on_trip:
        raise ValueError(f"vehicle {e.vehicle!r} is already on trip {f.on_trip[e.vehicle]}")
    for c in e.consignments:
        con = f.consignments.get(c)
        if con is None or con.trip is not None:
            raise ValueError(f"consignment {c} is not waiting to be dispatched")
        con.trip = e.trip
    f.trips[e.trip] = e.vehicle
    f.on_trip[e.vehicle] = e.trip
    f.legs[e.trip] = (e.origin, e.t, tuple(e.consignments))


def _diverted(state: Any, e: ev.VehicleDiverted) -> None:
    f: FleetState = state.fleet
    if f.on_trip.get(e.vehicle) != e.trip:
        raise ValueError(f"vehicle {e.vehicle!r} is not on trip {e.trip}")
    con = f.consignments.get(e.consignment)
    if con is None or con.trip is not None:
        raise ValueError(f"consignment {e.consignment} is not waiting to be dispatched")
    if con.origin != e.warehouse:
        raise ValueError(f"consignment {e.consignment} waits at {con.origin!r}, not {e.warehouse!r}")
    con.trip = e.trip
    leg = f.legs.get(e.trip)
    if leg is not None:
        f.legs[e.trip] = (leg[0], leg[1], (e.consignment, *e.stops))


def _delivered(state: Any, e: ev.Delivered) -> None:
    f: FleetState = state.fleet
    if f.consignments.pop(e.consignment, None) is None:
        raise ValueError(f"consignment {e.consignment} is not open")
    f.delivered += 1
    leg = f.legs.get(e.trip)
    if leg is not None:
        f.legs[e.trip] = (e.node, e.t, tuple(c for c in leg[2] if c != e.consignment))


def _rerouted(state: Any, e: ev.Rerouted) -> None:
    leg = state.fleet.legs.get(e.trip)
    if leg is not None:  # the stops still to deliver, in the new order
        state.fleet.legs[e.trip] = (leg[0], leg[1], tuple(e.stops))


def _unserved(state: Any, e: ev.DeliveryUnserved) -> None:
    f: FleetState = state.fleet
    f.consignments.pop(e.consignment, None)
    f.unserved += 1


def _returned(state: Any, e: ev.VehicleReturned) -> None:
    f: FleetState = state.fleet
    f.trips.pop(e.trip, None)
    f.on_trip.pop(e.vehicle, None)
    f.legs.pop(e.trip, None)
    for con in f.consignments.values():  # what the trip could not deliver waits again
        if con.trip == e.trip:
            con.trip = None


def _closed(state: Any, e: ev.RoadClosed) -> None:
    state.fleet.closed_roads.add(frozenset((e.a, e.b)))


def _reopened(state: Any, e: ev.RoadReopened) -> None:
    state.fleet.closed_roads.discard(frozenset((e.a, e.b)))


def _broke(state: Any, e: ev.VehicleBrokeDown) -> None:
    state.fleet.broken.add(e.vehicle)


def _repaired(state: Any, e: ev.VehicleRepaired) -> None:
    state.fleet.broken.discard(e.vehicle)


def _nothing(state: Any, e: Any) -> None:
    pass


HANDLERS: dict[type, Callable[[Any, Any], None]] = {
    ev.ConsignmentReady: _ready,
    ev.VehicleDispatched: _dispatched,
    ev.Delivered: _delivered,
    ev.DeliveryUnserved: _unserved,
    ev.VehicleReturned: _returned,
    ev.RoadClosed: _closed,
    ev.RoadReopened: _reopened,
    ev.VehicleBrokeDown: _broke,
    ev.VehicleRepaired: _repaired,
    ev.Rerouted: _rerouted,
    ev.Refuelled: _nothing,
    ev.CrewAssigned: _nothing,
    ev.ReeferFailed: _nothing,
    ev.VehicleDiverted: _diverted,
}
