"""Runs policies: builds observations from state, calls ``decide``, checks every action, acts.

A bad action (unknown item, a quantity that is not a positive number, a supplier that does not
supply the item) becomes an ``ActionRejected`` event with the reason; it never crashes a run.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from twin.errors import TwinError
from twin.model import events as E
from twin.model.actions import CountStock, PlaceOrder
from twin.model.observations import InventoryObservation, inventory_observation_of

if TYPE_CHECKING:
    from collections.abc import Mapping

    from twin.sim.engine import Engine
    from twin.sim.layout import Layout

__all__ = ["PolicyRunner", "inventory_action_problem"]


class PolicyRunner:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.layout = engine.layout
        self.params = engine.layout.params
        self.inventory = engine.inventory_policy
        self.counting = engine.count_policy
        self.sku_list = [engine.state.skus[s] for s in engine.layout.skus]
        self.rng = engine.streams.get("policy", "inventory")
        self.continuous = getattr(self.inventory, "review", None) is None
        if self.continuous and not callable(getattr(self.inventory, "reorder_points", None)):
            raise TwinError(
                f"policy {engine.scenario.policies.inventory.use!r} reviews continuously but has no "
                "reorder_points(observation); give it one, or a review period ('every: 1d')"
            )
        self.reorder_points: np.ndarray | None = None
        self.name = engine.scenario.policies.inventory.use
        # Forecast-driven planning (issue 10): the observation's demand law comes from forecasts.
        from twin.sim.forecast_planner import make_planner

        self.forecasts = make_planner(engine, self.inventory)

    def observation(self) -> InventoryObservation:
        params = self.forecasts.params if self.forecasts is not None else self.params
        return inventory_observation_of(self.sku_list, self.engine.env.now, params,
                                        self.engine.state.disruptions, self.rng)

    def start(self, until: float = float("inf")) -> None:
        self._opening_stock()
        if self.engine.scenario.opening is not None:  # a forecast forked from the live site (issue 7)
            from twin.sim.opening import carry_opening

            carry_opening(self.engine)
        env = self.engine.env
        if self.forecasts is not None:  # before the reviews: a re-plan due at a review comes first
            self.forecasts.on_update = self._replanned
            self.forecasts.start(until)
        if not self.continuous:
            env.process(self._periodic(self.inventory, self.inventory.review))
        else:
            self.reorder_points = np.asarray(self.inventory.reorder_points(self.observation()), dtype=float)
            self._review_all()
        if self.counting is not None:
            env.process(self._periodic(self.counting, getattr(self.counting, "review", 24.0) or 24.0))

    def _opening_stock(self) -> None:
        obs = self.observation()
        target = None
        for wh in self.engine.scenario.site.warehouses:
            ops = self.engine.warehouses[wh.id]
            for k, (item, loc) in enumerate(self.layout.skus):
                if loc != wh.id:
                    continue
                if isinstance(wh.initial_stock, dict):
                    qty = float(wh.initial_stock.get(item, 0.0))
                else:
                    if target is None:
                        hook = getattr(self.inventory, "target_levels", None)
                        target = np.asarray(hook(obs), dtype=float) if callable(hook) else np.zeros(len(obs.params))
                    qty = float(np.nan_to_num(target[k], nan=0.0))
                if qty > 0:
                    ops.opening_stock(item, math.ceil(qty))

    def _periodic(self, policy: Any, every: float) -> Any:
        env = self.engine.env
        if every <= 0:
            raise TwinError(f"review period must be positive, got {every}h")
        while True:
            self.execute(policy, policy.decide(self.observation()))
            yield env.timeout(every)

    def _replanned(self) -> None:
        if self.reorder_points is not None:
            self.reorder_points = np.asarray(self.inventory.reorder_points(self.observation()), dtype=float)

    def _review_all(self) -> None:
        self.execute(self.inventory, self.inventory.decide(self.observation()))

    def after_demand(self, location: str, lines: tuple[tuple[str, float], ...]) -> None:
        """Continuous review: call the policy when a SKU's position drops to its reorder point."""
        rp = self.reorder_points
        if rp is None:
            return
        index = self.layout.sku_index
        skus = self.engine.state.skus
        for item, _ in lines:
            k = index[(item, location)]
            if skus[(item, location)].inventory_position <= rp[k]:
                self._review_all()
                return

    def execute(self, policy: Any, actions: Any) -> None:
        name = getattr(policy, "policy_name", type(policy).__name__)
        if actions is None:
            return
        for action in actions:
            self.apply_action(action, name)

    def apply_action(self, action: Any, name: str) -> str | None:
        """Check one inventory action and carry it out: the one path of the policies' actions and the
        operator's (``name``: who gave it, as the event log shows it). A bad one becomes
        ``ActionRejected``; returns its reason, or None when it was carried out."""
        engine = self.engine
        reason = self._check(action)
        if reason is not None:
            engine.emit(E.ActionRejected(engine.env.now, name, repr(action), reason))
            return reason
        if isinstance(action, PlaceOrder) and engine.production is not None \
                and action.supplier is None and engine.production.makes(action.item):
            # A made item is replenished by a work order, not bought (make to stock).
            engine.production.replenish(action.item, action.location, float(action.qty), name)
        elif isinstance(action, PlaceOrder) and action.supplier is None and engine.fleet is not None \
                and engine.fleet.transfers.source_of(action.item, action.location) is not None:
            # A depot replenished from another warehouse: a transfer the fleet carries.
            engine.fleet.transfers.order(action.item, action.location, float(action.qty), name, repr(action))
        elif isinstance(action, PlaceOrder):
            supplier = (self.engine.supply.suppliers[action.supplier] if action.supplier
                        else self.layout.supplier_of[action.item])
            engine.supply.place(action.item, action.location, float(action.qty), supplier, name)
        elif isinstance(action, CountStock):
            if not engine.warehouses[action.location].count(action.item):
                engine.emit(E.ActionRejected(engine.env.now, name, repr(action),
                                             f"warehouse {action.location!r} has no counters"))
        return None

    def _check(self, action: Any) -> str | None:
        return inventory_action_problem(action, self.layout, self.engine.supply.suppliers)


def inventory_action_problem(action: Any, layout: Layout, suppliers: Mapping[str, Any]) -> str | None:
    """Why the inventory domain refuses ``action`` (a policy's, an operator's or a shadow-mode
    recommendation), or None when it would carry it out. ``suppliers``: the site's, by id."""
    if not isinstance(action, (PlaceOrder, CountStock)):
        return f"not an action the inventory domain knows: {type(action).__name__}"
    if (action.item, action.location) not in layout.sku_index:
        return f"unknown item {action.item!r} at location {action.location!r}"
    if isinstance(action, PlaceOrder):
        qty = action.qty
        if not isinstance(qty, (int, float)) or not math.isfinite(qty) or qty <= 0:
            return f"quantity must be a positive number, got {qty!r}"
        if action.supplier is not None:
            sup = suppliers.get(action.supplier)
            if sup is None:
                return f"unknown supplier {action.supplier!r}"
            if action.item not in sup.items and layout.supplier_of[action.item].id != sup.id:
                return f"supplier {action.supplier!r} does not supply {action.item!r}"
    return None
