"""Floor model (issue 8): the grid, its checks (FILE:LINE), slotting and pick-path policies, the Mesa
floor with congestion, and the floor KPIs."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from typer.testing import Result

from policies.floor import (
    abc_slotting,
    batch_orders,
    largest_gap_order,
    nearest_neighbour_order,
    next_wave,
    random_slotting,
    s_shape_order,
)
from tests.conftest import ROOT, small_scenario
from twin.errors import ScenarioError
from twin.experiment import simulate
from twin.kpi_floor import floor_kpis
from twin.model.floor import DOCK, RACK, FloorSpec, floor_issues, parse_grid
from twin.model.floor_events import FloorMoved, PickTravelled, parse_stops
from twin.model.scenario import Scenario
from twin.scenario import load_scenario
from twin.sim.engine import Engine, run_replication
from twin.sim.floor import FloorModel

STORE = ROOT / "scenarios" / "floor" / "store.yaml"
WAVE = ROOT / "scenarios" / "floor" / "wave.yaml"
VEHICLES = ROOT / "scenarios" / "floor" / "vehicles.yaml"

GRID = """\
#########
#D......#
#.RR.RR.#
#.RR.RR.#
#.......#
#########"""


def test_grid_is_parsed_with_bins_and_their_aisle_cells() -> None:
    plan, issues = parse_grid(GRID)
    assert issues == []
    assert plan.shape == (6, 9)
    assert plan.depot == (1, 1) and plan.kinds[1, 1] == DOCK
    assert len(plan.bins) == 8 and all(plan.kinds[b] == RACK for b in plan.bins)
    # A bin is picked from the aisle beside it (west first, else east).
    assert plan.access[plan.bins.index((2, 2))] == (2, 1)
    assert plan.access[plan.bins.index((2, 3))] == (2, 4)


def test_shortest_paths_go_round_the_racks() -> None:
    plan, _ = parse_grid(GRID)
    assert plan.distance((1, 1), (1, 7)) == 6
    assert plan.distance((2, 1), (2, 4)) == 5  # up, across three, down: not through the rack
    path = plan.path((2, 1), (2, 4))
    assert len(path) == 6 and path[0] == (2, 1) and path[-1] == (2, 4)
    assert all(plan.kinds[c] != RACK for c in path)


def test_abc_slotting_puts_the_most_picked_items_nearest_the_dock() -> None:
    slot = abc_slotting(["slow", "fast", "mid"], np.array([1.0, 10.0, 5.0]), np.array([9.0, 1.0, 4.0, 2.0]))
    assert slot == {"fast": 1, "mid": 3, "slow": 2}
    rng = np.random.default_rng(1)
    rand = random_slotting(["a", "b", "c"], np.ones(3), np.arange(4.0), rng)
    assert sorted(rand) == ["a", "b", "c"] and len(set(rand.values())) == 3
    # More items than bins: a bin holds several.
    many = abc_slotting([f"i{k}" for k in range(5)], np.arange(5.0), np.array([1.0, 2.0]))
    assert sorted(many.values()) == [0, 0, 0, 1, 1]


def test_pick_path_orders() -> None:
    stops = [(3, 4), (2, 1), (3, 1), (2, 4), (2, 7)]
    assert s_shape_order(stops, (1, 1), lambda a, b: 0) == [(2, 1), (3, 1), (3, 4), (2, 4), (2, 7)]
    plan, _ = parse_grid(GRID)
    nn = nearest_neighbour_order([(3, 4), (2, 1), (2, 7)], (1, 1), plan.distance)
    assert nn == [(2, 1), (3, 4), (2, 7)]


def test_congestion_slows_a_tour_that_shares_aisle_cells_with_another() -> None:
    spec = FloorSpec(grid=GRID, cell_m=1.0, walk_speed_m_per_s=1.0, congestion=0.5)
    model = FloorModel(spec, 2, np.random.default_rng(0))
    model.assign({"x": model.plan.bins.index((3, 5))})
    _, dist, alone, tour = model.plan_tour(["x"], 0.0)
    assert alone == pytest.approx(dist / 3600)
    model.pickers[0].tour = tour
    _, dist2, shared, _ = model.plan_tour(["x"], 0.0)
    assert dist2 == dist and shared > alone  # same walk, slower: the aisle is shared
    # Agents are Mesa agents on the grid; sync puts each where its tour has taken it.
    model.sync(tour.start + (tour.end - tour.start) / 2)
    cell = model.pickers[0].cell.coordinate
    assert cell != model.plan.depot and model.plan.kinds[cell] != RACK
    assert model.pickers[1].cell.coordinate == model.plan.depot


