"""Inventory policies: (s,Q), (s,S), base stock, periodic review (R,S), min-max; safety stock;
ABC classification; FEFO/FIFO allocation; ABC cycle counting.

All of them are vectorised over SKUs: one call decides for every item at every location.
Levels are either given (a number, or per item / per class) or derived from a target service
level with the demand and lead-time laws in the observation:

    protection interval P = lead time + review period (days)
    sigma_P = sqrt(P * sd_d^2 + mean_d^2 * sd_L^2)
    safety stock = z(service_level) * sigma_P          (cycle service level)
    reorder point s = mean_d * P + safety stock
    EOQ = sqrt(2 * K * annual demand / annual holding cost per unit)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field
from scipy.stats import norm

from policies.base import per_sku, register
from twin.model.actions import CountStock, PlaceOrder
from twin.model.observations import InventoryObservation

__all__ = [
    "safety_stock",
    "economic_order_quantity",
    "abc_classify",
    "BaseStock",
    "PeriodicOrderUpTo",
    "SsPolicy",
    "MinMax",
    "SQPolicy",
    "FEFO",
    "FIFO",
    "ABCCycleCount",
]

PerSku = float | dict[str, float]
DAY = 24.0


def safety_stock(
    service_level: np.ndarray | float,
    demand_mean: np.ndarray,
    demand_sd: np.ndarray,
    lead_time_mean: np.ndarray,
    lead_time_sd: np.ndarray,
    review: float = 0.0,
) -> np.ndarray:
    """Safety stock (units) for a cycle service level, per-day demand and lead time in days."""
    protection = np.asarray(lead_time_mean, dtype=float) + review
    sigma = np.sqrt(protection * np.square(demand_sd) + np.square(demand_mean) * np.square(lead_time_sd))
    z = norm.ppf(np.asarray(service_level, dtype=float))
    return np.asarray(z * sigma)


def economic_order_quantity(
    order_cost: np.ndarray, demand_per_day: np.ndarray, holding_per_day: np.ndarray
) -> np.ndarray:
    """Wilson's EOQ in units (at least 1)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.sqrt(2.0 * order_cost * demand_per_day / np.where(holding_per_day > 0, holding_per_day, np.nan))
    return np.maximum(np.nan_to_num(q, nan=1.0, posinf=1.0), 1.0)


def abc_classify(annual_value: np.ndarray, a_share: float = 0.8, b_share: float = 0.95) -> list[str]:
    """Pareto classes: A items make the first ``a_share`` of annual value, B up to ``b_share``, C the rest."""
    values = np.asarray(annual_value, dtype=float)
    order = np.argsort(-values, kind="stable")
    total = values.sum()
    classes = ["C"] * len(values)
    if total <= 0:
        return classes
    cumulative = np.cumsum(values[order]) / total
    for rank, k in enumerate(order):
        before = cumulative[rank - 1] if rank else 0.0
        classes[k] = "A" if before < a_share else ("B" if before < b_share else "C")
    return classes


class _LevelParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    service_level: PerSku | None = Field(
        None, description="target cycle service level in (0, 1), one number or per item / class"
    )

    def check_levels(self) -> None:
        levels = self.service_level
        values = levels.values() if isinstance(levels, dict) else [levels] if levels is not None else []
        for v in values:
            if not 0 < float(v) < 1:
                raise ValueError(f"service_level must be between 0 and 1 (exclusive), got {v}")


def _check(params: _LevelParams, needs: str, given: bool) -> None:
    params.check_levels()
    if not given and params.service_level is None:
        raise ValueError(f"give either {needs} or service_level")


def _order_actions(obs: InventoryObservation, qty: np.ndarray) -> list[Any]:
    qty = np.ceil(np.nan_to_num(qty, nan=0.0) - 1e-9)
    idx = np.flatnonzero(qty > 0)
    items, locations = obs.params.items, obs.params.locations
    return [PlaceOrder(items[k], locations[k], float(qty[k])) for k in idx]


def _reorder_level(obs: InventoryObservation, service_level: PerSku | None, review: float) -> np.ndarray:
    p = obs.params
    sl = per_sku(service_level, obs)
    return np.ceil(p.demand_mean_per_day * (p.lead_time_mean_days + review) + safety_stock(
        sl, p.demand_mean_per_day, p.demand_sd_per_day, p.lead_time_mean_days, p.lead_time_sd_days, review
    ))


def _eoq(obs: InventoryObservation) -> np.ndarray:
    p = obs.params
    return np.ceil(economic_order_quantity(p.order_cost, p.demand_mean_per_day, p.holding_cost_per_day))


class BaseStockParams(_LevelParams):
    level: PerSku | None = Field(None, description="order-up-to level S (units)")

    def model_post_init(self, _: Any) -> None:
        _check(self, "level", self.level is not None)


@register("base_stock")
class BaseStock:
    """Base stock / order-up-to: at every review, order up to S (one-for-one when reviewed often)."""

    Params = BaseStockParams
    review: float | None = DAY

    def __init__(self, params: BaseStockParams) -> None:
        self.params = params

    def levels(self, obs: InventoryObservation) -> np.ndarray:
        if self.params.level is not None:
            return per_sku(self.params.level, obs)
        return _reorder_level(obs, self.params.service_level, (self.review or 0.0) / DAY)

    def target_levels(self, obs: InventoryObservation) -> np.ndarray:
        return self.levels(obs)

    def decide(self, obs: InventoryObservation) -> list[Any]:
        return _order_actions(obs, self.levels(obs) - obs.inventory_position)


