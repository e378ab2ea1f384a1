"""Production machines as maintenance assets count usage in run hours: an idle machine's usage
counter stands still, a busy one's runs with its processing time, usage-based preventive
maintenance triggers on run hours, and a failure law declared on usage wears a machine only while
it processes. Facility assets keep counting operating (calendar) hours."""

from __future__ import annotations

from typing import Any

import pytest

from tests.model.state_checks import check_rows, check_sku
from tests.test_production_flow import two_store_plant
from twin.model import events as E
from twin.model.maintenance import AssetView
from twin.model.scenario import Scenario
from twin.sim.engine import Engine

NEVER = {"dist": "exponential", "mean": "1000000h"}


def usage_plant(failure: dict[str, Any] | None = None, maintenance: dict[str, Any] | None = None) -> dict[str, Any]:
    """m1 (group asm) runs one order: 1 h set-up at 0 h, then 9 h of run time (0-10 h). m2 (group
    spare) has no work. The conveyor is a facility asset, not a production machine."""
    data = two_store_plant({"sub": 100, "part": 100, "alt": 0})
    site = data["site"]
    prod = site["production"]
    prod["lines"] = [{"id": "l1", "machines": [{"id": "m1", "group": "asm"}, {"id": "m2", "group": "spare"}]}]
    prod["routings"][0]["operations"][0].update(setup="1h", run="1h")
    prod["schedule"] = [{"item": "fg", "qty": 9, "due": "10h", "ref": "po-1"}]
    law = failure or NEVER
    service = {"duration": {"dist": "fixed", "mean": "1h"}}
    site["assets"] = [{"id": ident, "failure": law, "repair": {"dist": "fixed", "mean": "10h"},
                       "skill": "mechanic", "usage_per_hour": 2.0, "service": service}
                      for ident in ("m1", "m2", "conveyor")]
    site["technicians"] = [{"id": "tech", "skills": ["mechanic"], "shifts": [{"start": "0h", "length": "24h"}]}]
    if maintenance is not None:
        data["policies"]["maintenance"] = maintenance
    data["horizon"] = "2d"
    return data


def run_with_snapshots(data: dict[str, Any], at: tuple[float, ...]) -> tuple[list[Any], Any, dict[float, dict]]:
    """Run the scenario; the maintenance observation's asset views at each time in ``at``."""
    scenario = Scenario.model_validate(data)
    engine = Engine(scenario, scenario.seed)
    seen: dict[float, dict[str, AssetView]] = {}

    def look() -> Any:
        for t in at:
            yield engine.env.timeout(t - engine.env.now)
            seen[t] = {a.id: a for a in engine.maintenance.observation().assets}

    engine.env.process(look())
    out = engine.run(scenario.horizon)
    return out.log.events, out.state, seen


def test_an_idle_machine_uses_nothing_a_busy_one_its_run_hours() -> None:
    events, state, seen = run_with_snapshots(usage_plant(), (0.5, 4.0, 10.0, 20.0))
    # Usage is run hours x usage_per_hour (2): the set-up hour does not count, idle time does not.
    assert [seen[t]["m1"].usage for t in (0.5, 4.0, 10.0, 20.0)] == pytest.approx([0.0, 6.0, 18.0, 18.0])
    assert [seen[t]["m2"].usage for t in (0.5, 4.0, 10.0, 20.0)] == [0.0, 0.0, 0.0, 0.0]
    assert seen[20.0]["m1"].usage_since_service == pytest.approx(18.0)
    # The run hours in the state are those of the log's operations.
    ran = sum(e.run for e in events if isinstance(e, E.OperationCompleted) and e.machine == "m1")
    assert state.production.run_hours_at("m1", 48.0) == pytest.approx(ran) == pytest.approx(9.0)
    # The facility asset uses its operating hours; ages (failure law on operating hours) are
    # calendar time in service for machines and facility alike.
    assert seen[20.0]["conveyor"].usage == pytest.approx(40.0)
    assert {a: seen[20.0][a].age for a in ("m1", "m2", "conveyor")} == pytest.approx(
        {"m1": 20.0, "m2": 20.0, "conveyor": 20.0})


