"""Vehicles and dispatch (issue 5): routing bad input, the fleet in the simulation, road closures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from policies.dispatch import UNREACHABLE, RoutingInputError, RoutingProblem, nearest_feasible, solve_routing
from tests.conftest import ROOT
from twin.errors import ScenarioError
from twin.kpi_fleet import fleet_kpis
from twin.model import events as E
from twin.model.vrplib import VrpFormatError, parse_vrp
from twin.scenario import load_scenario
from twin.sim.engine import run_replication

FIELD = ROOT / "scenarios" / "field"


def square() -> np.ndarray:
    pts = np.array([[0, 0], [10, 0], [10, 10], [0, 10]], dtype=float)
    return np.floor(np.sqrt(((pts[:, None] - pts[None]) ** 2).sum(2)) + 0.5).astype(np.int64)


def test_zero_capacity_vehicle_is_an_error() -> None:
    with pytest.raises(RoutingInputError, match="vehicle 1 has zero capacity"):
        RoutingProblem(square(), np.array([0, 1, 1, 1]), np.array([5, 0]))


def test_time_window_ending_before_it_starts_is_an_error() -> None:
    with pytest.raises(RoutingInputError, match="time window of node 2 ends \\(3\\) before it starts \\(9\\)"):
        RoutingProblem(square(), np.array([0, 1, 1, 1]), np.array([5]), time=square(),
                       windows=[(0, 100), (0, 100), (9, 3), (0, 100)])


@pytest.mark.parametrize("solve", [lambda p: solve_routing(p, time_limit=1.0), nearest_feasible])
def test_heavy_and_unreachable_customers_are_reported_unserved(solve) -> None:  # type: ignore[no-untyped-def]
    d = square()
    d[0, 3] = d[3, 0] = d[1, 3] = d[3, 1] = d[2, 3] = d[3, 2] = UNREACHABLE
    result = solve(RoutingProblem(d, np.array([0, 9, 1, 1]), np.array([5, 5])))
    reasons = dict(result.unserved)
    assert "exceeds every vehicle" in reasons[1]
    assert "unreachable" in reasons[3]
    assert [n for r in result.routes for n in r] == [2]


def test_solver_respects_capacity_and_time_windows() -> None:
    d = square()
    p = RoutingProblem(d, np.array([0, 3, 3, 3]), np.array([6, 6]), time=d,
                       windows=[(0, 100), (0, 100), (0, 15), (0, 100)])
    r = solve_routing(p, time_limit=1.0)
    assert r.status in ("SUCCESS", "OPTIMAL")
    assert sorted(n for route in r.routes for n in route) == [1, 2, 3]
    assert all(sum(3 for _ in route) <= 6 for route in r.routes)


def test_vrp_reader_errors_name_the_file_and_line() -> None:
    with pytest.raises(VrpFormatError, match="x.vrp: EDGE_WEIGHT_TYPE GEO is not supported"):
        parse_vrp("NAME : x\nTYPE : CVRP\nDIMENSION : 1\nEDGE_WEIGHT_TYPE : GEO\nCAPACITY : 5\n", "x.vrp")
    with pytest.raises(VrpFormatError, match="x.vrp:3: x: expected a number, got .a."):
        parse_vrp("CAPACITY : 5\nNODE_COORD_SECTION\n1 a 2\n", "x.vrp")


def _write(tmp: Path, site_patch: dict, name: str = "s.yaml") -> Path:
    site = yaml.safe_load((ROOT / "scenarios/sites/field-depots.yaml").read_text())
    site.update(site_patch)
    (tmp / "site.yaml").write_text(yaml.safe_dump(site))
    scen = yaml.safe_load((FIELD / "baseline.yaml").read_text())
    scen["site"] = "site.yaml"
    (tmp / name).write_text(yaml.safe_dump(scen))
    return tmp / name


def test_zero_capacity_vehicle_in_a_site_file_is_a_located_error(tmp_path: Path) -> None:
    site = yaml.safe_load((ROOT / "scenarios/sites/field-depots.yaml").read_text())
    site["vehicles"][0]["capacity_weight"] = 0
    with pytest.raises(ScenarioError, match="vehicles\\[0\\].capacity_weight: Input should be greater than 0"):
        load_scenario(_write(tmp_path, {"vehicles": site["vehicles"]}))


def test_time_window_backwards_in_a_site_file_is_a_located_error(tmp_path: Path) -> None:
    site = yaml.safe_load((ROOT / "scenarios/sites/field-depots.yaml").read_text())
    site["network"]["nodes"][4]["window"] = {"open": "18h", "close": "6h"}
    with pytest.raises(ScenarioError, match="time window ends \\(6h\\) before it starts \\(18h\\)"):
        load_scenario(_write(tmp_path, {"network": site["network"]}))


def test_road_closure_on_an_unknown_road_is_an_error(tmp_path: Path) -> None:
    path = _write(tmp_path, {})
    scen = yaml.safe_load(path.read_text())
    scen["disruptions"] = [{"at": "1d", "kind": "road_closure", "road": ["base", "op-e3"], "duration": "1d"}]
    path.write_text(yaml.safe_dump(scen))
    with pytest.raises(ScenarioError, match="no road links 'base' and 'op-e3'"):
        load_scenario(path)


@pytest.fixture(scope="module")
def closure_run():  # type: ignore[no-untyped-def]
    sc = load_scenario(FIELD / "road-closure.yaml")
    return sc, run_replication(sc, 21, 0, 12 * 24.0)


def test_field_run_delivers_reroutes_and_is_deterministic(closure_run) -> None:  # type: ignore[no-untyped-def]
    sc, out = closure_run
    kinds = {type(e) for e in out.log.events}
    assert {E.ConsignmentReady, E.VehicleDispatched, E.Delivered, E.VehicleReturned, E.RoadClosed,
            E.Rerouted, E.CrewAssigned} <= kinds
    assert run_replication(sc, 21, 0, 12 * 24.0).log.content_hash() == out.log.content_hash()
    k = fleet_kpis(out.log.events, sc, 24.0, 12 * 24.0)
    assert 0.5 < k["on_time_in_full"] <= 1.0
    assert k["vehicle_km"] > 0 and k["transport_cost"] > 0
    assert k["emergency_response_time"] < k["delivery_time_p2"]  # emergencies go first


def test_every_consignment_is_delivered_unserved_or_still_open(closure_run) -> None:  # type: ignore[no-untyped-def]
    _, out = closure_run
    ready = {e.consignment for e in out.log.events if type(e) is E.ConsignmentReady}
    done = {e.consignment for e in out.log.events if type(e) in (E.Delivered, E.DeliveryUnserved)}
    assert done <= ready
    assert ready - done == set(out.state.fleet.consignments)


def test_an_order_heavier_than_any_vehicle_is_reported_unserved(tmp_path: Path) -> None:
    site = yaml.safe_load((ROOT / "scenarios/sites/field-depots.yaml").read_text())
    for v in site["vehicles"]:
        v["capacity_weight"] = 150  # a 200-litre fuel line weighs 170 kg
    sc = load_scenario(_write(tmp_path, {"vehicles": site["vehicles"]}))
    out = run_replication(sc, 21, 0, 48.0)
    unserved = [e for e in out.log.events if type(e) is E.DeliveryUnserved]
    assert unserved and all("exceeds every vehicle" in e.reason for e in unserved)


def test_transport_events_move_no_stock_and_every_type_has_a_handler(closure_run) -> None:  # type: ignore[no-untyped-def]
    from twin.model.events import EventLog
    from twin.model.state import HANDLERS

    assert set(E.FLEET_EVENTS) <= set(HANDLERS)
    _, out = closure_run
    log = EventLog()
    log.events = [e for e in out.log.events if type(e) in E.FLEET_EVENTS]
    rows = log.rows()
    assert {r[2] for r in rows} >= {"ConsignmentReady", "VehicleDispatched", "Delivered", "RoadClosed", "Rerouted"}
    assert all(r[8:12] == (0.0, 0.0, 0.0, 0.0) for r in rows)
