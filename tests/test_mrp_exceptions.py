"""MRP exception messages as events: every planning run's expedite, de-expedite, cancel and past-due
messages become ``MrpException`` events naming the open orders and dates, counted by the production
KPIs (mrp_exceptions, mrp_expedites)."""

from __future__ import annotations

from typing import Any

import pytest

from policies.mrp_planner import MrpParams, MrpPlanner
from tests.model.state_checks import check_rows, check_sku
from tests.test_mrp_planner import DAY, mrp_plant, observation
from tests.test_production_flow import RM
from twin.kpi_production import production_kpis
from twin.model import events as E
from twin.model.production_plan import OpenSupply, PlanException
from twin.model.scenario import Scenario
from twin.sim.engine import Engine


def test_the_planner_names_the_open_orders_of_each_exception_message() -> None:
    # Daily buckets from now (0): fg (1 day) needs 2 part each; part runs short in bucket 3, when
    # fg for the retailer's 30 is started (see observation()).
    supply = (OpenSupply("part", 100.0, 6 * DAY + 5, "purchase", "po-7"),  # arrives in bucket 6: late
              OpenSupply("part", 200.0, 8 * DAY, "purchase", "po-9"),
              OpenSupply("part", 30.0, 9 * DAY, "purchase", "po-11"),  # po-7 and po-9 cover all: not needed
              OpenSupply("part", 5.0, -3.0, "purchase", "po-2"),  # should have arrived 3 h ago
              OpenSupply("fg", 10.0, 5.0, "work_order", "wo-3"))  # fg is short only from bucket 1: early
    planner = MrpPlanner(MrpParams(bucket="1d", buckets=10))
    planner.decide(observation(supply))
    got = {(x.item, x.kind, x.orders): x for x in planner.exceptions}
    # po-2 is past due, and (part being covered until bucket 3) not needed before then either.
    assert set(got) == {("part", "expedite", ("po-7",)), ("part", "cancel", ("po-11",)),
                        ("part", "past_due", ("po-2",)), ("part", "de_expedite", ("po-2",)),
                        ("fg", "de_expedite", ("wo-3",))}
    late = got[("part", "expedite", ("po-7",))]
    assert (late.qty, late.due, late.need) == (100.0, 6 * DAY + 5, 3 * DAY)
    assert "expedite receipt of 100 from bucket 6 to 3" in late.message
    assert got[("part", "cancel", ("po-11",))].need is None
    assert (got[("part", "past_due", ("po-2",))].due, got[("part", "past_due", ("po-2",))].need) == (-3.0, 0.0)
    early = got[("fg", "de_expedite", ("wo-3",))]
    assert (early.due, early.need) == (5.0, DAY)
    # Planned orders whose release date has passed carry no order ref, dated by their release bucket.
    plain = MrpPlanner(MrpParams(bucket="1d", buckets=10))
    plain.decide(observation())
    assert [(x.item, x.kind, x.orders, x.due) for x in plain.exceptions] == [("part", "past_due", (), -DAY)]


def buyer_slice() -> tuple[list[Any], Any]:
    """The MRP plant with a 5-day supplier: the planner's first order for part arrives after the
    part is needed (expedite); at 36 h a buyer brings 300 part in from an express supplier (12 h),
    after which the planner's open orders are not needed (cancel) and the express order itself is
    earlier than needed (de-expedite)."""
    data = mrp_plant()
    data["site"]["suppliers"][0]["lead_time"] = {"dist": "fixed", "mean": "5d"}
    data["site"]["suppliers"].append({"id": "express", "lead_time": {"dist": "fixed", "mean": "12h"}})
    scenario = Scenario.model_validate(data)
    engine = Engine(scenario, scenario.seed)
    express = next(s for s in scenario.site.suppliers if s.id == "express")

    def buyer() -> Any:
        yield engine.env.timeout(1.5 * DAY)
        engine.supply.place("part", RM, 300.0, express, "buyer")

    engine.env.process(buyer())
    out = engine.run(5 * DAY)
    return out.log.events, out.state


