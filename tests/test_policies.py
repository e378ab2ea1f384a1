"""policies: the built-in inventory policies against their textbook definitions on hand-built
observations; safety stock, EOQ and ABC against hand calculations; a user's policy by import path;
bad actions and bad parameters."""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import twin
from policies.base import POLICIES, PolicyLoadError, load_policy, per_sku, policy_params_model
from policies.inventory import (
    FEFO,
    FIFO,
    ABCCycleCount,
    BaseStock,
    CycleCountParams,
    MinMax,
    MinMaxParams,
    PeriodicOrderUpTo,
    SQParams,
    SQPolicy,
    SsParams,
    SsPolicy,
    abc_classify,
    economic_order_quantity,
    safety_stock,
)
from tests.conftest import FIXTURES, small_scenario
from twin.errors import ScenarioError
from twin.model import events as E
from twin.model.actions import CountStock, PlaceOrder
from twin.model.observations import InventoryObservation, SkuParameters
from twin.scenario import load_scenario
from twin.sim.engine import run_replication

Z95 = 1.644854  # standard normal 95% quantile, from the table
Z90 = 1.281552


def params(
    n: int = 3,
    *,
    d: float = 10.0,
    sd: float = 3.0,
    lt: float = 4.0,
    lt_sd: float = 1.0,
    order_cost: float = 50.0,
    holding: float = 0.1,
    classes: tuple[str, ...] | None = None,
) -> SkuParameters:
    """n SKUs at warehouse 'w' with the same laws: demand d/day (sd), lead time lt days (lt_sd)."""

    def full(v: float) -> np.ndarray:
        return np.full(n, float(v))

    return SkuParameters(
        items=tuple("abcdefgh"[:n]),
        locations=("w",) * n,
        suppliers=("s",) * n,
        unit_cost=full(1.0),
        holding_cost_per_day=full(holding),
        backorder_cost_per_day=full(1.0),
        order_cost=full(order_cost),
        demand_mean_per_day=full(d),
        demand_sd_per_day=full(sd),
        lead_time_mean_days=full(lt),
        lead_time_sd_days=full(lt_sd),
        item_class=classes or ("A",) * n,
        shelf_life_days=full(math.inf),
    )


def observe(
    on_hand: list[float],
    *,
    backorders: list[float] | None = None,
    on_order: list[float] | None = None,
    held: list[float] | None = None,
    now: float = 0.0,
    p: SkuParameters | None = None,
) -> InventoryObservation:
    n = len(on_hand)

    def arr(v: list[float] | None) -> np.ndarray:
        return np.asarray(v if v is not None else [0.0] * n, dtype=float)

    return InventoryObservation(
        now=now,
        params=p or params(n),
        on_hand=arr(on_hand),
        available=arr(on_hand),
        held=arr(held),
        backorders=arr(backorders),
        on_order=arr(on_order),
        in_transit=np.zeros(n),
        demand_to_date=np.zeros(n),
    )


def orders(actions: list[Any]) -> dict[str, float]:
    assert all(isinstance(a, PlaceOrder) and a.location == "w" and a.supplier is None for a in actions)
    return {a.item: a.qty for a in actions}


# -- textbook definitions --------------------------------------------------------------------------------


def test_inventory_position_is_on_hand_plus_held_plus_on_order_minus_backorders() -> None:
    obs = observe([5, 0, 2], backorders=[0, 4, 1], on_order=[10, 3, 0], held=[1, 0, 0])
    assert obs.inventory_position.tolist() == [16.0, -1.0, 1.0]


def test_s_S_orders_up_to_S_when_the_position_is_at_or_below_s() -> None:
    policy = SsPolicy(SsParams(s=10, S=50))
    obs = observe([10, 11, 0, 3], backorders=[0, 0, 5, 0], on_order=[0, 0, 0, 40])
    assert orders(policy.decide(obs)) == {"a": 40.0, "c": 55.0}  # b above s; d's position 43 > s
    assert policy.reorder_points(obs).tolist() == [10.0] * 4
    assert policy.target_levels(obs).tolist() == [50.0] * 4
    assert policy.review == 24.0


def test_min_max_orders_only_below_min() -> None:
    policy = MinMax(MinMaxParams(min=10, max=50))
    assert orders(policy.decide(observe([10, 9, 0]))) == {"b": 41.0, "c": 50.0}


