"""What the view shows at a time, built from a run's event log (no pygame here).

A ``Scene`` is made from a scenario and the flat event rows of one replication (``twin.kpi.events_frame``
of a fresh run, or a recorded run's Parquet trace): stock levels per SKU over time, the pickers'
tours (``PickTravelled``), machine states (maintenance events). ``Scene.floor(wh, t)`` and
``Scene.network(t)`` are snapshots, plain data the renderer draws; positions between events are
interpolated along the tours' shortest paths.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from twin.kpi import level_series
from twin.model.floor import FloorPlan
from twin.model.floor_events import parse_stops
from twin.model.scenario import Scenario
from twin.rng import Streams
from twin.sim.floor import FloorModel, slot_items
from twin.sim.layout import compile_layout

__all__ = ["FloorSnapshot", "NetworkSnapshot", "Scene", "MACHINE_STATES", "scene_of_run"]

MACHINE_STATES = ("running", "idle", "down", "maintenance")


@dataclass
class FloorSnapshot:
    """One warehouse floor at one time."""

    warehouse: str
    t: float
    kinds: np.ndarray  # (rows, cols) cell kinds (twin.model.floor)
    bins: list[tuple[int, int]]
    fill: np.ndarray  # per bin: 0 (empty) .. 1 (full), NaN for a bin with no item
    agents: list[tuple[int, float, float]]  # (picker, row, col)
    panel: dict[str, str] = field(default_factory=dict)
    machines: dict[str, str] = field(default_factory=dict)  # asset -> state
    series: list[float] = field(default_factory=list)  # small live chart (on hand over time)


@dataclass
class NetworkSnapshot:
    """The whole operation on one map: sites with their stock, machines with their state."""

    t: float
    sites: list[tuple[str, float, float, float]]  # (id, x, y, fill 0..1)
    roads: list[tuple[str, str]]
    machines: dict[str, str]
    panel: dict[str, str] = field(default_factory=dict)


class _Tours:
    """A picker's tours in time order, each expanded to cells and times on demand."""

    def __init__(self, plan: FloorPlan) -> None:
        self.plan = plan
        self.starts: list[float] = []
        self.raw: list[tuple[float, float, tuple[tuple[int, int], ...]]] = []
        self._cells: dict[int, tuple[list[tuple[int, int]], np.ndarray]] = {}

    def add(self, t: float, travel: float, stops: tuple[tuple[int, int], ...]) -> None:
        self.starts.append(t)
        self.raw.append((t, travel, stops))

    def position(self, t: float) -> tuple[float, float] | None:
        k = int(np.searchsorted(self.starts, t, side="right")) - 1
        if k < 0:
            return None
        start, travel, stops = self.raw[k]
        if t > start + travel:
            return None
        got = self._cells.get(k)
        if got is None:
            depot = self.plan.depot
            cells = self.plan.tour_cells([depot, *stops, depot])
            n = max(len(cells) - 1, 1)
            got = self._cells[k] = (cells, start + travel * np.arange(len(cells)) / n)
        cells, times = got
        j = int(np.searchsorted(times, t, side="right")) - 1
        j = min(max(j, 0), len(cells) - 1)
        if j == len(cells) - 1:
            r, c = cells[j]
            return float(r), float(c)
        a, b = cells[j], cells[j + 1]
        span = times[j + 1] - times[j]
        f = (t - times[j]) / span if span > 0 else 0.0
        return a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f


