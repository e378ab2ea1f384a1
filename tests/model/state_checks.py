"""Checks shared by the state tests: a fresh one-SKU state, opening stock, the per-SKU invariants of the
one reducer, the flat-row cross-check and book conservation per SKU. A plain module (no tests), imported by
tests/model/test_state.py, tests/model/test_state_invariants.py and the production and MRP tests.

Invariants (per SKU, after every event): on hand, held, backorders and on order never negative;
reserved within on hand; lot quantities add up to on hand (available lots) and to held (the rest);
backorders equal the backlog; every unit received is on hand, held, shipped, expired, scrapped or
adjusted by a count (conservation); and the flat rows of ``event_rows`` summed per SKU reproduce the
reducer's counters.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

import pytest

from twin.model import events as E
from twin.model.events import ROW_COLUMNS, event_rows
from twin.model.state import Sku, State, apply

TOL = 1e-6
ITEM, LOC = "gauze", "main"


def fresh(*items: str) -> State:
    return State.empty([(i, LOC) for i in (items or (ITEM,))])


def stock(state: State, lot: int, qty: float, item: str = ITEM, t: float = 0.0, expiry: float | None = None) -> None:
    """Opening stock: received (po -1) and put away at once."""
    apply(state, E.GoodsReceived(t, -1, item, LOC, lot, qty, qty, expiry, True))
    apply(state, E.PutAway(t, item, LOC, lot, "available"))


def check_sku(sku: Sku) -> None:
    """Every per-SKU invariant of the module docstring that a single state can show."""
    name = f"{sku.item}@{sku.location}"
    assert sku.on_hand >= -TOL, (name, sku.on_hand)
    assert sku.held >= -TOL, (name, sku.held)
    assert sku.backorder >= -TOL, (name, sku.backorder)
    assert sku.on_order >= -TOL, (name, sku.on_order)
    assert -TOL <= sku.in_transit <= sku.on_order + TOL, (name, sku.in_transit, sku.on_order)
    assert -TOL <= sku.reserved <= sku.on_hand + TOL, (name, sku.reserved, sku.on_hand)
    assert math.isclose(sum(lot.qty for lot in sku.lots), sku.on_hand, abs_tol=TOL), (
        name,
        sku.lots,
        sku.on_hand,
    )
    assert math.isclose(sum(lot.reserved for lot in sku.lots), sku.reserved, abs_tol=TOL), (name, sku.lots)
    assert math.isclose(sum(lot.qty for lot in sku.held_lots.values()), sku.held, abs_tol=TOL), (
        name,
        sku.held,
    )
    assert math.isclose(sum(q for _, q in sku.backlog), sku.backorder, abs_tol=TOL), (name, sku.backlog)
    for lot in sku.lots:
        assert lot.qty >= -TOL and -TOL <= lot.reserved <= lot.qty + TOL, (name, lot)
    assert sku.keys == sorted(sku.keys) == [lot.sort_key() for lot in sku.lots], name


def check_rows(events: list[Any], state: State) -> None:
    """The flat rows summed per SKU equal the reducer's counters."""
    totals: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0, 0.0])
    lot_qty: dict[tuple[str, str, int], float] = {}
    col = {c: k for k, c in enumerate(ROW_COLUMNS)}
    for seq, ev in enumerate(events):
        for row in event_rows(seq, ev, lot_qty):
            if row[col["item"]]:
                acc = totals[(row[col["item"]], row[col["location"]])]
                for k, c in enumerate(("d_on_hand", "d_reserved", "d_backorder", "d_on_order")):
                    acc[k] += row[col[c]]
    for key, sku in state.skus.items():
        got = totals.get(key, [0.0, 0.0, 0.0, 0.0])
        want = [sku.on_hand, sku.reserved, sku.backorder, sku.on_order]
        assert got == pytest.approx(want, abs=1e-6), (key, got, want)


def conservation(events: list[Any]) -> dict[tuple[str, str], dict[str, float]]:
    """Book units in and out of each SKU, by way, from the events alone."""
    flows: dict[tuple[str, str], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for ev in events:
        if isinstance(ev, E.GoodsReceived):
            flows[(ev.item, ev.location)]["received"] += ev.scanned
            flows[(ev.item, ev.location)]["received_physical"] += ev.qty
            if ev.po >= 0:
                flows[(ev.item, ev.location)]["po_received"] += ev.qty
        elif isinstance(ev, E.PurchaseOrderPlaced):
            flows[(ev.item, ev.location)]["po_placed"] += ev.qty
        elif isinstance(ev, E.Returned):
            flows[(ev.item, ev.location)]["returned"] += ev.qty
        elif isinstance(ev, E.Picked):
            for item, _lot, alloc, qty, scanned in ev.picks:
                flows[(item, ev.location)]["shipped"] += scanned
                flows[(item, ev.location)]["written_off"] += alloc - qty
                flows[(item, ev.location)]["shipped_physical"] += qty
        elif isinstance(ev, E.Expired):
            flows[(ev.item, ev.location)]["expired"] += ev.qty
        elif isinstance(ev, E.StatusChanged) and ev.status == "scrapped":
            flows[(ev.item, ev.location)]["scrapped"] += ev.qty
        elif isinstance(ev, E.StockCounted):
            flows[(ev.item, ev.location)]["adjusted"] += ev.counted - ev.book
    return flows
