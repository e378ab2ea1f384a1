"""Maintenance policies (pure): when to open planned work orders, and who does which work order.

Every policy has ``decide(observation) -> [ScheduleMaintenance]`` (run every ``review`` hours, and
at once on the event types in ``subscribes``) and ``assign(dispatch_observation) ->
[AssignTechnician]`` (run whenever a work order waits and a technician is free). A failure always
opens a corrective work order (the engine does that); the policies differ in the planned work:

- ``reactive``: none (run to failure);
- ``preventive``: calendar (every ``interval`` since the last service) or usage based
  (every ``usage_interval`` usage units since the last service);
- ``condition_based``: when the latest reading of a signal reaches ``threshold``;
- ``predictive``: remaining useful life from the trend of the signal (least squares over the last
  ``window`` readings) extrapolated to ``failure_level``; maintain when it is under ``lead``.

Dispatch, shared by all: ``dispatch: greedy`` (priority, then oldest, each to the nearest free
technician with the skill; FCFS among equals) or ``dispatch: ortools`` (the same choice solved as
one assignment with CP-SAT: most work orders by priority, then least travel).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from policies.base import register
from twin.model.durations import Duration
from twin.model.maintenance import (
    AssignTechnician,
    DispatchObservation,
    MaintenanceObservation,
    ScheduleMaintenance,
)

__all__ = [
    "greedy_assignment",
    "ortools_assignment",
    "remaining_useful_life",
    "Reactive",
    "Preventive",
    "ConditionBased",
    "Predictive",
]


def greedy_assignment(obs: DispatchObservation) -> list[AssignTechnician]:
    """Work orders by priority then age; each goes to the nearest free technician with the skill."""
    free = list(obs.technicians)
    out: list[AssignTechnician] = []
    for wo in sorted(obs.work_orders, key=lambda w: (w.priority, w.created, w.wo)):
        best = None
        best_travel = 0.0
        for tech in free:
            if wo.skill not in tech.skills:
                continue
            travel = obs.travel_hours(wo, tech)
            if best is None or travel < best_travel:
                best, best_travel = tech, travel
        if best is not None:
            out.append(AssignTechnician(wo.wo, best.id))
            free.remove(best)
            if not free:
                break
    return out


def ortools_assignment(obs: DispatchObservation, time_limit: float = 1.0) -> list[AssignTechnician]:
    """The assignment as one CP-SAT model: maximise the work orders served, weighted so a more urgent
    one always wins over any number of less urgent ones' travel, then the older, then less travel.
    Falls back to the greedy rule when the solver finds no solution in time."""
    from ortools.sat.python import cp_model  # imported here: a solver only some scenarios need

    wos = list(obs.work_orders)
    techs = list(obs.technicians)
    pairs = [(i, j) for i, w in enumerate(wos) for j, t in enumerate(techs) if w.skill in t.skills]
    if not pairs:
        return []
    oldest = min(w.created for w in wos)
    model = cp_model.CpModel()
    x = {p: model.new_bool_var(f"x{p[0]}_{p[1]}") for p in pairs}
    for i in range(len(wos)):
        model.add(sum(x[p] for p in pairs if p[0] == i) <= 1)
    for j in range(len(techs)):
        model.add(sum(x[p] for p in pairs if p[1] == j) <= 1)
    # Integer weights (minutes): priority dominates, then waiting time, then travel.
    terms = []
    for i, j in pairs:
        w = wos[i]
        travel_min = int(round(obs.travel_hours(w, techs[j]) * 60))
        waited_min = int(round((w.created - oldest) * 60))
        weight = (4 - w.priority) * 10_000_000 - waited_min - travel_min
        terms.append(weight * x[(i, j)])
    model.maximize(sum(terms))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit
    solver.parameters.num_workers = 1  # deterministic
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return greedy_assignment(obs)
    return [AssignTechnician(wos[i].wo, techs[j].id) for (i, j) in pairs if solver.value(x[(i, j)])]


def remaining_useful_life(times: np.ndarray, values: np.ndarray, failure_level: float) -> float:
    """Hours until the least-squares trend of ``values`` reaches ``failure_level`` (inf if it does not
    rise; 0 if it is already there)."""
    if len(times) < 3:
        return float("inf")
    slope, intercept = np.polyfit(times - times[-1], values, 1)
    if intercept >= failure_level:
        return 0.0
    if slope <= 0:
        return float("inf")
    return float((failure_level - intercept) / slope)


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid")
    dispatch: Literal["greedy", "ortools"] = "greedy"
    review: Duration = Field("1d", description="how often planned work is considered")
    priority: int = Field(3, ge=1, le=3, description="priority of the planned work orders")


class _Base:
    policy_name = "maintenance"
    subscribes: tuple[str, ...] = ()
    wants_readings: tuple[str, ...] = ()  # sensor signals to read before each decision

    def __init__(self, params: _Params) -> None:
        self.params = params
        self.review: float | None = params.review

    def assign(self, obs: DispatchObservation) -> list[AssignTechnician]:
        if self.params.dispatch == "ortools":
            return ortools_assignment(obs)
        return greedy_assignment(obs)

    def decide(self, obs: MaintenanceObservation) -> list[ScheduleMaintenance]:
        return [ScheduleMaintenance(a.id, self.kind, self.params.priority, reason)
                for a in obs.assets
                if a.has_service and a.status == "running" and not a.open_work_order
                for reason in [self.due(a, obs)] if reason]

    kind = "preventive"

    def due(self, asset: object, obs: MaintenanceObservation) -> str:
        return ""


@register("reactive")
class Reactive(_Base):
    """Run to failure: no planned work; failures are repaired as they come."""

    Params = _Params

    def __init__(self, params: _Params) -> None:
        super().__init__(params)
        self.review = None

    def decide(self, obs: MaintenanceObservation) -> list[ScheduleMaintenance]:
        return []


class PreventiveParams(_Params):
    interval: Duration | None = Field(None, description="calendar: time between services")
    usage_interval: float | None = Field(None, gt=0, description="usage: usage units between services")

    @model_validator(mode="after")
    def _one_trigger(self) -> PreventiveParams:
        if self.interval is None and self.usage_interval is None:
            raise ValueError("preventive needs interval (calendar, e.g. '30d') or usage_interval (usage units)")
        return self


@register("preventive")
class Preventive(_Base):
    Params = PreventiveParams

    def __init__(self, params: PreventiveParams) -> None:
        super().__init__(params)
        self.p = params

    def due(self, asset: object, obs: MaintenanceObservation) -> str:
        a = asset  # AssetView
        if self.p.interval is not None and obs.now - a.last_service >= self.p.interval:  # type: ignore[attr-defined]
            return "calendar"
        if self.p.usage_interval is not None and a.usage_since_service >= self.p.usage_interval:  # type: ignore[attr-defined]
            return "usage"
        return ""


class ConditionParams(_Params):
    signal: str = "vibration"
    threshold: float = Field(description="maintain when the latest reading reaches this level")


@register("condition_based")
class ConditionBased(_Base):
    Params = ConditionParams
    kind = "condition"
    subscribes = ("SensorAlarm",)

    def __init__(self, params: ConditionParams) -> None:
        super().__init__(params)
        self.p = params
        self.wants_readings = (params.signal,)

    def due(self, asset: object, obs: MaintenanceObservation) -> str:
        series = obs.readings.get((asset.id, self.p.signal))  # type: ignore[attr-defined]
        if series and series[-1][1] >= self.p.threshold:
            return f"{self.p.signal}={series[-1][1]:.2f}"
        return ""


class PredictiveParams(_Params):
    signal: str = "vibration"
    failure_level: float = Field(description="signal level at which the asset is expected to fail")
    lead: Duration = Field("3d", description="maintain when the estimated remaining life is under this")
    window: int = Field(12, ge=3, description="readings in the trend fit")


@register("predictive")
class Predictive(_Base):
    Params = PredictiveParams
    kind = "predictive"

    def __init__(self, params: PredictiveParams) -> None:
        super().__init__(params)
        self.p = params
        self.wants_readings = (params.signal,)

    def due(self, asset: object, obs: MaintenanceObservation) -> str:
        series = obs.readings.get((asset.id, self.p.signal))  # type: ignore[attr-defined]
        if not series:
            return ""
        since = asset.last_service  # type: ignore[attr-defined]
        recent = [r for r in series[-self.p.window:] if r[0] > since]
        if len(recent) < 3:
            return ""
        arr = np.asarray(recent, dtype=float)
        rul = remaining_useful_life(arr[:, 0], arr[:, 1], self.p.failure_level)
        return f"rul={rul:.1f}h" if rul <= self.p.lead else ""
