"""Forecast KPIs of a run that plans from forecasts (``policies.forecast``), from the event log alone.

The daily customer demand per SKU is read from the OrderPlaced rows; the forecasts are re-made with
the same function and the same history the simulation used (``policies.forecast_plan.plan`` at
each retrain time), so they are the rates the policy planned with. Each day of the KPI window
[warm-up, horizon) is predicted by the rate in force that day (the site's stated law before the
first re-forecast). Over the SKUs with any demand in the run:

- forecast_mae: mean |rate - demand| per SKU-day (units per day);
- forecast_bias: mean (rate - demand) per SKU-day (positive: the plan expected more than came);
- forecast_mase: mean over SKUs of MAE / mean |y[d] - y[d-1]| (the day-to-day naive error of the
  SKU's whole daily series in the run; SKUs whose series never changes are left out).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from policies.forecast_plan import plan, retrain_times
from twin.model.durations import HOURS_PER_DAY
from twin.model.forecast import FORECAST_KPI_NAMES
from twin.model.observations import SkuParameters
from twin.model.scenario import Scenario

__all__ = ["forecast_kpis", "has_forecast", "FORECAST_KPI_NAMES"]


def has_forecast(scenario: Scenario) -> bool:
    return scenario.policies.forecast is not None


def daily_demand(events: pd.DataFrame, params: SkuParameters, days: int) -> np.ndarray:
    """Days x SKUs customer demand from the OrderPlaced rows."""
    out = np.zeros((days, len(params)))
    placed = events[events["type"] == "OrderPlaced"]
    if placed.empty:
        return out
    index = {k: j for j, k in enumerate(zip(params.items, params.locations, strict=True))}
    cols = np.array([index[(i, loc)] for i, loc in zip(placed["item"], placed["location"], strict=True)])
    d = (placed["t"].to_numpy(dtype=float) // HOURS_PER_DAY).astype(int)
    ok = d < days
    np.add.at(out, (d[ok], cols[ok]), placed["qty"].to_numpy(dtype=float)[ok])
    return out


def _review_hours(scenario: Scenario) -> float:
    """The inventory policy's review period (0 for continuous review), as the planner saw it."""
    from policies.base import load_policy

    ref = scenario.policies.inventory
    return float(getattr(load_policy(ref.use, ref.params, ref.every), "review", None) or 0.0)


def forecast_kpis(events: pd.DataFrame, scenario: Scenario, params: SkuParameters,
                  warmup: float, horizon: float) -> dict[str, float]:
    """forecast_mae, forecast_bias and forecast_mase of one replication (see the module docstring)."""
    settings = scenario.policies.forecast
    assert settings is not None
    review_hours = _review_hours(scenario)
    days = int(math.ceil(horizon / HOURS_PER_DAY))
    y = daily_demand(events, params, days)
    rate = np.tile(np.asarray(params.demand_mean_per_day, dtype=float), (days, 1))
    for t in retrain_times(settings, horizon):
        d = int(t // HOURS_PER_DAY)
        planned, _ = plan(y[:d], params, settings, review_hours / HOURS_PER_DAY)
        rate[d:] = planned.demand_mean_per_day
    first = int(warmup // HOURS_PER_DAY)
    active = y.sum(axis=0) > 0
    if not active.any() or first >= days:
        return dict.fromkeys(FORECAST_KPI_NAMES, math.nan)
    e = (rate - y)[first:, active]
    scale = np.mean(np.abs(np.diff(y[:, active], axis=0)), axis=0) if days >= 2 else np.zeros(active.sum())
    mae_sku = np.mean(np.abs(e), axis=0)
    ok = scale > 0
    return {
        "forecast_mae": float(np.mean(np.abs(e))),
        "forecast_bias": float(np.mean(e)),
        "forecast_mase": float(np.mean(mae_sku[ok] / scale[ok])) if ok.any() else math.nan,
    }