def _variant(sc: Scenario, **floor: object) -> Scenario:
    wh = sc.site.warehouses[0]
    assert wh.floor is not None
    fl = wh.floor.model_copy(update=floor)
    site = sc.site.model_copy(update={"warehouses": [wh.model_copy(update={"floor": fl})]})
    return sc.model_copy(update={"site": site, "horizon": 5 * 24.0, "warmup": 24.0})


def test_abc_slotting_near_the_dock_walks_less_per_pick_than_random_slotting() -> None:
    sc = load_scenario(STORE)
    abc = simulate(_variant(sc, slotting="abc"), replications=2, workers=1)
    rnd = simulate(_variant(sc, slotting="random"), replications=2, workers=1)
    for kpi in ("travel_distance_per_pick", "picks_per_hour"):
        assert kpi in abc.summary.index
    assert abc.kpis["travel_distance_per_pick"].mean() < 0.7 * rnd.kpis["travel_distance_per_pick"].mean()
    assert abc.kpis["picks_per_hour"].mean() > rnd.kpis["picks_per_hour"].mean()


def test_pick_time_is_the_walk_plus_handling_per_line_and_the_log_says_so() -> None:
    sc = _variant(load_scenario(STORE))
    out = run_replication(sc, 3, 0, 2 * 24.0)
    tours = [e for e in out.log.events if type(e) is PickTravelled]
    picked = {e.order: e.t for e in out.log.events if type(e).__name__ == "Picked"}
    assert tours
    per_line = sc.site.warehouses[0].pick_time_per_line
    for tour in tours[:50]:
        assert tour.duration == pytest.approx(tour.travel + per_line * tour.lines)
        assert tour.distance_m > 0 and tour.travel > 0
        assert picked[tour.order] == pytest.approx(tour.t + tour.duration)
    # The flat view keeps enough to replay a tour.
    rows = [r for r in out.log.rows() if r[2] == "PickTravelled"]
    assert parse_stops(rows[0][-1].split("stops=")[1]) == tours[0].stops
    assert run_replication(sc, 3, 0, 2 * 24.0).log.content_hash() == out.log.content_hash()


def test_a_warehouse_without_a_floor_picks_exactly_as_before() -> None:
    engine = Engine(small_scenario(), 7)
    assert engine.floors == {}
    ops = next(iter(engine.warehouses.values()))
    assert ops._on_granted == ops._pick_start
    out = engine.run(10 * 24.0)
    assert not any(type(e) is PickTravelled for e in out.log.events)


# -- wave picking ---------------------------------------------------------------------------------


def test_waves_release_times_and_batches_by_aisle() -> None:
    assert next_wave(0.0, 0.5) == 0.0 and next_wave(0.1, 0.5) == 0.5 and next_wave(2.0, 0.5) == 2.0
    assert next_wave(2.0000000001, 0.5) == 2.0  # float noise stays in its wave
    assert next_wave(2.01, 0.5) == 2.5
    stops = [[(5, 7)], [(3, 1), (9, 4)], [], [(2, 4)], [(8, 1)]]
    assert batch_orders(stops, 2) == [[1, 4], [3, 0], [2]]  # aisle 1 (front first), aisle 4, ..., none
    assert batch_orders(stops, 10) == [[1, 4, 3, 0, 2]]
    with pytest.raises(ValueError, match="at least one order"):
        batch_orders(stops, 0)


def test_largest_gap_enters_middle_aisles_from_the_nearer_cross_aisle() -> None:
    # Aisles (columns) 1, 4 and 7; rows 2..11 between a front and a back cross aisle.
    stops = [(3, 1), (10, 1), (2, 4), (11, 4), (5, 7)]
    order = largest_gap_order(stops, (1, 1), lambda a, b: 0)
    # Down the first aisle, the back of the middle one from the back, up the last aisle, then the
    # front of the middle one from the front: the long gap in the middle aisle is never walked.
    assert order == [(3, 1), (10, 1), (11, 4), (5, 7), (2, 4)]
    assert sorted(order) == sorted(stops)
    assert largest_gap_order([(3, 1), (9, 4)], (1, 1), lambda a, b: 0) == [(3, 1), (9, 4)]  # two aisles: S-shape


