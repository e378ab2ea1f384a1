"""Operator drills, the follow-ups of issue 8 point 4: the operator re-routes a vehicle already under
way (``DivertVehicle``, the action the emergency dispatch policy gives) and releases a transfer to
a depot replenished from another warehouse (the ``PlaceOrder`` a depot's policy returns), through
the same public ``apply_action`` of each domain the policies' actions take; a windowed drill with
no display is a one-line error. Headless (SDL_VIDEODRIVER=dummy)."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

from tests.conftest import FIXTURES, ROOT  # noqa: E402
from tests.test_training import hold_at  # noqa: E402
from twin.model import events as E  # noqa: E402
from twin.model.actions import PlaceOrder  # noqa: E402
from twin.model.drill import OperatorCommand  # noqa: E402
from twin.model.fleet_actions import DispatchRoute, DivertVehicle  # noqa: E402
from twin.model.maintenance import AssignTechnician  # noqa: E402
from twin.sim.engine import Engine  # noqa: E402
from twin.training import OperatorSession, finish, load_drill, load_script  # noqa: E402

DRILLS = ROOT / "scenarios" / "drills"
ROADS = DRILLS / "road-closure.yaml"
DEPOTS = DRILLS / "depot-transfer.yaml"
SCRIPTS = FIXTURES / "drills"


def _events(session: OperatorSession) -> list[object]:
    assert session.output is not None
    return session.output.log.events


# -- re-routing a vehicle under way ----------------------------------------------------------------


def test_a_vehicle_under_way_is_rerouted_with_the_dispatch_policys_divert_action() -> None:
    sc = load_drill(ROADS)
    session = OperatorSession(sc, script=load_script(SCRIPTS / "reroute.yaml", sc), pace=0)
    session.run()
    sent, rerouted = session.records
    assert sent.action.startswith("DispatchRoute(vehicle='e-truck-1'") and sent.outcome == "accepted"
    # Under way to its first stop, the truck is sent to the northern depot for the priority-1
    # consignment waiting there; the consignments on board follow, re-planned from there.
    assert rerouted.action == repr(DivertVehicle("e-truck-1", 2, "fwd-north", (4, 8, 7)))
    assert rerouted.outcome == "accepted"
    events = _events(session)
    diverted = [e for e in events if type(e) is E.VehicleDiverted]
    assert [(e.t, e.vehicle, e.consignment, e.warehouse) for e in diverted] == [(24.8, "e-truck-1", 2, "fwd-north")]
    trip = diverted[0].trip
    emergency = next(e for e in events if type(e) is E.Rerouted and e.trip == trip and e.reason == "emergency")
    assert emergency.stops[0] == 2
    delivered = next(e for e in events if type(e) is E.Delivered and e.consignment == 2)
    assert delivered.vehicle == "e-truck-1" and delivered.t > emergency.t
    # Nothing of it was rejected (the policy is off: no one else dispatched).
    assert not [e for e in events if type(e) is E.ActionRejected]


def test_a_reroute_that_cannot_be_carried_out_is_rejected_from_the_operator() -> None:
    sc = load_drill(ROADS)
    script = [(24.1, OperatorCommand("route", "e-truck-1")),
              (24.2, OperatorCommand("route", "e-truck-1")),  # still loading at its depot
              (24.8, OperatorCommand("route", "e-truck-1", consignment=99)),
              (24.9, OperatorCommand("route", "", consignment=3))]
    session = OperatorSession(sc, script=script, pace=0)
    session.run()
    outcomes = [r.outcome for r in session.records]
    assert outcomes[0] == "accepted"
    assert "cannot be re-routed now (loading" in outcomes[1]
    assert outcomes[2] == "consignment 99 is not waiting"
    assert outcomes[3] == "name the vehicle to re-route"
    rejected = [e for e in _events(session) if type(e) is E.ActionRejected]
    assert [e.policy for e in rejected] == ["operator"] * 3 and [e.t for e in rejected] == [24.2, 24.8, 24.9]
    assert not any(type(e) is E.VehicleDiverted for e in _events(session))


def test_r_on_a_vehicle_under_way_in_the_view_reroutes_it() -> None:
    from visual.render import Renderer, pygame
    from visual.training import TrainingApp

    sc = load_drill(ROADS)
    session = OperatorSession(sc, script=[(24.1, OperatorCommand("route", "e-truck-1"))], pace=400.0)
    pygame.display.init()
    try:
        app = TrainingApp(session, Renderer((1100, 700)))
        held = hold_at(session, 24.8)
        assert session.paused and 24.8 <= held < 25.0
        for _ in range(len(app.vehicle_ids)):
            if app.vehicle == "e-truck-1":
                break
            app.handle(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_v, mod=0, unicode="v"))
        assert "vehicle e-truck-1: on a trip (R re-routes)" in app.status()
        app.handle(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_r, mod=0, unicode="r"))
        assert "sent: route e-truck-1" in app.message
        session.pause(False)
        session.hurry()
        out = session.wait()
    finally:
        session.hurry()
        pygame.display.quit()
    record = session.records[-1]
    assert record.action.startswith("DivertVehicle(vehicle='e-truck-1'") and record.outcome == "accepted"
    diverted = [e for e in out.log.events if type(e) is E.VehicleDiverted]
    assert [(e.t, e.vehicle) for e in diverted] == [(held, "e-truck-1")]


# -- releasing a transfer --------------------------------------------------------------------------


def test_the_purchaser_releases_a_transfer_from_the_source_depot() -> None:
    sc = load_drill(DEPOTS)
    session = OperatorSession(sc, script=load_script(SCRIPTS / "transfers.yaml", sc), pace=0)
    session.run()
    transfer, purchase = session.records
    assert transfer.outcome == purchase.outcome == "accepted"
    assert transfer.action.startswith("PlaceOrder(item='ammo', location='fwd-north'")
    events = _events(session)
    shipped = [e for e in events if type(e) is E.TransferShipped and e.t == 20.0]
    assert shipped and {(e.item, e.origin, e.destination) for e in shipped} == {("ammo", "base", "fwd-north")}
    qty = float(transfer.action.split("qty=")[1].split(",")[0])
    assert sum(q for e in shipped for _, q in e.picks) == pytest.approx(qty)
    received = [e for e in events if type(e) is E.TransferReceived and e.transfer in {s.transfer for s in shipped}]
    assert len(received) == len(shipped) and all(e.location == "fwd-north" for e in received)
    # The transfer is not a purchase; the base's medkits are.
    mine = [e for e in events if type(e) is E.PurchaseOrderPlaced and e.policy == "operator"]
    assert [(e.item, e.location, e.qty) for e in mine] == [("medkit", "base", 50.0)]
    # Stocking the northern depot before the surge empties it: fewer stockout hours than the policy.
    rows = {r.kpi: r for r in finish(session).card.rows}
    assert rows["stockout_hours"].operator < rows["stockout_hours"].automatic


def test_a_transfer_where_there_is_no_source_is_rejected() -> None:
    sc = load_drill(DEPOTS)
    script = [(2.0, OperatorCommand("transfer", "ammo", "base", 10)),
              (2.0, OperatorCommand("transfer", "ammo", None, 10)),
              (2.0, OperatorCommand("transfer", "rations", "fwd-north", 10))]
    session = OperatorSession(sc, script=script, pace=0)
    session.run()
    outcomes = [r.outcome for r in session.records]
    assert outcomes == ["'base' is not replenished with 'ammo' from another warehouse (transfers go to fwd-east, "
                        "fwd-north)",
                        "item 'ammo' is stocked at fwd-east, fwd-north: name the location",
                        "item 'rations' is bought by the automatic policy in this drill"]
    assert not [e for e in _events(session) if type(e) is E.TransferShipped and e.t == 2.0]


def test_a_transfer_in_a_script_of_another_role_is_a_clear_error(tmp_path: Path) -> None:
    from twin.errors import ScenarioError

    script = tmp_path / "ops.yaml"
    script.write_text("actions:\n  - {at: 2h, do: transfer, item: ammo, location: fwd-north}\n"
                      "  - {at: 3h, do: route, vehicle: e-truck-1, consignment: 4}\n"
                      "  - {at: 4h, do: transfer, location: fwd-north}\n")
    with pytest.raises(ScenarioError) as info:
        load_script(script, load_drill(ROADS))
    text = str(info.value)
    assert "ops.yaml:2: actions[0].do: this drill's operator (fleet_dispatch) gives 'route' commands, not " \
           "'transfer'" in text
    assert "ops.yaml:4: actions[2]: a transfer needs 'item'" in text
    assert "actions[1]" not in text  # a route may name a consignment
    load_script(SCRIPTS / "transfers.yaml", load_drill(DEPOTS))  # the purchaser gives both


def test_x_in_the_view_releases_a_transfer_of_the_picked_item() -> None:
    from visual.render import Renderer, pygame
    from visual.training import TrainingApp

    session = OperatorSession(load_drill(DEPOTS), pace=1.0)  # not started: nothing runs
    app = TrainingApp(session, Renderer((800, 600)))
    app.handle(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_x, mod=0, unicode="x"))
    assert "press I" in app.message and session.inbox.empty()
    for _ in range(3):
        app.handle(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_i, mod=0, unicode="i"))
    assert app.sku == ("ammo", "fwd-north")
    assert "replenished from base: X transfer" in app.status()
    app.handle(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_x, mod=0, unicode="x"))
    assert session.inbox.get_nowait() == OperatorCommand("transfer", "ammo", "fwd-north")
    assert session.inbox.empty()


# -- one path for the policies' and the operator's actions -------------------------------------------


def test_each_domain_checks_and_rejects_an_action_on_one_public_path() -> None:
    engine = Engine(load_drill(ROADS), 1, 0)
    assert engine.fleet.apply_action(DispatchRoute("no-such-truck", (1,)), "operator") == \
        "unknown vehicle 'no-such-truck'"
    assert engine.fleet.apply_action(DivertVehicle("e-truck-1", 7, "fwd-east")) == "consignment 7 is not waiting"
    assert engine.policies.apply_action(PlaceOrder("ammo", "nowhere", 5.0), "operator") == \
        "unknown item 'ammo' at location 'nowhere'"
    pumps = Engine(load_drill(DRILLS / "pump-breakdown.yaml"), 1, 0)
    assert pumps.maintenance.apply_action(AssignTechnician(42, "ana"), policy="operator") == \
        "work order 42 is not waiting for a technician"
    rejected = [(e.policy, e.reason) for log in (engine.log, pumps.log) for e in log.events
                if type(e) is E.ActionRejected]
    assert [p for p, _ in rejected] == ["operator", engine.fleet.policy_name, "operator", "operator"]


def test_the_drill_calls_no_private_method_of_another_module() -> None:
    tree = ast.parse((ROOT / "twin" / "sim" / "drill.py").read_text())
    private = sorted({node.attr for node in ast.walk(tree)
                      if isinstance(node, ast.Attribute) and node.attr.startswith("_")
                      and not node.attr.startswith("__")
                      and not (isinstance(node.value, ast.Name) and node.value.id == "self")})
    assert private == []


# -- a window nobody can see -----------------------------------------------------------------------


def test_a_windowed_drill_with_no_display_is_a_one_line_error(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("SDL_VIDEODRIVER", "DISPLAY", "WAYLAND_DISPLAY")}
    env["XDG_RUNTIME_DIR"] = str(tmp_path)  # as on a desktop session (else SDL complains of it on stderr)
    res = subprocess.run([sys.executable, "-c", "from twin.cli import main; main()", "train",
                          str(DRILLS / "pump-breakdown.yaml"), "--home", str(tmp_path / "h"),
                          "--out", str(tmp_path / "s")], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 1, res.stdout + res.stderr
    errors = [line for line in res.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "no display" in errors[0] and "--headless" in errors[0]
    assert "Traceback" not in res.stderr and not (tmp_path / "s").exists()
