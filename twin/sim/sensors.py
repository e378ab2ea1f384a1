"""Sensors: temperature, humidity, vibration, weight and fuel signals, generated a day at a time in
numpy blocks (DESIGN principle 4). No sample is an event. Only alarm crossings (found with array
operations over the whole block) and the readings a policy asks for become events.

A sensor's level is its ``nominal`` value, or follows the thing it watches:
- a vibration (or temperature) sensor on an asset with a ``degradation`` signal rises with the
  asset's virtual age towards ``at_failure`` as the hidden life runs out (zero wear when stopped;
  a machine whose failure law is on usage wears only while it processes, so its signal holds
  while it stands idle);
- a store's temperature sensor with ``cooled_by`` drifts towards ``warm_to`` while that asset is
  down and back to ``nominal`` when it runs again (first-order, rate ``warm_rate`` per hour).
Measurement noise, calibration drift and dropouts (missing samples) are drawn per block from the
sensor's own stream. When the watched asset changes state mid-block, the rest of that sensor's row
is recomputed and its pending alarms rescheduled. A store's temperature above its ``excursion``
limit for ``spoil_after`` scraps the free lots of that storage class there ('cold_chain').
Sensors on vehicles follow the vehicle's physical state, which twin/sim/fleet.py reports as it
changes (``reefer_changed``, ``doors``, ``fuel``, ``load``):
- temperature: nominal while the reefer's cooling runs, towards ``warm_to`` from the moment it fails
  on a trip until the vehicle is back at its depot;
- humidity (relative, %): nominal with the doors shut and the cooling running, towards ``warm_to``
  (the outside air) while the doors are open at a dock or a stop, or the cooling is down;
- fuel (litres): the tank falls linearly while the vehicle drives, at its ``fuel_per_km``, and is
  full again after refuelling;
- weight (kg): the cargo on board, from loading at the dock to each delivery; the overload alarm is
  the vehicle's ``capacity_weight`` unless the sensor states ``alarm_above``.

The cold chain has one excursion rule (``Exposure``): stock spoils once it has been out of range
for ``spoil_after`` without a break. A store's temperature sensor with ``excursion`` starts and ends
it with its alarm and scraps the free lots of that storage class; a reefer's temperature sensor
with ``excursion`` does the same for the cargo on board (``FleetModel.cargo_spoiled``); a reefer
without such a sensor applies the same rule from the moment its cooling fails.
"""

from __future__ import annotations

import math
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np

from twin.model import events as E
from twin.model.assets import Sensor
from twin.model.durations import HOURS_PER_DAY

if TYPE_CHECKING:
    from twin.sim.engine import Engine
    from twin.sim.maintenance import AssetRun

__all__ = ["Exposure", "SensorModel", "alarm_changes"]


