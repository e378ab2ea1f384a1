"""Choosing a warm-up period: MSER-5 (White, 1997; White, Cobb & Spratt, 2000).

The daily series (averaged over pilot replications) is cut into batches of 5 days; the truncation
point d minimises the marginal standard error  sum_{i>d} (Z_i - mean_{>d})^2 / (n - d)^2 over
d <= n/2. The warm-up is then 5*d days.
"""

from __future__ import annotations

import numpy as np

__all__ = ["mser5"]


def mser5(series: np.ndarray, batch: int = 5) -> int:
    """Number of leading observations (days) to discard from a series; 0 when none should go."""
    x = np.asarray(series, dtype=float)
    x = x[~np.isnan(x)]
    m = len(x) // batch
    if m < 4:
        return 0
    z = x[: m * batch].reshape(m, batch).mean(axis=1)
    best_d, best = 0, np.inf
    for d in range(0, m // 2 + 1):
        tail = z[d:]
        stat = float(np.sum((tail - tail.mean()) ** 2) / len(tail) ** 2)
        if stat < best - 1e-15:
            best_d, best = d, stat
    return best_d * batch
