"""What the fleet's dispatch policy sees and returns (pure data).

``FleetObservation`` is a frozen view at ``now``: the network's nodes with integer shortest-path
distances (metres) and travel times (minutes, at the current hour's congestion, closed roads
avoided; ``-1`` where no open road leads), the consignments waiting at the warehouses, and the
vehicles, with what those under way carry and where they head next. ``DispatchRoute`` sends one
idle vehicle from its warehouse with consignments in order; ``DivertVehicle`` sends a vehicle (under
way, or idle at another warehouse) to load an urgent consignment at a warehouse and deliver it next.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["ConsignmentView", "VehicleView", "FleetObservation", "DispatchRoute", "DivertVehicle"]


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
    depot: str = ""  # its home warehouse
    heading: str | None = None  # under way and free to be diverted: the node it drives to now
    free_at: float = 0.0  # when it is done there (arrival and unloading), hours
    stops: tuple[int, ...] = ()  # consignments on board still to deliver after that node, in order
    load_weight: float = 0.0  # kg on board after that node
    load_volume: float = 0.0  # m3 on board after that node
    load_minutes: float = 0.0  # time at a dock to load


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
    carried: tuple[ConsignmentView, ...] = ()  # on board of vehicles under way


@dataclass(frozen=True, slots=True)
class DispatchRoute:
    """Send ``vehicle`` (idle at a warehouse) to deliver ``consignments`` in this order."""

    vehicle: str
    consignments: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class DivertVehicle:
    """Send ``vehicle`` to ``warehouse`` to load the waiting ``consignment`` and deliver it next, then
    the consignments still on board in the order ``stops``. A vehicle under way goes once it is done
    at the node it is heading to; an idle one leaves its depot at once."""

    vehicle: str
    consignment: int
    warehouse: str
    stops: tuple[int, ...] = ()
