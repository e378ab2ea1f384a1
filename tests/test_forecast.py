"""Forecasting (issue 10): methods, classification, backtesting, `twin forecast`, forecast-driven runs."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from policies.forecast import classify, fit_forecast, forecast_rates
from policies.forecast_backtest import accuracy_table, backtest, choose_by_backtest, summarise_accuracy
from tests.conftest import run, small_scenario
from twin.kpi import events_frame
from twin.kpi_forecast import daily_demand, forecast_kpis
from twin.sim.engine import Engine
from twin.sim.layout import compile_layout


def test_simple_methods_by_hand() -> None:
    y = np.array([4.0, 6.0, 5.0, 9.0])
    assert fit_forecast(y, "moving_average", 2, window=2).forecast == pytest.approx([7.0, 7.0])
    # SES started at 4, alpha 0.5: 5, 5, 7.
    fit = fit_forecast(y, "ses", 1, alpha=0.5)
    assert fit.forecast[0] == pytest.approx(7.0)
    assert fit.fitted[1:] == pytest.approx([4.0, 5.0, 5.0])
    # TSB on 0 2 0 4, alphas 0.5: probability 0 -> .5 -> .25 -> .625; size 2 -> 3.
    assert fit_forecast([0, 2, 0, 4], "tsb", 1, alpha_d=0.5, alpha_p=0.5).forecast[0] == pytest.approx(0.625 * 3)


@pytest.mark.parametrize("y,pattern", [
    ([5, 6, 5, 6, 5, 6], "smooth"),            # ADI 1, CV² small
    ([1, 20, 1, 30, 2, 25], "erratic"),        # ADI 1, CV² large
    ([0, 5, 0, 0, 5, 0, 6, 0], "intermittent"),  # ADI 8/3 = 2.67, CV² small
    ([0, 1, 0, 0, 40, 0, 2, 0], "lumpy"),
    ([0, 0, 0], "no_demand"),
])
def test_classification_cut_offs(y: list[float], pattern: str) -> None:
    assert classify(y)[2] == pattern


def test_classification_boundaries_are_the_published_ones() -> None:
    # ADI exactly 1.32 is not below the cut-off: intermittent side.
    y = np.zeros(132)
    y[:100] = 5.0
    adi, cv2, pattern = classify(y)
    assert adi == pytest.approx(1.32) and cv2 == 0.0 and pattern == "intermittent"


def test_auto_picks_by_pattern_and_falls_back_with_a_reason() -> None:
    assert fit_forecast([0, 5, 0, 0, 5, 0, 6, 0], "auto", 3).method == "sba"
    assert fit_forecast([5, 6, 5, 6, 5, 6], "auto", 3).method == "ses"
    short = fit_forecast([3, 4, 5], "holt_winters_add", 2)
    assert short.method == "moving_average" and "needs 16 points" in short.fallback


def test_backtest_metrics_on_a_known_case() -> None:
    # Moving average of window 1 is the naive forecast: at horizon 1 its MAE equals the scale, MASE 1.
    y = np.array([1.0, 3.0, 2.0, 5.0, 4.0, 6.0, 5.0, 8.0])
    acc = backtest(y, "moving_average", 1, origins=50, first=1, window=1)
    e = y[:-1] - y[1:]
    assert acc.n == 7
    assert acc.mae == pytest.approx(np.mean(np.abs(e)))
    assert acc.bias == pytest.approx(np.mean(e))
    assert acc.rmse == pytest.approx(math.sqrt(np.mean(e * e)))
    assert math.isnan(acc.mase)  # scale needs two points before the first origin
    acc2 = backtest(y, "moving_average", 1, origins=50, first=2, window=1)
    assert acc2.mase == pytest.approx(acc2.mae / 2.0)
    zeros = backtest(np.zeros(10), "ses", 2)
    assert math.isnan(zeros.smape) and zeros.mae == 0.0


def test_accuracy_table_and_summary_by_class_and_pattern() -> None:
    rng = np.random.default_rng(5)
    hist = {"a": rng.poisson(10, 60).astype(float), "b": (rng.random(60) < 0.2) * 3.0}
    table = accuracy_table(hist, "auto", 7, abc={"a": "A", "b": "C"})
    assert list(table["pattern"]) == ["smooth", "intermittent"]
    assert list(table["method"]) == ["ses", "sba"]
    summary = summarise_accuracy(table)
    assert set(summary["abc"]) == {"A", "C"} and (summary["items"] == 1).all()
    best, acc = choose_by_backtest(hist["a"], 7, candidates=("moving_average", "ses", "croston"))
    assert best in ("moving_average", "ses", "croston") and acc.mae > 0


def test_forecast_rates_over_protection_intervals() -> None:
    hist = np.column_stack([np.full(30, 4.0), np.zeros(30)])
    mean, sd, used = forecast_rates(hist, "ses", np.array([3.0, 5.0]))
    assert mean == pytest.approx([4.0, 0.0]) and sd == pytest.approx([0.0, 0.0])
    assert used == ["ses", "ses"]


# -- twin forecast ------------------------------------------------------------------------------------


def _history_csv(path: Path) -> Path:
    rng = np.random.default_rng(11)
    lines = ["date,item,location,qty"]
    for d in range(60):
        day = f"2024-{1 + d // 31:02d}-{1 + d % 31:02d}"
        lines.append(f"{day},gauze,central,{rng.poisson(12)}")
        if rng.random() < 0.25:
            lines.append(f"{day},stent,theatre,{1 + rng.poisson(2)}")
    lines.append("2024-02-27,new,central,2")  # 3 days of history
    path.write_text("\n".join(lines) + "\n")
    return path


def test_cli_forecast_writes_forecasts_accuracy_and_plot(cli, tmp_path: Path) -> None:
    src = _history_csv(tmp_path / "h.csv")
    out = tmp_path / "out"
    res = cli("forecast", src, "--horizon", "2w", "--out", out, "--items", "gauze@central,stent@theatre,new@central",
              "--method", "ses")
    assert res.exit_code == 0, res.output
    import pandas as pd

    fc = pd.read_csv(out / "forecasts.csv")
    assert set(fc["item"]) == {"gauze@central", "stent@theatre", "new@central"}
    assert (fc.groupby("item").size() == 14).all()
    acc = pd.read_csv(out / "accuracy.csv")
    assert {"mae", "rmse", "bias", "mase", "smape", "pattern", "abc", "fallback"} <= set(acc.columns)
    assert (out / "forecast.png").stat().st_size > 1000
    assert (out / "accuracy_by_class.csv").is_file()


def test_cli_forecast_reports_fallbacks(cli, tmp_path: Path) -> None:
    src = _history_csv(tmp_path / "h.csv")
    res = cli("forecast", src, "--method", "holt_winters_add", "--items", "new@central", "--out", tmp_path / "o")
    assert res.exit_code == 0, res.output
    assert "fallback: new@central: holt_winters_add needs 16 points" in res.output.replace("\n", " ")


@pytest.mark.parametrize("body,message", [
    ("date,item,qty\n2024-01-01,a,3\n,a,2\n", r"h\.csv:3: column 'date': missing date"),
    ("date,item,qty\n2024-01-01,a,3\n2024-01-02,a,-1\n", r"h\.csv:3: column 'qty': negative demand"),
    ("date,item,qty\n2024-01-01,a,3\n2024-01-02,a,lots\n", r"h\.csv:3: column 'qty': 'lots' is not a number"),
    ("date,item,qty\n2024-01-01,a,3\n2024-13-02,a,1\n", r"h\.csv:3: column 'date': '2024-13-02' is not a date"),
    ("date,item,qty\n2024-01-01,a,3\n", r"h\.csv: item 'a': 1 period\(s\) of history; forecasting needs at least 2"),
    ("day,item,qty\n2024-01-01,a,3\n", r"h\.csv:1: no column 'date'"),
])
def test_cli_forecast_bad_input(cli, tmp_path: Path, body: str, message: str) -> None:
    import re

    src = tmp_path / "h.csv"
    src.write_text(body)
    res = cli("forecast", src, "--out", tmp_path / "out")
    assert res.exit_code == 1
    assert re.search(message, " ".join(res.output.split())), res.output
    assert "Traceback" not in res.output
    assert not (tmp_path / "out").exists()


# -- forecast-driven replenishment --------------------------------------------------------------------

FORECAST = {"forecast": {"use": "auto", "retrain": "3d", "min_history": "5d"}}


def _forecast_scenario(**policies: object):
    return small_scenario(horizon="24d", policies={"inventory": {"use": "s_S", "params": {"service_level": 0.95}},
                                                   **policies})


def test_policy_plans_from_forecasts_in_the_run() -> None:
    sc = _forecast_scenario(**FORECAST)
    engine = Engine(sc, seed=3)
    engine.run(sc.horizon)
    planner = engine.policies.forecasts
    assert planner is not None
    prior = compile_layout(sc).params
    # The planned rates came from the demand seen, not the stated law (which they approximate).
    planned = planner.params.demand_mean_per_day
    assert not np.allclose(planned, prior.demand_mean_per_day)
    assert planned == pytest.approx(prior.demand_mean_per_day, rel=0.5)
    # The observation the policy sees carries them.
    assert engine.policies.observation().params is planner.params
    # And the history it read equals the customer demand in the event log.
    df = events_frame(engine.log)
    days = len(planner.history)
    assert np.array_equal(planner.history, daily_demand(df, prior, days))


def test_forecast_kpis_and_determinism() -> None:
    sc = _forecast_scenario(**FORECAST)
    a = run(sc, seed=3)
    b = run(sc, seed=3)
    assert a.log.content_hash() == b.log.content_hash()
    params = compile_layout(sc).params
    k = forecast_kpis(events_frame(a.log), sc, params, 0.0, sc.horizon)
    assert set(k) == {"forecast_mae", "forecast_bias", "forecast_mase"}
    assert k["forecast_mae"] > 0 and math.isfinite(k["forecast_bias"]) and k["forecast_mase"] > 0


def test_simulate_reports_forecast_kpis() -> None:
    from twin.experiment import simulate

    res = simulate(_forecast_scenario(**FORECAST), replications=2, workers=1, keep_events=False)
    assert {"forecast_mae", "forecast_bias", "forecast_mase"} <= set(res.summary.index)


def test_forecast_settings_are_checked(write) -> None:
    from twin.errors import ScenarioError
    from twin.scenario import load_scenario

    sc = _forecast_scenario(**FORECAST)
    assert sc.policies.forecast is not None and sc.policies.forecast.retrain == 72.0
    path = write("bad.yaml", "name: x\nsite: {}\nhorizon: 10d\npolicies:\n  forecast: {use: best, retrain: 1w}\n")
    with pytest.raises(ScenarioError, match=r"bad\.yaml:5: policies\.forecast\.use"):
        load_scenario(path)