def test_wave_picking_walks_less_per_pick_than_single_orders_on_the_same_random_numbers() -> None:
    single = load_scenario(STORE)
    wave = load_scenario(WAVE)
    fl = wave.site.warehouses[0].floor
    assert fl is not None and fl.waves == 0.5 and fl.batch_size == 4
    assert single.site.warehouses[0].floor == fl.model_copy(update={"waves": None, "batch_size": 4})
    horizon = 3 * 24.0
    a, b = run_replication(single, 5, 0, horizon), run_replication(wave, 5, 0, horizon)
    # Same random numbers: the same orders come in (waves change only how they are picked).
    placed = [(e.t, e.lines) for e in a.log.events if type(e).__name__ == "OrderPlaced"]
    assert placed == [(e.t, e.lines) for e in b.log.events if type(e).__name__ == "OrderPlaced"][:len(placed)]
    per_pick = {}
    for name, out in (("single", a), ("wave", b)):
        tours = [e for e in out.log.events if type(e) is PickTravelled]
        per_pick[name] = sum(e.distance_m for e in tours) / sum(e.lines for e in tours)
    assert per_pick["wave"] < 0.8 * per_pick["single"]
    # Tours start only at wave releases or when a picker comes back; every order of a tour is
    # picked when the tour ends; a tour holds at most batch_size orders.
    tours = [e for e in b.log.events if type(e) is PickTravelled]
    picked = {e.order: e.t for e in b.log.events if type(e).__name__ == "Picked"}
    released = {e.order: e.t for e in b.log.events if type(e).__name__ == "Allocated"}
    ends = {t.t + t.duration for t in tours}
    batched = 0
    for tour in tours:
        on_wave = abs(tour.t / 0.5 - round(tour.t / 0.5)) < 1e-9
        assert on_wave or any(abs(tour.t - end) < 1e-9 for end in ends)
        orders = [o for o, t in picked.items() if abs(t - (tour.t + tour.duration)) < 1e-9
                  and released[o] <= tour.t]
        assert tour.order in orders and 1 <= len(orders)
        batched += len(orders) > 1
    assert batched > 0  # orders did share tours
    assert all(picked[o] >= released[o] for o in picked)
    assert run_replication(wave, 5, 0, horizon).log.content_hash() == b.log.content_hash()


# -- forklifts, AGVs and technicians ---------------------------------------------------------------


@pytest.fixture(scope="module")
def vehicles_run() -> tuple[Scenario, object]:
    sc = load_scenario(VEHICLES)
    return sc, run_replication(sc, 3, 0, 14 * 24.0)


def _intervals_do_not_overlap(moves: list[FloorMoved]) -> None:
    by_agent: dict[str, list[tuple[float, float]]] = {}
    for m in moves:
        by_agent.setdefault(m.agent, []).append((m.t, m.t + m.duration))
    for spans in by_agent.values():
        spans.sort()
        assert all(a[1] <= b[0] + 1e-9 for a, b in zip(spans, spans[1:], strict=False))


def test_received_lots_are_driven_to_their_bins_by_forklifts_and_agvs(vehicles_run: tuple[Scenario, object]) -> None:
    sc, out = vehicles_run
    events = out.log.events  # type: ignore[attr-defined]
    engine_floor = FloorModel(sc.site.warehouses[0].floor, 3, np.random.default_rng(0))  # type: ignore[arg-type]
    plan = engine_floor.plan
    moves = [e for e in events if type(e) is FloorMoved and e.task == "put_away"]
    received = {e.lot: e for e in events if type(e).__name__ == "GoodsReceived" and e.t > 0}
    put = {e.lot: e for e in events if type(e).__name__ == "PutAway"}
    assert {m.ref for m in moves} == set(received)  # every lot received in the run, none twice
    assert {m.kind for m in moves} == {"forklift", "agv"}
    spec = sc.site.warehouses[0].floor
    assert spec is not None
    metres_per_hour = spec.drive_speed_m_per_s * 3600
    for m in moves:
        depot, target, back = m.route
        assert depot == back == plan.depot and plan.kinds[target] != 2  # to an aisle cell, not into the rack
        out_cells = plan.distance(depot, target)
        assert m.distance_m == pytest.approx(2 * out_cells * spec.cell_m)
        assert m.travel >= m.distance_m / metres_per_hour - 1e-12  # congestion only slows
        # The lot is available once the vehicle reaches its bin, not before.
        assert put[m.ref].t >= m.t and put[m.ref].t <= m.t + m.travel + 1e-9
        assert m.t >= received[m.ref].t
    _intervals_do_not_overlap([e for e in events if type(e) is FloorMoved and e.kind != "technician"])


