"""The site compiled for a run: which SKUs exist, their parameters, item classes and selectors."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from policies.inventory import abc_classify
from twin.errors import TwinError
from twin.model.durations import HOURS_PER_DAY
from twin.model.observations import SkuParameters
from twin.model.scenario import Scenario
from twin.model.site import DemandStream, Item, LeadTime, Supplier

__all__ = ["Layout", "compile_layout", "lead_time_moments", "read_history"]


def read_history(path: str) -> np.ndarray:
    """Daily quantities from a CSV with a 'qty' column (or the last column)."""
    file = Path(path)
    if not file.is_file():
        raise TwinError(f"{path}: demand history file not found")
    with file.open(newline="") as fh:
        rows = list(csv.reader(fh))
    if len(rows) < 2:
        raise TwinError(f"{path}: demand history needs a header and at least one day")
    header = [h.strip().lower() for h in rows[0]]
    col = header.index("qty") if "qty" in header else len(header) - 1
    try:
        values = np.array([float(r[col]) for r in rows[1:] if r], dtype=float)
    except (ValueError, IndexError) as exc:
        raise TwinError(f"{path}: cannot read column {header[col]!r}: {exc}") from None
    if (values < 0).any():
        raise TwinError(f"{path}: negative quantity in demand history")
    return values


def lead_time_moments(lt: LeadTime, supplier: Supplier) -> tuple[float, float]:
    """Mean and standard deviation of a supplier's lead time in days, lateness included."""
    mean = lt.mean / HOURS_PER_DAY
    sd = mean * lt.cv if lt.dist != "fixed" else 0.0
    late = supplier.late_by.mean / HOURS_PER_DAY if supplier.late_by else mean / 2
    p_late = 1.0 - supplier.on_time
    total_mean = mean + p_late * late
    total_var = sd**2 + p_late * (1 - p_late) * late**2
    return total_mean, float(np.sqrt(total_var))


def _stream_moments(stream: DemandStream) -> tuple[float, float]:
    """Mean and variance of daily demand of a stream, before seasonality."""
    scale = HOURS_PER_DAY / stream.per
    if stream.dist == "empirical":
        hist = read_history(stream.history or "")
        return float(hist.mean()), float(hist.var())
    mean = (stream.mean or 0.0) * scale
    if stream.dist == "poisson":
        var = mean * stream.line_size
    else:
        var = (stream.sd or 0.0) ** 2 * scale
    return mean, var


@dataclass
class Layout:
    scenario: Scenario
    skus: list[tuple[str, str]]
    sku_index: dict[tuple[str, str], int]
    items: dict[str, Item]
    supplier_of: dict[str, Supplier]
    item_class: dict[str, str]
    params: SkuParameters

    def select(self, selector: str) -> set[str]:
        """Items named by a disruption selector: '*', 'class:A', 'storage:cold', 'category:X', 'a,b'."""
        sel = selector.strip()
        if sel == "*":
            return set(self.items)
        if ":" in sel:
            key, value = (s.strip() for s in sel.split(":", 1))
            if key == "class":
                return {i for i, c in self.item_class.items() if c == value}
            if key == "storage":
                return {i for i, it in self.items.items() if it.storage == value}
            return {i for i, it in self.items.items() if it.category == value}
        return {s.strip() for s in sel.split(",")}


