"""The adapter between the production planning policy (MRP) and the plant simulation.

On the policy's review period it builds a ``PlanningObservation`` from the live state: per item the
plant plans (everything made, and every component and substitute of a BOM) its stock at its
planning location (made items where they are received, bought components in the raw-material
store), what is committed (reserved, plus what work orders held for material still need),
backorders and the site's stated demand rate; open purchase orders, work orders and transfers as
scheduled receipts; the make-to-order lines not yet due. It checks each action the policy returns
and acts through the normal paths: ``ReleaseWorkOrder`` becomes a released work order,
``PlaceOrder`` a purchase order from the item's supplier; a bad action is an ``ActionRejected`` event.
The run's exception messages (a policy's ``exceptions``, e.g. MRP's expedite, de-expedite, cancel and
past-due messages) are recorded first, one ``MrpException`` event each.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from policies.base import load_policy
from twin.errors import TwinError
from twin.model import events as E
from twin.model.actions import PlaceOrder
from twin.model.production_plan import (
    PlanException,
    PlanningObservation,
    PlanningScope,
    ReleaseWorkOrder,
    planning_observation,
)

if TYPE_CHECKING:
    from twin.sim.production import ProductionModel

__all__ = ["ProductionPlanner"]


class ProductionPlanner:
    def __init__(self, production: ProductionModel) -> None:
        engine = production.engine
        ref = engine.scenario.policies.production
        assert ref is not None  # built only when the scenario names a production policy
        try:
            self.policy = load_policy(ref.use, ref.params, ref.every)
        except ValueError as exc:
            raise TwinError(str(exc)) from None
        self.name = getattr(self.policy, "policy_name", type(self.policy).__name__)
        self.every = float(getattr(self.policy, "review", None) or 24.0)
        self.production = production
        self.engine = engine
        layout = engine.layout
        # Planned items (item, location, make | buy), BOM lines, make-to-order lines: the plant's data.
        self.scope = PlanningScope.of(production.spec, layout.sku_index)

    def start(self) -> None:
        self.engine.env.process(self._cycle())

    def _cycle(self) -> Any:
        env = self.engine.env
        while True:
            actions = self.policy.decide(self.observation())
            self.record_exceptions()
            self.execute(actions)
            yield env.timeout(self.every)

    def record_exceptions(self) -> None:
        """The planning run's exception messages, one ``MrpException`` event each."""
        engine = self.engine
        now = engine.env.now
        for x in getattr(self.policy, "exceptions", None) or ():
            if not isinstance(x, PlanException):
                engine.emit(E.ActionRejected(now, self.name, repr(x), "not an exception message: "
                                             f"{type(x).__name__} (expected a PlanException)"))
                continue
            engine.emit(E.MrpException(now, x.item, x.kind, tuple(x.orders), float(x.qty), float(x.due),
                                       None if x.need is None else float(x.need), x.message))

    def observation(self) -> PlanningObservation:
        engine = self.engine
        layout = engine.layout
        return planning_observation(self.scope, engine.state, layout.params, layout.sku_index, layout.supplier_of,
                                    engine.env.now)

    def execute(self, actions: Any) -> None:
        engine = self.engine
        now = engine.env.now
        for action in actions or ():
            reason = self._check(action)
            if reason is not None:
                engine.emit(E.ActionRejected(now, self.name, repr(action), reason))
            elif isinstance(action, ReleaseWorkOrder):
                self.production.release(action.item, float(action.qty), float(action.due),
                                        f"{self.name}:{action.ref}" if action.ref else self.name)
            else:
                supplier = engine.layout.supplier_of[action.item]
                engine.supply.place(action.item, action.location, float(action.qty), supplier, self.name)

    def _check(self, action: Any) -> str | None:
        if not isinstance(action, (ReleaseWorkOrder, PlaceOrder)):
            return f"not a production planning action: {type(action).__name__}"
        qty = action.qty
        if not isinstance(qty, (int, float)) or not math.isfinite(qty) or qty <= 0:
            return f"quantity must be a positive number, got {qty!r}"
        if isinstance(action, ReleaseWorkOrder):
            if not self.production.makes(action.item):
                return f"item {action.item!r} has no routing; only made items get work orders"
            if not math.isfinite(action.due):
                return f"due must be a time, got {action.due!r}"
            return None
        if (action.item, action.location) not in self.engine.layout.sku_index:
            return f"unknown item {action.item!r} at location {action.location!r}"
        if self.production.makes(action.item):
            return f"item {action.item!r} is made; release a work order instead of a purchase order"
        if action.supplier is not None:
            return "name no supplier: the planner buys from the item's supplier"
        return None
