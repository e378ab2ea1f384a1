"""The routing policy on the CVRP instances of ../shared/validation/cvrp with proven optima.

Instances and reference solutions are read by the project's own reader (twin.model.vrplib). Costs
follow CVRPLIB: each edge's Euclidean length rounded to the nearest integer. The policy's cost is
recomputed here from its routes, which must serve every customer exactly once within capacity.
Targets: within 1% of the optimum up to 45 customers, within 5% for the ~100-customer instances,
each with a 30 s time limit (the small ones stop earlier, once 5 s pass without a better solution).
Run with ``pytest -s`` to see the gaps; the test takes about a minute and a half.
"""

from __future__ import annotations

import csv
import time

import pytest

from policies.dispatch import cvrp_problem, nearest_feasible, solve_cvrp
from tests.validation.conftest import VALIDATION
from twin.model.vrplib import check_routes, parse_sol, parse_vrp, routes_cost

FOLDER = VALIDATION / "cvrp"


def optima() -> dict[str, dict[str, str]]:
    path = FOLDER / "optima.csv"
    if not path.is_file():
        pytest.skip(f"validation data not found at {path}")
    with path.open() as fh:
        return {r["instance"]: r for r in csv.DictReader(fh)}


INSTANCES = ["P-n16-k8", "E-n22-k4", "A-n32-k5", "A-n33-k5", "A-n45-k6", "E-n101-k8", "X-n101-k25"]


def load(name: str):  # type: ignore[no-untyped-def]
    path = FOLDER / f"{name}.vrp"
    if not path.is_file():
        pytest.skip(f"validation data not found at {path}")
    return parse_vrp(path.read_text(), path.name)


def test_every_instance_with_an_optimum_is_checked() -> None:
    assert set(optima()) == set(INSTANCES)


@pytest.mark.parametrize("name", INSTANCES)
def test_our_cost_function_reproduces_the_published_solutions(name: str) -> None:
    """The .sol files are feasible and cost exactly the optimum under nint (and so under our costing)."""
    inst = load(name)
    sol = parse_sol((FOLDER / f"{name}.sol").read_text(), f"{name}.sol")
    row = optima()[name]
    assert inst.dimension == int(row["dimension"])
    assert inst.capacity == int(row["capacity"])
    assert check_routes(inst, sol.routes) == []
    assert len(sol.routes) == int(row["routes_in_reference_solution"])
    assert routes_cost(inst.distance_matrix(), sol.routes, inst.depot) == sol.cost == int(row["optimal_cost"])


@pytest.mark.slow
@pytest.mark.parametrize("name", INSTANCES)
def test_routing_policy_within_tolerance_of_the_optimum(name: str) -> None:
    inst = load(name)
    optimum = int(optima()[name]["optimal_cost"])
    customers = inst.dimension - 1
    tolerance = 0.01 if customers <= 45 else 0.05
    started = time.perf_counter()
    result = solve_cvrp(inst, time_limit=30.0, stall=5.0 if customers <= 45 else None)
    wall = time.perf_counter() - started
    assert result.status in ("SUCCESS", "OPTIMAL", "PARTIAL_SUCCESS_LOCAL_OPTIMUM_NOT_REACHED"), result.status
    assert result.unserved == ()
    routes = result.used_routes
    assert check_routes(inst, routes) == []
    cost = routes_cost(inst.distance_matrix(), routes, inst.depot)  # our own costing, not the solver's
    assert cost == result.objective
    gap = (cost - optimum) / optimum
    heuristic = nearest_feasible(cvrp_problem(inst), reuse_vehicles=True)
    assert check_routes(inst, heuristic.used_routes) == []
    h_gap = (routes_cost(inst.distance_matrix(), heuristic.used_routes, inst.depot) - optimum) / optimum
    print(f"\n{name}: cost {cost} optimum {optimum} gap {gap:+.2%} (limit {tolerance:.0%}), "
          f"{len(routes)} routes, {wall:.1f} s, {result.status}; nearest-feasible gap {h_gap:+.2%}")
    assert cost >= optimum, "below a proven optimum: the costing or the feasibility check is wrong"
    assert gap <= tolerance
