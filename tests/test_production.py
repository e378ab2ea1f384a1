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
from tests.model.state_checks import check_rows, check_sku
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


def test_appliance_plant_library_and_supplier_outage_rush_variant() -> None:
    sites = ROOT / "scenarios" / "sites"
    assert (sites / "appliance-plant.yaml").is_file() and not (sites / "plant.yaml").exists()
    base = load_scenario(ROOT / "scenarios" / "plant" / "baseline.yaml")
    rush = load_scenario(ROOT / "scenarios" / "plant" / "supplier-outage-rush.yaml")
    for sc in (base, rush):
        prod = sc.site.production
        assert prod is not None and len(prod.lines) >= 3
        boms = {b.item: [c.item for c in b.components] for b in prod.boms}

        def depth(item: str, boms: dict[str, list[str]] = boms) -> int:
            return 1 + max((depth(c) for c in boms.get(item, [])), default=0)

        assert max(depth(i) for i in boms) >= 3  # finished good -> sub-assembly -> purchased part
    outages = [d for d in rush.disruptions if d.kind == "supplier_outage"]
    assert [d.supplier for d in outages] == ["electro"]
    assert rush.site.production is not None and base.site.production is not None
    refs = {o.ref for o in rush.site.production.schedule} - {o.ref for o in base.site.production.schedule}
    assert refs == {"rush-retailer-po-3"}


def test_twin_run_executes_the_disruption_variant(tmp_path: Path) -> None:
    import json

    from typer.testing import CliRunner

    from twin.cli import app

    path = ROOT / "scenarios" / "plant" / "supplier-outage-rush.yaml"
    result = CliRunner().invoke(app, ["run", str(path), "-n", "1", "--workers", "1", "--horizon", "30d",
                                      "--out", str(tmp_path / "out"), "--home", str(tmp_path / "home")])
    assert result.exit_code == 0, result.output
    kpis = json.loads((tmp_path / "out" / "kpis.json").read_text())
    text = json.dumps(kpis)
    assert "schedule_adherence" in text and "material_shortage_hours" in text


def _cp_sat_plant() -> dict[str, Any]:
    """Four equal orders for one machine, released together: wo 0 takes the machine, 1-3 queue."""
    data = plant_data()
    prod = data["site"]["production"]
    data["site"]["warehouses"][0]["initial_stock"] = {"part": 100, "alt": 0}
    prod["routings"][0]["scrap_rate"] = 0.0
    prod["schedule"] = [{"item": "fg", "qty": 4, "due": "2d", "ref": f"o{n}"} for n in range(4)]
    prod.update(dispatch="cp_sat", replan_every="1h", replan_effort=0.2)
    return data


def test_cp_sat_replanning_resequences_the_waiting_queue(monkeypatch: pytest.MonkeyPatch) -> None:
    import policies.scheduling as sch

    calls: list[dict[str, Any]] = []

    def fake(jobs: Any, objective: str, changeovers: Any = None, **kw: Any) -> Any:
        calls.append({"objective": objective, "jobs": [j.id for j in jobs], **kw})
        # plan the highest work order first: the opposite of FIFO/EDD among equal due dates
        out = [sch.Assignment(j.id, o, next(iter(op.machines)), -10 * int(j.id), -10 * int(j.id) + 1)
               for j in jobs for o, op in enumerate(j.operations)]
        return sch.Schedule(tuple(out), 0, 0.0, "FEASIBLE", 0.0)

    monkeypatch.setattr(sch, "solve_cp_sat", fake)
    events, _ = run_plant(_cp_sat_plant())
    starts = [e.wo for e in events if isinstance(e, E.OperationStarted)]
    assert starts == [0, 3, 2, 1]  # without the re-plan the queue would run 0, 1, 2, 3
    assert calls and all(c["workers"] == 1 and c["seed"] == 0 and c["deterministic_time"] == 0.2
                         and c["objective"] == "weighted_tardiness" for c in calls)


def test_cp_sat_replanning_with_the_real_solver_is_deterministic() -> None:
    a, _ = run_plant(_cp_sat_plant())
    b, _ = run_plant(_cp_sat_plant())
    assert a == b
    received = [e for e in a if isinstance(e, E.ProductionReceived)]
    assert len(received) == 4


def test_schedule_adherence_counts_early_and_late_finishes_as_misses() -> None:
    def order(wo: int, due: float, done: float) -> list[Any]:
        return [E.ProductionOrderReleased(0.0, wo, "fg", LOC, 1.0, due, "t"),
                E.ProductionReceived(done, wo, "fg", LOC, wo, 1.0)]

    # planned completion 100 h: done at 90 (early, within 24 h), 130 (late, 30 h), 40 (60 h early), 100
    events = sorted([*order(0, 100.0, 90.0), *order(1, 100.0, 130.0), *order(2, 100.0, 40.0),
                     *order(3, 100.0, 100.0)], key=lambda e: e.t)
    kpis = production_kpis(events, 0.0, 200.0)
    assert kpis["schedule_adherence"] == pytest.approx(2 / 4)
    assert kpis["on_time_completion"] == pytest.approx(3 / 4)  # early counts as on time, not as adherent
    assert production_kpis(events, 0.0, 200.0, tolerance=60.0)["schedule_adherence"] == 1.0
    assert "schedule_adherence" in production_kpis([], 0.0, 10.0)


def test_rework_is_an_event_and_reruns_the_last_operation() -> None:
    data = plant_data()
    routing = data["site"]["production"]["routings"][0]
    routing["scrap_rate"] = 0.0
    routing["rework_rate"] = 0.5
    events, state = run_plant(data)
    reworked = [e for e in events if isinstance(e, E.ProductionReworked)]
    assert reworked and all(e.op == 0 and e.qty > 0 for e in reworked)
    for rw in reworked:
        ops = [e for e in events if isinstance(e, E.OperationCompleted) and e.wo == rw.wo]
        assert len(ops) == 2 and ops[1].run == pytest.approx(0.5 * rw.qty) and ops[1].t >= rw.t
        received = next(e for e in events if isinstance(e, E.ProductionReceived) and e.wo == rw.wo)
        assert received.t >= ops[1].t and received.qty in (4.0, 10.0)  # rework is not scrap
    check_rows(events, state)
    for sku in state.skus.values():
        check_sku(sku)
    kpis = production_kpis(events, 0.0, 120.0)
    assert kpis["oee"] < production_kpis([e for e in events if not isinstance(e, E.ProductionReworked)],
                                         0.0, 120.0)["oee"]  # reworked units are a first-pass quality loss


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
