"""MRP planner: lot-sizing rules, exception messages, pegging and the errors on bad input."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from policies.mrp import BomLine, Demand, LotSizing, MrpError, MrpItem, low_level_codes, plan_mrp


def one_item(lot: LotSizing, demand: dict[int, float], on_hand: float = 0.0, buckets: int = 8,
             **kw: object) -> dict[str, dict[int, float]]:
    items = [MrpItem("a", "buy", 1, on_hand=on_hand, lot=lot, **kw)]  # type: ignore[arg-type]
    plan = plan_mrp(items, [], [Demand("a", t, q) for t, q in demand.items()], buckets)
    return plan.record("a")


def test_fixed_lots_are_multiples() -> None:
    rec = one_item(LotSizing("fixed", qty=40), {2: 50, 5: 20})
    assert rec["planned_receipts"] == {2: 80.0}
    assert rec["planned_releases"] == {1: 80.0}  # 80 covers 50 and then 20 (30 left)


def test_periods_of_supply_covers_the_next_periods() -> None:
    rec = one_item(LotSizing("poq", periods=3), {1: 10, 2: 20, 3: 30, 4: 40, 6: 5})
    assert rec["planned_receipts"] == {1: 60.0, 4: 45.0}


def test_eoq_orders_at_least_the_economic_quantity() -> None:
    # mean gross 10 per bucket, S=50, h=1 -> sqrt(2*10*50/1) = 31.6 -> 32
    rec = one_item(LotSizing("eoq", order_cost=50, holding_cost=1), {t: 10.0 for t in range(8)})
    first = rec["planned_receipts"][0]
    assert first == 32.0
    assert all(q >= 10 for q in rec["planned_receipts"].values())


def brute_force_ww(req: list[float], setup: float, hold: float) -> float:
    """Cheapest cost over every set of order buckets (each order covers up to the next one)."""
    T = len(req)
    best = float("inf")
    need = [t for t in range(T) if req[t] > 0]
    for mask in itertools.product([0, 1], repeat=T):
        if need and not mask[need[0]]:
            continue
        cost, last = 0.0, -1
        for t in range(T):
            if mask[t]:
                cost += setup
                last = t
            if req[t] > 0:
                cost += hold * (t - last) * req[t]
        best = min(best, cost)
    return best


@pytest.mark.parametrize("seed", range(6))
def test_wagner_whitin_is_optimal(seed: int) -> None:
    gen = np.random.default_rng(seed)
    req = [float(x) if gen.random() < 0.7 else 0.0 for x in gen.integers(1, 60, size=8)]
    req[0] = max(req[0], 1.0)
    rec = one_item(LotSizing("wagner_whitin", order_cost=80, holding_cost=1.5), dict(enumerate(req)))
    receipts = rec["planned_receipts"]
    assert sum(receipts.values()) == pytest.approx(sum(req))
    cost = 80 * len(receipts) + 1.5 * sum(rec["projected_on_hand"].values())
    assert cost == pytest.approx(brute_force_ww(req, 80, 1.5))


def test_safety_stock_and_allocated_stock_are_netted() -> None:
    rec = one_item(LotSizing(), {3: 50}, on_hand=40, safety_stock=10, allocated=5)
    # available 35; to end week 3 at 10 after 50 out: receive 25
    assert rec["planned_receipts"] == {3: 25.0}
    assert rec["projected_on_hand"][3] == 10.0


def test_past_due_release_is_flagged_and_released_now() -> None:
    items = [MrpItem("a", "buy", 3)]
    plan = plan_mrp(items, [], [Demand("a", 1, 10, "rush")], 6)
    assert plan.releases("a") == {0: 10.0}
    (exc,) = plan.exceptions
    assert exc.kind == "past_due" and exc.bucket == -2
    assert plan.planned_orders()[0].release == -2


def test_exception_messages_for_open_receipts() -> None:
    def kinds(receipts: dict[int, float], demand: dict[int, float]) -> list[tuple[str, int | None]]:
        items = [MrpItem("a", "buy", 1, scheduled_receipts=receipts)]
        plan = plan_mrp(items, [], [Demand("a", t, q) for t, q in demand.items()], 8)
        return [(e.kind, e.to_bucket) for e in plan.exceptions]

    assert kinds({4: 30}, {2: 30}) == [("expedite", 2)]
    assert kinds({2: 30}, {5: 30}) == [("de_expedite", 5)]
    assert kinds({2: 30}, {}) == [("cancel", None)]
    assert kinds({2: 30}, {2: 30}) == []


def test_multi_level_with_scrap_and_shared_components() -> None:
    items = [MrpItem("A", "make", 1), MrpItem("B", "make", 1), MrpItem("c", "buy", 2)]
    bom = [BomLine("A", "B", 2), BomLine("A", "c", 1), BomLine("B", "c", 1, scrap=0.2)]
    plan = plan_mrp(items, bom, [Demand("A", 5, 10, "so-1")], 8)
    assert list(plan.llc) == [0, 1, 2]
    assert plan.releases("A") == {4: 10.0}
    assert plan.releases("B") == {3: 20.0}
    # c: 10 for A in bucket 4, 20 / 0.8 = 25 for B in bucket 3
    assert plan.record("c")["gross"] == {3: 25.0, 4: 10.0}
    assert plan.releases("c") == {1: 25.0, 2: 10.0}
    assert plan.trace("c", 3) == {"so-1"}
    assert [o.source for o in plan.planned_orders(bucket=1)] == ["buy"]


def test_cyclic_bom_is_rejected_with_the_cycle() -> None:
    with pytest.raises(MrpError, match=r"cyclic bill of materials: a -> b -> c -> a"):
        low_level_codes(["a", "b", "c"], [BomLine("a", "b", 1), BomLine("b", "c", 1), BomLine("c", "a", 1)])


def test_items_with_no_source_are_rejected() -> None:
    with pytest.raises(MrpError, match="item 'x' has no source"):
        plan_mrp([MrpItem("x", None, 1)], [], [], 4)
    with pytest.raises(MrpError, match="item 'y' has no source"):
        plan_mrp([MrpItem("x", "make", 1)], [BomLine("x", "y", 1)], [], 4)
    with pytest.raises(MrpError, match="has a BOM but is bought"):
        plan_mrp([MrpItem("x", "buy", 1), MrpItem("y", "buy", 1)], [BomLine("x", "y", 1)], [], 4)
    with pytest.raises(MrpError, match="fixed lot size needs qty > 0"):
        plan_mrp([MrpItem("x", "buy", 1, lot=LotSizing("fixed"))], [], [], 4)