def test_s_Q_orders_as_many_Q_as_lift_the_position_above_s() -> None:
    policy = SQPolicy(SQParams(s=10, Q=20))
    obs = observe([10, 11, 0, 0], backorders=[0, 0, 15, 30])
    assert orders(policy.decide(obs)) == {"a": 20.0, "c": 40.0, "d": 60.0}
    assert policy.review is None  # continuous review
    assert policy.reorder_points(obs).tolist() == [10.0] * 4
    assert policy.target_levels(obs).tolist() == [30.0] * 4


@given(st.integers(-200, 200), st.integers(0, 100), st.integers(1, 50))
def test_s_Q_orders_the_fewest_batches_that_lift_the_position_above_s(ip: int, s: int, q: int) -> None:
    policy = SQPolicy(SQParams(s=s, Q=q))
    ordered = orders(policy.decide(observe([0], backorders=[-ip] if ip < 0 else [0], on_order=[max(ip, 0)])))
    qty = ordered.get("a", 0.0)
    if ip > s:
        assert qty == 0
    else:
        assert qty % q == 0 and ip + qty > s >= ip + qty - q


def test_base_stock_orders_up_to_the_level_every_review() -> None:
    policy = BaseStock(BaseStock.Params(level=30))
    assert orders(policy.decide(observe([12, 30, 35], on_order=[0, 0, 0]))) == {"a": 18.0}
    assert orders(policy.decide(observe([0], backorders=[4], p=params(1)))) == {"a": 34.0}
    assert policy.review == 24.0


def test_periodic_review_R_S_reviews_weekly_and_orders_up_to_S() -> None:
    policy = PeriodicOrderUpTo(PeriodicOrderUpTo.Params(level={"a": 100, "*": 20}))
    assert policy.review == 7 * 24.0
    assert orders(policy.decide(observe([40, 5, 25]))) == {"a": 60.0, "b": 15.0}


def test_levels_from_a_service_level_match_the_hand_calculation() -> None:
    # d = 10/day (sd 3), lead time 4 days (sd 1), reviewed daily: protection P = 4 + 1 = 5 days.
    # sigma_P = sqrt(5 * 3^2 + 10^2 * 1^2) = sqrt(145) = 12.0416; SS = 1.644854 * 12.0416 = 19.807
    # s = ceil(10 * 5 + 19.807) = 70; EOQ = sqrt(2 * 50 * 10 / 0.1) = 100; S = s + EOQ = 170.
    policy = SsPolicy(SsParams(service_level=0.95))
    s, big_s = policy.levels(observe([0, 0, 0]))
    assert s.tolist() == [70.0] * 3 and big_s.tolist() == [170.0] * 3
    assert orders(policy.decide(observe([70, 71, 0]))) == {"a": 100.0, "c": 170.0}


def test_base_stock_level_from_a_service_level() -> None:
    # Daily review: S = ceil(10 * 5 + 1.281552 * sqrt(145)) = ceil(65.432) = 66.
    policy = BaseStock(BaseStock.Params(service_level=0.9))
    assert policy.levels(observe([0])).tolist() == [66.0]
    # Weekly review (R,S): P = 4 + 7 = 11 days:
    # S = ceil(110 + 1.281552 * sqrt(11 * 9 + 100)) = ceil(128.08) = 129.
    weekly = PeriodicOrderUpTo(PeriodicOrderUpTo.Params(service_level=0.9))
    assert weekly.levels(observe([0])).tolist() == [129.0]


def test_safety_stock_against_hand_calculations() -> None:
    # sigma over the lead time = sqrt(L sd^2 + d^2 sd_L^2) = sqrt(4 * 9 + 100 * 1) = sqrt(136)
    got = safety_stock(0.95, np.array([10.0]), np.array([3.0]), np.array([4.0]), np.array([1.0]))
    assert got[0] == pytest.approx(Z95 * math.sqrt(136), rel=1e-6)
    # A fixed lead time: z * sd * sqrt(L) = 1.281552 * 3 * 2
    got = safety_stock(0.9, np.array([10.0]), np.array([3.0]), np.array([4.0]), np.array([0.0]))
    assert got[0] == pytest.approx(Z90 * 6.0, rel=1e-6)
    # With a review period the protection interval grows: sqrt((4 + 7) * 9)
    got = safety_stock(0.9, np.array([10.0]), np.array([3.0]), np.array([4.0]), np.array([0.0]), review=7.0)
    assert got[0] == pytest.approx(Z90 * math.sqrt(99), rel=1e-6)
    assert safety_stock(0.5, np.array([10.0]), np.array([3.0]), np.array([4.0]), np.array([1.0]))[0] == 0.0


