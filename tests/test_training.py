"""Operator training mode (issue 8): drills, the operator's commands through the policies' action
path, the scorecard against the automatic policy on the same seed, bad drill files, and the view's
keys. Headless (SDL_VIDEODRIVER=dummy): no window opens."""

from __future__ import annotations

import json
import math
import os
import re
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import Result

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

from tests.conftest import FIXTURES, ROOT  # noqa: E402
from twin.errors import ScenarioError  # noqa: E402
from twin.experiment import ReplicationResult  # noqa: E402
from twin.model import events as E  # noqa: E402
from twin.model.drill import OperatorCommand  # noqa: E402
from twin.scenario import load_scenario  # noqa: E402
from twin.sim.engine import Engine, run_replication  # noqa: E402
from twin.training import (  # noqa: E402
    OperatorSession,
    _kpis,
    automatic_side,
    finish,
    load_drill,
    load_script,
    scorecard,
)

DRILLS = ROOT / "scenarios" / "drills"
PUMPS = DRILLS / "pump-breakdown.yaml"
SCRIPTS = FIXTURES / "drills"


def _events(session: OperatorSession) -> list[object]:
    assert session.output is not None
    return session.output.log.events


@pytest.fixture(scope="module")
def pumps_nobody() -> OperatorSession:
    session = OperatorSession(load_drill(PUMPS), pace=0)
    session.run()
    return session


@pytest.fixture(scope="module")
def pumps_prompt() -> OperatorSession:
    sc = load_drill(PUMPS)
    session = OperatorSession(sc, script=load_script(SCRIPTS / "prompt-dispatch.yaml", sc), pace=0)
    session.run()
    return session


def test_the_library_has_at_least_three_drills() -> None:
    drills = [p for p in DRILLS.glob("*.yaml") if load_scenario(p).drill is not None]
    assert {p.stem for p in drills} >= {"pump-breakdown", "mass-casualty", "road-closure", "cold-room-failure"}


def test_a_plain_run_of_a_drill_has_its_incidents_and_the_automatic_dispatch() -> None:
    sc = load_drill(PUMPS)
    events = run_replication(sc, sc.seed, 0).log.events
    failed = [(e.t, e.asset) for e in events if type(e) is E.MachineFailed]
    for at, asset in ((6.0, "pump-3"), (20.0, "pump-1"), (30.0, "lift-b"), (50.0, "pump-4")):
        assert (at, asset) in failed
    assert any(type(e) is E.TechnicianAssigned for e in events)


def test_with_an_operator_seated_the_automatic_dispatch_is_off(pumps_nobody: OperatorSession) -> None:
    events = _events(pumps_nobody)
    assert any(type(e) is E.MachineFailed and e.asset == "pump-3" and e.t == 6.0 for e in events)
    assert not any(type(e) is E.TechnicianAssigned for e in events)
    assert pumps_nobody.records == []


def test_a_scripted_dispatch_goes_through_the_policies_action_path(pumps_prompt: OperatorSession) -> None:
    events = _events(pumps_prompt)
    wo = next(e.wo for e in events if type(e) is E.WorkOrderCreated and e.asset == "pump-3")
    assigned = [e for e in events if type(e) is E.TechnicianAssigned]
    assert assigned[0].wo == wo and assigned[0].technician == "ana"
    assert assigned[0].t == pytest.approx(370 / 60)
    assert any(type(e) is E.RepairCompleted and e.asset == "pump-3" for e in events)
    # Every command is recorded with what became of it; the one for pump-3 was carried out.
    first = pumps_prompt.records[0]
    assert (first.do, first.target, first.outcome) == ("dispatch", "pump-3", "accepted")
    assert "AssignTechnician" in first.action
    assert len(pumps_prompt.records) == 4


def test_a_scripted_session_is_reproducible(pumps_prompt: OperatorSession) -> None:
    sc = load_drill(PUMPS)
    again = OperatorSession(sc, script=load_script(SCRIPTS / "prompt-dispatch.yaml", sc), pace=0)
    assert again.run().log.content_hash() == pumps_prompt.output.log.content_hash()  # type: ignore[union-attr]


def test_a_prompt_dispatcher_beats_doing_nothing(pumps_nobody: OperatorSession,
                                                 pumps_prompt: OperatorSession) -> None:
    nobody = finish(pumps_nobody).operator.kpis
    prompt = finish(pumps_prompt).operator.kpis
    assert prompt["availability"] > nobody["availability"] + 0.02
    assert prompt["downtime_hours"] < nobody["downtime_hours"] - 20


