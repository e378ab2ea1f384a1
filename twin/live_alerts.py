"""Reported vs expected (issue 7, point 4): the discrepancies the live twin raises alerts for.

As each site event is applied, the twin compares what the site reports with what it expects:

- ``stock_count``: a cycle count (``StockCounted.counted``) against the twin's own book stock on hand
  of that SKU just before the count; alert when they differ by more than ``count_units`` and more than
  ``count_share`` of the book;
- ``temperature``: a temperature ``SensorReading`` against the sensor's set point (``nominal`` in the
  site file); alert when it is more than ``temperature`` away, once per excursion (the next alert
  for that sensor needs a reading back inside the band first);
- ``arrival``: a receipt (``GoodsReceived`` of an open purchase order) against the order's due
  time; alert when it comes more than ``arrival_hours`` late or early;
- ``overdue_po``: an open purchase order still not received ``overdue_hours`` after its due time,
  by the site clock (the time of the latest event): alerted once, before the goods come at all.

Each alert is a ``DiscrepancyRaised`` event, stored and applied through the reducer like any other
(see ``LiveTwin``), with an id made from the id of the event that showed it, so a restart, which
replays the store through the same checks, finds the alert already stored and raises nothing twice.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from twin.model import events as E
from twin.model.scenario import Scenario
from twin.model.state import State

__all__ = ["AlertThresholds", "AlertPlaces", "DiscrepancyModel", "parse_thresholds"]


class AlertThresholds(BaseModel):
    """How far a report may be from the twin's expectation before it is an alert."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    count_units: float = Field(2.0, ge=0, description="stock count: units off the book always tolerated")
    count_share: float = Field(0.05, ge=0, description="stock count: share of the book tolerated")
    temperature: float = Field(2.0, gt=0, description="degrees from the sensor's set point (nominal)")
    arrival_hours: float = Field(24.0, gt=0, description="hours a receipt may be off its purchase order's due")
    overdue_hours: float = Field(24.0, gt=0, description="hours past due before an open purchase order "
                                 "is alerted as overdue")


Found = list[tuple[str, E.DiscrepancyRaised]]  # (alert id, alert)


class DiscrepancyModel:
    """Compares each applied site event with the state it is applied to (see the module docstring)."""

    def __init__(self, scenario: Scenario, thresholds: AlertThresholds) -> None:
        self.thresholds = thresholds
        self.set_points = {s.id: s.nominal for s in scenario.site.sensors if s.kind == "temperature"}
        self.places = AlertPlaces(scenario)
        self._outside: set[str] = set()  # temperature sensors in an alerted excursion
        self._overdue: set[int] = set()  # purchase orders already alerted as overdue
        self._next_due = math.inf  # earliest time an open purchase order can become overdue
        self._checks: dict[type, Callable[[State, Any, str], Found]] = {
            E.StockCounted: self._count,
            E.SensorReading: self._reading,
            E.GoodsReceived: self._receipt,
        }

    def before(self, state: State, event: Any, ident: str) -> Found:
        """Alerts an event raises against the state as it was just before it (empty for most)."""
        check = self._checks.get(type(event))
        return check(state, event, ident) if check is not None else []

    def after(self, state: State, event: Any, ident: str) -> Found:
        """Alerts the state raises once the event is applied: purchase orders now overdue."""
        if type(event) is E.PurchaseOrderPlaced:
            self.places.po_location[event.po] = event.location
            self._next_due = min(self._next_due, event.due + self.thresholds.overdue_hours)
        if state.clock < self._next_due:
            return []
        found: Found = []
        late = self.thresholds.overdue_hours
        self._next_due = math.inf
        for po in state.purchase_orders.values():
            if po.po in self._overdue:
                continue
            if po.due + late <= state.clock:
                self._overdue.add(po.po)
                found.append((f"alert:overdue_po:{po.po}", E.DiscrepancyRaised(
                    state.clock, "overdue_po", f"po {po.po}", po.due, state.clock, late, "")))
            else:
                self._next_due = min(self._next_due, po.due + late)
        return found

    def _count(self, state: State, e: E.StockCounted, ident: str) -> Found:
        sku = state.skus.get((e.item, e.location))
        if sku is None:
            return []
        book = sku.on_hand
        limit = max(self.thresholds.count_units, self.thresholds.count_share * abs(book))
        if abs(e.counted - book) <= limit:
            return []
        return [(f"alert:{ident}", E.DiscrepancyRaised(e.t, "stock_count", f"{e.item}@{e.location}", book,
                                                       e.counted, limit, ident))]

    def _reading(self, state: State, e: E.SensorReading, ident: str) -> Found:
        set_point = self.set_points.get(e.sensor)
        if set_point is None or e.kind != "temperature":
            return []
        limit = self.thresholds.temperature
        if abs(e.value - set_point) <= limit:
            self._outside.discard(e.sensor)
            return []
        if e.sensor in self._outside:
            return []
        self._outside.add(e.sensor)
        return [(f"alert:{ident}", E.DiscrepancyRaised(e.t, "temperature", e.sensor, set_point, e.value, limit,
                                                       ident))]

    def _receipt(self, state: State, e: E.GoodsReceived, ident: str) -> Found:
        po = state.purchase_orders.get(e.po) if e.po >= 0 else None
        if po is None:
            return []
        limit = self.thresholds.arrival_hours
        if abs(e.t - po.due) <= limit:
            return []
        return [(f"alert:{ident}", E.DiscrepancyRaised(e.t, "arrival", f"po {e.po}", po.due, e.t, limit,
                                                       ident))]


