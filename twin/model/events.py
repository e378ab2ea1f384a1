"""Typed events: the only way the twin's state changes (DESIGN principle 2).

Events are small immutable tuples with named fields, cheap enough that a year of a large warehouse
fits in memory and fast enough to append millions of. Times are in hours from the start of the run.
Multi-line events (an order, a pick) carry their lines as tuples so one arrival is one event.

Every event type also says how it changes the stock counters of each SKU it touches
(``rows``): that flat view is what KPIs, Parquet traces and the content hash are computed from.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any, NamedTuple

from twin.model.floor_events import FLOOR_EVENTS, PickTravelled, floor_row

__all__ = [
    "OrderPlaced",
    "Allocated",
    "Picked",
    "Shipped",
    "PurchaseOrderPlaced",
    "PurchaseOrderShipped",
    "GoodsReceived",
    "PutAway",
    "StatusChanged",
    "Expired",
    "Returned",
    "StockCounted",
    "DisruptionStarted",
    "DisruptionEnded",
    "ActionRejected",
    "MachineFailed",
    "AssetStopped",
    "AssetStarted",
    "WorkOrderCreated",
    "WorkOrderCancelled",
    "TechnicianAssigned",
    "RepairStarted",
    "RepairCompleted",
    "MaintenanceDone",
    "SensorReading",
    "SensorAlarm",
    "RepairRequested",
    "RequestRated",
    "MAINTENANCE_EVENTS",
    "ProductionOrderReleased",
    "MaterialReserved",
    "MaterialShortage",
    "OperationStarted",
    "OperationCompleted",
    "MaterialIssued",
    "ProductionScrapped",
    "ProductionReworked",
    "ProductionReceived",
    "PRODUCTION_EVENTS",
    "ConsignmentReady",
    "VehicleDispatched",
    "Delivered",
    "DeliveryUnserved",
    "VehicleReturned",
    "RoadClosed",
    "RoadReopened",
    "VehicleBrokeDown",
    "VehicleRepaired",
    "Rerouted",
    "Refuelled",
    "CrewAssigned",
    "ReeferFailed",
    "FLEET_EVENTS",
    "PickTravelled",
    "FLOOR_EVENTS",
    "EVENT_TYPES",
    "Event",
    "EventLog",
    "ROW_COLUMNS",
    "event_rows",
]


class OrderPlaced(NamedTuple):
    """A customer order (a ward requisition, a procedure's kit) arrives at a location."""

    t: float
    order: int
    location: str
    customer: str
    lines: tuple[tuple[str, float], ...]  # (item, qty)


class Allocated(NamedTuple):
    """Stock reserved for an order's lines, lot by lot; the rest is backordered or lost.

    ``backlog`` is true when this allocation serves earlier backorders (stock that arrived later),
    false when it happens as the order is placed: only the latter counts as filled from stock.
    """

    t: float
    order: int
    location: str
    picks: tuple[tuple[str, int, float], ...]  # (item, lot, qty)
    backordered: tuple[tuple[str, float], ...]  # (item, qty)
    lost: tuple[tuple[str, float], ...]  # (item, qty)
    backlog: bool


class Picked(NamedTuple):
    """Lines picked. ``qty`` is what left the shelf, ``scanned`` what the scanner recorded (the book)."""

    t: float
    order: int
    location: str
    picks: tuple[tuple[str, int, float, float, float], ...]  # (item, lot, allocated, qty, scanned)


class Shipped(NamedTuple):
    t: float
    order: int
    location: str
    lines: tuple[tuple[str, float], ...]
    complete: bool  # nothing of the order is left open


class PurchaseOrderPlaced(NamedTuple):
    t: float
    po: int
    item: str
    location: str
    supplier: str
    qty: float
    due: float
    policy: str


class PurchaseOrderShipped(NamedTuple):
    """The supplier dispatched (part of) an order: the quantity is now in transit."""

    t: float
    po: int
    item: str
    location: str
    qty: float


class GoodsReceived(NamedTuple):
    """Goods at the dock. ``scanned`` is what the receiving scan recorded; the book follows it."""

    t: float
    po: int
    item: str
    location: str
    lot: int
    qty: float
    scanned: float
    expiry: float | None
    closes_po: bool


class PutAway(NamedTuple):
    """A received lot reaches its bin: available, or under quality hold."""

    t: float
    item: str
    location: str
    lot: int
    status: str  # available | quality_hold


class StatusChanged(NamedTuple):
    """A lot changes status (available, quality_hold, frozen) or is scrapped (status 'scrapped')."""

    t: float
    item: str
    location: str
    lot: int
    status: str
    qty: float
    reason: str


class Expired(NamedTuple):
    t: float
    item: str
    location: str
    lot: int
    qty: float


class Returned(NamedTuple):
    """Units come back from a customer; they enter quality hold as a new lot."""

    t: float
    order: int
    item: str
    location: str
    lot: int
    qty: float
    expiry: float | None


class StockCounted(NamedTuple):
    """A cycle count: the book said ``book``, the count found ``counted``; the book is corrected."""

    t: float
    item: str
    location: str
    book: float
    counted: float
    duration: float


class DisruptionStarted(NamedTuple):
    t: float
    kind: str
    target: str
    factor: float
    until: float


class DisruptionEnded(NamedTuple):
    t: float
    kind: str
    target: str


class ActionRejected(NamedTuple):
    t: float
    policy: str
    action: str
    reason: str


# -- maintenance (issue 4): assets, work orders, technicians, sensors, requests -------------------


class MachineFailed(NamedTuple):
    """An asset breaks down; ``age`` is its virtual operating age at failure (hours)."""

    t: float
    asset: str
    age: float


class AssetStopped(NamedTuple):
    """An asset is stopped on purpose (planned downtime, or planned maintenance starting)."""

    t: float
    asset: str
    reason: str


class AssetStarted(NamedTuple):
    """A stopped asset runs again (end of planned downtime)."""

    t: float
    asset: str
    reason: str


class WorkOrderCreated(NamedTuple):
    """A maintenance work order: ``kind`` corrective | preventive | condition | predictive | request."""

    t: float
    wo: int
    asset: str
    kind: str
    priority: int
    skill: str
    source: str  # the policy, 'failure', or a request's channel


class WorkOrderCancelled(NamedTuple):
    t: float
    wo: int
    asset: str
    reason: str


class TechnicianAssigned(NamedTuple):
    t: float
    wo: int
    technician: str
    travel: float  # hours


class RepairStarted(NamedTuple):
    """Work on a work order starts (the technician is there and the parts are at hand)."""

    t: float
    wo: int
    asset: str
    technician: str


class RepairCompleted(NamedTuple):
    """A corrective work order (or a request) is done; the asset runs again with virtual age ``age``."""

    t: float
    wo: int
    asset: str
    technician: str
    labour_hours: float
    cost: float
    age: float


class MaintenanceDone(NamedTuple):
    """A planned work order is done; the asset runs again with virtual age ``age``."""

    t: float
    wo: int
    asset: str
    technician: str
    labour_hours: float
    cost: float
    age: float


class SensorReading(NamedTuple):
    """A reading a policy asked for (most samples never become events: DESIGN principle 4)."""

    t: float
    sensor: str
    target: str
    kind: str
    value: float


class SensorAlarm(NamedTuple):
    """A sensor crosses its alarm limit (``state`` 'high' or 'low') or comes back ('clear')."""

    t: float
    sensor: str
    target: str
    kind: str
    value: float
    state: str


class RepairRequested(NamedTuple):
    """A person asks for a repair (app, phone, web); a work order of kind 'request' follows."""

    t: float
    wo: int
    asset: str
    location: str
    channel: str
    priority: int


class RequestRated(NamedTuple):
    """The requester rates the closed request, 1 (bad) .. 5 (good)."""

    t: float
    wo: int
    rating: int


# -- production (issue 3): work orders, material between warehouse and lines, operations ----------


class ProductionOrderReleased(NamedTuple):
    """A production work order is released to the shop floor (``source``: 'mps:<ref>', a policy, or
    'parent:<wo>' for a sub-assembly made for a held parent)."""

    t: float
    wo: int
    item: str
    location: str
    qty: float
    due: float
    source: str


class MaterialReserved(NamedTuple):
    """Components reserved for a work order, lot by lot (reserved stock is never issued twice)."""

    t: float
    wo: int
    location: str
    picks: tuple[tuple[str, int, float], ...]  # (item, lot, qty)


class MaterialShortage(NamedTuple):
    """A work order could not get its components; ``action`` is 'substituted:<item>' or 'held'."""

    t: float
    wo: int
    location: str
    lines: tuple[tuple[str, float], ...]  # (item, qty short)
    action: str


class OperationStarted(NamedTuple):
    t: float
    wo: int
    op: int
    machine: str
    setup: float  # hours of set-up and changeover before the run


class OperationCompleted(NamedTuple):
    t: float
    wo: int
    op: int
    machine: str
    run: float  # hours of run time


class MaterialIssued(NamedTuple):
    """Backflush at completion: the reserved components leave the stock."""

    t: float
    wo: int
    location: str
    picks: tuple[tuple[str, int, float], ...]  # (item, lot, qty)


class ProductionScrapped(NamedTuple):
    """Finished units of a work order scrapped (never received into stock)."""

    t: float
    wo: int
    item: str
    location: str
    qty: float
    reason: str


class ProductionReworked(NamedTuple):
    """Completed units of a work order found defective and sent back through operation ``op`` (the
    last of the routing) once before they are received; they count against first-pass quality."""

    t: float
    wo: int
    item: str
    location: str
    qty: float
    op: int


class ProductionReceived(NamedTuple):
    """Good units of a completed work order received into stock as a new available lot; closes it."""

    t: float
    wo: int
    item: str
    location: str
    lot: int
    qty: float


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


class ReeferFailed(NamedTuple):
    """A reefer's cooling fails during a trip: cold cargo spoils unless delivered in time."""

    t: float
    vehicle: str
    trip: int


Event = (
    OrderPlaced
    | Allocated
    | Picked
    | Shipped
    | PurchaseOrderPlaced
    | PurchaseOrderShipped
    | GoodsReceived
    | PutAway
    | StatusChanged
    | Expired
    | Returned
    | StockCounted
    | DisruptionStarted
    | DisruptionEnded
    | ActionRejected
    | MachineFailed
    | AssetStopped
    | AssetStarted
    | WorkOrderCreated
    | WorkOrderCancelled
    | TechnicianAssigned
    | RepairStarted
    | RepairCompleted
    | MaintenanceDone
    | SensorReading
    | SensorAlarm
    | RepairRequested
    | RequestRated
    | ProductionOrderReleased
    | MaterialReserved
    | MaterialShortage
    | OperationStarted
    | OperationCompleted
    | MaterialIssued
    | ProductionScrapped
    | ProductionReworked
    | ProductionReceived
    | ConsignmentReady
    | VehicleDispatched
    | Delivered
    | DeliveryUnserved
    | VehicleReturned
    | RoadClosed
    | RoadReopened
    | VehicleBrokeDown
    | VehicleRepaired
    | Rerouted
    | Refuelled
    | CrewAssigned
    | ReeferFailed
)

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
)

