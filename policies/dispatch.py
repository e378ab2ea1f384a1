"""Dispatch policies (pure) for the fleet: each wave, per warehouse, the routing problem of its
waiting consignments and idle vehicles (``decide(FleetObservation)``), solved by OR-Tools (``vrp``)
or the nearest-feasible heuristic (``nearest``); the solvers are in ``policies.routing`` and are
re-exported here.

An urgent consignment that no idle vehicle at its warehouse can take is not left to wait for the
next one back: ``divert_for_emergencies`` (``policies.dispatch_emergency``) sends the vehicle that
can deliver it soonest to load it and deliver it next; ``source_emergency`` picks the warehouse an
emergency order is served from (its own when it holds the stock, else the nearest holding it by
travel time).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from policies.base import register
from policies.dispatch_emergency import divert_for_emergencies, emergency_source, resequence
from policies.routing import (
    UNREACHABLE,
    RoutingInputError,
    RoutingProblem,
    RoutingResult,
    cvrp_problem,
    nearest_feasible,
    solve_cvrp,
    solve_routing,
)
from twin.model.durations import Duration
from twin.model.fleet_actions import DispatchRoute, DivertVehicle, FleetObservation

__all__ = [
    "UNREACHABLE",
    "RoutingInputError",
    "RoutingProblem",
    "RoutingResult",
    "solve_routing",
    "nearest_feasible",
    "solve_cvrp",
    "cvrp_problem",
    "VrpDispatch",
    "NearestDispatch",
    "divert_for_emergencies",
    "emergency_source",
    "resequence",
]

# -- the fleet's dispatch policies ---------------------------------------------------------------


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

    every: Duration = Field("1h", description="how often waiting consignments are dispatched (a wave)")
    dispatch_at_once: bool = Field(True, description="also dispatch at once when an emergency order is ready")
    divert: bool = Field(True, description="send the soonest vehicle under way or idle elsewhere to an "
                         "urgent consignment no idle vehicle at its warehouse can take")


def _up(x: float) -> int:
    """Loads round up (kg, litres), capacities down: an integer plan never overloads a vehicle."""
    return int(math.ceil(x - 1e-9))


def _down(x: float) -> int:
    return int(math.floor(min(x, 1e12) + 1e-9))  # an unconstrained dimension is +inf


class _FleetPolicy:
    """Shared: per warehouse, build the routing problem of its waiting consignments and idle
    vehicles, solve it, and turn the routes into ``DispatchRoute`` actions."""

    review: float | None
    subscribes: tuple[str, ...] = ("emergency",)

    def __init__(self, params: Any) -> None:
        self.params = params
        self.review = params.every

    def _solve(self, problem: RoutingProblem) -> RoutingResult:  # pragma: no cover - overridden
        raise NotImplementedError

    def source_emergency(self, node: str, lines: Sequence[tuple[str, float]], own: str | None,
                         free: Mapping[tuple[str, str], float], travel_minutes: np.ndarray,
                         node_index: Mapping[str, int]) -> str | None:
        """The warehouse an emergency order is placed at (see ``emergency_source``)."""
        return emergency_source(node, lines, own, free, travel_minutes, node_index)

    def decide(self, obs: FleetObservation) -> list[DispatchRoute | DivertVehicle]:
        out: list[DispatchRoute] = []
        for origin in sorted({c.origin for c in obs.consignments}):
            waiting = [c for c in obs.consignments if c.origin == origin]
            vehicles = [v for v in obs.vehicles if v.at == origin and v.idle]
            if not vehicles or not waiting:
                continue
            nodes = [origin, *[c.destination for c in waiting]]
            idx = [obs.node_index[n] for n in nodes]
            dist = obs.distance[np.ix_(idx, idx)]
            tmat = obs.travel_minutes[np.ix_(idx, idx)]
            now_min = int(obs.now * 60)
            horizon = now_min + 14 * 24 * 60
            # A due time that can no longer be met is not a reason to leave the goods at the dock: the
            # window stays open (the delivery is late either way, which the KPIs count).
            windows = [(now_min, now_min + 7 * 24 * 60)] + [
                (max(now_min, int(c.window[0] * 60)),
                 int(c.window[1] * 60) if int(c.window[1] * 60) >= now_min + max(int(tmat[0, k]), 0) else horizon)
                for k, c in enumerate(waiting, start=1)]
            problem = RoutingProblem(
                distance=dist,
                demand=np.array([[0, 0]] + [[_up(c.weight), _up(c.volume * 1000)] for c in waiting], dtype=np.int64),
                capacity=np.array([[_down(v.capacity_weight), _down(v.capacity_volume * 1000)] for v in vehicles],
                                  dtype=np.int64),
                depot=0,
                time=tmat,
                windows=[(a, max(a, b)) for a, b in windows],
                service=[0] + [int(c.service_minutes) for c in waiting],
                start=[now_min] * len(vehicles),
                horizon=horizon,
                priority=[1] + [c.priority for c in waiting],
            )
            result = self._solve(problem)
            for v, route in zip(vehicles, result.routes, strict=False):
                if route:
                    out.append(DispatchRoute(v.id, tuple(waiting[i - 1].id for i in route)))
        if getattr(self.params, "divert", False):
            routed = {c for a in out for c in a.consignments}
            busy = {a.vehicle for a in out}
            return [*out, *divert_for_emergencies(obs, routed, busy)]
        return list(out)


@register("vrp")
class VrpDispatch(_FleetPolicy):
    """OR-Tools routing (capacity in weight and volume, time windows as soft deadlines turned hard
    where they can be met, priorities as drop penalties) for each wave."""

    class Params(_Params):
        solutions: int = Field(300, ge=1, description="solutions the search may visit per wave and warehouse "
                               "(a deterministic limit: the same seed gives the same routes)")
        time_limit: Duration = Field("10s", description="safety cap on solver time per wave and warehouse; "
                                     "a run that hits it is no longer reproducible")
        first_solution: Literal["PATH_CHEAPEST_ARC", "SAVINGS", "PARALLEL_CHEAPEST_INSERTION"] = "PATH_CHEAPEST_ARC"

    def _solve(self, problem: RoutingProblem) -> RoutingResult:
        # Durations are in hours inside the twin; the solver wants seconds.
        return solve_routing(problem, time_limit=self.params.time_limit * 3600.0,
                             first_solution=self.params.first_solution, solution_limit=self.params.solutions)


@register("nearest")
class NearestDispatch(_FleetPolicy):
    """The nearest-feasible heuristic for each wave (the baseline to compare the solver with)."""

    class Params(_Params):
        pass

    def _solve(self, problem: RoutingProblem) -> RoutingResult:
        return nearest_feasible(problem)
