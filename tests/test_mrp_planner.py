"""MRP as the plant's production policy: the pure planner on a hand-built observation, and the
planner driving the plant simulation (work orders and purchase orders through the normal paths,
open orders netted as scheduled receipts, make-to-order lines as customer orders at their due date)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest

from policies.mrp import BomLine, Demand, MrpItem, plan_mrp
from policies.mrp_planner import MrpParams, MrpPlanner
from tests.conftest import ROOT
from tests.model.state_checks import check_rows, check_sku
from tests.test_production import run_plant
from tests.test_production_flow import FG, RM, two_store_plant
from twin.model import events as E
from twin.model.actions import PlaceOrder
from twin.model.production_plan import OpenSupply, OrderLine, PlanItem, PlanningObservation, ReleaseWorkOrder
from twin.scenario import load_scenario
from twin.sim.engine import Engine

DAY = 24.0


def observation(open_supply: tuple[OpenSupply, ...] = (), now: float = 0.0) -> PlanningObservation:
    """fg (made, 1 day) from 2 part (bought, 3 days); 10 fg on hand, 20 part of which 4 allocated."""
    items = (PlanItem("fg", "make", FG, 20.0, 10.0, 0.0, 2.0, 5.0),
             PlanItem("part", "buy", RM, 60.0, 20.0, 4.0, 0.0, 0.0, "s"))
    lines = (OrderLine("fg", 30.0, now + 4 * DAY, "retailer-1"),)
    return PlanningObservation(now, items, (("fg", "part", 2.0, 0.0),), open_supply, lines, frozenset())


def test_planner_releases_what_plan_mrp_releases_in_bucket_zero() -> None:
    planner = MrpPlanner(MrpParams(bucket="1d", buckets=10))
    actions = planner.decide(observation())
    # The same plan by hand: daily buckets, fg demand 5/day + 2 backordered now + 30 in bucket 4.
    demands = [Demand("fg", t, 5.0) for t in range(10)] + [Demand("fg", 0, 2.0), Demand("fg", 4, 30.0)]
    plan = plan_mrp([MrpItem("fg", "make", 1, 10.0), MrpItem("part", "buy", 3, 20.0, 4.0)],
                    [BomLine("fg", "part", 2.0)], demands, 10)
    want: dict[str, float] = defaultdict(float)
    for o in plan.planned_orders(bucket=0):  # past-due ones included, one lot per item and run
        want[o.item] += o.qty
    assert {a.item: a.qty for a in actions} == want and len(want) == 2
    release = next(a for a in actions if isinstance(a, ReleaseWorkOrder))
    assert release.item == "fg" and release.due == pytest.approx(DAY)  # wanted at the start of bucket 1
    buy = next(a for a in actions if isinstance(a, PlaceOrder))
    assert (buy.item, buy.location, buy.supplier) == ("part", RM, None)
    assert planner.last_plan is not None and "retailer-1" in {p.cause for p in planner.last_plan.pegging("fg")}


def test_open_orders_are_scheduled_receipts_so_nothing_is_ordered_twice() -> None:
    planner = MrpPlanner(MrpParams(bucket="1d", buckets=10))
    first = planner.decide(observation())
    supply = tuple(OpenSupply(a.item, a.qty, a.due if isinstance(a, ReleaseWorkOrder) else 3 * DAY,
                              "work_order" if isinstance(a, ReleaseWorkOrder) else "purchase") for a in first)
    assert planner.decide(observation(supply)) == []


def test_weekly_buckets_and_lot_sizing_are_parameters() -> None:
    weekly = MrpPlanner(MrpParams.model_validate({"bucket": "1w", "buckets": 4,
                                                  "lot_sizing": {"part": {"rule": "fixed", "qty": 500}}}))
    buy = next(a for a in weekly.decide(observation()) if isinstance(a, PlaceOrder))
    assert buy.qty == 500.0
    with pytest.raises(ValueError, match="rule"):
        MrpParams.model_validate({"lot_sizing": {"part": {"rule": "biggest"}}})


def mrp_plant(**params: Any) -> dict[str, Any]:
    data = two_store_plant({"sub": 0, "part": 40, "alt": 0}, qty=20)
    data["horizon"] = "12d"
    site = data["site"]
    site["suppliers"][0]["lead_time"] = {"dist": "fixed", "mean": "2d"}
    site["demand"] = [{"item": "fg", "location": FG, "customer": "shop", "dist": "poisson", "mean": 3, "per": "1d"}]
    site["production"]["schedule"] = [{"item": "fg", "qty": 20, "due": "6d", "ref": "retailer-1"}]
    data["policies"]["production"] = {"use": "mrp", "every": "1d",
                                      "params": {"bucket": "1d", "buckets": 14, "safety_stock": {"fg": 3}, **params}}
    return data


def test_mrp_drives_the_plant_through_work_orders_and_purchase_orders() -> None:
    events, state = run_plant(mrp_plant())
    released = [e for e in events if isinstance(e, E.ProductionOrderReleased)]
    bought = [e for e in events if isinstance(e, E.PurchaseOrderPlaced)]
    assert {e.item for e in released} == {"fg", "sub"} and all(e.source.startswith("mrp") for e in released)
    assert {e.item for e in bought} == {"part"} and all(e.policy == "mrp" for e in bought)
    assert {(e.item, e.location) for e in released} == {("fg", FG), ("sub", RM)}
    # The retailer's lot is a customer order on the finished-goods store at its due date (day 6).
    (mto,) = [e for e in events if isinstance(e, E.OrderPlaced) and e.customer == "mto:retailer-1"]
    assert mto.t == pytest.approx(6 * DAY) and mto.location == FG
    shipped = [e for e in events if isinstance(e, E.Shipped) and e.order == mto.order]
    assert shipped and shipped[-1].complete and shipped[-1].t <= 6 * DAY + 1.0  # MRP had it made in time
    # Nothing ordered twice: what was bought and made is about what was needed (demand, lot,
    # safety stock and the 12-day horizon's open orders), not a multiple of it.
    demand = sum(q for e in events if isinstance(e, E.OrderPlaced) and e.location == FG for _, q in e.lines)
    made = sum(e.qty for e in released if e.item == "fg")
    assert demand - 10 <= made <= demand + 3 * 14 + 3
    parts_needed = 2 * sum(e.qty for e in released if e.item == "fg")
    assert sum(e.qty for e in bought) <= parts_needed + 2 * 3 * 14
    check_rows(events, state)
    for sku in state.skus.values():
        check_sku(sku)


def test_the_planner_sees_open_orders_and_held_work() -> None:
    scenario = __import__("twin.model.scenario", fromlist=["Scenario"]).Scenario.model_validate(mrp_plant())
    engine = Engine(scenario, scenario.seed)
    engine.run(1.5 * DAY)
    obs = engine.production.planner.observation()
    kinds: dict[str, float] = defaultdict(float)
    for s in obs.open_supply:
        kinds[s.kind] += s.qty
    state = engine.state
    assert kinds["purchase"] == sum(po.qty - po.received for po in state.purchase_orders.values())
    assert kinds["work_order"] == sum(o.qty for o in state.production.orders.values())
    part = next(i for i in obs.items if i.id == "part")
    assert part.location == RM and part.source == "buy" and part.supplier == "s"
    assert part.on_hand == state.sku("part", RM).on_hand + state.sku("part", RM).held
    assert [line.ref for line in obs.order_lines] == ["retailer-1"]


class BadPlanner:
    """A user's planner with mistakes: each action must become an ActionRejected event."""

    review = 24.0

    def decide(self, obs: PlanningObservation) -> list[Any]:
        return [ReleaseWorkOrder("part", 5, obs.now + 1), PlaceOrder("fg", FG, 3), ReleaseWorkOrder("fg", -1, 1.0),
                PlaceOrder("part", "nowhere", 2), "restock"]