def test_eoq_against_hand_calculations() -> None:
    # Wilson: D = 1000/year, K = 10, h = 0.5/unit/year -> sqrt(2 * 10 * 1000 / 0.5) = 200
    # (per day the ratio is the same).
    got = economic_order_quantity(np.array([10.0]), np.array([1000 / 365]), np.array([0.5 / 365]))
    assert got[0] == pytest.approx(200.0)
    assert economic_order_quantity(np.array([50.0]), np.array([10.0]), np.array([0.1]))[0] == pytest.approx(100.0)
    # No holding cost or no demand: at least one unit, never inf or nan.
    assert economic_order_quantity(np.array([10.0, 10.0]), np.array([5.0, 0.0]), np.array([0.0, 1.0])).tolist() == [
        1.0,
        1.0,
    ]


# -- ABC, allocation, cycle counts -----------------------------------------------------------------------


def test_abc_classify_against_a_hand_example() -> None:
    # Values 500, 300, 100, 60, 40 of 1000: cumulative before each 0, .5, .8, .9, .96.
    assert abc_classify(np.array([100, 500, 40, 300, 60])) == ["B", "A", "C", "A", "B"]
    assert abc_classify(np.array([0.0, 0.0])) == ["C", "C"]
    assert abc_classify(np.array([7.0])) == ["A"]
    assert abc_classify(np.array([50, 30, 20]), a_share=0.5, b_share=0.8) == ["A", "B", "C"]


@given(st.lists(st.floats(0, 1e6, allow_nan=False), min_size=1, max_size=30))
def test_abc_classes_follow_value_and_the_A_share(values: list[float]) -> None:
    classes = abc_classify(np.array(values))
    rank = {"A": 0, "B": 1, "C": 2}
    for vi, ci in zip(values, classes, strict=True):
        for vj, cj in zip(values, classes, strict=True):
            if vi > vj:
                assert rank[ci] <= rank[cj]
    total = sum(values)
    if total > 0:
        a_values = [v for v, c in zip(values, classes, strict=True) if c == "A"]
        assert sum(a_values) >= 0.8 * total * (1 - 1e-12) or len(a_values) == len(values)
        assert sum(a_values) - min(a_values) < 0.8 * total * (1 + 1e-12)


def test_fefo_takes_the_earliest_expiry_and_fifo_the_oldest_receipt() -> None:
    lots = [(None, 0.0, 0), (50.0, 5.0, 1), (10.0, 9.0, 2), (50.0, 1.0, 3)]  # (expiry, received, id)
    assert [lot[2] for lot in sorted(lots, key=lambda x: FEFO().sort_key(*x))] == [2, 3, 1, 0]
    assert [lot[2] for lot in sorted(lots, key=lambda x: FIFO().sort_key(*x))] == [0, 3, 1, 2]


def test_abc_cycle_count_counts_each_sku_once_per_interval_of_its_class() -> None:
    p = params(4, classes=("A", "A", "B", "C"))
    policy = ABCCycleCount(CycleCountParams(interval_days={"A": 5, "B": 10, "C": 0}))
    counted: dict[str, list[int]] = {}
    for day in range(20):
        for action in policy.decide(observe([1, 1, 1, 1], now=day * 24.0 + 0.5, p=p)):
            assert isinstance(action, CountStock) and action.location == "w"
            counted.setdefault(action.item, []).append(day)
    assert {item: len(days) for item, days in counted.items()} == {"a": 4, "b": 4, "c": 2}  # 'd': class C off
    assert all(b - a == 5 for a, b in itertools.pairwise(counted["a"]))
    assert counted["a"][0] != counted["b"][0]  # spread over the days, not all at once


def test_per_sku_expands_numbers_items_and_classes() -> None:
    obs = observe([0, 0, 0, 0], p=params(4, classes=("A", "B", "B", "C")))
    assert per_sku(3, obs).tolist() == [3.0] * 4
    assert per_sku({"class:B": 7, "d": 1, "*": 2}, obs).tolist() == [2.0, 7.0, 7.0, 1.0]
    assert np.isnan(per_sku(None, obs)).all()


