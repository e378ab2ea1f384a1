"""Fork a forecast from the live state: "from now, what happens over the next 72 h if ...?".

The forecast is an ordinary scenario run that starts *now*: the site clock (the time of the latest
event the twin applied, hours since the store's epoch, which the twin takes as a Monday 00:00 as
the simulation and shadow mode do) is the run's start, ``opening.at``. The simulation's clock
starts there, so delivery windows, shifts, congestion by hour and weekly demand read the site's
real time of week, and the forecast's event times and KPI window [now, now + horizon) are in site
time. It starts where the live site is (``Scenario.opening``, run by ``twin.sim.opening``):

- stock: each warehouse starts with the live book stock per item (on hand plus held, less what is
  reserved for open customer orders: those are taken to be picked and shipped as planned);
- open purchase orders: the units still to come, from the same supplier, due when the live order is
  due (an overdue one as soon as the supplier can ship); an outage in the overlay holds them;
- backorders: the units customer orders wait for, served first when stock comes;
- machines failed or under repair: down at the start; a repair already under way (its work order's
  ``RepairStarted``) carries the hours done, so what is left of it is shorter.

- vehicles under way (``vehicles``): each trip dispatched and not returned, with the consignments
  still on board in their delivery order, where the vehicle is as far as the events tell (the node
  it reached last: the warehouse it left, or its last delivery) and when it gets to the node it
  heads to (from then: the shortest open path at the vehicle's speed and now's congestion, after
  loading when it left a warehouse; at once if that time is past); and the consignments waiting at
  a dock. The fork's vehicle arrives at that node at that time, delivers the rest and returns.

``carry`` picks which of the last four go along (all by default; leave one out to see what it is
worth). Not carried: work orders of production and planned stops; a transfer between warehouses
under way (its goods are neither in the opening stock nor carried); a vehicle's breakdown under way
(its remaining repair is not added to the time it gets there). The overlay (a partial scenario:
mappings merge, lists replace, e.g. ``{"disruptions": [{"at": "0h", "kind": "supplier_outage",
...}]}``) is laid over the site's scenario. Times in the overlay (a disruption's ``at``) count from now.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from typing import Any

from pydantic import ValidationError

from twin.errors import Problem, ScenarioError
from twin.model.opening import _site_hours
from twin.model.scenario import Scenario
from twin.model.state import State
from twin.sim.fleet_roads import RoadNetwork

__all__ = ["forecast_scenario", "merge", "opening_of", "vehicles_under_way", "CARRY"]

CARRY = ("purchase_orders", "backorders", "assets_down", "vehicles")


def merge(base: Any, overlay: Any) -> Any:
    """Mappings merge key by key; anything else (lists included) is replaced."""
    if isinstance(base, dict) and isinstance(overlay, dict):
        out = dict(base)
        for key, value in overlay.items():
            out[key] = merge(base.get(key), value) if key in base else value
        return out
    return overlay


def opening_of(scenario: Scenario, state: State, carry: Collection[str] = CARRY) -> dict[str, Any]:
    """What is under way in ``state``, as ``Scenario.opening`` data, times from the state's clock."""
    now = state.clock if math.isfinite(state.clock) else 0.0
    unknown = set(carry) - set(CARRY)
    if unknown:
        raise ScenarioError([Problem("carry", None, "carry", f"unknown {sorted(unknown)}; choose from {list(CARRY)}")])
    suppliers = {s.id for s in scenario.site.suppliers}
    opening: dict[str, Any] = {}
    if "purchase_orders" in carry:
        opening["purchase_orders"] = [
            {"po": po.po, "item": po.item, "location": po.location, "supplier": po.supplier,
             "qty": round(po.qty - po.received, 6), "due": round(max(po.due - now, 0.0), 6)}
            for po in sorted(state.purchase_orders.values(), key=lambda p: p.po)
            if po.qty - po.received > 1e-9 and po.supplier in suppliers]
    if "backorders" in carry:
        opening["backorders"] = [
            {"order": int(order), "item": sku.item, "location": sku.location, "qty": round(qty, 6)}
            for sku in state.skus.values() for order, qty in sku.backlog if qty > 1e-9]
    if "assets_down" in carry:
        opening["assets_down"] = [{"asset": a.id, "repair_done": _repair_done(state, a.id, now)}
                                  for a in state.maintenance.assets.values() if a.status == "failed"]
    if "vehicles" in carry and scenario.site.network is not None:
        under_way = [{k: v for k, v in u.items() if k != "free_at"} for u in vehicles_under_way(scenario, state)]
        aboard = {c for u in under_way for c in u["stops"]}
        # Waiting at a dock, or on board a vehicle carried (one on a vehicle the site file does not
        # know is left out with it, not sent again from its dock).
        opening["consignments"] = [
            {"consignment": c.id, "order": c.order, "origin": c.origin, "destination": c.destination,
             "weight": c.weight, "volume": c.volume, "priority": c.priority, "due": round(c.due - now, 6)}
            for c in sorted(state.fleet.consignments.values(), key=lambda c: c.id)
            if c.order >= 0 and (c.trip is None or c.id in aboard)]
        opening["vehicles"] = under_way
    return opening


