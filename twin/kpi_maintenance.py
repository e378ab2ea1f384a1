"""Maintenance KPIs from the event log alone (issue 4): availability, mtbf, mttr, downtime_hours,
maintenance_cost, technician_utilization, backlog, response_time (overall and by priority),
satisfaction, cold_chain_excursions, spoiled_units.

Only the window [warmup, horizon) counts; intervals that straddle its ends are clipped to it.

- availability: share of asset-hours running (failures, planned downtime and planned maintenance
  all count as down);
- mtbf: operating hours per failure; mttr: mean hours from a failure to the end of its repair
  (waiting for a technician, travel and parts included), over failures repaired in the window;
- downtime_hours: asset-hours down after failures (unplanned);
- technician_utilization: hours assigned to work orders (travel, waiting for parts, work) over
  hours on shift;
- backlog: time-average number of open work orders;
- response_time: mean hours from a work order's creation to the start of work;
- cold_chain_excursions (``cold_chain_excursions``, the one count the transport table reports too):
  excursions of cold stores (their temperature sensor's high alarm) plus excursions of reefers on
  the road (the vehicle temperature sensor's high alarm where it has an ``excursion`` rule, else
  the reefer's cooling failure on a trip), each counted once.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from twin.model import events as E
from twin.model.assets import PRIORITIES
from twin.model.scenario import Scenario
from twin.sim.laws import WEEK, shift_windows

__all__ = ["maintenance_kpis", "has_maintenance", "repair_times", "cold_chain_excursions"]


def has_maintenance(scenario: Scenario) -> bool:
    site = scenario.site
    return bool(site.assets or site.repair_requests or site.sensors)


def cold_chain_excursions(events: Iterable[Any], scenario: Scenario, warmup: float, horizon: float) -> float:
    """Cold-chain excursions that began in [warmup, horizon): stores and reefers, each once.

    A sensor with an ``excursion`` rule judges what it watches (a store, or a reefer's body): its
    high alarms count. A reefer without such a sensor counts its cooling failures on trips. A
    reefer with one does not count its failure as well (the failure and the alarm it causes are
    one excursion; a failure found before the body warmed past the limit is none)."""
    site = scenario.site
    judges = {s.id: s.attached_to for s in site.sensors if s.kind == "temperature" and s.excursion is not None}
    judged = set(judges.values())
    units = {v.id if v.count == 1 else f"{v.id}-{k + 1}" for v in site.vehicles for k in range(v.count)}
    n = 0
    for ev in events:
        cls = ev.__class__
        if cls is E.SensorAlarm:
            if ev.sensor in judges and ev.state == "high" and warmup <= ev.t < horizon:
                n += 1
        elif cls is E.ReeferFailed:
            if ev.vehicle in units and ev.vehicle not in judged and warmup <= ev.t < horizon:
                n += 1
    return float(n)


def _clip(a: float, b: float, w: float, h: float) -> float:
    return max(0.0, min(b, h) - max(a, w))


def _shift_hours(shifts: Any, w: float, h: float) -> float:
    windows = shift_windows(shifts)
    if windows is None:
        return h - w
    total = 0.0
    week0 = math.floor(w / WEEK) * WEEK
    while week0 < h:
        for start, end in windows:
            total += _clip(week0 + start, week0 + end, w, h)
        week0 += WEEK
    return total


def repair_times(events: Iterable[Any]) -> dict[str, list[float]]:
    """Per corrective repair: failure time, wait until work starts, and total downtime (hours)."""
    failed_at: dict[str, float] = {}
    wo_failure: dict[int, float] = {}
    out: dict[str, list[float]] = {"failed": [], "wait": [], "down": []}
    started: dict[int, float] = {}
    for ev in events:
        cls = ev.__class__
        if cls is E.MachineFailed:
            failed_at[ev.asset] = ev.t
        elif cls is E.WorkOrderCreated and ev.kind == "corrective":
            wo_failure[ev.wo] = failed_at.get(ev.asset, ev.t)
        elif cls is E.RepairStarted and ev.wo in wo_failure:
            started[ev.wo] = ev.t
        elif cls is E.RepairCompleted and ev.wo in wo_failure:
            f = wo_failure.pop(ev.wo)
            out["failed"].append(f)
            out["wait"].append(started.pop(ev.wo, ev.t) - f)
            out["down"].append(ev.t - f)
    return out


def maintenance_kpis(events: Sequence[Any], scenario: Scenario, warmup: float, horizon: float) -> dict[str, float]:
    """Every maintenance KPI for one replication's events (a list of typed events)."""
    site = scenario.site
    w, h = warmup, horizon
    span = h - w
    assets = [a.id for a in site.assets]
    status: dict[str, tuple[str, float]] = {a: ("running", 0.0) for a in assets}
    down_h = 0.0
    unplanned_h = 0.0
    run_h = 0.0
    failures = 0
    cost = 0.0
    kinds: dict[int, str] = {}
    priority: dict[int, int] = {}
    created: dict[int, float] = {}
    assigned: dict[int, tuple[str, float]] = {}
    busy_h = 0.0
    open_since: dict[int, float] = {}
    backlog_h = 0.0
    response: dict[int, list[float]] = {p: [] for p in PRIORITIES}
    ratings: list[float] = []
    spoiled = 0.0

    def set_status(asset: str, new: str, t: float) -> None:
        nonlocal down_h, unplanned_h, run_h
        old, since = status.get(asset, ("running", 0.0))
        length = _clip(since, t, w, h)
        if old == "running":
            run_h += length
        else:
            down_h += length
            if old == "failed":
                unplanned_h += length
        status[asset] = (new, t)

    def close(wo: int, t: float) -> None:
        nonlocal busy_h, backlog_h
        if wo in assigned:
            busy_h += _clip(assigned.pop(wo)[1], t, w, h)
        if wo in open_since:
            backlog_h += _clip(open_since.pop(wo), t, w, h)

    for ev in events:
        cls = ev.__class__
        t = ev.t
        if cls is E.MachineFailed:
            set_status(ev.asset, "failed", t)
            if w <= t < h:
                failures += 1
        elif cls is E.AssetStopped:
            set_status(ev.asset, "stopped", t)
        elif cls is E.AssetStarted:
            set_status(ev.asset, "running", t)
        elif cls is E.WorkOrderCreated:
            kinds[ev.wo] = ev.kind
            priority[ev.wo] = ev.priority
            created[ev.wo] = t
            open_since[ev.wo] = t
        elif cls is E.TechnicianAssigned:
            assigned[ev.wo] = (ev.technician, t)
        elif cls is E.RepairStarted:
            c = created.pop(ev.wo, None)
            if c is not None and w <= c < h:
                response.setdefault(priority.get(ev.wo, 2), []).append(t - c)
        elif cls is E.RepairCompleted or cls is E.MaintenanceDone:
            if kinds.get(ev.wo) != "request" and ev.asset in status and status[ev.asset][0] != "running":
                set_status(ev.asset, "running", t)
            if w <= t < h:
                cost += ev.cost
            close(ev.wo, t)
        elif cls is E.WorkOrderCancelled:
            created.pop(ev.wo, None)
            close(ev.wo, t)
        elif cls is E.RequestRated:
            if w <= t < h:
                ratings.append(float(ev.rating))
        elif cls is E.StatusChanged:
            if ev.status == "scrapped" and ev.reason == "cold_chain" and w <= t < h:
                spoiled += ev.qty
    for asset in list(status):
        set_status(asset, "running", h)
    for wo in list(open_since):
        close(wo, h)

    shift_h = sum(_shift_hours(t.shifts, w, h) for t in site.technicians)
    all_resp = [x for p in response.values() for x in p]
    times = repair_times(events)
    down = [d for f, d in zip(times["failed"], times["down"], strict=True) if w <= f < h]
    n_assets = len(assets)
    out = {
        "availability": 1.0 - down_h / (n_assets * span) if n_assets else math.nan,
        "mtbf": run_h / failures if failures else math.nan,
        "mttr": float(np.mean(down)) if down else math.nan,
        "downtime_hours": unplanned_h,
        "maintenance_cost": cost,
        "technician_utilization": busy_h / shift_h if shift_h > 0 else math.nan,
        "backlog": backlog_h / span,
        "response_time": float(np.mean(all_resp)) if all_resp else math.nan,
        **{f"response_time_p{p}": float(np.mean(response[p])) if response.get(p) else math.nan
           for p in PRIORITIES},
        "satisfaction": float(np.mean(ratings)) if ratings else math.nan,
        "cold_chain_excursions": cold_chain_excursions(events, scenario, w, h),
        "spoiled_units": spoiled,
    }
    return out
