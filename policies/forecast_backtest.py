"""Rolling-origin backtesting of forecasters, accuracy tables, and choosing a method by backtest.

For an item's history y[0..n), origins run from ``first`` to n - 1 (at most ``origins`` of them,
evenly spaced): at each origin o the method is fitted on y[:o] and forecasts y[o:o+horizon].
Errors e = forecast - actual are pooled over origins and lead times:

- MAE = mean |e|, RMSE = sqrt(mean e²), bias = mean e (positive: over-forecasting);
- MASE = MAE / mean |y[t] - y[t-1]| over y[:first] (the in-sample one-step naive error; nan if 0);
- sMAPE = 100 * mean 2|e| / (|actual| + |forecast|) over points where the denominator is not 0
  (nan if there is none: an all-zero stretch has no defined percentage error).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from policies.forecast import CHOOSERS, FALLBACK, METHODS, classify, fit_forecast, min_points

__all__ = ["Accuracy", "backtest", "choose_by_backtest", "accuracy_table", "summarise_accuracy", "METRICS"]

METRICS = ("mae", "rmse", "bias", "mase", "smape")


@dataclass(frozen=True)
class Accuracy:
    method: str
    n: int  # forecast points compared
    mae: float
    rmse: float
    bias: float
    mase: float
    smape: float
    fallback: str = ""


def backtest(history: Any, method: str, horizon: int, origins: int = 8, first: int | None = None,
             season_length: int = 7, **params: Any) -> Accuracy:
    """Rolling-origin accuracy of ``method`` on one history (see the module docstring)."""
    y = np.asarray(history, dtype=float)
    n = len(y)
    start = first if first is not None else max(min_points(method if method in METHODS else FALLBACK,
                                                           season_length), n // 2)
    start = min(max(start, 1), n - 1) if n >= 2 else n
    if n < 2 or start >= n:
        return Accuracy(method, 0, math.nan, math.nan, math.nan, math.nan, math.nan,
                        f"{n} point(s): too few to backtest")
    points = np.unique(np.linspace(start, n - 1, min(origins, n - start)).round().astype(int))
    errors: list[np.ndarray] = []
    actuals: list[np.ndarray] = []
    used = method
    fallback = ""
    for o in points:
        h = min(horizon, n - o)
        fit = fit_forecast(y[:o], method, h, season_length, **params)
        used, fallback = fit.method, fit.fallback or fallback
        errors.append(fit.forecast[:h] - y[o:o + h])
        actuals.append(y[o:o + h])
    e = np.concatenate(errors)
    a = np.concatenate(actuals)
    f = a + e
    scale = float(np.mean(np.abs(np.diff(y[:start])))) if start >= 2 else math.nan
    mae = float(np.mean(np.abs(e)))
    denom = np.abs(a) + np.abs(f)
    ok = denom > 0
    smape = float(100.0 * np.mean(2.0 * np.abs(e[ok]) / denom[ok])) if ok.any() else math.nan
    return Accuracy(
        method=used if method not in CHOOSERS else f"{method}:{used}",
        n=len(e),
        mae=mae,
        rmse=float(np.sqrt(np.mean(e * e))),
        bias=float(np.mean(e)),
        mase=mae / scale if scale and scale > 0 else math.nan,
        smape=smape,
        fallback=fallback,
    )


def choose_by_backtest(history: Any, horizon: int, candidates: tuple[str, ...] | None = None,
                       season_length: int = 7, **params: Any) -> tuple[str, Accuracy]:
    """The candidate with the lowest backtest MAE (ties: the earlier candidate). Candidates that
    need more history than there is are skipped; with none left, ``FALLBACK``."""
    y = np.asarray(history, dtype=float)
    cands = candidates or tuple(m for m in METHODS if m != "holt_winters_mul" or (y > 0).all())
    best: tuple[str, Accuracy] | None = None
    for m in cands:
        if len(y) < min_points(m, season_length) + 1:
            continue
        acc = backtest(y, m, horizon, season_length=season_length, **params)
        if acc.fallback or math.isnan(acc.mae):
            continue
        if best is None or acc.mae < best[1].mae:
            best = (m, acc)
    if best is None:
        acc = backtest(y, FALLBACK, horizon, season_length=season_length, **params)
        return FALLBACK, acc
    return best


def accuracy_table(histories: dict[str, np.ndarray], method: str, horizon: int,
                   abc: dict[str, str] | None = None, season_length: int = 7,
                   **params: Any) -> pd.DataFrame:
    """One row per item: ABC class, pattern (ADI, CV²), the method used, its backtest accuracy, and
    any fallback. ``method`` may be a method name, ``auto`` (by pattern) or ``best`` (by backtest)."""
    rows = []
    for item, y in histories.items():
        adi, cv2, pattern = classify(y)
        if method == "best":
            chosen, acc = choose_by_backtest(y, horizon, season_length=season_length, **params)
        else:
            acc = backtest(y, method, horizon, season_length=season_length, **params)
            chosen = acc.method
        rows.append({
            "item": item, "abc": (abc or {}).get(item, ""), "pattern": pattern,
            "adi": adi, "cv2": cv2, "method": chosen.split(":")[-1], "points": len(y), "n": acc.n,
            "mae": acc.mae, "rmse": acc.rmse, "bias": acc.bias, "mase": acc.mase, "smape": acc.smape,
            "fallback": acc.fallback,
        })
    cols = ["item", "abc", "pattern", "adi", "cv2", "method", "points", "n", *METRICS, "fallback"]
    return pd.DataFrame(rows, columns=cols)


def summarise_accuracy(table: pd.DataFrame) -> pd.DataFrame:
    """Mean accuracy by ABC class and demand pattern, with the number of items."""
    if table.empty:
        return pd.DataFrame(columns=["abc", "pattern", "items", *METRICS])
    g = table.groupby(["abc", "pattern"], dropna=False)
    out = g[list(METRICS)].mean()
    out.insert(0, "items", g.size())
    return out.reset_index()