# -- parameters ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "given_params", "message"),
    [
        (SsParams, {"service_level": 1.2}, r"service_level must be between 0 and 1 \(exclusive\), got 1.2"),
        (SsParams, {"service_level": 0}, r"service_level must be between 0 and 1 \(exclusive\), got 0"),
        (SsParams, {"service_level": {"A": 0.9, "B": 1.0}}, r"got 1.0"),
        (SsParams, {}, r"give either s or service_level"),
        (MinMaxParams, {"max": 5}, r"give either min or service_level"),
        (SQParams, {"s": 3, "q": 4}, r"Extra inputs are not permitted"),
        (BaseStock.Params, {"level": "lots"}, r"Input should be a valid number"),
    ],
)
def test_bad_params_are_refused(model: Any, given_params: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        model.model_validate(given_params)


@pytest.mark.parametrize("use", ["s_S", "base_stock", "R_S", "s_Q", "min_max"])
def test_a_service_level_of_1_2_is_reported_at_its_yaml_path(write, site_file, use: str) -> None:
    path = write(
        "a.yaml",
        f"""
        name: x
        site: site_small.yaml
        horizon: 5d
        policies:
          inventory:
            use: {use}
            params:
              service_level: 1.2
    """,
    )
    with pytest.raises(
        ScenarioError,
        match=rf"^{path}:8: policies\.inventory\.params\.service_level: "
        r"service_level must be between 0 and 1 \(exclusive\), got 1.2$",
    ):
        load_scenario(path)


def test_every_built_in_policy_is_registered_with_its_params_model() -> None:
    assert set(POLICIES) >= {"s_S", "s_Q", "base_stock", "R_S", "min_max", "fefo", "fifo", "abc_cycle_count"}
    assert policy_params_model("s_S") is SsParams
    assert policy_params_model("fefo") is None
    assert policy_params_model("tests.helpers_policy:FixedOrder").__name__ == "FixedOrderParams"


def test_load_policy_by_name_and_by_import_path() -> None:
    assert isinstance(load_policy("s_S", {"s": 3}), SsPolicy)
    assert load_policy("base_stock", {"level": 5}, review=12.0).review == 12.0
    mine = load_policy("tests.helpers_policy:FixedOrder", {"qty": 5})
    assert type(mine).__name__ == "FixedOrder" and mine.params.qty == 5
    assert load_policy("tests.helpers_policy:KeywordPolicy", {"qty": 2}).qty == 2


@pytest.mark.parametrize(
    ("use", "given_params", "message"),
    [
        ("sS", {}, r"unknown policy 'sS'; use one of"),
        ("tests.helpers_policy:Missing", {}, r"module 'tests.helpers_policy' has no 'Missing'"),
        ("no.such.module:P", {}, r"cannot import 'no.such.module'"),
        ("s_S", {"service_level": 1.2}, r"policy 's_S': .*service_level must be between 0 and 1"),
        ("tests.helpers_policy:KeywordPolicy", {"quantity": 2}, r"does not accept these params"),
        ("tests.conftest:small_site", {}, r"has neither decide\(observation\) nor sort_key"),
    ],
)
def test_load_policy_errors(use: str, given_params: dict, message: str) -> None:
    with pytest.raises(PolicyLoadError, match=message):
        load_policy(use, given_params)


# -- a user's policy in a run ----------------------------------------------------------------------------


def test_a_user_policy_by_import_path_runs(write, site_file, cli, tmp_path) -> None:
    path = write(
        "mine.yaml",
        """
        name: mine
        site: site_small.yaml
        horizon: 6d
        policies:
          inventory:
            use: tests.helpers_policy:FixedOrder
            params: {qty: 25, below: 30}
    """,
    )
    sc = load_scenario(path)
    result = twin.simulate(sc, replications=1, seed=3, workers=1)
    pos = result.events[result.events["type"] == "PurchaseOrderPlaced"]
    assert len(pos) > 0 and set(pos["qty"]) == {25.0}
    out = tmp_path / "out"
    assert cli("run", path, "--out", out, "--workers", "1").exit_code == 0
    assert (out / "kpis.json").is_file()


def test_a_user_policys_bad_params_are_reported_at_their_yaml_path(write, site_file) -> None:
    path = write(
        "mine.yaml",
        """
        name: mine
        site: site_small.yaml
        horizon: 6d
        policies:
          inventory:
            use: tests.helpers_policy:FixedOrder
            params:
              qty: -1
              colour: red
    """,
    )
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    got = {(p.line, p.path, p.message) for p in info.value.problems}
    assert got == {
        (8, "policies.inventory.params.qty", "Input should be greater than 0 (got -1)"),
        (9, "policies.inventory.params.colour", "unknown key (check its spelling; see `twin schema`)"),
    }


def test_a_user_policy_module_that_fails_to_import_is_reported_not_raised(
    write, site_file, cli, tmp_path, monkeypatch
) -> None:
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "broken_policy_mod.py").write_text("class Policy:\n    def decide(self, obs)\n")
    monkeypatch.syspath_prepend(str(tmp_path / "lib"))
    path = write(
        "broken.yaml",
        """
        name: broken
        site: site_small.yaml
        horizon: 2d
        policies:
          inventory: {use: 'broken_policy_mod:Policy'}
    """,
    )
    with pytest.raises(
        ScenarioError,
        match=r"policies\.inventory\.use: cannot load policy 'broken_policy_mod:Policy': "
        r"SyntaxError: expected ':'",
    ):
        load_scenario(path)
    result = cli("validate", path)
    assert result.exit_code == 1 and "Traceback" not in result.output


