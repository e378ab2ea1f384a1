"""Production: the reducer's production events, the MES-WMS material flow in the engine (reserve,
substitute, hold, backflush, receive, scrap), the plant scenario, and the site file's checks."""

from __future__ import annotations

import copy
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT
from tests.model.test_state import check_rows, check_sku
from twin.errors import ScenarioError
from twin.kpi_production import production_kpis
from twin.model import events as E
from twin.model.scenario import Scenario
from twin.model.state import ReducerError, State, apply
from twin.scenario import load_scenario
from twin.sim.engine import Engine

LOC = "plant"


def test_production_events_move_the_counters_and_match_the_rows() -> None:
    state = State.empty([("fg", LOC), ("part", LOC)])
    events: list[Any] = [
        E.GoodsReceived(0.0, -1, "part", LOC, 0, 10.0, 10.0, None, True),
        E.PutAway(0.0, "part", LOC, 0, "available"),
        E.ProductionOrderReleased(1.0, 0, "fg", LOC, 4.0, 9.0, "test"),
        E.MaterialShortage(1.0, 0, LOC, (("part", 2.0),), "held"),
        E.MaterialReserved(2.0, 0, LOC, (("part", 0, 8.0),)),
        E.OperationStarted(2.0, 0, 0, "m1", 0.5),
        E.OperationCompleted(4.0, 0, 0, "m1", 1.5),
        E.ProductionScrapped(4.0, 0, "fg", LOC, 1.0, "quality"),
        E.MaterialIssued(4.0, 0, LOC, (("part", 0, 8.0),)),
        E.ProductionReceived(4.0, 0, "fg", LOC, 1, 3.0),
    ]
    for n, ev in enumerate(events, 1):
        apply(state, ev)
        for sku in state.skus.values():
            check_sku(sku)
        check_rows(events[:n], state)
        if isinstance(ev, E.MaterialReserved):
            assert state.sku("part", LOC).available == 2.0  # reserved stock is not available to anyone else
    part, fg = state.sku("part", LOC), state.sku("fg", LOC)
    assert (part.on_hand, part.reserved) == (2.0, 0.0)
    assert (fg.on_hand, fg.on_order) == (3.0, 0.0)
    assert state.production.orders == {} and state.production.scrapped == 1.0


def test_reserved_stock_cannot_be_reserved_or_issued_twice() -> None:
    state = State.empty([("fg", LOC), ("part", LOC)])
    for ev in (E.GoodsReceived(0.0, -1, "part", LOC, 0, 10.0, 10.0, None, True),
               E.PutAway(0.0, "part", LOC, 0, "available"),
               E.ProductionOrderReleased(0.0, 0, "fg", LOC, 1.0, 9.0, "t"),
               E.ProductionOrderReleased(0.0, 1, "fg", LOC, 1.0, 9.0, "t"),
               E.MaterialReserved(0.0, 0, LOC, (("part", 0, 8.0),))):
        apply(state, ev)
    with pytest.raises(ReducerError, match="has 2 free, work order 1 reserves 5"):
        apply(state, E.MaterialReserved(0.0, 1, LOC, (("part", 0, 5.0),)))
    with pytest.raises(ReducerError, match="only 0 is reserved for it"):
        apply(state, E.MaterialIssued(0.0, 1, LOC, (("part", 0, 1.0),)))


def plant_data() -> dict[str, Any]:
    """A small plant inline: one product from a part (with a substitute) on one machine."""
    return {
        "name": "mini-plant",
        "horizon": "5d",
        "seed": 3,
        "site": {
            "name": "mini",
            "items": [
                {"id": "fg", "unit_cost": 50},
                {"id": "part", "unit_cost": 5, "supplier": "s"},
                {"id": "alt", "unit_cost": 6, "supplier": "s"},
            ],
            "warehouses": [{"id": LOC, "receive_time": "0s", "putaway_time": "0s",
                            "initial_stock": {"part": 10, "alt": 30}}],
            "suppliers": [{"id": "s", "lead_time": {"mean": "2d"}}],
            "production": {
                "warehouse": LOC,
                "lines": [{"id": "l1", "machines": [{"id": "m1", "group": "asm"}]}],
                "boms": [{"item": "fg", "components": [{"item": "part", "qty": 2, "substitutes": ["alt"]}]}],
                "routings": [{"item": "fg", "scrap_rate": 0.2,
                              "operations": [{"name": "a", "machine_group": "asm", "setup": "1h", "run": "30min"}]}],
                "schedule": [{"item": "fg", "qty": 4, "due": "1d", "ref": "a"},
                             {"item": "fg", "qty": 10, "due": "1d", "ref": "b"},
                             {"item": "fg", "qty": 10, "due": "2d", "ref": "c"}],
            },
        },
        "policies": {"inventory": {"use": "s_S", "every": "1d", "params": {"s": -1, "S": 0}}},
    }


def run_plant(data: dict[str, Any]) -> tuple[list[Any], State]:
    scenario = Scenario.model_validate(data)
    engine = Engine(scenario, scenario.seed)
    out = engine.run(scenario.horizon)
    return out.log.events, out.state


