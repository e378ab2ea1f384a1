"""Scenario comparison: pairing, paired differences, precision loop, warm-up choice, subset selection."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from tests.conftest import small_scenario
from twin.comparison import compare, paired_differences, select_subset
from twin.errors import TwinError


def _policy(level: float) -> dict:
    return {"inventory": {"use": "s_S", "params": {"service_level": level}}}


def test_same_seed_pairs_replications_and_differences_use_them() -> None:
    low = small_scenario(name="low", policies=_policy(0.6))
    high = small_scenario(name="high", policies=_policy(0.99))
    result = compare([low, high], replications=4, workers=1)
    assert result.names == ["low", "high"]
    assert result.kpis.index.get_level_values("replication").tolist() == [0, 1, 2, 3] * 2
    d = result.differences.loc[("high", "fill_rate")]
    expected = (result.kpis.loc["high"]["fill_rate"] - result.kpis.loc["low"]["fill_rate"]).mean()
    assert d["diff"] == pytest.approx(expected)
    assert d["ci_low"] <= d["diff"] <= d["ci_high"]
    # A much higher service level holds more stock: that difference is significant.
    assert result.differences.loc[("high", "avg_on_hand_value"), "significant"]
    assert result.differences.loc[("high", "avg_on_hand_value"), "diff"] > 0
    assert result.ranking is None  # only two scenarios


def test_identical_scenarios_have_zero_differences_and_identical_logs() -> None:
    a = small_scenario(name="a")
    b = small_scenario(name="b")
    result = compare([a, b], replications=3, workers=1)
    assert (result.differences["diff"].fillna(0) == 0).all()
    assert not result.differences["significant"].any()
    assert result.hashes["a"] == result.hashes["b"]


def test_paired_differences_by_hand() -> None:
    kpis = pd.DataFrame({"scenario": ["a"] * 3 + ["b"] * 3, "replication": [0, 1, 2] * 2,
                         "x": [1.0, 2.0, 3.0, 2.0, 3.5, 4.0]}).set_index(["scenario", "replication"])
    d = paired_differences(kpis, ["a", "b"], ["x"]).loc[("b", "x")]
    diffs = np.array([1.0, 1.5, 1.0])
    half = 4.302652729911275 * diffs.std(ddof=1) / math.sqrt(3)  # t(0.975, 2)
    assert d["diff"] == pytest.approx(diffs.mean())
    assert d["ci_low"] == pytest.approx(diffs.mean() - half)
    assert d["significant"]


def test_subset_selection_screens_out_clearly_worse_systems() -> None:
    rng = np.random.default_rng(1)
    common = rng.normal(0, 5, 20)  # common random numbers: shared noise
    costs = {"good": 100 + common + rng.normal(0, 1, 20), "close": 100.3 + common + rng.normal(0, 1, 20),
             "bad": 110 + common + rng.normal(0, 1, 20)}
    kpis = pd.DataFrame([{"scenario": s, "replication": r, "total_cost": v[r]}
                         for s, v in costs.items() for r in range(20)]).set_index(["scenario", "replication"])
    ranking = select_subset(kpis, list(costs), "total_cost")
    assert "bad" in ranking.not_best
    assert "good" in ranking.could_be_best and "close" in ranking.could_be_best
    assert "Nelson" in ranking.procedure
    # For a KPI where more is better, the direction flips.
    kpis["fill_rate"] = -kpis["total_cost"]
    assert select_subset(kpis, list(costs), "fill_rate").not_best == ["bad"]


def test_three_scenarios_are_ranked() -> None:
    scs = [small_scenario(name=f"sl{s}", horizon="90d", policies=_policy(s)) for s in (0.3, 0.9, 0.99)]
    result = compare(scs, replications=5, workers=1, rank_kpi="fill_rate")
    assert result.ranking is not None
    assert set(result.ranking.could_be_best) | set(result.ranking.not_best) == {"sl0.3", "sl0.9", "sl0.99"}
    assert "sl0.3" in result.ranking.not_best


def test_precision_adds_replications_until_reached_or_capped() -> None:
    a = small_scenario(name="a", horizon="30d")
    b = small_scenario(name="b", horizon="30d", policies=_policy(0.8))
    capped = compare([a, b], replications=3, precision=0.001, max_replications=6, workers=1)
    assert capped.replications == 6 and not capped.precision.reached
    assert any("not reached" in w for w in capped.warnings)
    # Precision is judged on the KPIs the scenarios list (rare events such as stockouts may never
    # reach a relative precision; a planner leaves them out or raises the cap).
    kpis = ["fill_rate", "avg_on_hand_value", "total_cost"]
    a2, b2 = a.model_copy(update={"kpis": kpis}), b.model_copy(update={"kpis": kpis})
    loose = compare([a2, b2], replications=3, precision=0.05, max_replications=50, workers=1)
    assert loose.precision.reached and 3 <= loose.replications < 50
    assert set(loose.precision.worst) == set(kpis)
    assert all(v <= 0.05 for v in loose.precision.worst.values())


def test_warmup_choice_is_reported() -> None:
    a = small_scenario(name="a", horizon="60d", warmup="5d")
    b = small_scenario(name="b", horizon="60d", warmup="5d")
    assert compare([a, b], replications=2, workers=1).warmup.method == "scenario file"
    set_ = compare([a, b], replications=2, workers=1, warmup=48.0)
    assert set_.warmup.method == "command line" and set_.warmup.hours == 48.0
    auto = compare([a, b], replications=2, workers=1, warmup="auto")
    assert auto.warmup.method == "MSER-5" and 0 <= auto.warmup.hours <= 30 * 24
    assert "pilot" in auto.warmup.detail


def test_different_horizons_or_sites_warn_not_paired() -> None:
    a = small_scenario(name="a", horizon="20d")
    b = small_scenario(name="b", horizon="25d")
    result = compare([a, b], replications=2, workers=1)
    assert any("not paired" in w for w in result.warnings)
    site = small_scenario(name="c").site.model_dump(by_alias=True, mode="json")
    site["items"][0]["unit_cost"] = 99.0
    c = small_scenario(name="c", site=site)
    result = compare([a, c], replications=2, workers=1)
    assert any("different site" in w for w in result.warnings)


def test_bad_arguments() -> None:
    a = small_scenario(name="a")
    with pytest.raises(TwinError, match="at least two"):
        compare([a], replications=2, workers=1)
    with pytest.raises(TwinError, match="unknown KPI 'speed'"):
        compare([a, a], replications=2, workers=1, rank_kpi="speed")
    with pytest.raises(TwinError, match="between 0 and 1"):
        compare([a, a], replications=2, workers=1, precision=5)


def test_python_api_twin_compare_returns_dataframes_for_a_notebook() -> None:
    import twin

    result = twin.compare([small_scenario(name="a"), small_scenario(name="b", policies=_policy(0.8))],
                          replications=2, workers=1)
    assert isinstance(result, twin.ComparisonResult)
    assert isinstance(result.kpis, pd.DataFrame) and result.kpis.shape[0] == 4
    assert isinstance(result.summary, pd.DataFrame) and ("a", "fill_rate") in result.summary.index
    assert isinstance(result.differences, pd.DataFrame) and ("b", "total_cost") in result.differences.index