def test_on_the_cold_room_drill_a_prompt_repair_saves_the_stock_and_a_late_one_does_not() -> None:
    sc = load_drill(DRILLS / "cold-room-failure.yaml")  # chiller 1 (cooling the room) fails at 22:00

    def spoiled(at: float | None) -> float:
        script = [] if at is None else [(at, OperatorCommand("dispatch", "chiller-1"))]
        session = OperatorSession(sc, script=script, pace=0)
        session.run()
        return float(finish(session).operator.kpis["spoiled_units"])

    assert spoiled(22.1) == 0
    assert spoiled(27.0) > 0 and spoiled(None) > 0


def test_a_command_that_cannot_be_carried_out_is_a_rejected_action_from_the_operator() -> None:
    sc = load_drill(PUMPS)
    session = OperatorSession(sc, script=[(1.0, OperatorCommand("dispatch", "pump-3")),
                                          (2.0, OperatorCommand("purchase", "seal-kit"))], pace=0)
    session.run()
    rejected = [e for e in _events(session) if type(e) is E.ActionRejected and e.policy == "operator"]
    assert [e.t for e in rejected] == [1.0, 2.0]
    assert "no work order waiting for 'pump-3'" in rejected[0].reason
    assert "gives 'dispatch' commands" in rejected[1].reason
    assert [r.outcome == "accepted" for r in session.records] == [False, False]


def test_the_operator_buys_their_items_and_the_policy_the_rest() -> None:
    sc = load_drill(DRILLS / "mass-casualty.yaml")
    session = OperatorSession(sc, script=load_script(SCRIPTS / "stock-up.yaml", sc), pace=0)
    session.run()
    orders = [e for e in _events(session) if type(e) is E.PurchaseOrderPlaced]
    iv = {i.id for i in sc.site.items if i.category == "iv-therapy"}
    mine = [e for e in orders if e.policy == "operator"]
    assert [(e.t, e.item, e.location) for e in mine] == [(49.0, "giving-set-pump", "central"),
                                                        (49.0, "iv-nacl-1000", "central")]
    assert mine[0].qty == 600 and mine[1].qty > 0  # the second at the policy's quantity
    assert all(e.item in iv for e in mine)
    assert not any(e.item in iv for e in orders if e.policy != "operator")
    assert any(e.item not in iv for e in orders if e.policy != "operator")
    # Stocking up before the outage leaves fewer backorders than the automatic policy.
    result = finish(session)
    rows = {r.kpi: r for r in result.card.rows}
    assert rows["backorders"].operator < rows["backorders"].automatic


def test_the_operator_dispatches_vehicles_on_the_road_closure_drill() -> None:
    sc = load_drill(DRILLS / "road-closure.yaml")
    nobody = OperatorSession(sc, pace=0)
    nobody.run()
    assert not any(type(e) is E.VehicleDispatched for e in _events(nobody))
    session = OperatorSession(sc, script=load_script(SCRIPTS / "hourly-routes.yaml", sc), pace=0)
    session.run()
    dispatched = [e for e in _events(session) if type(e) is E.VehicleDispatched]
    assert dispatched and all(e.t >= 1.0 for e in dispatched)
    assert len(dispatched) == sum(r.outcome == "accepted" for r in session.records)
    ops, none = finish(session).operator.kpis, finish(nobody).operator.kpis
    assert ops["on_time_in_full"] > none["on_time_in_full"]


def test_the_automatic_side_equals_a_plain_twin_run_of_the_drill(tmp_path: Path,
                                                                 cli: Callable[..., Result]) -> None:
    res = cli("run", PUMPS, "-n", "1", "--workers", "1", "--out", tmp_path / "run", "--home", tmp_path / "h")
    assert res.exit_code == 0, res.output
    run_hash = json.loads((tmp_path / "run" / "kpis.json").read_text())["event_log_sha256"][0]
    sc = load_drill(PUMPS)
    assert automatic_side(sc, sc.seed).log_hash == run_hash
    res = cli("train", PUMPS, "--headless", "--script", SCRIPTS / "prompt-dispatch.yaml",
              "--out", tmp_path / "session", "--home", tmp_path / "h")
    assert res.exit_code == 0, res.output
    card = json.loads((tmp_path / "session" / "scorecard.json").read_text())
    assert card["event_log_sha256"]["automatic"] == run_hash
    assert card["event_log_sha256"]["operator"] != run_hash
    assert [k["kpi"] for k in card["kpis"]] == list(sc.drill.score)  # type: ignore[union-attr]
    actions = json.loads((tmp_path / "session" / "actions.json").read_text())
    assert [a["target"] for a in actions] == ["pump-3", "pump-1", "lift-b", "pump-4"]
    events = pd.read_parquet(tmp_path / "session" / "events.parquet")
    assert (events["type"] == "TechnicianAssigned").sum() == 4
    assert "score" in res.output and "automatic" in res.output
    # The session is in the run registry: the view replays it.
    run_id = card["run_id"]
    res = cli("view", "--replay", run_id, "--home", tmp_path / "h", "--frames", tmp_path / "frames",
              "--every", "12h", "--level", "network")
    assert res.exit_code == 0, res.output
    assert len(list((tmp_path / "frames").glob("*.png"))) >= 6


