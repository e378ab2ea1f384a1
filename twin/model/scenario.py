"""The scenario file as typed data: which site, how long, which policies, which disruptions."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, PrivateAttr, model_validator

from twin.model.drill import Drill
from twin.model.durations import Duration
from twin.model.forecast import ForecastSettings
from twin.model.opening import Opening
from twin.model.site import Site, Strict

__all__ = ["PolicyRef", "Disruption", "Costing", "Policies", "Scenario", "KPI_NAMES"]

KPI_NAMES: tuple[str, ...] = (
    "fill_rate",
    "order_fill_rate",
    "cycle_service_level",
    "backorders",
    "stockout_hours",
    "avg_on_hand_value",
    "holding_cost",
    "ordering_cost",
    "shortage_cost",
    "inventory_turns",
    "expired_units",
    "order_cycle_time",
    "total_cost",
)


class PolicyRef(Strict):
    use: str = Field(description="a built-in policy name or an import path 'package.module:Class'")
    params: dict[str, Any] = Field(default_factory=dict)
    every: Duration | None = Field(None, description="review period; default: the policy's own")


class Policies(Strict):
    # s_S needs s or a service level: without one the default could not even be constructed.
    inventory: PolicyRef = PolicyRef(use="s_S", params={"service_level": 0.95})
    allocation: PolicyRef = PolicyRef(use="fefo")
    cycle_count: PolicyRef | None = Field(None, description="e.g. {use: abc_cycle_count}; none = no counting")
    maintenance: PolicyRef | None = Field(None, description="e.g. {use: preventive}; none = reactive")
    forecast: ForecastSettings | None = Field(
        None, description="plan replenishment from forecasts re-fitted in the run, e.g. {use: auto, retrain: 1w}; "
        "none = plan from the site's stated demand law")
    dispatch: PolicyRef | None = Field(None, description="e.g. {use: vrp} or {use: nearest}; default vrp "
                                       "on sites with vehicles")
    # Left out of the dump (and the digest) when absent, so scenarios without it keep their digests.
    production: PolicyRef | None = Field(
        None, exclude_if=lambda v: v is None,
        description="production planning on sites with production, e.g. {use: mrp, every: 1d, params: "
        "{bucket: 1w}}; none = the inventory policy's orders and the master schedule's offset releases")


class Disruption(Strict):
    at: Duration
    kind: Literal["demand_surge", "supplier_outage", "stock_freeze", "road_closure"]
    duration: Duration
    items: str = Field("*", description="'*', 'class:A', 'storage:cold', 'category:X' or item ids, comma separated")
    factor: float = Field(1.0, ge=0, description="demand multiplier (demand_surge)")
    supplier: str | None = None
    procedures: float | None = Field(None, ge=0, description="procedure-rate multiplier during a demand surge")
    road: tuple[str, str] | None = Field(None, description="road_closure: the two nodes the road links")

    @model_validator(mode="after")
    def _fields_for_kind(self) -> Disruption:
        if self.kind == "supplier_outage" and not self.supplier:
            raise ValueError("a supplier_outage needs 'supplier'")
        if self.kind == "road_closure" and not self.road:
            raise ValueError("a road_closure needs 'road: [node, node]'")
        return self


class Costing(Strict):
    basis: Literal["continuous", "period_end"] = Field(
        "continuous",
        description="continuous: holding and shortage costs accrue over time; period_end: charged on the "
        "level at the end of each period (the textbook periodic-review convention)",
    )
    period: Duration = "1d"


class Scenario(Strict):
    name: str
    description: str | None = None
    site: Site
    horizon: Duration
    warmup: Duration = "0d"
    replications: int = Field(1, ge=1)
    seed: int = Field(0, ge=0)
    policies: Policies = Policies()
    disruptions: list[Disruption] = Field(default_factory=list)
    kpis: list[Literal[KPI_NAMES]] = Field(default_factory=lambda: list(KPI_NAMES))  # type: ignore[valid-type]
    costing: Costing = Costing()
    record_levels: bool = Field(True, description="keep the stock level series for plots")
    # Issue 7: what is under way at the start (a forecast forked from the live site). Left out of
    # the dump (and so of the digest) when there is none, so other scenarios' digests do not change.
    opening: Opening | None = Field(None, exclude_if=lambda v: v is None,
                                    description="open purchase orders, backorders and machines down at the start")
    # Issue 8: an operator drill (twin train). Left out of the dump (and the digest) when there is none.
    drill: Drill | None = Field(None, exclude_if=lambda v: v is None,
                                description="an operator drill on this scenario (twin train); see scenarios/drills/")
    # Set by the loader: 'FILE:LINE: path: warning: ...' lines for things that run but deserve a look
    # (e.g. a work order needing a skill nobody has). Not part of the digest; see twin.scenario.
    _warnings: tuple[str, ...] = PrivateAttr(default=())

    @model_validator(mode="after")
    def _windows(self) -> Scenario:
        if self.warmup >= self.horizon:
            raise ValueError("warmup must be shorter than the horizon")
        return self
