"""Shared helpers for the checks against published answers in ../shared/validation/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from twin.model.scenario import Scenario

VALIDATION = Path(__file__).resolve().parents[2].parent / "shared" / "validation"


def analytic_cases() -> dict[str, Any]:
    path = VALIDATION / "analytic_cases.yaml"
    if not path.is_file():
        pytest.skip(f"validation data not found at {path}")
    return yaml.safe_load(path.read_text())  # type: ignore[no-any-return]


def single_item_scenario(
    *,
    name: str,
    demand_mean: float,
    lead_time_days: int,
    inventory: dict[str, Any],
    holding: float,
    backorder: float,
    order_cost: float = 0.0,
    horizon_days: int,
    warmup_days: int,
    seed: int,
) -> Scenario:
    """One item, Poisson demand per day, a fixed lead time, and instant warehouse operations, so the
    engine runs the textbook periodic-review model: review at the start of each day, demand during
    the day, costs charged on the level at the end of each day."""
    return Scenario.model_validate({
        "name": name,
        "horizon": f"{horizon_days}d",
        "warmup": f"{warmup_days}d",
        "seed": seed,
        "record_levels": False,
        "site": {
            "name": "single-item",
            "items": [{"id": "sku", "unit_cost": 1, "holding_cost": holding, "backorder_cost": backorder,
                       "order_cost": order_cost}],
            "warehouses": [{"id": "store", "receive_time": "0s", "putaway_time": "0s",
                            "pick_time_per_order": "0s", "pick_time_per_line": "0s"}],
            "suppliers": [{"id": "vendor", "lead_time": {"mean": f"{lead_time_days}d"}, "items": ["sku"]}],
            "demand": [{"item": "sku", "location": "store", "dist": "poisson", "mean": demand_mean}],
        },
        "policies": {"inventory": inventory},
        "costing": {"basis": "period_end", "period": "1d"},
    })


# -- agreement with published answers --------------------------------------------------------------
#
# Each stochastic check compares the analytic value with the 95% confidence interval (Student t over
# independent replications) of the simulated mean. A suite makes many such checks at once, so by
# chance alone about 1 in 20 intervals misses its true value. Two assertions follow from that:
#   * each value must lie in its interval widened to a family-wise 95% level (Bonferroni over the
#     family's checks), so one unlucky interval does not fail the suite but a real bias does;
#   * the number of plain 95% intervals that miss must be no more than chance allows
#     (binomial tail probability above 1%), so a small bias repeated over many cases is caught too.

import math  # noqa: E402

from scipy import stats  # noqa: E402

from twin.stats import mean_ci  # noqa: E402


def interval(values: Any, level: float) -> tuple[float, float, float]:
    return mean_ci(values, level)


def misses_allowed(checks: int, level: float = 0.95, tail: float = 0.01) -> int:
    """Largest number of misses among ``checks`` independent ``level`` intervals that chance explains."""
    k = 0
    while stats.binom.sf(k, checks, 1 - level) > tail:  # P(X > k)
        k += 1
    return k


def family_level(checks: int, level: float = 0.95) -> float:
    return 1 - (1 - level) / checks


def describe(label: str, expected: float, values: Any, level: float) -> str:
    mean, low, high = interval(values, level)
    return f"{label}: expected {expected:.6g}, simulated mean {mean:.6g}, {level:.2%} CI [{low:.6g}, {high:.6g}]"


def inside(expected: float, values: Any, level: float) -> bool:
    _, low, high = interval(values, level)
    return not math.isnan(low) and low <= expected <= high