@pytest.mark.parametrize("drill", ["pump-breakdown.yaml", "road-closure.yaml"])
def test_the_operator_side_kpis_are_computed_as_twin_run_computes_them(drill: str) -> None:
    sc = load_drill(DRILLS / drill)
    mine = _kpis(sc, Engine(sc, sc.seed, 0).run(sc.horizon)).kpis
    theirs = automatic_side(sc, sc.seed).kpis
    assert mine.keys() == theirs.keys()
    for k, v in theirs.items():
        assert mine[k] == pytest.approx(v, nan_ok=True), k


def test_the_scorecard_weights_each_kpi_by_its_direction() -> None:
    sc = load_drill(PUMPS)  # score: availability 3, downtime_hours 2, backlog 1, response_time 1

    def result(**kpis: float) -> ReplicationResult:
        return ReplicationResult(0, kpis, pd.DataFrame(), pd.DataFrame(), "h", 0, 0)

    auto = result(availability=0.8, downtime_hours=10.0, backlog=1.0, response_time=0.5)
    same = scorecard(sc, 1, auto, auto)
    assert same.score == 0 and all(r.better == "same" for r in same.rows)
    op = result(availability=1.0, downtime_hours=20.0, backlog=1.0, response_time=math.nan)
    card = scorecard(sc, 1, op, auto)
    rows = {r.kpi: r for r in card.rows}
    assert rows["availability"].points == pytest.approx(0.2)  # (1.0 - 0.8) / 1.0, higher is better
    assert rows["downtime_hours"].points == pytest.approx(-0.5)  # (20 - 10) / 20, lower is better
    assert rows["response_time"].points == -1 and rows["response_time"].better == "none"
    assert card.score == pytest.approx(100 * (3 * 0.2 - 2 * 0.5 + 0 - 1) / 7)
    assert "trailed" in card.verdict


