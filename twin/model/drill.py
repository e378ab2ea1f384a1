"""Operator drills as typed data (issue 8, training mode): what breaks when, what the operator takes
over from the automatic policy, how fast the clock runs, and how the operator is scored.

A drill file is an ordinary scenario file (it usually ``extends:`` one from the library, keeping its
surges, outages and road closures as ``disruptions:``) with a ``drill:`` block. The scenario runs the
same with or without an operator (``twin run DRILL.yaml`` is the automatic side of the scorecard);
``twin train`` hands the role named in ``operator:`` to a person, or to a script of timed commands.

``OperatorCommand`` is what the operator asks for (a key press in the view, a line of a script): the
engine turns it into the same action a policy returns (``AssignTechnician``, ``PlaceOrder``,
``DispatchRoute``) at the simulated time it is received, and checks it on the same path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import Field, field_validator

from twin.model.durations import Duration
from twin.model.site import Strict

__all__ = ["ROLES", "COMMANDS", "role_commands", "Incident", "Drill", "ScriptedCommand", "OperatorScript",
           "OperatorCommand"]

# The role the operator takes over -> the commands that role may give.
ROLES: dict[str, tuple[str, ...]] = {"maintenance_dispatch": ("dispatch",), "purchasing": ("purchase", "transfer"),
                                     "fleet_dispatch": ("route",)}
COMMANDS: tuple[str, ...] = tuple(c for commands in ROLES.values() for c in commands)


def role_commands(role: str) -> str:
    """The commands of a role as the operator is told them: 'purchase' or 'transfer'."""
    return " or ".join(f"'{c}'" for c in ROLES[role])


class Incident(Strict):
    """Something the drill makes happen at a set time (beyond the scenario's own disruptions)."""

    at: Duration
    kind: Literal["breakdown"] = Field(description="breakdown: the asset fails now (as if worn out)")
    asset: str = Field(description="the asset that breaks down (an id from the site's assets)")
    note: str = ""


class Drill(Strict):
    title: str
    briefing: str = Field("", description="what the operator is told before the clock starts")
    operator: Literal["maintenance_dispatch", "purchasing", "fleet_dispatch"] = Field(
        description="the automatic decisions the operator takes over: technician dispatch, purchase "
        "orders (of 'items'), or vehicle dispatch")
    items: str = Field("*", description="purchasing: the items the operator buys ('*', 'category:X', ids, ...); "
                       "the automatic policy keeps buying the rest")
    pace: Duration = Field("1h", description="simulated time per wall-clock second in the view")
    tick: Duration = Field("5min", description="how often the simulation takes in the operator's commands")
    incidents: list[Incident] = Field(default_factory=list)
    score: dict[str, float] = Field(description="KPI -> weight, e.g. {availability: 2, downtime_hours: 1}")

    @field_validator("score")
    @classmethod
    def _weights(cls, value: dict[str, float]) -> dict[str, float]:
        if not value:
            raise ValueError("score needs at least one KPI with a weight")
        for kpi, weight in value.items():
            if not weight > 0:
                raise ValueError(f"score: weight of {kpi} must be positive, got {weight}")
        return value

    @field_validator("pace", "tick")
    @classmethod
    def _positive(cls, value: float) -> float:
        if not value > 0:
            raise ValueError(f"must be a positive duration, got {value}h")
        return value


class ScriptedCommand(Strict):
    """One line of a scripted operator (``twin train DRILL --script ACTIONS.yaml``)."""

    at: Duration
    do: Literal["dispatch", "purchase", "transfer", "route"]
    asset: str | None = Field(None, description="dispatch: the asset whose work order to serve (default: the "
                              "most urgent waiting work order)")
    item: str | None = Field(None, description="purchase, transfer: the item")
    location: str | None = Field(None, description="purchase: where it is stocked (default: its only location); "
                                 "transfer: the depot it goes to (default: its only depot with a source)")
    qty: float | None = Field(None, gt=0, description="purchase, transfer: units (default: the automatic "
                              "policy's quantity)")
    vehicle: str | None = Field(None, description="route: the vehicle to send (idle) or re-route (under way)")
    consignment: int | None = Field(None, description="route: the waiting consignment a vehicle under way is "
                                    "diverted to (default: the most urgent one it has room for)")


class OperatorScript(Strict):
    actions: list[ScriptedCommand]


@dataclass(frozen=True, slots=True)
class OperatorCommand:
    """What the operator asked for; ``target`` is the asset, item or vehicle (empty: the engine picks)."""

    do: str  # dispatch | purchase | transfer | route
    target: str = ""
    location: str | None = None
    qty: float | None = None
    consignment: int | None = None  # route: the consignment a vehicle under way is diverted to

    @staticmethod
    def of(line: ScriptedCommand) -> OperatorCommand:
        target = {"dispatch": line.asset, "purchase": line.item, "transfer": line.item,
                  "route": line.vehicle}[line.do]
        return OperatorCommand(line.do, target or "", line.location, line.qty, line.consignment)
