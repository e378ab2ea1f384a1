"""Transport as typed data (issue 5): the network of nodes and roads, vehicles, crews and escorts,
and emergency orders from demand points.

A site names them in optional fields (``network``, ``vehicles``, ``crews``, ``emergencies``); a
site without a network runs exactly as before. Warehouses that ship by vehicle are network nodes
with the warehouse's id; a demand stream (or procedure) whose ``customer`` is a network node has its
shipments delivered there by the fleet.

Distances are in km, speeds in km/h, weights in kg, volumes in m3, durations carry units.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from twin.model.assets import DurationLaw, FailureLaw, Shift
from twin.model.durations import Duration

__all__ = [
    "TimeWindow",
    "NetNode",
    "Road",
    "DistanceMatrix",
    "DepotSource",
    "Network",
    "Reefer",
    "Vehicle",
    "Crew",
    "EmergencyOrders",
    "FLEET_KPI_NAMES",
    "haversine_km",
]

FLEET_KPI_NAMES: tuple[str, ...] = (
    "on_time_in_full",
    "emergency_response_time",
    *(f"delivery_time_p{p}" for p in (1, 2, 3)),
    "vehicle_km",
    "vehicle_utilization",
    "transport_cost",
    "late_deliveries",
    "unserved_deliveries",
    "cold_chain_excursions",
)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class TimeWindow(Strict):
    """A daily receiving window (time of day): deliveries arriving outside it wait for it to open."""

    open: Duration = "0h"
    close: Duration = "24h"

    @model_validator(mode="after")
    def _order(self) -> TimeWindow:
        if self.close <= self.open:
            raise ValueError(f"time window ends ({self.close:g}h) before it starts ({self.open:g}h); "
                             "give close later than open, e.g. {open: 8h, close: 17h}")
        if self.close > 24:
            raise ValueError("a daily time window closes at 24h at the latest")
        return self


class NetNode(Strict):
    id: str = Field(min_length=1)
    kind: Literal["depot", "warehouse", "demand", "supplier", "junction"] = "demand"
    position: tuple[float, float] | None = Field(
        None, description="x, y in km (coordinates: planar) or latitude, longitude in degrees (latlon)")
    window: TimeWindow | None = None
    service_time: Duration = Field("10min", description="unloading time at the node")
    priority: int = Field(2, ge=1, le=3, description="priority of its deliveries: 1 urgent .. 3 low")
    due_within: Duration = Field("24h", description="promised time from order to delivery")


class Road(Strict):
    between: tuple[str, str]
    distance: float | None = Field(None, gt=0, description="km; default: from the coordinates x circuity")
    one_way: bool = False


class DistanceMatrix(Strict):
    nodes: list[str] = Field(min_length=1)
    km: list[list[float | None]] = Field(description="row i, column j: km from nodes[i] to nodes[j]; null = no road")

    @model_validator(mode="after")
    def _square(self) -> DistanceMatrix:
        n = len(self.nodes)
        if len(self.km) != n or any(len(r) != n for r in self.km):
            raise ValueError(f"km must be a {n}x{n} matrix (one row and column per node)")
        if any(v is not None and v < 0 for r in self.km for v in r):
            raise ValueError("distances must be non-negative (null for no road)")
        return self


class DepotSource(Strict):
    """A warehouse replenished from another warehouse over the network: when its inventory policy
    orders one of ``items`` (the item's own supplier not named), the order is a transfer from
    ``source``, picked there and carried by a vehicle based there (``TransferShipped`` /
    ``TransferReceived``) instead of a purchase order."""

    warehouse: str = Field(min_length=1, description="the depot replenished (a network node)")
    source: str = Field(min_length=1, description="the warehouse that ships to it (a network node with vehicles)")
    items: list[str] = Field(default_factory=list, description="items sourced there; empty = every item "
                             "both warehouses stock")
    priority: int = Field(2, ge=1, le=3, description="priority of the transfer's consignments")
    due_within: Duration = Field("24h", description="time from shipping to the transfer's due arrival")


class Network(Strict):
    coordinates: Literal["planar", "latlon"] = "planar"
    nodes: list[NetNode] = Field(min_length=1)
    roads: list[Road] = Field(default_factory=list, description="empty: every pair of nodes is linked directly")
    matrix: DistanceMatrix | None = Field(None, description="explicit distances instead of coordinates")
    circuity: float = Field(1.0, ge=1.0, description="road km per straight-line km")
    congestion: list[float] | None = Field(
        None, description="24 travel-time factors, one per hour of the day (1 = free flow)")
    sources: list[DepotSource] = Field(default_factory=list, description="depots replenished from another "
                                       "warehouse by transfers the fleet carries")

    @model_validator(mode="after")
    def _shape(self) -> Network:
        if self.congestion is not None and (len(self.congestion) != 24 or min(self.congestion) <= 0):
            raise ValueError("congestion must be 24 positive factors, one per hour of the day")
        if self.matrix is None:
            missing = [n.id for n in self.nodes if n.position is None]
            if missing:
                raise ValueError(f"nodes {missing} have no position; give positions or a distance matrix")
        return self


class Reefer(Strict):
    """A refrigerated body: its cooling fails by a failure law; cold cargo spoils once the unit has
    been down ``spoil_after`` (the cold chain's one excursion rule; a temperature sensor on the
    vehicle with an ``excursion`` decides instead, from its readings, as in a cold store)."""

    failure: FailureLaw
    spoil_after: Duration = "2h"
    storage: str = Field("cold", description="storage class it protects")


class Vehicle(Strict):
    id: str = Field(min_length=1)
    kind: Literal["truck", "van", "reefer", "drone"] = "truck"
    count: int = Field(1, ge=1, description="identical vehicles (ids id-1, id-2, ...)")
    depot: str = Field(description="the warehouse it is based at (a network node)")
    capacity_weight: float = Field(gt=0, description="kg")
    capacity_volume: float | None = Field(None, gt=0, description="m3; none = volume does not limit")
    speed: float = Field(60.0, gt=0, description="km/h in free flow")
    cost_per_km: float = Field(0.0, ge=0)
    cost_per_hour: float = Field(0.0, ge=0)
    shifts: list[Shift] = Field(default_factory=list, description="when it may leave; empty = any time")
    failure: FailureLaw | None = Field(None, description="breakdowns, in driving hours")
    repair: DurationLaw = DurationLaw(dist="fixed", mean="3h")
    range_km: float | None = Field(None, gt=0, description="km on a full tank; none = never refuels")
    fuel_per_km: float = Field(0.35, gt=0, description="litres per km (a full tank is range_km x fuel_per_km)")
    refuel_below: float = Field(0.0, ge=0, lt=1, description="refuel before a trip once the tank is below this "
                                "share (it always refuels when the trip would run it dry)")
    refuel_time: Duration = "30min"
    load_time: Duration = Field("20min", description="time at a dock to load a trip")
    needs_escort: bool = False
    qualification: str | None = Field(None, description="qualification its driver needs (e.g. 'hazmat')")
    reefer: Reefer | None = None


class Crew(Strict):
    id: str = Field(min_length=1)
    role: Literal["driver", "escort"] = "driver"
    count: int = Field(1, ge=1)
    qualifications: list[str] = Field(default_factory=list)


class EmergencyOrders(Strict):
    """Urgent orders from demand points (Poisson): served from the demand point's own warehouse when
    it holds the stock, else from the nearest warehouse (by travel time) holding it."""

    per_day: float = Field(gt=0)
    nodes: list[str] = Field(min_length=1, description="demand points that raise them")
    items: dict[str, float] = Field(min_length=1, description="item id -> units per emergency order")
    priority: int = Field(1, ge=1, le=3)
    due_within: Duration = "4h"


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance between two (latitude, longitude) points in km."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(min(1.0, h)))
