"""Maintained things as typed data: assets and their failure laws, technicians and their shifts,
sensors, and repair requests from people (issue 4).

A site names them in four optional lists (``assets``, ``technicians``, ``sensors``,
``repair_requests``); a site without assets runs exactly as before.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from twin.model.durations import Duration

__all__ = [
    "FailureLaw",
    "DurationLaw",
    "PlannedDowntime",
    "Degradation",
    "ServiceTask",
    "Asset",
    "Shift",
    "Technician",
    "Excursion",
    "Sensor",
    "RepairRequests",
    "MAINTENANCE_KPI_NAMES",
    "PRIORITIES",
]

PRIORITIES = (1, 2, 3)  # 1 = urgent, 2 = normal, 3 = planned / low

MAINTENANCE_KPI_NAMES: tuple[str, ...] = (
    "availability",
    "mtbf",
    "mttr",
    "downtime_hours",
    "maintenance_cost",
    "technician_utilization",
    "backlog",
    "response_time",
    *(f"response_time_p{p}" for p in PRIORITIES),
    "satisfaction",
    "cold_chain_excursions",
    "spoiled_units",
)


class Strict(BaseModel):
    """As ``twin.model.site.Strict`` (which imports this module): unknown keys are an error."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class FailureLaw(Strict):
    """Time to failure in operating hours (an asset ages only while it runs), or with
    ``basis: usage`` in hours of use: a production machine then ages only while it processes
    (run hours; idle and set-up time do not wear it). Other assets are in use while they run."""

    dist: Literal["exponential", "weibull", "empirical"] = "exponential"
    basis: Literal["operating", "usage"] = Field(
        "operating", description="what the life counts: operating hours, or usage (a machine's run hours)")
    mean: Duration | None = Field(None, description="exponential: mean time between failures (MTBF)")
    shape: float | None = Field(None, gt=0, description="weibull: shape k (> 1 wears out, < 1 infant mortality)")
    scale: Duration | None = Field(None, description="weibull: scale (characteristic life)")
    samples: list[Duration] | None = Field(None, description="empirical: observed times to failure")

    @model_validator(mode="after")
    def _parameters(self) -> FailureLaw:
        if self.dist == "exponential" and (self.mean is None or self.mean <= 0):
            raise ValueError("an exponential failure law needs mean > 0 (the MTBF, e.g. '500h')")
        if self.dist == "weibull":
            if self.shape is None or self.shape <= 0:
                raise ValueError(f"a weibull failure law needs shape > 0 (got shape={self.shape})")
            if self.scale is None or self.scale <= 0:
                raise ValueError("a weibull failure law needs scale > 0, e.g. '2000h'")
        if self.dist == "empirical" and (not self.samples or min(self.samples) <= 0):
            raise ValueError("an empirical failure law needs samples: a list of positive durations")
        return self


class DurationLaw(Strict):
    """How long a task takes: fixed, exponential, gamma or lognormal around a mean, or empirical."""

    dist: Literal["fixed", "exponential", "gamma", "lognormal", "empirical"] = "fixed"
    mean: Duration | None = None
    cv: float = Field(0.0, ge=0, description="coefficient of variation (gamma, lognormal)")
    samples: list[Duration] | None = None

    @model_validator(mode="after")
    def _parameters(self) -> DurationLaw:
        if self.dist == "empirical":
            if not self.samples:
                raise ValueError("an empirical duration needs samples")
        elif self.mean is None or self.mean <= 0:
            raise ValueError(f"a {self.dist} duration needs mean > 0, e.g. '2h'")
        if self.dist in ("gamma", "lognormal") and self.cv <= 0:
            raise ValueError(f"a {self.dist} duration needs cv > 0 (or use dist: fixed)")
        return self


class PlannedDowntime(Strict):
    """The asset is stopped on purpose (a shutdown, a cleaning window): it neither runs nor ages."""

    every: Duration
    duration: Duration
    first: Duration = Field("0h", description="time of the first stop")


class Degradation(Strict):
    """A condition signal tied to the failure process: it rises from ``baseline`` to
    ``at_failure`` as the asset's (virtual) age approaches its time to failure, as
    ``baseline + (at_failure - baseline) * (age / life) ** shape``."""

    signal: Literal["vibration", "temperature"] = "vibration"
    baseline: float = 2.0
    at_failure: float = 10.0
    shape: float = Field(2.0, gt=0)


class ServiceTask(Strict):
    """The planned maintenance task of an asset (what preventive, condition-based and predictive
    policies schedule)."""

    skill: str | None = Field(None, description="default: the asset's skill")
    duration: DurationLaw = DurationLaw(dist="fixed", mean="2h")
    parts: dict[str, float] = Field(default_factory=dict, description="spare part item id -> units")
    reset: float = Field(1.0, ge=0, le=1, description="share of the age removed: 1 = as good as new")
    cost: float = Field(0.0, ge=0, description="fixed cost per task (besides labour and parts)")


