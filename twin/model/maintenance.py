"""What maintenance policies see and what they may ask for (pure data, no engine).

``MaintenanceObservation`` is a frozen view of the assets, their recent sensor readings and the open
work orders; ``DispatchObservation`` is the smaller view a dispatch rule needs (open work orders
waiting for a technician, technicians free now, travel times between them). Actions are
``ScheduleMaintenance`` (open a planned work order) and ``AssignTechnician``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from twin.model.assets import Asset
    from twin.model.maintenance_state import AssetStatus

__all__ = [
    "AssetView",
    "WorkOrderView",
    "TechnicianView",
    "MaintenanceObservation",
    "DispatchObservation",
    "ScheduleMaintenance",
    "AssignTechnician",
    "asset_view",
    "status_age",
]


@dataclass(frozen=True, slots=True)
class AssetView:
    id: str
    kind: str
    status: str  # running | failed | stopped
    age: float  # virtual operating hours since the last renewal (what maintenance resets)
    usage: float  # usage units since the start
    run_since_service: float  # operating hours since the last planned maintenance (or the start)
    usage_since_service: float
    last_service: float  # time of the last planned maintenance (0 = start)
    failures: int
    open_work_order: bool
    has_service: bool  # the asset has a planned maintenance task


@dataclass(frozen=True, slots=True)
class WorkOrderView:
    wo: int
    asset: str
    kind: str  # corrective | preventive | condition | predictive | request
    priority: int
    skill: str
    created: float
    position: tuple[float, float] | None


@dataclass(frozen=True, slots=True)
class TechnicianView:
    id: str
    skills: frozenset[str]
    position: tuple[float, float] | None
    speed: float


@dataclass(frozen=True)
class MaintenanceObservation:
    now: float
    assets: tuple[AssetView, ...]
    # (asset, signal) -> the readings delivered so far, oldest first, as (time, value) pairs
    readings: dict[tuple[str, str], tuple[tuple[float, float], ...]]
    open_work_orders: tuple[WorkOrderView, ...]
    rng: np.random.Generator | None = field(default=None, compare=False)


@dataclass(frozen=True)
class DispatchObservation:
    now: float
    work_orders: tuple[WorkOrderView, ...]  # waiting for a technician, oldest first
    technicians: tuple[TechnicianView, ...]  # free and on shift now

    def travel_hours(self, wo: WorkOrderView, tech: TechnicianView) -> float:
        """Straight-line travel time; zero when either position is unknown."""
        if wo.position is None or tech.position is None:
            return 0.0
        dx = wo.position[0] - tech.position[0]
        dy = wo.position[1] - tech.position[1]
        return float((dx * dx + dy * dy) ** 0.5 / tech.speed)


@dataclass(frozen=True, slots=True)
class ScheduleMaintenance:
    """Open a planned work order on an asset (its service task)."""

    asset: str
    kind: str = "preventive"  # preventive | condition | predictive
    priority: int = 3
    reason: str = ""


@dataclass(frozen=True, slots=True)
class AssignTechnician:
    work_order: int
    technician: str


def status_age(st: AssetStatus, now: float) -> float:
    """An asset's virtual age at ``now`` as the operational state knows it: its age when its status
    last changed, plus the hours it has run since (a failed or stopped asset does not age)."""
    return st.age + (max(now - st.since, 0.0) if st.status == "running" else 0.0)


def asset_view(spec: Asset, st: AssetStatus, now: float, age: float, run_hours: float | None,
               open_work_order: bool | None = None) -> AssetView:
    """What a maintenance policy sees of one asset at ``now``: ``st`` is its operational status,
    ``age`` its virtual age, ``run_hours`` a production machine's hours processing (None for any
    other asset: its usage is its operating hours)."""
    operated = st.operated + (now - st.since if st.status == "running" else 0.0)
    rate = spec.usage_per_hour
    if run_hours is not None:  # a production machine is used while it processes, not idle
        used, used_since_service = run_hours, run_hours - st.usage_at_service
    else:
        used, used_since_service = operated, operated - st.run_at_service
    has_open = bool(st.open_work_orders) if open_work_order is None else open_work_order
    return AssetView(spec.id, spec.kind, st.status, age, used * rate, operated - st.run_at_service,
                     used_since_service * rate, st.last_service, st.failures, has_open, spec.service is not None)