PRODUCTION_EVENTS: tuple[type, ...] = (
    ProductionOrderReleased,
    MaterialReserved,
    MaterialShortage,
    OperationStarted,
    OperationCompleted,
    MaterialIssued,
    ProductionScrapped,
    ProductionReworked,
    ProductionReceived,
)

MAINTENANCE_EVENTS: tuple[type, ...] = (
    MachineFailed,
    AssetStopped,
    AssetStarted,
    WorkOrderCreated,
    WorkOrderCancelled,
    TechnicianAssigned,
    RepairStarted,
    RepairCompleted,
    MaintenanceDone,
    SensorReading,
    SensorAlarm,
    RepairRequested,
    RequestRated,
)

EVENT_TYPES: dict[str, type] = {
    cls.__name__: cls
    for cls in (
        OrderPlaced,
        Allocated,
        Picked,
        Shipped,
        PurchaseOrderPlaced,
        PurchaseOrderShipped,
        GoodsReceived,
        PutAway,
        StatusChanged,
        Expired,
        Returned,
        StockCounted,
        DisruptionStarted,
        DisruptionEnded,
        ActionRejected,
        *MAINTENANCE_EVENTS,
        *PRODUCTION_EVENTS,
        *FLEET_EVENTS,
        *FLOOR_EVENTS,
    )
}