class Scene:
    """A replication's record, ready to be looked at any time in [0, horizon]."""

    def __init__(self, scenario: Scenario, rows: pd.DataFrame, seed: int, replication: int = 0,
                 horizon: float | None = None) -> None:
        self.scenario = scenario
        self.horizon = float(horizon if horizon is not None else scenario.horizon)
        self.rows = rows
        layout = compile_layout(scenario)
        streams = Streams(seed, replication)
        # Stock levels per SKU: times and on hand after each change; fill against the run's peak.
        self.levels: dict[tuple[str, str], tuple[np.ndarray, np.ndarray, float]] = {}
        if len(rows):
            lv = level_series(rows)
            for (item, loc), grp in lv.groupby(["item", "location"], sort=False):
                on_hand = grp["on_hand"].to_numpy(float)
                peak = float(on_hand.max()) if len(on_hand) else 0.0
                self.levels[(str(item), str(loc))] = (grp["t"].to_numpy(float), on_hand, peak)
        # Floors: the same plan and slotting the run used (same named stream).
        self.floors: dict[str, FloorModel] = {}
        self.bin_items: dict[str, list[list[str]]] = {}
        self.tours: dict[str, dict[int, _Tours]] = {}
        for wh in scenario.site.warehouses:
            if wh.floor is None:
                continue
            model = FloorModel(wh.floor, wh.pickers, streams.get("floor", wh.id))
            items = [i for i, loc in layout.skus if loc == wh.id]
            mean = layout.params.demand_mean_per_day
            pop = np.array([mean[layout.sku_index[(i, wh.id)]] for i in items], float)
            model.assign(slot_items(model, items, pop, streams.get("floor", wh.id, "slotting")))
            per_bin: list[list[str]] = [[] for _ in model.plan.bins]
            for item, b in model.slot.items():
                per_bin[b].append(item)
            self.floors[wh.id] = model
            self.bin_items[wh.id] = per_bin
            self.tours[wh.id] = {p.number: _Tours(model.plan) for p in model.pickers}
        if len(rows):
            tr = rows[rows["type"] == "PickTravelled"]
            for loc, picker, t, info in zip(tr["location"], tr["item"], tr["t"], tr["info"], strict=True):
                fields = dict(part.split("=", 1) for part in str(info).split(" "))
                by_picker = self.tours.get(str(loc))
                if by_picker is not None and int(picker) in by_picker:
                    by_picker[int(picker)].add(float(t), float(fields["travel"]), parse_stops(fields["stops"]))
        self._picked = rows[rows["type"] == "PickTravelled"] if len(rows) else rows
        self.machine_events = self._machine_events(rows)
        self._series: dict[tuple[str, float], list[float]] = {}

    # -- state at a time ------------------------------------------------------------------------

    def on_hand(self, item: str, loc: str, t: float) -> tuple[float, float]:
        """On hand at ``t`` and the SKU's peak over the run."""
        got = self.levels.get((item, loc))
        if got is None:
            return 0.0, 0.0
        times, on_hand, peak = got
        k = int(np.searchsorted(times, t, side="right")) - 1
        return (float(on_hand[k]) if k >= 0 else 0.0), peak

    def bin_fill(self, wh: str, t: float) -> np.ndarray:
        per_bin = self.bin_items[wh]
        out = np.full(len(per_bin), np.nan)
        for b, items in enumerate(per_bin):
            if not items:
                continue
            total = 0.0
            for item in items:
                qty, peak = self.on_hand(item, wh, t)
                total += min(qty / peak, 1.0) if peak > 0 else 0.0
            out[b] = total / len(items)
        return out

    def machines(self, t: float) -> dict[str, str]:
        out: dict[str, str] = {a.id: "running" for a in self.scenario.site.assets}
        for when, asset, state in self.machine_events:
            if when > t:
                break
            if state == "idle" and out.get(asset) in ("down", "maintenance"):
                continue  # a failed machine is stopped too: it stays down until repaired
            out[asset] = state
        return out

    @staticmethod
    def _machine_events(rows: pd.DataFrame) -> list[tuple[float, str, str]]:
        states = {"MachineFailed": "down", "RepairStarted": "maintenance", "RepairCompleted": "running",
                  "AssetStopped": "idle", "AssetStarted": "running", "MaintenanceDone": "running"}
        if not len(rows):
            return []
        sel = rows[rows["type"].isin(list(states))]
        return [(float(t), str(loc), states[str(k)]) for t, loc, k in zip(sel["t"], sel["location"], sel["type"],
                                                                          strict=True)]

    def panel(self, wh: str | None, t: float) -> dict[str, str]:
        out = {"time": _clock(t)}
        picks = self._picked
        if len(picks):
            done = picks[(picks["t"] <= t) & ((wh is None) | (picks["location"] == wh))]
            lines = float(done["lot"].sum())
            metres = float(done["qty"].sum())
            hours = sum(float(dict(p.split("=", 1) for p in str(i).split(" "))["duration"]) for i in done["info"])
            out["tours"] = str(len(done))
            out["lines picked"] = f"{lines:,.0f}"
            out["m per pick"] = f"{metres / lines:.1f}" if lines else "-"
            out["picks/hour"] = f"{lines / hours:.1f}" if hours else "-"
        return out

    def floor(self, wh: str, t: float) -> FloorSnapshot:
        model = self.floors[wh]
        agents = []
        for number, tours in self.tours[wh].items():
            pos = tours.position(t)
            if pos is None:
                r, c = model.plan.depot
                pos = (float(r), float(c))
            agents.append((number, pos[0], pos[1]))
        key = (wh, round(t, 1))  # the small chart changes slowly: draw it from a cache
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = [float(np.nansum(self.bin_fill(wh, s)))
                                          for s in np.linspace(0, max(t, 1e-9), 24)]
        return FloorSnapshot(wh, t, model.plan.kinds, model.plan.bins, self.bin_fill(wh, t), agents,
                             self.panel(wh, t), self.machines(t), series)

    def network(self, t: float) -> NetworkSnapshot:
        site = self.scenario.site
        sites = []
        positions: dict[str, tuple[float, float]] = {}
        net = site.network
        if net is not None:
            for node in net.nodes:
                if node.position is not None:
                    positions[node.id] = (float(node.position[0]), float(node.position[1]))
        for k, wh in enumerate(site.warehouses):
            positions.setdefault(wh.id, wh.position or (float(k) * 10.0, 0.0))
        for ident, (x, y) in positions.items():
            fills = [min(self.on_hand(i, ident, t)[0] / peak, 1.0)
                     for (i, loc), (_, _, peak) in self.levels.items() if loc == ident and peak > 0]
            sites.append((ident, x, y, float(np.mean(fills)) if fills else math.nan))
        roads = [(r.between[0], r.between[1]) for r in net.roads] if net is not None else []
        return NetworkSnapshot(t, sites, roads, self.machines(t), self.panel(None, t))


def _clock(t: float) -> str:
    day = int(t // 24)
    h = t - 24 * day
    return f"day {day} {int(h):02d}:{int(round((h % 1) * 60)) % 60:02d}"


def scene_of_run(scenario: Scenario, seed: int, horizon: float, replication: int = 0) -> Scene:
    """Run one replication and make its scene (what ``twin view SCENARIO`` shows)."""
    from twin.kpi import events_frame
    from twin.sim.engine import run_replication

    out = run_replication(scenario, seed, replication, horizon)
    return Scene(scenario, events_frame(out.log), seed, replication, horizon)
