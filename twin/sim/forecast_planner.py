"""Re-forecasting inside the simulation (``policies.forecast``): on every retrain time the planner
reads the customer demand recorded in the event log since the last time (OrderPlaced lines),
adds it to a days x SKUs history, and replaces the SKU parameters the inventory policy sees by
ones planned from forecasts (``policies.forecast_plan.plan``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from policies.forecast_plan import plan, retrain_times
from twin.model.durations import HOURS_PER_DAY
from twin.model.events import OrderPlaced
from twin.model.observations import SkuParameters

if TYPE_CHECKING:
    from twin.sim.engine import Engine

__all__ = ["ForecastPlanner", "make_planner"]


class ForecastPlanner:
    def __init__(self, engine: Engine, review_hours: float) -> None:
        settings = engine.scenario.policies.forecast
        assert settings is not None
        self.engine = engine
        self.settings = settings
        self.prior = engine.layout.params
        self.params: SkuParameters = self.prior
        self.review_days = review_hours / HOURS_PER_DAY
        self.index = engine.layout.sku_index
        self.history = np.zeros((0, len(self.prior)))
        self._cursor = 0
        self.on_update: Any = None  # called after every re-plan (continuous review: new reorder points)

    def start(self, until: float) -> None:
        # Re-plans and the demand history by day count from the start of the run (a fork's: its site time).
        start = self.engine.start
        self.engine.env.process(self._cycle([start + t for t in retrain_times(self.settings, until - start)]
                                            if start else retrain_times(self.settings, until)))

    def _absorb(self) -> None:
        """Add the demand of the log lines not read yet to the history (by day)."""
        events = self.engine.log.events
        index = self.index
        end = len(events)
        start = self.engine.start
        for i in range(self._cursor, end):
            ev = events[i]
            if type(ev) is OrderPlaced:
                d = int((ev.t - start) // HOURS_PER_DAY)
                if d >= len(self.history):
                    grow = np.zeros((d + 1 - len(self.history), self.history.shape[1]))
                    self.history = np.vstack([self.history, grow])
                for item, qty in ev.lines:
                    self.history[d, index[(item, ev.location)]] += qty
        self._cursor = end

    def _cycle(self, times: list[float]) -> Any:
        env = self.engine.env
        for t in times:
            yield env.timeout(t - env.now)
            days = int((t - self.engine.start) // HOURS_PER_DAY)
            self._absorb()
            hist = self.history[:days]
            if len(hist) < days:  # days without any demand at the end
                hist = np.vstack([hist, np.zeros((days - len(hist), hist.shape[1]))])
            self.params, _ = plan(hist, self.prior, self.settings, self.review_days)
            if self.on_update is not None:
                self.on_update()


def make_planner(engine: Engine, policy: Any) -> ForecastPlanner | None:
    """The planner of a scenario with ``policies.forecast``, or None."""
    if engine.scenario.policies.forecast is None:
        return None
    return ForecastPlanner(engine, float(getattr(policy, "review", None) or 0.0))
