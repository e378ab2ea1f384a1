"""Maintenance part of the operational state, and the reducer handlers of the maintenance events.

``State.maintenance`` holds it; ``HANDLERS`` here are merged into the one reducer of
``twin.model.state`` (the only place state changes). Assets are added when an event first names them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from twin.model import events as ev

__all__ = ["AssetStatus", "WorkOrder", "MaintenanceState", "HANDLERS", "READINGS_KEPT"]

READINGS_KEPT = 48  # readings per (asset, signal) kept for observations (trend fits)


@dataclass
class AssetStatus:
    id: str
    status: str = "running"  # running | failed | stopped
    since: float = 0.0  # when the status began
    age: float = 0.0  # virtual age at ``since``
    usage: float = 0.0  # usage at ``since`` (the engine writes it with each status change)
    failures: int = 0
    last_service: float = 0.0
    run_at_service: float = 0.0  # operating hours at the last planned maintenance
    usage_at_service: float = 0.0  # a production machine's run hours at the last planned maintenance
    operated: float = 0.0  # operating hours at ``since``
    open_work_orders: set[int] = field(default_factory=set)


@dataclass
class WorkOrder:
    wo: int
    asset: str
    kind: str
    priority: int
    skill: str
    created: float
    technician: str | None = None
    started: float | None = None


@dataclass
class MaintenanceState:
    assets: dict[str, AssetStatus] = field(default_factory=dict)
    work_orders: dict[int, WorkOrder] = field(default_factory=dict)  # open ones
    readings: dict[tuple[str, str], list[tuple[float, float]]] = field(default_factory=dict)
    alarms: dict[str, str] = field(default_factory=dict)  # sensor -> high | low (while raised)
    busy: set[str] = field(default_factory=set)  # technicians on a work order

    def asset(self, ident: str) -> AssetStatus:
        a = self.assets.get(ident)
        if a is None:
            a = self.assets[ident] = AssetStatus(ident)
        return a


def _status(state: Any, asset: str, status: str, t: float) -> AssetStatus:
    a: AssetStatus = state.maintenance.asset(asset)
    if a.status == "running":
        a.operated += t - a.since
    a.status = status
    a.since = t
    return a


def _failed(state: Any, e: ev.MachineFailed) -> None:
    a = _status(state, e.asset, "failed", e.t)
    a.age = e.age
    a.failures += 1


def _stopped(state: Any, e: ev.AssetStopped) -> None:
    a = state.maintenance.asset(e.asset)
    if a.status == "running":
        age = a.age + (e.t - a.since)
        _status(state, e.asset, "stopped", e.t)
        a.age = age


def _started(state: Any, e: ev.AssetStarted) -> None:
    a = state.maintenance.asset(e.asset)
    if a.status == "stopped":
        _status(state, e.asset, "running", e.t)


def _wo_created(state: Any, e: ev.WorkOrderCreated) -> None:
    m: MaintenanceState = state.maintenance
    m.work_orders[e.wo] = WorkOrder(e.wo, e.asset, e.kind, e.priority, e.skill, e.t)
    if e.asset:
        m.asset(e.asset).open_work_orders.add(e.wo)


def _close(state: Any, wo: int) -> WorkOrder | None:
    m: MaintenanceState = state.maintenance
    order = m.work_orders.pop(wo, None)
    if order is not None:
        if order.asset in m.assets:
            m.assets[order.asset].open_work_orders.discard(wo)
        if order.technician is not None:
            m.busy.discard(order.technician)
    return order


def _wo_cancelled(state: Any, e: ev.WorkOrderCancelled) -> None:
    _close(state, e.wo)


def _assigned(state: Any, e: ev.TechnicianAssigned) -> None:
    m: MaintenanceState = state.maintenance
    order = m.work_orders.get(e.wo)
    if order is None:
        raise ValueError(f"work order {e.wo} is not open")
    order.technician = e.technician
    m.busy.add(e.technician)


def _started_work(state: Any, e: ev.RepairStarted) -> None:
    order = state.maintenance.work_orders.get(e.wo)
    if order is not None:
        order.started = e.t


def _done(state: Any, e: ev.RepairCompleted | ev.MaintenanceDone) -> None:
    order = _close(state, e.wo)
    if not e.asset or (order is not None and order.kind == "request"):
        return
    a = state.maintenance.asset(e.asset)
    if a.status == "running":  # a request on a running asset: nothing stopped
        return
    _status(state, e.asset, "running", e.t)
    a.age = e.age
    if isinstance(e, ev.MaintenanceDone):
        a.last_service = e.t
        a.run_at_service = a.operated
        a.usage_at_service = state.production.run_hours_at(e.asset, e.t)


def _reading(state: Any, e: ev.SensorReading) -> None:
    series = state.maintenance.readings.setdefault((e.target, e.kind), [])
    series.append((e.t, e.value))
    if len(series) > READINGS_KEPT:
        del series[0]


def _alarm(state: Any, e: ev.SensorAlarm) -> None:
    alarms = state.maintenance.alarms
    if e.state == "clear":
        alarms.pop(e.sensor, None)
    else:
        alarms[e.sensor] = e.state


def _nothing(state: Any, e: Any) -> None:
    pass


HANDLERS: dict[type, Callable[[Any, Any], None]] = {
    ev.MachineFailed: _failed,
    ev.AssetStopped: _stopped,
    ev.AssetStarted: _started,
    ev.WorkOrderCreated: _wo_created,
    ev.WorkOrderCancelled: _wo_cancelled,
    ev.TechnicianAssigned: _assigned,
    ev.RepairStarted: _started_work,
    ev.RepairCompleted: _done,
    ev.MaintenanceDone: _done,
    ev.SensorReading: _reading,
    ev.SensorAlarm: _alarm,
    ev.RepairRequested: _nothing,
    ev.RequestRated: _nothing,
}