def compile_layout(scenario: Scenario) -> Layout:
    site = scenario.site
    items = {it.id: it for it in site.items}
    suppliers = {s.id: s for s in site.suppliers}
    supplier_of: dict[str, Supplier] = {}
    for sup in site.suppliers:
        for ident in sup.items:
            supplier_of.setdefault(ident, sup)
    for it in site.items:
        if it.supplier:
            supplier_of[it.id] = suppliers[it.supplier]
    if site.production is not None:
        # Made items are "supplied" by the plant: their lead time is the routing's processing time
        # for one day's worth of work plus the release allowance (what a replenishment policy plans with).
        from twin.sim.production import routing_hours

        prod = site.production
        for routing in prod.routings:
            if routing.item not in supplier_of:
                hours = routing_hours(routing, 1.0) + prod.lead_time_allowance
                supplier_of[routing.item] = Supplier(id="production", lead_time=LeadTime(mean=f"{hours}h"))

    # A SKU exists where an item is demanded, used by a procedure, or stocked at the start.
    found: dict[tuple[str, str], None] = {}
    if site.production is not None:
        for routing in site.production.routings:
            found[(routing.item, site.production.receives_at(routing.item))] = None
        for bom in site.production.boms:
            for comp in bom.components:
                for ident in (comp.item, *comp.substitutes):
                    found[(ident, site.production.warehouse)] = None
    for stream in site.demand:
        found[(stream.item, stream.location)] = None
    for proc in site.procedures:
        for ident in proc.kit:
            found[(ident, proc.location)] = None
    for wh in site.warehouses:
        if isinstance(wh.initial_stock, dict):
            for ident in wh.initial_stock:
                found[(ident, wh.id)] = None
    for asset in site.assets:  # spare parts live in the asset's parts store
        store = asset.parts_store or site.warehouses[0].id
        for ident in (*asset.repair_parts, *(asset.service.parts if asset.service else ())):
            found[(ident, store)] = None
    stocked = {i for i, _ in found}
    for it in site.items:
        if it.id not in stocked:
            found[(it.id, site.warehouses[0].id)] = None
    skus = list(found)
    index = {s: k for k, s in enumerate(skus)}

    n = len(skus)
    mean = np.zeros(n)
    var = np.zeros(n)
    for stream in site.demand:
        m, v = _stream_moments(stream)
        if stream.weekly:
            m *= float(np.mean(stream.weekly))
        k = index[(stream.item, stream.location)]
        mean[k] += m
        var[k] += v
    for proc in site.procedures:
        rate = proc.per_day * (float(np.mean(proc.weekly)) if proc.weekly else 1.0)
        for ident, qty in proc.kit.items():
            k = index[(ident, proc.location)]
            mean[k] += rate * qty
            var[k] += rate * qty * qty  # compound Poisson

    annual_value: dict[str, float] = {}
    for (ident, _), m in zip(skus, mean, strict=True):
        annual_value[ident] = annual_value.get(ident, 0.0) + m * 365 * items[ident].unit_cost
    ids = list(items)
    computed = abc_classify(np.array([annual_value.get(i, 0.0) for i in ids]))
    item_class = {i: items[i].item_class or c for i, c in zip(ids, computed, strict=True)}

    def per_item(fn: object) -> np.ndarray:
        return np.array([fn(items[i]) for i, _ in skus], dtype=float)  # type: ignore[operator]

    unit_cost = per_item(lambda it: it.unit_cost)
    holding = per_item(
        lambda it: it.holding_cost if it.holding_cost is not None else it.unit_cost * it.holding_rate / 365)
    backorder = per_item(lambda it: it.backorder_cost if it.backorder_cost is not None else it.unit_cost / 10)
    order_cost = np.array(
        [items[i].order_cost if items[i].order_cost is not None else supplier_of[i].order_cost for i, _ in skus]
    )
    lt = [lead_time_moments(supplier_of[i].lead_time, supplier_of[i]) for i, _ in skus]
    shelf = per_item(lambda it: it.shelf_life / HOURS_PER_DAY if it.shelf_life else np.inf)

    def frozen(a: np.ndarray) -> np.ndarray:
        a.setflags(write=False)
        return a

    params = SkuParameters(
        items=tuple(i for i, _ in skus),
        locations=tuple(loc for _, loc in skus),
        suppliers=tuple(supplier_of[i].id for i, _ in skus),
        unit_cost=frozen(unit_cost),
        holding_cost_per_day=frozen(holding),
        backorder_cost_per_day=frozen(backorder),
        order_cost=frozen(order_cost),
        demand_mean_per_day=frozen(mean),
        demand_sd_per_day=frozen(np.sqrt(var)),
        lead_time_mean_days=frozen(np.array([m for m, _ in lt])),
        lead_time_sd_days=frozen(np.array([s for _, s in lt])),
        item_class=tuple(item_class[i] for i, _ in skus),
        shelf_life_days=frozen(shelf),
    )
    return Layout(scenario, skus, index, items, supplier_of, item_class, params)
