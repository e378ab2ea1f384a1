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

from twin.model.events_alerts import ALERT_EVENTS, DiscrepancyRaised, alert_row
from twin.model.events_fleet import (
    FLEET_EVENTS,
    ConsignmentReady,
    CrewAssigned,
    Delivered,
    DeliveryUnserved,
    ReeferFailed,
    Refuelled,
    Rerouted,
    RoadClosed,
    RoadReopened,
    VehicleBrokeDown,
    VehicleDispatched,
    VehicleDiverted,
    VehicleRepaired,
    VehicleReturned,
    fleet_row,
)
from twin.model.events_maintenance import (
    MAINTENANCE_EVENTS,
    AssetStarted,
    AssetStopped,
    MachineFailed,
    MaintenanceDone,
    RepairCompleted,
    RepairRequested,
    RepairStarted,
    RequestRated,
    SensorAlarm,
    SensorReading,
    TechnicianAssigned,
    WorkOrderCancelled,
    WorkOrderCreated,
    maintenance_row,
)
from twin.model.events_production import (
    PRODUCTION_EVENTS,
    MachineDown,
    MachineUp,
    MaterialIssued,
    MaterialReserved,
    MaterialShortage,
    MrpException,
    OperationCompleted,
    OperationInterrupted,
    OperationStarted,
    ProductionOrderReleased,
    ProductionReceived,
    ProductionReworked,
    ProductionScrapped,
    ScheduleReplanned,
    TransferReceived,
    TransferShipped,
    production_rows,
)
from twin.model.floor_events import FLOOR_EVENTS, FloorMoved, PickTravelled, floor_row

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
    "ReservationReleased",
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
    "OperationInterrupted",
    "MachineDown",
    "MachineUp",
    "ScheduleReplanned",
    "TransferShipped",
    "TransferReceived",
    "MrpException",
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
    "VehicleDiverted",
    "FLEET_EVENTS",
    "PickTravelled",
    "FloorMoved",
    "FLOOR_EVENTS",
    "DiscrepancyRaised",
    "ALERT_EVENTS",
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


class ReservationReleased(NamedTuple):
    """Units reserved for an order's pick that the shelf no longer holds (a cycle count found less
    than is reserved) are released from the lot: the order waits for them again on backorder, or,
    for an item sold as lost sales (``lost``), the units are lost and the order closes without them."""

    t: float
    order: int
    location: str
    item: str
    lot: int
    qty: float
    lost: bool


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
    | ReservationReleased
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
    | OperationInterrupted
    | MachineDown
    | MachineUp
    | ScheduleReplanned
    | TransferShipped
    | TransferReceived
    | MrpException
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
    | DiscrepancyRaised
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
        ReservationReleased,
        DisruptionStarted,
        DisruptionEnded,
        ActionRejected,
        *MAINTENANCE_EVENTS,
        *PRODUCTION_EVENTS,
        *FLEET_EVENTS,
        *FLOOR_EVENTS,
        *ALERT_EVENTS,
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
    elif kind == "ReservationReleased":
        # As a short pick's shortfall: the reservation goes, the units go back on backorder (or are lost).
        d_bo = 0.0 if ev.lost else ev.qty
        yield (seq, t, kind, ev.order, ev.item, ev.location, ev.lot, ev.qty, 0.0, -ev.qty, d_bo, 0.0,
               "lost" if ev.lost else "backordered")
    elif kind in ("DisruptionStarted", "DisruptionEnded"):
        yield (seq, t, kind, -1, "", "", -1, 0.0, 0.0, 0.0, 0.0, 0.0, f"{ev.kind}:{ev.target}")
    elif kind == "ActionRejected":
        yield (seq, t, kind, -1, "", "", -1, 0.0, 0.0, 0.0, 0.0, 0.0, f"{ev.policy}: {ev.action}: {ev.reason}")
    elif kind in _PRODUCTION_NAMES:
        yield from production_rows(seq, kind, ev)
    elif kind in _MAINTENANCE_NAMES:
        yield maintenance_row(seq, kind, ev)
    elif kind in _FLEET_NAMES:
        yield fleet_row(seq, kind, ev)
    elif kind in ("PickTravelled", "FloorMoved"):
        yield floor_row(seq, ev)
    elif kind == "DiscrepancyRaised":  # issue 7: raised by the live twin, moves no stock
        yield alert_row(seq, ev)
    else:  # pragma: no cover - every type above is listed in EVENT_TYPES
        raise TypeError(f"no flat view for event type {kind}")


_MAINTENANCE_NAMES = frozenset(cls.__name__ for cls in MAINTENANCE_EVENTS)
_PRODUCTION_NAMES = frozenset(cls.__name__ for cls in PRODUCTION_EVENTS)
_FLEET_NAMES = frozenset(cls.__name__ for cls in FLEET_EVENTS)


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