def test_agvs_charge_when_their_battery_runs_low_and_only_with_a_charging_point(
        vehicles_run: tuple[Scenario, object]) -> None:
    sc, out = vehicles_run
    spec = sc.site.warehouses[0].floor
    assert spec is not None
    moves = [e for e in out.log.events if type(e) is FloorMoved and e.kind == "agv"]  # type: ignore[attr-defined]
    charges = [m for m in moves if m.task == "charge"]
    assert charges and all(m.route[1] == (1, 16) for m in charges)  # the store's charging point
    for agv in {m.agent for m in charges}:
        used = 0.0
        for m in (x for x in moves if x.agent == agv):
            if m.task == "charge":
                # It goes to charge right after the move that took it below the threshold.
                assert spec.agv_battery - used < spec.agv_low_battery * spec.agv_battery
                assert m.duration - m.travel == pytest.approx(spec.agv_charge_time * used / spec.agv_battery)
                used = 0.0  # full again when it is back at the dock
                continue
            assert spec.agv_battery - used >= spec.agv_low_battery * spec.agv_battery - 1e-9
            used += m.travel
    # The same floor without its charging point: AGVs never charge.
    no_charger = spec.grid.replace("C", ".")
    sc2 = _variant(sc, grid=no_charger)
    out2 = run_replication(sc2.model_copy(update={"horizon": 14 * 24.0}), 3, 0, 14 * 24.0)
    moved = [e for e in out2.log.events if type(e) is FloorMoved]
    assert any(m.kind == "agv" for m in moved) and not any(m.task == "charge" for m in moved)


def test_technicians_walk_the_floor_to_machines_and_the_walk_is_their_travel(
        vehicles_run: tuple[Scenario, object]) -> None:
    sc, out = vehicles_run
    events = out.log.events  # type: ignore[attr-defined]
    spec = sc.site.warehouses[0].floor
    assert spec is not None
    plan, _ = parse_grid(spec.grid)
    walks = {e.ref: e for e in events if type(e) is FloorMoved and e.kind == "technician"}
    assigned = [e for e in events if type(e).__name__ == "TechnicianAssigned"]
    created = {e.wo: e.asset for e in events if type(e).__name__ == "WorkOrderCreated"}
    assert assigned and set(walks) == {a.wo for a in assigned}
    for a in assigned:
        walk = walks[a.wo]
        machine = tuple(spec.machines[created[a.wo]])
        assert walk.route == (plan.depot, machine) and walk.agent == a.technician
        assert walk.distance_m == pytest.approx(plan.distance(plan.depot, machine) * spec.cell_m)  # type: ignore[arg-type]
        assert a.travel == pytest.approx(walk.travel)  # no km positions: the walk is all of it


def test_travel_kpis_by_kind_of_agent(vehicles_run: tuple[Scenario, object]) -> None:
    sc, out = vehicles_run
    events = out.log.events  # type: ignore[attr-defined]
    kpis = floor_kpis(events, 24.0, 14 * 24.0)
    for kind, name in (("forklift", "forklift_travel_km"), ("agv", "agv_travel_km"),
                       ("technician", "technician_floor_travel_km")):
        want = sum(e.distance_m for e in events if type(e) is FloorMoved and e.kind == kind and 24.0 <= e.t < 336.0)
        assert kpis[name] == pytest.approx(want / 1000) and want > 0
    tours = [e for e in events if type(e) is PickTravelled and 24.0 <= e.t < 336.0]
    assert kpis["picker_travel_km"] == pytest.approx(sum(e.distance_m for e in tours) / 1000)
    res = simulate(_variant(load_scenario(STORE)), replications=1, workers=1)
    assert res.kpis["forklift_travel_km"].iloc[0] == 0.0 and res.kpis["picker_travel_km"].iloc[0] > 0
    again = run_replication(sc, 3, 0, 3 * 24.0).log.content_hash()
    assert run_replication(sc, 3, 0, 3 * 24.0).log.content_hash() == again


