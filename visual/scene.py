"""What the view shows at a time, built from a run's event log (no pygame here).

A ``Scene`` is made from a scenario and the flat event rows of one replication (``twin.kpi.events_frame``
of a fresh run, or a recorded run's Parquet trace): stock levels per SKU over time, the pickers'
tours (``PickTravelled``), machine states (maintenance events). ``Scene.floor(wh, t)`` and
``Scene.network(t)`` are snapshots, plain data the renderer draws; positions between events are
interpolated along the tours' shortest paths.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from twin.kpi import level_series
from twin.model.floor import FloorPlan
from twin.model.floor_events import parse_stops
from twin.model.scenario import Scenario
from twin.rng import Streams
from twin.sim.fleet import RoadNetwork
from twin.sim.floor import FloorModel, slot_items
from twin.sim.layout import compile_layout

__all__ = ["FloorSnapshot", "NetworkSnapshot", "Scene", "SiteMap", "MACHINE_STATES", "scene_of_run", "floor_models",
           "map_alarms"]

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
    movers: list[tuple[str, str, float, float]] = field(default_factory=list)  # (kind, name, row, col)
    machine_cells: dict[str, tuple[int, int]] = field(default_factory=dict)  # asset -> its cell on the floor
    alarms: list[tuple[int, int, str]] = field(default_factory=list)  # (row, col, what): cells marked by an alert


@dataclass
class NetworkSnapshot:
    """The whole operation on one map: sites with their stock, machines with their state, vehicles
    on the roads, alarms where they are raised. Positions are map coordinates (km)."""

    t: float
    sites: list[tuple[str, float, float, float]]  # (id, x, y, fill 0..1)
    roads: list[tuple[str, str]]
    machines: dict[str, str]
    panel: dict[str, str] = field(default_factory=dict)
    assets: list[tuple[str, float, float, str]] = field(default_factory=list)  # (id, x, y, state)
    vehicles: list[tuple[str, float, float]] = field(default_factory=list)  # (id, x, y) on a trip
    alarms: list[tuple[str, float, float, str]] = field(default_factory=list)  # (target, x, y, what)


class _Tours:
    """An agent's tours or moves in time order, each expanded to cells and times on demand: a
    picker's from the dock through its stops and back; a forklift's, AGV's or technician's along
    its route (waiting at the route's second cell while an AGV charges)."""

    def __init__(self, plan: FloorPlan) -> None:
        self.plan = plan
        self.starts: list[float] = []
        self.raw: list[tuple[float, float, tuple[tuple[int, int], ...], float]] = []
        self._cells: dict[int, tuple[list[tuple[int, int]], np.ndarray]] = {}

    def add(self, t: float, travel: float, stops: tuple[tuple[int, int], ...]) -> None:
        """A picker's tour: from the dock through ``stops`` and back."""
        depot = self.plan.depot
        self.move(t, travel, (depot, *stops, depot))

    def move(self, t: float, travel: float, route: tuple[tuple[int, int], ...], wait: float = 0.0) -> None:
        self.starts.append(t)
        self.raw.append((t, travel, route, wait))

    def position(self, t: float) -> tuple[float, float] | None:
        k = int(np.searchsorted(self.starts, t, side="right")) - 1
        if k < 0:
            return None
        start, travel, route, wait = self.raw[k]
        if t > start + travel + wait:
            return None
        got = self._cells.get(k)
        if got is None:
            cells = self.plan.tour_cells(list(route))
            n = max(len(cells) - 1, 1)
            times = start + travel * np.arange(len(cells)) / n
            if wait > 0 and len(route) > 1:
                at = len(self.plan.path(route[0], route[1])) - 1
                times[at + 1:] += wait
                cells = [*cells[:at + 1], *cells[at:]]
                times = np.insert(times, at + 1, times[at] + wait)
            got = self._cells[k] = (cells, times)
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


class SiteMap:
    """Where things are on the network map: sites (network nodes and warehouses), assets with a
    position, what each sensor watches, and the road path between two nodes (the fleet's shortest
    path with every road open), so a vehicle between two stops is drawn on the roads."""

    def __init__(self, scenario: Scenario) -> None:
        site = scenario.site
        self.positions: dict[str, tuple[float, float]] = {}
        net = site.network
        if net is not None:
            for node in net.nodes:
                if node.position is not None:
                    self.positions[node.id] = (float(node.position[0]), float(node.position[1]))
        for k, wh in enumerate(site.warehouses):
            self.positions.setdefault(wh.id, wh.position or (float(k) * 10.0, 0.0))
        self.roads = [(r.between[0], r.between[1]) for r in net.roads] if net is not None else []
        self.assets = {a.id: (float(a.position[0]), float(a.position[1])) for a in site.assets
                       if a.position is not None}
        self.asset_site = {a.id: a.location for a in site.assets if a.location in self.positions}
        self.sensor_target = {s.id: s.attached_to for s in site.sensors}
        self._net = RoadNetwork(net) if net is not None else None
        self._legs: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}

    def leg(self, a: str, b: str) -> tuple[np.ndarray, np.ndarray]:
        """The points of the road path from node ``a`` to ``b`` and their share (0..1) of its length."""
        got = self._legs.get((a, b))
        if got is None:
            nodes = [a, b]
            if self._net is not None and a in self._net.index and b in self._net.index:
                nodes = self._net.path(frozenset(), a, b) or nodes
            pts = np.array([self.positions[n] for n in nodes if n in self.positions], float).reshape(-1, 2)
            if len(pts) == 0:
                pts = np.zeros((1, 2))
            cum = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(pts, axis=0).T))]) if len(pts) > 1 else \
                np.zeros(1)
            got = self._legs[(a, b)] = (pts, cum / cum[-1] if cum[-1] > 0 else cum)
        return got

    def along(self, a: str, b: str, f: float) -> tuple[float, float]:
        """The point a share ``f`` (0..1) of the way along the road path from ``a`` to ``b``."""
        pts, share = self.leg(a, b)
        if len(pts) == 1:
            return float(pts[0, 0]), float(pts[0, 1])
        x = float(np.interp(f, share, pts[:, 0]))
        y = float(np.interp(f, share, pts[:, 1]))
        return x, y

    def where(self, target: str, vehicles: dict[str, tuple[float, float]]) -> tuple[float, float] | None:
        """Where an alarm's target is drawn: a site, an asset (or the site it stands in), a vehicle."""
        if target in self.positions:
            return self.positions[target]
        if target in self.assets:
            return self.assets[target]
        if target in self.asset_site:
            return self.positions[self.asset_site[target]]
        return vehicles.get(target)

    def asset_marks(self, machines: dict[str, str]) -> list[tuple[str, float, float, str]]:
        return [(a, x, y, machines.get(a, "running")) for a, (x, y) in self.assets.items()]