def test_a_user_policy_without_a_params_model_that_refuses_its_params(write, site_file, cli) -> None:
    path = write(
        "kw.yaml",
        """
        name: kw
        site: site_small.yaml
        horizon: 2d
        policies:
          inventory: {use: 'tests.helpers_policy:KeywordPolicy', params: {quantity: 3}}
    """,
    )
    result = cli("run", path, "--workers", "1")
    assert result.exit_code == 1
    assert "error: policy 'tests.helpers_policy:KeywordPolicy' does not accept these params" in result.stderr
    assert "Traceback" not in result.output


def test_bad_actions_become_action_rejected_events_and_the_run_goes_on() -> None:
    sc = small_scenario(policies={"inventory": {"use": "tests.helpers_policy:BadActions"}})
    out = run_replication(sc, 1, 0, 2.5 * 24.0)
    rejected = [ev for ev in out.log if isinstance(ev, E.ActionRejected)]
    reviews = 3  # at 0h, 24h and 48h
    reasons = [ev.reason for ev in rejected]
    assert len(rejected) == 10 * reviews
    assert reasons[:10] == [
        "unknown item 'nosuch' at location 'main'",
        "unknown item 'gauze' at location 'annex'",
        "quantity must be a positive number, got -3",
        "quantity must be a positive number, got 0",
        "quantity must be a positive number, got nan",
        "quantity must be a positive number, got inf",
        "quantity must be a positive number, got '12'",
        "unknown supplier 'nobody'",
        "unknown item 'nosuch' at location 'main'",
        "not an action the inventory domain knows: str",
    ]
    assert {ev.policy for ev in rejected} == {"BadActions"}
    assert out.state.rejected_actions == len(rejected)
    placed = [ev for ev in out.log if isinstance(ev, E.PurchaseOrderPlaced)]
    assert [(ev.item, ev.qty) for ev in placed] == [("gauze", 4.0)] * reviews  # the one good action, each time
    assert any(isinstance(ev, E.Shipped) for ev in out.log)  # the warehouse kept working


def test_rejected_actions_appear_in_the_flat_events(cli, tmp_path, write, site_file) -> None:
    path = write(
        "bad.yaml",
        """
        name: bad-actions
        site: site_small.yaml
        horizon: 1d
        policies:
          inventory: {use: 'tests.helpers_policy:BadActions'}
    """,
    )
    result = twin.simulate(load_scenario(path), replications=1, seed=1, workers=1)
    rows = result.events[result.events["type"] == "ActionRejected"]
    assert len(rows) == 10
    assert rows["info"].iloc[0] == (
        "BadActions: PlaceOrder(item='nosuch', location='main', qty=5, supplier=None): "
        "unknown item 'nosuch' at location 'main'"
    )


def test_a_scenario_without_a_policies_section_runs_the_default_policies(write, site_file) -> None:
    path = write("plain.yaml", "name: plain\nsite: site_small.yaml\nhorizon: 3d\n")
    sc = load_scenario(path)
    assert (sc.policies.inventory.use, sc.policies.allocation.use, sc.policies.cycle_count) == (
        "s_S",
        "fefo",
        None,
    )
    out = run_replication(sc, 1, 0, sc.horizon)
    assert any(isinstance(ev, E.Shipped) for ev in out.log)


def test_the_fixture_policies_run() -> None:
    for name in ("baseline.yaml", "base_stock.yaml"):
        sc = load_scenario(FIXTURES / name)
        out = run_replication(sc, 1, 0, 4 * 24.0)
        assert any(isinstance(ev, E.PurchaseOrderPlaced) for ev in out.log), name
