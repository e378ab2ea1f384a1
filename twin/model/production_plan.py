"""What a production planner (MRP) sees and what it may ask for (pure data, no engine).

``PlanningObservation`` is a frozen view of the plant for material planning: per planned item its
source (made or bought), planning location, lead time, stock on hand and committed, backorders and
independent demand rate; the bills of materials; open supply (purchase orders, work orders,
transfers in transit) with due times; and the make-to-order lines not yet due. Actions are
``ReleaseWorkOrder`` (a made item) and ``twin.model.actions.PlaceOrder`` (a bought item).
"""

from __future__ import annotations

from collections.abc import Container, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from twin.model.observations import SkuParameters
    from twin.model.production import Bom, ProductionSpec
    from twin.model.state import State

__all__ = ["PlanItem", "OpenSupply", "OrderLine", "PlanningObservation", "ReleaseWorkOrder", "PlanException",
           "PlanningScope", "planning_observation"]


@dataclass(frozen=True, slots=True)
class PlanItem:
    id: str
    source: Literal["make", "buy"]
    location: str  # where it is received and planned (raw material or finished goods)
    lead_time: float  # hours: a supplier's mean lead time, or the routing time plus the release allowance
    on_hand: float  # available lots plus stock at the dock
    allocated: float  # reserved for orders and released work orders, or needed by work orders held for it
    backorders: float
    demand_per_day: float  # independent (customer) demand at ``location``, the site's stated rate
    supplier: str | None = None


@dataclass(frozen=True, slots=True)
class OpenSupply:
    """A scheduled receipt: an open purchase order, work order or transfer, due at ``due`` (hours)."""

    item: str
    qty: float
    due: float
    kind: Literal["purchase", "work_order", "transfer"]
    ref: str = ""  # the order: 'po-<id>', 'wo-<id>' or 'transfer-<id>'


@dataclass(frozen=True, slots=True)
class OrderLine:
    """Make-to-order demand (a master-schedule line): ``qty`` of ``item`` wanted at ``due``."""

    item: str
    qty: float
    due: float
    ref: str


@dataclass(frozen=True)
class PlanningObservation:
    now: float
    items: tuple[PlanItem, ...]
    bom: tuple[tuple[str, str, float, float], ...]  # (parent, child, qty per parent unit, scrap share)
    open_supply: tuple[OpenSupply, ...]
    order_lines: tuple[OrderLine, ...]
    suppliers_down: frozenset[str]


@dataclass(frozen=True, slots=True)
class ReleaseWorkOrder:
    """Release a work order for ``qty`` of a made item, wanted (due) at ``due`` hours."""

    item: str
    qty: float
    due: float
    ref: str = ""


@dataclass(frozen=True, slots=True)
class PlanException:
    """An exception (action) message of a planning run: expedite, de-expedite or cancel the open
    orders ``orders`` (``OpenSupply`` refs) of ``item`` that arrive at ``due`` while the plan needs
    them at ``need`` (None: not within the horizon), or 'past_due' (an open order that should have
    arrived, or a planned order, no ``orders``, whose release date ``due`` has passed). A planner
    that keeps its latest run's messages in an ``exceptions`` attribute has them recorded as
    ``MrpException`` events."""

    item: str
    kind: Literal["expedite", "de_expedite", "cancel", "past_due"]
    orders: tuple[str, ...]
    qty: float
    due: float
    need: float | None
    message: str


@dataclass(frozen=True)
class PlanningScope:
    """What a production planner plans, from the plant's data: ``items`` (item, planning location,
    make | buy) for everything made and every component and substitute of a BOM that the site
    stocks there; the BOM lines; the make-to-order lines (due, item, qty, ref); BOMs by made item."""

    items: tuple[tuple[str, str, str], ...]
    bom: tuple[tuple[str, str, float, float], ...]
    lines: tuple[tuple[float, str, float, str], ...]
    boms: dict[str, Bom]

    @classmethod
    def of(cls, spec: ProductionSpec, stocked: Container[tuple[str, str]]) -> PlanningScope:
        made = {r.item for r in spec.routings}
        planned: dict[str, str] = {r.item: spec.receives_at(r.item) for r in spec.routings}
        for b in spec.boms:
            for comp in b.components:
                for ident in (comp.item, *comp.substitutes):
                    planned.setdefault(ident, spec.warehouse)
        items = tuple((item, loc, "make" if item in made else "buy") for item, loc in planned.items()
                      if (item, loc) in stocked)
        bom = tuple((b.item, c.item, c.qty, c.scrap) for b in spec.boms for c in b.components)
        lines = tuple((o.due, o.item, o.qty, o.ref or f"mps-{n}") for n, o in enumerate(spec.schedule))
        return cls(items, bom, lines, {b.item: b for b in spec.boms})


def planning_observation(scope: PlanningScope, state: State, params: SkuParameters,
                         sku_index: Mapping[tuple[str, str], int], supplier_of: Mapping[str, Any],
                         now: float) -> PlanningObservation:
    """What the production planner sees of ``state`` at ``now`` (see the module docstring): the
    simulation's planner and the live twin's shadow mode both build it here."""
    committed: dict[str, float] = {}
    for order in state.production.orders.values():
        if order.status == "held":  # released, its components not yet reserved: still needed
            own: dict[str, float] = {}  # already reserved for it (a transfer that came in for it)
            for ident, _, qty in order.reserved:
                own[ident] = own.get(ident, 0.0) + qty
            for comp in scope.boms[order.item].components if order.item in scope.boms else ():
                need = comp.qty * order.qty / (1 - comp.scrap) - own.get(comp.item, 0.0)
                committed[comp.item] = committed.get(comp.item, 0.0) + max(need, 0.0)
    items = []
    for item, loc, source in scope.items:
        sku = state.skus[(item, loc)]
        k = sku_index[(item, loc)]
        supplier = supplier_of[item].id if source == "buy" else None
        items.append(PlanItem(item, source, loc,  # type: ignore[arg-type]
                              float(params.lead_time_mean_days[k]) * 24.0, sku.on_hand + sku.held,
                              sku.reserved + committed.get(item, 0.0), sku.backorder,
                              float(params.demand_mean_per_day[k]), supplier))
    where = {item: loc for item, loc, _ in scope.items}
    supply = [OpenSupply(po.item, po.qty - po.received, po.due, "purchase", f"po-{po.po}")
              for po in state.purchase_orders.values()
              if where.get(po.item) == po.location and po.qty - po.received > 1e-9]
    supply += [OpenSupply(o.item, o.qty, o.due, "work_order", f"wo-{o.wo}")
               for o in state.production.orders.values() if where.get(o.item) == o.location]
    supply += [OpenSupply(item, qty, now, "transfer", f"transfer-{n}")
               for n, (item, to, qty) in state.production.transfers.items() if where.get(item) == to]
    down = frozenset(t for (kind, t) in state.disruptions if kind == "supplier_outage")
    lines = tuple(OrderLine(item, qty, due, ref) for due, item, qty, ref in scope.lines if due > now)
    return PlanningObservation(now, tuple(items), scope.bom, tuple(supply), lines, down)
