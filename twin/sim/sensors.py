"""Sensors: temperature, humidity, vibration, weight and fuel signals, generated a day at a time in
numpy blocks (DESIGN principle 4). No sample is an event. Only alarm crossings (found with array
operations over the whole block) and the readings a policy asks for become events.

A sensor's level is its ``nominal`` value, or follows the thing it watches:
- a vibration (or temperature) sensor on an asset with a ``degradation`` signal rises with the
  asset's virtual age towards ``at_failure`` as the hidden life runs out (zero wear when stopped);
- a store's temperature sensor with ``cooled_by`` drifts towards ``warm_to`` while that asset is
  down and back to ``nominal`` when it runs again (first-order, rate ``warm_rate`` per hour).
Measurement noise, calibration drift and dropouts (missing samples) are drawn per block from the
sensor's own stream. When the watched asset changes state mid-block, the rest of that sensor's row
is recomputed and its pending alarms rescheduled. A store's temperature above its ``excursion``
limit for ``spoil_after`` scraps the free lots of that storage class there ('cold_chain').
A temperature sensor on a vehicle watches its reefer the same way: nominal while the cooling runs,
towards ``warm_to`` from the moment it fails on a trip until the vehicle is back at its depot
(twin/sim/fleet.py calls ``reefer_changed``).
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

__all__ = ["SensorModel", "alarm_changes"]


def alarm_changes(values: np.ndarray, high: np.ndarray, low: np.ndarray, prior: np.ndarray,
                  band: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
    """Where each row's alarm state changes: rows, columns and new states (1 high, -1 low, 0 clear).

    ``values`` is (sensors, samples) with NaN for dropped samples; ``prior`` is each row's state
    before the first column. An alarm clears only once the value is ``band`` inside its limit
    (hysteresis, so noise around a limit does not chatter): samples in the band, like dropped ones,
    keep the previous state. All of it is array work: the state is forward-filled from the samples
    that decide it."""
    b = np.zeros(len(high)) if band is None else band
    hi, lo, bb = high[:, None], low[:, None], b[:, None]
    state = np.where(values > hi, 1, np.where(values < lo, -1, 0)).astype(np.int8)
    valid = (values > hi) | (values < lo) | ((values <= hi - bb) & (values >= lo + bb))
    n, m = values.shape
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
        self.low = np.array([s.alarm_below if s.alarm_below is not None else -np.inf for s in self.specs])
        self.band = np.array([s.deadband if s.deadband is not None else 3.0 * s.noise for s in self.specs])
        self.state = np.zeros(n, dtype=np.int8)  # alarm state as emitted so far
        self.version = [0] * n
        self.cooling: dict[int, _Cooling] = {}
        self.items_by_storage: dict[str, list[str]] = {}
        vehicles = {v.id if v.count == 1 else f"{v.id}-{k + 1}" for v in site.vehicles for k in range(v.count)}
        self.on_vehicle: dict[str, list[int]] = {}  # reefer temperature sensors by vehicle
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
            elif s.attached_to in vehicles and s.kind == "temperature":
                self.cooling[i] = _Cooling(s.nominal, s.warm_rate)
                self.on_vehicle.setdefault(s.attached_to, []).append(i)
        self.groups = [(every, np.array(rows)) for every, rows in sorted(by_every.items())]
        self.row_of: dict[int, tuple[int, int]] = {}
        for g, (_, rows) in enumerate(self.groups):
            for r, i in enumerate(rows):
                self.row_of[int(i)] = (g, r)
        self.blocks: list[dict[str, np.ndarray]] = []
        self.excursion_since: dict[int, float] = {}

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
                noise[r] += spec.drift * times / HOURS_PER_DAY
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
        a = self.assets.get(spec.attached_to)
        if a is None or a.spec.degradation is None or a.spec.degradation.signal != spec.kind:
            return spec.nominal
        d = a.spec.degradation
        if a.status != "running":
            return spec.nominal
        age = a.age + (times - a.since)
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
        for i in self.on_vehicle.get(vehicle, ()):
            spec = self.specs[i]
            self.cooling[i].switch(self.env.now, spec.nominal if running else spec.warm_to)
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
        if spec.excursion is not None:
            if state > 0:
                self.excursion_since[i] = now
                ev = self.env.timeout(spec.excursion.spoil_after)
                ev.callbacks.append(partial(self._spoil, i, now))
            else:
                self.excursion_since.pop(i, None)
        maint = self.engine.maintenance
        if maint is not None and spec.attached_to in self.assets:
            maint.on_event("SensorAlarm")

    def _spoil(self, i: int, since: float, _event: Any = None) -> None:
        """The excursion lasted ``spoil_after``: the free lots of the storage class there are scrapped."""
        if self.excursion_since.get(i) != since:
            return
        spec = self.specs[i]
        assert spec.excursion is not None
        loc = spec.attached_to
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