def alarm_changes(values: np.ndarray, high: np.ndarray, low: np.ndarray, prior: np.ndarray,
                  band: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
    """Where each row's alarm state changes: rows, columns and new states (1 high, -1 low, 0 clear).

    ``values`` is (sensors, samples) with NaN for dropped samples; ``prior`` is each row's state
    before the first column. An alarm clears only once the value is ``band`` inside its limit
    (hysteresis, so noise around a limit does not chatter): samples in the band, like dropped ones,
    keep the previous state. All of it is array work: the state is forward-filled from the samples
    that decide it."""
    n, m = values.shape
    if m and n:
        # Most rows sit clear of both limits all block long: only rows that go out of range or
        # start in alarm can change state, so the array work below runs on those alone.
        out = (values > high[:, None]) | (values < low[:, None])
        live = np.flatnonzero(out.any(axis=1) | (prior != 0))
        if len(live) < n:
            last = prior.copy()
            if not len(live):
                empty = np.zeros(0, dtype=np.intp)
                return empty, empty, np.zeros(0, dtype=np.int8), last
            r, c, st, end = alarm_changes(values[live], high[live], low[live], prior[live],
                                          None if band is None else band[live])
            last[live] = end
            return live[r], c, st, last
    b = np.zeros(len(high)) if band is None else band
    hi, lo, bb = high[:, None], low[:, None], b[:, None]
    state = np.where(values > hi, 1, np.where(values < lo, -1, 0)).astype(np.int8)
    valid = (values > hi) | (values < lo) | ((values <= hi - bb) & (values >= lo + bb))
    idx = np.where(valid, np.arange(m)[None, :], -1)
    np.maximum.accumulate(idx, axis=1, out=idx)
    filled = np.where(idx >= 0, np.take_along_axis(state, np.maximum(idx, 0), axis=1), prior[:, None])
    prev = np.concatenate([prior[:, None].astype(np.int8), filled[:, :-1]], axis=1)
    rows, cols = np.nonzero(filled != prev)
    return rows, cols, filled[rows, cols], filled[:, -1] if m else prior


class _Cooling:
    """A store's temperature: first order towards ``target`` from ``temp0`` at ``t0``."""

    def __init__(self, nominal: float, rate: float) -> None:
        self.temp0, self.t0, self.target, self.rate = nominal, 0.0, nominal, rate

    def at(self, t: np.ndarray | float) -> Any:
        return self.target + (self.temp0 - self.target) * np.exp(-self.rate * (np.asarray(t) - self.t0))

    def switch(self, now: float, target: float) -> None:
        self.temp0, self.t0, self.target = float(self.at(now)), now, target


class _Ramp:
    """A fuel tank: ``level0`` at ``t0``, falling at ``rate`` per hour until ``t1``, then level."""

    def __init__(self, level: float) -> None:
        self.level0, self.t0, self.rate, self.t1 = level, 0.0, 0.0, 0.0

    def at(self, t: np.ndarray | float) -> Any:
        return self.level0 - self.rate * np.clip(np.asarray(t) - self.t0, 0.0, self.t1 - self.t0)

    def set(self, now: float, level: float, rate: float, until: float) -> None:
        self.level0, self.t0, self.rate, self.t1 = level, now, rate, max(until, now)


class _Step:
    """A level that holds until it is set again (the cargo weight on board)."""

    def __init__(self, value: float) -> None:
        self.value = value

    def at(self, t: np.ndarray | float) -> Any:
        return self.value


class Exposure:
    """The cold chain's one excursion rule: stock spoils once it has been out of range for
    ``spoil_after`` hours without a break. ``begin`` when the excursion starts (a temperature alarm
    goes high, or a reefer without a temperature sensor loses its cooling), ``end`` when it is over."""

    __slots__ = ("spoil_after", "since")

    def __init__(self, spoil_after: float) -> None:
        self.spoil_after = spoil_after
        self.since: float | None = None

    def begin(self, t: float) -> None:
        if self.since is None:
            self.since = t

    def end(self) -> None:
        self.since = None

    @property
    def spoils_at(self) -> float:
        return math.inf if self.since is None else self.since + self.spoil_after

    def spoiled(self, now: float) -> bool:
        return now >= self.spoils_at - 1e-9


class SensorModel:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.env = engine.env
        site = engine.scenario.site
        self.specs: list[Sensor] = list(site.sensors)
        n = len(self.specs)
        maint = engine.maintenance
        self.assets: dict[str, AssetRun] = maint.assets if maint is not None else {}
        self.gens = [engine.streams.get("sensor", s.id) for s in self.specs]
        self.high = np.array([s.alarm_above if s.alarm_above is not None else
                              (s.excursion.above if s.excursion else np.inf) for s in self.specs], dtype=float)
        vehicle_specs = {v.id if v.count == 1 else f"{v.id}-{k + 1}": v
                         for v in site.vehicles for k in range(v.count)}
        for i, s in enumerate(self.specs):
            v = vehicle_specs.get(s.attached_to)
            if v is not None and s.kind == "weight" and s.alarm_above is None:
                self.high[i] = v.capacity_weight  # a weight sensor on a vehicle: the overload alarm
        self.low = np.array([s.alarm_below if s.alarm_below is not None else -np.inf for s in self.specs])
        self.band = np.array([s.deadband if s.deadband is not None else 3.0 * s.noise for s in self.specs])
        self.state = np.zeros(n, dtype=np.int8)  # alarm state as emitted so far
        self.version = [0] * n
        self.cooling: dict[int, _Cooling] = {}
        self.items_by_storage: dict[str, list[str]] = {}
        self.on_vehicle: dict[str, list[int]] = {}  # sensors by vehicle
        self.signal: dict[int, Any] = {}  # a vehicle sensor's physical level (_Cooling, _Ramp or _Step)
        self.doors_open: dict[str, bool] = {}
        self.unit_ok: dict[str, bool] = {}
        self.exposure: dict[int, Exposure] = {}
        for it in site.items:
            self.items_by_storage.setdefault(it.storage, []).append(it.id)
        by_every: dict[float, list[int]] = {}
        for i, s in enumerate(self.specs):
            by_every.setdefault(s.every, []).append(i)
            asset = self.assets.get(s.attached_to)
            if asset is not None and asset.spec.degradation is not None:
                asset.listeners.append(lambda a, i=i: self._asset_changed(i))
            if s.cooled_by is not None and s.cooled_by in self.assets:
                self.cooling[i] = _Cooling(s.nominal, s.warm_rate)
                self.assets[s.cooled_by].listeners.append(lambda a, i=i: self._cooler_changed(i, a))
            elif s.attached_to in vehicle_specs:
                v = vehicle_specs[s.attached_to]
                if s.kind == "fuel":
                    self.signal[i] = _Ramp((v.range_km or 0.0) * v.fuel_per_km)  # a full tank
                elif s.kind == "weight":
                    self.signal[i] = _Step(0.0)
                else:
                    self.signal[i] = _Cooling(s.nominal, s.warm_rate)
                self.on_vehicle.setdefault(s.attached_to, []).append(i)
                self.doors_open[s.attached_to] = False
                self.unit_ok[s.attached_to] = True
            if s.excursion is not None:
                self.exposure[i] = Exposure(s.excursion.spoil_after)
        self.groups = [(every, np.array(rows)) for every, rows in sorted(by_every.items())]
        self.row_of: dict[int, tuple[int, int]] = {}
        for g, (_, rows) in enumerate(self.groups):
            for r, i in enumerate(rows):
                self.row_of[int(i)] = (g, r)
        self.blocks: list[dict[str, np.ndarray]] = []

    # -- blocks --------------------------------------------------------------------------------------

    def start(self, until: float) -> None:
        if self.specs:
            self.env.process(self._days(until))

    def _days(self, until: float) -> Any:
        env = self.env
        while env.now < until:
            self._block(env.now, min(env.now + HOURS_PER_DAY, until))
            yield env.timeout(HOURS_PER_DAY)

    def _block(self, t0: float, t1: float) -> None:
        self.blocks = []
        for every, rows in self.groups:
            times = np.arange(t0, t1, every)
            m = len(times)
            noise = np.empty((len(rows), m))
            drop = np.empty((len(rows), m), dtype=bool)
            for r, i in enumerate(rows):
                spec = self.specs[i]
                gen = self.gens[i]
                noise[r] = gen.normal(0.0, spec.noise, m) if spec.noise > 0 else 0.0
                # Drift counts from the start of the run (a fork's: its site time).
                noise[r] += spec.drift * (times - self.engine.start if self.engine.start else times) / HOURS_PER_DAY
                drop[r] = gen.random(m) < spec.dropout if spec.dropout > 0 else False
            values = noise.copy()
            for r, i in enumerate(rows):
                values[r] += self._level(int(i), times)
            values[drop] = np.nan
            self.blocks.append({"times": times, "noise": noise, "drop": drop, "values": values})
            self._schedule(rows, values, times)

    def _level(self, i: int, times: np.ndarray) -> np.ndarray | float:
        spec = self.specs[i]
        if i in self.cooling:
            return self.cooling[i].at(times)  # type: ignore[no-any-return]
        if i in self.signal:
            return self.signal[i].at(times)  # type: ignore[no-any-return]
        a = self.assets.get(spec.attached_to)
        if a is None or a.spec.degradation is None or a.spec.degradation.signal != spec.kind:
            return spec.nominal
        d = a.spec.degradation
        if a.status != "running":
            return spec.nominal
        # The asset's own age: from ``clock`` at its pace (a machine whose failure law is on usage
        # ages only while it processes, from the end of the set-up; see twin/sim/maintenance.py).
        age = a.age + np.clip(times - a.clock, 0.0, None) * a.pace()
        frac = np.clip(age / a.life, 0.0, 1.0) if a.life > 0 else 1.0
        return d.baseline + (d.at_failure - d.baseline) * frac**d.shape  # type: ignore[no-any-return]

    def _schedule(self, rows: np.ndarray, values: np.ndarray, times: np.ndarray) -> None:
        r_idx, cols, states, _ = alarm_changes(values, self.high[rows], self.low[rows], self.state[rows],
                                               self.band[rows])
        env = self.env
        now = env.now
        for r, c, st in zip(r_idx.tolist(), cols.tolist(), states.tolist(), strict=True):
            i = int(rows[r])
            version = self.version[i]
            ev = env.timeout(max(float(times[c]) - now, 0.0))
            ev.callbacks.append(partial(self._alarm, i, version, float(values[r, c]), st))

    def _recompute(self, i: int) -> None:
        """The watched thing changed: redo sensor i's samples from now to the end of the block."""
        if not self.blocks:
            return
        self.version[i] += 1
        g, r = self.row_of[i]
        block = self.blocks[g]
        times = block["times"]
        c0 = int(np.searchsorted(times, self.env.now, side="left"))
        if c0 >= len(times):
            return
        ts = times[c0:]
        row = block["noise"][r, c0:] + self._level(i, ts)
        row = np.where(block["drop"][r, c0:], np.nan, row)
        block["values"][r, c0:] = row
        self._schedule(np.array([i]), row[None, :], ts)

    def _asset_changed(self, i: int) -> None:
        self._recompute(i)

    def _cooler_changed(self, i: int, a: AssetRun) -> None:
        spec = self.specs[i]
        self.cooling[i].switch(self.env.now, spec.nominal if a.status == "running" else spec.warm_to)
        self._recompute(i)

    def reefer_changed(self, vehicle: str, running: bool) -> None:
        """A vehicle's reefer cooling failed (``running`` False) or was restored at the depot."""
        self.unit_ok[vehicle] = running
        self._climate(vehicle)

    def doors(self, vehicle: str, open_: bool) -> None:
        """The cargo doors opened (loading at a dock, unloading at a stop) or shut again."""
        self.doors_open[vehicle] = open_
        self._climate(vehicle)

    def _climate(self, vehicle: str) -> None:
        """Temperature follows the cooling unit; humidity also the doors (outside air comes in)."""
        now = self.env.now
        ok = self.unit_ok.get(vehicle, True)
        shut = not self.doors_open.get(vehicle, False)
        for i in self.on_vehicle.get(vehicle, ()):
            spec = self.specs[i]
            if spec.kind == "temperature":
                target = spec.nominal if ok else spec.warm_to
            elif spec.kind == "humidity":
                target = spec.nominal if ok and shut else spec.warm_to
            else:
                continue
            cooling = self.signal[i]
            if cooling.target != target:
                cooling.switch(now, target)
                self._recompute(i)

    def fuel(self, vehicle: str, litres: float, per_hour: float, until: float) -> None:
        """The tank holds ``litres`` now and falls at ``per_hour`` until ``until`` (the end of a leg)."""
        for i in self.on_vehicle.get(vehicle, ()):
            if self.specs[i].kind == "fuel":
                self.signal[i].set(self.env.now, litres, per_hour, until)
                self._recompute(i)

    def load(self, vehicle: str, kg: float) -> None:
        """The cargo on board now weighs ``kg``."""
        for i in self.on_vehicle.get(vehicle, ()):
            if self.specs[i].kind == "weight":
                self.signal[i].value = kg
                self._recompute(i)

    # -- events --------------------------------------------------------------------------------------

    def _alarm(self, i: int, version: int, value: float, state: int, _event: Any = None) -> None:
        if version != self.version[i] or self.state[i] == state:
            return
        self.state[i] = state
        spec = self.specs[i]
        now = self.env.now
        self.engine.emit(E.SensorAlarm(now, spec.id, spec.attached_to, spec.kind, value,
                                       "high" if state > 0 else "low" if state < 0 else "clear"))
        exposure = self.exposure.get(i)
        if exposure is not None:
            if state > 0:
                exposure.begin(now)
                ev = self.env.timeout(exposure.spoils_at - now)
                ev.callbacks.append(partial(self._spoil, i, now))
            else:
                exposure.end()
        maint = self.engine.maintenance
        if maint is not None and spec.attached_to in self.assets:
            maint.on_event("SensorAlarm")

    def _spoil(self, i: int, since: float, _event: Any = None) -> None:
        """The excursion lasted ``spoil_after``: the free lots of the storage class in the store are
        scrapped, or the cargo on board the vehicle is spoiled."""
        if self.exposure[i].since != since:
            return
        spec = self.specs[i]
        assert spec.excursion is not None
        loc = spec.attached_to
        if loc in self.on_vehicle:
            if self.engine.fleet is not None:
                self.engine.fleet.cargo_spoiled(loc)
            return
        skus = self.engine.state.skus
        now = self.env.now
        for item in self.items_by_storage.get(spec.excursion.storage, ()):
            sku = skus.get((item, loc))
            if sku is None:
                continue
            for lot in [lot for lot in sku.lots if lot.reserved <= 1e-9 and lot.qty > 0]:
                self.engine.emit(E.StatusChanged(now, item, loc, lot.id, "scrapped", lot.qty, "cold_chain"))

    def readings(self, kind: str) -> None:
        """Deliver the latest sample of every ``kind`` sensor on an asset as a SensorReading event
        (what a condition-based or predictive policy asks for before it decides)."""
        now = self.env.now
        for g, (_, rows) in enumerate(self.groups):
            if not self.blocks:
                return
            block = self.blocks[g]
            c = int(np.searchsorted(block["times"], now, side="right")) - 1
            for r, i in enumerate(rows.tolist()):
                spec = self.specs[i]
                if spec.kind != kind or spec.attached_to not in self.assets or c < 0:
                    continue
                value = block["values"][r, c]
                if not math.isnan(value):
                    self.engine.emit(E.SensorReading(now, spec.id, spec.attached_to, kind, float(value)))