def test_bad_planning_actions_are_rejected_not_run() -> None:
    data = mrp_plant()
    data["policies"]["production"] = {"use": "tests.test_mrp_planner:BadPlanner"}
    data["horizon"] = "12h"
    events, _ = run_plant(data)
    reasons = [e.reason for e in events if isinstance(e, E.ActionRejected)]
    assert reasons == ["item 'part' has no routing; only made items get work orders",
                       "item 'fg' is made; release a work order instead of a purchase order",
                       "quantity must be a positive number, got -1",
                       "unknown item 'part' at location 'nowhere'",
                       "not a production planning action: str"]
    assert not [e for e in events if isinstance(e, (E.ProductionOrderReleased, E.PurchaseOrderPlaced))]


def test_the_plant_mrp_scenario_runs_and_plans() -> None:
    scenario = load_scenario(ROOT / "scenarios" / "plant" / "mrp.yaml")
    assert scenario.policies.production is not None and scenario.policies.production.use == "mrp"
    out = Engine(scenario, scenario.seed).run(10 * DAY)
    sources = {e.source.split(":")[0] for e in out.log.events if isinstance(e, E.ProductionOrderReleased)}
    assert sources <= {"mrp", "parent"} and "mrp" in sources
    assert {e.policy for e in out.log.events if isinstance(e, E.PurchaseOrderPlaced)} == {"mrp"}
    for sku in out.state.skus.values():
        check_sku(sku)
    again = Engine(scenario, scenario.seed).run(10 * DAY)
    assert again.log.content_hash() == out.log.content_hash()  # one seed, the same plan and log


def test_a_production_policy_without_a_plant_names_file_and_line(tmp_path: Any) -> None:
    import yaml

    from twin.errors import ScenarioError

    data = mrp_plant()
    del data["site"]["production"]
    data["site"]["items"] = [{"id": "part", "unit_cost": 5, "supplier": "s"}]
    data["site"]["warehouses"] = [{"id": RM, "initial_stock": {"part": 3}}]
    del data["site"]["demand"]
    path = tmp_path / "no-plant.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert "no-plant.yaml:" in str(info.value) and "policies.production.use" in str(info.value)
    assert "a production policy needs a site with 'production:'" in str(info.value)
