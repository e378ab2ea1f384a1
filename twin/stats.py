"""Confidence intervals over replications (Student t), shared by runs and comparisons."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["mean_ci", "summarise"]


def mean_ci(values: np.ndarray | pd.Series, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and the two ends of its ``level`` confidence interval (t distribution).

    With one replication, or values that are not numbers, the interval is (nan, nan).
    """
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    n = len(x)
    if n == 0:
        return math.nan, math.nan, math.nan
    mean = float(x.mean())
    if n < 2:
        return mean, math.nan, math.nan
    half = float(stats.t.ppf(0.5 + level / 2, n - 1) * x.std(ddof=1) / math.sqrt(n))
    return mean, mean - half, mean + half


def summarise(kpis: pd.DataFrame, names: list[str], level: float = 0.95) -> pd.DataFrame:
    """One row per KPI: mean, ci_low, ci_high, half_width, n."""
    rows = []
    for name in names:
        mean, lo, hi = mean_ci(kpis[name].to_numpy(), level)
        rows.append({"kpi": name, "mean": mean, "ci_low": lo, "ci_high": hi,
                     "half_width": (hi - lo) / 2 if not math.isnan(lo) else math.nan,
                     "n": int(kpis[name].notna().sum())})
    return pd.DataFrame(rows).set_index("kpi")