def test_planning_runs_record_their_exception_messages_as_events() -> None:
    events, state = buyer_slice()
    placed = {f"po-{e.po}": e for e in events if isinstance(e, E.PurchaseOrderPlaced) and e.item == "part"}
    msgs = [e for e in events if isinstance(e, E.MrpException) and e.item == "part" and e.orders]
    first = next(e for e in msgs if e.kind == "expedite")
    (ref,) = first.orders
    assert first.t == DAY and placed[ref].policy == "mrp" and placed[ref].t == 0.0
    assert first.due == placed[ref].due == 5 * DAY and first.need is not None and first.need < first.due
    express = next(ref for ref, e in placed.items() if e.supplier == "express")
    after = [e for e in msgs if e.t == 2 * DAY]
    cancelled = {e.orders[0] for e in after if e.kind == "cancel"}
    assert ref in cancelled and all(placed[r].policy == "mrp" for r in cancelled)
    assert all(e.need is None for e in after if e.kind == "cancel")
    (early,) = [e for e in after if e.kind == "de_expedite"]
    assert early.orders == (express,) and early.need is not None and early.need > early.due
    # Every planning run speaks again: the same open orders are named each day until they close.
    assert {e.t for e in msgs if e.kind == "cancel"} == {2 * DAY, 3 * DAY, 4 * DAY}
    # The production KPIs count them; the flat rows stay consistent with the state.
    all_msgs = [e for e in events if isinstance(e, E.MrpException)]
    kpis = production_kpis(events, 0.0, 5 * DAY)
    assert kpis["mrp_exceptions"] == len(all_msgs) > len(msgs)
    assert kpis["mrp_expedites"] == sum(e.kind == "expedite" for e in all_msgs) >= 1
    assert production_kpis(events, 2 * DAY, 5 * DAY)["mrp_exceptions"] == sum(e.t >= 2 * DAY for e in all_msgs)
    check_rows(events, state)
    for sku in state.skus.values():
        check_sku(sku)


class WrongMessages:
    """A user's planner whose exception list holds something other than PlanException."""

    review = 24.0

    def __init__(self) -> None:
        self.exceptions: list[Any] = []

    def decide(self, obs: Any) -> list[Any]:
        self.exceptions = ["expedite part", PlanException("fg", "cancel", ("wo-9",), 2.0, obs.now, None, "fg: cancel")]
        return []


def test_a_planners_exception_list_is_checked() -> None:
    data = mrp_plant()
    data["policies"]["production"] = {"use": "tests.test_mrp_exceptions:WrongMessages"}
    data["horizon"] = "12h"
    scenario = Scenario.model_validate(data)
    events = Engine(scenario, scenario.seed).run(scenario.horizon).log.events
    (rejected,) = [e for e in events if isinstance(e, E.ActionRejected)]
    assert rejected.reason == "not an exception message: str (expected a PlanException)"
    (msg,) = [e for e in events if isinstance(e, E.MrpException)]
    assert (msg.item, msg.kind, msg.orders, msg.need) == ("fg", "cancel", ("wo-9",), None)


def test_the_mrp_plant_scenario_reports_its_exception_counts() -> None:
    from tests.conftest import ROOT
    from twin.scenario import load_scenario

    scenario = load_scenario(ROOT / "scenarios" / "plant" / "mrp.yaml")
    out = Engine(scenario, scenario.seed).run(6 * DAY)
    kinds = {e.kind for e in out.log.events if isinstance(e, E.MrpException)}
    assert kinds and kinds <= {"expedite", "de_expedite", "cancel", "past_due"}
    kpis = production_kpis(out.log.events, 0.0, 6 * DAY)
    assert kpis["mrp_exceptions"] == pytest.approx(sum(isinstance(e, E.MrpException) for e in out.log.events))
