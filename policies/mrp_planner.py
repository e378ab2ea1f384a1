"""MRP as the plant's production policy (registered as ``mrp``), pure.

On its review period (default daily) ``MrpPlanner`` turns a ``PlanningObservation`` of the plant
into time buckets from now: on hand and allocated per item, open purchase orders, work orders and
transfers as scheduled receipts in the bucket they are due, backorders and make-to-order lines as
gross requirements, and (``forecast``) the stated customer demand rate in every bucket. It runs
``policies.mrp.plan_mrp`` (gross-to-net by low-level code, lot sizing, lead-time offset) and
releases the planned orders whose release falls in bucket 0, past-due ones included:
``ReleaseWorkOrder`` for made items, ``PlaceOrder`` for bought ones. The next run sees them as
scheduled receipts, so nothing is ordered twice; and a past-due planned order is not released for
the part that open orders arriving before a new order could will cover (MRP's expedite message
names those receipts). ``last_plan`` keeps the latest run's records,
pegging and exception messages; ``exceptions`` holds that run's exception messages as
``PlanException``s with the open orders they concern (by ref) and dates in hours, which the plant
simulation records as ``MrpException`` events.
"""

from __future__ import annotations

import math
from collections import defaultdict

from pydantic import BaseModel, ConfigDict, Field

from policies.base import register
from policies.mrp import BomLine, Demand, LotRule, LotSizing, MrpItem, MrpPlan, plan_mrp
from twin.model.actions import PlaceOrder
from twin.model.durations import Duration
from twin.model.production_plan import OpenSupply, PlanException, PlanningObservation, ReleaseWorkOrder

__all__ = ["MrpPlanner", "MrpParams", "LotParams"]


class LotParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rule: LotRule = "lot_for_lot"
    qty: float = Field(0.0, ge=0)
    periods: int = Field(1, ge=1)
    order_cost: float = Field(0.0, ge=0)
    holding_cost: float = Field(0.0, ge=0, description="per unit per bucket")


class MrpParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    bucket: Duration = Field(24.0, description="length of a time bucket, e.g. 1d or 1w (default one day)")
    buckets: int = Field(28, ge=1, le=520, description="planning horizon in buckets")
    safety_stock: dict[str, float] = Field(default_factory=dict, description="item -> units")
    lot_sizing: dict[str, LotParams] = Field(default_factory=dict, description="item -> lot-sizing rule "
                                             "(default lot for lot)")
    forecast: bool = Field(True, description="plan the stated customer demand rate as gross requirements")


@register("mrp")
class MrpPlanner:
    """Material requirements planning on a review period (default daily) over the live plant."""

    Params = MrpParams
    review: float | None = 24.0

    def __init__(self, params: MrpParams) -> None:
        self.params = params
        self.last_plan: MrpPlan | None = None  # the latest run, for its records, pegging and exceptions
        self.exceptions: list[PlanException] = []  # the latest run's exception messages

    def decide(self, obs: PlanningObservation) -> list[object]:
        p = self.params
        width = float(p.bucket)
        T = p.buckets

        def bucket(t: float) -> int:
            return math.floor((t - obs.now) / width + 1e-9)

        receipts: dict[str, dict[int, float]] = defaultdict(lambda: defaultdict(float))
        open_in: dict[tuple[str, int], list[OpenSupply]] = defaultdict(list)  # (item, bucket) -> open orders
        for s in obs.open_supply:
            b = bucket(s.due)
            if b < T:
                receipts[s.item][b] += s.qty
                open_in[(s.item, b)].append(s)
        items = []
        demands = []
        lead_of = {}
        for it in obs.items:
            lead = max(0, math.ceil(it.lead_time / width - 1e-9))
            lead_of[it.id] = it.lead_time
            lot = p.lot_sizing.get(it.id)
            items.append(MrpItem(it.id, it.source, lead, it.on_hand, it.allocated, p.safety_stock.get(it.id, 0.0),
                                 dict(receipts.get(it.id, {})),
                                 LotSizing(lot.rule, lot.qty, lot.periods, lot.order_cost, lot.holding_cost)
                                 if lot is not None else LotSizing()))
            if it.backorders > 0:
                demands.append(Demand(it.id, 0, it.backorders, f"backorders:{it.id}"))
            if p.forecast and it.demand_per_day > 0:
                per_bucket = it.demand_per_day * width / 24.0
                demands.extend(Demand(it.id, t, per_bucket, f"forecast:{it.id}@{t}") for t in range(T))
        for line in obs.order_lines:
            b = bucket(line.due)
            if b < T:
                demands.append(Demand(line.item, max(b, 0), line.qty, line.ref))
        bom = [BomLine(parent, child, qty, scrap) for parent, child, qty, scrap in obs.bom]
        plan = plan_mrp(items, bom, demands, T)
        self.last_plan = plan
        self.exceptions = self._messages(plan, obs.now, width, open_in)
        where = {it.id: it.location for it in obs.items}
        leads = {m.id: m.lead_time for m in items}
        # Open orders due after a need but no later than a new order could arrive: a new order
        # would not come sooner, so they are expedited (an exception message), not ordered again.
        late = {i: sorted([b, q] for b, q in r.items() if b > 0) for i, r in receipts.items()}
        actions: list[object] = []
        wanted: dict[str, tuple[float, float, int]] = {}  # item -> (qty, due time, due bucket)
        sources = {it.id: it.source for it in obs.items}
        for order in plan.planned_orders(bucket=0):
            qty = order.qty
            if order.release < 0:
                for entry in late.get(order.item, ()):
                    if order.due < entry[0] <= leads[order.item] and entry[1] > 1e-9:
                        take = min(entry[1], qty)
                        entry[1] -= take
                        qty -= take
            if qty > 1e-6:
                due = obs.now + max(order.due * width, lead_of[order.item])
                got = wanted.get(order.item)
                wanted[order.item] = (got[0] + qty, min(got[1], due), min(got[2], order.due)) if got else (
                    qty, due, order.due)
        # One order per item and run: the planned orders released now are one lot (one set-up, one PO).
        for item, (qty, due, due_bucket) in wanted.items():
            whole = float(math.ceil(qty - 1e-6))
            if sources[item] == "make":
                actions.append(ReleaseWorkOrder(item, whole, due, f"mrp@{due_bucket}"))
            else:
                actions.append(PlaceOrder(item, where[item], whole))
        return actions

    @staticmethod
    def _messages(plan: MrpPlan, now: float, width: float,
                  open_in: dict[tuple[str, int], list[OpenSupply]]) -> list[PlanException]:
        """The plan's exception messages with the open orders of the bucket each one is about and
        dates in hours (a bucket is dated by its start)."""
        out = []
        for x in plan.exceptions:
            orders = open_in.get((x.item, x.bucket), [])
            # plan_mrp dates a planned order's past-due message by its release bucket; an open
            # order's messages by the bucket it is received in.
            planned = x.kind == "past_due" and not x.message.startswith(f"{x.item}: scheduled receipt")
            if planned or not orders:
                refs: tuple[str, ...] = ()
                due = now + x.bucket * width
            else:
                refs = tuple(s.ref for s in orders if s.ref)
                due = min(s.due for s in orders)
            need = None if x.to_bucket is None else now + x.to_bucket * width
            out.append(PlanException(x.item, x.kind, refs, x.qty, due, need, x.message))
        return out
