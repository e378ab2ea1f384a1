"""twin.model.state under the engine: random scenarios (Hypothesis) and a few hand-made ones are run
through the Engine, and each run's event log is replayed through the one reducer, checking the
invariants of tests/model/state_checks.py after every event, plus demand accounting and conservation.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.model.state_checks import check_rows, check_sku, conservation
from twin.model import events as E
from twin.model.scenario import Scenario
from twin.model.state import State, apply
from twin.sim.engine import Engine

# -- invariants over random scenarios run through the engine ---------------------------------------------


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    n = draw(st.integers(1, 3))
    ids = [f"i{k}" for k in range(n)]
    items = []
    for ident in ids:
        item: dict[str, Any] = {
            "id": ident,
            "unit_cost": draw(st.sampled_from([0.5, 3.0, 20.0])),
            "unmet": draw(st.sampled_from(["backorder", "backorder", "lost_sale"])),
            "return_rate": draw(st.sampled_from([0.0, 0.0, 0.2])),
        }
        shelf = draw(st.sampled_from([None, "2d", "5d"]))
        if shelf:
            item["shelf_life"] = shelf
        items.append(item)
    # Misreads are left out here: a pick misread can take reserved book stock. Missed reads combine
    # with cycle counts: a count that finds less than is reserved releases the surplus.
    misread = 0.0
    missed = draw(st.sampled_from([0.0, 0.0, 0.05]))
    warehouse = {
        "id": "w",
        "pickers": draw(st.integers(1, 3)),
        "counters": draw(st.integers(0, 1)),
        "ship_time": draw(st.sampled_from(["0s", "3h"])),
        "inspection": {
            "fraction": draw(st.sampled_from([0.0, 0.5])),
            "duration": "1d",
            "reject_rate": draw(st.sampled_from([0.0, 0.5])),
        },
        "scanner": {"misread_rate": misread, "missed_read_rate": missed},
        "initial_stock": draw(st.sampled_from(["policy", {i: 3 for i in ids}])),
    }
    supplier = {
        "id": "s",
        "items": ids,
        "order_cost": 10,
        "lead_time": {"dist": "gamma", "mean": draw(st.sampled_from(["12h", "2d"])), "cv": 0.4},
        "on_time": draw(st.sampled_from([1.0, 0.7])),
        "partial": {"probability": draw(st.sampled_from([0.0, 0.5])), "fraction": 0.5, "rest_after": "1d"},
        "transit_time": draw(st.sampled_from(["0s", "6h"])),
    }
    demand = [
        {
            "item": i,
            "location": "w",
            "mean": draw(st.sampled_from([0.5, 3.0, 12.0])),
            "line_size": draw(st.integers(1, 3)),
            "customer": draw(st.sampled_from(["walk_in", "ward"])),
        }
        for i in ids
    ]
    site: dict[str, Any] = {
        "name": "random",
        "items": items,
        "warehouses": [warehouse],
        "suppliers": [supplier],
        "demand": demand,
        "customers": [{"id": "ward", "order_every": "1d"}],
    }
    if draw(st.booleans()):
        site["procedures"] = [{"id": "op", "location": "w", "kit": {ids[0]: 2, ids[-1]: 1}, "per_day": 1.5}]
    inventory = draw(
        st.sampled_from(
            [
                {"use": "s_S", "params": {"service_level": 0.9}},
                {"use": "s_S", "params": {"s": 2, "S": 15}},
                {"use": "base_stock", "params": {"level": 10}},
                {"use": "s_Q", "params": {"s": 4, "Q": 6}},
                {"use": "min_max", "params": {"min": 3, "max": 12}},
            ]
        )
    )
    horizon = draw(st.integers(4, 10))
    disruptions = []
    if draw(st.booleans()):
        disruptions.append(
            {
                "at": "1d",
                "kind": "stock_freeze",
                "duration": draw(st.sampled_from(["1d", "3d"])),
                "items": ids[0],
            }
        )
    if draw(st.booleans()):
        disruptions.append({"at": "2d", "kind": "supplier_outage", "duration": "2d", "supplier": "s"})
    if draw(st.booleans()):
        disruptions.append({"at": "1d", "kind": "demand_surge", "duration": "2d", "factor": 3})
    policies: dict[str, Any] = {
        "inventory": inventory,
        "allocation": {"use": draw(st.sampled_from(["fefo", "fifo"]))},
    }
    if draw(st.booleans()):
        policies["cycle_count"] = {
            "use": "abc_cycle_count",
            "params": {"interval_days": {"A": 1, "B": 2, "C": 3}},
        }
    return Scenario.model_validate(
        {
            "name": "random",
            "site": site,
            "horizon": f"{horizon}d",
            "policies": policies,
            "disruptions": disruptions,
            "seed": draw(st.integers(0, 2**32 - 1)),
        }
    )


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_engine_runs_keep_every_invariant(scenario: Scenario) -> None:
    engine = Engine(scenario, scenario.seed)
    out = engine.run(scenario.horizon)
    events = out.log.events
    assert events, "a run with demand leaves events"

    # Replay the log through the reducer, checking after every event.
    replay = State.empty(list(out.state.skus))
    for ev in events:
        apply(replay, ev)
        for key in _touched(ev):
            check_sku(replay.skus[key])
    for key, sku in out.state.skus.items():
        mine = replay.skus[key]
        assert (mine.on_hand, mine.reserved, mine.backorder, mine.on_order, mine.held) == (
            sku.on_hand,
            sku.reserved,
            sku.backorder,
            sku.on_order,
            sku.held,
        )
        check_sku(sku)

    # Every demanded unit is, when ordered, allocated, backordered or lost.
    placed = {ev.order: ev for ev in events if isinstance(ev, E.OrderPlaced)}
    for ev in events:
        if isinstance(ev, E.Allocated) and not ev.backlog:
            want: dict[str, float] = defaultdict(float)
            for item, qty in placed[ev.order].lines:
                want[item] += qty
            got: dict[str, float] = defaultdict(float)
            for item, _lot, qty in ev.picks:
                got[item] += qty
            for item, qty in (*ev.backordered, *ev.lost):
                got[item] += qty
            assert got == pytest.approx(want), (ev, placed[ev.order])

    # Conservation: every unit received is on hand, held, shipped, expired, scrapped or adjusted.
    perfect = all(w.scanner.misread_rate == 0 and w.scanner.missed_read_rate == 0 for w in scenario.site.warehouses)
    for key, f in conservation(events).items():
        sku = out.state.skus[key]
        book_in = f["received"] + f["returned"] + f["adjusted"]
        book_out = f["shipped"] + f["written_off"] + f["expired"] + f["scrapped"]
        assert book_in - book_out == pytest.approx(sku.on_hand + sku.held, abs=1e-6), (key, dict(f))
        assert f["po_placed"] == pytest.approx(f["po_received"] + sku.on_order, abs=1e-6), (key, dict(f))
        if perfect:
            assert sku.phantom == pytest.approx(0.0, abs=1e-9)
            physical_in = f["received_physical"] + f["returned"]
            physical_out = f["shipped_physical"] + f["expired"] + f["scrapped"]
            assert physical_in - physical_out == pytest.approx(sku.on_hand + sku.held, abs=1e-6), (
                key,
                dict(f),
            )

    # The flat rows reproduce the counters.
    check_rows(events, out.state)


def _three_items(name: str, horizon: str, seed: int, warehouse: dict[str, Any], demand: list[dict[str, Any]],
                 policies: dict[str, Any], **site: Any) -> Scenario:
    """Three cheap items in one warehouse ``w`` with one supplier ``s`` (12 h gamma lead times)."""
    return Scenario.model_validate(
        {
            "name": name,
            "horizon": horizon,
            "seed": seed,
            "site": {
                "name": "s",
                "items": [{"id": f"i{k}", "unit_cost": 0.5} for k in range(3)],
                "warehouses": [{"id": "w", "pickers": 1, **warehouse}],
                "suppliers": [
                    {
                        "id": "s",
                        "lead_time": {"dist": "gamma", "mean": "12h", "cv": 0.4},
                        "items": ["i0", "i1", "i2"],
                        "order_cost": 10,
                    }
                ],
                "demand": demand,
                **site,
            },
            "policies": policies,
        }
    )


def _replays_within_the_invariants(sc: Scenario) -> None:
    """Run the scenario, replay its log event by event, and check every SKU an event touches."""
    out = Engine(sc, sc.seed).run(sc.horizon)
    replay = State.empty(list(out.state.skus))
    for ev in out.log:
        apply(replay, ev)
        for key in _touched(ev):
            check_sku(replay.skus[key])


def test_a_pick_misread_never_takes_reserved_book_stock() -> None:
    _replays_within_the_invariants(_three_items(
        "misreads", "5d", 7,
        {"counters": 0, "scanner": {"misread_rate": 0.05}},
        [{"item": f"i{k}", "location": "w", "mean": m, "customer": "walk_in"}
         for k, m in enumerate((0.5, 0.5, 12.0))],
        {"inventory": {"use": "s_Q", "params": {"s": 4, "Q": 6}}},
    ))


def test_a_count_that_finds_less_than_is_reserved_releases_the_surplus() -> None:
    _replays_within_the_invariants(_three_items(
        "missed-reads", "7d", 0,
        {"counters": 1, "scanner": {"missed_read_rate": 0.05}},
        [
            {"item": "i0", "location": "w", "mean": 0.5, "customer": "walk_in"},
            {"item": "i1", "location": "w", "mean": 12, "customer": "ward"},
            {"item": "i2", "location": "w", "mean": 0.5, "customer": "walk_in"},
        ],
        {
            "inventory": {"use": "s_S", "params": {"s": 2, "S": 15}},
            "cycle_count": {"use": "abc_cycle_count", "params": {"interval_days": {"A": 1, "B": 2, "C": 3}}},
        },
        customers=[{"id": "ward", "order_every": "1d"}],
        procedures=[{"id": "op", "location": "w", "kit": {"i0": 2, "i2": 1}, "per_day": 1.5}],
    ))


def test_stock_frozen_past_its_expiry_is_written_off_after_release() -> None:
    sc = Scenario.model_validate(
        {
            "name": "frozen-milk",
            "horizon": "8d",
            "seed": 1,
            "site": {
                "name": "s",
                "items": [{"id": "milk", "unit_cost": 1, "shelf_life": "2d"}],
                "warehouses": [{"id": "w", "initial_stock": {"milk": 20}}],
                "suppliers": [{"id": "s", "lead_time": {"mean": "30d"}, "items": ["milk"]}],
            },
            "policies": {"inventory": {"use": "s_S", "params": {"s": 0, "S": 1}}},
            "disruptions": [{"at": "1d", "kind": "stock_freeze", "duration": "3d", "items": "milk"}],
        }
    )
    out = Engine(sc, sc.seed).run(sc.horizon)
    sku = out.state.skus[("milk", "w")]
    assert [lot for lot in sku.lots if lot.expiry is not None and lot.expiry <= out.horizon - 24.0] == []
    assert sum(ev.qty for ev in out.log if isinstance(ev, E.Expired)) == 20


def _touched(ev: Any) -> set[tuple[str, str]]:
    if isinstance(ev, (E.OrderPlaced, E.Shipped)):
        return {(item, ev.location) for item, _ in ev.lines}
    if isinstance(ev, (E.Allocated, E.Picked)):
        return {
            (line[0], ev.location) for line in (*ev.picks, *getattr(ev, "backordered", ()), *getattr(ev, "lost", ()))
        }
    if hasattr(ev, "item"):
        return {(ev.item, ev.location)}
    return set()