class _Trips:
    """One vehicle's trips in time order: the nodes it leaves and reaches and when (dispatch, each
    delivery, back at the depot). Between two of them it is interpolated along the road path."""

    def __init__(self) -> None:
        self.starts: list[float] = []
        self.stops: list[tuple[list[float], list[str]]] = []

    def dispatched(self, t: float, origin: str) -> None:
        self.starts.append(t)
        self.stops.append(([t], [origin]))

    def reached(self, t: float, node: str) -> None:
        if self.stops:
            times, nodes = self.stops[-1]
            times.append(t)
            nodes.append(node)

    def position(self, t: float, where: SiteMap) -> tuple[float, float] | None:
        k = bisect_right(self.starts, t) - 1
        if k < 0:
            return None
        times, nodes = self.stops[k]
        if len(times) < 2 or t > times[-1]:
            return None  # back at the depot (or where it went next is not in the record yet)
        j = min(bisect_right(times, t) - 1, len(times) - 2)
        span = times[j + 1] - times[j]
        f = (t - times[j]) / span if span > 0 else 1.0
        return where.along(nodes[j], nodes[j + 1], min(max(f, 0.0), 1.0))


def vehicle_trips(rows: pd.DataFrame) -> dict[str, _Trips]:
    """Each vehicle's trips from the flat rows of its fleet events (``item`` is the vehicle).

    A diverted vehicle (``VehicleDiverted``: ``location`` is the warehouse of the urgent
    consignment) drives there once done at the node it heads to; it has loaded there when the
    trip's ``Rerouted`` with reason 'emergency' comes, so that is where its new path bends."""
    trips: dict[str, _Trips] = {}
    if not len(rows):
        return trips
    sel = rows[rows["type"].isin(["VehicleDispatched", "Delivered", "VehicleReturned", "VehicleDiverted",
                                  "Rerouted"])]
    origin: dict[str, str] = {}
    diverted: dict[str, str] = {}  # vehicle -> the warehouse it was diverted to, until it loaded there
    for kind, t, vehicle, loc, info in zip(sel["type"], sel["t"], sel["item"], sel["location"], sel["info"],
                                           strict=True):
        v = str(vehicle)
        if kind == "VehicleDispatched":
            origin[v] = str(loc)
            trips.setdefault(v, _Trips()).dispatched(float(t), str(loc))
        elif kind == "VehicleDiverted":
            diverted[v] = str(loc)
        elif kind == "Rerouted":
            if str(info).startswith("emergency:") and v in diverted and v in trips:
                trips[v].reached(float(t), diverted.pop(v))
        elif v in trips:
            trips[v].reached(float(t), str(loc) if kind == "Delivered" else origin.get(v, ""))
    return trips


