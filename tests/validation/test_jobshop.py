"""CP-SAT on the job-shop instances of ../shared/validation/jobshop with proven optimal makespans.

The instances are read by the project's own loader (policies.scheduling.parse_jobshop). ft06 and
la01-la05 must be proved optimal (status OPTIMAL, makespan = published optimum); ft10 must come
within 2% of its optimum in under a minute on two workers (proving it optimal takes 20-30 s and
runs only with TWIN_SLOW=1).
"""

from __future__ import annotations

import csv
import os

import pytest

from policies.scheduling import check_schedule, dispatch, parse_jobshop, solve_cp_sat
from tests.validation.conftest import VALIDATION

FOLDER = VALIDATION / "jobshop"


def optima() -> dict[str, int]:
    path = FOLDER / "optima.csv"
    if not path.is_file():
        pytest.skip(f"validation data not found at {path}")
    with path.open() as fh:
        return {r["instance"]: int(r["optimal_makespan"]) for r in csv.DictReader(fh)}


@pytest.mark.parametrize("name", ["ft06", "la01", "la02", "la03", "la04", "la05"])
def test_cp_sat_proves_the_optimum(name: str) -> None:
    jobs = parse_jobshop((FOLDER / f"{name}.txt").read_text(), name)
    sched = solve_cp_sat(jobs, "makespan", time_limit=60, workers=2)
    assert sched.status == "OPTIMAL"
    assert sched.makespan == optima()[name]
    assert check_schedule(jobs, sched) == []


@pytest.mark.parametrize("rule", ["fifo", "edd", "spt", "critical_ratio"])
@pytest.mark.parametrize("name", ["ft06", "la01"])
def test_dispatch_rules_are_feasible_and_not_below_the_optimum(name: str, rule: str) -> None:
    jobs = parse_jobshop((FOLDER / f"{name}.txt").read_text(), name)
    sched = dispatch(jobs, rule)  # type: ignore[arg-type]
    assert check_schedule(jobs, sched) == []
    assert sched.makespan >= optima()[name]


def test_ft10_within_two_percent_in_a_minute() -> None:
    """The issue's bar: within 2% of ft10's optimum (930) in under 60 s, on the CI's two workers.
    The dispatch-rule hint (and the horizon it bounds) gets there in about 1-4 s; without it 4-15 s."""
    jobs = parse_jobshop((FOLDER / "ft10.txt").read_text(), "ft10")
    target = int(optima()["ft10"] * 1.02)
    sched = solve_cp_sat(jobs, "makespan", time_limit=60, workers=2, stop_at=target)
    assert sched.makespan <= target, (sched.makespan, sched.status, sched.seconds)
    assert sched.seconds < 60
    assert check_schedule(jobs, sched) == []


def test_stop_at_ends_the_search_at_the_target() -> None:
    """A target above the optimum ends the search early with a feasible, unproven schedule."""
    jobs = parse_jobshop((FOLDER / "la01.txt").read_text(), "la01")
    sched = solve_cp_sat(jobs, "makespan", time_limit=60, workers=1, stop_at=optima()["la01"] * 2)
    assert sched.status == "FEASIBLE" and sched.makespan <= optima()["la01"] * 2
    assert check_schedule(jobs, sched) == []


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("TWIN_SLOW"), reason="proving ft10 optimal takes 20-30 s; set TWIN_SLOW=1")
def test_ft10_proved_optimal() -> None:
    jobs = parse_jobshop((FOLDER / "ft10.txt").read_text(), "ft10")
    sched = solve_cp_sat(jobs, "makespan", time_limit=120, workers=2)
    assert sched.status == "OPTIMAL" and sched.makespan == optima()["ft10"]
    assert check_schedule(jobs, sched) == []


def test_cli_solve_jobshop_ft06_proves_55() -> None:
    """The same loader and solver as a policy developer sees them: `twin solve jobshop ft06.txt --json`."""
    import json

    from typer.testing import CliRunner

    from twin.cli import app

    expected = optima()["ft06"]
    result = CliRunner().invoke(app, ["solve", "jobshop", str(FOLDER / "ft06.txt"), "--time-limit", "60", "--json"])
    assert result.exit_code == 0, result.output
    got = json.loads(result.stdout)
    assert got["objective"] == expected == 55 and got["status"] == "OPTIMAL" and got["seconds"] >= 0
