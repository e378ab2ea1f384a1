"""Production events (issue 3): work orders, material between warehouse and lines, operations.

Split from twin/model/events.py, which re-exports every name here.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple

__all__ = [
    "MachineDown",
    "MachineUp",
    "MaterialIssued",
    "MaterialReserved",
    "MaterialShortage",
    "MrpException",
    "OperationCompleted",
    "OperationInterrupted",
    "OperationStarted",
    "PRODUCTION_EVENTS",
    "ProductionOrderReleased",
    "ProductionReceived",
    "ProductionReworked",
    "ProductionScrapped",
    "ScheduleReplanned",
    "TransferReceived",
    "TransferShipped",
    "production_rows",
]

Row = tuple[Any, ...]

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
    """A work order could not get its components. ``action`` is the step of the shortage ladder
    taken: 'substituted:<item>-><substitute>', 'transfer:<item>@<from warehouse>' (the order waits
    for a ``TransferShipped`` to arrive), or 'held' (nothing helped: the exception a planner acts on)."""

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


class OperationInterrupted(NamedTuple):
    """An operation stopped part-way because its machine went down; ``run`` hours of its run time
    were done. The rest queues again for the machine group (another machine, or this one repaired)."""

    t: float
    wo: int
    op: int
    machine: str
    run: float
    reason: str


class MachineDown(NamedTuple):
    """A production machine left service (``reason``: 'failed', 'maintenance', 'planned'): its
    maintenance asset stopped. Down time after a failure counts against OEE availability."""

    t: float
    machine: str
    reason: str


class MachineUp(NamedTuple):
    """A production machine is back in service (repaired, serviced, or its planned stop ended)."""

    t: float
    machine: str


class ScheduleReplanned(NamedTuple):
    """The CP-SAT scheduler re-planned the released work orders' remaining operations; ``trigger``
    is 'cycle' or 'machine_down:<machine>'; ``status`` is the solver's (or 'NO_SCHEDULE': the last
    plan stays)."""

    t: float
    trigger: str
    orders: int
    operations: int
    status: str
    weighted_tardiness: float  # hours, of the new plan


class TransferShipped(NamedTuple):
    """Stock moved between warehouses: ``picks`` leave ``origin`` now and are in transit (on order)
    at ``destination`` until ``TransferReceived``, due at ``due``."""

    t: float
    transfer: int
    item: str
    origin: str
    destination: str
    picks: tuple[tuple[int, float], ...]  # (lot, qty) taken at the origin
    due: float


class TransferReceived(NamedTuple):
    """A transfer arrives: its units become an available lot at ``location`` (its destination).
    When ``wo`` names the work order it was shipped for (still waiting for it), the lot is reserved
    for that order on arrival, so no other order can take it first (-1: plain available stock)."""

    t: float
    transfer: int
    item: str
    location: str
    lot: int
    qty: float
    expiry: float | None
    wo: int = -1


class MrpException(NamedTuple):
    """An exception (action) message of one MRP planning run, for the planner to act on: ``kind``
    'expedite' / 'de_expedite' an open order (it arrives at ``due``, the plan needs it at ``need``),
    'cancel' one not needed within the planning horizon (``need`` None), or 'past_due' (an open order
    that should have arrived, or a planned order whose release date ``due`` has passed; ``need`` is
    now). ``orders`` names the open orders concerned ('po-<id>', 'wo-<id>', 'transfer-<id>'; empty
    for a planned order)."""

    t: float
    item: str
    kind: str
    orders: tuple[str, ...]
    qty: float
    due: float
    need: float | None
    message: str


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
    OperationInterrupted,
    MachineDown,
    MachineUp,
    ScheduleReplanned,
    TransferShipped,
    TransferReceived,
    MrpException,
)


def production_rows(seq: int, kind: str, ev: Any) -> Iterator[Row]:
    """Production rows: ``order`` is the work order; reservations, backflush and receipts move the
    component and finished-goods counters, the rest only record (``location`` is the machine)."""
    t = ev.t
    if kind == "TransferShipped":
        qty = sum(q for _, q in ev.picks)
        for lot, q in ev.picks:
            yield (seq, t, kind, ev.transfer, ev.item, ev.origin, lot, q, -q, 0.0, 0.0, 0.0, f"to {ev.destination}")
        yield (seq, t, kind, ev.transfer, ev.item, ev.destination, -1, qty, 0.0, 0.0, 0.0, qty, f"from {ev.origin}")
        return
    if kind == "TransferReceived":
        # Reserved on arrival for the work order it was shipped for (see the reducer).
        d_reserved = ev.qty if ev.wo >= 0 else 0.0
        yield (seq, t, kind, ev.transfer, ev.item, ev.location, ev.lot, ev.qty, ev.qty, d_reserved, 0.0, -ev.qty,
               f"for wo {ev.wo}" if ev.wo >= 0 else "")
        return
    if kind == "MrpException":
        # A message, no stock moves: the item goes in the note so no SKU counter sees the row.
        yield (seq, t, kind, -1, "", "", -1, ev.qty, 0.0, 0.0, 0.0, 0.0,
               f"{ev.kind} {ev.item} {' '.join(ev.orders)}".rstrip())
        return
    if kind in ("MachineDown", "MachineUp"):
        yield (seq, t, kind, -1, "", ev.machine, -1, 0.0, 0.0, 0.0, 0.0, 0.0, getattr(ev, "reason", ""))
        return
    if kind == "ScheduleReplanned":
        yield (seq, t, kind, -1, "", "", -1, float(ev.operations), 0.0, 0.0, 0.0, 0.0, f"{ev.trigger} {ev.status}")
        return
    wo = ev.wo
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
    elif kind == "OperationInterrupted":
        yield (seq, t, kind, wo, "", ev.machine, ev.op, ev.run, 0.0, 0.0, 0.0, 0.0, ev.reason)
    else:  # OperationCompleted
        yield (seq, t, kind, wo, "", ev.machine, ev.op, ev.run, 0.0, 0.0, 0.0, 0.0, "")