def _drill_file(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "drill.yaml"
    path.write_text(f"extends: {PUMPS}\nname: bad-drill\n" + body)
    return path


@pytest.mark.parametrize(("body", "line", "where", "message"), [
    ("drill:\n  title: t\n  operator: maintenance_dispatch\n  score: {availability: 1}\n  incidents:\n"
     "    - {at: 2h, kind: breakdown, asset: pump-9}\n", 8, "drill.incidents[0].asset", "unknown asset 'pump-9'"),
    ("drill:\n  title: t\n  operator: maintenance_dispatch\n  score: {availabilty: 1}\n", 6,
     "drill.score.availabilty", "unknown KPI 'availabilty'"),
    ("drill:\n  title: t\n  operator: purchasing\n  items: gauze\n  score: {fill_rate: 1}\n", 6,
     "drill.items", "unknown item 'gauze'"),
    ("drill:\n  title: t\n  operator: fleet_dispatch\n  score: {fill_rate: 1}\n", 5,
     "drill.operator", "needs a site with a network and vehicles"),
    ("drill:\n  title: t\n  operator: maintenance_dispatch\n  score: {availability: -1}\n", 6,
     "drill.score", "must be positive"),
])
def test_a_bad_drill_is_one_line_naming_file_line_and_field(tmp_path: Path, cli: Callable[..., Result],
                                                            body: str, line: int, where: str, message: str) -> None:
    path = _drill_file(tmp_path, body)
    with pytest.raises(ScenarioError, match=re.escape(f"drill.yaml:{line}: {where}: ") + ".*" + re.escape(message)):
        load_drill(path)
    res = cli("train", path, "--headless", "--out", tmp_path / "s", "--home", tmp_path / "h")
    assert res.exit_code == 1
    assert f"drill.yaml:{line}: {where}: " in res.output and message in res.output
    assert "Traceback" not in res.output


def test_bad_scripts_and_non_drills_are_clear_errors(tmp_path: Path, cli: Callable[..., Result]) -> None:
    script = tmp_path / "ops.yaml"
    script.write_text("actions:\n  - {at: 2h, do: dispatch, asset: pump-3}\n  - {at: 3h, do: dispatch, asset: pmp-3}\n"
                      "  - {at: 4h, do: route, vehicle: van}\n")
    res = cli("train", PUMPS, "--headless", "--script", script, "--home", tmp_path / "h")
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert "ops.yaml:3: actions[1].asset: unknown asset 'pmp-3'" in res.output
    assert "ops.yaml:4: actions[2].do: this drill's operator (maintenance_dispatch) gives 'dispatch'" in res.output
    res = cli("train", ROOT / "scenarios" / "industrial-park" / "reactive.yaml", "--headless",
              "--home", tmp_path / "h")
    assert res.exit_code == 1 and "not a drill" in res.output and "Traceback" not in res.output
    res = cli("train", PUMPS, "--pace", "0h", "--home", tmp_path / "h")
    assert res.exit_code == 1 and "--pace" in res.output


def hold_at(session: OperatorSession, at: float) -> float:
    """Start the session, let its clock run to ``at`` and hold it there; the clock it holds at."""
    session.pause_at(at)
    session.start()
    deadline = time.monotonic() + 60
    while not session.paused and time.monotonic() < deadline:
        time.sleep(0.005)
    return float(session.now)


def test_a_key_press_in_the_headless_view_becomes_the_operators_action() -> None:
    from visual.render import Renderer, pygame
    from visual.training import TrainingApp

    sc = load_drill(PUMPS)
    session = OperatorSession(sc, pace=400.0)  # 400 simulated hours per second: the drill takes ~0.2 s
    pygame.display.init()
    try:
        app = TrainingApp(session, Renderer((1100, 700)))
        # Let the clock run past pump-3's breakdown at 6 h, then hold it.
        held = hold_at(session, 7.0)
        assert session.paused and 7.0 <= held <= 7.0 + sc.drill.tick  # type: ignore[union-attr]
        app.refresh()
        app.draw()
        rect = next(r for r, kind, ident in app.renderer.hits if kind == "machine" and ident == "pump-3")
        pygame.event.clear()
        pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, button=1, pos=rect.center))
        pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONUP, button=1, pos=rect.center))
        pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_t, mod=0, unicode="t"))
        for event in pygame.event.get():
            app.handle(event)
        assert app.selected == "machine pump-3"
        assert "dispatch pump-3" in app.message
        session.pause(False)
        session.hurry()
        out = session.wait()
    finally:
        session.hurry()
        pygame.display.quit()
    record = session.records[0]
    assert (record.do, record.target, record.outcome) == ("dispatch", "pump-3", "accepted")
    assigned = [e for e in out.log.events if type(e) is E.TechnicianAssigned]
    assert assigned and assigned[0].t == record.t == held  # taken in at the tick the clock was held at
    assert "dispatch pump-3: accepted" in app.status()


@pytest.mark.parametrize(("drill", "keys", "expected"), [
    ("mass-casualty.yaml", ["p", "i", "p"], OperatorCommand("purchase", "art-line-kit", "central")),
    ("road-closure.yaml", ["v", "v", "r"], OperatorCommand("route", "base-van-2")),
    ("pump-breakdown.yaml", ["t"], OperatorCommand("dispatch", "")),
])
def test_each_roles_keys_put_its_command_in_the_inbox(drill: str, keys: list[str],
                                                       expected: OperatorCommand) -> None:
    from visual.render import Renderer, pygame
    from visual.training import TrainingApp

    session = OperatorSession(load_drill(DRILLS / drill), pace=1.0)  # not started: nothing runs
    app = TrainingApp(session, Renderer((800, 600)))
    for key in keys:
        app.handle(pygame.event.Event(pygame.KEYDOWN, key=getattr(pygame, f"K_{key}"), mod=0, unicode=key))
    sent = []
    while not session.inbox.empty():
        sent.append(session.inbox.get_nowait())
    assert sent == [expected]
    if drill == "mass-casualty.yaml":  # P before I picked anything asks for an item first
        assert app.skus[0] == ("art-line-kit", "central") and "sent: purchase art-line-kit" in app.message
