"""Site structure as typed data: items, warehouses, suppliers, demand streams, procedures.

Everything here is validated the moment a file is loaded; nothing downstream reads raw YAML.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from twin.model.assets import Asset, RepairRequests, Sensor, Technician
from twin.model.durations import Duration
from twin.model.floor import FloorSpec
from twin.model.network import Crew, EmergencyOrders, Network, Vehicle
from twin.model.production import ProductionSpec

__all__ = [
    "Strict",
    "Item",
    "ScannerSpec",
    "InspectionSpec",
    "Warehouse",
    "LeadTime",
    "PartialDelivery",
    "Supplier",
    "DemandStream",
    "Procedure",
    "Customer",
    "Site",
]


class Strict(BaseModel):
    """Base of every file model: unknown keys are an error (a typo must not be silently ignored)."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class Item(Strict):
    id: str = Field(min_length=1)
    name: str | None = None
    unit_cost: float = Field(ge=0, description="purchase cost per unit")
    holding_rate: float = Field(0.25, ge=0, description="holding cost per year as a fraction of unit cost")
    holding_cost: float | None = Field(
        None, ge=0, description="holding cost per unit per day; overrides holding_rate when given"
    )
    backorder_cost: float | None = Field(
        None, ge=0, description="shortage cost per unit per day on backorder (default: unit cost / 10)"
    )
    lost_sale_cost: float | None = Field(None, ge=0, description="cost per unit of lost sale (default: unit cost)")
    order_cost: float | None = Field(None, ge=0, description="fixed cost per purchase order (default: supplier's)")
    shelf_life: Duration | None = Field(None, description="time from receipt to expiry; none = does not expire")
    storage: str = Field("ambient", description="storage class: ambient, cold, frozen, controlled, ...")
    item_class: str | None = Field(None, alias="class", description="ABC class if fixed by the site (A, B, C)")
    category: str | None = None
    unmet: Literal["backorder", "lost_sale"] = "backorder"
    supplier: str | None = Field(None, description="supplier id; default: the first supplier that lists the item")
    return_rate: float = Field(0.0, ge=0, le=1, description="fraction of shipped units returned")
    weight: float = Field(1.0, ge=0, description="kg per unit (vehicle loads)")
    volume: float = Field(0.0, ge=0, description="m3 per unit (vehicle loads)")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, validate_default=True)


class ScannerSpec(Strict):
    technology: Literal["barcode", "rfid"] = "barcode"
    misread_rate: float = Field(0.0, ge=0, le=1, description="chance a scan records the wrong quantity")
    missed_read_rate: float = Field(0.0, ge=0, le=1, description="chance a scan is not recorded at all")
    count_time_per_unit: Duration = Field("2s", description="barcode: time to count one unit")
    count_time_per_location: Duration = Field("30s", description="time to reach and read one bin")


class InspectionSpec(Strict):
    fraction: float = Field(0.0, ge=0, le=1, description="share of receipts held for quality inspection")
    duration: Duration = "1d"
    reject_rate: float = Field(0.0, ge=0, le=1, description="share of inspected lots scrapped")


class Warehouse(Strict):
    id: str = Field(min_length=1)
    name: str | None = None
    position: tuple[float, float] | None = None
    docks: int = Field(2, ge=1)
    pickers: int = Field(4, ge=1)
    counters: int = Field(1, ge=0, description="staff doing cycle counts")
    receive_time: Duration = Field("20min", description="dock time per receipt")
    putaway_time: Duration = Field("10min", description="put-away time per receipt")
    pick_time_per_order: Duration = "2min"
    pick_time_per_line: Duration = "1min"
    ship_time: Duration = Field("0s", description="time from picked to shipped")
    return_delay: Duration = Field("2d", description="time from shipment to return of returned units")
    inspection: InspectionSpec = InspectionSpec()
    scanner: ScannerSpec = ScannerSpec()
    initial_stock: dict[str, float] | Literal["policy"] = Field(
        "policy", description="units on hand at the start per item, or 'policy' to start at the policy's target"
    )
    # Floor (issue 8): see twin.model.floor. A warehouse without a floor picks as before.
    floor: FloorSpec | None = Field(None, description="floor grid: racks, aisles, docks; picks walk it")


class LeadTime(Strict):
    dist: Literal["fixed", "gamma", "lognormal"] = "fixed"
    mean: Duration
    cv: float = Field(0.0, ge=0, description="coefficient of variation (gamma, lognormal)")

    @model_validator(mode="after")
    def _cv_needed(self) -> LeadTime:
        if self.dist != "fixed" and self.cv <= 0:
            raise ValueError(f"a {self.dist} lead time needs cv > 0 (or use dist: fixed)")
        return self


