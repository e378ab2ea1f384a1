"""Where a lot came from and where it went, from an event log (`twin trace LOT`).

Upstream: the receipt (or return, or production receipt) that created the lot, and the purchase
order and supplier behind it. Downstream: every allocation, pick, status change, expiry and
component issue that names the lot, the orders it went to and their shipments and customers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["LotTrace", "trace_lot"]

_ORIGINS = ("GoodsReceived", "Returned", "ProductionReceived")


@dataclass
class LotTrace:
    lot: int
    item: str | None
    origin: list[dict[str, Any]] = field(default_factory=list)
    movements: list[dict[str, Any]] = field(default_factory=list)
    orders: dict[int, dict[str, Any]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"lot": self.lot, "item": self.item, "origin": self.origin, "movements": self.movements,
                "orders": [{"order": k, **v} for k, v in sorted(self.orders.items())]}

    @property
    def found(self) -> bool:
        return bool(self.origin or self.movements)


def _lines(ev: Any) -> list[tuple[Any, ...]]:
    return list(getattr(ev, "picks", ()))


def trace_lot(events: Iterable[tuple[str, Any]], lot: int, item: str | None = None) -> LotTrace:
    """Trace ``lot`` (of ``item``, when lot numbers repeat across items) through ``(id, event)`` pairs."""
    pos: dict[int, dict[str, Any]] = {}
    placed: dict[int, dict[str, Any]] = {}
    shipped: dict[int, list[dict[str, Any]]] = {}
    trace = LotTrace(lot, item)
    for ident, ev in events:
        kind = type(ev).__name__
        base = {"id": ident, "t": ev.t, "type": kind}
        if kind == "PurchaseOrderPlaced":
            pos[ev.po] = {"po": ev.po, "supplier": ev.supplier, "qty": ev.qty, "placed": ev.t, "policy": ev.policy}
        elif kind == "OrderPlaced":
            placed[ev.order] = {"customer": ev.customer, "location": ev.location, "placed": ev.t}
        elif kind == "Shipped":
            shipped.setdefault(ev.order, []).append({"t": ev.t, "complete": ev.complete})
        if hasattr(ev, "lot") and ev.lot == lot and (item is None or getattr(ev, "item", None) == item):
            entry = {**base, "item": getattr(ev, "item", None), "location": getattr(ev, "location", None),
                     "qty": getattr(ev, "qty", None)}
            if kind in _ORIGINS:
                if kind == "GoodsReceived":
                    entry["purchase_order"] = pos.get(ev.po) or ({"po": ev.po, "opening_stock": True}
                                                                 if ev.po < 0 else {"po": ev.po})
                elif kind == "Returned":
                    entry["from_order"] = ev.order
                else:
                    entry["work_order"] = ev.wo
                trace.origin.append(entry)
                trace.item = trace.item or entry["item"]
            else:
                if kind in ("PutAway", "StatusChanged"):
                    entry["status"] = ev.status
                trace.movements.append(entry)
        for line in _lines(ev):
            if line[1] == lot and (item is None or line[0] == item):
                qty = line[3] if kind == "Picked" else line[2]
                order = getattr(ev, "order", getattr(ev, "wo", -1))
                trace.movements.append({**base, "item": line[0], "location": ev.location, "qty": qty,
                                        "order" if hasattr(ev, "order") else "work_order": order})
                trace.item = trace.item or line[0]
                if kind == "Picked" and hasattr(ev, "order"):
                    o = trace.orders.setdefault(ev.order, {"picked": 0.0})
                    o["picked"] += qty
    for order, info in trace.orders.items():
        info.update(placed.get(order, {}))
        info["shipments"] = shipped.get(order, [])
    return trace
