"""Demand forecasting: point forecasts per item, demand-pattern classification, method choice.

Pure decision code (no engine imports): a forecaster takes one item's history of demand per
period (a day or a week) and returns a forecast for the next ``horizon`` periods, with the
one-step-ahead fitted values over the history (their errors give the forecast error that safety
stock is planned on).

Methods (``METHODS``):

- ``moving_average``: mean of the last ``window`` periods (default 7);
- ``ses``: simple exponential smoothing, level started at the first value (``alpha``, default 0.2);
- ``holt_winters_add`` / ``holt_winters_mul``: Holt-Winters with additive / multiplicative
  seasonality of ``season_length`` periods and an additive trend (``trend: null`` drops it),
  fitted by statsmodels' ``ExponentialSmoothing`` (maximum likelihood);
- ``croston``, ``sba``, ``tsb``: intermittent demand (Croston 1972; Syntetos-Boylan approximation;
  Teunter-Syntetos-Babai 2011), written here because statsmodels has none of them.

Croston conventions (the same as statsforecast's ``CrostonClassic``): the demand size and the
interval are smoothed with the same ``alpha`` (default 0.1), each started at its first value; the
first interval counts the periods from the start of the series to the first demand inclusive.
SBA multiplies Croston's forecast by ``1 - alpha / 2``. TSB smooths the probability of a demand
in every period (``alpha_p``) and the size only when demand occurs (``alpha_d``).

Classification (Syntetos, Boylan & Croston 2005): ADI = periods / periods with demand, CV² =
squared coefficient of variation of the non-zero sizes (population sd); cut-offs ADI 1.32 and
CV² 0.49 give smooth, erratic, intermittent and lumpy. ``auto`` picks a method by pattern
(``BY_PATTERN``); ``best`` (see ``policies.forecast_backtest``) by rolling-origin backtest error.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.signal import lfilter

__all__ = [
    "METHODS",
    "CHOOSERS",
    "BY_PATTERN",
    "FALLBACK",
    "ADI_CUTOFF",
    "CV2_CUTOFF",
    "Fit",
    "ForecastError",
    "min_points",
    "fit_forecast",
    "classify",
    "choose_method",
    "forecast_rates",
]

METHODS: tuple[str, ...] = (
    "moving_average", "ses", "holt_winters_add", "holt_winters_mul", "croston", "sba", "tsb",
)
CHOOSERS: tuple[str, ...] = ("auto", "best")
ADI_CUTOFF = 1.32
CV2_CUTOFF = 0.49
BY_PATTERN: dict[str, str] = {
    "smooth": "ses",
    "erratic": "ses",
    "intermittent": "sba",
    "lumpy": "tsb",
    "no_demand": "moving_average",
}
FALLBACK = "moving_average"  # needs one point: what an item with too little history gets


class ForecastError(ValueError):
    """A method name or parameter that cannot be used; the message says why."""


@dataclass(frozen=True)
class Fit:
    """A method's forecast for the next periods and its one-step-ahead fits over the history."""

    method: str
    forecast: np.ndarray  # horizon values
    fitted: np.ndarray  # same length as the history; nan where the method had nothing to go on
    fallback: str = ""  # why another method than the one asked for was used ('' if none)

    def residual_sd(self, history: np.ndarray) -> float:
        """Root mean square of the one-step-ahead errors (nan with fewer than two)."""
        e = np.asarray(history, dtype=float) - self.fitted
        e = e[~np.isnan(e)]
        return float(np.sqrt(np.mean(e * e))) if len(e) >= 2 else math.nan


def min_points(method: str, season_length: int = 7) -> int:
    """Fewest history points a method needs."""
    if method in ("holt_winters_add", "holt_winters_mul"):
        return 2 * season_length + 2
    if method == "moving_average":
        return 1
    if method in METHODS:
        return 2
    raise ForecastError(f"unknown forecasting method {method!r}; use one of {', '.join(METHODS + CHOOSERS)}")


