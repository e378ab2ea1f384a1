"""twin.model.state: the one reducer, its unit behaviour event by event, the event log's content hash,
and the invariants of tests/model/state_checks.py checked (Hypothesis) over random event sequences.
Engine runs replayed through the reducer are in tests/model/test_state_invariants.py.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.model.state_checks import ITEM, LOC, check_rows, check_sku, conservation, fresh, stock
from twin.model import events as E
from twin.model.events import EventLog
from twin.model.state import Lot, ReducerError, Sku, State, apply

# -- the reducer, event by event -------------------------------------------------------------------------


def test_apply_moves_the_clock() -> None:
    state = fresh()
    apply(state, E.DisruptionStarted(5.5, "demand_surge", "*", 2.0, 8.0))
    assert state.clock == 5.5


def test_purchase_order_to_shelf() -> None:
    state = fresh()
    sku = state.sku(ITEM, LOC)
    apply(state, E.PurchaseOrderPlaced(1.0, 0, ITEM, LOC, "medsupply", 10.0, 73.0, "s_S"))
    assert (sku.on_order, sku.inventory_position) == (10.0, 10.0)
    assert state.purchase_orders[0].qty == 10.0
    apply(state, E.PurchaseOrderShipped(50.0, 0, ITEM, LOC, 10.0))
    assert (sku.in_transit, state.purchase_orders[0].shipped) == (10.0, 10.0)
    apply(state, E.GoodsReceived(73.0, 0, ITEM, LOC, 7, 10.0, 10.0, 800.0, True))
    assert (sku.on_order, sku.in_transit, sku.held, sku.on_hand) == (0.0, 0.0, 10.0, 0.0)
    assert 0 not in state.purchase_orders
    assert sku.inventory_position == 10.0  # stock at the dock still counts
    apply(state, E.PutAway(73.5, ITEM, LOC, 7, "available"))
    assert (sku.held, sku.on_hand, sku.available) == (0.0, 10.0, 10.0)
    assert [(lot.id, lot.qty, lot.expiry, lot.status) for lot in sku.lots] == [(7, 10.0, 800.0, "available")]
    check_sku(sku)


def test_a_partial_delivery_keeps_the_purchase_order_open() -> None:
    state = fresh()
    sku = state.sku(ITEM, LOC)
    apply(state, E.PurchaseOrderPlaced(0.0, 3, ITEM, LOC, "s", 10.0, 24.0, "p"))
    apply(state, E.PurchaseOrderShipped(20.0, 3, ITEM, LOC, 6.0))
    apply(state, E.GoodsReceived(24.0, 3, ITEM, LOC, 1, 6.0, 6.0, None, False))
    assert (sku.on_order, sku.in_transit, state.purchase_orders[3].received) == (4.0, 0.0, 6.0)
    apply(state, E.PurchaseOrderShipped(90.0, 3, ITEM, LOC, 4.0))
    apply(state, E.GoodsReceived(96.0, 3, ITEM, LOC, 2, 4.0, 4.0, None, True))
    assert (sku.on_order, sku.in_transit, sku.held) == (0.0, 0.0, 10.0)
    assert 3 not in state.purchase_orders


def test_opening_stock_does_not_touch_on_order() -> None:
    state = fresh()
    stock(state, 0, 25.0)
    sku = state.sku(ITEM, LOC)
    assert (sku.on_hand, sku.on_order, sku.held) == (25.0, 0.0, 0.0)


def test_order_allocate_pick_ship() -> None:
    state = fresh()
    stock(state, 0, 5.0, expiry=100.0)
    stock(state, 1, 5.0, expiry=50.0)
    sku = state.sku(ITEM, LOC)
    apply(state, E.OrderPlaced(1.0, 9, LOC, "ward", ((ITEM, 7.0),)))
    assert (sku.demand, state.orders[9]) == (7.0, [1.0, 7.0])
    apply(state, E.Allocated(1.0, 9, LOC, ((ITEM, 1, 5.0), (ITEM, 0, 2.0)), (), (), False))
    assert (sku.reserved, sku.available) == (7.0, 3.0)
    assert [(lot.id, lot.reserved) for lot in sku.lots] == [(1, 5.0), (0, 2.0)]  # FEFO: lot 1 expires first
    check_sku(sku)
    apply(state, E.Picked(1.5, 9, LOC, ((ITEM, 1, 5.0, 5.0, 5.0), (ITEM, 0, 2.0, 2.0, 2.0))))
    assert (sku.on_hand, sku.reserved) == (3.0, 0.0)
    assert [(lot.id, lot.qty) for lot in sku.lots] == [(0, 3.0)]  # the emptied lot is gone
    apply(state, E.Shipped(1.5, 9, LOC, ((ITEM, 7.0),), True))
    assert 9 not in state.orders
    check_sku(sku)


def test_backorder_then_served_from_a_later_receipt() -> None:
    state = fresh()
    stock(state, 0, 2.0)
    sku = state.sku(ITEM, LOC)
    apply(state, E.OrderPlaced(1.0, 1, LOC, "c", ((ITEM, 5.0),)))
    apply(state, E.Allocated(1.0, 1, LOC, ((ITEM, 0, 2.0),), ((ITEM, 3.0),), (), False))
    assert (sku.backorder, list(sku.backlog)) == (3.0, [[1, 3.0]])
    assert sku.inventory_position == -1.0
    stock(state, 1, 10.0, t=5.0)
    apply(state, E.Allocated(5.0, 1, LOC, ((ITEM, 1, 3.0),), (), (), True))
    assert (sku.backorder, list(sku.backlog), sku.reserved) == (0.0, [], 5.0)
    check_sku(sku)


def test_serving_a_backorder_that_does_not_exist_is_an_error() -> None:
    state = fresh()
    stock(state, 0, 2.0)
    with pytest.raises(ReducerError, match=r"order 4 has no backorder of 1 of gauze@main \(it waits for 0\)"):
        apply(state, E.Allocated(1.0, 4, LOC, ((ITEM, 0, 1.0),), (), (), True))


def test_lost_sales_close_the_order() -> None:
    state = fresh()
    sku = state.sku(ITEM, LOC)
    apply(state, E.OrderPlaced(1.0, 2, LOC, "c", ((ITEM, 4.0),)))
    apply(state, E.Allocated(1.0, 2, LOC, (), (), ((ITEM, 4.0),), False))
    assert (sku.lost, sku.backorder) == (4.0, 0.0)
    assert 2 not in state.orders


def test_a_short_pick_goes_back_on_backorder() -> None:
    state = fresh()
    stock(state, 0, 5.0)
    sku = state.sku(ITEM, LOC)
    apply(state, E.OrderPlaced(1.0, 1, LOC, "c", ((ITEM, 5.0),)))
    apply(state, E.Allocated(1.0, 1, LOC, ((ITEM, 0, 5.0),), (), (), False))
    # The shelf held only 3: 3 picked and scanned, 2 written off and backordered.
    apply(state, E.Picked(2.0, 1, LOC, ((ITEM, 0, 5.0, 3.0, 3.0),)))
    assert (sku.on_hand, sku.reserved, sku.backorder, list(sku.backlog)) == (0.0, 0.0, 2.0, [[1, 2.0]])
    check_sku(sku)


def test_a_misread_at_receipt_makes_phantom_stock() -> None:
    state = fresh()
    sku = state.sku(ITEM, LOC)
    apply(state, E.GoodsReceived(0.0, -1, ITEM, LOC, 0, 10.0, 11.0, None, True))
    assert (sku.held, sku.phantom, sku.physical) == (11.0, 1.0, 10.0)
    apply(state, E.PutAway(0.0, ITEM, LOC, 0, "available"))
    assert (sku.on_hand, sku.physical) == (11.0, 10.0)
    apply(state, E.StockCounted(5.0, ITEM, LOC, 11.0, 10.0, 0.1))
    assert (sku.on_hand, sku.phantom) == (10.0, 0.0)
    check_sku(sku)


def test_a_count_takes_missing_units_from_the_latest_expiring_lot() -> None:
    state = fresh()
    stock(state, 0, 5.0, expiry=10.0)
    stock(state, 1, 5.0, expiry=90.0)
    sku = state.sku(ITEM, LOC)
    apply(state, E.StockCounted(3.0, ITEM, LOC, 10.0, 7.0, 0.2))
    assert [(lot.id, lot.qty) for lot in sku.lots] == [(0, 5.0), (1, 2.0)]
    apply(state, E.StockCounted(4.0, ITEM, LOC, 7.0, 9.0, 0.2))
    assert [(lot.id, lot.qty) for lot in sku.lots] == [(0, 5.0), (1, 4.0)]
    check_sku(sku)


def test_a_count_that_finds_stock_where_the_book_has_none_makes_an_adjustment_lot() -> None:
    state = fresh()
    sku = state.sku(ITEM, LOC)
    apply(state, E.StockCounted(3.0, ITEM, LOC, 0.0, 4.0, 0.2))
    assert [(lot.id, lot.qty) for lot in sku.lots] == [(-1, 4.0)]
    assert state.next_adjustment_lot == -2
    check_sku(sku)


def test_a_released_reservation_goes_back_on_backorder_before_the_count_is_booked() -> None:
    state = fresh()
    stock(state, 0, 8.0)
    sku = state.sku(ITEM, LOC)
    apply(state, E.OrderPlaced(1.0, 4, LOC, "ward", ((ITEM, 3.0),)))
    apply(state, E.Allocated(1.0, 4, LOC, ((ITEM, 0, 3.0),), (), (), False))
    apply(state, E.OrderPlaced(1.5, 5, LOC, "ward", ((ITEM, 4.0),)))
    apply(state, E.Allocated(1.5, 5, LOC, ((ITEM, 0, 4.0),), (), (), False))
    # The shelf holds 5, not 8: the newest order gives up 2 of its 4 before the count is booked.
    apply(state, E.ReservationReleased(2.0, 5, LOC, ITEM, 0, 2.0, False))
    assert (sku.reserved, sku.lots[0].reserved, sku.backorder, list(sku.backlog)) == (5.0, 5.0, 2.0, [[5, 2.0]])
    check_sku(sku)
    apply(state, E.StockCounted(2.0, ITEM, LOC, 8.0, 5.0, 0.1))
    assert (sku.on_hand, sku.reserved, sku.available) == (5.0, 5.0, 0.0)
    assert state.orders[5] == [1.5, 4.0]  # still open: it waits for 2
    check_sku(sku)


def test_releasing_every_reservation_of_an_emptied_lot_removes_it_and_a_lost_sale_closes_the_order() -> None:
    state = fresh()
    stock(state, 0, 2.0)
    sku = state.sku(ITEM, LOC)
    events = [
        E.OrderPlaced(1.0, 9, LOC, "walk_in", ((ITEM, 2.0),)),
        E.Allocated(1.0, 9, LOC, ((ITEM, 0, 2.0),), (), (), False),
        E.ReservationReleased(3.0, 9, LOC, ITEM, 0, 2.0, True),
        E.StockCounted(3.0, ITEM, LOC, 2.0, 0.0, 0.1),
    ]
    for e in events:
        apply(state, e)
        check_sku(sku)
    assert (sku.on_hand, sku.reserved, sku.backorder, sku.lost, sku.lots) == (0.0, 0.0, 0.0, 2.0, [])
    assert 9 not in state.orders
    opening = [E.GoodsReceived(0.0, -1, ITEM, LOC, 0, 2.0, 2.0, None, True), E.PutAway(0.0, ITEM, LOC, 0, "available")]
    check_rows(opening + events, state)
    with pytest.raises(ReducerError, match="reserved"):
        stock(state, 1, 1.0)
        apply(state, E.ReservationReleased(4.0, 9, LOC, ITEM, 1, 1.0, False))


def test_expiry_of_available_and_of_held_lots() -> None:
    state = fresh()
    sku = state.sku(ITEM, LOC)
    stock(state, 0, 6.0, expiry=24.0)
    apply(state, E.Expired(24.0, ITEM, LOC, 0, 6.0))
    assert (sku.on_hand, sku.lots) == (0.0, [])
    apply(state, E.GoodsReceived(30.0, -1, ITEM, LOC, 1, 4.0, 4.0, 40.0, True))
    apply(state, E.Expired(40.0, ITEM, LOC, 1, 4.0))  # expired at the dock
    assert (sku.held, sku.held_lots, sku.on_hand) == (0.0, {}, 0.0)
    check_sku(sku)


def test_freeze_and_release_a_lot() -> None:
    state = fresh()
    sku = state.sku(ITEM, LOC)
    stock(state, 0, 6.0)
    apply(state, E.StatusChanged(2.0, ITEM, LOC, 0, "frozen", 6.0, "stock_freeze"))
    assert (sku.on_hand, sku.held, sku.held_lots[0].status) == (0.0, 6.0, "frozen")
    apply(state, E.StatusChanged(5.0, ITEM, LOC, 0, "available", 6.0, "released"))
    assert (sku.on_hand, sku.held, [lot.id for lot in sku.lots]) == (6.0, 0.0, [0])
    apply(state, E.StatusChanged(6.0, ITEM, LOC, 0, "available", 6.0, "again"))  # already available: no change
    assert (sku.on_hand, sku.held) == (6.0, 0.0)
    check_sku(sku)


def test_a_reserved_lot_cannot_be_frozen() -> None:
    state = fresh()
    stock(state, 0, 6.0)
    apply(state, E.OrderPlaced(1.0, 1, LOC, "c", ((ITEM, 1.0),)))
    apply(state, E.Allocated(1.0, 1, LOC, ((ITEM, 0, 1.0),), (), (), False))
    with pytest.raises(ReducerError, match=r"lot 0 of gauze@main has reservations and cannot be frozen"):
        apply(state, E.StatusChanged(2.0, ITEM, LOC, 0, "frozen", 6.0, "recall"))


def test_scrapping_held_and_available_lots() -> None:
    state = fresh()
    sku = state.sku(ITEM, LOC)
    apply(state, E.GoodsReceived(0.0, -1, ITEM, LOC, 0, 5.0, 5.0, None, True))
    apply(state, E.PutAway(0.0, ITEM, LOC, 0, "quality_hold"))
    assert (sku.held, sku.held_lots[0].status) == (5.0, "quality_hold")
    apply(state, E.StatusChanged(24.0, ITEM, LOC, 0, "scrapped", 5.0, "inspection"))
    assert (sku.held, sku.on_hand) == (0.0, 0.0)
    stock(state, 1, 3.0)
    apply(state, E.StatusChanged(25.0, ITEM, LOC, 1, "scrapped", 3.0, "recall"))
    assert (sku.held, sku.on_hand, sku.lots) == (0.0, 0.0, [])


def test_returns_enter_quality_hold() -> None:
    state = fresh()
    sku = state.sku(ITEM, LOC)
    apply(state, E.Returned(48.0, 3, ITEM, LOC, 9, 2.0, 100.0))
    assert (sku.held, sku.held_lots[9].status, sku.on_hand) == (2.0, "quality_hold", 0.0)
    apply(state, E.StatusChanged(72.0, ITEM, LOC, 9, "available", 2.0, "inspection"))
    assert (sku.held, sku.on_hand) == (0.0, 2.0)


def test_disruptions_and_rejected_actions_are_recorded() -> None:
    state = fresh()
    apply(state, E.DisruptionStarted(1.0, "supplier_outage", "medsupply", 1.0, 49.0))
    assert state.disruptions == {("supplier_outage", "medsupply"): 49.0}
    apply(state, E.DisruptionEnded(49.0, "supplier_outage", "medsupply"))
    assert state.disruptions == {}
    apply(state, E.ActionRejected(2.0, "s_S", "PlaceOrder(...)", "quantity must be a positive number, got -1"))
    assert state.rejected_actions == 1


@pytest.mark.parametrize(
    ("event", "message"),
    [
        (E.OrderPlaced(0.0, 1, LOC, "c", (("tape", 1.0),)), r"unknown item 'tape' at location 'main'"),
        (
            E.PurchaseOrderPlaced(0.0, 1, ITEM, "annex", "s", 1.0, 2.0, "p"),
            r"unknown item 'gauze' at location 'annex'",
        ),
        (E.PutAway(0.0, ITEM, LOC, 42, "available"), r"lot 42 of gauze@main was not received"),
        (
            E.Allocated(0.0, 1, LOC, ((ITEM, 42, 1.0),), (), (), False),
            r"lot 42 of gauze@main is not available to allocate",
        ),
        (E.Expired(0.0, ITEM, LOC, 42, 1.0), r"lot 42 is not available at gauze@main"),
        (E.StatusChanged(0.0, ITEM, LOC, 42, "frozen", 1.0, "x"), r"lot 42 is not available at gauze@main"),
    ],
)
def test_events_that_do_not_fit_the_state_are_errors(event: Any, message: str) -> None:
    with pytest.raises(ReducerError, match=message):
        apply(fresh(), event)


def test_lots_are_kept_in_fefo_order() -> None:
    sku = Sku(ITEM, LOC)
    for lot in (
        Lot(0, 1.0, None, 0.0, "available"),
        Lot(1, 1.0, 50.0, 5.0, "available"),
        Lot(2, 1.0, 10.0, 9.0, "available"),
        Lot(3, 1.0, 50.0, 1.0, "available"),
    ):
        sku.add_lot(lot)
    assert [lot.id for lot in sku.lots] == [2, 3, 1, 0]  # expiry, then receipt, never-expiring last


def test_event_rows_reproduce_the_counters_for_every_event_type() -> None:
    """One hand-made history touching every event type (and the held-lot corner cases)."""
    events = [
        E.GoodsReceived(0.0, -1, ITEM, LOC, 0, 10.0, 10.0, 30.0, True),
        E.PutAway(0.0, ITEM, LOC, 0, "available"),
        E.PurchaseOrderPlaced(1.0, 0, ITEM, LOC, "s", 8.0, 25.0, "s_S"),
        E.OrderPlaced(2.0, 0, LOC, "c", ((ITEM, 12.0),)),
        E.Allocated(2.0, 0, LOC, ((ITEM, 0, 10.0),), ((ITEM, 2.0),), (), False),
        E.Picked(2.5, 0, LOC, ((ITEM, 0, 10.0, 9.0, 9.0),)),  # one short
        E.Shipped(2.5, 0, LOC, ((ITEM, 9.0),), False),
        E.PurchaseOrderShipped(20.0, 0, ITEM, LOC, 8.0),
        E.GoodsReceived(25.0, 0, ITEM, LOC, 1, 8.0, 8.0, 60.0, True),
        E.PutAway(25.5, ITEM, LOC, 1, "available"),
        E.Allocated(25.5, 0, LOC, ((ITEM, 1, 3.0),), (), (), True),
        E.OrderPlaced(26.0, 1, LOC, "c", ((ITEM, 1.0),)),
        E.Allocated(26.0, 1, LOC, (), (), ((ITEM, 1.0),), False),
        E.ReservationReleased(26.5, 0, LOC, ITEM, 1, 1.0, False),  # back on backorder
        E.ReservationReleased(26.5, 0, LOC, ITEM, 1, 1.0, True),  # lost
        E.GoodsReceived(27.0, -1, ITEM, LOC, 2, 4.0, 4.0, 28.0, True),
        E.Expired(28.0, ITEM, LOC, 2, 4.0),  # expired at the dock: never on hand
        E.Returned(29.0, 0, ITEM, LOC, 3, 2.0, 90.0),
        E.StatusChanged(30.0, ITEM, LOC, 3, "frozen", 2.0, "stock_freeze"),  # held to held
        E.StatusChanged(31.0, ITEM, LOC, 3, "available", 2.0, "released"),
        E.StatusChanged(32.0, ITEM, LOC, 3, "frozen", 2.0, "stock_freeze"),  # available to held
        E.StatusChanged(33.0, ITEM, LOC, 3, "scrapped", 2.0, "recall"),
        E.GoodsReceived(34.0, -1, ITEM, LOC, 4, 1.0, 1.0, None, True),
        E.PutAway(34.0, ITEM, LOC, 4, "available"),
        E.StatusChanged(35.0, ITEM, LOC, 4, "scrapped", 1.0, "recall"),  # scrapped straight from the shelf
        E.StatusChanged(36.0, ITEM, LOC, 1, "available", 8.0, "noop"),  # available to available: no change
        E.StockCounted(37.0, ITEM, LOC, 8.0, 7.0, 0.1),
        E.DisruptionStarted(38.0, "demand_surge", "*", 2.0, 40.0),
        E.DisruptionEnded(40.0, "demand_surge", "*"),
        E.ActionRejected(41.0, "s_S", "x", "y"),
        E.DiscrepancyRaised(42.0, "stock_count", f"{ITEM}@{LOC}", 7.0, 4.0, 2.0, "wms-1"),  # moves no stock
    ]
    # Production events have the same check in tests/test_production.py; maintenance and transport
    # events move no stock (tests/test_fleet.py checks the transport ones).
    others = {c.__name__ for c in (*E.PRODUCTION_EVENTS, *E.MAINTENANCE_EVENTS, *E.FLEET_EVENTS,
                                   *E.FLOOR_EVENTS)}  # floor tours move no stock (tests/test_floor.py)
    assert {type(e).__name__ for e in events} == set(E.EVENT_TYPES) - others
    state = fresh()
    for n, ev in enumerate(events, 1):
        apply(state, ev)
        check_sku(state.sku(ITEM, LOC))
        check_rows(events[:n], state)
    sku = state.sku(ITEM, LOC)
    # 3 reserved for order 0's backorder, 2 of them released: 1 back on backorder, 1 lost.
    assert (sku.on_hand, sku.reserved, sku.backorder, sku.on_order, sku.held) == (7.0, 1.0, 1.0, 0.0, 0.0)
    assert sku.lost == 2.0


# -- the event log ---------------------------------------------------------------------------------------


def test_content_hash_is_stable_and_sensitive() -> None:
    def log_of(events: list[Any]) -> EventLog:
        log = EventLog()
        log.events.extend(events)
        return log

    events = [E.OrderPlaced(0.1, 0, LOC, "c", ((ITEM, 1.0),)), E.ActionRejected(0.2, "p", "a", "r")]
    a, b = log_of(events), log_of(list(events))
    assert a.content_hash() == b.content_hash()
    assert len(a.content_hash()) == 64
    nudged = log_of([E.OrderPlaced(math.nextafter(0.1, 1.0), 0, LOC, "c", ((ITEM, 1.0),)), events[1]])
    assert nudged.content_hash() != a.content_hash()
    assert log_of(events[::-1]).content_hash() != a.content_hash()
    # A type's name is part of the record: the same field values under another type hash differently.
    assert log_of([E.DisruptionEnded(1.0, "a", "b")]).content_hash() != log_of([(1.0, "a", "b")]).content_hash()


def test_content_hash_of_a_long_log_is_deterministic() -> None:
    events = [E.OrderPlaced(float(k), k, LOC, "c", ((ITEM, 1.0),)) for k in range(45_000)]  # spans hashing chunks
    a, b = EventLog(), EventLog()
    a.events.extend(events)
    b.events.extend(events)
    assert a.content_hash() == b.content_hash()
    b.events[-1] = E.OrderPlaced(0.0, 0, LOC, "c", ((ITEM, 1.0),))
    assert a.content_hash() != b.content_hash()


# -- invariants over random event sequences through the reducer ------------------------------------------


ITEMS = ("a", "b")


@st.composite
def histories(draw: st.DrawFn) -> list[Any]:
    """A valid history built step by step: each event is one the current state allows."""
    state = State.empty([(i, LOC) for i in ITEMS])
    events: list[Any] = []
    ids = {"lot": 0, "order": 0, "po": 0}
    t = 0.0
    pending_picks: list[tuple[int, tuple[str, int, float]]] = []

    def nxt(kind: str) -> int:
        ids[kind] += 1
        return ids[kind] - 1

    def emit(ev: Any) -> None:
        apply(state, ev)
        events.append(ev)

    for _ in range(draw(st.integers(1, 40))):
        t += draw(st.sampled_from([0.0, 0.5, 3.0]))
        item = draw(st.sampled_from(ITEMS))
        sku = state.sku(item, LOC)
        step = draw(
            st.sampled_from(
                [
                    "po",
                    "receive",
                    "receive",
                    "put_away",
                    "put_away",
                    "put_away",
                    "order",
                    "order",
                    "pick",
                    "pick",
                    "pick",
                    "serve",
                    "serve",
                    "expire",
                    "freeze",
                    "release",
                    "scrap",
                    "count",
                    "return",
                ]
            )
        )
        open_pos = [po for po in state.purchase_orders.values() if po.item == item]
        if step == "po":
            emit(E.PurchaseOrderPlaced(t, nxt("po"), item, LOC, "s", float(draw(st.integers(1, 9))), t + 24, "p"))
        elif step == "receive" and open_pos:
            po = open_pos[0]
            left = po.qty - po.received
            qty = float(draw(st.integers(1, int(left)))) if left >= 1 else left
            if draw(st.booleans()):
                emit(E.PurchaseOrderShipped(t, po.po, item, LOC, qty))
            expiry = draw(st.sampled_from([None, t + 5.0]))
            emit(E.GoodsReceived(t, po.po, item, LOC, nxt("lot"), qty, qty, expiry, qty >= left - 1e-9))
        elif step == "put_away" and sku.held_lots:
            lot = draw(st.sampled_from(sorted(k for k, v in sku.held_lots.items() if v.status == "dock") or [None]))
            if lot is not None:
                emit(E.PutAway(t, item, LOC, lot, draw(st.sampled_from(["available", "quality_hold"]))))
        elif step == "order":
            qty = float(draw(st.integers(1, 8)))
            order = nxt("order")
            emit(E.OrderPlaced(t, order, LOC, "c", ((item, qty),)))
            picks, rem = [], qty
            for lot in sku.lots:
                free = lot.qty - lot.reserved
                if free > 0 and rem > 0:
                    take = min(free, rem)
                    picks.append((item, lot.id, take))
                    rem -= take
            lost = draw(st.booleans())
            emit(
                E.Allocated(
                    t,
                    order,
                    LOC,
                    tuple(picks),
                    () if lost or rem <= 0 else ((item, rem),),
                    ((item, rem),) if lost and rem > 0 else (),
                    False,
                )
            )
            pending_picks.extend((order, p) for p in picks)
        elif step == "serve" and sku.backlog and sku.available > 0:
            order, want = sku.backlog[0]
            lot = next((lot for lot in sku.lots if lot.qty - lot.reserved > 0), None)
            if lot is not None:
                take = min(want, lot.qty - lot.reserved)
                emit(E.Allocated(t, order, LOC, ((item, lot.id, take),), (), (), True))
                pending_picks.append((order, (item, lot.id, take)))
        elif step == "pick" and pending_picks:
            order, (it, lot_id, alloc) = pending_picks.pop(0)
            short = float(draw(st.integers(0, int(alloc)))) if draw(st.booleans()) else 0.0
            emit(E.Picked(t, order, LOC, ((it, lot_id, alloc, alloc - short, alloc - short),)))
        elif step == "expire" and (sku.lots or sku.held_lots):
            if sku.lots and draw(st.booleans()):
                lot = draw(st.sampled_from(sku.lots))
                free = lot.qty - lot.reserved
                if free > 0:
                    emit(E.Expired(t, item, LOC, lot.id, free))
            elif sku.held_lots:
                lot = sku.held_lots[draw(st.sampled_from(sorted(sku.held_lots)))]
                emit(E.Expired(t, item, LOC, lot.id, lot.qty))
        elif step == "freeze" and sku.lots:
            lot = draw(st.sampled_from(sku.lots))
            if lot.reserved <= 0:
                emit(E.StatusChanged(t, item, LOC, lot.id, "frozen", lot.qty, "freeze"))
        elif step == "release" and sku.held_lots:
            lot = sku.held_lots[draw(st.sampled_from(sorted(sku.held_lots)))]
            if lot.status != "dock":
                emit(E.StatusChanged(t, item, LOC, lot.id, "available", lot.qty, "release"))
        elif step == "scrap":
            held = sorted(sku.held_lots)
            free = [lot for lot in sku.lots if lot.reserved <= 0]
            if held and draw(st.booleans()):
                lot = sku.held_lots[draw(st.sampled_from(held))]
                emit(E.StatusChanged(t, item, LOC, lot.id, "scrapped", lot.qty, "inspection"))
            elif free:
                lot = draw(st.sampled_from(free))
                emit(E.StatusChanged(t, item, LOC, lot.id, "scrapped", lot.qty, "recall"))
        elif step == "count":
            # A count never finds less than is reserved (those units are set aside for picking).
            counted = float(draw(st.integers(int(math.ceil(sku.reserved)), int(sku.on_hand) + 3)))
            emit(E.StockCounted(t, item, LOC, sku.on_hand, counted, 0.1))
        elif step == "return":
            emit(E.Returned(t, 0, item, LOC, nxt("lot"), float(draw(st.integers(1, 3))), None))
    return events


@settings(max_examples=150, deadline=None)
@given(histories())
def test_random_histories_keep_every_invariant_and_match_the_flat_rows(events: list[Any]) -> None:
    state = State.empty([(i, LOC) for i in ITEMS])
    for n, ev in enumerate(events, 1):
        apply(state, ev)
        for sku in state.skus.values():
            check_sku(sku)
        if n % 5 == 0 or n == len(events):
            check_rows(events[:n], state)
    flows = conservation(events)
    for key, sku in state.skus.items():
        f = flows.get(key, defaultdict(float))
        book_in = f["received"] + f["returned"] + f["adjusted"]
        book_out = f["shipped"] + f["written_off"] + f["expired"] + f["scrapped"]
        assert book_in - book_out == pytest.approx(sku.on_hand + sku.held, abs=1e-6), (key, dict(f))
