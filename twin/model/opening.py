"""What is under way when a run starts (issue 7, point 5): a forecast forked from the live site
starts with the site's open purchase orders, backorders, machines under repair (with the repair
work already done) and vehicles under way with the consignments on board, not afresh.

``Scenario.opening`` holds it; ``twin.live_forecast`` fills it from the live state and
``twin.sim.opening`` sets the run going from it. ``at`` is when the run starts in site time
(hours since the site's Monday 00:00 epoch, as the live clock counts them): the simulation's clock
starts there, so delivery windows, shifts, congestion by hour and weekly demand read the real time
of day and week. Every other time here counts from the start of the run.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BeforeValidator, Field, PlainSerializer

from twin.model.durations import parse_duration
from twin.model.site import Strict

__all__ = ["OpenPurchaseOrder", "OpenBackorder", "AssetDown", "OpenConsignment", "VehicleUnderWay", "Opening"]


def _site_hours(hours: float) -> str:
    """Hours as a duration to the microhour, with no exponent (``Duration`` keeps 6 digits: a site
    clock of thousands of hours would lose its minutes)."""
    return (f"{hours:.6f}".rstrip("0").rstrip(".") or "0") + "h"


SiteTime = Annotated[float, BeforeValidator(parse_duration), PlainSerializer(_site_hours, return_type=str)]


class OpenPurchaseOrder(Strict):
    """Units ordered and not yet received: they arrive ``due`` hours after the start (0: overdue, so
    as soon as the supplier can ship; a supplier outage in the run holds them like any order)."""

    po: int = Field(description="the purchase order's number at the site")
    item: str
    location: str
    supplier: str
    qty: float = Field(gt=0, description="units still to come")
    due: float = Field(ge=0, description="hours from the start")


class OpenBackorder(Strict):
    """Units a customer order waits for: served first when stock comes (oldest first, in list order)."""

    order: int = Field(description="the customer order's number at the site")
    item: str
    location: str
    qty: float = Field(gt=0)


class AssetDown(Strict):
    """A machine failed or under repair at the start. Its repair goes on with the run: a technician
    is sent, and the repair takes what is left of it once ``repair_done`` hours are behind it."""

    asset: str
    repair_done: float = Field(0.0, ge=0, description="hours of repair work already done (since the "
                               "work order's repair started); 0: not started")


class OpenConsignment(Strict):
    """Goods shipped for a network node and not delivered yet: waiting at the dock of ``origin``, or
    on board a vehicle under way (named in its ``stops``). They left the stock before the start."""

    consignment: int = Field(description="the consignment's number at the site")
    order: int = Field(description="the customer order it delivers")
    origin: str = Field(description="the warehouse it was shipped from")
    destination: str = Field(description="the network node it goes to")
    weight: float = Field(ge=0, description="kg")
    volume: float = Field(0.0, ge=0, description="m3")
    priority: int = Field(2, ge=1)
    due: float = Field(description="hours from the start (negative: already late)")


class VehicleUnderWay(Strict):
    """A vehicle on a trip at the start: it reached ``at`` last, heads to ``next`` (the destination of
    its first stop, or its depot when all are delivered) and gets there ``eta`` hours after the start;
    then it delivers ``stops`` in order and returns to its depot."""

    vehicle: str
    trip: int = Field(description="the trip's number at the site")
    at: str = Field(description="the network node it reached last (the warehouse it left from)")
    next: str = Field(description="the network node it heads to")
    eta: float = Field(ge=0, description="hours from the start until it is at next")
    stops: list[int] = Field(default_factory=list, description="consignments on board, in delivery order")


class Opening(Strict):
    at: SiteTime = Field(0.0, ge=0, validate_default=False,
                         description="when the run starts, in site time: hours since the site's Monday 00:00 "
                         "epoch (e.g. 62h: Wednesday 14:00); 0: a Monday 00:00")
    purchase_orders: list[OpenPurchaseOrder] = Field(default_factory=list)
    backorders: list[OpenBackorder] = Field(default_factory=list)
    assets_down: list[AssetDown] = Field(default_factory=list)
    consignments: list[OpenConsignment] = Field(default_factory=list)
    vehicles: list[VehicleUnderWay] = Field(default_factory=list)
