"""Scenario settings for forecast-driven replenishment (``policies.forecast``)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from twin.model.durations import Duration
from twin.model.site import Strict

__all__ = ["ForecastSettings", "FORECAST_KPI_NAMES", "SIM_METHODS"]

FORECAST_KPI_NAMES: tuple[str, ...] = ("forecast_mae", "forecast_bias", "forecast_mase")
# The methods of policies.forecast a simulation may use (not 'best': a backtest per SKU per retrain
# would cost more than the rest of the run).
SIM_METHODS = ("auto", "moving_average", "ses", "holt_winters_add", "holt_winters_mul", "croston", "sba", "tsb")


class ForecastSettings(Strict):
    use: Literal[SIM_METHODS] = Field(  # type: ignore[valid-type]
        "auto", description="forecasting method; auto picks one per SKU by demand pattern (ADI / CV²)")
    retrain: Duration = Field(  # type: ignore[assignment]
        "1w", description="re-forecast every this long from the demand seen so far")
    min_history: Duration = Field(  # type: ignore[assignment]
        "14d", description="plan from the site's stated demand law until this much history has accumulated")
    season_length: int = Field(7, ge=2, description="season in days (Holt-Winters)")
    params: dict[str, Any] = Field(default_factory=dict,
                                   description="method parameters: alpha, alpha_d, alpha_p, window, trend")
