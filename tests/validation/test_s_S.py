"""(s,S) with Poisson demand and zero lead time, against the Zheng & Federgruen (1991) table and
Snyder & Shen's examples in ../shared/validation/analytic_cases.yaml (sS_policy_poisson).

Convention (as in the file): at the start of each period, if the inventory position is <= s, order
up to S; the order arrives at once, before demand; h and p are charged on the end-of-period level
and K per order. The long-run average cost per period of each policy is compared with the published
cost through the 95% confidence interval over replications (see conftest for how the family of
checks is judged).
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

REPLICATIONS = 8
WARMUP = 10


def _zf() -> list[dict]:
    table = analytic_cases()["sS_policy_poisson"]["zheng_federgruen_1991_table"]
    common = table["inputs_common"]
    return [{"id": f"ZF-mean{inst['demand_mean']}", "cost": inst["cost_opt_published"], "s": inst["s_opt"],
             "S": inst["S_opt"], "mean": inst["demand_mean"], "h": common["holding_cost_h"],
             "p": common["backorder_cost_p"], "K": common["fixed_order_cost_K"]} for inst in table["instances"]]


def _fosct() -> list[dict]:
    out = []
    for case in analytic_cases()["sS_policy_poisson"]["fosct_cases"]:
        inp = case["inputs"]
        for fixed in case["fixed_policy_costs"]:
            out.append({"id": f"{case['id']}-s{fixed['s']}-S{fixed['S']}", "cost": fixed["cost"], "s": fixed["s"],
                        "S": fixed["S"], "mean": inp["poisson_mean"], "h": inp["h"], "p": inp["p"], "K": inp["K"]})
    return out


CASES = _zf() + _fosct()


@cache
def _cost_per_period(case_id: str) -> np.ndarray:
    c = next(c for c in CASES if c["id"] == case_id)
    # Fewer periods for fast movers keeps every case near the same number of demand units.
    periods = max(200, int(6000 / c["mean"])) if case_id.startswith("ZF") else 1500
    scenario = single_item_scenario(
        name=case_id, demand_mean=c["mean"], lead_time_days=0,
        inventory={"use": "s_S", "params": {"s": c["s"], "S": c["S"]}},
        holding=c["h"], backorder=c["p"], order_cost=c["K"],
        horizon_days=WARMUP + periods, warmup_days=WARMUP, seed=1991,
    )
    result = simulate(scenario, replications=REPLICATIONS, workers=2, keep_events=False)
    return result.kpis["total_cost"].to_numpy() / periods


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=lambda c: c["id"])
def test_s_S_long_run_cost(case: dict) -> None:
    values = _cost_per_period(case["id"])
    level = family_level(len(CASES))
    assert inside(case["cost"], values, level), describe(f"{case['id']} (s,S)=({case['s']},{case['S']})",
                                                         case["cost"], values, level)


@pytest.mark.slow
def test_s_S_95_percent_intervals_miss_no_more_than_chance() -> None:
    misses = [describe(c["id"], c["cost"], _cost_per_period(c["id"]), 0.95) for c in CASES
              if not inside(c["cost"], _cost_per_period(c["id"]), 0.95)]
    assert len(misses) <= misses_allowed(len(CASES)), "\n".join(misses)
