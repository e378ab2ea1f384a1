"""Floor KPIs (issue 8), from the event log alone: the ``PickTravelled`` tours in the window.

- travel_distance_per_pick: metres walked per order line picked;
- picks_per_hour: order lines picked per hour a picker is busy (walking and handling).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from twin.model.floor import FLOOR_KPI_NAMES
from twin.model.floor_events import PickTravelled
from twin.model.scenario import Scenario

__all__ = ["has_floor", "floor_kpis", "FLOOR_KPI_NAMES"]


def has_floor(scenario: Scenario) -> bool:
    return any(wh.floor is not None for wh in scenario.site.warehouses)


def floor_kpis(events: Iterable[Any], warmup: float, horizon: float) -> dict[str, float]:
    metres = hours = 0.0
    lines = 0
    for ev in events:
        if type(ev) is PickTravelled and warmup <= ev.t < horizon:
            metres += ev.distance_m
            hours += ev.duration
            lines += ev.lines
    nan = float("nan")
    return {
        "travel_distance_per_pick": metres / lines if lines else nan,
        "picks_per_hour": lines / hours if hours > 0 else nan,
    }
