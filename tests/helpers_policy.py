"""A user's own policies, plugged in by import path (``use: tests.helpers_policy:FixedOrder``).

Like any policy they import only numpy, pydantic and twin.model: no engine.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from twin.model.actions import CountStock, PlaceOrder
from twin.model.observations import InventoryObservation


class FixedOrderParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    qty: float = Field(gt=0, description="units per order")
    below: float = Field(0.0, description="order when the inventory position is below this")


class FixedOrder:
    """Every day, order ``qty`` of each SKU whose inventory position is below ``below``."""

    Params = FixedOrderParams
    review: float | None = 24.0

    def __init__(self, params: FixedOrderParams) -> None:
        self.params = params

    def target_levels(self, obs: InventoryObservation) -> np.ndarray:
        return np.full(len(obs.params), self.params.below)

    def decide(self, obs: InventoryObservation) -> list[Any]:
        p = obs.params
        low = np.flatnonzero(obs.inventory_position < self.params.below)
        return [PlaceOrder(p.items[k], p.locations[k], self.params.qty) for k in low]


class KeywordPolicy:
    """A policy without a Params model: the scenario's params arrive as keyword arguments."""

    review: float | None = 24.0

    def __init__(self, qty: float = 1.0) -> None:
        self.qty = qty

    def decide(self, obs: InventoryObservation) -> list[Any]:
        p = obs.params
        return [PlaceOrder(p.items[0], p.locations[0], self.qty)]


class BadActions:
    """Returns one good order among many bad actions, every day."""

    review: float | None = 24.0

    def __init__(self) -> None:
        pass

    def decide(self, obs: InventoryObservation) -> list[Any]:
        item, loc = obs.params.items[0], obs.params.locations[0]
        return [
            PlaceOrder("nosuch", loc, 5),
            PlaceOrder(item, "annex", 5),
            PlaceOrder(item, loc, -3),
            PlaceOrder(item, loc, 0),
            PlaceOrder(item, loc, float("nan")),
            PlaceOrder(item, loc, float("inf")),
            PlaceOrder(item, loc, "12"),  # type: ignore[arg-type]
            PlaceOrder(item, loc, 2, supplier="nobody"),
            CountStock("nosuch", loc),
            "order more gauze",
            PlaceOrder(item, loc, 4),
        ]


class ContinuousWithoutReorderPoints:
    """Reviews continuously (review None) but cannot say when: the engine must refuse it."""

    review: float | None = None

    def __init__(self) -> None:
        pass

    def decide(self, obs: InventoryObservation) -> list[Any]:
        return []