def alarm_events(rows: pd.DataFrame) -> list[tuple[float, str, str, str]]:
    """(t, key, target, what) in time order: a sensor alarm raised ('high', 'low') or cleared (what
    '' ), a machine down ('down') or repaired (''). The key is the sensor or the asset."""
    out: list[tuple[float, str, str, str]] = []
    if not len(rows):
        return out
    kinds = ["SensorAlarm", "MachineFailed", "RepairCompleted"]
    sel = rows[rows["type"].isin(kinds)]
    for kind, t, item, loc, info in zip(sel["type"], sel["t"], sel["item"], sel["location"], sel["info"],
                                        strict=True):
        if kind == "SensorAlarm":
            what, _, state = str(info).partition(":")
            out.append((float(t), str(item), str(loc), "" if state == "clear" else f"{what} {state}"))
        else:
            out.append((float(t), str(loc), str(loc), "down" if kind == "MachineFailed" else ""))
    return out


def floor_models(scenario: Scenario, seed: int, replication: int = 0) -> tuple[dict[str, FloorModel],
                                                                                dict[str, list[list[str]]]]:
    """Each warehouse floor with the slotting its run used (the same named stream), and the items
    in each bin."""
    layout = compile_layout(scenario)
    streams = Streams(seed, replication)
    floors: dict[str, FloorModel] = {}
    bin_items: dict[str, list[list[str]]] = {}
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
        floors[wh.id] = model
        bin_items[wh.id] = per_bin
    return floors, bin_items