def _ses_path(y: np.ndarray, alpha: float) -> tuple[float, np.ndarray]:
    """SES started at y[0]: the final level, and the one-step fits (fits[0] is nan)."""
    n = len(y)
    fitted = np.full(n, np.nan)
    if n == 0:
        return math.nan, fitted
    if n == 1:
        return float(y[0]), fitted
    levels = lfilter([alpha], [1.0, alpha - 1.0], y[1:], zi=[(1.0 - alpha) * y[0]])[0]
    fitted[1] = y[0]
    fitted[2:] = levels[:-1]
    return float(levels[-1]), fitted


def _moving_average(y: np.ndarray, h: int, window: int = 7) -> tuple[np.ndarray, np.ndarray]:
    if window < 1:
        raise ForecastError(f"moving_average window must be at least 1, got {window}")
    c = np.concatenate([[0.0], np.cumsum(y)])
    idx = np.arange(len(y))
    lo = np.maximum(idx - window, 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        fitted = (c[idx] - c[lo]) / (idx - lo)
    fitted[0] = np.nan
    last = float(np.mean(y[-window:])) if len(y) else 0.0
    return np.full(h, last), fitted


def _croston(y: np.ndarray, h: int, alpha: float, debias: bool) -> tuple[np.ndarray, np.ndarray]:
    """Croston (debias=False) or SBA: sizes and intervals smoothed at demand occurrences only."""
    n = len(y)
    fitted = np.full(n, np.nan)
    nz = np.flatnonzero(y > 0)
    factor = 1.0 - alpha / 2.0 if debias else 1.0
    if len(nz) == 0:
        return np.zeros(h), np.where(np.arange(n) > 0, 0.0, np.nan)
    z = float(y[nz[0]])
    p = float(nz[0] + 1)
    current = factor * z / p
    for j, t in enumerate(nz):
        if j > 0:
            z += alpha * (float(y[t]) - z)
            p += alpha * float(t - nz[j - 1] - p)
        # The estimate after demand at t holds for every later period until the next demand.
        end = nz[j + 1] + 1 if j + 1 < len(nz) else n
        current = factor * z / p
        fitted[t + 1:end] = current
    return np.full(h, current), fitted


def _tsb(y: np.ndarray, h: int, alpha_d: float, alpha_p: float) -> tuple[np.ndarray, np.ndarray]:
    n = len(y)
    occurs = (y > 0).astype(float)
    nz = np.flatnonzero(y > 0)
    if len(nz) == 0:
        return np.zeros(h), np.where(np.arange(n) > 0, 0.0, np.nan)
    p_final, p_fit = _ses_path(occurs, alpha_p)
    z_final, z_fit = _ses_path(y[nz].astype(float), alpha_d)
    # Size estimate in force at each period: after the k-th demand, the level with k demands seen.
    size_now = np.full(n, np.nan)
    z_levels = np.append(z_fit[1:], z_final)  # level after demand 1, 2, ...
    for j, t in enumerate(nz):
        end = nz[j + 1] + 1 if j + 1 < len(nz) else n
        size_now[t + 1:end] = z_levels[j]
    fitted = p_fit * size_now
    return np.full(h, p_final * z_final), fitted


def _holt_winters(y: np.ndarray, h: int, seasonal: str, season_length: int,
                  trend: str | None) -> tuple[np.ndarray, np.ndarray]:
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    model = ExponentialSmoothing(y, trend=trend, seasonal=seasonal, seasonal_periods=season_length,
                                 initialization_method="estimated")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter: the fit is still the best found
        res = model.fit()
    fitted = np.asarray(res.fittedvalues, dtype=float).copy()
    return np.asarray(res.forecast(h), dtype=float), fitted


def fit_forecast(history: Any, method: str, horizon: int, season_length: int = 7, **params: Any) -> Fit:
    """Forecast ``horizon`` periods after ``history`` with ``method``.

    If the history is shorter than the method needs (``min_points``), or a multiplicative model meets
    a zero, it falls back (to ``FALLBACK`` or the additive model) and says so in ``Fit.fallback``.
    """
    y = np.asarray(history, dtype=float)
    h = int(horizon)
    if method in CHOOSERS:
        method = choose_method(y)
    need = min_points(method, season_length)
    if len(y) == 0:
        raise ForecastError("no history to forecast from")
    if len(y) < need:
        fit = fit_forecast(y, FALLBACK, h, season_length, **_only(params, FALLBACK))
        return Fit(fit.method, fit.forecast, fit.fitted,
                   f"{method} needs {need} points, history has {len(y)}: used {FALLBACK}")
    if method == "holt_winters_mul" and (y <= 0).any():
        fit = fit_forecast(y, "holt_winters_add", h, season_length, **params)
        return Fit(fit.method, fit.forecast, fit.fitted, "holt_winters_mul needs positive values: used additive")
    p = _only(params, method)
    if method == "moving_average":
        fc, fitted = _moving_average(y, h, int(p.get("window", 7)))
    elif method == "ses":
        level, fitted = _ses_path(y, float(p.get("alpha", 0.2)))
        fc = np.full(h, level)
    elif method in ("croston", "sba"):
        fc, fitted = _croston(y, h, float(p.get("alpha", 0.1)), debias=method == "sba")
    elif method == "tsb":
        fc, fitted = _tsb(y, h, float(p.get("alpha_d", 0.1)), float(p.get("alpha_p", 0.1)))
    else:
        trend = p.get("trend", "add")
        fc, fitted = _holt_winters(y, h, "add" if method == "holt_winters_add" else "mul", season_length, trend)
    for name in ("alpha", "alpha_d", "alpha_p"):
        if name in p and not 0 < float(p[name]) <= 1:
            raise ForecastError(f"{name} must be in (0, 1], got {p[name]}")
    return Fit(method, fc, fitted)


_PARAMS = {
    "moving_average": ("window",),
    "ses": ("alpha",),
    "croston": ("alpha",),
    "sba": ("alpha",),
    "tsb": ("alpha_d", "alpha_p"),
    "holt_winters_add": ("trend",),
    "holt_winters_mul": ("trend",),
}


def _only(params: dict[str, Any], method: str) -> dict[str, Any]:
    """The parameters that concern ``method`` (one params mapping can serve every method)."""
    return {k: v for k, v in params.items() if k in _PARAMS.get(method, ())}


def classify(history: Any) -> tuple[float, float, str]:
    """ADI, CV² and the demand pattern (smooth, erratic, intermittent, lumpy, or no_demand)."""
    y = np.asarray(history, dtype=float)
    sizes = y[y > 0]
    if len(sizes) == 0:
        return math.inf, math.nan, "no_demand"
    adi = len(y) / len(sizes)
    mean = float(sizes.mean())
    cv2 = float(sizes.var() / (mean * mean))
    if adi < ADI_CUTOFF:
        pattern = "smooth" if cv2 < CV2_CUTOFF else "erratic"
    else:
        pattern = "intermittent" if cv2 < CV2_CUTOFF else "lumpy"
    return adi, cv2, pattern


def choose_method(history: Any) -> str:
    """The method for an item's demand pattern (``BY_PATTERN``)."""
    return BY_PATTERN[classify(history)[2]]


def forecast_rates(
    history: np.ndarray,
    method: str,
    periods: np.ndarray,
    season_length: int = 7,
    params: dict[str, Any] | None = None,
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Per column (SKU) of ``history`` (periods x SKUs): the mean forecast per period over the next
    ``periods[k]`` periods, the one-step forecast error (RMSE of the fits; nan if too few), and the
    method used. This is what a forecast-driven replenishment policy plans with."""
    hist = np.asarray(history, dtype=float)
    n_sku = hist.shape[1]
    spans = np.maximum(np.ceil(np.asarray(periods, dtype=float)), 1).astype(int)
    horizon = int(spans.max()) if n_sku else 1
    mean = np.zeros(n_sku)
    sd = np.full(n_sku, np.nan)
    used: list[str] = []
    for k in range(n_sku):
        y = hist[:, k]
        fit = fit_forecast(y, method, horizon, season_length, **(params or {}))
        mean[k] = max(float(np.mean(fit.forecast[:spans[k]])), 0.0)
        sd[k] = fit.residual_sd(y)
        used.append(fit.method)
    return mean, sd, used
