"""Floor KPIs (issue 8), from the event log alone: the ``PickTravelled`` tours and the
``FloorMoved`` moves that start in the window.

- travel_distance_per_pick: metres walked per order line picked;
- picks_per_hour: order lines picked per hour a picker is busy (walking and handling);
- picker_travel_km, forklift_travel_km, agv_travel_km, technician_floor_travel_km: the distance
  each kind of agent covered on the floors (AGVs' trips to charge included), in km.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from twin.model.floor import FLOOR_KPI_NAMES
from twin.model.floor_events import MOVER_KINDS, FloorMoved, PickTravelled
from twin.model.scenario import Scenario

__all__ = ["has_floor", "floor_kpis", "FLOOR_KPI_NAMES"]

_KM_NAME = {"forklift": "forklift_travel_km", "agv": "agv_travel_km", "technician": "technician_floor_travel_km"}


def has_floor(scenario: Scenario) -> bool:
    return any(wh.floor is not None for wh in scenario.site.warehouses)


def floor_kpis(events: Iterable[Any], warmup: float, horizon: float) -> dict[str, float]:
    metres = hours = 0.0
    lines = 0
    moved = dict.fromkeys(MOVER_KINDS, 0.0)
    for ev in events:
        kind = type(ev)
        if kind is PickTravelled and warmup <= ev.t < horizon:
            metres += ev.distance_m
            hours += ev.duration
            lines += ev.lines
        elif kind is FloorMoved and warmup <= ev.t < horizon:
            moved[ev.kind] += ev.distance_m
    nan = float("nan")
    return {
        "travel_distance_per_pick": metres / lines if lines else nan,
        "picks_per_hour": lines / hours if hours > 0 else nan,
        "picker_travel_km": metres / 1000.0,
        **{_KM_NAME[k]: m / 1000.0 for k, m in moved.items()},
    }
