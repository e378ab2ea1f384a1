"""Sweeps: grid and Latin hypercube points, parameter paths, Pareto front."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import small_scenario
from twin.errors import TwinError
from twin.sweep import apply_overrides, grid_points, lhs_points, pareto_front, parse_param, sweep


def test_parse_and_grid() -> None:
    a = parse_param("policies.inventory.params.service_level=0.9,0.95")
    b = parse_param("site.suppliers.0.lead_time.mean=2d,4d")
    assert a.values == (0.9, 0.95) and b.values == ("2d", "4d")
    assert len(grid_points([a, b])) == 4
    with pytest.raises(TwinError, match="PATH=V1,V2"):
        parse_param("service_level")


def test_apply_overrides_sets_values_and_names_bad_paths() -> None:
    sc = small_scenario()
    out = apply_overrides(sc, {"policies.inventory.params.service_level": 0.8,
                               "site.suppliers.0.lead_time.mean": "5d"})
    assert out.policies.inventory.params["service_level"] == 0.8
    assert out.site.suppliers[0].lead_time.mean == 120.0
    with pytest.raises(TwinError, match="'policies.inventry.params.service_level' does not exist"):
        apply_overrides(sc, {"policies.inventry.params.service_level": 0.8})
    with pytest.raises(TwinError, match="does not exist: no 'horizn'"):
        apply_overrides(sc, {"horizn": "3d"})
    with pytest.raises(TwinError, match="service_level must be between 0 and 1"):
        apply_overrides(sc, {"policies.inventory.params.service_level": 1.2})
    with pytest.raises(TwinError, match="no element '7'"):
        apply_overrides(sc, {"site.suppliers.7.order_cost": 1})


def test_latin_hypercube_covers_each_stratum_once() -> None:
    p = parse_param("policies.inventory.params.service_level=0.8,0.99")
    q = parse_param("site.suppliers.0.order_cost=10,50")
    points = lhs_points([p, q], 10, seed=3)
    sl = np.array([pt[p.path] for pt in points])
    assert ((sl >= 0.8) & (sl <= 0.99)).all()
    strata = np.floor((sl - 0.8) / (0.19 / 10)).clip(0, 9)
    assert sorted(strata.astype(int).tolist()) == list(range(10))
    assert all(isinstance(pt[q.path], int) for pt in points)
    assert lhs_points([p, q], 10, seed=3) == points  # same seed, same sample


def test_pareto_front() -> None:
    fill = np.array([0.90, 0.95, 0.99, 0.94])
    cost = np.array([100.0, 120.0, 200.0, 130.0])
    assert pareto_front(fill, cost, +1, -1) == [True, True, True, False]


def test_sweep_runs_every_point_with_common_random_numbers() -> None:
    sc = small_scenario(horizon="15d")
    result = sweep(sc, [parse_param("policies.inventory.params.service_level=0.7,0.95")], replications=2, workers=1)
    assert len(result.table) == 2
    assert {"fill_rate_mean", "fill_rate_ci_low", "total_cost_ci_high", "pareto"} <= set(result.table.columns)
    assert result.table["avg_on_hand_value_mean"].iloc[1] > result.table["avg_on_hand_value_mean"].iloc[0]
    with pytest.raises(TwinError, match="unknown KPI"):
        sweep(sc, [parse_param("policies.inventory.params.service_level=0.7")], x="speed", workers=1)
