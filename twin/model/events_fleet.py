"""Transport events (issue 5): consignments, trips, deliveries, roads, vehicles.

Split from twin/model/events.py, which re-exports every name here.
"""

from __future__ import annotations

from typing import Any, NamedTuple

__all__ = [
    "ConsignmentReady",
    "CrewAssigned",
    "Delivered",
    "DeliveryUnserved",
    "FLEET_EVENTS",
    "ReeferFailed",
    "Refuelled",
    "Rerouted",
    "RoadClosed",
    "RoadReopened",
    "VehicleBrokeDown",
    "VehicleDispatched",
    "VehicleDiverted",
    "VehicleRepaired",
    "VehicleReturned",
    "fleet_row",
]

Row = tuple[Any, ...]

# -- transport (issue 5): consignments, trips, deliveries, roads, vehicles ------------------------


class ConsignmentReady(NamedTuple):
    """Shipped goods for a network node wait at the warehouse dock for a vehicle."""

    t: float
    consignment: int
    order: int
    origin: str
    destination: str
    weight: float
    volume: float
    priority: int
    due: float


class VehicleDispatched(NamedTuple):
    """A vehicle leaves its warehouse (loaded) with consignments in this order; ``km`` planned."""

    t: float
    trip: int
    vehicle: str
    origin: str
    consignments: tuple[int, ...]
    km: float


class Delivered(NamedTuple):
    t: float
    trip: int
    vehicle: str
    consignment: int
    order: int
    node: str
    priority: int
    due: float
    late: bool
    spoiled: bool


class DeliveryUnserved(NamedTuple):
    """A consignment that cannot be delivered (heavier than any vehicle, unreachable, ...)."""

    t: float
    consignment: int
    order: int
    node: str
    reason: str


class VehicleReturned(NamedTuple):
    """A trip ends back at the depot: its km, hours and cost (km and hours at the vehicle's rates)."""

    t: float
    trip: int
    vehicle: str
    km: float
    hours: float
    cost: float


class RoadClosed(NamedTuple):
    t: float
    a: str
    b: str


class RoadReopened(NamedTuple):
    t: float
    a: str
    b: str


class VehicleBrokeDown(NamedTuple):
    t: float
    vehicle: str
    trip: int


class VehicleRepaired(NamedTuple):
    t: float
    vehicle: str
    trip: int


class Rerouted(NamedTuple):
    """A trip under way changes its plan (a road closed, a breakdown, a stop became unreachable);
    ``stops`` are the consignments still to deliver, in the new order."""

    t: float
    trip: int
    vehicle: str
    reason: str
    stops: tuple[int, ...]


class Refuelled(NamedTuple):
    t: float
    vehicle: str
    hours: float


class CrewAssigned(NamedTuple):
    """Driver and escort crews for a trip (a convoy that needs an escort waits for one)."""

    t: float
    trip: int
    crew: tuple[str, ...]


class VehicleDiverted(NamedTuple):
    """An urgent consignment goes on ``trip``: the vehicle drives to ``warehouse`` to load it (once done
    at the node it heads to, or from its depot at once) and delivers it next; ``stops`` are the
    consignments already on board, in their new order after it."""

    t: float
    trip: int
    vehicle: str
    consignment: int
    warehouse: str
    stops: tuple[int, ...]


class ReeferFailed(NamedTuple):
    """A reefer's cooling fails during a trip: cold cargo spoils unless delivered in time."""

    t: float
    vehicle: str
    trip: int


FLEET_EVENTS: tuple[type, ...] = (
    ConsignmentReady,
    VehicleDispatched,
    Delivered,
    DeliveryUnserved,
    VehicleReturned,
    RoadClosed,
    RoadReopened,
    VehicleBrokeDown,
    VehicleRepaired,
    Rerouted,
    Refuelled,
    CrewAssigned,
    ReeferFailed,
    VehicleDiverted,
)


def fleet_row(seq: int, kind: str, ev: Any) -> Row:
    """Transport events touch no stock counter (the goods left the stock when shipped): ``order`` is
    the customer order (or the trip), ``item`` the vehicle, ``location`` the node, ``qty`` the main
    number (km, weight, cost), ``info`` the rest."""
    t = ev.t
    if kind == "ConsignmentReady":
        return (seq, t, kind, ev.order, "", ev.destination, ev.consignment, ev.weight, 0.0, 0.0, 0.0, 0.0,
                f"from={ev.origin} p{ev.priority} due={ev.due!r}")
    if kind == "VehicleDispatched":
        return (seq, t, kind, ev.trip, ev.vehicle, ev.origin, -1, ev.km, 0.0, 0.0, 0.0, 0.0,
                " ".join(map(str, ev.consignments)))
    if kind == "Delivered":
        info = ("late" if ev.late else "on_time") + (" spoiled" if ev.spoiled else "")
        return (seq, t, kind, ev.order, ev.vehicle, ev.node, ev.consignment, float(ev.priority), 0.0, 0.0, 0.0,
                0.0, info)
    if kind == "DeliveryUnserved":
        return (seq, t, kind, ev.order, "", ev.node, ev.consignment, 0.0, 0.0, 0.0, 0.0, 0.0, ev.reason)
    if kind == "VehicleReturned":
        return (seq, t, kind, ev.trip, ev.vehicle, "", -1, ev.km, 0.0, 0.0, 0.0, 0.0,
                f"hours={ev.hours!r} cost={ev.cost!r}")
    if kind in ("RoadClosed", "RoadReopened"):
        return (seq, t, kind, -1, "", f"{ev.a}-{ev.b}", -1, 0.0, 0.0, 0.0, 0.0, 0.0, "")
    if kind == "Rerouted":
        return (seq, t, kind, ev.trip, ev.vehicle, "", -1, 0.0, 0.0, 0.0, 0.0, 0.0,
                f"{ev.reason}: {' '.join(map(str, ev.stops))}")
    if kind == "Refuelled":
        return (seq, t, kind, -1, ev.vehicle, "", -1, ev.hours, 0.0, 0.0, 0.0, 0.0, "")
    if kind == "VehicleDiverted":
        return (seq, t, kind, ev.trip, ev.vehicle, ev.warehouse, ev.consignment, 0.0, 0.0, 0.0, 0.0, 0.0,
                " ".join(map(str, ev.stops)))
    if kind == "CrewAssigned":
        return (seq, t, kind, ev.trip, "", "", -1, 0.0, 0.0, 0.0, 0.0, 0.0, " ".join(ev.crew))
    # VehicleBrokeDown, VehicleRepaired, ReeferFailed
    return (seq, t, kind, ev.trip, ev.vehicle, "", -1, 0.0, 0.0, 0.0, 0.0, 0.0, "")
