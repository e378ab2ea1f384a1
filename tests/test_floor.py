"""Floor model (issue 8): the grid, its checks (FILE:LINE), slotting and pick-path policies, the Mesa
floor with congestion, and the floor KPIs."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from typer.testing import Result

from policies.floor import abc_slotting, nearest_neighbour_order, random_slotting, s_shape_order
from tests.conftest import ROOT, small_scenario
from twin.errors import ScenarioError
from twin.experiment import simulate
from twin.model.floor import DOCK, RACK, FloorSpec, floor_issues, parse_grid
from twin.model.floor_events import PickTravelled, parse_stops
from twin.model.scenario import Scenario
from twin.scenario import load_scenario
from twin.sim.engine import Engine, run_replication
from twin.sim.floor import FloorModel

STORE = ROOT / "scenarios" / "floor" / "store.yaml"

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