class PartialDelivery(Strict):
    probability: float = Field(0.0, ge=0, le=1)
    fraction: float = Field(0.5, gt=0, lt=1, description="share delivered first; the rest follows")
    rest_after: Duration = "3d"


class Supplier(Strict):
    id: str = Field(min_length=1)
    name: str | None = None
    lead_time: LeadTime
    on_time: float = Field(1.0, ge=0, le=1, description="probability a delivery is on time")
    late_by: LeadTime | None = Field(None, description="extra delay of a late delivery (default: half the lead time)")
    partial: PartialDelivery = PartialDelivery()
    order_cost: float = Field(0.0, ge=0)
    transit_time: Duration = Field("0s", description="part of the lead time the goods spend in transit")
    items: list[str] = Field(default_factory=list, description="item ids supplied; empty = items that name it")


class DemandStream(Strict):
    item: str
    location: str
    customer: str = Field("customers", description="who orders: a ward, a store, a route")
    dist: Literal["poisson", "negbin", "normal", "empirical"] = "poisson"
    mean: float | None = Field(None, ge=0, description="mean units per 'per' period")
    sd: float | None = Field(None, ge=0, description="standard deviation per period (negbin, normal)")
    per: Duration = "1d"
    history: str | None = Field(None, description="CSV of daily history (date,qty) for dist: empirical")
    line_size: int = Field(1, ge=1, description="units per order line")
    weekly: list[float] | None = Field(None, description="seven day-of-week factors, Monday first")
    trend: float = Field(0.0, description="relative growth per year, e.g. 0.1 = +10%/year")

    @model_validator(mode="after")
    def _parameters(self) -> DemandStream:
        if self.dist == "empirical":
            if not self.history:
                raise ValueError("dist: empirical needs 'history', a CSV file of daily quantities")
        elif self.mean is None:
            raise ValueError(f"dist: {self.dist} needs 'mean'")
        if self.dist == "negbin":
            if self.sd is None or self.mean is None or self.sd**2 <= self.mean:
                raise ValueError("dist: negbin needs sd with sd^2 > mean (over-dispersed); use poisson otherwise")
        if self.dist == "normal" and self.sd is None:
            raise ValueError("dist: normal needs 'sd'")
        if self.weekly is not None and (len(self.weekly) != 7 or min(self.weekly) < 0):
            raise ValueError("weekly must be 7 non-negative factors, Monday first")
        return self


class Procedure(Strict):
    """A procedure (e.g. a surgery) that consumes a kit: a bill of consumables, ordered as one order."""

    id: str
    location: str
    customer: str = "theatres"
    kit: dict[str, float] = Field(min_length=1, description="item id -> units per procedure")
    per_day: float = Field(ge=0, description="mean procedures per day (Poisson)")
    weekly: list[float] | None = Field(None, description="seven day-of-week factors, Monday first")

    @model_validator(mode="after")
    def _kit(self) -> Procedure:
        if any(q <= 0 for q in self.kit.values()):
            raise ValueError("kit quantities must be positive")
        if self.weekly is not None and (len(self.weekly) != 7 or min(self.weekly) < 0):
            raise ValueError("weekly must be 7 non-negative factors, Monday first")
        return self


class Customer(Strict):
    """Who orders from a warehouse. With ``order_every``, their lines are gathered into one
    requisition per period (a ward's daily top-up), placed at the end of the period."""

    id: str
    order_every: Duration | None = None


class Site(Strict):
    name: str
    description: str | None = None
    items: list[Item] = Field(min_length=1)
    warehouses: list[Warehouse] = Field(min_length=1)
    suppliers: list[Supplier] = Field(min_length=1)
    demand: list[DemandStream] = Field(default_factory=list)
    procedures: list[Procedure] = Field(default_factory=list)
    customers: list[Customer] = Field(default_factory=list)
    # Maintenance (issue 4): see twin.model.assets. A site without assets runs as before.
    assets: list[Asset] = Field(default_factory=list)
    technicians: list[Technician] = Field(default_factory=list)
    sensors: list[Sensor] = Field(default_factory=list)
    repair_requests: RepairRequests | None = None
    # Production (issue 3): see twin.model.production. A site without it runs as before.
    production: ProductionSpec | None = None
    # Transport (issue 5): see twin.model.network. A site without a network runs as before.
    network: Network | None = None
    vehicles: list[Vehicle] = Field(default_factory=list)
    crews: list[Crew] = Field(default_factory=list)
    emergencies: EmergencyOrders | None = None