def vehicles_under_way(scenario: Scenario, state: State) -> list[dict[str, Any]]:
    """Each vehicle on a trip in ``state``: ``vehicle``, ``trip``, ``at`` (the node reached last),
    ``next`` (the node it heads to), ``eta`` (hours from the state's clock until it is there),
    ``free_at`` (the site time of it) and ``stops`` (the consignments on board, in delivery order;
    a transfer between warehouses is left out). Shared by the fork and shadow mode."""
    site = scenario.site
    if site.network is None:
        return []
    now = state.clock if math.isfinite(state.clock) else 0.0
    fleet = state.fleet
    specs = {}
    for spec in site.vehicles:
        for k in range(spec.count):
            specs[spec.id if spec.count == 1 else f"{spec.id}-{k + 1}"] = spec
    net = RoadNetwork(site.network)
    km = net.km(frozenset(fleet.closed_roads))
    warehouses = {w.id for w in site.warehouses}
    out = []
    for trip, (at, since, on_board) in sorted(fleet.legs.items()):
        vehicle = fleet.trips.get(trip)
        run = specs.get(vehicle) if vehicle is not None else None
        if run is None or at not in net.index:
            continue
        spec = run
        stops = [c for c in on_board if c in fleet.consignments and fleet.consignments[c].order >= 0]
        heads = fleet.consignments[stops[0]].destination if stops else spec.depot
        leg = km[net.index[at], net.index[heads]] if heads in net.index else math.inf
        if not math.isfinite(leg):  # no open road on from there: the fork's trip finds its way from `at`
            heads, leg = at, 0.0
        # Still at (or just off) the warehouse it left: it loads there first, as the simulation's trip does.
        start = since + (spec.load_time if at == spec.depot and at in warehouses else 0.0)
        arrives = max(start + float(leg) / spec.speed * net.congestion(now), now)
        out.append({"vehicle": vehicle, "trip": trip, "at": at, "next": heads, "eta": round(arrives - now, 6),
                    "free_at": arrives, "stops": stops})
    return out


def _repair_done(state: State, asset: str, now: float) -> float:
    """Hours a failed asset's repair has been under way (its open work order's repair started, by a
    RepairStarted event); 0 when no repair has started (waiting for a technician or parts)."""
    started = [o.started for o in state.maintenance.work_orders.values()
               if o.asset == asset and o.started is not None and o.kind == "corrective"]
    return round(max(now - min(started), 0.0), 6) if started else 0.0


def forecast_scenario(scenario: Scenario, state: State, horizon: float, overlay: dict[str, Any] | None = None,
                      replications: int = 1, carry: Collection[str] = CARRY) -> Scenario:
    """The scenario of a forecast from ``state`` over ``horizon`` hours, with ``overlay`` applied."""
    data = scenario.model_dump(mode="json", by_alias=True)
    now = state.clock if math.isfinite(state.clock) else 0.0
    data["opening"] = {"at": _site_hours(now), **opening_of(scenario, state, carry)}
    stock: dict[str, dict[str, float]] = {}
    for (item, location), sku in state.skus.items():
        qty = max(sku.on_hand + sku.held - sku.reserved, 0.0)
        stock.setdefault(location, {})[item] = round(qty, 6)
    for wh in data["site"]["warehouses"]:
        wh["initial_stock"] = stock.get(wh["id"], {})
    data.update(name=f"{scenario.name}-forecast", horizon=f"{horizon}h", warmup="0h", replications=replications)
    data = merge(data, overlay or {})
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError([Problem("overlay", None, ".".join(str(p) for p in e["loc"]), e["msg"])
                             for e in exc.errors()]) from None
