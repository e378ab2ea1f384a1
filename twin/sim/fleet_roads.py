"""The fleet's road network and vehicles as the simulation runs them: shortest open paths between
the network's nodes for any set of closed roads, and each vehicle's running state (where it is,
fuel since refuelling, driving hours towards its next breakdown, where it heads while under way).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.sparse.csgraph import shortest_path

from twin.model.network import Network, Vehicle, haversine_km
from twin.sim.laws import WEEK

__all__ = ["RoadNetwork", "VehicleRun", "INF"]

INF = math.inf


class RoadNetwork:
    """Shortest-path km between nodes, for any set of closed roads (cached per set)."""

    def __init__(self, net: Network) -> None:
        self.spec = net
        self.ids = [n.id for n in net.nodes]
        self.index = {ident: k for k, ident in enumerate(self.ids)}
        n = len(self.ids)
        base = np.full((n, n), INF)
        np.fill_diagonal(base, 0.0)
        pos = {nd.id: nd.position for nd in net.nodes}

        def straight(a: str, b: str) -> float:
            pa, pb = pos[a], pos[b]
            if pa is None or pb is None:
                return INF
            if net.coordinates == "latlon":
                return haversine_km(pa, pb) * net.circuity
            return math.dist(pa, pb) * net.circuity

        if net.matrix is not None:
            for i, a in enumerate(net.matrix.nodes):
                for j, b in enumerate(net.matrix.nodes):
                    v = net.matrix.km[i][j]
                    if v is not None and a != b:
                        base[self.index[a], self.index[b]] = v
        elif not net.roads:
            for a in self.ids:
                for b in self.ids:
                    if a != b:
                        base[self.index[a], self.index[b]] = straight(a, b)
        for road in net.roads:
            a, b = road.between
            km = road.distance if road.distance is not None else straight(a, b)
            base[self.index[a], self.index[b]] = min(base[self.index[a], self.index[b]], km)
            if not road.one_way:
                base[self.index[b], self.index[a]] = min(base[self.index[b], self.index[a]], km)
        self.base = base
        self._cache: dict[frozenset[frozenset[str]], tuple[np.ndarray, np.ndarray]] = {}

    def paths(self, closed: frozenset[frozenset[str]]) -> tuple[np.ndarray, np.ndarray]:
        """(km, predecessors) of all shortest paths with the ``closed`` roads out (inf: no path)."""
        got = self._cache.get(closed)
        if got is None:
            m = self.base.copy()
            for road in closed:
                a, b = tuple(road) if len(road) == 2 else (next(iter(road)),) * 2
                m[self.index[a], self.index[b]] = INF
                m[self.index[b], self.index[a]] = INF
            # csgraph reads a dense inf as "no edge"; a zero-length road is kept as a tiny length.
            m = np.where(m == 0.0, 1e-9, m)
            np.fill_diagonal(m, 0.0)
            dist, pred = shortest_path(np.where(np.isinf(m), 0.0, m), method="D", directed=True,
                                       return_predecessors=True)
            got = (dist, pred)
            self._cache[closed] = got
        return got

    def km(self, closed: frozenset[frozenset[str]]) -> np.ndarray:
        return self.paths(closed)[0]

    def path(self, closed: frozenset[frozenset[str]], a: str, b: str) -> list[str]:
        _, pred = self.paths(closed)
        i, j = self.index[a], self.index[b]
        out = [j]
        while out[-1] != i:
            p = int(pred[i, out[-1]])
            if p < 0:
                return []
            out.append(p)
        return [self.ids[k] for k in reversed(out)]

    def congestion(self, t: float) -> float:
        c = self.spec.congestion
        return c[int(t % 24.0)] if c else 1.0


@dataclass
class VehicleRun:
    id: str
    spec: Vehicle
    gen: np.random.Generator
    at: str
    km_since_refuel: float = 0.0
    driven: float = 0.0  # driving hours so far
    life: float = INF  # driving hours at which it breaks down next
    windows: list[tuple[float, float]] | None = None
    reefer_trip: int | None = None  # the trip whose reefer failure the sensors wait for
    cargo_spoiled: bool = False  # the cold cargo now on board was spoiled by an excursion
    heading: str | None = None  # under way to this node (a stop or home), free to be diverted
    free_at: float = 0.0  # when it is done at that node
    stops: list[int] | None = None  # the trip's consignments still to deliver (the live list)
    divert: tuple[int, str, tuple[int, ...]] | None = None  # accepted: (consignment, warehouse, stops)
    sensed: bool = False  # it carries sensors that follow its physical state

    @property
    def tank(self) -> float:
        """Litres in the tank now (full after refuelling, less fuel_per_km for each km since)."""
        r = self.spec.range_km
        return 0.0 if r is None else max(r - self.km_since_refuel, 0.0) * self.spec.fuel_per_km

    def on_shift(self, t: float) -> bool:
        if self.windows is None:
            return True
        w = t % WEEK
        return any(a <= w < b for a, b in self.windows)
