"""What a forecast-driven replenishment policy plans with: per-SKU demand rate and its error.

Pure: the simulation calls ``plan`` on its re-forecast cycle with the demand history accumulated so
far, and the forecast KPIs (``twin.kpi_forecast``) call the same function on the event log's
history afterwards, so the forecasts scored are exactly the ones the policy planned with.

- rate: the forecast's mean per day over each SKU's protection interval (lead time + review);
- error: the root mean square of the one-step-ahead forecast errors over the history, per day.
  Safety stock then comes from it through the usual formula over the protection interval
  (``policies.inventory.safety_stock``: sigma_P = sqrt(P sd² + mean² sd_L²)), which treats daily
  forecast errors as independent.

Before ``min_history`` days (or for a SKU whose fit yields no error estimate) the site's stated
demand law is kept.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from policies.forecast import forecast_rates
from twin.model.durations import HOURS_PER_DAY
from twin.model.forecast import ForecastSettings
from twin.model.observations import SkuParameters

__all__ = ["plan", "retrain_times"]


def retrain_times(settings: ForecastSettings, horizon: float) -> list[float]:
    """Hours at which the forecasts are re-fitted: every ``retrain`` from the first one with
    ``min_history`` behind it (a whole number of days), up to the horizon."""
    every = float(settings.retrain)
    if every <= 0:
        raise ValueError(f"retrain must be positive, got {every}h")
    k = int(np.ceil(float(settings.min_history) / every - 1e-9))
    out = []
    t = k * every
    while t < horizon:
        if int(t // HOURS_PER_DAY) >= max(int(np.ceil(float(settings.min_history) / HOURS_PER_DAY)), 2):
            out.append(t)
        t += every
    return out


def plan(history: np.ndarray, prior: SkuParameters, settings: ForecastSettings,
         review_days: float) -> tuple[SkuParameters, list[str]]:
    """SKU parameters with demand mean and sd per day from forecasts of ``history`` (days x SKUs)."""
    periods = np.asarray(prior.lead_time_mean_days, dtype=float) + review_days
    mean, sd, used = forecast_rates(history, settings.use, periods, settings.season_length, settings.params)
    sd = np.where(np.isnan(sd), prior.demand_sd_per_day, sd)
    mean.setflags(write=False)
    sd.setflags(write=False)
    return replace(prior, demand_mean_per_day=mean, demand_sd_per_day=sd), used