def test_material_flow_substitute_hold_backflush_receive() -> None:
    events, state = run_plant(plant_data())
    kinds = [type(e).__name__ for e in events]
    assert kinds.count("ProductionOrderReleased") == 3
    shortages = [e for e in events if isinstance(e, E.MaterialShortage)]
    # a: 8 of 10 parts; b: part short (2 left) -> 20 of alt; c: both short -> held.
    assert [s.action for s in shortages] == ["substituted:part->alt", "held"]
    reserved = [e for e in events if isinstance(e, E.MaterialReserved)]
    assert [sum(q for _, _, q in r.picks) for r in reserved] == [8.0, 20.0]
    issued = [e for e in events if isinstance(e, E.MaterialIssued)]
    assert sorted(i.picks for i in issued) == sorted(r.picks for r in reserved)  # backflush = reservation
    received = {e.wo: e.qty for e in events if isinstance(e, E.ProductionReceived)}
    scrapped = {e.wo: e.qty for e in events if isinstance(e, E.ProductionScrapped)}
    assert {wo: received[wo] + scrapped.get(wo, 0.0) for wo in received} == {0: 4.0, 1: 10.0}
    # The held order c is still open (no parts for it) and counts as on order.
    (held,) = state.production.orders.values()
    assert held.status == "held"
    # Machine time: one set-up per order on m1; operations never overlap.
    starts = [e for e in events if isinstance(e, E.OperationStarted)]
    ends = [e for e in events if isinstance(e, E.OperationCompleted)]
    for s, e in zip(starts[1:], ends[:-1], strict=True):
        assert s.t >= e.t
    # Conservation per SKU: opening + received - issued + produced == on hand.
    flows: dict[str, float] = defaultdict(float)
    for ev in events:
        if isinstance(ev, E.GoodsReceived):
            flows[ev.item] += ev.qty
        elif isinstance(ev, E.MaterialIssued):
            for item, _lot, q in ev.picks:
                flows[item] -= q
        elif isinstance(ev, E.ProductionReceived):
            flows[ev.item] += ev.qty
        elif isinstance(ev, E.Picked):
            for item, _lot, _a, q, _s in ev.picks:
                flows[item] -= q
    for (item, _), sku in state.skus.items():
        assert flows[item] == pytest.approx(sku.on_hand + sku.held), item
        check_sku(sku)
    check_rows(events, state)
    kpis = production_kpis(events, 0.0, 120.0)
    assert 0 < kpis["oee"] < 1 and kpis["material_shortage_hours"] > 0


def test_the_same_seed_gives_the_same_log() -> None:
    a, _ = run_plant(plant_data())
    b, _ = run_plant(plant_data())
    assert a == b


def test_the_plant_scenario_runs() -> None:
    scenario = load_scenario(ROOT / "scenarios" / "plant" / "baseline.yaml")
    engine = Engine(scenario, scenario.seed)
    out = engine.run(10 * 24.0)
    kinds = {type(e).__name__ for e in out.log.events}
    assert {"ProductionReceived", "MaterialIssued", "Shipped", "PurchaseOrderPlaced"} <= kinds
    for sku in out.state.skus.values():
        check_sku(sku)


def _problems(tmp_path: Path, mutate: Any) -> str:
    data = plant_data()
    mutate(data["site"]["production"], data["site"])
    path = tmp_path / "plant.yaml"
    path.write_text(yaml.safe_dump(copy.deepcopy(data), sort_keys=False))
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return str(info.value)


def test_bad_production_input_names_file_line_and_field(tmp_path: Path) -> None:
    def unknown_group(p: dict, s: dict) -> None:
        p["routings"][0]["operations"][0]["machine_group"] = "weld"

    msg = _problems(tmp_path, unknown_group)
    assert "plant.yaml:" in msg and "production.routings[0].operations[0].machine_group" in msg
    assert "unknown machine group 'weld'" in msg

    def cycle(p: dict, s: dict) -> None:
        s["items"].append({"id": "sub", "unit_cost": 1})
        p["boms"][0]["components"].append({"item": "sub", "qty": 1})
        p["boms"].append({"item": "sub", "components": [{"item": "fg", "qty": 1}]})
        p["routings"].append({"item": "sub", "operations": [{"name": "x", "machine_group": "asm", "run": "1min"}]})

    assert "cyclic bill of materials: fg -> sub -> fg" in _problems(tmp_path, cycle)

    def unknown_item(p: dict, s: dict) -> None:
        p["boms"][0]["components"][0]["substitutes"] = ["nope"]

    assert "components[0].item: unknown item 'nope'" in _problems(tmp_path, unknown_item)

    def both(p: dict, s: dict) -> None:
        s["items"][0]["supplier"] = "s"

    assert "is both bought (it has a supplier) and made" in _problems(tmp_path, both)

    def negative_run(p: dict, s: dict) -> None:
        p["routings"][0]["operations"][0]["run"] = "-5min"

    assert "operations[0].run: cannot read duration '-5min'" in _problems(tmp_path, negative_run)