class Asset(Strict):
    id: str = Field(min_length=1)
    name: str | None = None
    kind: str = Field("machine", description="pump, lift, chiller, cold_room, fire_safety, ...")
    location: str | None = Field(None, description="building or zone, for people's repair requests")
    position: tuple[float, float] | None = Field(None, description="x, y in km (technician travel)")
    failure: FailureLaw
    repair: DurationLaw = Field(description="time to repair a failure, once the technician is there")
    skill: str = Field("general", description="skill a repair needs")
    repair_parts: dict[str, float] = Field(default_factory=dict, description="spare parts per repair")
    repair_reset: float = Field(1.0, ge=0, le=1, description="share of the age a repair removes")
    repair_cost: float = Field(0.0, ge=0, description="fixed cost per repair (besides labour and parts)")
    service: ServiceTask | None = None
    parts_store: str | None = Field(None, description="warehouse the parts come from (default: the first)")
    usage_per_hour: float = Field(1.0, ge=0, description="usage units (cycles, starts) per operating hour")
    planned_downtime: list[PlannedDowntime] = Field(default_factory=list)
    degradation: Degradation | None = None
    priority: int = Field(1, ge=1, le=3, description="priority of its repairs: 1 urgent .. 3 low")
    downtime_cost_per_hour: float = Field(0.0, ge=0)


class Shift(Strict):
    start: Duration = Field("0h", description="time of day the shift starts")
    length: Duration = Field("24h")
    days: list[int] = Field(default_factory=lambda: [0, 1, 2, 3, 4, 5, 6], description="0 = Monday")

    @model_validator(mode="after")
    def _window(self) -> Shift:
        if not 0 < self.length <= 24:
            raise ValueError("shift length must be more than 0h and at most 24h")
        if self.start >= 24:
            raise ValueError("shift start is a time of day (under 24h)")
        if not self.days or any(d not in range(7) for d in self.days):
            raise ValueError("shift days must be weekday numbers 0 (Monday) .. 6")
        return self


class Technician(Strict):
    id: str = Field(min_length=1)
    skills: list[str] = Field(min_length=1)
    shifts: list[Shift] = Field(description="when the technician works; at least one")
    home: tuple[float, float] | None = Field(None, description="home base x, y in km")
    speed: float = Field(30.0, gt=0, description="travel speed in km/h")
    cost_per_hour: float = Field(0.0, ge=0)

    @model_validator(mode="after")
    def _has_shift(self) -> Technician:
        if not self.shifts:
            raise ValueError("a technician needs at least one shift, e.g. shifts: [{start: 8h, length: 8h}]")
        return self


class Excursion(Strict):
    """Stock of a storage class spoils after the temperature stays out of range this long."""

    above: float = Field(8.0, description="limit in the sensor's unit")
    spoil_after: Duration = "2h"
    storage: str = Field("cold", description="storage class of the items that spoil")


class Sensor(Strict):
    id: str = Field(min_length=1)
    kind: Literal["temperature", "humidity", "vibration", "weight", "fuel"]
    attached_to: str = Field(description="an asset id, a warehouse id or a vehicle id; on a vehicle it follows "
                             "the vehicle's physical state: a reefer's temperature (nominal while its cooling "
                             "runs, towards warm_to once it fails on a trip) or humidity (towards warm_to while "
                             "the doors are open or the cooling is down), the fuel in the tank (litres, falling "
                             "with the km driven), or the cargo weight on board (kg)")
    every: Duration = Field("1min", description="sampling interval")
    nominal: float = Field(0.0, description="level while nothing is wrong (degradation signals ignore it)")
    noise: float = Field(0.0, ge=0, description="standard deviation of the measurement noise")
    drift: float = Field(0.0, description="calibration drift per day")
    dropout: float = Field(0.0, ge=0, lt=1, description="share of samples lost")
    alarm_above: float | None = None
    alarm_below: float | None = None
    deadband: float | None = Field(None, ge=0, description="an alarm clears this far inside its limit "
                                   "(default 3 x noise)")
    cooled_by: str | None = Field(None, description="temperature of a store: the asset that cools it")
    warm_to: float = Field(25.0, description="temperature the store drifts to while its cooler is down")
    warm_rate: float = Field(0.5, gt=0, description="per hour: how fast the store warms (1 / time constant)")
    excursion: Excursion | None = None


class RepairRequests(Strict):
    """Repair requests from people (app, phone, web): they join the work-order flow."""

    per_day: float = Field(gt=0, description="mean requests per day (Poisson)")
    channels: dict[str, float] = Field(
        default_factory=lambda: {"app": 0.5, "phone": 0.3, "web": 0.2}, description="channel -> share"
    )
    priorities: dict[int, float] = Field(default_factory=lambda: {1: 0.2, 2: 0.5, 3: 0.3})
    skill: str = "general"
    duration: DurationLaw = DurationLaw(dist="exponential", mean="1h")
    assets: list[str] = Field(default_factory=list, description="assets a request may concern; empty = any")
    target: dict[int, Duration] = Field(
        default_factory=lambda: {1: 4.0, 2: 24.0, 3: 72.0},
        description="response target per priority: satisfaction falls once it is missed",
    )