# The flat view: one row per event line, with the change it makes to each SKU counter.
ROW_COLUMNS = (
    "seq",
    "t",
    "type",
    "order",
    "item",
    "location",
    "lot",
    "qty",
    "d_on_hand",
    "d_reserved",
    "d_backorder",
    "d_on_order",
    "info",
)
Row = tuple[int, float, str, int, str, str, int, float, float, float, float, float, str]


def event_rows(seq: int, ev: Any, lot_qty: dict[tuple[str, str, int], float]) -> Iterator[Row]:
    """Flatten one event into rows. ``lot_qty`` tracks book quantities of lots not yet available
    (at the dock or on hold), because put-away and release events name a lot, not a quantity."""
    t = ev.t
    kind = type(ev).__name__
    if kind == "OrderPlaced":
        for item, qty in ev.lines:
            yield (seq, t, kind, ev.order, item, ev.location, -1, qty, 0.0, 0.0, 0.0, 0.0, ev.customer)
    elif kind == "Allocated":
        info = "backlog" if ev.backlog else "placed"
        for item, lot, qty in ev.picks:
            d_bo = -qty if ev.backlog else 0.0
            yield (seq, t, kind, ev.order, item, ev.location, lot, qty, 0.0, qty, d_bo, 0.0, info)
        for item, qty in ev.backordered:
            yield (seq, t, kind, ev.order, item, ev.location, -1, qty, 0.0, 0.0, qty, 0.0, "backordered")
        for item, qty in ev.lost:
            yield (seq, t, kind, ev.order, item, ev.location, -1, qty, 0.0, 0.0, 0.0, 0.0, "lost")
    elif kind == "Picked":
        for item, lot, alloc, qty, scanned in ev.picks:
            # The book drops by what was scanned; a short pick puts the shortfall back on backorder.
            short = alloc - qty
            yield (seq, t, kind, ev.order, item, ev.location, lot, qty, -scanned - short, -alloc, short, 0.0,
                   "short" if short > 0 else "")
    elif kind == "Shipped":
        for item, qty in ev.lines:
            yield (seq, t, kind, ev.order, item, ev.location, -1, qty, 0.0, 0.0, 0.0, 0.0,
                   "complete" if ev.complete else "partial")
    elif kind == "PurchaseOrderPlaced":
        yield (seq, t, kind, ev.po, ev.item, ev.location, -1, ev.qty, 0.0, 0.0, 0.0, ev.qty, ev.supplier)
    elif kind == "PurchaseOrderShipped":
        yield (seq, t, kind, ev.po, ev.item, ev.location, -1, ev.qty, 0.0, 0.0, 0.0, 0.0, "")
    elif kind == "GoodsReceived":
        lot_qty[(ev.item, ev.location, ev.lot)] = ev.scanned
        d_on_order = -ev.qty if ev.po >= 0 else 0.0  # po < 0: opening stock
        yield (seq, t, kind, ev.po, ev.item, ev.location, ev.lot, ev.qty, 0.0, 0.0, 0.0, d_on_order, "")
    elif kind == "PutAway":
        qty = lot_qty.get((ev.item, ev.location, ev.lot), 0.0)
        d = qty if ev.status == "available" else 0.0
        if ev.status == "available":
            lot_qty.pop((ev.item, ev.location, ev.lot), None)
        yield (seq, t, kind, -1, ev.item, ev.location, ev.lot, qty, d, 0.0, 0.0, 0.0, ev.status)
    elif kind == "StatusChanged":
        key = (ev.item, ev.location, ev.lot)
        if ev.status == "available" and key in lot_qty:
            qty = lot_qty.pop(key)
            yield (seq, t, kind, -1, ev.item, ev.location, ev.lot, qty, qty, 0.0, 0.0, 0.0, ev.status)
        elif ev.status == "scrapped" and key in lot_qty:
            qty = lot_qty.pop(key)
            yield (seq, t, kind, -1, ev.item, ev.location, ev.lot, qty, 0.0, 0.0, 0.0, 0.0, ev.status)
        elif ev.status == "scrapped":
            # An available lot scrapped outright (a recall): it leaves the stock on hand.
            yield (seq, t, kind, -1, ev.item, ev.location, ev.lot, ev.qty, -ev.qty, 0.0, 0.0, 0.0, ev.status)
        elif key in lot_qty or ev.status == "available":
            # Held to held (quality hold to frozen, say), or available to available: nothing moves.
            yield (seq, t, kind, -1, ev.item, ev.location, ev.lot, ev.qty, 0.0, 0.0, 0.0, 0.0, ev.status)
        else:
            # An available lot leaves the available stock (frozen, held).
            lot_qty[key] = ev.qty
            yield (seq, t, kind, -1, ev.item, ev.location, ev.lot, ev.qty, -ev.qty, 0.0, 0.0, 0.0, ev.status)
    elif kind == "Expired":
        key = (ev.item, ev.location, ev.lot)
        if key in lot_qty:
            # A lot that expires at the dock or on hold was never available: on hand does not change.
            left = lot_qty[key] - ev.qty
            if left <= 1e-9:
                del lot_qty[key]
            else:
                lot_qty[key] = left
            yield (seq, t, kind, -1, ev.item, ev.location, ev.lot, ev.qty, 0.0, 0.0, 0.0, 0.0, "held")
        else:
            yield (seq, t, kind, -1, ev.item, ev.location, ev.lot, ev.qty, -ev.qty, 0.0, 0.0, 0.0, "")
    elif kind == "Returned":
        lot_qty[(ev.item, ev.location, ev.lot)] = ev.qty
        yield (seq, t, kind, ev.order, ev.item, ev.location, ev.lot, ev.qty, 0.0, 0.0, 0.0, 0.0, "")
    elif kind == "StockCounted":
        d = ev.counted - ev.book
        yield (seq, t, kind, -1, ev.item, ev.location, -1, ev.counted, d, 0.0, 0.0, 0.0, f"book={ev.book:g}")
    elif kind in ("DisruptionStarted", "DisruptionEnded"):
        yield (seq, t, kind, -1, "", "", -1, 0.0, 0.0, 0.0, 0.0, 0.0, f"{ev.kind}:{ev.target}")
    elif kind == "ActionRejected":
        yield (seq, t, kind, -1, "", "", -1, 0.0, 0.0, 0.0, 0.0, 0.0, f"{ev.policy}: {ev.action}: {ev.reason}")
    elif kind in _PRODUCTION_NAMES:
        yield from _production_rows(seq, kind, ev)
    elif kind in _MAINTENANCE_NAMES:
        yield _maintenance_row(seq, kind, ev)
    elif kind in _FLEET_NAMES:
        yield _fleet_row(seq, kind, ev)
    elif kind == "PickTravelled":
        yield floor_row(seq, ev)
    else:  # pragma: no cover - every type above is listed in EVENT_TYPES
        raise TypeError(f"no flat view for event type {kind}")


