"""Operational state and the one reducer that changes it.

The simulation and the live site both change state only by ``apply(state, event)``. Quantities on
the book (what the WMS believes) are kept per lot; ``phantom`` is how far the book is above the
physical stock at a SKU (scanner misreads and missed reads make it drift; counts reset it).
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from twin.model import events as ev
from twin.model.events_alerts import HANDLERS as _ALERT_HANDLERS
from twin.model.fleet_state import HANDLERS as _FLEET_HANDLERS
from twin.model.fleet_state import FleetState
from twin.model.floor_events import HANDLERS as _FLOOR_HANDLERS
from twin.model.maintenance_state import HANDLERS as _MAINTENANCE_HANDLERS
from twin.model.maintenance_state import MaintenanceState
from twin.model.production_state import HANDLERS as _PRODUCTION_HANDLERS
from twin.model.production_state import ProductionState

__all__ = ["Lot", "Sku", "PurchaseOrder", "State", "apply", "apply_order_line", "apply_line_shipped",
           "ReducerError", "count_takes"]


class ReducerError(ValueError):
    """An event that does not fit the state it is applied to (unknown SKU, lot or order)."""


class Lot:
    __slots__ = ("id", "qty", "reserved", "expiry", "received", "status")

    def __init__(self, id: int, qty: float, expiry: float | None, received: float, status: str) -> None:
        self.id = id
        self.qty = qty
        self.reserved = 0.0
        self.expiry = expiry
        self.received = received
        self.status = status

    def sort_key(self) -> tuple[float, float, int]:
        # Earliest expiry first, then oldest receipt: the order FEFO walks and FIFO falls back to.
        return (self.expiry if self.expiry is not None else float("inf"), self.received, self.id)

    def __repr__(self) -> str:
        return f"Lot({self.id}, qty={self.qty:g}, reserved={self.reserved:g}, expiry={self.expiry}, {self.status})"


class Sku:
    """One item at one location."""

    __slots__ = ("item", "location", "on_hand", "reserved", "backorder", "on_order", "in_transit", "held",
                 "phantom", "lots", "keys", "held_lots", "backlog", "demand", "lost")

    def __init__(self, item: str, location: str) -> None:
        self.item = item
        self.location = location
        self.on_hand = 0.0  # book units in available lots (reserved ones included)
        self.reserved = 0.0  # allocated to orders, not yet picked
        self.backorder = 0.0
        self.on_order = 0.0  # ordered from suppliers, not yet received (in transit included)
        self.in_transit = 0.0
        self.held = 0.0  # book units at the dock, on quality hold or frozen
        self.phantom = 0.0  # book minus physical
        self.lots: list[Lot] = []  # available lots, FEFO order
        self.keys: list[tuple[float, float, int]] = []  # sort keys of self.lots, for bisect
        self.held_lots: dict[int, Lot] = {}
        self.backlog: deque[list[Any]] = deque()  # [order, qty] waiting for stock, oldest first
        self.demand = 0.0  # units ordered so far (for observations)
        self.lost = 0.0

    @property
    def available(self) -> float:
        return self.on_hand - self.reserved

    @property
    def inventory_position(self) -> float:
        return self.on_hand + self.held + self.on_order - self.backorder

    @property
    def physical(self) -> float:
        return self.on_hand + self.held - self.phantom

    def add_lot(self, lot: Lot) -> None:
        key = lot.sort_key()
        i = bisect.bisect(self.keys, key)
        self.keys.insert(i, key)
        self.lots.insert(i, lot)

    def remove_lot(self, lot: Lot) -> None:
        i = self.lots.index(lot)
        del self.lots[i]
        del self.keys[i]

    def find_lot(self, lot_id: int) -> Lot:
        for lot in self.lots:
            if lot.id == lot_id:
                return lot
        raise ReducerError(f"lot {lot_id} is not available at {self.item}@{self.location}")

    def take(self, lot_id: int, qty: float) -> None:
        """Take book quantity from a lot, and from the next lots when it holds less."""
        self.take_from(self.find_lot(lot_id) if qty > 0 else None, qty)

    def take_from(self, lot: Lot | None, qty: float) -> None:
        """``take`` from a lot already found (``None`` when ``qty`` is not positive)."""
        remaining = qty
        if lot is not None:
            held = lot.qty
            step = remaining if remaining < held else held  # min(held, remaining)
            lot.qty -= step
            remaining -= step
            if lot.qty <= 1e-9 and lot.reserved <= 1e-9:
                self.remove_lot(lot)
        if remaining > 1e-9:
            for other in list(self.lots):
                if remaining <= 1e-9:
                    break
                step = min(other.qty - other.reserved, remaining)
                if step > 0:
                    other.qty -= step
                    remaining -= step
                    if other.qty <= 1e-9 and other.reserved <= 1e-9:
                        self.remove_lot(other)
        self.on_hand -= qty - remaining
        # Whatever could not be taken from the book stays as an (negative) phantom: the book was short.
        self.phantom += remaining


@dataclass
class PurchaseOrder:
    po: int
    item: str
    location: str
    supplier: str
    qty: float
    due: float
    placed: float
    shipped: float = 0.0
    received: float = 0.0


@dataclass
class State:
    """The state of a site at ``clock``: stock by SKU and lot, open orders, purchase orders."""

    clock: float = 0.0
    skus: dict[tuple[str, str], Sku] = field(default_factory=dict)
    orders: dict[int, list[float]] = field(default_factory=dict)  # order -> [placed at, open units]
    purchase_orders: dict[int, PurchaseOrder] = field(default_factory=dict)
    disruptions: dict[tuple[str, str], float] = field(default_factory=dict)  # (kind, target) -> until
    rejected_actions: int = 0
    next_adjustment_lot: int = -1
    maintenance: MaintenanceState = field(default_factory=MaintenanceState)  # assets, work orders
    production: ProductionState = field(default_factory=ProductionState)  # production work orders
    fleet: FleetState = field(default_factory=FleetState)  # consignments, trips, closed roads
    alerts: list[Any] = field(default_factory=list)  # DiscrepancyRaised, oldest first (live twin)
    # The same SKUs by location, then item: the reducers of the events every order line makes look
    # their SKU up here (two lookups by string cost less than building and hashing a tuple key).
    at: dict[str, dict[str, Sku]] = field(default_factory=dict)

    @classmethod
    def empty(cls, skus: Iterable[tuple[str, str]]) -> State:
        state = cls()
        at = state.at
        for item, location in skus:
            state.skus[(item, location)] = at.setdefault(location, {})[item] = Sku(item, location)
        return state

    def sku(self, item: str, location: str) -> Sku:
        try:
            return self.skus[(item, location)]
        except KeyError:
            raise ReducerError(f"unknown item {item!r} at location {location!r}") from None


def _sku(state: State, item: str, location: str) -> Sku:
    try:
        return state.skus[(item, location)]
    except KeyError:
        raise ReducerError(f"unknown item {item!r} at location {location!r}") from None


_NONE_HERE: dict[str, Sku] = {}  # the SKUs of a location that has none (``_sku`` then says which is unknown)


def _order_placed(state: State, e: ev.OrderPlaced) -> None:
    # Events are unpacked rather than read field by field: a NamedTuple field is a descriptor
    # lookup, and the reducer reads millions of events in a run.
    t, order, loc, _, lines = e
    here = state.at.get(loc, _NONE_HERE)
    if len(lines) == 1:  # one line (most orders)
        item, total = lines[0]
        sku = here.get(item) or _sku(state, item, loc)
        sku.demand += total
        state.orders[order] = [t, 0.0 + total]  # the float total the loop below would give
        return
    total = 0.0
    for item, qty in lines:
        sku = here.get(item) or _sku(state, item, loc)
        sku.demand += qty
        total += qty
    state.orders[order] = [t, total]


def _allocated(state: State, e: ev.Allocated) -> None:
    _, order_id, loc, picks, backordered, lost, backlog = e
    skus = state.at.get(loc, _NONE_HERE)
    for item, lot_id, qty in picks:
        sku = skus.get(item) or _sku(state, item, loc)
        for lot in sku.lots:
            if lot.id == lot_id:
                lot.reserved += qty
                break
        else:
            raise ReducerError(f"lot {lot_id} of {item}@{loc} is not available to allocate")
        sku.reserved += qty
        if backlog:
            _serve_backlog(sku, order_id, qty)
    for item, qty in backordered:
        sku = skus.get(item) or _sku(state, item, loc)
        sku.backorder += qty
        sku.backlog.append([order_id, qty])
    if lost:
        order = state.orders.get(order_id)
        for item, qty in lost:
            sku = skus.get(item) or _sku(state, item, loc)
            sku.lost += qty
            if order is not None:
                order[1] -= qty
        if order is not None and order[1] <= 1e-9:
            del state.orders[order_id]


def _serve_backlog(sku: Sku, order: int, qty: float) -> None:
    # An order can wait in several entries (backordered when placed, then short-picked later);
    # an allocation may serve more than the first of them.
    entries = [entry for entry in sku.backlog if entry[0] == order]
    waiting = sum(entry[1] for entry in entries)
    if waiting < qty - 1e-9:
        raise ReducerError(f"order {order} has no backorder of {qty:g} of {sku.item}@{sku.location} "
                           f"(it waits for {waiting:g})")
    sku.backorder -= qty
    remaining = qty
    for entry in entries:
        step = min(entry[1], remaining)
        entry[1] -= step
        remaining -= step
        if entry[1] <= 1e-9:
            sku.backlog.remove(entry)
        if remaining <= 1e-9:
            break


def _picked(state: State, e: ev.Picked) -> None:
    _, order, loc, picks = e
    skus = state.at.get(loc, _NONE_HERE)
    for item, lot_id, alloc, qty, scanned in picks:
        sku = skus.get(item) or _sku(state, item, loc)
        for lot in sku.lots:  # sku.find_lot(lot_id), inline
            if lot.id == lot_id:
                break
        else:
            raise ReducerError(f"lot {lot_id} is not available at {item}@{loc}")
        lot.reserved -= alloc
        sku.reserved -= alloc
        if qty == alloc and scanned == qty:
            # Picked in full and scanned right (most lines): ``take_from`` of what the lot holds.
            if 0 < scanned < lot.qty:
                lot.qty -= scanned
                if lot.qty <= 1e-9 and lot.reserved <= 1e-9:
                    sku.remove_lot(lot)
                sku.on_hand -= scanned
                continue
            sku.take_from(lot if scanned > 0 else None, scanned)
            continue
        short = alloc - qty
        # The book drops by what was scanned, plus any shortfall the picker found (written off).
        gone = scanned + short
        sku.take_from(lot if gone > 0 else None, gone)
        sku.phantom += qty - scanned - short
        if short > 0:
            sku.backorder += short
            sku.backlog.append([order, short])


def _shipped(state: State, e: ev.Shipped) -> None:
    _, order_id, _, lines, complete = e
    order = state.orders.get(order_id)
    if order is not None:
        # One line (most shipments): what sum() would give, without the generator.
        order[1] -= sum(q for _, q in lines) if len(lines) != 1 else 0 + lines[0][1]
        if complete:
            del state.orders[order_id]


def _po_placed(state: State, e: ev.PurchaseOrderPlaced) -> None:
    sku = _sku(state, e.item, e.location)
    sku.on_order += e.qty
    state.purchase_orders[e.po] = ev_po(e)


def ev_po(e: ev.PurchaseOrderPlaced) -> PurchaseOrder:
    return PurchaseOrder(e.po, e.item, e.location, e.supplier, e.qty, e.due, e.t)


def _po_in_transit(po: PurchaseOrder) -> float:
    """Units of a purchase order shipped and not yet received (a receipt may come without a
    shipping notice: then nothing of it was in transit)."""
    return max(po.shipped - po.received, 0.0)


def _po_shipped(state: State, e: ev.PurchaseOrderShipped) -> None:
    sku = _sku(state, e.item, e.location)
    po = state.purchase_orders.get(e.po)
    if po is None:
        sku.in_transit += e.qty
        return
    before = _po_in_transit(po)
    po.shipped += e.qty
    sku.in_transit += _po_in_transit(po) - before


def _received(state: State, e: ev.GoodsReceived) -> None:
    sku = _sku(state, e.item, e.location)
    if e.po >= 0:  # po < 0: opening stock, never ordered
        sku.on_order -= e.qty
    po = state.purchase_orders.get(e.po)
    if po is not None:
        before = _po_in_transit(po)
        po.received += e.qty
        after = _po_in_transit(po)
        if e.closes_po:
            after = 0.0
            del state.purchase_orders[e.po]
        sku.in_transit += after - before
    sku.held += e.scanned
    sku.phantom += e.scanned - e.qty
    sku.held_lots[e.lot] = Lot(e.lot, e.scanned, e.expiry, e.t, "dock")


def _make_available(sku: Sku, lot: Lot) -> None:
    lot.status = "available"
    sku.held -= lot.qty
    sku.on_hand += lot.qty
    sku.add_lot(lot)


def _put_away(state: State, e: ev.PutAway) -> None:
    sku = _sku(state, e.item, e.location)
    lot = sku.held_lots.get(e.lot)
    if lot is None:
        raise ReducerError(f"lot {e.lot} of {e.item}@{e.location} was not received")
    if e.status == "available":
        del sku.held_lots[e.lot]
        _make_available(sku, lot)
    else:
        lot.status = e.status


def _status_changed(state: State, e: ev.StatusChanged) -> None:
    sku = _sku(state, e.item, e.location)
    held = sku.held_lots.get(e.lot)
    if held is not None:
        if e.status == "available":
            del sku.held_lots[e.lot]
            _make_available(sku, held)
        elif e.status == "scrapped":
            del sku.held_lots[e.lot]
            sku.held -= held.qty
        else:
            held.status = e.status
        return
    lot = sku.find_lot(e.lot)
    if e.status == "available":
        return
    if lot.reserved > 0:
        raise ReducerError(f"lot {e.lot} of {e.item}@{e.location} has reservations and cannot be {e.status}")
    sku.remove_lot(lot)
    sku.on_hand -= lot.qty
    if e.status != "scrapped":
        lot.status = e.status
        sku.held += lot.qty
        sku.held_lots[lot.id] = lot


def _expired(state: State, e: ev.Expired) -> None:
    sku = _sku(state, e.item, e.location)
    lot = sku.held_lots.get(e.lot)
    if lot is not None:
        lot.qty -= e.qty
        sku.held -= e.qty
        if lot.qty <= 1e-9:
            del sku.held_lots[e.lot]
        return
    lot = sku.find_lot(e.lot)
    lot.qty -= e.qty
    sku.on_hand -= e.qty
    if lot.qty <= 1e-9 and lot.reserved <= 1e-9:
        sku.remove_lot(lot)


def _returned(state: State, e: ev.Returned) -> None:
    sku = _sku(state, e.item, e.location)
    sku.held += e.qty
    sku.held_lots[e.lot] = Lot(e.lot, e.qty, e.expiry, e.t, "quality_hold")


def count_takes(sku: Sku, missing: float) -> list[tuple[Lot, float]]:
    """The lots a count that finds ``missing`` units fewer than the book takes them from, with how
    many from each: the latest-expiring stock first. What ``_counted`` books; the simulation reads
    it beforehand to release the reservations the count leaves a lot without."""
    out: list[tuple[Lot, float]] = []
    need = missing
    for lot in reversed(sku.lots):
        step = min(lot.qty, need)
        out.append((lot, step))
        need -= step
        if need <= 1e-9:
            break
    return out


def _counted(state: State, e: ev.StockCounted) -> None:
    sku = _sku(state, e.item, e.location)
    delta = e.counted - e.book
    if delta < 0:
        for lot, step in count_takes(sku, -delta):
            lot.qty -= step
            if lot.qty <= 1e-9 and lot.reserved <= 1e-9:
                sku.remove_lot(lot)
    elif delta > 0:
        if sku.lots:
            sku.lots[-1].qty += delta
        else:
            lot = Lot(state.next_adjustment_lot, delta, None, e.t, "available")
            state.next_adjustment_lot -= 1
            sku.add_lot(lot)
    sku.on_hand += delta
    sku.phantom = 0.0


def _reservation_released(state: State, e: ev.ReservationReleased) -> None:
    _, order_id, loc, item, lot_id, qty, lost = e
    sku = _sku(state, item, loc)
    for lot in sku.lots:
        if lot.id == lot_id:
            break
    else:
        raise ReducerError(f"lot {lot_id} is not available at {item}@{loc}")
    if lot.reserved < qty - 1e-9:
        raise ReducerError(f"lot {lot_id} of {item}@{loc} has {lot.reserved:g} reserved, "
                           f"less than the {qty:g} released for order {order_id}")
    lot.reserved -= qty
    sku.reserved -= qty
    if lot.qty <= 1e-9 and lot.reserved <= 1e-9:
        sku.remove_lot(lot)
    if not lost:
        sku.backorder += qty
        sku.backlog.append([order_id, qty])
        return
    sku.lost += qty
    order = state.orders.get(order_id)
    if order is not None:
        order[1] -= qty
        if order[1] <= 1e-9:
            del state.orders[order_id]


def _disruption_started(state: State, e: ev.DisruptionStarted) -> None:
    state.disruptions[(e.kind, e.target)] = e.until


def _disruption_ended(state: State, e: ev.DisruptionEnded) -> None:
    state.disruptions.pop((e.kind, e.target), None)


def _rejected(state: State, e: ev.ActionRejected) -> None:
    state.rejected_actions += 1


HANDLERS: dict[type, Callable[[State, Any], None]] = {
    ev.OrderPlaced: _order_placed,
    ev.Allocated: _allocated,
    ev.Picked: _picked,
    ev.Shipped: _shipped,
    ev.PurchaseOrderPlaced: _po_placed,
    ev.PurchaseOrderShipped: _po_shipped,
    ev.GoodsReceived: _received,
    ev.PutAway: _put_away,
    ev.StatusChanged: _status_changed,
    ev.Expired: _expired,
    ev.Returned: _returned,
    ev.StockCounted: _counted,
    ev.ReservationReleased: _reservation_released,
    ev.DisruptionStarted: _disruption_started,
    ev.DisruptionEnded: _disruption_ended,
    ev.ActionRejected: _rejected,
}
HANDLERS.update(_MAINTENANCE_HANDLERS)
HANDLERS.update(_PRODUCTION_HANDLERS)
HANDLERS.update(_FLEET_HANDLERS)
HANDLERS.update(_FLOOR_HANDLERS)  # issue 8: floor tours move no stock
HANDLERS.update(_ALERT_HANDLERS)  # issue 7: discrepancy alerts move no stock


def apply(state: State, event: Any) -> None:
    """Apply one event to the state: the only place state changes."""
    state.clock = event.t
    HANDLERS[type(event)](state, event)


# -- the events of one order line, two at a time ---------------------------------------------------
# Most of a warehouse run's events come in pairs of the same instant: an order of one line and its
# allocation from one lot, then that line picked in full and shipped. These apply a pair with one
# look-up of the SKU and lot: exactly what ``apply`` of the first event then the second does (the
# tests hold them equal), for the simulation's hot path. A pair that is not of that shape is
# applied event by event.


def apply_order_line(state: State, placed: ev.OrderPlaced, allocated: ev.Allocated) -> None:
    """``apply(state, placed)`` then ``apply(state, allocated)`` for the pair this is for: an order
    of one line and, at the same instant, its allocation whole from one lot (nothing backordered or
    lost, not from the backlog). The caller builds the pair so; the shape is not checked again
    (a check costs as much here as the rest of the work), except that a pair with more than one
    line or pick raises ``ValueError``."""
    t, order, loc, _, lines = placed
    ((item, total),) = lines
    ((_, lot_id, qty),) = allocated[3]
    try:
        sku = state.at[loc][item]
    except KeyError:
        sku = _sku(state, item, loc)
    sku.demand += total  # as ``_order_placed``
    state.orders[order] = [t, 0.0 + total]
    for lot in sku.lots:  # as ``_allocated``
        if lot.id == lot_id:
            lot.reserved += qty
            break
    else:
        raise ReducerError(f"lot {lot_id} of {item}@{loc} is not available to allocate")
    sku.reserved += qty
    state.clock = t


def apply_line_shipped(state: State, picked: ev.Picked, shipped: ev.Shipped) -> None:
    """``apply(state, picked)`` then ``apply(state, shipped)`` for the pair this is for: one line
    picked in full and scanned right and, at the same instant, shipped. As with
    ``apply_order_line`` the caller builds the pair so; more than one line raises ``ValueError``."""
    t, order, loc, picks = picked
    ((item, lot_id, alloc, _, scanned),) = picks
    ((_, sent),) = shipped[3]
    try:
        sku = state.at[loc][item]
    except KeyError:
        sku = _sku(state, item, loc)
    for lot in sku.lots:  # as ``_picked``
        if lot.id == lot_id:
            break
    else:
        raise ReducerError(f"lot {lot_id} is not available at {item}@{loc}")
    lot.reserved -= alloc
    sku.reserved -= alloc
    if 0.0 < scanned < lot.qty:
        lot.qty -= scanned
        if lot.qty <= 1e-9 and lot.reserved <= 1e-9:
            sku.remove_lot(lot)
        sku.on_hand -= scanned
    else:
        sku.take_from(lot if scanned > 0.0 else None, scanned)
    open_ = state.orders.get(order)  # as ``_shipped``
    if open_ is not None:
        open_[1] -= sent  # (a float: what sum() of one line gives)
        if shipped[4]:
            del state.orders[order]
    state.clock = t
