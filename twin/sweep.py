"""Parameter sweeps: a grid (or a Latin hypercube sample) of scenario variants, each run over the
same replications (common random numbers across points), one row of KPI means and CIs per point,
and the Pareto-efficient points of a trade-off."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from pydantic import ValidationError
from scipy.stats import qmc

from policies.base import PolicyLoadError, policy_params_model
from twin.comparison import KPI_DIRECTION
from twin.errors import TwinError
from twin.executors import Executor, make_executor
from twin.experiment import Job, ReplicationResult, run_job
from twin.model.scenario import KPI_NAMES, Scenario
from twin.rng import name_key
from twin.stats import mean_ci

__all__ = ["SweepParam", "SweepResult", "parse_param", "apply_overrides", "grid_points", "lhs_points",
           "pareto_front", "sweep"]


@dataclass(frozen=True)
class SweepParam:
    path: str
    values: tuple[Any, ...]


@dataclass
class SweepResult:
    scenario: Scenario
    params: list[str]
    table: pd.DataFrame  # one row per point: parameter columns, then <kpi>_mean/_ci_low/_ci_high
    kpis: pd.DataFrame  # per point and replication
    x: str
    y: str
    pareto: list[bool]
    replications: int
    executor: str


def parse_param(spec: str) -> SweepParam:
    """'policies.inventory.params.service_level=0.90,0.95,0.98' -> SweepParam."""
    path, sep, values = spec.partition("=")
    if not sep or not path.strip() or not values.strip():
        raise TwinError(f"--param {spec!r}: write it as PATH=V1,V2,... "
                        "e.g. policies.inventory.params.service_level=0.9,0.95")
    parsed = tuple(yaml.safe_load(v.strip()) for v in values.split(",") if v.strip())
    return SweepParam(path.strip(), parsed)


def _set(data: Any, parts: list[str], value: Any, path: str) -> None:
    node = data
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        where = ".".join(parts[: depth + 1])
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise TwinError(f"sweep parameter {path!r}: no element {part!r} at {where!r}")
            if last:
                node[int(part)] = value
                return
            node = node[int(part)]
            continue
        if not isinstance(node, dict):
            raise TwinError(f"sweep parameter {path!r}: {'.'.join(parts[:depth])!r} is a value, not a section")
        if part not in node:
            # A policy's params may gain a key (it is checked against the policy's own schema below).
            if last and depth > 0 and parts[depth - 1] == "params":
                node[part] = value
                return
            raise TwinError(f"sweep parameter {path!r} does not exist: no {part!r} at {where!r}")
        if last:
            node[part] = value
            return
        node = node[part]


def apply_overrides(scenario: Scenario, overrides: dict[str, Any]) -> Scenario:
    """A copy of the scenario with values set at dotted paths; an unknown path is an error naming it."""
    data = scenario.model_dump(by_alias=True, mode="json")
    for path, value in overrides.items():
        _set(data, path.split("."), value, path)
    try:
        out = Scenario.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise TwinError(f"sweep values {overrides}: {where}: {first['msg']}") from None
    for role, ref in (("inventory", out.policies.inventory), ("cycle_count", out.policies.cycle_count)):
        if ref is None:
            continue
        try:
            model = policy_params_model(ref.use)
            if model is not None:
                model.model_validate(ref.params)
        except (ValidationError, PolicyLoadError, ValueError) as exc:
            raise TwinError(f"sweep values {overrides}: policies.{role}.params: {exc}") from None
    return out


def grid_points(params: Sequence[SweepParam]) -> list[dict[str, Any]]:
    return [dict(zip([p.path for p in params], combo, strict=True))
            for combo in itertools.product(*[p.values for p in params])]


def lhs_points(params: Sequence[SweepParam], samples: int, seed: int) -> list[dict[str, Any]]:
    """A Latin hypercube sample: numeric parameters span [min, max] of their listed values (integers
    stay integers); other parameters are picked from their list by stratum."""
    gen = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=name_key("sweep", "lhs"))))
    unit = qmc.LatinHypercube(d=len(params), seed=gen).random(samples)
    points = []
    for row in unit:
        point: dict[str, Any] = {}
        for u, p in zip(row, params, strict=True):
            numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in p.values)
            if numeric and len(p.values) >= 2:
                lo, hi = min(p.values), max(p.values)
                v = lo + u * (hi - lo)
                point[p.path] = int(round(v)) if all(isinstance(x, int) for x in p.values) else round(float(v), 6)
            else:
                point[p.path] = p.values[min(int(u * len(p.values)), len(p.values) - 1)]
        points.append(point)
    return points


def pareto_front(x: np.ndarray, y: np.ndarray, x_dir: int, y_dir: int) -> list[bool]:
    """True for points no other point beats on both objectives (directions: +1 more is better)."""
    xs, ys = np.asarray(x, float) * x_dir, np.asarray(y, float) * y_dir
    out = []
    for i in range(len(xs)):
        dominated = np.any((xs >= xs[i]) & (ys >= ys[i]) & ((xs > xs[i]) | (ys > ys[i])))
        out.append(bool(not dominated and np.isfinite(xs[i]) and np.isfinite(ys[i])))
    return out


def sweep(
    scenario: Scenario,
    params: Sequence[SweepParam],
    samples: int | None = None,
    replications: int | None = None,
    seed: int | None = None,
    x: str = "fill_rate",
    y: str = "total_cost",
    workers: int | None = None,
    cluster: str | None = None,
    executor: Executor | None = None,
    progress: Callable[[int, int], None] | None = None,
    trace_dir: str | Path | None = None,
) -> SweepResult:
    """Run every point of the sweep (grid, or ``samples`` Latin hypercube points)."""
    if not params:
        raise TwinError("a sweep needs at least one --param PATH=V1,V2,...")
    for k in (x, y):
        if k not in KPI_NAMES:
            raise TwinError(f"unknown KPI {k!r}; use one of {', '.join(KPI_NAMES)}")
    seed = seed if seed is not None else scenario.seed
    n = replications or scenario.replications
    points = lhs_points(params, samples, seed) if samples else grid_points(params)
    variants = [apply_overrides(scenario, p) for p in points]  # every path checked before anything runs
    jobs = [Job(v, seed, r, None, None,
                str(Path(trace_dir) / f"point-{i:04d}" / f"rep-{r:04d}.parquet") if trace_dir else None, False)
            for i, v in enumerate(variants) for r in range(n)]
    ex = executor or make_executor(workers, cluster)
    results: list[ReplicationResult] = []
    try:
        for res in ex.map(run_job, jobs):
            results.append(res)
            if progress:
                progress(len(results), len(jobs))
    finally:
        if executor is None:
            ex.close()
    names = [p.path for p in params]
    per_rep = pd.DataFrame([{"point": i // n, "replication": r.replication, **r.kpis}
                            for i, r in enumerate(results)])
    rows = []
    for i, point in enumerate(points):
        sub = per_rep[per_rep["point"] == i]
        row: dict[str, Any] = {"point": i, **point}
        for k in KPI_NAMES:
            mean, lo, hi = mean_ci(sub[k].to_numpy(dtype=float))
            row |= {f"{k}_mean": mean, f"{k}_ci_low": lo, f"{k}_ci_high": hi}
        rows.append(row)
    table = pd.DataFrame(rows)
    pareto = pareto_front(table[f"{x}_mean"].to_numpy(), table[f"{y}_mean"].to_numpy(),
                          KPI_DIRECTION[x], KPI_DIRECTION[y])
    table["pareto"] = pareto
    return SweepResult(scenario, names, table, per_rep, x, y, pareto, n, ex.name)
