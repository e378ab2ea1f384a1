"""Replications of a scenario: run, collect KPIs, summarise with CIs; traces stream to Parquet.

Replication r of a run with seed s draws every stream from SeedSequence(s, spawn_key=(r, name...)),
so the same (scenario, seed, replication) gives the same event log wherever it runs, and two
scenarios run with the same seed and replication numbers share their random numbers (CRN).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from twin.executors import Executor, make_executor
from twin.kpi import KpiWindow, compute_kpis, daily_levels, events_frame, level_series
from twin.kpi_fleet import fleet_kpis, has_fleet
from twin.kpi_maintenance import has_maintenance, maintenance_kpis
from twin.model.assets import MAINTENANCE_KPI_NAMES
from twin.model.floor import FLOOR_KPI_NAMES
from twin.model.forecast import FORECAST_KPI_NAMES
from twin.model.network import FLEET_KPI_NAMES
from twin.model.production import PRODUCTION_KPI_NAMES
from twin.model.scenario import Scenario
from twin.sim.engine import RunOutput, run_replication
from twin.sim.layout import compile_layout
from twin.stats import summarise

__all__ = ["Job", "ReplicationResult", "SimulationResult", "simulate", "run_job", "run_jobs", "collect"]


@dataclass(frozen=True)
class Job:
    """One replication to run. With ``trace`` the worker writes the events there (Parquet) and
    returns none; with ``keep_events`` it returns them; otherwise only KPIs and daily levels."""

    scenario: Scenario
    seed: int
    replication: int
    horizon: float | None = None
    warmup: float | None = None
    trace: str | None = None
    keep_events: bool = True


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
    events: pd.DataFrame  # flat event rows with a 'replication' column (empty when streamed to traces)
    daily: pd.DataFrame  # site totals per day and replication
    hashes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        names = list(self.summary.index)
        return {
            "scenario": self.scenario.name,
            "seed": self.seed,
            "replications": [{k: _num(row[k]) for k in names} for _, row in self.kpis.iterrows()],
            "summary": {k: {"mean": _num(r["mean"]), "ci_low": _num(r["ci_low"]), "ci_high": _num(r["ci_high"])}
                        for k, r in self.summary.iterrows()},
            "event_log_sha256": self.hashes,
        }


def _num(x: Any) -> float | None:
    return None if pd.isna(x) else float(x)


def run_job(job: Job) -> ReplicationResult:
    """Run one replication and compute its KPIs from its event log (this runs in a worker)."""
    scenario = job.scenario
    horizon = job.horizon if job.horizon is not None else scenario.horizon
    warmup = job.warmup if job.warmup is not None else scenario.warmup
    out = run_replication(scenario, job.seed, job.replication, horizon)
    df = events_frame(out.log)
    params = compile_layout(scenario).params
    kpis = run_kpis(scenario, out, df, warmup)
    daily = (daily_levels(level_series(df), params, out.horizon, out.start) if scenario.record_levels
             else pd.DataFrame())
    if job.trace:
        Path(job.trace).parent.mkdir(parents=True, exist_ok=True)
        df.to_parquet(job.trace, index=False)
    events = df if job.keep_events and not job.trace else df.iloc[0:0]
    return ReplicationResult(job.replication, kpis, events, daily, out.log.content_hash(), len(out.log),
                             out.simpy_events)


def run_kpis(scenario: Scenario, out: RunOutput, df: pd.DataFrame, warmup: float) -> dict[str, float]:
    """Every KPI of one run from its event log (``df``: its ``events_frame``), warm-up excluded: the
    core table plus each domain the site has (production, maintenance, fleet, floors, forecasts).
    The window is [start + warm-up, end): a fork from the live site starts at its site time."""
    horizon, start = out.horizon, out.start
    params = compile_layout(scenario).params
    window = KpiWindow(start + min(warmup, (horizon - start) * 0.5), horizon, scenario.costing)
    kpis = compute_kpis(df, params, window)
    if scenario.site.production is not None:
        from twin.kpi_production import production_kpis

        kpis.update(production_kpis(out.log.events, window.warmup, window.horizon))
    if has_maintenance(scenario):
        kpis.update(maintenance_kpis(out.log.events, scenario, window.warmup, window.horizon))
    if has_fleet(scenario):
        # cold_chain_excursions (stores and reefers) is the same one count in both tables.
        kpis.update(fleet_kpis(out.log.events, scenario, window.warmup, window.horizon))
    if any(wh.floor is not None for wh in scenario.site.warehouses):  # issue 8
        from twin.kpi_floor import floor_kpis

        kpis.update(floor_kpis(out.log.events, window.warmup, window.horizon))
    if scenario.policies.forecast is not None:
        from twin.kpi_forecast import forecast_kpis

        # Its days count from the start of the run (as the planner's in the run do).
        frame = df.assign(t=df["t"] - start) if start else df
        kpis.update(forecast_kpis(frame, scenario, params, window.warmup - start, window.horizon - start))
    return kpis


def run_jobs(jobs: list[Job], executor: Executor | None = None) -> Iterator[ReplicationResult]:
    """Run jobs on an executor (default: a local pool), yielding results in job order."""
    own = executor is None
    ex = executor or make_executor()
    try:
        yield from ex.map(run_job, jobs)
    finally:
        if own:
            ex.close()


def simulate(
    scenario: Scenario,
    replications: int | None = None,
    seed: int | None = None,
    horizon: float | None = None,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    keep_events: bool = True,
    executor: Executor | None = None,
    trace_dir: str | Path | None = None,
    first_replication: int = 0,
) -> SimulationResult:
    """Run a scenario over replications; KPIs per replication and summarised with 95% CIs.

    ``replications``, ``seed`` and ``horizon`` (hours) default to the scenario's own. ``workers``
    is the number of local processes (default: all cores; 1 runs in this process); an ``executor``
    (e.g. a Dask cluster) replaces that. With ``trace_dir`` each replication's events stream to
    ``trace_dir/rep-NNNN.parquet`` instead of being kept in memory.
    """
    n = replications if replications is not None else scenario.replications
    seed = seed if seed is not None else scenario.seed
    jobs = [Job(scenario, seed, r, horizon, None,
                str(Path(trace_dir) / f"rep-{r:04d}.parquet") if trace_dir else None, keep_events)
            for r in range(first_replication, first_replication + n)]
    results: list[ReplicationResult] = []
    ex = executor or make_executor(workers)
    try:
        for res in ex.map(run_job, jobs):
            results.append(res)
            if progress:
                progress(len(results), n)
    finally:
        if executor is None:
            ex.close()
    return collect(scenario, seed, results)


def collect(scenario: Scenario, seed: int, results: list[ReplicationResult]) -> SimulationResult:
    kpis = pd.DataFrame([{"replication": r.replication, **r.kpis} for r in results]).set_index("replication")
    names = list(scenario.kpis)
    names += [k for k in MAINTENANCE_KPI_NAMES if k in kpis.columns and k not in names]
    names += [k for k in PRODUCTION_KPI_NAMES if k in kpis.columns and k not in names]
    names += [k for k in FLEET_KPI_NAMES if k in kpis.columns and k not in names]
    names += [k for k in FORECAST_KPI_NAMES if k in kpis.columns and k not in names]
    names += [k for k in FLOOR_KPI_NAMES if k in kpis.columns and k not in names]
    frames = [r.events.assign(replication=r.replication) for r in results if len(r.events)]
    events = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    dailies = [r.daily.assign(replication=r.replication) for r in results if len(r.daily)]
    daily = pd.concat(dailies, ignore_index=True) if dailies else pd.DataFrame()
    return SimulationResult(scenario, seed, kpis, summarise(kpis, names), events, daily,
                            [r.log_hash for r in results])
