"""The reducers of an order line's event pairs (``apply_order_line``, ``apply_line_shipped``) change
the state exactly as ``apply`` of the two events one after the other does.

The simulation's warehouse applies most of a run's events through them, so a run's final state must
also equal the state rebuilt by replaying its event log with ``apply``, event by event.
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

import pytest

from twin.model import events as E
from twin.model.state import Lot, State, apply, apply_line_shipped, apply_order_line
from twin.sim.engine import Engine

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from warehouse_year import build_scenario  # noqa: E402

_new = tuple.__new__


def snapshot(state: State) -> dict[str, Any]:
    """Everything a reducer can change, as plain values."""
    skus = {
        key: (
            sku.on_hand, sku.reserved, sku.backorder, sku.on_order, sku.in_transit, sku.held, sku.phantom,
            sku.demand, sku.lost, [list(entry) for entry in sku.backlog], list(sku.keys),
            [(lot.id, lot.qty, lot.reserved, lot.expiry, lot.received, lot.status) for lot in sku.lots],
            {i: (lot.qty, lot.reserved, lot.status) for i, lot in sku.held_lots.items()},
        )
        for key, sku in state.skus.items()
    }
    return {"clock": state.clock, "skus": skus, "orders": {k: list(v) for k, v in state.orders.items()}}


def shelf(*lots: tuple[int, float]) -> State:
    state = State.empty([("gauze", "store"), ("tape", "store")])
    sku = state.skus[("gauze", "store")]
    for lot_id, qty in lots:
        sku.add_lot(Lot(lot_id, qty, 100.0 + lot_id, 0.0, "available"))
        sku.on_hand += qty
    return state


def both_ways(state: State, first: Any, second: Any, pair: Any) -> None:
    by_event = copy.deepcopy(state)
    apply(by_event, first)
    apply(by_event, second)
    pair(state, first, second)
    assert snapshot(state) == snapshot(by_event)


def placed(t: float, order: int, qty: float) -> Any:
    return _new(E.OrderPlaced, (t, order, "store", "ward", (("gauze", qty),)))


def allocated(t: float, order: int, lot: int, qty: float) -> Any:
    return _new(E.Allocated, (t, order, "store", (("gauze", lot, qty),), (), (), False))


def picked(t: float, order: int, lot: int, qty: float) -> Any:
    return _new(E.Picked, (t, order, "store", (("gauze", lot, qty, qty, qty),)))


def shipped(t: float, order: int, qty: float, complete: bool) -> Any:
    return _new(E.Shipped, (t, order, "store", (("gauze", qty),), complete))


@pytest.mark.parametrize("lot, qty", [(1, 2.0), (1, 5.0), (2, 3.0)])
def test_an_order_line_and_its_allocation_apply_as_the_two_events_do(lot: int, qty: float) -> None:
    state = shelf((1, 5.0), (2, 4.0))
    state.skus[("gauze", "store")].lots[0].reserved = 1.0
    state.skus[("gauze", "store")].reserved = 1.0
    both_ways(state, placed(7.5, 3, qty), allocated(7.5, 3, lot, qty), apply_order_line)
    assert state.orders[3] == [7.5, qty]
    assert state.skus[("gauze", "store")].reserved == 1.0 + qty


@pytest.mark.parametrize(
    "qty, complete",
    [
        (2.0, True),  # part of the lot: the lot stays
        (5.0, True),  # the whole lot: the lot is removed
        (2.0, False),  # the order stays open for another line
    ],
)
def test_a_line_picked_and_shipped_applies_as_the_two_events_do(qty: float, complete: bool) -> None:
    state = shelf((1, 5.0), (2, 4.0))
    apply(state, placed(1.0, 9, qty if complete else qty + 1.0))
    apply(state, allocated(1.0, 9, 1, qty))
    both_ways(state, picked(2.0, 9, 1, qty), shipped(2.0, 9, qty, complete), apply_line_shipped)
    assert (9 in state.orders) is not complete
    assert state.skus[("gauze", "store")].on_hand == 9.0 - qty


def test_a_pair_of_another_shape_is_refused() -> None:
    state = shelf((1, 5.0))
    two_lines = _new(E.OrderPlaced, (1.0, 1, "store", "ward", (("gauze", 1.0), ("tape", 1.0))))
    with pytest.raises(ValueError):
        apply_order_line(state, two_lines, allocated(1.0, 1, 1, 1.0))


@pytest.mark.parametrize("shelf_life", [False, True])
def test_a_warehouse_run_ends_in_the_state_its_event_log_replays_to(shelf_life: bool) -> None:
    # A small copy of the benchmark's warehouse: fast and slow movers, two suppliers, (s,S) with a
    # service level, FEFO, and (second case) the benchmark's share of perishable items.
    scenario = build_scenario(n_items=60, lines_per_day=600.0, days=20, seed=3)
    if not shelf_life:
        items = [it.model_copy(update={"shelf_life": None}) for it in scenario.site.items]
        scenario = scenario.model_copy(update={"site": scenario.site.model_copy(update={"items": items})})
    out = Engine(scenario, 3).run(scenario.horizon)
    pairs = sum(1 for ev in out.log.events if type(ev) is E.Shipped)
    assert pairs > 5000  # the pair reducers did most of the work
    replay = State.empty(list(out.state.skus))
    for event in out.log.events:
        apply(replay, event)
    assert snapshot(replay) == snapshot(out.state)
