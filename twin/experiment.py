"""Replications of a scenario: run, collect the event logs and KPIs, summarise with CIs.

Replication r of a run with seed s draws every stream from SeedSequence(s, spawn_key=(r, name...)),
so the same (scenario, seed, replication) gives the same event log wherever it runs.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from twin.kpi import KpiWindow, compute_kpis, daily_levels, events_frame, level_series
from twin.model.scenario import Scenario
from twin.sim.engine import run_replication
from twin.sim.layout import compile_layout
from twin.stats import summarise

__all__ = ["ReplicationResult", "SimulationResult", "simulate", "run_one"]


@dataclass
class ReplicationResult:
    replication: int
    kpis: dict[str, float]
    events: pd.DataFrame
    daily: pd.DataFrame
    log_hash: str
    n_events: int
    simpy_events: int


@dataclass
class SimulationResult:
    """Results of a run: per-replication KPIs, their summary, and the events of every replication."""

    scenario: Scenario
    seed: int
    kpis: pd.DataFrame  # one row per replication
    summary: pd.DataFrame  # one row per KPI: mean, ci_low, ci_high, half_width, n
    events: pd.DataFrame  # flat event rows with a 'replication' column
    daily: pd.DataFrame  # site totals per day and replication
    hashes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        def num(x: float) -> float | None:
            return None if pd.isna(x) else float(x)

        names = list(self.summary.index)
        return {
            "scenario": self.scenario.name,
            "seed": self.seed,
            "replications": [{k: num(row[k]) for k in names} for _, row in self.kpis.iterrows()],
            "summary": {k: {"mean": num(r["mean"]), "ci_low": num(r["ci_low"]), "ci_high": num(r["ci_high"])}
                        for k, r in self.summary.iterrows()},
            "event_log_sha256": self.hashes,
        }


def run_one(scenario: Scenario, seed: int, replication: int, horizon: float | None = None) -> ReplicationResult:
    """Run one replication and compute its KPIs from its event log."""
    horizon = horizon if horizon is not None else scenario.horizon
    out = run_replication(scenario, seed, replication, horizon)
    df = events_frame(out.log)
    params = compile_layout(scenario).params
    window = KpiWindow(min(scenario.warmup, horizon * 0.5), horizon, scenario.costing)
    kpis = compute_kpis(df, params, window)
    daily = daily_levels(level_series(df), params, horizon) if scenario.record_levels else pd.DataFrame()
    return ReplicationResult(replication, kpis, df, daily, out.log.content_hash(), len(out.log), out.simpy_events)


def _run_one_args(args: tuple[Scenario, int, int, float | None]) -> ReplicationResult:
    return run_one(*args)


def iter_replications(
    scenario: Scenario, seed: int, replications: list[int], horizon: float | None = None, workers: int | None = None
) -> Iterator[ReplicationResult]:
    """Yield replication results as they finish, in replication order."""
    workers = workers if workers is not None else (os.cpu_count() or 1)
    jobs = [(scenario, seed, r, horizon) for r in replications]
    if workers <= 1 or len(jobs) <= 1:
        for job in jobs:
            yield _run_one_args(job)
        return
    with ProcessPoolExecutor(max_workers=min(workers, len(jobs))) as pool:
        yield from pool.map(_run_one_args, jobs)


def simulate(
    scenario: Scenario,
    replications: int | None = None,
    seed: int | None = None,
    horizon: float | None = None,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    keep_events: bool = True,
) -> SimulationResult:
    """Run a scenario over replications; KPIs per replication and summarised with 95% CIs.

    ``replications``, ``seed`` and ``horizon`` (hours) default to the scenario's own. ``workers``
    is the number of processes (default: all cores; 1 runs in this process).
    """
    n = replications if replications is not None else scenario.replications
    seed = seed if seed is not None else scenario.seed
    results: list[ReplicationResult] = []
    for res in iter_replications(scenario, seed, list(range(n)), horizon, workers):
        if not keep_events:
            res.events = res.events.iloc[0:0]
        results.append(res)
        if progress:
            progress(len(results), n)
    return collect(scenario, seed, results)


def collect(scenario: Scenario, seed: int, results: list[ReplicationResult]) -> SimulationResult:
    kpis = pd.DataFrame([{"replication": r.replication, **r.kpis} for r in results]).set_index("replication")
    names = list(scenario.kpis)
    events = pd.concat([r.events.assign(replication=r.replication) for r in results], ignore_index=True)
    daily = pd.concat([r.daily.assign(replication=r.replication) for r in results if len(r.daily)],
                      ignore_index=True) if any(len(r.daily) for r in results) else pd.DataFrame()
    return SimulationResult(scenario, seed, kpis, summarise(kpis, names), events, daily,
                            [r.log_hash for r in results])
