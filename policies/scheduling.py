"""Scheduling released work orders on machines: dispatch rules and an OR-Tools CP-SAT model.

Pure: jobs (work orders) with their operations in technological order in, a schedule out. Each
operation names the machines that may run it and its processing time on each (machine
eligibility); a job carries a product family, and ``changeovers[(from_family, to_family)]`` is the
set-up a machine needs between two consecutive operations of those families (sequence-dependent).
Times are integers in one unit of the caller's choosing (the twin passes minutes).

``parse_jobshop`` reads the OR-Library / JSPLIB job-shop text format (machines numbered from 0).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "Operation",
    "Job",
    "Assignment",
    "Schedule",
    "SchedulingError",
    "DISPATCH_RULES",
    "dispatch",
    "solve_cp_sat",
    "parse_jobshop",
    "check_schedule",
]

Rule = Literal["fifo", "edd", "spt", "critical_ratio"]
DISPATCH_RULES: tuple[Rule, ...] = ("fifo", "edd", "spt", "critical_ratio")
Changeovers = Mapping[tuple[str, str], int]


class SchedulingError(ValueError):
    """Jobs that cannot be scheduled (no eligible machine, negative time) or a solver that found nothing."""


@dataclass(frozen=True)
class Operation:
    machines: Mapping[str, int]  # eligible machine -> processing time on it


@dataclass(frozen=True)
class Job:
    id: str
    operations: tuple[Operation, ...]
    due: int | None = None
    weight: float = 1.0
    release: int = 0
    family: str = ""


@dataclass(frozen=True)
class Assignment:
    job: str
    op: int
    machine: str
    start: int
    end: int


@dataclass(frozen=True)
class Schedule:
    assignments: tuple[Assignment, ...]
    makespan: int
    weighted_tardiness: float
    status: str  # OPTIMAL, FEASIBLE, or the dispatch rule's name
    seconds: float
    bound: float | None = None  # the solver's proven lower bound on the objective

    def by_machine(self) -> dict[str, list[Assignment]]:
        out: dict[str, list[Assignment]] = {}
        for a in sorted(self.assignments, key=lambda a: (a.machine, a.start)):
            out.setdefault(a.machine, []).append(a)
        return out


def _validate(jobs: Sequence[Job]) -> None:
    seen: set[str] = set()
    for job in jobs:
        if job.id in seen:
            raise SchedulingError(f"job {job.id!r} is listed twice")
        seen.add(job.id)
        for k, op in enumerate(job.operations):
            if not op.machines:
                raise SchedulingError(f"job {job.id!r} operation {k}: no eligible machine")
            for m, p in op.machines.items():
                if p < 0:
                    raise SchedulingError(f"job {job.id!r} operation {k}: negative time {p} on machine {m!r}")


def _tardiness(jobs: Sequence[Job], ends: Mapping[str, int]) -> float:
    return float(sum(j.weight * max(0, ends[j.id] - j.due) for j in jobs if j.due is not None and j.id in ends))


def check_schedule(jobs: Sequence[Job], schedule: Schedule, changeovers: Changeovers | None = None) -> list[str]:
    """Everything wrong with a schedule (empty when it is feasible): precedence, eligibility,
    processing times, overlaps and changeovers on each machine, release dates."""
    changeovers = changeovers or {}
    problems = []
    by_job = {j.id: j for j in jobs}
    family = {j.id: j.family for j in jobs}
    ops = {(a.job, a.op): a for a in schedule.assignments}
    for job in jobs:
        prev_end = job.release
        for k, op in enumerate(job.operations):
            a = ops.get((job.id, k))
            if a is None:
                problems.append(f"{job.id}[{k}] not scheduled")
                continue
            if a.machine not in op.machines:
                problems.append(f"{job.id}[{k}] on ineligible machine {a.machine}")
            elif a.end - a.start != op.machines[a.machine]:
                problems.append(f"{job.id}[{k}] takes {a.end - a.start}, not {op.machines[a.machine]}")
            if a.start < prev_end:
                problems.append(f"{job.id}[{k}] starts at {a.start} before {prev_end}")
            prev_end = a.end
    for machine, seq in schedule.by_machine().items():
        for x, y in zip(seq, seq[1:], strict=False):
            gap = changeovers.get((family[x.job], family[y.job]), 0) if x.job in by_job and y.job in by_job else 0
            if y.start < x.end + gap:
                problems.append(f"{machine}: {y.job}[{y.op}] at {y.start} overlaps {x.job}[{x.op}] (+{gap} changeover)")
    return problems


def dispatch(jobs: Sequence[Job], rule: Literal["fifo", "edd", "spt", "critical_ratio"] = "fifo",
             changeovers: Changeovers | None = None) -> Schedule:
    """A non-delay schedule by a dispatch rule: whenever an operation can start earliest, among the
    operations that could start then the rule picks one (FIFO: earliest released job, then listed
    first; EDD: earliest due date; SPT: shortest processing time; critical ratio: (due - now) /
    remaining work, smallest first). Each operation goes to the eligible machine that finishes it first."""
    if rule not in DISPATCH_RULES:
        raise SchedulingError(f"unknown dispatch rule {rule!r}; use one of {', '.join(DISPATCH_RULES)}")
    _validate(jobs)
    started = time.perf_counter()
    changeovers = changeovers or {}
    next_op = [0] * len(jobs)
    job_ready = [j.release for j in jobs]
    free: dict[str, int] = {}
    last_family: dict[str, str] = {}
    out: list[Assignment] = []
    remaining = [sum(min(op.machines.values()) for op in j.operations) for j in jobs]
    big = 10**12

    def best_machine(k: int) -> tuple[int, int, str]:
        """(start, end, machine) of job k's next operation on its best machine."""
        op = jobs[k].operations[next_op[k]]
        fam = jobs[k].family
        best: tuple[int, int, str] | None = None
        for m, p in sorted(op.machines.items()):
            setup = changeovers.get((last_family[m], fam), 0) if m in last_family else 0
            start = max(job_ready[k], free.get(m, 0) + setup)
            cand = (start, start + p, m)
            if best is None or (cand[1], cand[0]) < (best[1], best[0]):
                best = cand
        assert best is not None
        return best

    while True:
        ready = [k for k in range(len(jobs)) if next_op[k] < len(jobs[k].operations)]
        if not ready:
            break
        options = {k: best_machine(k) for k in ready}
        t = min(s for s, _, _ in options.values())
        cands = [k for k in ready if options[k][0] == t]

        def key(k: int, t: int = t, options: dict[int, tuple[int, int, str]] = options) -> tuple[float, ...]:
            j = jobs[k]
            p = options[k][1] - options[k][0]
            if rule == "edd":
                return (j.due if j.due is not None else big, j.release, k)
            if rule == "spt":
                return (p, k)
            if rule == "critical_ratio":
                ratio = (j.due - t) / max(remaining[k], 1) if j.due is not None else float(big)
                return (ratio, k)
            return (j.release, k)

        k = min(cands, key=key)
        start, end, m = options[k]
        out.append(Assignment(jobs[k].id, next_op[k], m, start, end))
        remaining[k] -= min(jobs[k].operations[next_op[k]].machines.values())
        next_op[k] += 1
        job_ready[k] = end
        free[m] = end
        last_family[m] = jobs[k].family
    ends = {j.id: job_ready[k] for k, j in enumerate(jobs)}
    makespan = max((a.end for a in out), default=0)
    return Schedule(tuple(out), makespan, _tardiness(jobs, ends), rule, time.perf_counter() - started)


