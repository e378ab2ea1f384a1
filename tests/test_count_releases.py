"""A cycle count that finds less than is reserved (twin/sim/warehouse.py ``_count``): the surplus
reservations are released from the pending picks, newest order first (``ReservationReleased``), so
the picks go out with what the shelf holds; the KPIs count a release as a short pick's shortfall.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import Any

import pytest

from twin.kpi import KpiWindow, compute_kpis, events_frame
from twin.model import events as E
from twin.model.events import EventLog
from twin.model.scenario import Scenario
from twin.model.state import State, apply
from twin.sim.engine import Engine

ITEM, WH = "gauze", "w"


def _scenario(unmet: str = "backorder") -> Scenario:
    """One item, ten on the shelf, one picker (an hour a pick), a scanner that misses every read:
    picks never leave the book, so the book runs above the shelf until a count."""
    return Scenario.model_validate({
        "name": "count-below-reserved",
        "horizon": "1d",
        "seed": 1,
        "site": {
            "name": "s",
            "items": [{"id": ITEM, "unit_cost": 2.0, "unmet": unmet}],
            "warehouses": [{"id": WH, "pickers": 1, "counters": 1, "initial_stock": {ITEM: 10},
                            "pick_time_per_order": "1h", "pick_time_per_line": "0s",
                            "scanner": {"missed_read_rate": 1.0}}],
            "suppliers": [{"id": "s", "lead_time": {"mean": "30d"}, "items": [ITEM]}],
        },
        "policies": {"inventory": {"use": "s_S", "params": {"s": 0, "S": 1}}},
    })


def _run(first: float, counted_at: float = 3.5, unmet: str = "backorder") -> tuple[Engine, list[Any]]:
    """Order ``first`` units at 1h (picked, unrecorded, by 2h), then 3 (picked 3h-4h) and 5 (waiting
    for the picker) at 3h; count at ``counted_at``."""
    sc = _scenario(unmet)
    engine = Engine(sc, sc.seed)
    ops = engine.warehouses[WH]

    def script() -> Generator[Any, Any, None]:
        yield engine.env.timeout(1.0)
        ops.place_order("walk_in", ((ITEM, first),))
        yield engine.env.timeout(2.0)
        ops.place_order("walk_in", ((ITEM, 3.0),))
        ops.place_order("walk_in", ((ITEM, 5.0),))
        yield engine.env.timeout(counted_at - 3.0)
        assert ops.count(ITEM)

    engine.env.process(script())
    out = engine.run(sc.horizon)
    replay = State.empty(list(out.state.skus))
    for ev in out.log:
        apply(replay, ev)
        sku = replay.skus[(ITEM, WH)]
        assert sku.reserved <= sku.on_hand + 1e-9, ev
        assert all(lot.reserved <= lot.qty + 1e-9 for lot in sku.lots), (ev, sku.lots)
    return engine, out.log.events


def _of(events: list[Any], cls: type) -> list[Any]:
    return [ev for ev in events if type(ev) is cls]


def test_a_count_below_the_reservations_releases_the_newest_orders_first_and_the_pick_ships_what_is_left() -> None:
    engine, events = _run(first=8.0)  # the shelf holds 2 of the book's 10; 8 are reserved
    lot = _of(events, E.Allocated)[0].picks[0][1]
    released = _of(events, E.ReservationReleased)
    # The waiting order (2) gives up all 5, the order being picked (1) 1 of its 3.
    assert [(ev.order, ev.lot, ev.qty, ev.lost) for ev in released] == [(2, lot, 5.0, False), (1, lot, 1.0, False)]
    count = _of(events, E.StockCounted)[0]
    assert (count.book, count.counted) == (10.0, 2.0)
    assert events.index(released[-1]) + 1 == events.index(count)  # released as the count is booked
    assert [(ev.order, ev.picks) for ev in _of(events, E.Picked)] == [
        (0, ((ITEM, lot, 8.0, 8.0, 0.0),)),
        (1, ((ITEM, lot, 2.0, 2.0, 0.0),)),  # no short pick: it picks what the shelf holds
    ]
    assert [(ev.order, ev.lines) for ev in _of(events, E.Shipped)] == [(0, ((ITEM, 8.0),)), (1, ((ITEM, 2.0),))]
    sku = engine.state.skus[(ITEM, WH)]
    assert (sku.reserved, sku.backorder, sorted(map(tuple, sku.backlog))) == (0.0, 6.0, [(1, 1.0), (2, 5.0)])
    assert sorted(engine.state.orders) == [1, 2]  # both wait for stock
    assert engine.warehouses[WH]._waiting == type(engine.warehouses[WH]._waiting)()


def test_a_pick_under_way_left_with_nothing_ends_without_a_pick_and_frees_the_picker() -> None:
    engine, events = _run(first=10.0)  # nothing left on the shelf
    released = _of(events, E.ReservationReleased)
    assert [(ev.order, ev.qty) for ev in released] == [(2, 5.0), (1, 3.0)]
    assert [ev.order for ev in _of(events, E.Picked)] == [0]
    assert [ev.order for ev in _of(events, E.Shipped)] == [0]
    ops = engine.warehouses[WH]
    assert (ops._picking, len(ops._waiting)) == (0, 0)
    assert engine.state.skus[(ITEM, WH)].backorder == 8.0


def test_released_units_of_a_lost_sale_item_are_lost_and_close_the_order() -> None:
    engine, events = _run(first=8.0, unmet="lost_sale")
    released = _of(events, E.ReservationReleased)
    assert [(ev.order, ev.qty, ev.lost) for ev in released] == [(2, 5.0, True), (1, 1.0, True)]
    sku = engine.state.skus[(ITEM, WH)]
    assert (sku.backorder, sku.lost) == (0.0, 6.0)
    assert engine.state.orders == {}  # order 2 closed with nothing, order 1 shipped 2 (complete)
    assert [(ev.order, ev.complete) for ev in _of(events, E.Shipped)] == [(0, True), (1, True)]


def test_a_count_that_finds_enough_releases_nothing() -> None:
    _, events = _run(first=2.0)  # the shelf holds 8 of the book's 10; 8 are reserved
    assert _of(events, E.ReservationReleased) == []
    assert [ev.picks[0][3] for ev in _of(events, E.Picked)] == [2.0, 3.0, 5.0]


# -- KPIs -------------------------------------------------------------------------------------------------


def _kpis(events: list[Any], unmet: str = "backorder") -> dict[str, float]:
    sc = _scenario(unmet)
    log = EventLog()
    log.events.extend(events)
    params = Engine(sc, sc.seed).layout.params
    return compute_kpis(events_frame(log), params, KpiWindow(0.0, 24.0, sc.costing))


def _opening(book: float, shelf: float) -> list[Any]:
    return [E.GoodsReceived(0.0, -1, ITEM, WH, 0, shelf, book, None, True), E.PutAway(0.0, ITEM, WH, 0, "available"),
            E.OrderPlaced(1.0, 0, WH, "walk_in", ((ITEM, 4.0),)),
            E.Allocated(1.0, 0, WH, ((ITEM, 0, 4.0),), (), (), False)]


def test_a_released_reservation_counts_in_the_kpis_as_a_short_pick_does() -> None:
    released = [*_opening(4.0, 2.0),
                E.ReservationReleased(13.0, 0, WH, ITEM, 0, 2.0, False),
                E.StockCounted(13.0, ITEM, WH, 4.0, 2.0, 0.1),
                E.Picked(13.0, 0, WH, ((ITEM, 0, 2.0, 2.0, 2.0),)),
                E.Shipped(13.0, 0, WH, ((ITEM, 2.0),), False)]
    short = [*_opening(4.0, 2.0),
             E.Picked(13.0, 0, WH, ((ITEM, 0, 4.0, 2.0, 2.0),)),
             E.Shipped(13.0, 0, WH, ((ITEM, 2.0),), False)]
    for events in (released, short):  # both are histories the reducer accepts
        state = State.empty([(ITEM, WH)])
        for ev in events:
            apply(state, ev)
    got, want = _kpis(released), _kpis(short)
    assert got["backorders"] == pytest.approx(2.0 * 11.0 / 24.0)  # 2 units on backorder from 13h
    assert got["shortage_cost"] > 0
    assert got["fill_rate"] == 1.0  # filled from stock on arrival, as a short pick leaves it
    for name, value in want.items():
        assert got[name] == pytest.approx(value, nan_ok=True), name


def test_a_released_reservation_of_a_lost_sale_item_costs_its_units() -> None:
    events = [*_opening(4.0, 2.0),
              E.ReservationReleased(13.0, 0, WH, ITEM, 0, 2.0, True),
              E.StockCounted(13.0, ITEM, WH, 4.0, 2.0, 0.1),
              E.Picked(13.0, 0, WH, ((ITEM, 0, 2.0, 2.0, 2.0),)),
              E.Shipped(13.0, 0, WH, ((ITEM, 2.0),), True)]
    kpis = _kpis(events, unmet="lost_sale")
    assert kpis["backorders"] == 0.0
    assert kpis["shortage_cost"] == pytest.approx(2 * 2.0)  # two units lost at their unit cost
    assert not math.isnan(kpis["order_cycle_time"])
