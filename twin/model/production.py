"""Production as typed site data: BOMs, routings, machines on lines, changeovers, and the master
production schedule (make-to-order demand). Hooked into ``Site.production``; cross-references
(unknown items and machine groups, BOM cycles) are checked by ``twin.scenario``."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from twin.model.durations import Duration

__all__ = [
    "Component",
    "Bom",
    "Operation",
    "Routing",
    "Machine",
    "Line",
    "Changeover",
    "ScheduledOrder",
    "ProductionSpec",
    "PRODUCTION_KPI_NAMES",
]


class Strict(BaseModel):
    """As ``twin.model.site.Strict`` (not imported from there: site.py imports this module)."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True, populate_by_name=True)

PRODUCTION_KPI_NAMES: tuple[str, ...] = (
    "oee",
    "throughput",
    "wip",
    "work_order_lead_time",
    "on_time_completion",
    "schedule_adherence",
    "material_shortage_hours",
    "mrp_exceptions",
    "mrp_expedites",
)


class Component(Strict):
    item: str
    qty: float = Field(gt=0, description="units per unit of the parent")
    scrap: float = Field(0.0, ge=0, lt=1, description="share of the component lost in production")
    substitutes: list[str] = Field(default_factory=list, description="items to use instead when it is short")


class Bom(Strict):
    item: str = Field(description="the item made")
    components: list[Component] = Field(min_length=1)


class Operation(Strict):
    name: str
    machine_group: str
    setup: Duration = Field("0s", description="set-up time per work order")
    run: Duration = Field(description="run time per unit")


class Routing(Strict):
    item: str
    family: str = Field("default", description="product family, for changeover times")
    operations: list[Operation] = Field(min_length=1)
    scrap_rate: float = Field(0.0, ge=0, lt=1, description="share of finished units scrapped at the end")
    rework_rate: float = Field(0.0, ge=0, lt=1, description="share of completed units sent back through the "
                                                             "last operation once (a ProductionReworked event)")


class Machine(Strict):
    id: str
    group: str


class Line(Strict):
    id: str
    machines: list[Machine] = Field(min_length=1)


class Changeover(Strict):
    from_family: str = Field(alias="from")
    to_family: str = Field(alias="to")
    time: Duration


class ScheduledOrder(Strict):
    """A master-schedule line or a customer's make-to-order demand: ``qty`` of ``item`` due at ``due``."""

    item: str
    qty: float = Field(gt=0)
    due: Duration
    ref: str | None = None


class ProductionSpec(Strict):
    warehouse: str = Field(description="the raw-material warehouse: components (bought and made) are received "
                                       "and held here and issued to the lines from here")
    finished_goods: str | None = Field(None, description="the finished-goods warehouse: made items that are no "
                                                         "other item's component are received here (default: "
                                                         "the raw-material warehouse)")
    transfer_time: Duration = Field("4h", description="time a transfer of a short component from another "
                                                      "warehouse takes to reach the raw-material warehouse")
    lines: list[Line] = Field(min_length=1)
    boms: list[Bom] = Field(default_factory=list)
    routings: list[Routing] = Field(min_length=1)
    changeovers: list[Changeover] = Field(default_factory=list)
    schedule: list[ScheduledOrder] = Field(default_factory=list)
    dispatch: Literal["fifo", "edd", "spt", "critical_ratio", "cp_sat"] = Field(
        "edd", description="queue order at the machine groups; cp_sat re-plans the released work orders "
                           "every replan_every with policies.scheduling.solve_cp_sat (weighted tardiness)")
    replan_every: Duration = Field("1d", description="cp_sat dispatch: how often the released orders are re-planned")
    replan_effort: float = Field(0.5, gt=0, le=60, description="cp_sat dispatch: CP-SAT deterministic time limit "
                                                               "per re-plan (about seconds; one worker, seed 0)")
    lead_time_allowance: Duration = Field("1d", description="queue time added to the processing time "
                                                            "when a scheduled order is offset for release")
    retry_every: Duration = Field("1h", description="how often orders held for material are retried")

    def receives_at(self, item: str) -> str:
        """Where a work order for ``item`` is received: a component of some BOM goes to the
        raw-material warehouse (the lines draw it from there), anything else to finished goods."""
        if self.finished_goods is None or any(c.item == item for b in self.boms for c in b.components):
            return self.warehouse
        return self.finished_goods

    @model_validator(mode="after")
    def _unique(self) -> ProductionSpec:
        for kind, ids in (("routing", [r.item for r in self.routings]), ("bom", [b.item for b in self.boms]),
                          ("machine", [m.id for ln in self.lines for m in ln.machines])):
            dup = sorted({i for i in ids if ids.count(i) > 1})
            if dup:
                raise ValueError(f"{kind} listed twice for {', '.join(dup)}")
        return self