def test_usage_based_preventive_maintenance_triggers_on_run_hours() -> None:
    pm = {"use": "preventive", "params": {"usage_interval": 12, "review": "1h"}}
    events, state, seen = run_with_snapshots(usage_plant(maintenance=pm), (30.0,))
    opened: dict[str, list[float]] = {}
    for e in events:
        if isinstance(e, E.WorkOrderCreated) and e.kind == "preventive":
            opened.setdefault(e.asset, []).append(e.t)
    # 12 usage units = 6 run hours: m1 from its run's start at 1 h -> due at 7 h, and not again (its
    # order has 9 run hours); the conveyor every 6 operating hours; the idle m2 never (48 h in service).
    assert opened["m1"] == [7.0] and opened["conveyor"][0] == 6.0 and len(opened["conveyor"]) > 3
    assert "m2" not in opened
    done = next(e for e in events if isinstance(e, E.MaintenanceDone) and e.asset == "m1")
    # The service stops m1 part-way through the order; its run hours since the service count anew.
    stopped = next(e for e in events if isinstance(e, E.OperationInterrupted) and e.machine == "m1")
    assert stopped.reason == "maintenance" and stopped.t <= done.t
    view = seen[30.0]["m1"]
    assert view.usage_since_service == pytest.approx(2.0 * (state.production.run_hours_at("m1", 30.0)
                                                            - state.maintenance.asset("m1").usage_at_service))
    assert view.usage_since_service < view.usage
    check_rows(events, state)
    for sku in state.skus.values():
        check_sku(sku)


def test_a_failure_law_on_usage_wears_a_machine_only_while_it_processes() -> None:
    on_usage = {"dist": "empirical", "samples": ["5h"], "basis": "usage"}
    events, state, _ = run_with_snapshots(usage_plant(failure=on_usage), ())
    failed = [(e.asset, e.t) for e in events if isinstance(e, E.MachineFailed)]
    # m1: 5 run hours after its run starts at 1 h (not 5 h after the start, mid-way through its
    # set-up and run); the idle m2 never wears out; the conveyor is in use whenever it runs.
    assert ("m1", 6.0) in failed and ("conveyor", 5.0) in failed
    assert not [a for a, _ in failed if a == "m2"]
    down = next(e for e in events if isinstance(e, E.OperationInterrupted))
    assert (down.t, down.machine, down.run) == (6.0, "m1", pytest.approx(5.0))
    # The one technician repairs the conveyor first (5-15 h), then m1 (15-25 h), as good as new: it
    # sets up again and runs the 4 h left without failing (4 run hours < 5), then stands idle.
    rest = [e for e in events if isinstance(e, (E.OperationStarted, E.OperationCompleted)) and e.machine == "m1"]
    assert [(type(e).__name__, e.t) for e in rest] == [("OperationStarted", 0.0), ("OperationStarted", 25.0),
                                                      ("OperationCompleted", pytest.approx(30.0))]
    assert [t for a, t in failed if a == "m1"] == [6.0]
    # The same law on operating hours: m1 fails at 5 h, during its run, as before.
    calendar = {"dist": "empirical", "samples": ["5h"]}
    events, _, _ = run_with_snapshots(usage_plant(failure=calendar), ())
    assert ("m1", 5.0) in [(e.asset, e.t) for e in events if isinstance(e, E.MachineFailed)]
    assert ("m2", 5.0) in [(e.asset, e.t) for e in events if isinstance(e, E.MachineFailed)]


def test_a_failure_law_basis_must_be_operating_or_usage() -> None:
    data = usage_plant(failure={"dist": "exponential", "mean": "100h", "basis": "cycles"})
    with pytest.raises(ValueError, match="basis"):
        Scenario.model_validate(data)
