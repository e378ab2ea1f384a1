"""Scenario disruptions on the clock: supplier outages, demand surges (applied where demand is
drawn) and stock freezes (a recall or quarantine: unreserved lots are frozen, then released)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from twin.model import events as E
from twin.model.scenario import Disruption

if TYPE_CHECKING:
    from twin.sim.engine import Engine

__all__ = ["DisruptionProcess"]


class DisruptionProcess:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def start(self) -> None:
        for d in self.engine.scenario.disruptions:
            self.engine.env.process(self._run(d))

    def _run(self, d: Disruption) -> Any:
        env = self.engine.env
        engine = self.engine
        yield env.timeout(d.at)
        if d.kind == "road_closure":
            yield from self._road_closure(d)
            return
        target = d.supplier if d.kind == "supplier_outage" else d.items
        until = env.now + d.duration  # d.at counts from the start of the run (a fork's: its site time)
        engine.emit(E.DisruptionStarted(env.now, d.kind, str(target), d.factor, until))
        frozen: list[tuple[str, str, int]] = []
        if d.kind == "stock_freeze":
            items = engine.layout.select(d.items)
            for (item, loc), sku in engine.state.skus.items():
                if item in items:
                    for lot in list(sku.lots):
                        if lot.reserved <= 0:
                            engine.emit(E.StatusChanged(env.now, item, loc, lot.id, "frozen", lot.qty, d.kind))
                            frozen.append((item, loc, lot.id))
        yield env.timeout(d.duration)
        engine.emit(E.DisruptionEnded(env.now, d.kind, str(target)))
        touched = set()
        for item, loc, lot_id in frozen:
            sku = engine.state.skus[(item, loc)]
            held = sku.held_lots.get(lot_id)
            if held is not None and held.status == "frozen":
                engine.emit(E.StatusChanged(env.now, item, loc, lot_id, "available", held.qty, "released"))
                touched.add((item, loc))
        for item, loc in sorted(touched):
            engine.warehouses[loc].serve_backlog(engine.state.skus[(item, loc)])

    def _road_closure(self, d: Disruption) -> Any:
        """Close a road, reopen it after ``duration``; the fleet re-routes around it meanwhile."""
        env = self.engine.env
        assert d.road is not None
        a, b = d.road
        self.engine.emit(E.DisruptionStarted(env.now, d.kind, f"{a}-{b}", d.factor, env.now + d.duration))
        self.engine.emit(E.RoadClosed(env.now, a, b))
        yield env.timeout(d.duration)
        self.engine.emit(E.RoadReopened(env.now, a, b))
        self.engine.emit(E.DisruptionEnded(env.now, d.kind, f"{a}-{b}"))