_MAINTENANCE_NAMES = frozenset(cls.__name__ for cls in MAINTENANCE_EVENTS)
_PRODUCTION_NAMES = frozenset(cls.__name__ for cls in PRODUCTION_EVENTS)
_FLEET_NAMES = frozenset(cls.__name__ for cls in FLEET_EVENTS)


def _fleet_row(seq: int, kind: str, ev: Any) -> Row:
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
    if kind == "CrewAssigned":
        return (seq, t, kind, ev.trip, "", "", -1, 0.0, 0.0, 0.0, 0.0, 0.0, " ".join(ev.crew))
    # VehicleBrokeDown, VehicleRepaired, ReeferFailed
    return (seq, t, kind, ev.trip, ev.vehicle, "", -1, 0.0, 0.0, 0.0, 0.0, 0.0, "")


def _production_rows(seq: int, kind: str, ev: Any) -> Iterator[Row]:
    """Production rows: ``order`` is the work order; reservations, backflush and receipts move the
    component and finished-goods counters, the rest only record (``location`` is the machine)."""
    t, wo = ev.t, ev.wo
    if kind == "MaterialReserved":
        for item, lot, qty in ev.picks:
            yield (seq, t, kind, wo, item, ev.location, lot, qty, 0.0, qty, 0.0, 0.0, "")
    elif kind == "MaterialIssued":
        for item, lot, qty in ev.picks:
            yield (seq, t, kind, wo, item, ev.location, lot, qty, -qty, -qty, 0.0, 0.0, "backflush")
    elif kind == "ProductionReceived":
        yield (seq, t, kind, wo, ev.item, ev.location, ev.lot, ev.qty, ev.qty, 0.0, 0.0, -ev.qty, "")
    elif kind == "ProductionOrderReleased":
        # An open work order is on order (a scheduled receipt) until its units are received or scrapped.
        yield (seq, t, kind, wo, ev.item, ev.location, -1, ev.qty, 0.0, 0.0, 0.0, ev.qty, f"due={ev.due!r} {ev.source}")
    elif kind == "MaterialShortage":
        for item, qty in ev.lines:
            yield (seq, t, kind, wo, item, ev.location, -1, qty, 0.0, 0.0, 0.0, 0.0, ev.action)
    elif kind == "ProductionScrapped":
        yield (seq, t, kind, wo, ev.item, ev.location, -1, ev.qty, 0.0, 0.0, 0.0, -ev.qty, ev.reason)
    elif kind == "ProductionReworked":
        yield (seq, t, kind, wo, ev.item, ev.location, ev.op, ev.qty, 0.0, 0.0, 0.0, 0.0, "rework")
    elif kind == "OperationStarted":
        yield (seq, t, kind, wo, "", ev.machine, ev.op, ev.setup, 0.0, 0.0, 0.0, 0.0, "")
    else:  # OperationCompleted
        yield (seq, t, kind, wo, "", ev.machine, ev.op, ev.run, 0.0, 0.0, 0.0, 0.0, "")


