"""Production events (issue 3): work orders, material between warehouse and lines, operations.

Split from twin/model/events.py, which re-exports every name here.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple

__all__ = [
    "MaterialIssued",
    "MaterialReserved",
    "MaterialShortage",
    "OperationCompleted",
    "OperationStarted",
    "PRODUCTION_EVENTS",
    "ProductionOrderReleased",
    "ProductionReceived",
    "ProductionReworked",
    "ProductionScrapped",
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


def production_rows(seq: int, kind: str, ev: Any) -> Iterator[Row]:
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