class Scene:
    """A replication's record, ready to be looked at any time in [0, horizon]."""

    def __init__(self, scenario: Scenario, rows: pd.DataFrame, seed: int, replication: int = 0,
                 horizon: float | None = None) -> None:
        self.scenario = scenario
        self.horizon = float(horizon if horizon is not None else scenario.horizon)
        self.rows = rows
        # Stock levels per SKU: times and on hand after each change; fill against the run's peak.
        self.levels: dict[tuple[str, str], tuple[np.ndarray, np.ndarray, float]] = {}
        if len(rows):
            lv = level_series(rows)
            for (item, loc), grp in lv.groupby(["item", "location"], sort=False):
                on_hand = grp["on_hand"].to_numpy(float)
                peak = float(on_hand.max()) if len(on_hand) else 0.0
                self.levels[(str(item), str(loc))] = (grp["t"].to_numpy(float), on_hand, peak)
        # Floors: the same plan and slotting the run used (same named stream).
        self.floors, self.bin_items = floor_models(scenario, seed, replication)
        self.tours: dict[str, dict[int, _Tours]] = {
            wh: {p.number: _Tours(model.plan) for p in model.pickers} for wh, model in self.floors.items()}
        self.map = SiteMap(scenario)
        self.trips = vehicle_trips(rows)
        self.alarm_events = alarm_events(rows)
        if len(rows):
            tr = rows[rows["type"] == "PickTravelled"]
            for loc, picker, t, info in zip(tr["location"], tr["item"], tr["t"], tr["info"], strict=True):
                fields = dict(part.split("=", 1) for part in str(info).split(" "))
                by_picker = self.tours.get(str(loc))
                if by_picker is not None and int(picker) in by_picker:
                    by_picker[int(picker)].add(float(t), float(fields["travel"]), parse_stops(fields["stops"]))
        # Forklifts, AGVs and technicians (FloorMoved): one track per agent.
        self.moves: dict[str, dict[tuple[str, str], _Tours]] = {wh: {} for wh in self.floors}
        if len(rows):
            mv = rows[rows["type"] == "FloorMoved"]
            for loc, agent, t, info in zip(mv["location"], mv["item"], mv["t"], mv["info"], strict=True):
                by_agent = self.moves.get(str(loc))
                if by_agent is None:
                    continue
                fields = dict(part.split("=", 1) for part in str(info).split(" "))
                travel, duration = float(fields["travel"]), float(fields["duration"])
                track = by_agent.setdefault((fields["kind"], str(agent)), _Tours(self.floors[str(loc)].plan))
                track.move(float(t), travel, parse_stops(fields["stops"]), duration - travel)
        self._picked = rows[rows["type"] == "PickTravelled"] if len(rows) else rows
        moved = rows[rows["type"] == "FloorMoved"] if len(rows) else rows
        self._moved = moved.assign(kind=[str(i).split(" ", 1)[0][5:] for i in moved["info"]]) if len(moved) \
            else moved
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
        """Each machine's state at ``t``: the site's assets and the production lines' machines."""
        out: dict[str, str] = {a.id: "running" for a in self.scenario.site.assets}
        production = self.scenario.site.production
        if production is not None:
            for line in production.lines:
                for m in line.machines:
                    out.setdefault(m.id, "running")
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
                  "AssetStopped": "idle", "AssetStarted": "running", "MaintenanceDone": "running",
                  # Production machines (the plant's lines): out of service and back, an operation
                  # stopped part-way because its machine went down.
                  "MachineDown": "down", "MachineUp": "running", "OperationInterrupted": "down"}
        # The reason of a production machine's stop (``info``): a failure is down, a service is under
        # maintenance, any other stop (planned, the asset stopped) idle.
        down = {"failed": "down", "maintenance": "maintenance"}
        if not len(rows):
            return []
        sel = rows[rows["type"].isin(list(states))]
        return [(float(t), str(loc), down.get(str(info), "idle") if k in ("MachineDown", "OperationInterrupted")
                 else states[str(k)])
                for t, loc, k, info in zip(sel["t"], sel["location"], sel["type"], sel["info"], strict=True)]

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
        moved = self._moved
        if len(moved):
            done = moved[(moved["t"] <= t) & ((wh is None) | (moved["location"] == wh))]
            for kind, metres in done.groupby("kind", sort=True)["qty"].sum().items():
                out[f"{kind} km"] = f"{float(metres) / 1000:.2f}"
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
        movers = []
        for (kind, name), track in self.moves[wh].items():
            at = track.position(t)
            if at is not None or kind != "technician":  # technicians are on the floor only for their work
                row, col = at if at is not None else model.plan.depot
                movers.append((kind, name, float(row), float(col)))
        machines = self.machines(t)
        cells = {a: (int(rc[0]), int(rc[1])) for a, rc in model.spec.machines.items()}
        return FloorSnapshot(wh, t, model.plan.kinds, model.plan.bins, self.bin_fill(wh, t), agents,
                             self.panel(wh, t), machines, series, movers, cells)

    def vehicles(self, t: float) -> dict[str, tuple[float, float]]:
        """Vehicles on a trip at ``t`` and where they are on the roads."""
        out: dict[str, tuple[float, float]] = {}
        for vehicle, trips in self.trips.items():
            pos = trips.position(t, self.map)
            if pos is not None:
                out[vehicle] = pos
        return out

    def alarms(self, t: float) -> dict[str, tuple[str, str]]:
        """Alarms raised at ``t``: sensor or asset -> (target, what)."""
        out: dict[str, tuple[str, str]] = {}
        for when, key, target, what in self.alarm_events:
            if when > t:
                break
            if what:
                out[key] = (target, what)
            else:
                out.pop(key, None)
        return out

    def network(self, t: float) -> NetworkSnapshot:
        sites = []
        for ident, (x, y) in self.map.positions.items():
            fills = [min(self.on_hand(i, ident, t)[0] / peak, 1.0)
                     for (i, loc), (_, _, peak) in self.levels.items() if loc == ident and peak > 0]
            sites.append((ident, x, y, float(np.mean(fills)) if fills else math.nan))
        machines = self.machines(t)
        vehicles = self.vehicles(t)
        panel = self.panel(None, t)
        if self.trips:
            panel["vehicles out"] = str(len(vehicles))
        return NetworkSnapshot(t, sites, self.map.roads, machines, panel, self.map.asset_marks(machines),
                               [(v, x, y) for v, (x, y) in vehicles.items()],
                               map_alarms(self.map, self.alarms(t), vehicles))


def map_alarms(where: SiteMap, alarms: dict[str, tuple[str, str]],
               vehicles: dict[str, tuple[float, float]]) -> list[tuple[str, float, float, str]]:
    """The raised alarms placed on the map (an alarm whose target is not on the map is left off)."""
    out = []
    for key, (target, what) in sorted(alarms.items()):
        pos = where.where(target, vehicles)
        if pos is not None:
            out.append((target, pos[0], pos[1], f"{key}: {what}" if key != target else f"{target} {what}"))
    return out


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
