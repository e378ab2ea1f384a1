"""Observations: frozen, read-only views of state that policies decide on.

Arrays are indexed by SKU (one item at one location); ``items[k]`` and ``locations[k]`` name SKU k.
Every array is read-only: a policy cannot change the twin except by returning actions.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["SkuParameters", "InventoryObservation"]


@dataclass(frozen=True)
class SkuParameters:
    """What a planner knows about each SKU: costs, demand and lead-time laws (per day), classes."""

    items: tuple[str, ...]
    locations: tuple[str, ...]
    suppliers: tuple[str, ...]
    unit_cost: np.ndarray
    holding_cost_per_day: np.ndarray
    backorder_cost_per_day: np.ndarray
    order_cost: np.ndarray
    demand_mean_per_day: np.ndarray
    demand_sd_per_day: np.ndarray
    lead_time_mean_days: np.ndarray
    lead_time_sd_days: np.ndarray
    item_class: tuple[str, ...]
    shelf_life_days: np.ndarray  # inf where the item does not expire

    def __len__(self) -> int:
        return len(self.items)

    def index(self, item: str, location: str) -> int:
        for k, (i, loc) in enumerate(zip(self.items, self.locations, strict=True)):
            if i == item and loc == location:
                return k
        raise KeyError(f"{item}@{location}")


@dataclass(frozen=True)
class InventoryObservation:
    """Stock of every SKU at ``now`` (hours from the start), with the SKU parameters."""

    now: float
    params: SkuParameters
    on_hand: np.ndarray  # book units in available lots
    available: np.ndarray  # on hand minus reserved
    held: np.ndarray  # at the dock, under quality hold, frozen
    backorders: np.ndarray
    on_order: np.ndarray  # ordered, not received (in transit included)
    in_transit: np.ndarray
    demand_to_date: np.ndarray  # units ordered by customers since the start
    suppliers_down: frozenset[str] = frozenset()
    rng: np.random.Generator | None = field(default=None, compare=False)

    @property
    def inventory_position(self) -> np.ndarray:
        """On hand + held + on order - backorders: what ordering decisions are based on."""
        return self.on_hand + self.held + self.on_order - self.backorders


def inventory_observation_of(skus: Sequence[Any], now: float, params: SkuParameters,
                             disruptions: Iterable[tuple[str, str]],
                             rng: np.random.Generator | None = None) -> InventoryObservation:
    """The observation of ``skus`` (state records, in the order of ``params``) at ``now``: the one
    builder behind the simulation's policy runner and the live twin's shadow mode. ``disruptions``:
    the state's (kind, target) pairs under way; suppliers in an outage are marked down."""

    def arr(values: list[float]) -> np.ndarray:
        a = np.array(values, dtype=float)
        a.setflags(write=False)
        return a

    return InventoryObservation(
        now=now,
        params=params,
        on_hand=arr([s.on_hand for s in skus]),
        available=arr([s.on_hand - s.reserved for s in skus]),
        held=arr([s.held for s in skus]),
        backorders=arr([s.backorder for s in skus]),
        on_order=arr([s.on_order for s in skus]),
        in_transit=arr([s.in_transit for s in skus]),
        demand_to_date=arr([s.demand for s in skus]),
        suppliers_down=frozenset(t for (kind, t) in disruptions if kind == "supplier_outage"),
        rng=rng,
    )
