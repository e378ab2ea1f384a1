"""Periodic-review base stock with Poisson demand and a fixed lead time, against the analytic
values of ../shared/validation/analytic_cases.yaml (base_stock_periodic_review_poisson).

Timing convention: the engine follows convention A. The policy reviews at the start of each period
and orders up to S; an order placed at the start of period t arrives at the start of period t+L,
before that period's demand; stock is measured at the end of each period. The protection interval
is therefore L+1 periods (L=0 is the newsvendor).
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from tests.validation.conftest import (
    analytic_cases,
    describe,
    family_level,
    inside,
    misses_allowed,
    single_item_scenario,
)
from twin.experiment import simulate
from twin.kpi import KpiWindow, level_series, period_end_levels

REPLICATIONS = 10
PERIODS = {"BS0": 400, "BS1": 2000, "BS2": 1500, "BS3": 3000}
WARMUP = 20
MEASURES = (
    "expected_on_hand_end_of_period",
    "expected_backorders_end_of_period",
    "fill_rate_type2",
    "expected_cost_per_period_h_onhand_plus_p_backorders",
)


def _cases() -> list[dict]:
    return analytic_cases()["base_stock_periodic_review_poisson"]["cases"]  # type: ignore[no-any-return]


@cache
def _simulated(case_id: str) -> dict[str, np.ndarray]:
    """Per-replication estimates of every measure for one case (computed once per session)."""
    case = next(c for c in _cases() if c["id"] == case_id)
    inputs = case["inputs"]
    periods = PERIODS[case_id]
    scenario = single_item_scenario(
        name=case_id,
        demand_mean=inputs["demand_mean_per_period"],
        lead_time_days=inputs["lead_time_periods_L"],
        inventory={"use": "base_stock", "params": {"level": inputs["base_stock_level_S"]}},
        holding=inputs["holding_cost_h"],
        backorder=inputs["backorder_cost_p"],
        horizon_days=WARMUP + periods,
        warmup_days=WARMUP,
        seed=20261121,
    )
    result = simulate(scenario, replications=REPLICATIONS, workers=2)
    window = KpiWindow(scenario.warmup, scenario.horizon, scenario.costing)
    on_hand, backorders = [], []
    for _, events in result.events.groupby("replication"):
        ends = period_end_levels(level_series(events), window)
        on_hand.append(ends["on_hand"].mean())
        backorders.append(ends["backorder"].mean())
    return {
        "expected_on_hand_end_of_period": np.array(on_hand),
        "expected_backorders_end_of_period": np.array(backorders),
        "fill_rate_type2": result.kpis["fill_rate"].to_numpy(),
        # The cost KPIs come from the same log: h * on hand + p * backorders, per period.
        "expected_cost_per_period_h_onhand_plus_p_backorders": result.kpis["total_cost"].to_numpy() / periods,
    }


@pytest.mark.slow
@pytest.mark.parametrize("case", _cases(), ids=lambda c: c["id"])
def test_base_stock_matches_convention_a(case: dict) -> None:
    expected = case["expected_convention_A_protection_L_plus_1"]
    sim = _simulated(case["id"])
    level = family_level(len(_cases()) * len(MEASURES))
    for key in MEASURES:
        assert inside(expected[key], sim[key], level), describe(f"{case['id']} {key}", expected[key], sim[key], level)


@pytest.mark.slow
def test_base_stock_95_percent_intervals_miss_no_more_than_chance() -> None:
    misses = []
    for case in _cases():
        expected = case["expected_convention_A_protection_L_plus_1"]
        sim = _simulated(case["id"])
        misses += [describe(f"{case['id']} {k}", expected[k], sim[k], 0.95) for k in MEASURES
                   if not inside(expected[k], sim[k], 0.95)]
    allowed = misses_allowed(len(_cases()) * len(MEASURES))
    assert len(misses) <= allowed, "\n".join(misses)