# -- bad input: FILE:LINE -------------------------------------------------------------------------


def _write(tmp_path: Path, grid: str, bins: str = "") -> Path:
    body = textwrap.indent(grid, " " * 10)
    site = f"""\
name: s
items:
  - {{id: a, unit_cost: 1.0}}
warehouses:
  - id: w
    floor:
      cell_m: 1.0
{bins}      grid: |
{body}
suppliers:
  - {{id: sup, lead_time: {{mean: 1d}}, items: [a]}}
demand:
  - {{item: a, location: w, mean: 2}}
"""
    (tmp_path / "site.yaml").write_text(site)
    sc = tmp_path / "sc.yaml"
    sc.write_text("name: t\nsite: site.yaml\nhorizon: 5d\n"
                  "policies:\n  inventory: {use: s_S, params: {service_level: 0.9}}\n")
    return sc


def _problems(path: Path) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return [str(p) for p in info.value.problems]


def test_a_station_that_cannot_be_reached_is_an_error_at_its_row(tmp_path: Path) -> None:
    grid = "#######\n#D..#S#\n#.RR###\n#######\n"
    probs = _problems(_write(tmp_path, grid))
    assert len(probs) == 1
    # 'grid: |' is on line 8 of site.yaml; row 1 of the art is on line 10.
    assert probs[0].startswith(f"{tmp_path / 'site.yaml'}:10: warehouses[0].floor.grid: the station at row 1, column 5 "
                               "cannot be reached")


def test_a_dock_and_a_bin_walled_off_are_errors(tmp_path: Path) -> None:
    grid = "#######\n#D.R#D#\n#######\n"
    probs = _problems(_write(tmp_path, grid))
    assert any("site.yaml:10:" in p and "the dock at row 1, column 5 cannot be reached" in p for p in probs)
    assert not any("bin at row 1, column 3" in p for p in probs)  # its aisle (west) is the dock's
    probs = _problems(_write(tmp_path, "#####\n#D.#R\n#####\n"))
    assert any("the bin at row 1, column 4 cannot be reached" in p for p in probs)


def test_a_bin_on_a_wall_is_an_error_at_its_entry(tmp_path: Path) -> None:
    bins = "      bins: {a: [0, 0]}\n"
    probs = _problems(_write(tmp_path, GRID, bins))
    assert probs == [f"{tmp_path / 'site.yaml'}:8: warehouses[0].floor.bins.a: "
                     "bin [0, 0] for 'a' is on a wall, not on a rack (R)"]


def test_unknown_symbols_and_no_dock_are_errors() -> None:
    issues = [i.message for i in floor_issues(FloorSpec(grid="#X#\n#.R\n"))]
    assert any("unknown floor symbol 'X' at row 0, column 1" in m for m in issues)
    assert any("no dock" in m for m in issues)


def test_validate_prints_one_line_and_exits_1(tmp_path: Path, cli: Callable[..., Result]) -> None:
    path = _write(tmp_path, "#######\n#D..#S#\n#.RR###\n#######\n")
    result = cli("validate", str(path))
    assert result.exit_code == 1
    assert "the station at row 1, column 5 cannot be reached" in result.output
    assert "Traceback" not in result.output


def test_a_machine_on_a_rack_or_of_an_unknown_asset_is_an_error_at_its_entry(tmp_path: Path) -> None:
    machines = "      machines: {a: [2, 2]}\n"
    probs = _problems(_write(tmp_path, GRID, machines))
    assert probs == [f"{tmp_path / 'site.yaml'}:8: warehouses[0].floor.machines.a: unknown asset 'a'"]
    issues = [i.message for i in floor_issues(FloorSpec(grid=GRID, machines={"m": (2, 2), "n": (9, 9)}), None,
                                               {"m", "n"})]
    assert issues == ["machine cell [2, 2] for 'm' is on a bin that cannot be walked to from the dock; "
                      "put it on a station (S) or an aisle cell", "machine cell [9, 9] is outside the 6x9 grid"]
    with pytest.raises(ValueError, match="agv_battery must be positive"):
        FloorSpec(grid=GRID, agv_battery="0h")
    with pytest.raises(ValueError, match="greater than 0"):
        FloorSpec(grid=GRID, waves="0min")