def solve_cp_sat(jobs: Sequence[Job], objective: Literal["makespan", "weighted_tardiness"] = "makespan",
                 changeovers: Changeovers | None = None, time_limit: float = 10.0, workers: int = 2,
                 seed: int = 0, hint: Schedule | None = None,
                 deterministic_time: float | None = None, stop_at: float | None = None) -> Schedule:
    """Schedule the jobs with OR-Tools CP-SAT: optional intervals per eligible machine, precedence
    within a job, no overlap per machine, sequence-dependent changeovers (a circuit per machine,
    only where some changeover is non-zero), release dates. Minimises the makespan or the weighted
    tardiness within ``time_limit`` seconds. With ``deterministic_time`` (CP-SAT's deterministic time
    units, roughly seconds) and ``workers=1`` the result does not depend on the machine's speed or
    load, as a simulation needs. Raises SchedulingError when no schedule was found
    (infeasible, or the time ran out first).

    ``hint`` (default for the makespan: the best dispatch-rule schedule) starts the search from a
    feasible schedule: every start and machine choice is hinted, and for the makespan its makespan
    bounds the horizon, which shrinks every variable's domain. ``stop_at``: stop as soon as a
    schedule with an objective at or below it is found (a target such as 2% above a known optimum)."""
    from ortools.sat.python import cp_model  # imported here: OR-Tools is heavy to load

    _validate(jobs)
    changeovers = changeovers or {}
    horizon = max((j.release for j in jobs), default=0) + sum(
        max(op.machines.values()) for j in jobs for op in j.operations)
    horizon += max(changeovers.values(), default=0) * sum(len(j.operations) for j in jobs)
    if hint is None and objective == "makespan" and jobs:
        hint = min((dispatch(jobs, r, changeovers) for r in DISPATCH_RULES), key=lambda s: s.makespan)
    if hint is not None and objective == "makespan" and check_schedule(jobs, hint, changeovers) == []:
        horizon = min(horizon, hint.makespan)  # a feasible schedule: the optimum is no longer
    model = cp_model.CpModel()
    starts: dict[tuple[int, int], cp_model.IntVar] = {}
    ends: dict[tuple[int, int], cp_model.IntVar] = {}
    choice: dict[tuple[int, int, str], cp_model.IntVar] = {}
    on_machine: dict[str, list[tuple[int, int, cp_model.IntervalVar, cp_model.IntVar | None]]] = {}
    for k, job in enumerate(jobs):
        for o, op in enumerate(job.operations):
            s = model.new_int_var(job.release, horizon, f"s{k}_{o}")
            e = model.new_int_var(job.release, horizon, f"e{k}_{o}")
            starts[(k, o)], ends[(k, o)] = s, e
            if len(op.machines) == 1:
                ((m, p),) = op.machines.items()
                model.add(e == s + p)
                on_machine.setdefault(m, []).append((k, o, model.new_interval_var(s, p, e, f"i{k}_{o}"), None))
                continue
            lits = []
            for m, p in sorted(op.machines.items()):
                lit = model.new_bool_var(f"x{k}_{o}_{m}")
                iv = model.new_optional_interval_var(s, p, e, lit, f"i{k}_{o}_{m}")
                on_machine.setdefault(m, []).append((k, o, iv, lit))
                choice[(k, o, m)] = lit
                lits.append(lit)
            model.add_exactly_one(lits)
        for o in range(1, len(job.operations)):
            model.add(starts[(k, o)] >= ends[(k, o - 1)])
    for entries in on_machine.values():
        model.add_no_overlap([iv for _, _, iv, _ in entries])
        fams = {jobs[k].family for k, _, _, _ in entries}
        if any(changeovers.get((a, b), 0) > 0 for a in fams for b in fams):
            _add_changeover_circuit(model, jobs, entries, starts, ends, changeovers)
    job_end = [ends[(k, len(j.operations) - 1)] for k, j in enumerate(jobs) if j.operations]
    makespan = model.new_int_var(0, horizon, "makespan")
    model.add_max_equality(makespan, job_end)
    tard_terms = []
    for k, j in enumerate(jobs):
        if j.due is None or not j.operations:
            continue
        late = model.new_int_var(0, horizon, f"late{k}")
        model.add(late >= ends[(k, len(j.operations) - 1)] - j.due)
        tard_terms.append((late, j.weight))
    if objective == "makespan":
        model.minimize(makespan)
    elif objective == "weighted_tardiness":
        # Integer weights (x100); the makespan breaks ties so the schedule stays compact.
        model.minimize(sum(int(round(w * 100)) * v for v, w in tard_terms) * (horizon + 1) + makespan)
    else:
        raise SchedulingError(f"unknown objective {objective!r}; use makespan or weighted_tardiness")
    if hint is not None:
        index = {j.id: k for k, j in enumerate(jobs)}
        for a in hint.assignments:
            h = index.get(a.job)
            if h is not None and (h, a.op) in starts and a.start <= horizon:
                model.add_hint(starts[(h, a.op)], a.start)
                for m in jobs[h].operations[a.op].machines if (h, a.op, a.machine) in choice else ():
                    model.add_hint(choice[(h, a.op, m)], m == a.machine)

    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = float(time_limit)
    solver.parameters.num_workers = int(workers)
    solver.parameters.random_seed = int(seed)
    if deterministic_time is not None:
        solver.parameters.max_deterministic_time = float(deterministic_time)
    started = time.perf_counter()
    status = solver.solve(model, _stop_at(cp_model, stop_at) if stop_at is not None else None)
    seconds = time.perf_counter() - started
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        raise SchedulingError(f"CP-SAT found no schedule: status {solver.status_name(status)} "
                              f"after {seconds:.1f} s (time limit {time_limit:g} s)")
    out = []
    for k, job in enumerate(jobs):
        for o, op in enumerate(job.operations):
            if len(op.machines) == 1:
                m = next(iter(op.machines))
            else:
                m = next(m for m in sorted(op.machines) if solver.value(choice[(k, o, m)]))
            out.append(Assignment(job.id, o, m, solver.value(starts[(k, o)]), solver.value(ends[(k, o)])))
    finish = {j.id: solver.value(ends[(k, len(j.operations) - 1)]) for k, j in enumerate(jobs) if j.operations}
    bound = solver.best_objective_bound if objective == "makespan" else None
    return Schedule(tuple(out), solver.value(makespan), _tardiness(jobs, finish), solver.status_name(status),
                    seconds, bound)


