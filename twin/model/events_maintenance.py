"""Maintenance events (issue 4): assets, work orders, technicians, sensors, requests.

Split from twin/model/events.py, which re-exports every name here.
"""

from __future__ import annotations

from typing import Any, NamedTuple

__all__ = [
    "AssetStarted",
    "AssetStopped",
    "MAINTENANCE_EVENTS",
    "MachineFailed",
    "MaintenanceDone",
    "RepairCompleted",
    "RepairRequested",
    "RepairStarted",
    "RequestRated",
    "SensorAlarm",
    "SensorReading",
    "TechnicianAssigned",
    "WorkOrderCancelled",
    "WorkOrderCreated",
    "maintenance_row",
]

Row = tuple[Any, ...]

# -- maintenance (issue 4): assets, work orders, technicians, sensors, requests -------------------


class MachineFailed(NamedTuple):
    """An asset breaks down; ``age`` is its virtual operating age at failure (hours)."""

    t: float
    asset: str
    age: float


class AssetStopped(NamedTuple):
    """An asset is stopped on purpose (planned downtime, or planned maintenance starting)."""

    t: float
    asset: str
    reason: str


class AssetStarted(NamedTuple):
    """A stopped asset runs again (end of planned downtime)."""

    t: float
    asset: str
    reason: str


class WorkOrderCreated(NamedTuple):
    """A maintenance work order: ``kind`` corrective | preventive | condition | predictive | request."""

    t: float
    wo: int
    asset: str
    kind: str
    priority: int
    skill: str
    source: str  # the policy, 'failure', or a request's channel


class WorkOrderCancelled(NamedTuple):
    t: float
    wo: int
    asset: str
    reason: str


class TechnicianAssigned(NamedTuple):
    t: float
    wo: int
    technician: str
    travel: float  # hours


class RepairStarted(NamedTuple):
    """Work on a work order starts (the technician is there and the parts are at hand)."""

    t: float
    wo: int
    asset: str
    technician: str


class RepairCompleted(NamedTuple):
    """A corrective work order (or a request) is done; the asset runs again with virtual age ``age``."""

    t: float
    wo: int
    asset: str
    technician: str
    labour_hours: float
    cost: float
    age: float


class MaintenanceDone(NamedTuple):
    """A planned work order is done; the asset runs again with virtual age ``age``."""

    t: float
    wo: int
    asset: str
    technician: str
    labour_hours: float
    cost: float
    age: float


class SensorReading(NamedTuple):
    """A reading a policy asked for (most samples never become events: DESIGN principle 4)."""

    t: float
    sensor: str
    target: str
    kind: str
    value: float


class SensorAlarm(NamedTuple):
    """A sensor crosses its alarm limit (``state`` 'high' or 'low') or comes back ('clear')."""

    t: float
    sensor: str
    target: str
    kind: str
    value: float
    state: str


class RepairRequested(NamedTuple):
    """A person asks for a repair (app, phone, web); a work order of kind 'request' follows."""

    t: float
    wo: int
    asset: str
    location: str
    channel: str
    priority: int


class RequestRated(NamedTuple):
    """The requester rates the closed request, 1 (bad) .. 5 (good)."""

    t: float
    wo: int
    rating: int


MAINTENANCE_EVENTS: tuple[type, ...] = (
    MachineFailed,
    AssetStopped,
    AssetStarted,
    WorkOrderCreated,
    WorkOrderCancelled,
    TechnicianAssigned,
    RepairStarted,
    RepairCompleted,
    MaintenanceDone,
    SensorReading,
    SensorAlarm,
    RepairRequested,
    RequestRated,
)


def maintenance_row(seq: int, kind: str, ev: Any) -> Row:
    """Maintenance events touch no stock counter: ``order`` is the work order, ``location`` the asset
    (or a sensor's target), ``item`` the technician or sensor, ``qty`` the main number, ``info`` the rest."""
    wo = getattr(ev, "wo", -1)
    if kind in ("SensorReading", "SensorAlarm"):
        info = ev.kind if kind == "SensorReading" else f"{ev.kind}:{ev.state}"
        return (seq, ev.t, kind, -1, ev.sensor, ev.target, -1, ev.value, 0.0, 0.0, 0.0, 0.0, info)
    if kind == "RequestRated":
        return (seq, ev.t, kind, wo, "", "", -1, float(ev.rating), 0.0, 0.0, 0.0, 0.0, "")
    asset = getattr(ev, "asset", "")
    tech = getattr(ev, "technician", "")
    if kind == "MachineFailed":
        qty, info = ev.age, ""
    elif kind in ("AssetStopped", "AssetStarted", "WorkOrderCancelled"):
        qty, info = 0.0, ev.reason
    elif kind == "WorkOrderCreated":
        qty, info = float(ev.priority), f"{ev.kind}:{ev.skill}:{ev.source}"
    elif kind == "TechnicianAssigned":
        qty, info = ev.travel, ""
    elif kind in ("RepairCompleted", "MaintenanceDone"):
        qty, info = ev.cost, f"labour={ev.labour_hours!r} age={ev.age!r}"
    elif kind == "RepairRequested":
        qty, info = float(ev.priority), f"{ev.channel}:{ev.location}"
    else:
        qty, info = 0.0, ""
    return (seq, ev.t, kind, wo, tech, asset, -1, qty, 0.0, 0.0, 0.0, 0.0, info)
