"""Suppliers: lead times from each supplier's named stream, on-time reliability, partial deliveries
and outages. A delivery that falls due while its supplier is out waits until the outage ends."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from twin.model import events as E
from twin.model.site import LeadTime, Supplier

if TYPE_CHECKING:
    from twin.sim.engine import Engine

__all__ = ["SupplyModel", "draw_lead_time"]


def draw_lead_time(lt: LeadTime, gen: np.random.Generator) -> float:
    """One lead time in hours."""
    if lt.dist == "fixed":
        return lt.mean
    if lt.dist == "gamma":
        shape = 1.0 / lt.cv**2
        return float(gen.gamma(shape, lt.mean / shape))
    sigma2 = np.log1p(lt.cv**2)
    return float(gen.lognormal(np.log(lt.mean) - sigma2 / 2, np.sqrt(sigma2)))


class SupplyModel:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.suppliers = {s.id: s for s in engine.scenario.site.suppliers}

    def place(self, item: str, location: str, qty: float, supplier: Supplier, policy: str) -> int:
        engine = self.engine
        gen = engine.streams.get("lead_time", supplier.id)
        lead = draw_lead_time(supplier.lead_time, gen)
        if supplier.on_time < 1.0 and gen.random() >= supplier.on_time:
            late = supplier.late_by or LeadTime(dist="fixed", mean=f"{supplier.lead_time.mean / 2}h")
            lead += draw_lead_time(late, gen)
        split = supplier.partial.probability > 0 and gen.random() < supplier.partial.probability
        po = engine.next_id("po")
        now = engine.env.now
        engine.emit(E.PurchaseOrderPlaced(now, po, item, location, supplier.id, qty, now + lead, policy))
        if split and qty >= 2:
            first = float(np.floor(qty * supplier.partial.fraction))
            deliveries = [(lead, first, False), (lead + supplier.partial.rest_after, qty - first, True)]
        else:
            deliveries = [(lead, qty, True)]
        for delay, q, closes in deliveries:
            engine.env.process(self._deliver(po, item, location, q, supplier, delay, closes))
        return po

    def _deliver(self, po: int, item: str, location: str, qty: float, supplier: Supplier, delay: float,
                 closes: bool) -> Any:
        env = self.engine.env
        transit = min(supplier.transit_time, delay)
        yield env.timeout(delay - transit)
        # An outage stops the supplier shipping; what falls due waits until it ends.
        while True:
            until = self.engine.state.disruptions.get(("supplier_outage", supplier.id))
            if until is None or until <= env.now:
                break
            yield env.timeout(until - env.now)
        self.engine.emit(E.PurchaseOrderShipped(env.now, po, item, location, qty))
        if transit > 0:
            yield env.timeout(transit)
        self.engine.warehouses[location].receive(po, item, qty, closes)
