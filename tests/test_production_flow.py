"""Production across warehouses and machines: raw-material and finished-goods stores, the shortage
ladder at release (substitute, transfer from another warehouse, hold), transfer events through the
reducer, and production machines that are maintenance assets (failure -> machine down -> the
operation moves or waits, CP-SAT re-plans, OEE availability drops)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.model.state_checks import check_rows, check_sku
from tests.test_production import run_plant
from twin.kpi_production import production_kpis
from twin.model import events as E
from twin.model.state import ReducerError, State, apply

RM, FG, DEPOT = "rm", "fg-store", "depot"


def two_store_plant(rm_stock: dict[str, float], depot_stock: dict[str, float] | None = None,
                    qty: float = 4) -> dict[str, Any]:
    """fg (demanded at the finished-goods store) from sub (a sub-assembly) and part (substitute alt)."""
    warehouses = [{"id": RM, "receive_time": "0s", "putaway_time": "0s", "initial_stock": rm_stock},
                  {"id": FG, "receive_time": "0s", "putaway_time": "0s", "initial_stock": {"fg": 0}}]
    if depot_stock is not None:
        warehouses.append({"id": DEPOT, "receive_time": "0s", "putaway_time": "0s", "initial_stock": depot_stock})
    return {
        "name": "two-store-plant",
        "horizon": "3d",
        "seed": 5,
        "site": {
            "name": "two-store",
            "items": [{"id": "fg", "unit_cost": 50}, {"id": "sub", "unit_cost": 20},
                      {"id": "part", "unit_cost": 5, "supplier": "s"}, {"id": "alt", "unit_cost": 6, "supplier": "s"}],
            "warehouses": warehouses,
            "suppliers": [{"id": "s", "lead_time": {"mean": "20d"}}],
            "production": {
                "warehouse": RM, "finished_goods": FG, "transfer_time": "3h", "lead_time_allowance": "0h",
                "lines": [{"id": "l1", "machines": [{"id": "m1", "group": "asm"}]}],
                "boms": [{"item": "fg", "components": [{"item": "sub", "qty": 1},
                                                       {"item": "part", "qty": 2, "substitutes": ["alt"]}]}],
                "routings": [{"item": "fg", "operations": [{"name": "a", "machine_group": "asm", "run": "30min"}]},
                             {"item": "sub", "operations": [{"name": "b", "machine_group": "asm", "run": "10min"}]}],
                "schedule": [{"item": "fg", "qty": qty, "due": "1d", "ref": "po-1"}],
            },
        },
        "policies": {"inventory": {"use": "s_S", "every": "1d", "params": {"s": -1, "S": 0}}},
    }


def _checked(events: list[Any], state: State) -> None:
    check_rows(events, state)
    for sku in state.skus.values():
        check_sku(sku)


def test_components_live_in_raw_material_and_products_land_in_finished_goods() -> None:
    events, state = run_plant(two_store_plant({"sub": 0, "part": 100, "alt": 0}))
    released = {e.wo: e for e in events if isinstance(e, E.ProductionOrderReleased)}
    # fg is short of sub: a work order for sub (received into raw material), then fg (into finished goods).
    assert {e.item: e.location for e in released.values()} == {"fg": FG, "sub": RM}
    received = {e.item: e.location for e in events if isinstance(e, E.ProductionReceived)}
    assert received == {"sub": RM, "fg": FG}
    assert {e.location for e in events if isinstance(e, (E.MaterialReserved, E.MaterialIssued))} == {RM}
    assert state.sku("fg", FG).on_hand == 4.0 and ("fg", RM) not in state.skus
    assert state.sku("sub", RM).on_hand == 0.0  # made, received into raw material, issued to the fg order
    _checked(events, state)


def _ladder(rm: dict[str, float], depot: dict[str, float]) -> tuple[list[Any], State, list[str]]:
    events, state = run_plant(two_store_plant({"sub": 10, **rm}, depot))
    actions = [e.action for e in events if isinstance(e, E.MaterialShortage)]
    _checked(events, state)
    return events, state, actions


def test_shortage_ladder_step_1_substitute_before_transfer() -> None:
    events, _, actions = _ladder({"part": 1, "alt": 20}, {"part": 50})
    assert actions == ["substituted:part->alt"]
    assert not [e for e in events if isinstance(e, E.TransferShipped)]


def test_shortage_ladder_step_2_transfer_from_another_warehouse() -> None:
    events, state, actions = _ladder({"part": 1, "alt": 2}, {"part": 50})
    assert actions == ["transfer:part@depot"]
    (shipped,) = [e for e in events if isinstance(e, E.TransferShipped)]
    (arrived,) = [e for e in events if isinstance(e, E.TransferReceived)]
    assert (shipped.origin, shipped.destination, shipped.item) == (DEPOT, RM, "part")
    assert sum(q for _, q in shipped.picks) == arrived.qty == 7.0  # the shortfall: 8 needed, 1 free
    assert arrived.t - shipped.t == pytest.approx(3.0) and arrived.location == RM
    (reserved,) = [e for e in events if isinstance(e, E.MaterialReserved)]
    assert reserved.t == arrived.t  # the waiting order is retried as soon as the transfer is in
    assert state.sku("part", DEPOT).on_hand == 43.0 and state.sku("part", RM).on_hand == 0.0
    assert any(isinstance(e, E.ProductionReceived) for e in events)
    kpis = production_kpis(events, 0.0, 72.0)
    assert kpis["material_shortage_hours"] == pytest.approx(3.0)  # waiting for the transfer counts


def test_shortage_ladder_step_3_hold_and_raise_the_exception() -> None:
    events, state, actions = _ladder({"part": 1, "alt": 2}, {"part": 3})
    assert actions == ["held"]  # the depot has too little to cover the shortfall: no transfer
    assert not [e for e in events if isinstance(e, (E.TransferShipped, E.MaterialReserved))]
    (order,) = state.production.orders.values()
    assert order.status == "held" and order.item == "fg"


def test_transfer_events_move_stock_through_the_reducer() -> None:
    state = State.empty([("part", DEPOT), ("part", RM)])
    events: list[Any] = [
        E.GoodsReceived(0.0, -1, "part", DEPOT, 0, 10.0, 10.0, None, True),
        E.PutAway(0.0, "part", DEPOT, 0, "available"),
        E.TransferShipped(1.0, 0, "part", DEPOT, RM, ((0, 6.0),), 4.0),
    ]
    for ev in events:
        apply(state, ev)
    rm, depot = state.sku("part", RM), state.sku("part", DEPOT)
    assert (depot.on_hand, rm.on_hand, rm.in_transit, rm.on_order, rm.inventory_position) == (4.0, 0.0, 6.0, 6.0, 6.0)
    with pytest.raises(ReducerError, match="transfer 0 of 5 part to rm is not in transit"):
        apply(state, E.TransferReceived(4.0, 0, "part", RM, 7, 5.0, None))
    with pytest.raises(ReducerError, match="lot 0 of part@depot has 4 free, transfer 1 takes 5"):
        apply(state, E.TransferShipped(2.0, 1, "part", DEPOT, RM, ((0, 5.0),), 5.0))
    events.append(E.TransferReceived(4.0, 0, "part", RM, 7, 6.0, None))
    apply(state, events[-1])
    assert (rm.on_hand, rm.in_transit, rm.on_order, [lot.id for lot in rm.lots]) == (6.0, 0.0, 0.0, [7])
    assert state.production.transfers == {}
    _checked(events, state)


def competing_orders_plant() -> dict[str, Any]:
    """Order 0 (fg) waits for a transfer of part (from the depot's 8) and for its sub-assembly (made
    for it, 40 min on m1); the part arrives after 10 min, the sub-assembly after 40. Order 2 (fg2,
    8 part, nothing else) is released at 20 min, while order 0 still waits for its sub-assembly."""
    data = two_store_plant({"sub": 0, "part": 0, "alt": 0}, {"part": 8})
    site = data["site"]
    site["items"].append({"id": "fg2", "unit_cost": 30})
    site["warehouses"][1]["initial_stock"]["fg2"] = 0
    prod = site["production"]
    prod["transfer_time"] = "10min"
    prod["lines"][0]["machines"].append({"id": "m2", "group": "paint"})
    prod["boms"].append({"item": "fg2", "components": [{"item": "part", "qty": 2}]})
    prod["routings"].append({"item": "fg2", "operations": [{"name": "p", "machine_group": "paint", "run": "15min"}]})
    prod["schedule"] = [{"item": "fg", "qty": 4, "due": "2h", "ref": "po-1"},  # released at 0 (4 x 30 min)
                        {"item": "fg2", "qty": 4, "due": "80min", "ref": "po-2"}]  # released at 20 min
    return data


def test_a_transfer_is_reserved_on_arrival_for_the_order_that_waits_for_it() -> None:
    events, state = run_plant(competing_orders_plant())
    released = {e.item: e for e in events if isinstance(e, E.ProductionOrderReleased)}
    waiting, rival = released["fg"].wo, released["fg2"].wo
    assert released["fg2"].t == pytest.approx(20 / 60) and released["sub"].source == f"parent:{waiting}"
    (arrived,) = [e for e in events if isinstance(e, E.TransferReceived)]
    assert (arrived.t, arrived.wo, arrived.qty) == (pytest.approx(10 / 60), waiting, 8.0)
    # The rival comes after the arrival and finds no free part: the 8 units are the waiting order's.
    rival_short = [e.action for e in events if isinstance(e, E.MaterialShortage) and e.wo == rival]
    assert rival_short == ["held"]
    assert not [e for e in events if isinstance(e, E.MaterialReserved) and e.wo == rival]
    assert state.production.orders[rival].status == "held"
    # The waiting order reserves only its sub-assembly when it comes in; the part was already its own,
    # and completion backflushes both.
    (reserved,) = [e for e in events if isinstance(e, E.MaterialReserved) and e.wo == waiting]
    assert [(i, q) for i, _, q in reserved.picks] == [("sub", 4.0)]
    (issued,) = [e for e in events if isinstance(e, E.MaterialIssued) and e.wo == waiting]
    assert ("part", arrived.lot, 8.0) in issued.picks
    assert state.sku("fg", FG).on_hand == 4.0 and state.sku("part", RM).on_hand == 0.0
    kpis = production_kpis(events, 0.0, 72.0)
    assert kpis["material_shortage_hours"] == pytest.approx(40 / 60 + 72.0 - 20 / 60, abs=0.02)
    _checked(events, state)


def test_an_arriving_transfer_is_reserved_only_for_an_open_work_order() -> None:
    state = State.empty([("part", DEPOT), ("part", RM)])
    for ev in (E.GoodsReceived(0.0, -1, "part", DEPOT, 0, 10.0, 10.0, None, True),
               E.PutAway(0.0, "part", DEPOT, 0, "available"),
               E.TransferShipped(1.0, 0, "part", DEPOT, RM, ((0, 6.0),), 4.0)):
        apply(state, ev)
    with pytest.raises(ReducerError, match="work order 3 is not open"):
        apply(state, E.TransferReceived(4.0, 0, "part", RM, 7, 6.0, None, 3))
    assert 0 in state.production.transfers and state.sku("part", RM).on_hand == 0.0  # nothing half-applied
    apply(state, E.ProductionOrderReleased(4.0, 3, "part", RM, 1.0, 9.0, "test"))
    apply(state, E.TransferReceived(4.0, 0, "part", RM, 7, 6.0, None, 3))
    rm = state.sku("part", RM)
    assert (rm.on_hand, rm.reserved, rm.lots[0].reserved) == (6.0, 6.0, 6.0)
    assert state.production.orders[3].reserved == [("part", 7, 6.0)]


# -- machines that are maintenance assets ----------------------------------------------------------------


def maintained_plant(machines: list[str], dispatch: str = "edd") -> dict[str, Any]:
    """One 10 h order on group asm; m1 fails after 5 operating hours and takes 10 h to repair."""
    data = two_store_plant({"sub": 100, "part": 100, "alt": 0})
    site = data["site"]
    prod = site["production"]
    prod["lines"] = [{"id": "l1", "machines": [{"id": m, "group": "asm"} for m in machines]}]
    prod["routings"][0]["operations"][0].update(setup="1h", run="1h")
    prod["schedule"] = [{"item": "fg", "qty": 9, "due": "10h", "ref": "po-1"}]  # released at 0
    prod["dispatch"] = dispatch
    prod["replan_effort"] = 0.2
    site["assets"] = [{"id": "m1", "failure": {"dist": "empirical", "samples": ["5h"]},
                       "repair": {"dist": "fixed", "mean": "10h"}, "skill": "mechanic"}]
    site["technicians"] = [{"id": "tech", "skills": ["mechanic"], "shifts": [{"start": "0h", "length": "24h"}]}]
    return data


def _ops(events: list[Any]) -> list[tuple[str, float, str]]:
    kinds = (E.OperationStarted, E.OperationInterrupted, E.OperationCompleted, E.MachineDown, E.MachineUp)
    return [(type(e).__name__, e.t, e.machine) for e in events if isinstance(e, kinds)]


def test_a_failure_moves_the_operation_to_another_machine_and_replans() -> None:
    data = maintained_plant(["m1", "m2"], dispatch="cp_sat")
    data["site"]["production"]["schedule"] = [{"item": "fg", "qty": 9, "due": "10h", "ref": f"po-{n}"}
                                              for n in range(3)]  # wo 0 on m1, wo 1 on m2, wo 2 waits
    events, state = run_plant(data)
    ops = _ops(events)
    assert ops[:4] == [("OperationStarted", 0.0, "m1"), ("OperationStarted", 0.0, "m2"),
                       ("MachineDown", 5.0, "m1"), ("OperationInterrupted", 5.0, "m1")]
    stopped = next(e for e in events if isinstance(e, E.OperationInterrupted))
    assert (stopped.wo, stopped.run, stopped.reason) == (0, pytest.approx(4.0), "failed")  # 1 h set-up, 4 h run
    # The re-plan at the failure plans the waiting order on m2 only (m1 is down).
    (replan,) = [e for e in events if isinstance(e, E.ScheduleReplanned) and e.trigger == "machine_down:m1"]
    assert (replan.t, replan.orders, replan.operations, replan.status) == (5.0, 1, 1, "OPTIMAL")
    # The rest of wo 0 moves to m2 when it frees at 10 h (before m1's repair at 15 h), ahead of wo 2.
    rest = [e for e in events if isinstance(e, E.OperationStarted) and e.wo == 0][1]
    assert (rest.t, rest.machine) == (10.0, "m2")
    done = next(e for e in events if isinstance(e, E.OperationCompleted) and e.wo == 0)
    assert (done.t, done.run) == (pytest.approx(16.0), pytest.approx(5.0))  # set-up again + the 5 h left
    assert ("MachineUp", 15.0, "m1") in ops  # repaired by the technician after 10 h
    assert len([e for e in events if isinstance(e, E.ProductionReceived)]) == 3
    # m1 fails again at 20 h under wo 2, and m2 is idle by then: the rest moves there at once.
    again = [e for e in events if isinstance(e, (E.OperationInterrupted, E.OperationStarted)) and e.wo == 2]
    assert [(type(e).__name__, e.t, e.machine) for e in again] == [
        ("OperationStarted", 15.0, "m1"), ("OperationInterrupted", 20.0, "m1"), ("OperationStarted", 20.0, "m2")]
    _checked(events, state)
    kpis = production_kpis(events, 0.0, 72.0)
    # No scrap or rework: OEE is the availability, and the breakdown hours are in it.
    ups = [e.t for e in events if isinstance(e, E.MachineUp)]
    downs = [e.t for e in events if isinstance(e, E.MachineDown)]
    down = sum(ups) + 72.0 * (len(downs) - len(ups)) - sum(downs)  # the last repair may run past 72 h
    run = sum(e.run for e in events if isinstance(e, (E.OperationCompleted, E.OperationInterrupted)))
    setup = sum(e.setup for e in events if isinstance(e, E.OperationStarted))
    assert kpis["oee"] == pytest.approx(run / (run + setup + down)) and kpis["oee"] < run / (run + setup)


def test_a_failure_on_the_only_machine_makes_the_operation_wait_for_the_repair() -> None:
    events, state = run_plant(maintained_plant(["m1"]))
    assert _ops(events)[:5] == [("OperationStarted", 0.0, "m1"), ("MachineDown", 5.0, "m1"),
                                ("OperationInterrupted", 5.0, "m1"), ("MachineUp", 15.0, "m1"),
                                ("OperationStarted", 15.0, "m1")]
    assert not [e for e in events if isinstance(e, E.ScheduleReplanned)]  # EDD dispatch: no CP-SAT plan
    _checked(events, state)
    assert production_kpis(events, 0.0, 72.0)["oee"] < 1.0


def test_machines_without_an_asset_never_go_down() -> None:
    data = maintained_plant(["m1", "m2"])
    data["site"]["assets"][0]["id"] = "conveyor"  # an asset that is not a production machine
    events, _ = run_plant(data)
    assert any(isinstance(e, E.MachineFailed) for e in events)
    assert not [e for e in events if isinstance(e, (E.MachineDown, E.OperationInterrupted))]


# -- the appliance plant -------------------------------------------------------------------------------


def test_the_appliance_plant_has_its_stores_and_maintained_machines() -> None:
    from tests.conftest import ROOT
    from twin.scenario import load_scenario
    from twin.sim.engine import Engine

    scenario = load_scenario(ROOT / "scenarios" / "plant" / "baseline.yaml")
    site = scenario.site
    prod = site.production
    assert prod is not None and (prod.warehouse, prod.finished_goods) == ("rm-store", "fg-store")
    assert {s.location for s in site.demand} == {"fg-store"}
    machines = {m.id for line in prod.lines for m in line.machines}
    assert machines == {a.id for a in site.assets} and site.technicians
    out = Engine(scenario, scenario.seed).run(20 * 24.0)
    events = out.log.events
    assert {e.location for e in events if isinstance(e, E.ProductionReceived) and e.item in ("washer", "dryer")} \
        == {"fg-store"}
    assert {e.location for e in events if isinstance(e, (E.MaterialReserved, E.MaterialIssued))} == {"rm-store"}
    # item@location levels keep the service depot out of replenishment; the stores are replenished.
    placed = {e.location for e in events if isinstance(e, E.PurchaseOrderPlaced)}
    assert "service-depot" not in placed and "rm-store" in placed
    assert any(isinstance(e, E.MachineDown) for e in events)  # the machines do fail
    _checked(events, out.state)


def test_an_unknown_finished_goods_store_names_file_line_and_field(tmp_path: Any) -> None:
    from tests.test_production import _problems

    def unknown_store(p: dict, s: dict) -> None:
        p["finished_goods"] = "fg-nowhere"

    msg = _problems(tmp_path, unknown_store)
    assert "plant.yaml:" in msg and "production.finished_goods" in msg and "unknown warehouse 'fg-nowhere'" in msg
