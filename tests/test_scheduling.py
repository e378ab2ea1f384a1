"""Dispatch rules and the CP-SAT scheduler on small work-order sets (eligibility, changeovers, due dates)."""

from __future__ import annotations

import pytest

from policies.scheduling import (
    Job,
    Operation,
    SchedulingError,
    check_schedule,
    dispatch,
    parse_jobshop,
    solve_cp_sat,
)


def orders() -> list[Job]:
    return [
        Job("wo1", (Operation({"press": 4}), Operation({"paint1": 3, "paint2": 5})), due=8, weight=1, family="red"),
        Job("wo2", (Operation({"press": 2}), Operation({"paint1": 3, "paint2": 3})), due=6, weight=3, family="blue"),
        Job("wo3", (Operation({"press": 3}), Operation({"paint1": 2})), due=20, weight=1, family="red"),
    ]


CHANGE = {("red", "blue"): 2, ("blue", "red"): 2}


@pytest.mark.parametrize("rule", ["fifo", "edd", "spt", "critical_ratio"])
def test_dispatch_rules_give_feasible_schedules(rule: str) -> None:
    sched = dispatch(orders(), rule, CHANGE)  # type: ignore[arg-type]
    assert check_schedule(orders(), sched, CHANGE) == []


def test_edd_and_spt_order_the_press() -> None:
    first = {r: dispatch(orders(), r).by_machine()["press"][0].job for r in ("fifo", "edd", "spt")}  # type: ignore[arg-type]
    assert first == {"fifo": "wo1", "edd": "wo2", "spt": "wo2"}


def test_cp_sat_respects_changeovers_and_beats_dispatch() -> None:
    best = solve_cp_sat(orders(), "makespan", CHANGE, time_limit=5)
    assert best.status == "OPTIMAL"
    assert check_schedule(orders(), best, CHANGE) == []
    assert best.makespan <= min(dispatch(orders(), r, CHANGE).makespan for r in ("fifo", "edd", "spt"))  # type: ignore[arg-type]
    # Without changeovers it can only be as short or shorter.
    assert solve_cp_sat(orders(), "makespan", time_limit=5).makespan <= best.makespan


def test_cp_sat_minimises_weighted_tardiness() -> None:
    sched = solve_cp_sat(orders(), "weighted_tardiness", CHANGE, time_limit=5)
    assert sched.status == "OPTIMAL"
    assert check_schedule(orders(), sched, CHANGE) == []
    assert sched.weighted_tardiness <= dispatch(orders(), "edd", CHANGE).weighted_tardiness
    # wo2 (weight 3, due 6) goes first on the press; wo1 waits for the changeover and is 3 late,
    # cheaper than wo2 being 5 late (15).
    assert sched.by_machine()["press"][0].job == "wo2"
    assert sched.weighted_tardiness == 3.0


def test_checker_fires() -> None:
    sched = dispatch(orders(), "fifo")
    assert check_schedule(orders(), sched, CHANGE) != []  # fifo ignored the changeovers it was not given


def test_bad_input_is_rejected() -> None:
    with pytest.raises(SchedulingError, match="no eligible machine"):
        dispatch([Job("x", (Operation({}),))])
    with pytest.raises(SchedulingError, match="negative time -1"):
        solve_cp_sat([Job("x", (Operation({"m": -1}),))])
    with pytest.raises(SchedulingError, match="unknown dispatch rule 'lifo'"):
        dispatch(orders(), "lifo")  # type: ignore[arg-type]
    with pytest.raises(SchedulingError, match="2 jobs announced, 1 found"):
        parse_jobshop("2 1\n0 5\n")
    with pytest.raises(SchedulingError, match="has 3 numbers, expected 2"):
        parse_jobshop("1 1\n0 5 1\n")


def test_cli_solve_jobshop_reads_file_through_loader(tmp_path) -> None:
    import json

    from typer.testing import CliRunner

    from twin.cli import app

    inst = tmp_path / "tiny.txt"
    # 2 jobs x 2 machines; optimum 7 (job 0: m0 3, m1 2; job 1: m1 4, m0 3)
    inst.write_text("# tiny\n2 2\n0 3 1 2\n1 4 0 3\n")
    result = CliRunner().invoke(app, ["solve", "jobshop", str(inst), "--time-limit", "5", "--json"])
    assert result.exit_code == 0, result.output
    got = json.loads(result.stdout)
    assert set(got) == {"objective", "status", "seconds"}
    assert got["objective"] == 7 and got["status"] == "OPTIMAL"
    text = CliRunner().invoke(app, ["solve", "jobshop", str(inst)])
    assert text.exit_code == 0 and "makespan 7" in text.stdout and "OPTIMAL" in text.stdout


def test_cli_solve_jobshop_bad_file_is_one_line_with_file_and_line(tmp_path) -> None:
    from typer.testing import CliRunner

    from twin.cli import app

    bad = tmp_path / "bad.txt"
    bad.write_text("# header\n2 2\n0 3 1 2\n1 4 0 x\n")
    result = CliRunner().invoke(app, ["solve", "jobshop", str(bad)])
    assert result.exit_code == 1
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and f"{bad}:4:" in lines[0] and "not a number" in lines[0]
    assert "Traceback" not in result.output
    missing = CliRunner().invoke(app, ["solve", "jobshop", str(tmp_path / "nope.txt")])
    assert missing.exit_code == 1 and "file not found" in missing.output
