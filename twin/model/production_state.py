"""Production part of the operational state and the reducer handlers of the production events.

``State.production`` holds the open work orders; ``HANDLERS`` here are merged into the one reducer
of ``twin.model.state``. Stock moves (reserve, backflush, receive) change the SKUs' lots as the
warehouse events do, so reserved components can never be allocated or issued twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from twin.model import events as ev

__all__ = ["ProductionOrder", "ProductionState", "HANDLERS"]


@dataclass
class ProductionOrder:
    wo: int
    item: str
    location: str
    qty: float
    due: float
    released: float
    status: str = "released"  # released | held | running
    reserved: list[tuple[str, int, float]] = field(default_factory=list)
    ops_done: int = 0


@dataclass
class ProductionState:
    orders: dict[int, ProductionOrder] = field(default_factory=dict)  # open work orders
    machines: dict[str, int] = field(default_factory=dict)  # machine -> work order running on it (-1 idle)
    down: dict[str, str] = field(default_factory=dict)  # machine out of service -> reason
    transfers: dict[int, tuple[str, str, float]] = field(default_factory=dict)  # in transit: (item, to, qty)
    completed: int = 0
    scrapped: float = 0.0
    # Usage of the machines: run hours of finished or interrupted operations, and when the run of
    # the operation now on a machine began (after its set-up). Idle and set-up time is not usage.
    run_hours: dict[str, float] = field(default_factory=dict)
    run_from: dict[str, float] = field(default_factory=dict)

    def run_hours_at(self, machine: str, t: float) -> float:
        """Run (processing) hours of ``machine`` up to time ``t``, the operation under way included."""
        begun = self.run_from.get(machine)
        return self.run_hours.get(machine, 0.0) + (max(0.0, t - begun) if begun is not None else 0.0)


def _sku(state: Any, item: str, location: str) -> Any:
    from twin.model.state import ReducerError

    sku = state.skus.get((item, location))
    if sku is None:
        raise ReducerError(f"unknown item {item!r} at location {location!r}")
    return sku


def _order(state: Any, wo: int) -> ProductionOrder:
    from twin.model.state import ReducerError

    order = state.production.orders.get(wo)
    if order is None:
        raise ReducerError(f"work order {wo} is not open")
    return order  # type: ignore[no-any-return]


def _released(state: Any, e: ev.ProductionOrderReleased) -> None:
    _sku(state, e.item, e.location).on_order += e.qty
    state.production.orders[e.wo] = ProductionOrder(e.wo, e.item, e.location, e.qty, e.due, e.t)


def _reserved(state: Any, e: ev.MaterialReserved) -> None:
    from twin.model.state import ReducerError

    order = _order(state, e.wo)
    want: dict[tuple[str, int], float] = {}
    for item, lot_id, qty in e.picks:
        want[(item, lot_id)] = want.get((item, lot_id), 0.0) + qty
    lots = {}
    for (item, lot_id), qty in want.items():  # check everything first: an event applies whole or not at all
        lot = _sku(state, item, e.location).find_lot(lot_id)
        if lot.qty - lot.reserved < qty - 1e-9:
            raise ReducerError(f"lot {lot_id} of {item}@{e.location} has {lot.qty - lot.reserved:g} free, "
                               f"work order {e.wo} reserves {qty:g}")
        lots[(item, lot_id)] = lot
    for item, lot_id, qty in e.picks:
        lots[(item, lot_id)].reserved += qty
        _sku(state, item, e.location).reserved += qty
        order.reserved.append((item, lot_id, qty))
    order.status = "running"


def _shortage(state: Any, e: ev.MaterialShortage) -> None:
    if e.action == "held" or e.action.startswith("transfer:"):
        _order(state, e.wo).status = "held"


def _op_started(state: Any, e: ev.OperationStarted) -> None:
    _order(state, e.wo)
    prod: ProductionState = state.production
    prod.machines[e.machine] = e.wo
    prod.run_from[e.machine] = e.t + e.setup


def _run_ended(prod: ProductionState, machine: str, run: float) -> None:
    prod.machines[machine] = -1
    prod.run_hours[machine] = prod.run_hours.get(machine, 0.0) + run
    prod.run_from.pop(machine, None)


def _op_completed(state: Any, e: ev.OperationCompleted) -> None:
    _order(state, e.wo).ops_done = e.op + 1
    _run_ended(state.production, e.machine, e.run)


def _op_interrupted(state: Any, e: ev.OperationInterrupted) -> None:
    _order(state, e.wo)
    _run_ended(state.production, e.machine, e.run)


def _machine_down(state: Any, e: ev.MachineDown) -> None:
    state.production.down[e.machine] = e.reason


def _machine_up(state: Any, e: ev.MachineUp) -> None:
    state.production.down.pop(e.machine, None)


def _replanned(state: Any, e: ev.ScheduleReplanned) -> None:
    pass  # a record of the scheduler's work; the plan itself lives in the production model


def _transfer_shipped(state: Any, e: ev.TransferShipped) -> None:
    from twin.model.state import ReducerError

    if e.transfer in state.production.transfers:
        raise ReducerError(f"transfer {e.transfer} is already in transit")
    origin = _sku(state, e.item, e.origin)
    dest = _sku(state, e.item, e.destination)
    lots = []
    for lot_id, qty in e.picks:  # check everything first: an event applies whole or not at all
        lot = origin.find_lot(lot_id)
        if lot.qty - lot.reserved < qty - 1e-9:
            raise ReducerError(f"lot {lot_id} of {e.item}@{e.origin} has {lot.qty - lot.reserved:g} free, "
                               f"transfer {e.transfer} takes {qty:g}")
        lots.append((lot, qty))
    total = 0.0
    for lot, qty in lots:
        origin.take_from(lot, qty)
        total += qty
    dest.on_order += total
    dest.in_transit += total
    state.production.transfers[e.transfer] = (e.item, e.destination, total)


def _transfer_received(state: Any, e: ev.TransferReceived) -> None:
    from twin.model.state import Lot, ReducerError

    moving = state.production.transfers.get(e.transfer)
    if moving is None or moving[:2] != (e.item, e.location) or abs(moving[2] - e.qty) > 1e-9:
        raise ReducerError(f"transfer {e.transfer} of {e.qty:g} {e.item} to {e.location} is not in transit")
    order = _order(state, e.wo) if e.wo >= 0 else None  # check first: an event applies whole or not at all
    del state.production.transfers[e.transfer]
    sku = _sku(state, e.item, e.location)
    sku.on_order -= e.qty
    sku.in_transit -= e.qty
    sku.on_hand += e.qty
    lot = Lot(e.lot, e.qty, e.expiry, e.t, "available")
    sku.add_lot(lot)
    if order is not None:  # shipped for a waiting work order: it is that order's stock from now on
        lot.reserved += e.qty
        sku.reserved += e.qty
        order.reserved.append((e.item, e.lot, e.qty))


def _mrp_exception(state: Any, e: ev.MrpException) -> None:
    pass  # a planner's message; the plan and the orders it names change only by their own events


def _issued(state: Any, e: ev.MaterialIssued) -> None:
    from twin.model.state import ReducerError

    order = _order(state, e.wo)
    mine: dict[tuple[str, int], float] = {}
    for item, lot_id, qty in order.reserved:
        mine[(item, lot_id)] = mine.get((item, lot_id), 0.0) + qty
    for item, lot_id, qty in e.picks:  # only what this work order reserved can be issued to it
        have = mine.get((item, lot_id), 0.0)
        if have < qty - 1e-9:
            raise ReducerError(f"work order {e.wo} issues {qty:g} of lot {lot_id} of {item} "
                               f"but only {have:g} is reserved for it")
        mine[(item, lot_id)] = have - qty
    for item, lot_id, qty in e.picks:
        sku = _sku(state, item, e.location)
        lot = sku.find_lot(lot_id)
        lot.reserved -= qty
        sku.reserved -= qty
        sku.take_from(lot, qty)
    order.reserved = [(i, lot_id, q) for (i, lot_id), q in mine.items() if q > 1e-9]


def _scrapped(state: Any, e: ev.ProductionScrapped) -> None:
    _order(state, e.wo)
    _sku(state, e.item, e.location).on_order -= e.qty
    state.production.scrapped += e.qty


def _reworked(state: Any, e: ev.ProductionReworked) -> None:
    _order(state, e.wo)


def _received(state: Any, e: ev.ProductionReceived) -> None:
    from twin.model.state import Lot

    _order(state, e.wo)
    sku = _sku(state, e.item, e.location)
    sku.on_order -= e.qty
    if e.qty > 0:
        sku.on_hand += e.qty
        sku.add_lot(Lot(e.lot, e.qty, None, e.t, "available"))
    del state.production.orders[e.wo]
    state.production.completed += 1


HANDLERS: dict[type, Callable[[Any, Any], None]] = {
    ev.ProductionOrderReleased: _released,
    ev.MaterialReserved: _reserved,
    ev.MaterialShortage: _shortage,
    ev.OperationStarted: _op_started,
    ev.OperationCompleted: _op_completed,
    ev.MaterialIssued: _issued,
    ev.ProductionScrapped: _scrapped,
    ev.ProductionReworked: _reworked,
    ev.ProductionReceived: _received,
    ev.OperationInterrupted: _op_interrupted,
    ev.MachineDown: _machine_down,
    ev.MachineUp: _machine_up,
    ev.ScheduleReplanned: _replanned,
    ev.TransferShipped: _transfer_shipped,
    ev.TransferReceived: _transfer_received,
    ev.MrpException: _mrp_exception,
}
