"""Actions: typed commands a policy returns. The engine checks each one before acting on it."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PlaceOrder", "CountStock", "Action"]


@dataclass(frozen=True, slots=True)
class PlaceOrder:
    """Order ``qty`` units of ``item`` for ``location`` (from the item's supplier unless one is named)."""

    item: str
    location: str
    qty: float
    supplier: str | None = None


@dataclass(frozen=True, slots=True)
class CountStock:
    """Count the stock of ``item`` at ``location`` (a cycle count) and correct the book."""

    item: str
    location: str


Action = PlaceOrder | CountStock