@register("R_S")
class PeriodicOrderUpTo(BaseStock):
    """Periodic review (R,S): every R (default a week), order up to S, which covers R + lead time."""

    review = 7 * DAY


class SsParams(_LevelParams):
    s: PerSku | None = Field(None, description="reorder point: order when inventory position <= s")
    S: PerSku | None = Field(None, description="order-up-to level (default s + EOQ)")

    def model_post_init(self, _: Any) -> None:
        _check(self, "s", self.s is not None)


@register("s_S")
class SsPolicy:
    """(s,S): at each review, if inventory position <= s, order up to S."""

    Params = SsParams
    review: float | None = DAY
    strict = False  # min-max orders only below min

    def __init__(self, params: SsParams) -> None:
        self.params = params

    def levels(self, obs: InventoryObservation) -> tuple[np.ndarray, np.ndarray]:
        if self.params.s is not None:
            s = per_sku(self.params.s, obs)
        else:
            s = _reorder_level(obs, self.params.service_level, (self.review or 0.0) / DAY)
        big_s = per_sku(self.params.S, obs) if self.params.S is not None else s + _eoq(obs)
        return s, np.maximum(big_s, s)

    def target_levels(self, obs: InventoryObservation) -> np.ndarray:
        return self.levels(obs)[1]

    def reorder_points(self, obs: InventoryObservation) -> np.ndarray:
        s = self.levels(obs)[0]
        return s - 1e-9 if self.strict else s

    def decide(self, obs: InventoryObservation) -> list[Any]:
        s, big_s = self.levels(obs)
        ip = obs.inventory_position
        trigger = ip < s if self.strict else ip <= s
        return _order_actions(obs, np.where(trigger, big_s - ip, 0.0))


class MinMaxParams(_LevelParams):
    min: PerSku | None = Field(None, description="order when inventory position falls below min")
    max: PerSku | None = Field(None, description="order up to max (default min + EOQ)")

    def model_post_init(self, _: Any) -> None:
        _check(self, "min", self.min is not None)


@register("min_max")
class MinMax(SsPolicy):
    """Min-max: when the inventory position is below min, order up to max."""

    Params = MinMaxParams  # type: ignore[assignment]
    strict = True

    def __init__(self, params: MinMaxParams) -> None:  # type: ignore[override]
        super().__init__(SsParams(service_level=params.service_level, s=params.min, S=params.max))


class SQParams(_LevelParams):
    s: PerSku | None = Field(None, description="reorder point")
    Q: PerSku | None = Field(None, description="order quantity (default EOQ)")

    def model_post_init(self, _: Any) -> None:
        _check(self, "s", self.s is not None)


@register("s_Q")
class SQPolicy:
    """(s,Q), continuous review: when the inventory position drops to s or below, order Q
    (as many Q as it takes to lift it above s)."""

    Params = SQParams
    review: float | None = None

    def __init__(self, params: SQParams) -> None:
        self.params = params

    def levels(self, obs: InventoryObservation) -> tuple[np.ndarray, np.ndarray]:
        s = per_sku(self.params.s, obs) if self.params.s is not None else _reorder_level(
            obs, self.params.service_level, 0.0)
        q = per_sku(self.params.Q, obs) if self.params.Q is not None else _eoq(obs)
        return s, np.maximum(q, 1.0)

    def reorder_points(self, obs: InventoryObservation) -> np.ndarray:
        return self.levels(obs)[0]

    def target_levels(self, obs: InventoryObservation) -> np.ndarray:
        s, q = self.levels(obs)
        return s + q

    def decide(self, obs: InventoryObservation) -> list[Any]:
        s, q = self.levels(obs)
        ip = obs.inventory_position
        batches = np.where(ip <= s, np.floor((s - ip) / q) + 1, 0)
        return _order_actions(obs, batches * q)


@register("fefo")
class FEFO:
    """First expired, first out: earliest expiry first, then oldest receipt."""

    fefo = True

    def __init__(self) -> None:
        pass

    def sort_key(self, expiry: float | None, received: float, lot: int) -> tuple[float, ...]:
        return (expiry if expiry is not None else math.inf, received, lot)


@register("fifo")
class FIFO:
    """First in, first out: oldest receipt first, whatever the expiry."""

    fefo = False

    def __init__(self) -> None:
        pass

    def sort_key(self, expiry: float | None, received: float, lot: int) -> tuple[float, ...]:
        return (received, lot)


class CycleCountParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    interval_days: dict[str, int] = Field(
        default_factory=lambda: {"A": 30, "B": 90, "C": 180},
        description="days between counts of one SKU, by ABC class",
    )


@register("abc_cycle_count")
class ABCCycleCount:
    """Count every SKU once per interval of its ABC class, spread evenly over the days."""

    Params = CycleCountParams
    review: float | None = DAY

    def __init__(self, params: CycleCountParams) -> None:
        self.params = params

    def decide(self, obs: InventoryObservation) -> list[Any]:
        day = int(obs.now // DAY)
        p = obs.params
        out = []
        for k, cls in enumerate(p.item_class):
            interval = self.params.interval_days.get(cls, 0)
            if interval > 0 and (day + k) % interval == 0:
                out.append(CountStock(p.items[k], p.locations[k]))
        return out
