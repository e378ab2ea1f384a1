"""What the fleet's dispatch policy sees and returns (pure data).

``FleetObservation`` is a frozen view at ``now``: the network's nodes with integer shortest-path
distances (metres) and travel times (minutes, at the current hour's congestion, closed roads
avoided; ``-1`` where no open road leads), the consignments waiting at the warehouses, and the
vehicles. ``DispatchRoute`` sends one idle vehicle from its warehouse with consignments in order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["ConsignmentView", "VehicleView", "FleetObservation", "DispatchRoute"]


@dataclass(frozen=True)
class ConsignmentView:
    id: int
    order: int
    origin: str  # the warehouse it waits at
    destination: str  # the node it goes to
    weight: float  # kg
    volume: float  # m3
    priority: int  # 1 emergency .. 3 low
    window: tuple[float, float]  # delivery window, hours from the start
    service_minutes: float  # unloading time at the destination
    ready: float  # when it was ready at the dock


@dataclass(frozen=True)
class VehicleView:
    id: str
    kind: str
    at: str  # the node it is at (its depot warehouse while idle)
    idle: bool
    capacity_weight: float
    capacity_volume: float  # +inf when volume does not limit it
    speed: float  # km/h


@dataclass(frozen=True)
class FleetObservation:
    now: float
    nodes: tuple[str, ...]
    node_index: dict[str, int]
    distance: np.ndarray  # metres, int64; -1 = no open road
    travel_minutes: np.ndarray  # int64; -1 = no open road
    consignments: tuple[ConsignmentView, ...]
    vehicles: tuple[VehicleView, ...]
    closed_roads: frozenset[tuple[str, str]] = frozenset()


@dataclass(frozen=True, slots=True)
class DispatchRoute:
    """Send ``vehicle`` (idle at a warehouse) to deliver ``consignments`` in this order."""

    vehicle: str
    consignments: tuple[int, ...]
