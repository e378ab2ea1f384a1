"""Scenario comparison: paired replications over common random numbers, paired differences with
CIs, automatic replication counts to a relative precision, warm-up choice, and subset selection
of the scenarios that could be best.

Subset selection follows the screening procedure of Nelson, Swann, Goldsman and Song (2001),
"Simple procedures for selecting the best simulated system when the number of alternatives is
large", Operations Research 49(6): scenario i stays in the subset when, for every other l,
mean_i >= mean_l - t_{(1-alpha)^(1/(k-1)), n-1} * S_il / sqrt(n), with S_il^2 the sample variance of
the paired differences (valid with common random numbers). The best is in the subset with
probability at least 1 - alpha.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from twin.errors import TwinError
from twin.executors import Executor, make_executor
from twin.experiment import Job, ReplicationResult, run_job
from twin.model.durations import HOURS_PER_DAY, format_duration
from twin.model.forecast import FORECAST_KPI_NAMES
from twin.model.scenario import KPI_NAMES, Scenario
from twin.scenario import load_scenario, scenario_digest, scenario_warnings
from twin.stats import mean_ci
from twin.warmup import mser5

__all__ = ["KPI_DIRECTION", "Ranking", "WarmupChoice", "PrecisionReport", "ComparisonResult", "compare",
           "select_subset", "paired_differences"]

# +1: more is better; -1: less is better.
# KPIs not listed (costs, backlogs, times, spoilage) are lower-is-better.
HIGHER_IS_BETTER = frozenset({
    "fill_rate", "order_fill_rate", "cycle_service_level", "inventory_turns", "availability", "mtbf", "oee",
    "throughput", "on_time_completion", "schedule_adherence", "on_time_in_full", "satisfaction",
})


class _Direction(dict[str, int]):
    def __missing__(self, key: str) -> int:
        return 1 if key in HIGHER_IS_BETTER else -1


KPI_DIRECTION: dict[str, int] = _Direction({k: (1 if k in HIGHER_IS_BETTER else -1) for k in KPI_NAMES})


@dataclass
class Ranking:
    kpi: str
    direction: int
    alpha: float
    procedure: str
    could_be_best: list[str]
    not_best: list[str]
    means: dict[str, float]


@dataclass
class WarmupChoice:
    hours: float
    method: str  # "scenario file", "command line", "MSER-5"
    detail: str


@dataclass
class PrecisionReport:
    target: float | None
    reached: bool
    replications: int
    cap: int
    worst: dict[str, float]  # KPI -> largest relative half-width over scenarios


@dataclass
class ComparisonResult:
    """Per-replication KPIs of every scenario, their summaries and paired differences."""

    names: list[str]
    scenarios: list[Scenario]
    seed: int
    kpis: pd.DataFrame  # index (scenario, replication), one column per KPI
    summary: pd.DataFrame  # index (scenario, kpi): mean, ci_low, ci_high, half_width, n
    differences: pd.DataFrame  # index (scenario, kpi): diff, ci_low, ci_high, significant (vs the first)
    daily: pd.DataFrame  # scenario, replication, day, on_hand_value, on_hand, backorders
    warmup: WarmupChoice
    precision: PrecisionReport
    ranking: Ranking | None
    executor: str
    warnings: list[str] = field(default_factory=list)
    hashes: dict[str, list[str]] = field(default_factory=dict)

    @property
    def replications(self) -> int:
        return self.precision.replications

    def to_json(self) -> dict[str, Any]:
        def num(x: Any) -> Any:
            return None if pd.isna(x) else float(x)

        return {
            "scenarios": self.names,
            "seed": self.seed,
            "replications": self.replications,
            "warmup": {"hours": self.warmup.hours, "method": self.warmup.method, "detail": self.warmup.detail},
            "precision": {"target": self.precision.target, "reached": self.precision.reached,
                          "cap": self.precision.cap},
            "summary": {s: {k: {c: num(self.summary.loc[(s, k), c]) for c in ("mean", "ci_low", "ci_high")}
                            for k in self.summary.loc[s].index} for s in self.names},
            "differences": {s: {k: {c: (bool(v) if c == "significant" else num(v))
                                    for c, v in self.differences.loc[(s, k)].items()}
                                for k in self.differences.loc[s].index} for s in self.names[1:]},
            "ranking": None if self.ranking is None else {
                "kpi": self.ranking.kpi, "procedure": self.ranking.procedure, "alpha": self.ranking.alpha,
                "could_be_best": self.ranking.could_be_best, "not_best": self.ranking.not_best},
            "warnings": self.warnings,
        }


def paired_differences(kpis: pd.DataFrame, names: list[str], kpi_names: Sequence[str]) -> pd.DataFrame:
    """Each scenario minus the first, replication by replication (same seeds: paired), with 95% CIs."""
    rows = []
    base = kpis.loc[names[0]]
    for name in names[1:]:
        other = kpis.loc[name]
        for k in kpi_names:
            d = (other[k] - base[k]).to_numpy(dtype=float)
            mean, lo, hi = mean_ci(d)
            significant = not math.isnan(lo) and (lo > 0 or hi < 0)
            rows.append({"scenario": name, "kpi": k, "diff": mean, "ci_low": lo, "ci_high": hi,
                         "significant": significant})
    cols = ["scenario", "kpi", "diff", "ci_low", "ci_high", "significant"]
    return pd.DataFrame(rows, columns=cols).set_index(["scenario", "kpi"])


def select_subset(kpis: pd.DataFrame, names: list[str], kpi: str, alpha: float = 0.05) -> Ranking:
    """Nelson et al. (2001) screening: the scenarios that could be best for ``kpi``."""
    direction = KPI_DIRECTION[kpi]
    y = np.array([kpis.loc[n][kpi].to_numpy(dtype=float) for n in names]) * direction  # larger is better
    k, n = y.shape
    means = y.mean(axis=1)
    if n < 2:
        raise TwinError("subset selection needs at least 2 replications")
    t = stats.t.ppf((1 - alpha) ** (1 / (k - 1)), n - 1)
    keep = []
    for i in range(k):
        ok = True
        for j in range(k):
            if i == j:
                continue
            s_ij = np.std(y[i] - y[j], ddof=1)
            if means[i] < means[j] - t * s_ij / math.sqrt(n) - 1e-12:
                ok = False
                break
        keep.append(ok)
    return Ranking(
        kpi=kpi, direction=direction, alpha=alpha,
        procedure="Nelson, Swann, Goldsman & Song (2001) screening subset selection with common random numbers",
        could_be_best=[nm for nm, kp in zip(names, keep, strict=True) if kp],
        not_best=[nm for nm, kp in zip(names, keep, strict=True) if not kp],
        means={nm: float(m * direction) for nm, m in zip(names, means, strict=True)},
    )


def _summary(kpis: pd.DataFrame, names: list[str], kpi_names: Sequence[str]) -> pd.DataFrame:
    rows = []
    for name in names:
        sub = kpis.loc[name]
        for k in kpi_names:
            mean, lo, hi = mean_ci(sub[k].to_numpy(dtype=float))
            rows.append({"scenario": name, "kpi": k, "mean": mean, "ci_low": lo, "ci_high": hi,
                         "half_width": (hi - lo) / 2 if not math.isnan(lo) else math.nan,
                         "n": int(sub[k].notna().sum())})
    return pd.DataFrame(rows).set_index(["scenario", "kpi"])


def _relative_half_widths(summary: pd.DataFrame, kpi_names: Sequence[str]) -> dict[str, float]:
    worst: dict[str, float] = {}
    for k in kpi_names:
        sub = summary.xs(k, level="kpi")
        rel = []
        for _, row in sub.iterrows():
            hw, mean = row["half_width"], row["mean"]
            if math.isnan(mean):
                continue  # a KPI with no data (no orders at all, say) cannot be made precise
            if math.isnan(hw):
                rel.append(math.inf)
            elif hw == 0:
                rel.append(0.0)
            else:
                rel.append(hw / abs(mean) if mean != 0 else math.inf)
        worst[k] = max(rel) if rel else 0.0
    return worst


def _pairing_warnings(scenarios: list[Scenario], names: list[str]) -> list[str]:
    warnings = []
    base = scenarios[0]
    base_site = scenario_digest(base.model_copy(update={"policies": None, "disruptions": []}))
    for sc, name in zip(scenarios[1:], names[1:], strict=True):
        site = scenario_digest(sc.model_copy(update={"policies": None, "disruptions": []}))
        if sc.horizon != base.horizon:
            warnings.append(
                f"{name} runs {format_duration(sc.horizon)} but {names[0]} runs {format_duration(base.horizon)}: "
                "the comparison is not paired (KPIs cover different periods)")
        if site != base_site and sc.site != base.site:
            warnings.append(
                f"{name} is on a different site from {names[0]}: the comparison is not paired "
                "(common random numbers only pair streams of the same items and suppliers)")
    return warnings


def compare(
    scenarios: Sequence[str | Path | Scenario],
    replications: int | None = None,
    seed: int | None = None,
    precision: float | None = None,
    max_replications: int = 100,
    warmup: float | str | None = None,
    rank_kpi: str = "total_cost",
    alpha: float = 0.05,
    workers: int | None = None,
    cluster: str | None = None,
    executor: Executor | None = None,
    progress: Callable[[int, int], None] | None = None,
    trace_dir: str | Path | None = None,
) -> ComparisonResult:
    """Compare scenarios over the same replications (common random numbers).

    ``precision``: keep adding replications until every KPI's 95% CI half-width is within that
    fraction of its mean for every scenario, or ``max_replications`` is reached.
    ``warmup``: hours, ``"auto"`` (MSER-5 on a pilot), or None for each scenario file's own.
    """
    loaded = [s if isinstance(s, Scenario) else load_scenario(s) for s in scenarios]
    if len(loaded) < 2:
        raise TwinError("compare needs at least two scenarios")
    names = _unique_names(loaded)
    seed = seed if seed is not None else loaded[0].seed
    kpi_names = [k for k in KPI_NAMES if any(k in sc.kpis for sc in loaded)]
    if any(sc.policies.forecast is not None for sc in loaded):  # issue 10: what forecasting is worth
        kpi_names += list(FORECAST_KPI_NAMES)
    if rank_kpi not in KPI_NAMES:
        raise TwinError(f"unknown KPI {rank_kpi!r} to rank by; use one of {', '.join(KPI_NAMES)}")
    n = replications or max(sc.replications for sc in loaded)
    if precision is not None:
        if not 0 < precision < 1:
            raise TwinError(f"--precision must be a fraction between 0 and 1, got {precision}")
        n = max(n, 3)
    n = min(n, max_replications)
    # The scenarios' own warnings (e.g. a skill nobody has), once each, then the pairing ones.
    warnings = list(dict.fromkeys(w for sc in loaded for w in scenario_warnings(sc)))
    warnings += _pairing_warnings(loaded, names)

    ex = executor or make_executor(workers, cluster)
    try:
        choice = _choose_warmup(loaded, names, seed, warmup, ex)
        results: dict[str, list[ReplicationResult]] = {nm: [] for nm in names}
        done = 0
        target_n = n
        while True:
            jobs = [Job(sc, seed, r, None, choice.hours if choice.method != "scenario file" else None,
                        str(Path(trace_dir) / _safe(nm) / f"rep-{r:04d}.parquet") if trace_dir else None,
                        False)
                    for r in range(done, target_n) for sc, nm in zip(loaded, names, strict=True)]
            for i, res in enumerate(ex.map(run_job, jobs)):
                results[names[i % len(names)]].append(res)
                if progress:
                    progress(sum(len(v) for v in results.values()), target_n * len(names))
            done = target_n
            kpis = _frame(results, names)
            # Domain KPIs (maintenance, production, fleet, forecasting) come with the results.
            kpi_names += [c for c in kpis.columns if c not in KPI_NAMES and c not in kpi_names]
            summary = _summary(kpis, names, kpi_names)
            worst = _relative_half_widths(summary, kpi_names)
            if precision is None:
                reached = True
                break
            reached = all(v <= precision for v in worst.values())
            if reached or done >= max_replications:
                break
            # Half-widths shrink like 1/sqrt(n): aim for the count the worst KPI needs.
            finite = [v for v in worst.values() if math.isfinite(v)]
            ratio = max(finite) / precision if finite else 2.0
            target_n = min(max_replications, max(done + 1, math.ceil(done * ratio**2)))
    finally:
        if executor is None:
            ex.close()

    daily = pd.concat([r.daily.assign(scenario=nm, replication=r.replication)
                       for nm in names for r in results[nm] if len(r.daily)], ignore_index=True) \
        if any(len(r.daily) for v in results.values() for r in v) else pd.DataFrame()
    ranking = select_subset(kpis, names, rank_kpi, alpha) if len(names) >= 3 and done >= 2 else None
    if precision is not None and not reached:
        warnings.append(f"precision {precision:.0%} not reached within the cap of {max_replications} replications")
    return ComparisonResult(
        names=names, scenarios=loaded, seed=seed, kpis=kpis, summary=summary,
        differences=paired_differences(kpis, names, kpi_names), daily=daily, warmup=choice,
        precision=PrecisionReport(precision, reached, done, max_replications, worst), ranking=ranking,
        executor=ex.name, warnings=warnings,
        hashes={nm: [r.log_hash for r in results[nm]] for nm in names},
    )


def _unique_names(scenarios: list[Scenario]) -> list[str]:
    names: list[str] = []
    for sc in scenarios:
        name = sc.name
        k = 2
        while name in names:
            name = f"{sc.name} ({k})"
            k += 1
        names.append(name)
    return names


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


def _frame(results: dict[str, list[ReplicationResult]], names: list[str]) -> pd.DataFrame:
    rows = [{"scenario": nm, "replication": r.replication, **r.kpis} for nm in names for r in results[nm]]
    return pd.DataFrame(rows).set_index(["scenario", "replication"]).sort_index(level=["scenario", "replication"])


def _choose_warmup(scenarios: list[Scenario], names: list[str], seed: int, warmup: float | str | None,
                   ex: Executor, pilot: int = 3) -> WarmupChoice:
    if warmup is None:
        values = sorted({sc.warmup for sc in scenarios})
        detail = ", ".join(f"{nm}: {format_duration(sc.warmup) if sc.warmup else '0d'}"
                           for nm, sc in zip(names, scenarios, strict=True))
        return WarmupChoice(values[-1] if len(values) == 1 else float("nan"), "scenario file", detail)
    if isinstance(warmup, (int, float)):
        shown = format_duration(warmup) if warmup else "0d"
        return WarmupChoice(float(warmup), "command line", f"{shown} for every scenario")
    if warmup != "auto":
        raise TwinError(f"warm-up must be a duration or 'auto', got {warmup!r}")
    first = scenarios[0].model_copy(update={"record_levels": True})
    jobs = [Job(first, seed, r, None, 0.0, None, False) for r in range(pilot)]
    dailies = [res.daily for res in ex.map(run_job, jobs)]
    cut_days = 0
    for column in ("on_hand_value", "backorders"):
        mean_series = pd.concat([d.set_index("day")[column] for d in dailies], axis=1).mean(axis=1).to_numpy()
        cut_days = max(cut_days, mser5(mean_series))
    hours = min(cut_days * HOURS_PER_DAY, scenarios[0].horizon / 2)
    return WarmupChoice(hours, "MSER-5", (
        f"MSER-5 (White 1997) on the daily on-hand value and backorders of {names[0]}, averaged over a pilot "
        f"of {pilot} replications: truncate {cut_days} days (the later of the two series)"))