def _maintenance_row(seq: int, kind: str, ev: Any) -> Row:
    """Maintenance events touch no stock counter: ``order`` is the work order, ``location`` the asset
    (or a sensor's target), ``item`` the technician or sensor, ``qty`` the main number, ``info`` the rest."""
    wo = getattr(ev, "wo", -1)
    if kind in ("SensorReading", "SensorAlarm"):
        info = ev.kind if kind == "SensorReading" else f"{ev.kind}:{ev.state}"
        return (seq, ev.t, kind, -1, ev.sensor, ev.target, -1, ev.value, 0.0, 0.0, 0.0, 0.0, info)
    if kind == "RequestRated":
        return (seq, ev.t, kind, wo, "", "", -1, float(ev.rating), 0.0, 0.0, 0.0, 0.0, "")
    asset = getattr(ev, "asset", "")
    tech = getattr(ev, "technician", "")
    if kind == "MachineFailed":
        qty, info = ev.age, ""
    elif kind in ("AssetStopped", "AssetStarted", "WorkOrderCancelled"):
        qty, info = 0.0, ev.reason
    elif kind == "WorkOrderCreated":
        qty, info = float(ev.priority), f"{ev.kind}:{ev.skill}:{ev.source}"
    elif kind == "TechnicianAssigned":
        qty, info = ev.travel, ""
    elif kind in ("RepairCompleted", "MaintenanceDone"):
        qty, info = ev.cost, f"labour={ev.labour_hours!r} age={ev.age!r}"
    elif kind == "RepairRequested":
        qty, info = float(ev.priority), f"{ev.channel}:{ev.location}"
    else:
        qty, info = 0.0, ""
    return (seq, ev.t, kind, wo, tech, asset, -1, qty, 0.0, 0.0, 0.0, 0.0, info)


class EventLog:
    """The record of a run: every event in the order it was applied."""

    __slots__ = ("events",)

    def __init__(self) -> None:
        self.events: list[Any] = []

    def __len__(self) -> int:
        return len(self.events)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.events)

    def content_hash(self) -> str:
        """SHA-256 of the log: the same seed and scenario give the same hash, byte for byte.

        Floats are written with ``repr`` (shortest round-trip form), which is platform-stable.
        """
        digest = hashlib.sha256()
        chunk: list[str] = []
        for ev in self.events:
            chunk.append(type(ev).__name__)
            chunk.append(repr(tuple(ev)))
            if len(chunk) >= 20000:
                digest.update("\n".join(chunk).encode())
                chunk.clear()
        digest.update("\n".join(chunk).encode())
        return digest.hexdigest()

    def rows(self) -> list[Row]:
        lot_qty: dict[tuple[str, str, int], float] = {}
        out: list[Row] = []
        for seq, ev in enumerate(self.events):
            out.extend(event_rows(seq, ev, lot_qty))
        return out