def _stop_at(cp_model: Any, target: float) -> Any:
    """A solution callback that ends the search at the first solution reaching ``target``."""

    class StopAt(cp_model.CpSolverSolutionCallback):  # type: ignore[misc]
        def on_solution_callback(self) -> None:
            if self.objective_value <= target + 1e-9:
                self.stop_search()

    return StopAt()


def _add_changeover_circuit(model: Any, jobs: Sequence[Job], entries: list, starts: dict, ends: dict,
                            changeovers: Changeovers) -> None:
    """Sequence-dependent set-ups on one machine: a circuit through its operations (node 0 is the
    machine's start and end); an arc i -> j means j follows i directly, with the changeover between."""
    arcs = []
    for a, (ka, oa, _, lit_a) in enumerate(entries, start=1):
        if lit_a is not None:
            arcs.append((a, a, ~lit_a))  # a self-loop: the operation runs on another machine
        arcs += [(0, a, model.new_bool_var("")), (a, 0, model.new_bool_var(""))]
        for b, (kb, ob, _, _) in enumerate(entries, start=1):
            if a == b:
                continue
            lit = model.new_bool_var("")
            arcs.append((a, b, lit))
            gap = changeovers.get((jobs[ka].family, jobs[kb].family), 0)
            model.add(starts[(kb, ob)] >= ends[(ka, oa)] + gap).only_enforce_if(lit)
    empty = model.new_bool_var("")
    arcs.append((0, 0, empty))
    model.add_circuit(arcs)