class AlertPlaces:
    """Which warehouse an alert is about, so a key scoped to a warehouse (a storekeeper) sees only
    its own area's alerts: a stock count's SKU location; a temperature sensor's warehouse (the one it
    is attached to, or the one its asset stands in: ``location`` naming a warehouse); a purchase
    order's receiving warehouse (learnt as the orders are placed: the twin replays its store through
    the same checks, so it knows every order it holds alerts about). None: no one warehouse (a
    sensor on a vehicle or on an asset outside the stores), seen only by keys of the whole site."""

    def __init__(self, scenario: Scenario) -> None:
        site = scenario.site
        warehouses = {w.id for w in site.warehouses}
        asset_place = {a.id: a.location for a in site.assets if a.location in warehouses}
        self.sensor_location: dict[str, str | None] = {
            s.id: s.attached_to if s.attached_to in warehouses else asset_place.get(s.attached_to)
            for s in site.sensors}
        self.po_location: dict[int, str] = {}

    def location(self, kind: str, subject: str) -> str | None:
        if kind == "stock_count":
            return subject.partition("@")[2] or None
        if kind == "temperature":
            return self.sensor_location.get(subject)
        number = subject.removeprefix("po ").strip()
        return self.po_location.get(int(number)) if number.lstrip("-").isdigit() else None

    def visible(self, alerts: list[dict[str, Any]], warehouse: str | None) -> list[dict[str, Any]]:
        """``alerts`` (as ``LiveTwin.alerts`` lists them), each with its ``location``; only those of
        ``warehouse`` when one is given."""
        out = [{**a, "location": self.location(a["kind"], a["subject"])} for a in alerts]
        return out if warehouse is None else [a for a in out if a["location"] == warehouse]


def parse_thresholds(text: str) -> AlertThresholds | None:
    """``--alerts`` of `twin serve` / `twin live`: ``off``, or ``name=value`` pairs separated by commas
    (``count_units=5,temperature=3``); names not given keep their defaults."""
    if text.strip().lower() in ("off", "none", "no"):
        return None
    values: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, eq, value = part.partition("=")
        if not eq:
            raise ValueError(f"--alerts {text!r}: {part!r} is not name=value (e.g. count_units=5,temperature=3)")
        values[name.strip()] = value.strip()
    try:
        return AlertThresholds.model_validate(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        known = ", ".join(AlertThresholds.model_fields)
        raise ValueError(f"--alerts: {'.'.join(map(str, first['loc']))}: {first['msg']} (thresholds: {known})") \
            from None
