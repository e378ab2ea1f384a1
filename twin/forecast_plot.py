"""The forecast plot of `twin forecast`: each chosen item's history and forecast (headless matplotlib)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["forecast_png"]


def forecast_png(history: Any, forecasts: pd.DataFrame, items: list[str], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = max(len(items), 1)
    fig, axes = plt.subplots(n, 1, figsize=(9, 2.4 * n), squeeze=False)
    for ax, key in zip(axes[:, 0], items, strict=False):
        y = history.series[key]
        ax.plot(np.arange(len(y)), y, lw=0.8, color="0.4", label="history")
        fc = forecasts[forecasts["item"] == key]
        if len(fc):
            ax.plot(len(y) - 1 + fc["step"].to_numpy(), fc["forecast"].to_numpy(), lw=1.6, color="C1",
                    label=f"forecast ({fc['method'].iloc[0]})")
        ax.set_title(key, fontsize=9, loc="left")
        ax.set_xlabel(f"period ({history.period_days} d)", fontsize=8)
        ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