def parse_jobshop(text: str, name: str = "<jobshop>") -> list[Job]:
    """Jobs of a job-shop instance in the OR-Library / JSPLIB format: '#' comments, then
    'n_jobs n_machines', then per job 'machine time' pairs in order (machines from 0). Machine m
    is named 'm<m>'. Errors read 'NAME:LINE: message' with the line number in the text."""
    rows = [(i, ln.split()) for i, ln in enumerate(text.splitlines(), start=1)
            if ln.strip() and not ln.lstrip().startswith("#")]
    if not rows or len(rows[0][1]) < 2:
        line = rows[0][0] if rows else 1
        raise SchedulingError(f"{name}:{line}: expected 'n_jobs n_machines' on the first line")

    def numbers(line: int, row: list[str]) -> list[int]:
        try:
            values = [int(x) for x in row]
        except ValueError as exc:
            raise SchedulingError(f"{name}:{line}: not a number: {exc}") from None
        if any(v < 0 for v in values):
            raise SchedulingError(f"{name}:{line}: negative number {min(values)}")
        return values

    head = numbers(rows[0][0], rows[0][1][:2])
    n_jobs, n_machines = head[0], head[1]
    if n_jobs < 1 or n_machines < 1:
        raise SchedulingError(f"{name}:{rows[0][0]}: need at least one job and one machine")
    body = rows[1:1 + n_jobs]
    if len(body) != n_jobs:
        last = rows[-1][0] if rows else 1
        raise SchedulingError(f"{name}:{last}: {n_jobs} jobs announced, {len(body)} found")
    jobs = []
    for k, (line, row) in enumerate(body):
        r = numbers(line, row)
        if len(r) != 2 * n_machines:
            raise SchedulingError(f"{name}:{line}: job {k} has {len(r)} numbers, expected {2 * n_machines}")
        for i in range(0, len(r), 2):
            if r[i] >= n_machines:
                raise SchedulingError(f"{name}:{line}: job {k} names machine {r[i]}, "
                                      f"but machines are numbered 0..{n_machines - 1}")
        ops = tuple(Operation({f"m{r[i]}": r[i + 1]}) for i in range(0, len(r), 2))
        jobs.append(Job(f"j{k}", ops))
    return jobs
