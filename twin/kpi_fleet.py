"""Transport KPIs from the event log alone (issue 5).

Only consignments ready in the window [warmup, horizon) count, and trips that end in it:

- on_time_in_full: share of consignments delivered by their due time and not spoiled (those never
  delivered, unserved ones included, count as failures);
- emergency_response_time: mean hours from order to delivery of priority-1 consignments;
  delivery_time_p1..p3 the same by priority;
- vehicle_km, transport_cost: totals of the trips; vehicle_utilization: vehicle-hours on trips over
  vehicle-hours in the window;
- late_deliveries: consignments delivered after their due time, plus those due in the window and
  still not delivered at its end; unserved_deliveries: consignments reported unserved, plus those
  still waiting at the end;
- cold_chain_excursions: the one count of cold stores and reefers together
  (``twin.kpi_maintenance.cold_chain_excursions``; the maintenance table reports the same number).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from twin.kpi_maintenance import cold_chain_excursions
from twin.model import events as E
from twin.model.scenario import Scenario

__all__ = ["fleet_kpis", "has_fleet"]


def has_fleet(scenario: Scenario) -> bool:
    return scenario.site.network is not None and bool(scenario.site.vehicles)


def fleet_kpis(events: Sequence[Any], scenario: Scenario, warmup: float, horizon: float) -> dict[str, float]:
    w, h = warmup, horizon
    placed: dict[int, float] = {}
    ready: dict[int, E.ConsignmentReady] = {}
    delivered: dict[int, E.Delivered] = {}
    unserved: set[int] = set()
    km = cost = busy = 0.0  # floats (numpy scalars would leak into the KPI table)
    for ev in events:
        cls = ev.__class__
        if cls is E.OrderPlaced:
            placed[ev.order] = ev.t
        elif cls is E.ConsignmentReady:
            ready[ev.consignment] = ev
        elif cls is E.Delivered:
            delivered[ev.consignment] = ev
        elif cls is E.DeliveryUnserved:
            unserved.add(ev.consignment)
        elif cls is E.VehicleReturned and w <= ev.t < h:
            km += ev.km
            cost += ev.cost
            busy += ev.hours
    counted = [c for c, r in ready.items() if w <= r.t < h]
    ok = 0
    late = 0
    open_ = 0
    by_priority: dict[int, list[float]] = {1: [], 2: [], 3: []}
    for c in counted:
        r = ready[c]
        d = delivered.get(c)
        if d is None:
            if c not in unserved:
                open_ += 1
                if r.due < h:
                    late += 1
            continue
        if not d.late and not d.spoiled:
            ok += 1
        if d.late:
            late += 1
        by_priority.setdefault(r.priority, []).append(d.t - placed.get(r.order, r.t))
    vehicles = sum(v.count for v in scenario.site.vehicles)
    return {
        "on_time_in_full": ok / len(counted) if counted else math.nan,
        "emergency_response_time": float(np.mean(by_priority[1])) if by_priority[1] else math.nan,
        **{f"delivery_time_p{p}": float(np.mean(by_priority[p])) if by_priority.get(p) else math.nan
           for p in (1, 2, 3)},
        "vehicle_km": float(km),
        "vehicle_utilization": float(busy / (vehicles * (h - w))) if vehicles else math.nan,
        "transport_cost": float(cost),
        "late_deliveries": float(late),
        "unserved_deliveries": float(sum(1 for c in counted if c in unserved) + open_),
        "cold_chain_excursions": cold_chain_excursions(events, scenario, w, h),
    }
